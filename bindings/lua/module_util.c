/* module_util.c: the helpers every file of the `rtcbill` Lua module
 * shares: the error convention, and money and times as strings.
 *
 * Depends on: module.h, rtcbill.h and Lua 5.4.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include <string.h>

#include <lauxlib.h>
#include <lua.h>

#include "module.h"

int rb__mod_fail(lua_State *L, int err, const char *message) {
  /* "EIO", like luv's "ENOENT": the code's name as rtcbill.h spells it
   * (RB_EIO) without the prefix. */
  lua_pushnil(L);
  lua_pushfstring(L, "E%s: %s", rb_err_name(err),
                  message != NULL ? message : rb_strerror(err));
  lua_pushfstring(L, "E%s", rb_err_name(err));
  return 3;
}

void rb__mod_push_money(lua_State *L, rb_money v, int places) {
  char buf[RB_MONEY_STRLEN];
  if (rb_money_format_min(v, places, buf, sizeof buf) < 0)
    lua_pushnil(L);
  else
    lua_pushstring(L, buf);
}

void rb__mod_push_time(lua_State *L, rb_time t, int32_t tz) {
  char buf[RB_TIME_STRLEN];
  if (t == RB_TIME_NONE || rb_time_format(t, tz, buf, sizeof buf) < 0)
    lua_pushnil(L);
  else
    lua_pushstring(L, buf);
}

void rb__mod_set_int(lua_State *L, const char *key, int64_t v) {
  lua_pushinteger(L, (lua_Integer)v);
  lua_setfield(L, -2, key);
}

void rb__mod_set_str(lua_State *L, const char *key, const char *v) {
  if (v == NULL)
    return;
  lua_pushstring(L, v);
  lua_setfield(L, -2, key);
}

void rb__mod_set_bool(lua_State *L, const char *key, bool v) {
  lua_pushboolean(L, v);
  lua_setfield(L, -2, key);
}

void rb__mod_set_money(lua_State *L, const char *key, rb_money v,
                       int places) {
  rb__mod_push_money(L, v, places);
  lua_setfield(L, -2, key);
}

void rb__mod_set_time(lua_State *L, const char *key, rb_time t, int32_t tz) {
  rb__mod_push_time(L, t, tz);
  lua_setfield(L, -2, key);
}

int rb__mod_unit_places(rb_money unit) {
  int places = RB_MONEY_PLACES;
  if (unit <= 0)
    return 2;
  while (places > 0 && unit % 10 == 0) {
    unit /= 10;
    places--;
  }
  return places;
}

rb_time rb__mod_check_time(lua_State *L, int idx) {
  size_t n;
  rb_time t;
  const char *s = luaL_checklstring(L, idx, &n);
  luaL_argcheck(L, rb_time_parse(s, n, &t, NULL) == RB_OK, idx,
                "an RFC 3339 time such as 2020-09-01T00:00:00+08:00");
  return t;
}
