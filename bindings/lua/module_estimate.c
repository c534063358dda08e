/* module_estimate.c: rtcbill.estimate{...}, the price calculator of the
 * Lua module (the same rb_estimate as `rtcbill estimate`).
 *
 *   local e = rtcbill.estimate{ rules = "rules" or a rules object,
 *     rooms = 10, hosts = 2, audience = 50, minutes = 60, tier = "HD",
 *     days = 30 }  -- days optional
 *   e.minutes.HD == 1836000; e.postpaid == "51408.00";
 *   e.prepaid.price == "41346.72"; e.cheaper == "prepaid"
 *
 * Misuse (a missing or non-integer count, no tier) raises; a value the
 * estimator refuses, or rules that do not load, return nil, "ENAME:
 * message", "ENAME". Money is a decimal string, minutes integers.
 *
 * Depends on: module.h (the module's helpers and rules userdata),
 * rtcbill.h (rb_estimate), rtcbill_rules.h and Lua 5.4.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include <stdio.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>

#include "module.h"

/* The integer field `key` of the argument table; `dflt` when absent and
 * dflt >= 0, else a required field. Raises on a wrong type. */
static int64_t int_field(lua_State *L, const char *key, int64_t dflt) {
  int isnum = 0;
  int type = lua_getfield(L, 1, key);
  if (type == LUA_TNIL && dflt >= 0) {
    lua_pop(L, 1);
    return dflt;
  }
  lua_Integer v = lua_tointegerx(L, -1, &isnum);
  if (!isnum || type != LUA_TNUMBER)
    luaL_error(L,
               "bad argument #1 to 'estimate' (field '%s' must be an "
               "integer)",
               key);
  lua_pop(L, 1);
  return (int64_t)v;
}

static void set_tiers(lua_State *L, const char *key, const rb_tariff *t,
                      const int64_t *v) {
  lua_createtable(L, 0, t->ntiers);
  for (int i = 0; i < t->ntiers; i++)
    rb__mod_set_int(L, t->tiers[i].name, v[i]);
  lua_setfield(L, -2, key);
}

static void set_offer(lua_State *L, const char *key, const rb_offer *o) {
  if (o->type == RB_OFFER_NONE)
    return;
  lua_createtable(L, 0, 4);
  rb__mod_set_str(L, "type", o->type == RB_OFFER_FIXED ? "fixed" : "custom");
  rb__mod_set_int(L, "thousands", o->thousands);
  if (o->type == RB_OFFER_CUSTOM)
    rb__mod_set_money(L, "per_thousand", o->per_thousand, 3);
  rb__mod_set_money(L, "price", o->price, 2);
  lua_setfield(L, -2, key);
}

static void push_result(lua_State *L, const rb_rules_data *d,
                        const rb_estimate_result *e) {
  const rb_tariff *t = &d->tariff;
  const rb_package_kind *k = &d->kinds[e->kind];
  lua_createtable(L, 0, 16);
  rb__mod_set_str(L, "rules", d->version);
  rb__mod_set_str(L, "currency", t->currency);
  rb__mod_set_str(L, "tier", t->tiers[e->tier].name);
  set_tiers(L, "room_minutes", t, e->room_minutes);
  set_tiers(L, "minutes", t, e->minutes);
  rb__mod_set_int(L, "total_minutes", e->total_minutes);
  rb__mod_set_str(L, "kind", k->name);
  set_tiers(L, "factors", t, k->factors);
  rb__mod_set_int(L, "package_minutes", e->package_minutes);
  rb__mod_set_int(L, "need_thousands", e->need_thousands);
  lua_createtable(L, 0, t->ntiers);
  for (int i = 0; i < t->ntiers; i++)
    rb__mod_set_money(L, t->tiers[i].name, e->amounts[i], 2);
  lua_setfield(L, -2, "amounts");
  rb__mod_set_money(L, "postpaid", e->postpaid, 2);
  set_offer(L, "exact", &e->exact);
  set_offer(L, "prepaid", &e->prepaid);
  rb__mod_set_str(L, "cheaper", rb_cheaper_name(e->cheaper));
  rb__mod_set_money(L, "saving", e->saving, 2);
}

int rb__mod_estimate(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  rb_estimate_input in;
  in.rooms = int_field(L, "rooms", -1);
  in.hosts = int_field(L, "hosts", -1);
  in.audience = int_field(L, "audience", -1);
  in.minutes = int_field(L, "minutes", -1);
  in.days = int_field(L, "days", 30);
  if (lua_getfield(L, 1, "tier") != LUA_TSTRING)
    luaL_error(L, "bad argument #1 to 'estimate' (field 'tier' must be a "
                  "string)");
  in.tier = lua_tostring(L, -1); /* kept alive on the stack */

  /* rules: a loaded rule set, or a directory to load (the only place a
   * reference is taken, and dropped below). */
  rb_rules *r = NULL;
  int type = lua_getfield(L, 1, "rules");
  if (type == LUA_TSTRING) {
    char err[512] = "";
    int rc = rb_lua_rules_load(lua_tostring(L, -1), &r, err, sizeof err);
    if (rc != RB_OK)
      return rb__mod_fail(L, rc, err[0] != '\0' ? err : NULL);
  } else if (type == LUA_TUSERDATA) {
    r = rb_rules_ref(rb__mod_check_rules(L, lua_gettop(L)));
  } else {
    return luaL_error(L, "bad argument #1 to 'estimate' (field 'rules' must "
                         "be a directory or a rules object)");
  }

  rb_estimate_result e;
  int rc = rb_estimate(r, &in, &e);
  if (rc != RB_OK) {
    rb_rules_unref(r);
    return rb__mod_fail(L, rc, e.message);
  }
  /* Nothing below raises except for memory, and the reference must not
   * leak then: push first into a table, unref after. */
  const rb_rules_data *d = rb_rules_data_get(r);
  rb_rules_data copy = *d;
  rb_rules_unref(r);
  push_result(L, &copy, &e);
  return 1;
}
