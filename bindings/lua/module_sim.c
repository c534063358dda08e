/* module_sim.c: rtcbill.simulate{...}, a simulation run from Lua.
 *
 *   local res = assert(rtcbill.simulate{
 *     rules = "rules",            -- a directory or an rtcbill.rules value
 *     events = { '{"type":...}', ... }, -- or files = { "a.jsonl", ... }
 *     ["until"] = "2020-12-01T00:00:00+08:00", -- optional
 *   })
 *   res.bills, res.notices, res.rejects, res.summary, res.rules
 *
 * It does what `rtcbill simulate` does (parse and reject with file and
 * line, order by effective time with input order breaking ties, run the
 * engine on its virtual clock to --until or until every period with
 * usage is billed) and returns the outputs as Lua tables shaped like the
 * JSON files: money as decimal strings, counts as integers.
 *
 * C resources live in a userdata whose __gc frees them, so an error
 * raised anywhere leaks nothing. The engine's sink builds Lua tables
 * under lua_pcall: a Lua error never unwinds through the engine.
 *
 * Depends on: module.h, rtcbill.h, rtcbill_rules.h, Lua 5.4 and the C
 * standard library.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>

#include "module.h"

#define SIM_META "rtcbill.simulation"

/* Stack slots of rb__mod_simulate. */
enum { OPTS = 1, SIM = 2, NAMES = 3, BILLS = 4, NOTICES = 5 };

typedef struct sim_ev {
  rb_event ev;
  uint32_t file;
  uint64_t line;
} sim_ev;

typedef struct sim_rej {
  uint32_t file;
  uint64_t line;
  rb_reject rej;
} sim_rej;

typedef struct tier_minutes {
  int64_t billable, covered, postpaid, unbilled;
} tier_minutes;

typedef struct mod_sim {
  lua_State *L;
  rb_rules *rules;
  rb_engine *engine;
  rb_arena *arena;
  sim_ev *events;
  size_t nevents, capevents;
  sim_rej *rejects;
  size_t nrejects, caprejects;
  char *buf;
  size_t capbuf;
  FILE *fp;
  int32_t tz;
  uint64_t read, accepted, duplicates, pending, nbills;
  rb_money revenue;
  tier_minutes minutes[RB_MAX_TIERS];
} mod_sim;

static int sim_gc(lua_State *L) {
  mod_sim *s = luaL_checkudata(L, 1, SIM_META);
  if (s->fp != NULL)
    fclose(s->fp);
  rb_engine_free(s->engine);
  if (s->rules != NULL)
    rb_rules_unref(s->rules);
  rb_arena_free(s->arena);
  free(s->events);
  free(s->rejects);
  free(s->buf);
  memset(s, 0, sizeof *s);
  return 0;
}

static bool grow(void **arr, size_t *cap, size_t n, size_t size) {
  if (n < *cap)
    return true;
  size_t ncap = *cap == 0 ? 64 : *cap * 2;
  void *p = realloc(*arr, ncap * size);
  if (p == NULL)
    return false;
  *arr = p;
  *cap = ncap;
  return true;
}

static bool add_reject(mod_sim *s, uint32_t file, uint64_t line,
                       const rb_reject *rej) {
  if (!grow((void **)&s->rejects, &s->caprejects, s->nrejects,
            sizeof *s->rejects))
    return false;
  s->rejects[s->nrejects].file = file;
  s->rejects[s->nrejects].line = line;
  s->rejects[s->nrejects].rej = *rej;
  s->nrejects++;
  return true;
}

/* Parses one line into the event list or the rejects. */
static int take_line(mod_sim *s, uint32_t file, uint64_t line,
                     const char *text, size_t len) {
  rb_reject rej;
  memset(&rej, 0, sizeof rej);
  s->read++;
  if (len > RB_LINE_MAX) {
    snprintf(rej.code, sizeof rej.code, "line_too_long");
    snprintf(rej.message, sizeof rej.message,
             "the line is %zu bytes long, the limit is %u bytes", len,
             RB_LINE_MAX);
    return add_reject(s, file, line, &rej) ? RB_OK : RB_ENOMEM;
  }
  if (!grow((void **)&s->events, &s->capevents, s->nevents,
            sizeof *s->events))
    return RB_ENOMEM;
  sim_ev *se = &s->events[s->nevents];
  int rc = rb_event_parse(s->arena, text, len, &se->ev, &rej);
  if (rc == RB_OK) {
    se->file = file;
    se->line = line;
    s->nevents++;
    return RB_OK;
  }
  if (rc == RB_EREJECT)
    return add_reject(s, file, line, &rej) ? RB_OK : RB_ENOMEM;
  return rc;
}

static bool blank(const char *p, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r' && p[i] != '\f' &&
        p[i] != '\v')
      return false;
  return true;
}

/* Reads a whole file line by line; blank lines are skipped but counted.
 * Returns RB_OK, RB_EIO (errno set) or RB_ENOMEM. */
static int read_file(mod_sim *s, uint32_t file, const char *path) {
  s->fp = fopen(path, "rb");
  if (s->fp == NULL)
    return RB_EIO;
  uint64_t line = 0;
  int rc = RB_OK;
  for (;;) {
    size_t len = 0;
    int c = EOF;
    while ((c = getc(s->fp)) != EOF && c != '\n') {
      /* Past the limit only the length counts. */
      if (len <= RB_LINE_MAX) {
        if (len + 2 > s->capbuf &&
            !grow((void **)&s->buf, &s->capbuf, len + 2, 1)) {
          rc = RB_ENOMEM;
          break;
        }
        s->buf[len] = (char)c;
      }
      len++;
    }
    if (rc != RB_OK || (c == EOF && len == 0))
      break;
    line++;
    size_t kept = len <= RB_LINE_MAX ? len : 0;
    if (kept > 0 && s->buf[kept - 1] == '\r')
      kept--, len--;
    if (len <= RB_LINE_MAX && blank(s->buf, kept))
      continue;
    if (s->buf != NULL)
      s->buf[kept] = '\0';
    rc = take_line(s, file, line, s->buf, len);
    if (rc != RB_OK || c == EOF)
      break;
  }
  if (rc == RB_OK && ferror(s->fp))
    rc = RB_EIO;
  fclose(s->fp);
  s->fp = NULL;
  return rc;
}

static int event_cmp(const void *pa, const void *pb) {
  const sim_ev *a = pa, *b = pb;
  if (a->ev.at != b->ev.at)
    return a->ev.at < b->ev.at ? -1 : 1;
  if (a->file != b->file)
    return a->file < b->file ? -1 : 1;
  return a->line < b->line ? -1 : a->line > b->line;
}

static int reject_cmp(const void *pa, const void *pb) {
  const sim_rej *a = pa, *b = pb;
  if (a->file != b->file)
    return a->file < b->file ? -1 : 1;
  return a->line < b->line ? -1 : a->line > b->line;
}

/* ------------------------------------------------------------------ */
/* The sink: bills and notices as Lua tables                          */
/* ------------------------------------------------------------------ */

static void append(lua_State *L, int list) {
  lua_rawseti(L, list, (lua_Integer)lua_rawlen(L, list) + 1);
}

/* Arguments: the rb_bill, the list to append to. */
static int push_bill(lua_State *L) {
  const rb_bill *b = lua_touserdata(L, 1);
  const rb_tariff *t = b->tariff;
  lua_createtable(L, 0, 16);
  rb__mod_set_str(L, "bill", b->id);
  rb__mod_set_str(L, "account", b->account);
  rb__mod_set_str(L, "cycle", rb_cycle_name(b->cycle));
  rb__mod_set_time(L, "period_start", b->period_start, t->tz_offset);
  rb__mod_set_time(L, "period_end", b->period_end, t->tz_offset);
  rb__mod_set_time(L, "issued_at", b->issued_at, t->tz_offset);
  rb__mod_set_str(L, "currency", t->currency);
  rb__mod_set_str(L, "rules", b->rules_version);
  lua_createtable(L, (int)b->nlines, 0);
  for (size_t i = 0; i < b->nlines; i++) {
    const rb_bill_line *l = &b->lines[i];
    lua_createtable(L, 0, 10);
    rb__mod_set_int(L, "app", l->app);
    rb__mod_set_str(L, "tier", t->tiers[l->tier].name);
    rb__mod_set_int(L, "minutes", l->minutes);
    rb__mod_set_int(L, "covered", l->covered);
    rb__mod_set_int(L, "postpaid", l->postpaid);
    rb__mod_set_int(L, "unbilled", l->unbilled);
    rb__mod_set_money(L, "amount", l->amount, RB_MONEY_PLACES);
    rb__mod_set_bool(L, "late", l->late);
    if (l->late)
      rb__mod_set_time(L, "origin", l->origin, t->tz_offset);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  lua_setfield(L, -2, "lines");
  rb__mod_set_money(L, "total", b->total, rb__mod_unit_places(t->total_unit));
  rb__mod_set_money(L, "precision_diff", b->precision_diff, RB_MONEY_PLACES);
  rb__mod_set_money(L, "balance_after", b->balance_after, 2);
  rb__mod_set_str(L, "status", b->arrears ? "arrears" : "paid");
  append(L, 2);
  return 0;
}

/* Arguments: the rb_notice, the list, the time zone. */
static int push_notice(lua_State *L) {
  const rb_notice *n = lua_touserdata(L, 1);
  int32_t tz = (int32_t)lua_tointeger(L, 3);
  lua_createtable(L, 0, 8);
  rb__mod_set_time(L, "at", n->at, tz);
  rb__mod_set_str(L, "type", rb_notice_type_name(n->type));
  rb__mod_set_str(L, "account", n->account);
  if (n->app != 0)
    rb__mod_set_int(L, "app", n->app);
  rb__mod_set_str(L, "package", n->package);
  rb__mod_set_str(L, "bill", n->bill);
  if (n->type == RB_N_BILL_ISSUED)
    rb__mod_set_money(L, "total", n->total, 2);
  rb__mod_set_str(L, "id", n->id);
  if (n->reason >= 0)
    rb__mod_set_str(L, "reason",
                    n->type == RB_N_POSTPAID_ENABLED
                        ? rb_postpaid_reason_name((rb_postpaid_reason)n->reason)
                        : rb_stop_reason_name((rb_stop_reason)n->reason));
  if (n->forfeited >= 0)
    rb__mod_set_int(L, "forfeited", n->forfeited);
  if (n->type == RB_N_ARREARS_NOTICE || n->type == RB_N_ARREARS_CLEARED)
    rb__mod_set_money(L, "balance", n->balance, 2);
  rb__mod_set_str(L, "rules", n->rules);
  append(L, 2);
  return 0;
}

static int on_bill(void *ctx, const rb_bill *b) {
  mod_sim *s = ctx;
  lua_State *L = s->L;
  if (!lua_checkstack(L, 4))
    return RB_ENOMEM;
  lua_pushcfunction(L, push_bill);
  lua_pushlightuserdata(L, (void *)b);
  lua_pushvalue(L, BILLS);
  if (lua_pcall(L, 2, 0, 0) != LUA_OK) {
    lua_pop(L, 1);
    return RB_ENOMEM;
  }
  s->nbills++;
  if (rb_money_add(s->revenue, b->total, &s->revenue) != RB_OK)
    return RB_EOVERFLOW;
  for (size_t i = 0; i < b->nlines; i++) {
    tier_minutes *m = &s->minutes[b->lines[i].tier];
    m->billable += b->lines[i].minutes;
    m->covered += b->lines[i].covered;
    m->postpaid += b->lines[i].postpaid;
    m->unbilled += b->lines[i].unbilled;
  }
  return RB_OK;
}

static int on_notice(void *ctx, const rb_notice *n) {
  mod_sim *s = ctx;
  lua_State *L = s->L;
  if (!lua_checkstack(L, 5))
    return RB_ENOMEM;
  lua_pushcfunction(L, push_notice);
  lua_pushlightuserdata(L, (void *)n);
  lua_pushvalue(L, NOTICES);
  lua_pushinteger(L, s->tz);
  if (lua_pcall(L, 3, 0, 0) != LUA_OK) {
    lua_pop(L, 1);
    return RB_ENOMEM;
  }
  return RB_OK;
}

/* ------------------------------------------------------------------ */
/* The run                                                            */
/* ------------------------------------------------------------------ */

static int run(mod_sim *s, bool has_until, rb_time until) {
  rb_time last = RB_TIME_NONE;
  for (size_t i = 0; i < s->nevents; i++) {
    const sim_ev *se = &s->events[i];
    if (has_until && se->ev.at > until) {
      s->pending++;
      continue;
    }
    rb_reject rej;
    memset(&rej, 0, sizeof rej);
    int rc = rb_engine_apply(s->engine, &se->ev, &rej);
    if (rc == RB_OK) {
      s->accepted++;
      if (last == RB_TIME_NONE || se->ev.at > last)
        last = se->ev.at;
    } else if (rc == RB_DUPLICATE) {
      s->duplicates++;
    } else if (rc == RB_EREJECT) {
      if (!add_reject(s, se->file, se->line, &rej))
        return RB_ENOMEM;
    } else {
      return rc < 0 ? rc : RB_EINVAL;
    }
  }
  if (has_until) {
    rb_time now = rb_engine_now(s->engine);
    if (now != RB_TIME_NONE && now > until)
      return RB_OK;
    return rb_engine_advance(s->engine, until);
  }
  rb_time target = last;
  for (;;) {
    rb_time h = rb_engine_settle_horizon(s->engine);
    if (h != RB_TIME_NONE && (target == RB_TIME_NONE || h > target))
      target = h;
    rb_time now = rb_engine_now(s->engine);
    if (target == RB_TIME_NONE || (now != RB_TIME_NONE && target <= now))
      return RB_OK;
    int rc = rb_engine_advance(s->engine, target);
    if (rc != RB_OK)
      return rc;
  }
}

static void push_summary(lua_State *L, mod_sim *s) {
  const rb_rules_data *d = rb_rules_data_get(s->rules);
  lua_createtable(L, 0, 6);
  lua_createtable(L, 0, 5);
  rb__mod_set_int(L, "read", (int64_t)s->read);
  rb__mod_set_int(L, "accepted", (int64_t)s->accepted);
  rb__mod_set_int(L, "rejected", (int64_t)s->nrejects);
  rb__mod_set_int(L, "duplicates", (int64_t)s->duplicates);
  rb__mod_set_int(L, "pending", (int64_t)s->pending);
  lua_setfield(L, -2, "events");
  rb__mod_set_int(L, "bills", (int64_t)s->nbills);
  rb__mod_set_money(L, "revenue", s->revenue, 2);
  rb__mod_set_str(L, "rules", d->version);
  rb__mod_set_str(L, "currency", d->tariff.currency);
  lua_createtable(L, 0, d->tariff.ntiers);
  for (int i = 0; i < d->tariff.ntiers; i++) {
    lua_createtable(L, 0, 4);
    rb__mod_set_int(L, "billable", s->minutes[i].billable);
    rb__mod_set_int(L, "covered", s->minutes[i].covered);
    rb__mod_set_int(L, "postpaid", s->minutes[i].postpaid);
    rb__mod_set_int(L, "unbilled", s->minutes[i].unbilled);
    lua_setfield(L, -2, d->tariff.tiers[i].name);
  }
  lua_setfield(L, -2, "minutes");
}

static void push_rejects(lua_State *L, mod_sim *s) {
  if (s->nrejects > 1)
    qsort(s->rejects, s->nrejects, sizeof *s->rejects, reject_cmp);
  lua_createtable(L, (int)s->nrejects, 0);
  for (size_t i = 0; i < s->nrejects; i++) {
    const sim_rej *r = &s->rejects[i];
    lua_createtable(L, 0, 5);
    lua_rawgeti(L, NAMES, (lua_Integer)r->file + 1);
    lua_setfield(L, -2, "file");
    rb__mod_set_int(L, "line", (int64_t)r->line);
    rb__mod_set_str(L, "error", r->rej.code);
    rb__mod_set_str(L, "field", r->rej.field);
    rb__mod_set_str(L, "message", r->rej.message);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
}

/* Reads opts.events (one line each, file "events") or opts.files. */
static int read_inputs(lua_State *L, mod_sim *s, char *err, size_t cap) {
  int has_events = lua_getfield(L, OPTS, "events") != LUA_TNIL;
  int has_files = lua_getfield(L, OPTS, "files") != LUA_TNIL;
  luaL_argcheck(L, has_events != has_files, 1,
                "give exactly one of 'events' (lines) or 'files' (paths)");
  int list = lua_gettop(L) - (has_events ? 1 : 0);
  luaL_argcheck(L, lua_type(L, list) == LUA_TTABLE, 1,
                "'events' and 'files' must be lists of strings");
  lua_Integer n = (lua_Integer)lua_rawlen(L, list);
  luaL_argcheck(L, n < (lua_Integer)UINT32_MAX, 1, "too many files");
  for (lua_Integer i = 1; i <= n; i++) {
    if (lua_rawgeti(L, list, i) != LUA_TSTRING)
      luaL_error(L, "bad argument #1 to 'simulate' (%s[%d] must be a "
                    "string)",
                 has_events ? "events" : "files", (int)i);
    lua_pop(L, 1);
  }
  if (has_events) {
    lua_pushliteral(L, "events");
    lua_rawseti(L, NAMES, 1);
    for (lua_Integer i = 1; i <= n; i++) {
      size_t len;
      lua_rawgeti(L, list, i);
      const char *line = lua_tolstring(L, -1, &len);
      int rc = blank(line, len) ? RB_OK
                                : take_line(s, 0, (uint64_t)i, line, len);
      lua_pop(L, 1);
      if (rc != RB_OK)
        return rc;
    }
  } else {
    for (lua_Integer i = 1; i <= n; i++) {
      lua_rawgeti(L, list, i);
      lua_rawseti(L, NAMES, i);
      lua_rawgeti(L, list, i);
      const char *path = lua_tostring(L, -1);
      int rc = read_file(s, (uint32_t)(i - 1), path);
      if (rc == RB_EIO)
        snprintf(err, cap, "%s: %s", path, strerror(errno));
      lua_pop(L, 1);
      if (rc != RB_OK)
        return rc;
    }
  }
  return RB_OK;
}

int rb__mod_simulate(lua_State *L) {
  char err[512] = "";
  luaL_checktype(L, OPTS, LUA_TTABLE);
  lua_settop(L, OPTS);
  mod_sim *s = lua_newuserdatauv(L, sizeof *s, 0);
  memset(s, 0, sizeof *s);
  if (luaL_newmetatable(L, SIM_META)) {
    lua_pushcfunction(L, sim_gc);
    lua_setfield(L, -2, "__gc");
  }
  lua_setmetatable(L, SIM);
  lua_newtable(L); /* NAMES */
  lua_newtable(L); /* BILLS */
  lua_newtable(L); /* NOTICES */
  s->L = L;

  bool has_until = false;
  rb_time until = RB_TIME_NONE;
  if (lua_getfield(L, OPTS, "until") != LUA_TNIL) {
    until = rb__mod_check_time(L, lua_gettop(L));
    has_until = true;
  }
  lua_pop(L, 1);

  int type = lua_getfield(L, OPTS, "rules");
  if (type == LUA_TSTRING) {
    int rc = rb_lua_rules_load(lua_tostring(L, -1), &s->rules, err,
                               sizeof err);
    if (rc != RB_OK)
      return rb__mod_fail(L, rc, err[0] ? err : NULL);
  } else if (type == LUA_TUSERDATA) {
    s->rules = rb_rules_ref(rb__mod_check_rules(L, lua_gettop(L)));
  } else {
    return luaL_argerror(L, 1, "'rules' must be a directory or the result "
                               "of rtcbill.load_rules");
  }
  lua_settop(L, NOTICES);
  s->tz = rb_rules_data_get(s->rules)->tariff.tz_offset;
  if ((s->arena = rb_arena_new()) == NULL)
    return rb__mod_fail(L, RB_ENOMEM, NULL);

  int rc = read_inputs(L, s, err, sizeof err);
  lua_settop(L, NOTICES);
  if (rc != RB_OK)
    return rb__mod_fail(L, rc, err[0] ? err : NULL);
  if (s->nevents > 1)
    qsort(s->events, s->nevents, sizeof *s->events, event_cmp);

  rb_sink sink = {.ctx = s, .bill = on_bill, .notice = on_notice};
  rc = rb_engine_new(s->rules, &sink, &s->engine);
  if (rc != RB_OK)
    return rb__mod_fail(L, rc, NULL);
  rc = run(s, has_until, until);
  if (rc != RB_OK) {
    const char *msg = rb_engine_last_error(s->engine);
    return rb__mod_fail(L, rc, msg != NULL && *msg ? msg : NULL);
  }

  lua_createtable(L, 0, 5);
  lua_pushvalue(L, BILLS);
  lua_setfield(L, -2, "bills");
  lua_pushvalue(L, NOTICES);
  lua_setfield(L, -2, "notices");
  push_rejects(L, s);
  lua_setfield(L, -2, "rejects");
  push_summary(L, s);
  lua_setfield(L, -2, "summary");
  rb__mod_set_str(L, "rules", rb_rules_data_get(s->rules)->version);
  return 1;
}
