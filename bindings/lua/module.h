/* module.h: private interface shared by the files of the Lua module
 * `rtcbill` (luaopen_rtcbill).
 *
 * module.c opens the module and holds its plain functions; module_util.c
 * is the shared helper file (errors, money, times); module_rules.c is the
 * "rtcbill.rules" userdata; module_sim.c runs a simulation into Lua
 * tables; check.c runs `rtcbill check` (the embedded check.lua).
 *
 * Conventions (STYLE.md): misuse raises (luaL_argcheck); a runtime
 * failure returns nil, "ENAME: message", "ENAME". Money is a decimal
 * string, every count an integer, times RFC 3339 strings.
 *
 * Depends on: rtcbill.h, rtcbill_rules.h and Lua 5.4.
 */
#ifndef RTCBILL_LUA_MODULE_H
#define RTCBILL_LUA_MODULE_H

#include <lua.h>

#include "rtcbill.h"
#include "rtcbill_rules.h"

#define RB__MOD_RULES "rtcbill.rules"

/* module_util.c */
/* Pushes nil, "ENAME: message", "ENAME" for the RB_E* code err; returns
 * 3. message NULL uses rb_strerror(err). */
int rb__mod_fail(lua_State *L, int err, const char *message);
/* Pushes v as a decimal string with at least `places` decimals. */
void rb__mod_push_money(lua_State *L, rb_money v, int places);
/* Pushes t as RFC 3339 in the offset tz, or nil if out of range. */
void rb__mod_push_time(lua_State *L, rb_time t, int32_t tz);
/* t[key] = v on the table on top. */
void rb__mod_set_int(lua_State *L, const char *key, int64_t v);
void rb__mod_set_str(lua_State *L, const char *key, const char *v);
void rb__mod_set_bool(lua_State *L, const char *key, bool v);
void rb__mod_set_money(lua_State *L, const char *key, rb_money v, int places);
void rb__mod_set_time(lua_State *L, const char *key, rb_time t, int32_t tz);
/* The decimals a bill total is written with (those of the unit). */
int rb__mod_unit_places(rb_money unit);
/* The RFC 3339 string argument at idx as an rb_time; raises if bad. */
rb_time rb__mod_check_time(lua_State *L, int idx);

/* module_rules.c */
void rb__mod_open_rules(lua_State *L); /* registers the metatable */
/* Pushes a userdata holding a new reference to r. */
void rb__mod_push_rules(lua_State *L, rb_rules *r);
rb_rules *rb__mod_check_rules(lua_State *L, int idx);
/* rtcbill.load_rules(dir) */
int rb__mod_load_rules(lua_State *L);

/* module_sim.c: rtcbill.simulate{...} */
int rb__mod_simulate(lua_State *L);

/* module_estimate.c: rtcbill.estimate{...} */
int rb__mod_estimate(lua_State *L);

/* check.c: rtcbill.check(dir) */
int rb__mod_check(lua_State *L);

/* module_store.c: rtcbill.open_store(path), the "rtcbill.store" type */
int rb__mod_open_store(lua_State *L);
void rb__mod_open_store_type(lua_State *L); /* registers the metatable */

#endif /* RTCBILL_LUA_MODULE_H */
