/* fixture.c: the C tests' default rules and stub policy (fixture.h).
 *
 * Depends on: rtcbill.h, cmocka (to fail a test that cannot build them).
 */
#include "fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

/* 2020-09-01T00:00:00+08:00: first apps from then on settle daily. */
#define DAILY_FROM INT64_C(1598889600)

static int stub_cycle(void *ctx, const rb_cycle_query *q, rb_cycle *out) {
  fixture_policy *p = ctx;
  if (p != NULL)
    p->cycle_calls++;
  *out = q->first_app_at < DAILY_FROM ? RB_CYCLE_MONTHLY : RB_CYCLE_DAILY;
  return RB_OK;
}

static int stub_exhaustion(void *ctx, const rb_exhaustion_query *q,
                           rb_exhaustion_decision *out) {
  fixture_policy *p = ctx;
  if (p != NULL) {
    p->exhaustion_calls++;
    if (p->fail_exhaustion)
      return RB_EPOLICY;
  }
  if (q->bought_package) {
    out->action = RB_DECIDE_POSTPAID;
    return RB_OK;
  }
  out->action = RB_DECIDE_STOP;
  out->reason = q->trial == RB_TRIAL_EXPIRED ? RB_STOP_TRIAL_EXPIRED
                : q->trial == RB_TRIAL_NONE  ? RB_STOP_NO_PACKAGE
                                             : RB_STOP_TRIAL_EXHAUSTED;
  return RB_OK;
}

static const char *stub_error(void *ctx) {
  (void)ctx;
  return "stub.lua:1: failed on purpose";
}

void fixture_rules_data(rb_rules_data *d) {
  static const char *const names[4] = {"audio", "SD", "HD", "HD+"};
  static const int64_t px[4] = {0, 307200, 921600, INT64_MAX};
  static const rb_money price[4] = {700000000, 1400000000, 2800000000,
                                    10500000000};
  static const int64_t general[4] = {1, 2, 4, 15};
  memset(d, 0, sizeof *d);
  strcpy(d->tariff.currency, "CNY");
  d->tariff.tz_offset = FIXTURE_TZ;
  d->tariff.video_mode = RB_VIDEO_PER_STREAM;
  d->tariff.total_unit = 1000000; /* 0.01 */
  d->tariff.ntiers = 4;
  for (int i = 0; i < 4; i++) {
    strcpy(d->tariff.tiers[i].name, names[i]);
    d->tariff.tiers[i].max_pixels = px[i];
    d->tariff.tiers[i].price_per_1000 = price[i];
    d->kinds[0].factors[i] = 1;
    d->kinds[1].factors[i] = general[i];
  }
  d->nkinds = 2;
  strcpy(d->kinds[0].name, "trial");
  d->kinds[0].granted = true;
  strcpy(d->kinds[1].name, "general");
  d->trial_kind = 0;
  d->trial_minutes = 10000;
  d->trial_grant_from = 1570723200; /* 2019-10-11T00:00:00+08:00 */
  d->activation_delay = 300;
  d->validity_months = 12;
  d->norder = 4;
  d->order[0] = RB_ORDER_GRANTED_FIRST;
  d->order[1] = RB_ORDER_EARLIEST_EXPIRY;
  d->order[2] = RB_ORDER_EARLIEST_PURCHASE;
  d->order[3] = RB_ORDER_ID;
  d->daily_issue_delay = 36000;
  d->monthly_issue_delay = 36000;
  d->grace_seconds = 86400;
  d->reclaim_seconds = 60 * 86400;
  strcpy(d->version, "test");
}

rb_policy fixture_policy_make(fixture_policy *ctx) {
  return (rb_policy){ctx, stub_cycle, stub_exhaustion, stub_error, NULL};
}

rb_rules *fixture_rules(fixture_policy *ctx) {
  rb_rules_data d;
  fixture_rules_data(&d);
  rb_policy p = fixture_policy_make(ctx);
  rb_rules *r = NULL;
  char err[256];
  if (rb_rules_new(&d, &p, &r, err, sizeof err) != RB_OK)
    fail_msg("the fixture rules were refused: %s", err);
  return r;
}
