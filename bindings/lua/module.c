/* module.c: the Lua module `rtcbill` (luaopen_rtcbill), built as
 * rtcbill.so for plain lua5.4 and busted, so that a rule author can test
 * rules without writing C:
 *
 *   package.cpath = "build/?.so;" .. package.cpath
 *   local rtcbill = require("rtcbill")
 *   local rules = assert(rtcbill.load_rules("rules"))     -- module_rules.c
 *   local res = assert(rtcbill.simulate{ rules = rules,    -- module_sim.c
 *                                        files = { "events.jsonl" } })
 *   local ok, lines = rtcbill.check("rules")               -- check.c
 *   local names = rtcbill.dir("rules/selftest")            -- sorted names
 *
 * Depends on: module.h, rtcbill.h, Lua 5.4 and POSIX (dirent.h).
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include <dirent.h>
#include <errno.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>

#include "module.h"

#ifndef RTCBILL_VERSION
#define RTCBILL_VERSION "0.1.0"
#endif

int luaopen_rtcbill(lua_State *L);

/* rtcbill.dir(path) -> the sorted names of the directory's entries
 * (without "." and ".."), or nil, "EIO: path: reason", "EIO". */
static int m_dir(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  DIR *d = opendir(path);
  if (d == NULL) {
    lua_pushfstring(L, "%s: %s", path, strerror(errno));
    return rb__mod_fail(L, errno == ENOENT ? RB_ENOENT : RB_EIO,
                        lua_tostring(L, -1));
  }
  lua_newtable(L);
  lua_Integer n = 0;
  struct dirent *e;
  /* Nothing below raises before closedir but a memory error, which is
   * a risk accepted for a directory listing. */
  while ((e = readdir(d)) != NULL) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
      continue;
    lua_pushstring(L, e->d_name);
    lua_rawseti(L, -2, ++n);
  }
  closedir(d);
  /* Insertion sort keeps this file free of a call back into Lua; lists
   * are short. */
  for (lua_Integer i = 2; i <= n; i++) {
    for (lua_Integer j = i; j > 1; j--) {
      lua_rawgeti(L, -1, j - 1);
      lua_rawgeti(L, -2, j);
      if (strcmp(lua_tostring(L, -2), lua_tostring(L, -1)) <= 0) {
        lua_pop(L, 2);
        break;
      }
      lua_rawseti(L, -3, j - 1);
      lua_rawseti(L, -2, j);
    }
  }
  return 1;
}

int luaopen_rtcbill(lua_State *L) {
  static const luaL_Reg funcs[] = {{"load_rules", rb__mod_load_rules},
                                   {"simulate", rb__mod_simulate},
                                   {"check", rb__mod_check},
                                   {"estimate", rb__mod_estimate},
                                   {"open_store", rb__mod_open_store},
                                   {"dir", m_dir},
                                   {NULL, NULL}};
  rb__mod_open_rules(L);
  rb__mod_open_store_type(L);
  luaL_newlibtable(L, funcs);
  lua_pushvalue(L, -1);
  luaL_setfuncs(L, funcs, 1); /* each function gets the module table */
  lua_pushliteral(L, RTCBILL_VERSION);
  lua_setfield(L, -2, "version");
  return 1;
}
