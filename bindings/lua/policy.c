/* policy.c: the core's rb_policy, answered by the rule functions.
 *
 * settlement.lua's cycle(account) and exhaustion.lua's decide(q) are
 * called through the host's protected caller with the question as a
 * fresh table of strings, integers and booleans (times as RFC 3339 in
 * the billing time zone), and their answers are checked strictly: a rule
 * that answers something the core cannot apply fails with RB_EPOLICY
 * and a message saying what it returned, instead of being guessed at.
 *
 * Depends on: host.h, rtcbill.h (rb_time_format, rb_date_format,
 * rb_stop_reason_name), Lua 5.4 and the C standard library.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include <stdio.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>

#include "host.h"

/* Raises "file.lua: message" for a wrong answer. Nothing of the rule is
 * on the stack any more, so the handler adds no line to it. */
static int wrong(lua_State *L, int file, const char *msg) {
  lua_pushfstring(L, "%s: %s", rb__lua_files[file], msg);
  return lua_error(L);
}

/* Pushes the rule function `name` of `file`. */
static void push_rule(lua_State *L, int file, const char *name) {
  rb__lua_host *h = rb__lua_host_of(L);
  lua_rawgeti(L, LUA_REGISTRYINDEX, h->env[file]);
  lua_pushstring(L, name);
  if (lua_rawget(L, -2) != LUA_TFUNCTION) {
    lua_pushfstring(L, "%s: %s is no longer a function", rb__lua_files[file],
                    name);
    lua_error(L);
  }
  lua_remove(L, -2);
}

/* Describes the value at idx for a message. */
static const char *shown(lua_State *L, int idx, char *buf, size_t cap) {
  int t = lua_type(L, idx);
  if (t == LUA_TSTRING)
    snprintf(buf, cap, "\"%.40s\"", lua_tostring(L, idx));
  else if (t == LUA_TNIL)
    snprintf(buf, cap, "nil");
  else if (t == LUA_TBOOLEAN)
    snprintf(buf, cap, "%s", lua_toboolean(L, idx) ? "true" : "false");
  else
    snprintf(buf, cap, "a %s", luaL_typename(L, idx));
  return buf;
}

static void set_string(lua_State *L, const char *key, const char *value) {
  if (value == NULL)
    return;
  lua_pushstring(L, value);
  lua_setfield(L, -2, key);
}

/* ------------------------------------------------------------------ */
/* cycle(account)                                                     */
/* ------------------------------------------------------------------ */

/* Arguments: the rb_cycle_query and the rb_cycle to fill. */
static int call_cycle(lua_State *L) {
  const rb_cycle_query *q = lua_touserdata(L, 1);
  rb_cycle *out = lua_touserdata(L, 2);
  char at[RB_TIME_STRLEN], date[RB_TIME_STRLEN], b[64], msg[160];
  if (rb_time_format(q->first_app_at, q->tz_offset, at, sizeof at) < 0 ||
      rb_date_format(q->first_app_at, q->tz_offset, true, date, sizeof date) <
          0)
    return wrong(L, RB__F_SETTLEMENT,
                 "cycle: the first app's time is out of range");
  push_rule(L, RB__F_SETTLEMENT, "cycle");
  lua_createtable(L, 0, 3);
  set_string(L, "id", q->account);
  set_string(L, "first_app_at", at);
  set_string(L, "first_app_date", date);
  lua_call(L, 1, 1);
  const char *s = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "";
  if (strcmp(s, "monthly") == 0) {
    *out = RB_CYCLE_MONTHLY;
  } else if (strcmp(s, "daily") == 0) {
    *out = RB_CYCLE_DAILY;
  } else {
    snprintf(msg, sizeof msg,
             "cycle returned %s (expected \"monthly\" or \"daily\")",
             shown(L, -1, b, sizeof b));
    return wrong(L, RB__F_SETTLEMENT, msg);
  }
  return 0;
}

static int policy_cycle(void *ctx, const rb_cycle_query *q, rb_cycle *out) {
  rb__lua_host *h = ctx;
  rb_cycle c = RB_CYCLE_DAILY;
  if (h == NULL || q == NULL || out == NULL)
    return RB_EINVAL;
  lua_pushcfunction(h->L, call_cycle);
  lua_pushlightuserdata(h->L, (void *)q);
  lua_pushlightuserdata(h->L, &c);
  h->now = q->first_app_at;
  int st = rb__lua_pcall(h, 2, 0, RB__F_SETTLEMENT);
  h->now = RB_TIME_NONE;
  if (st == RB_OK)
    *out = c;
  return st;
}

/* ------------------------------------------------------------------ */
/* decide(q)                                                          */
/* ------------------------------------------------------------------ */

static const char *trigger_name(rb_trigger t) {
  switch (t) {
  case RB_TRIGGER_UNCOVERED:
    return "uncovered";
  case RB_TRIGGER_EXHAUSTED:
    return "exhausted";
  case RB_TRIGGER_EXPIRED:
    return "expired";
  }
  return NULL;
}

static const char *trial_name(rb_trial_state t) {
  switch (t) {
  case RB_TRIAL_NONE:
    return "none";
  case RB_TRIAL_ACTIVE:
    return "active";
  case RB_TRIAL_EXHAUSTED:
    return "exhausted";
  case RB_TRIAL_EXPIRED:
    return "expired";
  }
  return NULL;
}

static void push_query(lua_State *L, const rb_exhaustion_query *q,
                       const char *at) {
  lua_createtable(L, 0, 8);
  set_string(L, "account", q->account);
  lua_pushinteger(L, (lua_Integer)q->app);
  lua_setfield(L, -2, "app");
  set_string(L, "at", at);
  set_string(L, "trigger", trigger_name(q->trigger));
  set_string(L, "package_kind", q->package_kind);
  set_string(L, "tier", q->tier);
  lua_pushboolean(L, q->bought_package);
  lua_setfield(L, -2, "bought_package");
  set_string(L, "trial", trial_name(q->trial));
}

/* Reads the answer table on top into *out, or raises. */
static int read_decision(lua_State *L, rb_exhaustion_decision *out) {
  char b[64], msg[240];
  if (lua_type(L, -1) != LUA_TTABLE) {
    snprintf(msg, sizeof msg,
             "decide returned %s (expected a table such as { action = "
             "\"postpaid\" } or { action = \"stop\", reason = "
             "\"no_package\" })",
             shown(L, -1, b, sizeof b));
    return wrong(L, RB__F_EXHAUSTION, msg);
  }
  lua_pushliteral(L, "action");
  lua_rawget(L, -2);
  const char *action =
      lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "";
  if (strcmp(action, "postpaid") == 0) {
    out->action = RB_DECIDE_POSTPAID;
    out->reason = RB_STOP_NO_PACKAGE; /* unused with postpaid */
    return 0;
  }
  if (strcmp(action, "stop") != 0) {
    snprintf(msg, sizeof msg,
             "decide returned action %s (expected \"postpaid\" or \"stop\")",
             shown(L, -1, b, sizeof b));
    return wrong(L, RB__F_EXHAUSTION, msg);
  }
  lua_pushliteral(L, "reason");
  lua_rawget(L, -3);
  const char *reason =
      lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "";
  /* Arrears is the core's own reason, cleared only by a top-up: a rule
   * cannot give it. */
  static const rb_stop_reason allowed[] = {
      RB_STOP_TRIAL_EXHAUSTED, RB_STOP_TRIAL_EXPIRED, RB_STOP_NO_PACKAGE};
  for (size_t i = 0; i < sizeof allowed / sizeof allowed[0]; i++) {
    if (strcmp(reason, rb_stop_reason_name(allowed[i])) == 0) {
      out->action = RB_DECIDE_STOP;
      out->reason = allowed[i];
      return 0;
    }
  }
  snprintf(msg, sizeof msg,
           "decide returned action \"stop\" with reason %s (expected "
           "\"trial_exhausted\", \"trial_expired\" or \"no_package\")",
           shown(L, -1, b, sizeof b));
  return wrong(L, RB__F_EXHAUSTION, msg);
}

/* Arguments: the rb_exhaustion_query and the decision to fill. */
static int call_exhaustion(lua_State *L) {
  const rb_exhaustion_query *q = lua_touserdata(L, 1);
  rb_exhaustion_decision *out = lua_touserdata(L, 2);
  char at[RB_TIME_STRLEN];
  if (trigger_name(q->trigger) == NULL || trial_name(q->trial) == NULL)
    return wrong(L, RB__F_EXHAUSTION,
                 "decide: the question has an unknown trigger or trial "
                 "state");
  if (rb_time_format(q->at, rb__lua_host_of(L)->tz_offset, at, sizeof at) < 0)
    return wrong(L, RB__F_EXHAUSTION, "decide: the time is out of range");
  push_rule(L, RB__F_EXHAUSTION, "decide");
  push_query(L, q, at);
  lua_call(L, 1, 1);
  return read_decision(L, out);
}

static int policy_exhaustion(void *ctx, const rb_exhaustion_query *q,
                             rb_exhaustion_decision *out) {
  rb__lua_host *h = ctx;
  rb_exhaustion_decision d = {RB_DECIDE_STOP, RB_STOP_NO_PACKAGE};
  if (h == NULL || q == NULL || out == NULL)
    return RB_EINVAL;
  lua_pushcfunction(h->L, call_exhaustion);
  lua_pushlightuserdata(h->L, (void *)q);
  lua_pushlightuserdata(h->L, &d);
  h->now = q->at;
  int st = rb__lua_pcall(h, 2, 0, RB__F_EXHAUSTION);
  h->now = RB_TIME_NONE;
  if (st == RB_OK)
    *out = d;
  return st;
}

/* ------------------------------------------------------------------ */
/* The interface                                                      */
/* ------------------------------------------------------------------ */

static const char *policy_last_error(void *ctx) {
  rb__lua_host *h = ctx;
  return h != NULL ? h->error : "";
}

static void policy_release(void *ctx) { rb__lua_host_free(ctx); }

void rb__lua_policy_init(rb__lua_host *h, rb_policy *p) {
  p->ctx = h;
  p->cycle = policy_cycle;
  p->exhaustion = policy_exhaustion;
  p->last_error = policy_last_error;
  p->release = policy_release;
}
