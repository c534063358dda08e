/* module_rules.c: the "rtcbill.rules" userdata of the Lua module: a
 * loaded rule set, its compiled data as Lua values, and its policy
 * functions, so that a rule author can ask a rule set questions from a
 * busted spec:
 *
 *   local r = assert(rtcbill.load_rules("rules"))
 *   r.version, r.currency, r.timezone, r.video_mode, r.tiers, r.kinds
 *   r:cycle{ first_app_at = "2020-09-01T00:00:00+08:00" } --> "daily"
 *   r:decide{ trigger = "uncovered", tier = "HD", trial = "none",
 *             bought_package = false, at = ... } --> { action = "stop",
 *             reason = "no_package" }
 *   r:tier_for(1280 * 720) --> "HD"
 *
 * The rule set runs in its own sandboxed state; this state only holds a
 * reference to it (dropped by __gc).
 *
 * Depends on: module.h, rtcbill.h, rtcbill_rules.h and Lua 5.4.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include <stdio.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>

#include "module.h"

typedef struct mod_rules {
  rb_rules *rules;
} mod_rules;

rb_rules *rb__mod_check_rules(lua_State *L, int idx) {
  mod_rules *m = luaL_checkudata(L, idx, RB__MOD_RULES);
  luaL_argcheck(L, m->rules != NULL, idx, "rule set already released");
  return m->rules;
}

void rb__mod_push_rules(lua_State *L, rb_rules *r) {
  mod_rules *m = lua_newuserdatauv(L, sizeof *m, 0);
  m->rules = NULL;
  luaL_setmetatable(L, RB__MOD_RULES);
  m->rules = rb_rules_ref(r);
}

int rb__mod_load_rules(lua_State *L) {
  const char *dir = luaL_checkstring(L, 1);
  /* The userdata comes first, so that nothing can raise between the load
   * and the moment the userdata owns the load's reference. */
  mod_rules *m = lua_newuserdatauv(L, sizeof *m, 0);
  m->rules = NULL;
  luaL_setmetatable(L, RB__MOD_RULES);
  rb_rules *r = NULL;
  char err[512] = "";
  int rc = rb_lua_rules_load(dir, &r, err, sizeof err);
  if (rc != RB_OK)
    return rb__mod_fail(L, rc, err[0] != '\0' ? err : NULL);
  m->rules = r;
  return 1;
}

/* ------------------------------------------------------------------ */
/* Fields                                                             */
/* ------------------------------------------------------------------ */

static void push_offset(lua_State *L, int32_t off) {
  char buf[24];
  int32_t a = off < 0 ? -off : off;
  snprintf(buf, sizeof buf, "%c%02d:%02d", off < 0 ? '-' : '+',
           (int)(a / 3600), (int)(a / 60 % 60));
  lua_pushstring(L, buf);
}

static void push_tiers(lua_State *L, const rb_rules_data *d) {
  const rb_tariff *t = &d->tariff;
  lua_createtable(L, t->ntiers, 0);
  for (int i = 0; i < t->ntiers; i++) {
    lua_createtable(L, 0, 3);
    rb__mod_set_str(L, "name", t->tiers[i].name);
    if (i > 0 && t->tiers[i].max_pixels != INT64_MAX)
      rb__mod_set_int(L, "max_pixels", t->tiers[i].max_pixels);
    rb__mod_set_money(L, "price", t->tiers[i].price_per_1000, 2);
    lua_rawseti(L, -2, i + 1);
  }
}

static void push_kinds(lua_State *L, const rb_rules_data *d) {
  lua_createtable(L, d->nkinds, 0);
  for (int k = 0; k < d->nkinds; k++) {
    const rb_package_kind *pk = &d->kinds[k];
    lua_createtable(L, 0, 4);
    rb__mod_set_str(L, "name", pk->name);
    rb__mod_set_bool(L, "granted", pk->granted);
    if (pk->granted)
      rb__mod_set_int(L, "minutes", d->trial_minutes);
    lua_createtable(L, 0, d->tariff.ntiers);
    for (int i = 0; i < d->tariff.ntiers; i++)
      rb__mod_set_int(L, d->tariff.tiers[i].name, pk->factors[i]);
    lua_setfield(L, -2, "factors");
    lua_rawseti(L, -2, k + 1);
  }
}

/* ------------------------------------------------------------------ */
/* Methods                                                            */
/* ------------------------------------------------------------------ */

static const char *policy_error(rb_rules *r) {
  const rb_policy *p = rb_rules_policy(r);
  const char *msg = p->last_error != NULL ? p->last_error(p->ctx) : NULL;
  return msg != NULL && *msg != '\0' ? msg : NULL;
}

/* r:cycle{ first_app_at = TIME [, account = ID] } or r:cycle(TIME). */
static int m_cycle(lua_State *L) {
  rb_rules *r = rb__mod_check_rules(L, 1);
  const rb_rules_data *d = rb_rules_data_get(r);
  const char *account = "A1";
  if (lua_type(L, 2) == LUA_TTABLE) {
    if (lua_getfield(L, 2, "account") == LUA_TSTRING)
      account = lua_tostring(L, -1);
    lua_getfield(L, 2, "first_app_at");
    lua_replace(L, 2);
  }
  rb_cycle_query q = {account, rb__mod_check_time(L, 2), d->tariff.tz_offset};
  const rb_policy *p = rb_rules_policy(r);
  rb_cycle out;
  int rc = p->cycle(p->ctx, &q, &out);
  if (rc != RB_OK)
    return rb__mod_fail(L, rc, policy_error(r));
  lua_pushstring(L, rb_cycle_name(out));
  return 1;
}

static int check_option(lua_State *L, int t, const char *key,
                        const char *const names[], const char *def) {
  lua_getfield(L, t, key);
  const char *s = lua_isnil(L, -1) ? def : lua_tostring(L, -1);
  for (int i = 0; s != NULL && names[i] != NULL; i++)
    if (strcmp(s, names[i]) == 0) {
      lua_pop(L, 1);
      return i;
    }
  return luaL_error(L, "bad field '%s' (one of the documented names "
                       "expected, got %s)", key, s != NULL ? s : "nil");
}

static const char *opt_string(lua_State *L, int t, const char *key) {
  int type = lua_getfield(L, t, key);
  if (type != LUA_TNIL && type != LUA_TSTRING)
    luaL_error(L, "bad field '%s' (string expected, got %s)", key,
               luaL_typename(L, -1));
  return lua_tostring(L, -1); /* kept alive by the table */
}

/* r:decide{ trigger =, trial =, bought_package =, tier =, package_kind =,
 * at =, account =, app = } -> { action =, reason = } */
static int m_decide(lua_State *L) {
  static const char *const triggers[] = {"uncovered", "exhausted", "expired",
                                         NULL};
  static const char *const trials[] = {"none", "active", "exhausted",
                                       "expired", NULL};
  rb_rules *r = rb__mod_check_rules(L, 1);
  luaL_checktype(L, 2, LUA_TTABLE);
  lua_settop(L, 2);
  rb_exhaustion_query q;
  memset(&q, 0, sizeof q);
  q.trigger = (rb_trigger)check_option(L, 2, "trigger", triggers, NULL);
  q.trial = (rb_trial_state)check_option(L, 2, "trial", trials, "none");
  lua_getfield(L, 2, "bought_package");
  q.bought_package = lua_toboolean(L, -1);
  lua_pop(L, 1);
  q.account = opt_string(L, 2, "account");
  if (q.account == NULL)
    q.account = "A1";
  q.tier = opt_string(L, 2, "tier");
  q.package_kind = opt_string(L, 2, "package_kind");
  lua_getfield(L, 2, "app");
  q.app = lua_isnil(L, -1) ? 1 : (int64_t)luaL_checkinteger(L, -1);
  if (lua_getfield(L, 2, "at") == LUA_TNIL)
    lua_pushstring(L, "2020-10-01T00:00:00+08:00");
  q.at = rb__mod_check_time(L, lua_gettop(L));
  const rb_policy *p = rb_rules_policy(r);
  rb_exhaustion_decision d;
  int rc = p->exhaustion(p->ctx, &q, &d);
  if (rc != RB_OK)
    return rb__mod_fail(L, rc, policy_error(r));
  lua_createtable(L, 0, 2);
  rb__mod_set_str(L, "action",
                  d.action == RB_DECIDE_POSTPAID ? "postpaid" : "stop");
  if (d.action == RB_DECIDE_STOP)
    rb__mod_set_str(L, "reason", rb_stop_reason_name(d.reason));
  return 1;
}

/* r:tier_for(pixels) -> the tier name of a stream of that area. */
static int m_tier_for(lua_State *L) {
  rb_rules *r = rb__mod_check_rules(L, 1);
  lua_Integer px = luaL_checkinteger(L, 2);
  luaL_argcheck(L, px >= 0, 2, "a pixel area >= 0");
  const rb_tariff *t = &rb_rules_data_get(r)->tariff;
  int i = px == 0 ? 0 : rb_tariff_tier_for_pixels(t, (int64_t)px);
  lua_pushstring(L, t->tiers[i].name);
  return 1;
}

static int m_index(lua_State *L) {
  rb_rules *r = rb__mod_check_rules(L, 1);
  const rb_rules_data *d = rb_rules_data_get(r);
  const char *k = luaL_checkstring(L, 2);
  if (strcmp(k, "version") == 0)
    lua_pushstring(L, d->version);
  else if (strcmp(k, "currency") == 0)
    lua_pushstring(L, d->tariff.currency);
  else if (strcmp(k, "timezone") == 0)
    push_offset(L, d->tariff.tz_offset);
  else if (strcmp(k, "video_mode") == 0)
    lua_pushstring(L, d->tariff.video_mode == RB_VIDEO_AGGREGATE
                          ? "aggregate"
                          : "per_stream");
  else if (strcmp(k, "tiers") == 0)
    push_tiers(L, d);
  else if (strcmp(k, "kinds") == 0)
    push_kinds(L, d);
  else if (strcmp(k, "total_rounding") == 0)
    rb__mod_push_money(L, d->tariff.total_unit, 2);
  else if (luaL_getmetafield(L, 1, "methods") == LUA_TTABLE)
    lua_getfield(L, -1, k);
  else
    lua_pushnil(L);
  return 1;
}

static int m_gc(lua_State *L) {
  mod_rules *m = luaL_checkudata(L, 1, RB__MOD_RULES);
  if (m->rules != NULL)
    rb_rules_unref(m->rules);
  m->rules = NULL;
  return 0;
}

static int m_tostring(lua_State *L) {
  mod_rules *m = luaL_checkudata(L, 1, RB__MOD_RULES);
  if (m->rules == NULL)
    lua_pushliteral(L, "rtcbill.rules (released)");
  else
    lua_pushfstring(L, "rtcbill.rules %s",
                    rb_rules_data_get(m->rules)->version);
  return 1;
}

void rb__mod_open_rules(lua_State *L) {
  static const luaL_Reg meta[] = {{"__index", m_index},
                                  {"__gc", m_gc},
                                  {"__close", m_gc},
                                  {"__tostring", m_tostring},
                                  {NULL, NULL}};
  static const luaL_Reg methods[] = {{"cycle", m_cycle},
                                     {"decide", m_decide},
                                     {"tier_for", m_tier_for},
                                     {NULL, NULL}};
  luaL_newmetatable(L, RB__MOD_RULES);
  luaL_setfuncs(L, meta, 0);
  luaL_newlib(L, methods);
  lua_setfield(L, -2, "methods");
  lua_pop(L, 1);
}
