/* check.c: `rtcbill check`, for the command (rb_lua_rules_check) and for
 * the Lua module (rtcbill.check).
 *
 * The check itself is check.lua, built into the library as C data
 * (embed.cmake): matching simulation results against a fixture's
 * expect.json is table work that reads best in Lua, and the runner then
 * uses the same `rtcbill` module a rule author's specs use. It runs in a
 * plain Lua state of its own; the rules run in their sandboxes as ever.
 *
 * Depends on: module.h, rtcbill_rules.h, rtcbill.h, Lua 5.4 (with its
 * standard libraries) and the C standard library.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "module.h"

extern const unsigned char rb__lua_check_src[];
extern const size_t rb__lua_check_src_len;

int luaopen_rtcbill(lua_State *L);

/* Pushes the runner function(rtcbill, dir) -> ok, lines. */
static void push_runner(lua_State *L) {
  if (luaL_loadbufferx(L, (const char *)rb__lua_check_src,
                       rb__lua_check_src_len, "=check.lua", "t") != LUA_OK)
    lua_error(L);
  lua_call(L, 0, 1);
}

/* rtcbill.check(dir) -> ok, lines; the module table is upvalue 1. */
int rb__mod_check(lua_State *L) {
  luaL_checkstring(L, 1);
  lua_settop(L, 1);
  push_runner(L);
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_pushvalue(L, 1);
  lua_call(L, 2, 2);
  return 2;
}

/* Arguments: dir, the char ** to fill. Returns ok. */
static int run_check(lua_State *L) {
  char **report = lua_touserdata(L, 2);
  luaL_requiref(L, "rtcbill", luaopen_rtcbill, 0);
  int mod = lua_gettop(L);
  push_runner(L);
  lua_pushvalue(L, mod);
  lua_pushvalue(L, 1);
  lua_call(L, 2, 2);
  int ok = lua_toboolean(L, -2);
  int lines = lua_gettop(L);
  luaL_checktype(L, lines, LUA_TTABLE);
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  lua_Integer n = (lua_Integer)lua_rawlen(L, lines);
  for (lua_Integer i = 1; i <= n; i++) {
    lua_rawgeti(L, lines, i);
    luaL_addvalue(&b);
    luaL_addchar(&b, '\n');
  }
  luaL_pushresult(&b);
  size_t len;
  const char *text = lua_tolstring(L, -1, &len);
  *report = malloc(len + 1);
  if (*report == NULL)
    return luaL_error(L, "not enough memory");
  memcpy(*report, text, len + 1);
  lua_pushboolean(L, ok);
  return 1;
}

int rb_lua_rules_check(const char *dir, char **report) {
  if (dir == NULL || report == NULL)
    return RB_EINVAL;
  *report = NULL;
  lua_State *L = luaL_newstate();
  if (L == NULL)
    return RB_ENOMEM;
  luaL_openlibs(L);
  lua_pushcfunction(L, run_check);
  lua_pushstring(L, dir);
  lua_pushlightuserdata(L, report);
  int st = lua_pcall(L, 2, 1, 0);
  int rc;
  if (st == LUA_OK) {
    rc = lua_toboolean(L, -1) ? RB_OK : RB_EINVAL;
  } else {
    const char *msg = lua_tostring(L, -1);
    free(*report);
    *report = NULL;
    size_t n = msg != NULL ? strlen(msg) : 0;
    if (st != LUA_ERRMEM && (*report = malloc(n + 2)) != NULL) {
      memcpy(*report, msg != NULL ? msg : "", n);
      (*report)[n] = '\n';
      (*report)[n + 1] = '\0';
    }
    rc = st == LUA_ERRMEM ? RB_ENOMEM : RB_EIO;
  }
  lua_close(L);
  return rc;
}
