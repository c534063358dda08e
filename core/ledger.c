/* ledger.c: settlement periods, accumulators, bills, the cash balance and
 * arrears (SPEC 1.3, 1.6, 1.7, 1.9).
 *
 * An accumulator holds the seconds of one (app, tier, period) and the
 * minutes already decided from them (covered, postpaid, unbilled). Each
 * period with usage has one settlement timer; when it fires the period's
 * accumulators, plus the account's late ones, become the bill's lines,
 * are priced with the rules in force, and are released.
 *
 * Depends on: engine.h (engine.c, pool.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "engine.h"

#define DAY INT64_C(86400)

/* ---------------------------------------------------------------- */
/* Periods                                                          */
/* ---------------------------------------------------------------- */

void rb__period_of(rb_engine *e, const rb__account *a, rb_time day,
                   rb_cycle *cycle, rb_time *start, rb_time *end,
                   rb_time *due) {
  const rb_rules_data *rd = e->rd;
  int32_t tz = rd->tariff.tz_offset;
  bool daily = a->daily_from != RB_TIME_NONE ? day >= a->daily_from
                                             : a->cycle == RB_CYCLE_DAILY;
  if (daily) {
    *cycle = RB_CYCLE_DAILY;
    *start = day;
    *end = day + DAY; /* fixed offsets: every local day is 86400 s */
    *due = *end + rd->daily_issue_delay;
    return;
  }
  *cycle = RB_CYCLE_MONTHLY;
  /* The cache starts empty ([0, 0)); a time the calendar cannot handle
   * gives an empty range too, and is recomputed every time. */
  if (e->month_tz != tz || day < e->month_start || day >= e->month_end) {
    e->month_start = rb_month_start(day, tz);
    e->month_end = rb_month_add(day, 1, tz);
    e->month_tz = tz;
  }
  *start = e->month_start;
  *end = e->month_end;
  /* SPEC 1.6: after a switch to daily the open month ends at the end of
   * the switch day. */
  if (a->daily_from != RB_TIME_NONE && *end > a->daily_from)
    *end = a->daily_from;
  *due = *end + rd->monthly_issue_delay;
}

rb__period *rb__period_find(rb__account *a, rb_time start) {
  for (uint32_t i = 0; i < a->nperiods; i++)
    if (a->periods[i].start == start)
      return &a->periods[i];
  return NULL;
}

int rb__open_next_bill(rb_engine *e, uint32_t account, rb__period **out) {
  rb__account *a = &e->accounts[account];
  if (a->nperiods > 0) {
    *out = &a->periods[0];
    return RB_OK;
  }
  /* SPEC 1.9: with no bill pending, late minutes go on the bill of the
   * open period, issued all the same. */
  rb_cycle cycle;
  rb_time start, end, due;
  rb__period_of(e, a, rb_day_start(e->now, e->rd->tariff.tz_offset), &cycle,
                &start, &end, &due);
  return rb__period_open(e, account, cycle, start, end, due, out);
}

static rb__period *find_period(rb__account *a, uint32_t id) {
  for (uint32_t i = 0; i < a->nperiods; i++)
    if (a->periods[i].id == id)
      return &a->periods[i];
  return NULL;
}

static int schedule(rb_engine *e, uint32_t account, const rb__period *p) {
  int rc = rb__timer_add(e, p->due, RB__T_SETTLEMENT,
                         ((uint64_t)account << 32) | p->id);
  if (rc == RB_OK &&
      (e->settle_max == RB_TIME_NONE || p->due > e->settle_max))
    e->settle_max = p->due;
  return rc;
}

int rb__period_open(rb_engine *e, uint32_t account, rb_cycle cycle,
                    rb_time start, rb_time end, rb_time due,
                    rb__period **out) {
  rb__account *a = &e->accounts[account];
  uint32_t i = 0;
  for (; i < a->nperiods && a->periods[i].start <= start; i++) {
    if (a->periods[i].start == start) {
      *out = &a->periods[i];
      return RB_OK;
    }
  }
  int rc = rb__grow((void **)&a->periods, &a->capperiods, a->nperiods,
                    sizeof *a->periods);
  if (rc != RB_OK)
    return rc;
  rb__period p = {a->next_period_id, cycle, start, end, due, {0}};
  /* Reserve before scheduling: a failed reserve leaves no timer. */
  if ((rc = rb_timerq_reserve(e->timers, 1)) != RB_OK)
    return rc;
  schedule(e, account, &p);
  a->next_period_id++;
  memmove(&a->periods[i + 1], &a->periods[i],
          (a->nperiods - i) * sizeof *a->periods);
  a->periods[i] = p;
  a->nperiods++;
  *out = &a->periods[i];
  return RB_OK;
}

void rb__recompute_settle_max(rb_engine *e) {
  e->settle_max = RB_TIME_NONE;
  for (uint32_t i = 0; i < e->naccounts; i++)
    for (uint32_t j = 0; j < e->accounts[i].nperiods; j++)
      if (e->settle_max == RB_TIME_NONE ||
          e->accounts[i].periods[j].due > e->settle_max)
        e->settle_max = e->accounts[i].periods[j].due;
}

int rb__switch_daily(rb_engine *e, uint32_t account) {
  rb__account *a = &e->accounts[account];
  const rb_rules_data *rd = e->rd;
  int rc = rb_timerq_reserve(e->timers, a->nperiods);
  if (rc != RB_OK)
    return rc;
  a->daily_from = rb_day_start(e->now, rd->tariff.tz_offset) + DAY;
  a->cycle = RB_CYCLE_DAILY;
  /* Close the open month at the end of today; its old timer goes stale
   * (settlement checks the due time it was scheduled for). */
  for (uint32_t i = 0; i < a->nperiods; i++) {
    rb__period *p = &a->periods[i];
    if (p->cycle == RB_CYCLE_MONTHLY && p->end > a->daily_from) {
      p->end = a->daily_from;
      p->due = p->end + rd->monthly_issue_delay;
      schedule(e, account, p); /* reserved above */
    }
  }
  rb__recompute_settle_max(e);
  return RB_OK;
}

/* ---------------------------------------------------------------- */
/* Accumulators                                                     */
/* ---------------------------------------------------------------- */

typedef struct acc_key {
  uint32_t app;
  int tier;
  bool late;
  rb_time period;
} acc_key;

static uint64_t acc_hash(const acc_key *k) {
  uint64_t h = rb__hash_u64(((uint64_t)k->app << 8) | (uint64_t)k->tier |
                            ((uint64_t)k->late << 7));
  return rb__hash_u64(h ^ (uint64_t)k->period);
}

static bool acc_eq(const void *ctx, uint32_t val, const void *key) {
  const rb_engine *e = ctx;
  const rb__acc *a = &e->accs[val];
  const acc_key *k = key;
  return a->live && a->app == k->app && a->tier == k->tier &&
         a->late == k->late && a->period == k->period;
}

bool rb__acc_find(const rb_engine *e, uint32_t app, int tier, bool late,
                  rb_time period, uint32_t *out) {
  acc_key k = {app, tier, late, period};
  return rb__map_find(&e->acc_index, acc_hash(&k), acc_eq, e, &k, out);
}

int rb__acc_get(rb_engine *e, uint32_t account, uint32_t app, int tier,
                bool late, rb_time period, uint32_t *out) {
  acc_key k = {app, tier, late, period};
  uint64_t h = acc_hash(&k);
  if (rb__map_find(&e->acc_index, h, acc_eq, e, &k, out))
    return RB_OK;
  rb__account *a = &e->accounts[account];
  rb__idxv *list;
  if (late) {
    list = &a->late;
  } else {
    rb__period *p = rb__period_find(a, period);
    if (p == NULL)
      return RB_EINVAL; /* the caller opens the period first */
    list = &p->accs;
  }
  uint32_t idx;
  int rc;
  if (e->free_accs.n > 0) {
    idx = e->free_accs.v[e->free_accs.n - 1];
  } else {
    rc = rb__grow((void **)&e->accs, &e->capaccs, e->naccs, sizeof *e->accs);
    if (rc != RB_OK)
      return rc;
    idx = e->naccs;
  }
  if ((rc = rb__idxv_push(list, idx)) != RB_OK)
    return rc;
  if ((rc = rb__map_insert(&e->acc_index, h, idx)) != RB_OK) {
    list->n--;
    return rc;
  }
  if (e->free_accs.n > 0 && e->free_accs.v[e->free_accs.n - 1] == idx)
    e->free_accs.n--;
  else
    e->naccs++;
  if (++e->live_accs > e->peak_accs)
    e->peak_accs = e->live_accs;
  rb__acc *acc = &e->accs[idx];
  memset(acc, 0, sizeof *acc);
  acc->app = app;
  acc->tier = (uint8_t)tier;
  acc->late = late;
  acc->live = true;
  acc->period = period;
  acc->account = account;
  *out = idx;
  return RB_OK;
}

int rb__trace(rb_engine *e, rb_trace *t, uint32_t acc) {
  if (e->sink.trace == NULL || acc == RB__NONE)
    return RB_OK;
  const rb__acc *a = &e->accs[acc];
  t->at = e->now;
  t->account = e->accounts[a->account].id;
  t->app = e->apps[a->app].id;
  t->tier = a->tier;
  t->late = a->late;
  t->period = a->period;
  int rc = e->sink.trace(e->sink.ctx, t);
  if (rc != 0) {
    e->failed = true;
    snprintf(e->error, sizeof e->error, "the trace sink failed (%d)", rc);
  }
  return rc;
}

static void acc_release(rb_engine *e, uint32_t idx) {
  rb__acc *acc = &e->accs[idx];
  acc_key k = {acc->app, acc->tier, acc->late, acc->period};
  rb__map_remove(&e->acc_index, acc_hash(&k), acc_eq, e, &k);
  acc->live = false;
  e->live_accs--;
  /* rb__settle reserved room on the free list. */
  (void)rb__idxv_push(&e->free_accs, idx);
}

/* ---------------------------------------------------------------- */
/* Bills                                                            */
/* ---------------------------------------------------------------- */

static int line_cmp(const void *x, const void *y) {
  const rb_bill_line *a = x, *b = y;
  if (a->app != b->app)
    return a->app < b->app ? -1 : 1;
  if (a->tier != b->tier)
    return a->tier < b->tier ? -1 : 1;
  if (a->late != b->late)
    return a->late ? 1 : -1;
  return (a->origin > b->origin) - (a->origin < b->origin);
}

static int add_line(rb_engine *e, size_t *n, uint32_t idx) {
  const rb__acc *acc = &e->accs[idx];
  if (acc->minutes == 0)
    return RB_OK; /* SPEC 3.3: tiers without minutes get no line */
  rb_bill_line *l = &e->lines[(*n)++];
  l->app = e->apps[acc->app].id;
  l->tier = acc->tier;
  l->late = acc->late;
  l->origin = acc->late ? acc->period : RB_TIME_NONE;
  l->minutes = acc->minutes;
  l->covered = acc->covered;
  l->postpaid = acc->postpaid;
  l->unbilled = acc->unbilled;
  /* List prices are per 1000 minutes: amount = postpaid x price / 1000,
   * exact at 1e-8 for any price with up to 5 decimals, else half-up. */
  return rb_money_muldiv(acc->postpaid,
                         e->rd->tariff.tiers[acc->tier].price_per_1000, 1000,
                         &l->amount);
}

static int overflow(rb_engine *e, const rb__account *a) {
  e->failed = true;
  snprintf(e->error, sizeof e->error,
           "money overflow on the bill of account \"%.64s\"", a->id);
  return RB_EOVERFLOW;
}

static int arrears_begin(rb_engine *e, uint32_t account) {
  rb__account *a = &e->accounts[account];
  a->in_arrears = true;
  a->arrears_epoch++;
  /* rb__settle reserved room for this timer. */
  (void)rb__timer_add(e, e->now + e->rd->grace_seconds, RB__T_GRACE,
                      ((uint64_t)account << 32) | a->arrears_epoch);
  rb_notice n;
  rb__notice_init(&n, RB_N_ARREARS_NOTICE, a->id);
  n.balance = a->balance;
  return rb__notify(e, &n);
}

static void close_period(rb__account *a, rb__period *p) {
  rb__idxv_free(&p->accs);
  uint32_t at = (uint32_t)(p - a->periods);
  memmove(&a->periods[at], &a->periods[at + 1],
          (a->nperiods - at - 1) * sizeof *a->periods);
  a->nperiods--;
}

int rb__settle(rb_engine *e, uint32_t account, uint32_t period_id,
               rb_time due) {
  rb__account *a = &e->accounts[account];
  rb__period *p = find_period(a, period_id);
  if (p == NULL || p->due != due)
    return RB_OK; /* rescheduled by a cycle switch */
  uint32_t nacc = p->accs.n + a->late.n;
  if (nacc == 0) {
    /* Opened for a record that then failed for want of memory: no usage,
     * no bill (SPEC 1.6 bills periods with usage). */
    close_period(a, p);
    return RB_OK;
  }
  /* Everything the bill needs, reserved before anything changes. */
  int rc = rb__reserve((void **)&e->lines, &e->caplines, nacc,
                       sizeof *e->lines);
  if (rc == RB_OK)
    rc = rb__idxv_reserve(&e->free_accs, nacc);
  if (rc == RB_OK)
    rc = rb_timerq_reserve(e->timers, 1); /* an arrears grace timer */
  if (rc != RB_OK)
    return rc;
  size_t n = 0;
  for (uint32_t i = 0; i < p->accs.n && rc == RB_OK; i++)
    rc = add_line(e, &n, p->accs.v[i]);
  for (uint32_t i = 0; i < a->late.n && rc == RB_OK; i++)
    rc = add_line(e, &n, a->late.v[i]);
  if (rc == RB_EOVERFLOW)
    return overflow(e, a);
  if (rc != RB_OK)
    return rc;
  qsort(e->lines, n, sizeof *e->lines, line_cmp);

  rb_money sum = 0, total, diff, balance;
  for (size_t i = 0; i < n; i++)
    if (rb_money_add(sum, e->lines[i].amount, &sum) != RB_OK)
      return overflow(e, a);
  if (rb_money_round(sum, e->rd->tariff.total_unit, &total) != RB_OK ||
      rb_money_sub(total, sum, &diff) != RB_OK ||
      rb_money_sub(a->balance, total, &balance) != RB_OK)
    return overflow(e, a);

  /* The bill's id, account/date: one per bill, so joined by hand rather
   * than by snprintf (ids are at most RB_ID_MAX bytes, dates 10). */
  char id[RB_ID_MAX + 16];
  size_t idlen = strlen(a->id);
  if (idlen > RB_ID_MAX)
    idlen = RB_ID_MAX;
  memcpy(id, a->id, idlen);
  id[idlen] = '/';
  if (rb_date_format(p->start, e->rd->tariff.tz_offset,
                     p->cycle == RB_CYCLE_DAILY, id + idlen + 1,
                     sizeof id - idlen - 1) < 0)
    id[idlen + 1] = '\0';
  a->balance = balance;
  rb_bill bill = {
      .id = id,
      .account = a->id,
      .cycle = p->cycle,
      .period_start = p->start,
      .period_end = p->end,
      .issued_at = e->now,
      .tariff = &e->rd->tariff,
      .rules_version = e->rd->version,
      .nlines = n,
      .lines = e->lines,
      .total = total,
      .precision_diff = diff,
      .balance_after = balance,
      .arrears = balance < 0,
  };
  if (e->sink.bill != NULL && (rc = e->sink.bill(e->sink.ctx, &bill)) != 0) {
    e->failed = true;
    snprintf(e->error, sizeof e->error, "the bill sink failed (%d)", rc);
    return rc;
  }
  rb_notice note;
  rb__notice_init(&note, RB_N_BILL_ISSUED, a->id);
  note.bill = id;
  note.total = total;
  if ((rc = rb__notify(e, &note)) != RB_OK)
    return rc;

  for (uint32_t i = 0; i < p->accs.n + a->late.n && e->sink.trace; i++) {
    rb_trace t = {.type = RB_TRACE_BILLED, .bill = id};
    uint32_t acc = i < p->accs.n ? p->accs.v[i] : a->late.v[i - p->accs.n];
    if ((rc = rb__trace(e, &t, acc)) != RB_OK)
      return rc;
  }

  /* Release what the bill consumed; late accumulators start again from
   * zero (SPEC 1.9). */
  for (uint32_t i = 0; i < p->accs.n; i++)
    acc_release(e, p->accs.v[i]);
  for (uint32_t i = 0; i < a->late.n; i++)
    acc_release(e, a->late.v[i]);
  a->late.n = 0;
  close_period(a, p);

  if (balance < 0 && !a->in_arrears)
    return arrears_begin(e, account);
  return RB_OK;
}

/* ---------------------------------------------------------------- */
/* Balance and arrears                                              */
/* ---------------------------------------------------------------- */

bool rb__stopped_for_arrears_at(const rb__account *a, rb_time t) {
  for (uint32_t i = 0; i < a->nstops; i++)
    if (a->stop_from[i] <= t && t < a->stop_to[i])
      return true;
  return false;
}

int rb__grace(rb_engine *e, uint32_t account, uint32_t epoch) {
  rb__account *a = &e->accounts[account];
  if (epoch != a->arrears_epoch || !a->in_arrears || a->arrears_stopped)
    return RB_OK;
  uint32_t cap = a->capstops;
  int rc = rb__grow((void **)&a->stop_from, &cap, a->nstops,
                    sizeof *a->stop_from);
  if (rc == RB_OK)
    rc = rb__grow((void **)&a->stop_to, &a->capstops, a->nstops,
                  sizeof *a->stop_to);
  if (rc == RB_OK)
    rc = rb_timerq_reserve(e->timers, 1);
  if (rc != RB_OK)
    return rc;
  a->stop_from[a->nstops] = e->now;
  a->stop_to[a->nstops] = INT64_MAX;
  a->nstops++;
  a->arrears_stopped = true;
  /* SPEC 1.7: every app stops, even with package minutes left. */
  (void)rb__timer_add(e, e->now + e->rd->reclaim_seconds,
                      RB__T_RECLAIM, ((uint64_t)account << 32) | epoch);
  for (uint32_t i = 0; i < a->apps.n; i++)
    if ((rc = rb__app_stop(e, a->apps.v[i], RB_STOP_ARREARS)) != RB_OK)
      return rc;
  return RB_OK;
}

int rb__reclaim(rb_engine *e, uint32_t account, uint32_t epoch) {
  rb__account *a = &e->accounts[account];
  if (epoch != a->arrears_epoch || !a->arrears_stopped || a->reclaimed)
    return RB_OK;
  a->reclaimed = true;
  int64_t forfeited;
  int rc = rb__clear_packages(e, account, &forfeited);
  if (rc != RB_OK)
    return rc;
  rb_notice n;
  rb__notice_init(&n, RB_N_ACCOUNT_RECLAIMED, a->id);
  n.forfeited = forfeited;
  return rb__notify(e, &n);
}

int rb__topup(rb_engine *e, uint32_t account, rb_money amount) {
  rb__account *a = &e->accounts[account];
  if (rb_money_add(a->balance, amount, &a->balance) != RB_OK)
    return RB_EOVERFLOW; /* checked before the event was accepted */
  if (!a->in_arrears || a->balance < 0)
    return RB_OK;
  a->in_arrears = false;
  a->arrears_epoch++; /* cancels the grace and reclaim timers */
  rb_notice n;
  rb__notice_init(&n, RB_N_ARREARS_CLEARED, a->id);
  n.balance = a->balance;
  int rc = rb__notify(e, &n);
  if (rc != RB_OK || !a->arrears_stopped || a->reclaimed)
    return rc; /* after a reclaim the account stays stopped for good */
  a->arrears_stopped = false;
  a->stop_to[a->nstops - 1] = e->now;
  for (uint32_t i = 0; i < a->apps.n; i++)
    if ((rc = rb__app_clear(e, a->apps.v[i], 1u << RB_STOP_ARREARS)) !=
        RB_OK)
      return rc;
  return RB_OK;
}
