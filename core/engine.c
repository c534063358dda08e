/* engine.c: the engine's clock, timers and event dispatch, and the state
 * of accounts and apps (creation, service stops and resumes, postpaid).
 *
 * Every input event is checked against the state first and refused
 * before anything moves, so that a rejected event changes nothing, not
 * even the clock. Then the virtual clock advances to the event's time,
 * firing the timers due (SPEC 1.9: timers before input at the same
 * instant), and the event is applied.
 *
 * Depends on: rtcbill.h, engine.h (pool.c, ledger.c, usage.c).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "engine.h"

/* ---------------------------------------------------------------- */
/* Small shared helpers                                             */
/* ---------------------------------------------------------------- */

int rb__reserve(void **arr, uint32_t *cap, uint32_t need, size_t elem) {
  if (need <= *cap)
    return RB_OK;
  uint32_t ncap = *cap ? *cap : 8;
  while (ncap < need) {
    if (ncap >= UINT32_MAX / 2)
      return RB_ENOMEM;
    ncap *= 2;
  }
  /* realloc keeps the old block on failure: nothing changes. */
  void *p = rb__realloc(*arr, (size_t)ncap * elem);
  if (p == NULL)
    return RB_ENOMEM;
  *arr = p;
  *cap = ncap;
  return RB_OK;
}

int rb__grow(void **arr, uint32_t *cap, uint32_t n, size_t elem) {
  if (n == UINT32_MAX)
    return RB_ENOMEM;
  return rb__reserve(arr, cap, n + 1, elem);
}

int rb__idxv_reserve(rb__idxv *a, uint32_t extra) {
  if (extra > UINT32_MAX - a->n)
    return RB_ENOMEM;
  return rb__reserve((void **)&a->v, &a->cap, a->n + extra, sizeof *a->v);
}

int rb__idxv_push(rb__idxv *a, uint32_t x) {
  int rc = rb__grow((void **)&a->v, &a->cap, a->n, sizeof *a->v);
  if (rc != RB_OK)
    return rc;
  a->v[a->n++] = x;
  return RB_OK;
}

void rb__idxv_free(rb__idxv *a) {
  rb__free(a->v);
  a->v = NULL;
  a->n = a->cap = 0;
}

int rb__reject(rb_reject *rej, const char *code, const char *field,
               const char *fmt, ...) {
  if (rej != NULL) {
    snprintf(rej->code, sizeof rej->code, "%s", code);
    snprintf(rej->field, sizeof rej->field, "%s", field);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(rej->message, sizeof rej->message, fmt, ap);
    va_end(ap);
  }
  return RB_EREJECT;
}

int rb__policy_failed(rb_engine *e, const char *fallback) {
  const rb_policy *p = rb_rules_policy(e->rules);
  const char *msg = p->last_error ? p->last_error(p->ctx) : NULL;
  e->failed = true;
  snprintf(e->error, sizeof e->error, "%s",
           msg && *msg ? msg : fallback);
  return RB_EPOLICY;
}

void rb__notice_init(rb_notice *n, rb_notice_type type, const char *account) {
  memset(n, 0, sizeof *n);
  n->type = type;
  n->account = account;
  n->reason = -1;
  n->forfeited = -1;
}

int rb__notify(rb_engine *e, rb_notice *n) {
  n->at = e->now;
  if (e->sink.notice == NULL)
    return RB_OK;
  int rc = e->sink.notice(e->sink.ctx, n);
  if (rc != 0) {
    e->failed = true;
    snprintf(e->error, sizeof e->error, "the notice sink failed (%d)", rc);
  }
  return rc;
}

/* ---------------------------------------------------------------- */
/* Lookups                                                          */
/* ---------------------------------------------------------------- */

static bool account_eq(const void *ctx, uint32_t val, const void *key) {
  const rb_engine *e = ctx;
  return strcmp(e->accounts[val].id, key) == 0;
}

static bool app_eq(const void *ctx, uint32_t val, const void *key) {
  const rb_engine *e = ctx;
  return e->apps[val].id == *(const int64_t *)key;
}

static uint64_t str_hash(const char *s) {
  return rb__hash_bytes(s, strlen(s), 0);
}

static uint32_t find_account(const rb_engine *e, const char *id) {
  uint32_t v;
  if (rb__map_find(&e->account_index, str_hash(id), account_eq, e, id, &v))
    return v;
  return RB__NONE;
}

static uint32_t find_app(const rb_engine *e, int64_t id) {
  uint32_t v;
  if (rb__map_find(&e->app_index, rb__hash_u64((uint64_t)id), app_eq, e, &id,
                   &v))
    return v;
  return RB__NONE;
}

static bool package_eq(const void *ctx, uint32_t val, const void *key) {
  const rb_engine *e = ctx;
  return strcmp(e->packages[val].id, key) == 0;
}

static bool package_exists(const rb_engine *e, const char *id) {
  uint32_t v;
  return rb__map_find(&e->package_index, str_hash(id), package_eq, e, id, &v);
}

int rb__pkg_index_add(rb_engine *e, uint32_t pkg) {
  return rb__map_insert(&e->package_index, str_hash(e->packages[pkg].id), pkg);
}

/* ---------------------------------------------------------------- */
/* Service state                                                    */
/* ---------------------------------------------------------------- */

int rb__app_stop(rb_engine *e, uint32_t app, rb_stop_reason r) {
  rb__app *p = &e->apps[app];
  if (p->stops & (1u << r))
    return RB_OK;
  p->stops |= 1u << r;
  rb_notice n;
  rb__notice_init(&n, RB_N_SERVICE_STOPPED, e->accounts[p->account].id);
  n.app = p->id;
  n.reason = (int)r;
  return rb__notify(e, &n);
}

int rb__app_clear(rb_engine *e, uint32_t app, unsigned reasons) {
  rb__app *p = &e->apps[app];
  if ((p->stops & reasons) == 0)
    return RB_OK;
  p->stops &= ~reasons;
  if (p->stops != 0)
    return RB_OK;
  rb_notice n;
  rb__notice_init(&n, RB_N_SERVICE_RESUMED, e->accounts[p->account].id);
  n.app = p->id;
  return rb__notify(e, &n);
}

/* The remedies of SPEC 1.8: a package or postpaid clears these. */
#define PACKAGE_REASONS                                                      \
  ((1u << RB_STOP_TRIAL_EXHAUSTED) | (1u << RB_STOP_TRIAL_EXPIRED) |         \
   (1u << RB_STOP_NO_PACKAGE))

int rb__enable_postpaid(rb_engine *e, uint32_t app, rb_postpaid_reason why) {
  rb__app *p = &e->apps[app];
  if (p->postpaid)
    return RB_OK;
  p->postpaid = true;
  rb_notice n;
  rb__notice_init(&n, RB_N_POSTPAID_ENABLED, e->accounts[p->account].id);
  n.app = p->id;
  n.reason = (int)why;
  int rc = rb__notify(e, &n);
  if (rc != RB_OK)
    return rc;
  return rb__app_clear(e, app, PACKAGE_REASONS);
}

/* ---------------------------------------------------------------- */
/* Timers                                                           */
/* ---------------------------------------------------------------- */

int rb__timer_add(rb_engine *e, rb_time due, uint32_t kind,
                  uint64_t payload) {
  if (!e->ordered)
    return rb_timerq_add(e->timers, due, kind, payload);
  uint64_t seq = e->firing ? e->fired.seq
                           : (e->position << 16) | (e->scheduled++ & 0xFFFF);
  return rb__timerq_add_seq(e->timers, due, kind, seq, payload);
}

void rb_engine_set_position(rb_engine *e, uint64_t position) {
  e->ordered = true;
  e->position = position;
  e->scheduled = 0;
}

bool rb_engine_firing(const rb_engine *e, rb_timer *out) {
  if (e->firing && out != NULL)
    *out = e->fired;
  return e->firing;
}

static int fire_timer(rb_engine *e, const rb_timer *t) {
  uint32_t hi = (uint32_t)(t->payload >> 32), lo = (uint32_t)t->payload;
  switch (t->kind) {
  case RB__T_EXPIRY:
    return rb__pkg_expire(e, lo);
  case RB__T_ACTIVATION:
    return rb__pkg_activate(e, lo);
  case RB__T_SETTLEMENT:
    return rb__settle(e, hi, lo, t->due);
  case RB__T_GRACE:
    return rb__grace(e, hi, lo);
  case RB__T_RECLAIM:
    return rb__reclaim(e, hi, lo);
  default:
    return RB_OK;
  }
}

int rb_engine_advance(rb_engine *e, rb_time t) {
  if (e->failed)
    return RB_EPOLICY;
  if (e->now != RB_TIME_NONE && t < e->now)
    return RB_EINVAL;
  rb_timer tm;
  while (rb_timerq_pop(e->timers, t, &tm)) {
    rb_time before = e->now;
    if (tm.due > e->now || e->now == RB_TIME_NONE)
      e->now = tm.due;
    e->firing = true;
    e->fired = tm;
    int rc = fire_timer(e, &tm);
    e->firing = false;
    if (rc == RB_ENOMEM) {
      /* The handlers reserve before they change anything: put the timer
       * back in its place and let the caller retry. */
      e->now = before;
      (void)rb_timerq_restore(e->timers, &tm);
      return rc;
    }
    if (rc != RB_OK) {
      e->failed = true;
      return rc;
    }
  }
  e->now = t;
  return RB_OK;
}

rb_time rb_engine_now(const rb_engine *e) { return e->now; }

rb_time rb_engine_settle_horizon(const rb_engine *e) {
  if (e->settle_max == RB_TIME_NONE ||
      (e->now != RB_TIME_NONE && e->settle_max <= e->now))
    return RB_TIME_NONE;
  return e->settle_max;
}

const char *rb_engine_last_error(const rb_engine *e) { return e->error; }

/* ---------------------------------------------------------------- */
/* Events                                                           */
/* ---------------------------------------------------------------- */

static int create_account(rb_engine *e, const rb_event *ev) {
  int rc = rb__grow((void **)&e->accounts, &e->capaccounts, e->naccounts,
                    sizeof *e->accounts);
  if (rc != RB_OK)
    return rc;
  char *id = rb__strdup(ev->account);
  if (id == NULL)
    return RB_ENOMEM;
  uint32_t idx = e->naccounts;
  rc = rb__map_insert(&e->account_index, str_hash(id), idx);
  if (rc != RB_OK) {
    rb__free(id);
    return rc;
  }
  rb__account *a = &e->accounts[idx];
  memset(a, 0, sizeof *a);
  a->id = id;
  a->balance = ev->money;
  a->created = ev->at;
  a->first_app_at = RB_TIME_NONE;
  a->daily_from = RB_TIME_NONE;
  a->trial = RB__NONE;
  e->naccounts++;
  return RB_OK;
}

/* Inserts app into the account's list keeping ascending app ids (the
 * order of SPEC 1.4's retroactive cover). */
static int link_app(rb_engine *e, rb__account *a, uint32_t app) {
  int rc = rb__idxv_push(&a->apps, app);
  if (rc != RB_OK)
    return rc;
  uint32_t i = a->apps.n - 1;
  while (i > 0 && e->apps[a->apps.v[i - 1]].id > e->apps[app].id) {
    a->apps.v[i] = a->apps.v[i - 1];
    i--;
  }
  a->apps.v[i] = app;
  return RB_OK;
}

static int create_app(rb_engine *e, uint32_t account, const rb_event *ev) {
  rb__account *a = &e->accounts[account];
  const rb_rules_data *rd = e->rd;
  bool first = !a->has_app;
  bool trial = first && rd->trial_kind >= 0 && ev->at >= rd->trial_grant_from;
  rb_cycle cycle = a->cycle;
  char *trial_id = NULL;
  /* Ask the rule and make room for everything before changing anything,
   * so that a failure leaves no half-created app behind. */
  if (first) {
    const rb_policy *pol = rb_rules_policy(e->rules);
    rb_cycle_query q = {a->id, ev->at, rd->tariff.tz_offset};
    if (pol->cycle(pol->ctx, &q, &cycle) != RB_OK)
      return rb__policy_failed(e, "the settlement cycle rule failed");
  }
  int rc = rb__grow((void **)&e->apps, &e->capapps, e->napps, sizeof *e->apps);
  if (rc == RB_OK)
    rc = rb__map_reserve(&e->app_index, 1);
  if (rc == RB_OK)
    rc = rb__idxv_reserve(&a->apps, 1);
  if (rc == RB_OK && trial) {
    char id[RB_ID_MAX + 16];
    snprintf(id, sizeof id, "%s/trial", a->id);
    rc = rb__pkg_prepare(e, account, id, &trial_id);
  }
  if (rc != RB_OK)
    return rc;

  uint32_t idx = e->napps;
  rb__app *p = &e->apps[idx];
  memset(p, 0, sizeof *p);
  p->id = ev->app;
  p->account = account;
  p->created = ev->at;
  for (int t = 0; t < RB_MAX_TIERS; t++) {
    p->today[t].day = RB_TIME_NONE;
    p->hot[t] = RB__NONE;
  }
  (void)rb__map_insert(&e->app_index, rb__hash_u64((uint64_t)ev->app), idx);
  (void)link_app(e, a, idx);
  e->napps++;
  if (first) {
    a->has_app = true;
    a->first_app_at = ev->at;
    a->cycle = cycle;
  }
  if (trial && (rc = rb__pkg_commit(e, account, trial_id, rd->trial_kind,
                                    rd->trial_minutes, 0, ev->at,
                                    &a->trial)) != RB_OK)
    return rc;
  if (ev->postpaid) {
    rc = rb__enable_postpaid(e, idx, RB_POSTPAID_CREATION);
    if (rc != RB_OK)
      return rc;
  }
  /* SPEC 1.8: an app created while its account is stopped for arrears
   * starts stopped. */
  if (a->arrears_stopped)
    return rb__app_stop(e, idx, RB_STOP_ARREARS);
  return RB_OK;
}

/* Checks an event against the current state. Returns RB_OK, RB_EREJECT
 * (with rej), or sets *dup for a duplicate usage record. */
static int check(rb_engine *e, const rb_event *ev, rb_reject *rej,
                 uint32_t *account, uint32_t *app, bool *dup) {
  *account = *app = RB__NONE;
  *dup = false;
  switch (ev->type) {
  case RB_EV_ACCOUNT:
    if (find_account(e, ev->account) != RB__NONE)
      return rb__reject(rej, "duplicate_account", "account",
                        "account \"%.64s\" already exists", ev->account);
    return RB_OK;
  case RB_EV_APP:
  case RB_EV_PACKAGE:
  case RB_EV_TOPUP:
  case RB_EV_CHANGE_CYCLE:
    *account = find_account(e, ev->account);
    if (*account == RB__NONE)
      return rb__reject(rej, "unknown_account", "account",
                        "no account \"%.64s\" at this time", ev->account);
    break;
  default:
    *app = find_app(e, ev->app);
    if (*app == RB__NONE)
      return rb__reject(rej, "unknown_app", "app",
                        "no app %lld at this time", (long long)ev->app);
    *account = e->apps[*app].account;
    break;
  }
  rb__account *a = &e->accounts[*account];
  switch (ev->type) {
  case RB_EV_APP:
    if (find_app(e, ev->app) != RB__NONE)
      return rb__reject(rej, "duplicate_app", "app",
                        "app %lld already exists", (long long)ev->app);
    return RB_OK;
  case RB_EV_PACKAGE: {
    if (package_exists(e, ev->package))
      return rb__reject(rej, "duplicate_package", "package",
                        "package \"%.64s\" already exists", ev->package);
    int k = rb_rules_kind_index(e->rules, ev->kind);
    if (k < 0)
      return rb__reject(rej, "bad_field", "kind",
                        "unknown package kind \"%.32s\"", ev->kind);
    if (e->rd->kinds[k].granted)
      return rb__reject(rej, "bad_field", "kind",
                        "\"%.32s\" packages are granted, not bought",
                        ev->kind);
    return RB_OK;
  }
  case RB_EV_TOPUP: {
    rb_money sum;
    if (rb_money_add(a->balance, ev->money, &sum) != RB_OK)
      return rb__reject(rej, "out_of_range", "amount",
                        "the balance of account \"%.64s\" would overflow",
                        a->id);
    return RB_OK;
  }
  case RB_EV_CHANGE_CYCLE:
    if (!a->has_app)
      return rb__reject(rej, "cycle_change_not_allowed", "cycle",
                        "account \"%.64s\" has no settlement cycle yet: it "
                        "is decided when its first app is created",
                        a->id);
    if (a->cycle == RB_CYCLE_DAILY && ev->cycle == RB_CYCLE_MONTHLY)
      return rb__reject(rej, "cycle_change_not_allowed", "cycle",
                        "account \"%.64s\" is settled daily; daily to "
                        "monthly is not allowed",
                        a->id);
    return RB_OK;
  case RB_EV_DISABLE_POSTPAID:
    if (e->apps[*app].postpaid)
      return rb__reject(rej, "postpaid_irreversible", "type",
                        "postpaid of app %lld cannot be turned off once on",
                        (long long)ev->app);
    return rb__reject(rej, "postpaid_irreversible", "type",
                      "app %lld has no postpaid to turn off; postpaid, once "
                      "on, can never be turned off",
                      (long long)ev->app);
  case RB_EV_USAGE:
    if (ev->start < e->apps[*app].created)
      return rb__reject(rej, "unknown_app", "start",
                        "app %lld did not exist when the session started",
                        (long long)ev->app);
    return rb__usage_check(e, ev, rej, dup);
  default:
    return RB_OK;
  }
}

static int apply(rb_engine *e, const rb_event *ev, uint32_t account,
                 uint32_t app) {
  switch (ev->type) {
  case RB_EV_ACCOUNT:
    return create_account(e, ev);
  case RB_EV_APP:
    return create_app(e, account, ev);
  case RB_EV_PACKAGE: {
    uint32_t pkg;
    char *id;
    int rc = rb__pkg_prepare(e, account, ev->package, &id);
    if (rc != RB_OK)
      return rc;
    return rb__pkg_commit(e, account, id,
                          rb_rules_kind_index(e->rules, ev->kind),
                          ev->minutes, ev->money, ev->at, &pkg);
  }
  case RB_EV_TOPUP:
    return rb__topup(e, account, ev->money);
  case RB_EV_ENABLE_POSTPAID:
    return rb__enable_postpaid(e, app, RB_POSTPAID_CONSOLE);
  case RB_EV_CHANGE_CYCLE:
    if (ev->cycle == e->accounts[account].cycle)
      return RB_OK;
    return rb__switch_daily(e, account);
  case RB_EV_USAGE:
    return rb__usage_apply(e, ev, app);
  default:
    return RB_EINVAL;
  }
}

/* Where a lookup of h would start in m. */
static size_t map_home(const rb__map *m, uint64_t h) {
  return (size_t)h & (m->cap - 1);
}

void rb_engine_prefetch(const rb_engine *e, const rb_event *ev, int stage) {
#if defined(__GNUC__)
  if (e == NULL || ev == NULL || ev->type != RB_EV_USAGE ||
      e->app_index.cap == 0)
    return;
  /* Each stage reads only what the stage before fetched, so that none
   * waits on memory: the app's index slot and the record's strings and
   * segments (fetched, not read), then the app and the usage id's slot
   * in the large id table, then its account and the app's latest
   * accumulators, then the account's active packages. */
  size_t i = map_home(&e->app_index, rb__hash_u64((uint64_t)ev->app));
  if (stage == 0) {
    __builtin_prefetch(&e->app_index.hashes[i]);
    __builtin_prefetch(&e->app_index.vals[i]);
    __builtin_prefetch(ev->id);
    __builtin_prefetch(ev->user);
    __builtin_prefetch(ev->room);
    if (ev->nvideo > 0)
      __builtin_prefetch(ev->video);
    return;
  }
  if (stage == 1 && e->usage_cap > 0 && ev->id != NULL) {
    uint64_t h = rb__hash_bytes(ev->id, strlen(ev->id), 1);
    __builtin_prefetch(&e->usage_slots[(uint32_t)h & (e->usage_cap - 1)]);
  }
  uint32_t v = e->app_index.vals[i];
  if (v >= e->napps)
    return;
  const rb__app *p = &e->apps[v];
  if (stage == 1) {
    __builtin_prefetch(p);
    return;
  }
  if (p->account >= e->naccounts)
    return;
  const rb__account *a = &e->accounts[p->account];
  if (stage == 2) {
    __builtin_prefetch(a);
    /* Audio almost always, and the video tiers when there is video. */
    int ntiers = ev->nvideo > 0 ? e->rd->tariff.ntiers : 1;
    for (int t = 0; t < ntiers; t++)
      if (p->hot[t] < e->naccs)
        __builtin_prefetch(&e->accs[p->hot[t]]);
    return;
  }
  if (a->active.n == 0)
    return;
  if (stage == 3)
    __builtin_prefetch(a->active.v);
  else if (a->active.v[0] < e->npackages)
    __builtin_prefetch(&e->packages[a->active.v[0]]);
#else
  (void)e;
  (void)ev;
  (void)stage;
#endif
}

int rb_engine_apply(rb_engine *e, const rb_event *ev, rb_reject *rej) {
  if (e->failed)
    return RB_EPOLICY;
  e->hashed_ev = NULL; /* the caller may reuse *ev for another event */
  if (e->now != RB_TIME_NONE && ev->at < e->now)
    return RB_EINVAL;
  uint32_t account, app;
  bool dup;
  int rc = check(e, ev, rej, &account, &app, &dup);
  if (rc != RB_OK)
    return rc;
  rc = rb_engine_advance(e, ev->at);
  if (rc != RB_OK)
    return rc;
  if (dup) {
    rb_notice n;
    rb__notice_init(&n, RB_N_DUPLICATE_USAGE, e->accounts[account].id);
    n.app = ev->app;
    n.id = ev->id;
    rc = rb__notify(e, &n);
    return rc == RB_OK ? RB_DUPLICATE : rc;
  }
  rc = apply(e, ev, account, app);
  if (rc != RB_OK && rc != RB_ENOMEM) {
    /* Every allocation comes before the first change, so running out of
     * memory leaves the event unapplied (the caller may retry). A rule or
     * sink failing mid-event may leave it half-applied: the engine then
     * refuses further work rather than bill from a torn state. */
    e->failed = true;
    if (e->error[0] == '\0')
      snprintf(e->error, sizeof e->error, "%s", rb_strerror(rc));
  }
  return rc;
}

/* ---------------------------------------------------------------- */
/* Life cycle                                                       */
/* ---------------------------------------------------------------- */

int rb_engine_new(rb_rules *rules, const rb_sink *sink, rb_engine **out) {
  if (rules == NULL || out == NULL)
    return RB_EINVAL;
  rb_engine *e = rb__calloc(1, sizeof *e);
  if (e == NULL)
    return RB_ENOMEM;
  if (rb_timerq_new(&e->timers) != RB_OK ||
      (e->arena = rb_arena_new()) == NULL) {
    rb_timerq_free(e->timers);
    rb__free(e);
    return RB_ENOMEM;
  }
  e->rules = rb_rules_ref(rules);
  e->rd = rb_rules_data_get(rules);
  if (sink != NULL)
    e->sink = *sink;
  e->now = RB_TIME_NONE;
  e->settle_max = RB_TIME_NONE;
  *out = e;
  return RB_OK;
}

void rb_engine_free(rb_engine *e) {
  if (e == NULL)
    return;
  for (uint32_t i = 0; i < e->naccounts; i++) {
    rb__account *a = &e->accounts[i];
    rb__free(a->id);
    rb__idxv_free(&a->apps);
    rb__idxv_free(&a->packages);
    rb__idxv_free(&a->active);
    rb__idxv_free(&a->late);
    for (uint32_t j = 0; j < a->nperiods; j++)
      rb__idxv_free(&a->periods[j].accs);
    rb__free(a->periods);
    rb__free(a->stop_from);
    rb__free(a->stop_to);
  }
  for (uint32_t i = 0; i < e->npackages; i++)
    rb__free(e->packages[i].id);
  rb__free(e->accounts);
  rb__free(e->apps);
  rb__free(e->packages);
  rb__free(e->accs);
  rb__usage_free(e);
  rb__free(e->lines);
  rb__free(e->pieces);
  rb__free(e->plan);
  rb__free(e->steps);
  rb__free(e->info_apps);
  rb__free(e->info_pkgs);
  rb__idxv_free(&e->free_accs);
  rb__map_free(&e->account_index);
  rb__map_free(&e->app_index);
  rb__map_free(&e->package_index);
  rb__map_free(&e->acc_index);
  rb_timerq_free(e->timers);
  rb_arena_free(e->arena);
  rb_rules_unref(e->rules);
  rb__free(e);
}

/* ---------------------------------------------------------------- */
/* Changing the rules (hot reload)                                  */
/* ---------------------------------------------------------------- */

static int refuse_rules(char *err, size_t cap, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
static int refuse_rules(char *err, size_t cap, const char *fmt, ...) {
  if (err != NULL && cap > 0) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, cap, fmt, ap);
    va_end(ap);
  }
  return RB_EINVAL;
}

/* The live state keeps tier and kind indices and periods cut in the
 * billing time zone; a rule set that would give them another meaning is
 * refused (see rb_engine_set_rules). */
static int rules_compatible(const rb_engine *e, const rb_rules_data *nd,
                            char *err, size_t cap) {
  const rb_rules_data *od = e->rd;
  if (od->tariff.ntiers != nd->tariff.ntiers)
    return refuse_rules(err, cap,
                        "the new rules have %d tiers, the live engine %d: "
                        "changing the tiers needs a fresh engine",
                        nd->tariff.ntiers, od->tariff.ntiers);
  for (int t = 0; t < od->tariff.ntiers; t++)
    if (strcmp(od->tariff.tiers[t].name, nd->tariff.tiers[t].name) != 0)
      return refuse_rules(err, cap,
                          "tier %d is \"%s\" in the new rules, \"%s\" in "
                          "the live engine: changing the tiers needs a "
                          "fresh engine",
                          t + 1, nd->tariff.tiers[t].name,
                          od->tariff.tiers[t].name);
  if (strcmp(od->tariff.currency, nd->tariff.currency) != 0)
    return refuse_rules(err, cap,
                        "the currency changes from %s to %s: that needs a "
                        "fresh engine",
                        od->tariff.currency, nd->tariff.currency);
  if (od->tariff.tz_offset != nd->tariff.tz_offset)
    return refuse_rules(err, cap,
                        "the billing time zone changes: open periods were "
                        "cut in the old one, so that needs a fresh engine");
  for (uint32_t i = 0; i < e->npackages; i++) {
    const rb__package *p = &e->packages[i];
    const char *name = od->kinds[p->kind].name;
    if (p->kind >= nd->nkinds || strcmp(nd->kinds[p->kind].name, name) != 0 ||
        nd->kinds[p->kind].granted != od->kinds[p->kind].granted)
      return refuse_rules(err, cap,
                          "package \"%.64s\" is of kind \"%s\", which the "
                          "new rules do not list at place %d with the same "
                          "granted flag: that needs a fresh engine",
                          p->id, name, p->kind + 1);
  }
  return RB_OK;
}

int rb_engine_set_rules(rb_engine *e, rb_rules *rules, char *err,
                        size_t cap) {
  if (e == NULL || rules == NULL)
    return refuse_rules(err, cap, "rb_engine_set_rules: no engine or rules");
  if (e->failed) {
    refuse_rules(err, cap, "the engine has failed: %s", e->error);
    return RB_EPOLICY;
  }
  const rb_rules_data *nd = rb_rules_data_get(rules);
  int rc = rules_compatible(e, nd, err, cap);
  if (rc != RB_OK)
    return rc;
  bool changed = strcmp(e->rd->version, nd->version) != 0;
  rb_rules *old = e->rules;
  e->rules = rb_rules_ref(rules);
  e->rd = nd;
  rb_rules_unref(old);
  if (!changed || e->now == RB_TIME_NONE)
    return RB_OK;
  rb_notice n;
  rb__notice_init(&n, RB_N_RULES_RELOADED, NULL);
  n.rules = nd->version;
  return rb__notify(e, &n);
}

rb_rules *rb_engine_rules(const rb_engine *e) { return e->rules; }
