/* pool.c: prepaid package pools (SPEC 1.4, 1.5): purchase and trial
 * grant, activation with the same-day retroactive cover, deduction in
 * whole tier-minutes in the rules' order, exhaustion, expiry and
 * forfeiture, and the exhaustion policy that decides between postpaid
 * and stopping an app when cover runs out.
 *
 * Depends on: engine.h (engine.c for service state, ledger.c for the
 * accumulators the retroactive cover corrects).
 */
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "engine.h"

/* ---------------------------------------------------------------- */
/* Deduction order                                                  */
/* ---------------------------------------------------------------- */

static int cmp_time(rb_time a, rb_time b) { return (a > b) - (a < b); }

/* < 0 when package x is deducted before y, per the rules' order keys;
 * creation order breaks any remaining tie so the order is total. */
static int order(const rb_engine *e, uint32_t x, uint32_t y) {
  const rb__package *p = &e->packages[x], *q = &e->packages[y];
  for (int i = 0; i < e->rd->norder; i++) {
    int c = 0;
    switch (e->rd->order[i]) {
    case RB_ORDER_GRANTED_FIRST:
      c = (int)q->granted - (int)p->granted;
      break;
    case RB_ORDER_EARLIEST_EXPIRY:
      c = cmp_time(p->expires, q->expires);
      break;
    case RB_ORDER_EARLIEST_PURCHASE:
      c = cmp_time(p->purchased, q->purchased);
      break;
    case RB_ORDER_ID:
      c = strcmp(p->id, q->id);
      break;
    default:
      break;
    }
    if (c != 0)
      return c;
  }
  return (x > y) - (x < y);
}

static int active_insert(rb_engine *e, rb__account *a, uint32_t pkg) {
  int rc = rb__idxv_push(&a->active, pkg);
  if (rc != RB_OK)
    return rc;
  uint32_t i = a->active.n - 1;
  while (i > 0 && order(e, a->active.v[i - 1], pkg) > 0) {
    a->active.v[i] = a->active.v[i - 1];
    i--;
  }
  a->active.v[i] = pkg;
  return RB_OK;
}

static void active_remove(rb__account *a, uint32_t pkg) {
  for (uint32_t i = 0; i < a->active.n; i++) {
    if (a->active.v[i] == pkg) {
      memmove(&a->active.v[i], &a->active.v[i + 1],
              (a->active.n - i - 1) * sizeof *a->active.v);
      a->active.n--;
      return;
    }
  }
}

/* ---------------------------------------------------------------- */
/* The exhaustion policy                                            */
/* ---------------------------------------------------------------- */

rb_trial_state rb__trial_state(const rb_engine *e, const rb__account *a) {
  if (a->trial == RB__NONE)
    return RB_TRIAL_NONE;
  switch (e->packages[a->trial].state) {
  case RB__PKG_ACTIVE:
  case RB__PKG_PENDING:
    return RB_TRIAL_ACTIVE;
  case RB__PKG_EXHAUSTED:
    return RB_TRIAL_EXHAUSTED;
  default:
    return RB_TRIAL_EXPIRED;
  }
}

int rb__decide(rb_engine *e, uint32_t app, rb_trigger trigger,
               const char *kind, int tier) {
  rb__app *p = &e->apps[app];
  rb__account *a = &e->accounts[p->account];
  const rb_policy *pol = rb_rules_policy(e->rules);
  rb_exhaustion_query q = {
      .account = a->id,
      .app = p->id,
      .at = e->now,
      .trigger = trigger,
      .package_kind = kind,
      .tier = tier >= 0 ? e->rd->tariff.tiers[tier].name : NULL,
      .bought_package = a->bought_package,
      .trial = rb__trial_state(e, a),
  };
  rb_exhaustion_decision d;
  if (pol->exhaustion(pol->ctx, &q, &d) != RB_OK)
    return rb__policy_failed(e, "the exhaustion rule failed");
  if (d.action == RB_DECIDE_POSTPAID) {
    /* SPEC 1.5 (3): automatic postpaid covers every app of the account. */
    for (uint32_t i = 0; i < a->apps.n; i++) {
      int rc = rb__enable_postpaid(e, a->apps.v[i], RB_POSTPAID_AUTO);
      if (rc != RB_OK)
        return rc;
    }
    return RB_OK;
  }
  if (d.action != RB_DECIDE_STOP || d.reason < 0 ||
      d.reason >= RB_STOP_ARREARS) {
    e->failed = true;
    strcpy(e->error, "the exhaustion rule returned an invalid decision");
    return RB_EPOLICY;
  }
  return rb__app_stop(e, app, d.reason);
}

/* SPEC 1.5: when a package is used up or expires and no active package
 * has minutes left, the policy is asked at that moment for each app that
 * runs without postpaid, so the service stops (or postpaid switches on)
 * then and not at the next usage. */
static int after_loss(rb_engine *e, uint32_t account, rb_trigger trigger,
                      const char *kind) {
  rb__account *a = &e->accounts[account];
  if (a->active.n > 0)
    return RB_OK;
  for (uint32_t i = 0; i < a->apps.n; i++) {
    rb__app *p = &e->apps[a->apps.v[i]];
    if (p->postpaid || p->stops != 0)
      continue;
    int rc = rb__decide(e, a->apps.v[i], trigger, kind, -1);
    if (rc != RB_OK)
      return rc;
  }
  return RB_OK;
}

static int exhaust(rb_engine *e, uint32_t pkg) {
  rb__package *p = &e->packages[pkg];
  p->state = RB__PKG_EXHAUSTED;
  active_remove(&e->accounts[p->account], pkg);
  rb_notice n;
  rb__notice_init(&n, RB_N_PACKAGE_EXHAUSTED, e->accounts[p->account].id);
  n.package = p->id;
  return rb__notify(e, &n);
}

/* ---------------------------------------------------------------- */
/* Purchase, activation, expiry                                     */
/* ---------------------------------------------------------------- */

int rb__pkg_prepare(rb_engine *e, uint32_t account, const char *id,
                    char **idcopy) {
  rb__account *a = &e->accounts[account];
  char *copy = rb__strdup(id);
  int rc = copy ? RB_OK : RB_ENOMEM;
  if (rc == RB_OK)
    rc = rb__grow((void **)&e->packages, &e->cappackages, e->npackages,
                  sizeof *e->packages);
  if (rc == RB_OK)
    rc = rb__map_reserve(&e->package_index, 1);
  if (rc == RB_OK)
    rc = rb__idxv_reserve(&a->packages, 1);
  if (rc == RB_OK)
    rc = rb__idxv_reserve(&a->active, 1);
  if (rc == RB_OK)
    rc = rb_timerq_reserve(e->timers, 2); /* expiry and activation */
  if (rc != RB_OK) {
    rb__free(copy);
    return rc;
  }
  *idcopy = copy;
  return RB_OK;
}

void rb__pkg_unprepare(char *idcopy) { rb__free(idcopy); }

int rb__pkg_commit(rb_engine *e, uint32_t account, char *idcopy, int kind,
                   int64_t minutes, rb_money price, rb_time at,
                   uint32_t *out) {
  const rb_rules_data *rd = e->rd;
  rb__account *a = &e->accounts[account];
  uint32_t idx = e->npackages;
  rb__package *p = &e->packages[idx];
  memset(p, 0, sizeof *p);
  p->id = idcopy;
  p->account = account;
  p->kind = kind;
  p->granted = rd->kinds[kind].granted;
  p->minutes = p->remaining = minutes;
  p->price = price;
  p->purchased = at;
  /* Valid to the last day of the purchase month `validity_months` later:
   * i.e. until the start of the month after that (SPEC 1.4). */
  p->expires = rb_month_add(at, rd->validity_months + 1, rd->tariff.tz_offset);
  p->activates = p->granted ? at : at + rd->activation_delay;
  p->state = RB__PKG_PENDING;
  /* rb__pkg_prepare made room for all of these: none can fail. */
  (void)rb__pkg_index_add(e, idx);
  (void)rb__idxv_push(&a->packages, idx);
  e->npackages++;
  *out = idx;
  (void)rb__timer_add(e, p->expires, RB__T_EXPIRY, idx);
  if (!p->granted) {
    a->bought_package = true;
    (void)rb__timer_add(e, p->activates, RB__T_ACTIVATION, idx);
    return RB_OK;
  }
  /* A trial is active from its grant (SPEC 1.10). */
  p->state = RB__PKG_ACTIVE;
  (void)active_insert(e, a, idx);
  rb_notice n;
  rb__notice_init(&n, RB_N_TRIAL_GRANTED, a->id);
  n.package = p->id;
  return rb__notify(e, &n);
}

/* Converts up to *room package minutes' worth of `*from` minutes of one
 * (app, tier) into covered ones, in whole tier-minutes. */
static int64_t convert(rb__acc *acc, int64_t *from_acc, int64_t *from_today,
                       int64_t factor, int64_t *room) {
  int64_t n = *from_today;
  if (n > *room / factor)
    n = *room / factor;
  if (n > *from_acc)
    n = *from_acc; /* never more than the accumulator still holds */
  *from_acc -= n;
  *from_today -= n;
  acc->covered += n;
  *room -= n * factor;
  return n;
}

/* SPEC 1.4/1.10: on activation the package covers the minutes of the
 * activation day that nothing covered yet, apps in ascending id order and
 * tiers in tariff order; all postpaid minutes are converted before any
 * unbilled ones (the customer is spared charges first). */
static int retro_cover(rb_engine *e, uint32_t pkg) {
  rb__package *p = &e->packages[pkg];
  rb__account *a = &e->accounts[p->account];
  const rb_rules_data *rd = e->rd;
  rb_time day = rb_day_start(e->now, rd->tariff.tz_offset);
  for (int pass = 0; pass < 2 && p->remaining > 0; pass++) {
    for (uint32_t i = 0; i < a->apps.n; i++) {
      rb__app *ap = &e->apps[a->apps.v[i]];
      for (int t = 0; t < rd->tariff.ntiers; t++) {
        rb__today *td = &ap->today[t];
        if (td->day != day || td->acc == RB__NONE)
          continue;
        rb__acc *acc = &e->accs[td->acc];
        if (!acc->live)
          continue;
        int64_t f = rd->kinds[p->kind].factors[t];
        int64_t n =
            pass == 0
                ? convert(acc, &acc->postpaid, &td->postpaid, f, &p->remaining)
                : convert(acc, &acc->unbilled, &td->unbilled, f, &p->remaining);
        if (n > 0 && e->sink.trace != NULL) {
          rb_trace tr = {.type = RB_TRACE_RETRO, .minutes = n,
                         .package = p->id, .factor = f, .postpaid = pass == 0};
          int rc = rb__trace(e, &tr, td->acc);
          if (rc != RB_OK)
            return rc;
        }
      }
    }
  }
  if (p->remaining > 0)
    return RB_OK;
  int rc = exhaust(e, pkg);
  if (rc != RB_OK)
    return rc;
  return after_loss(e, p->account, RB_TRIGGER_EXHAUSTED,
                    rd->kinds[p->kind].name);
}

/* The remedies of SPEC 1.8 that an activated package brings. */
#define PACKAGE_REASONS                                                      \
  ((1u << RB_STOP_TRIAL_EXHAUSTED) | (1u << RB_STOP_TRIAL_EXPIRED) |         \
   (1u << RB_STOP_NO_PACKAGE))

int rb__pkg_activate(rb_engine *e, uint32_t pkg) {
  rb__package *p = &e->packages[pkg];
  if (p->state != RB__PKG_PENDING)
    return RB_OK; /* cleared by a reclaim before it activated */
  rb__account *a = &e->accounts[p->account];
  int rc = active_insert(e, a, pkg); /* the only allocation, done first */
  if (rc != RB_OK)
    return rc;
  p->state = RB__PKG_ACTIVE;
  rb_notice n;
  rb__notice_init(&n, RB_N_PACKAGE_ACTIVATED, a->id);
  n.package = p->id;
  if ((rc = rb__notify(e, &n)) != RB_OK)
    return rc;
  for (uint32_t i = 0; i < a->apps.n; i++)
    if ((rc = rb__app_clear(e, a->apps.v[i], PACKAGE_REASONS)) != RB_OK)
      return rc;
  return retro_cover(e, pkg);
}

int rb__pkg_expire(rb_engine *e, uint32_t pkg) {
  rb__package *p = &e->packages[pkg];
  if (p->state != RB__PKG_ACTIVE && p->state != RB__PKG_PENDING)
    return RB_OK; /* used up (not noticed again, SPEC 1.10) or cleared */
  rb__account *a = &e->accounts[p->account];
  int64_t forfeited = p->remaining;
  p->remaining = 0;
  p->state = RB__PKG_EXPIRED;
  active_remove(a, pkg);
  rb_notice n;
  rb__notice_init(&n, RB_N_PACKAGE_EXPIRED, a->id);
  n.package = p->id;
  n.forfeited = forfeited;
  int rc = rb__notify(e, &n);
  if (rc != RB_OK)
    return rc;
  return after_loss(e, p->account, RB_TRIGGER_EXPIRED,
                    e->rd->kinds[p->kind].name);
}

int rb__clear_packages(rb_engine *e, uint32_t account, int64_t *forfeited) {
  rb__account *a = &e->accounts[account];
  *forfeited = 0;
  for (uint32_t i = 0; i < a->packages.n; i++) {
    rb__package *p = &e->packages[a->packages.v[i]];
    if (p->state == RB__PKG_ACTIVE || p->state == RB__PKG_PENDING) {
      *forfeited += p->remaining;
      p->remaining = 0;
      p->state = RB__PKG_CLEARED;
    }
  }
  a->active.n = 0;
  return RB_OK;
}

/* ---------------------------------------------------------------- */
/* Cover                                                            */
/* ---------------------------------------------------------------- */

int rb__cover(rb_engine *e, uint32_t account, uint32_t acc, int tier,
              int64_t need, int64_t *covered) {
  rb__account *a = &e->accounts[account];
  *covered = 0;
  if (a->active.n == 0)
    return RB_OK; /* the usual postpaid account: nothing to look at */
  const rb_rules_data *rd = e->rd;
  const char *lost = NULL;
  uint32_t i = 0;
  while (need > 0 && i < a->active.n) {
    uint32_t pkg = a->active.v[i];
    rb__package *p = &e->packages[pkg];
    int64_t f = rd->kinds[p->kind].factors[tier];
    /* Whole tier-minutes only: a remainder below the factor stays for
     * lower tiers (SPEC 1.4). */
    int64_t n = p->remaining / f;
    if (n > need)
      n = need;
    p->remaining -= n * f;
    need -= n;
    *covered += n;
    if (n > 0 && e->sink.trace != NULL) {
      rb_trace t = {.type = RB_TRACE_COVER, .minutes = n, .package = p->id,
                    .factor = f};
      int rc = rb__trace(e, &t, acc);
      if (rc != RB_OK)
        return rc;
    }
    if (p->remaining == 0) {
      int rc = exhaust(e, pkg); /* removes it from a->active */
      if (rc != RB_OK)
        return rc;
      lost = rd->kinds[p->kind].name;
    } else {
      i++;
    }
  }
  if (lost != NULL)
    return after_loss(e, account, RB_TRIGGER_EXHAUSTED, lost);
  return RB_OK;
}
