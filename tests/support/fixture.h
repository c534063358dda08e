/* fixture.h: what the core's C tests share: TRTC's default rules as
 * plain C data and a C policy that decides like rules/settlement.lua and
 * rules/exhaustion.lua, so that the engine can be tested without Lua.
 *
 * Depends on: rtcbill.h.
 */
#ifndef RTCBILL_TEST_FIXTURE_H
#define RTCBILL_TEST_FIXTURE_H

#include "rtcbill.h"

#define FIXTURE_TZ (8 * 3600) /* UTC+08:00 */

/* Counters and switches of the stub policy; pass one as the ctx. */
typedef struct fixture_policy {
  int cycle_calls;
  int exhaustion_calls;
  bool fail_exhaustion; /* decide() fails with RB_EPOLICY */
} fixture_policy;

/* Fills d with the default rule set: tiers audio/SD/HD/HD+ at 7, 14, 28
 * and 105 per 1000 minutes, trial (1:1:1:1, 10 000 minutes, from
 * 2019-10-11) and general (1:2:4:15) packages, 5-minute activation,
 * 12 months' validity, bills at 10:00, 24 h grace, 60-day reclaim. */
void fixture_rules_data(rb_rules_data *d);

/* The stub policy over ctx (a fixture_policy, or NULL). */
rb_policy fixture_policy_make(fixture_policy *ctx);

/* A rule set from fixture_rules_data and the stub policy; the test fails
 * if it cannot be built. Release with rb_rules_unref. */
rb_rules *fixture_rules(fixture_policy *ctx);

#endif /* RTCBILL_TEST_FIXTURE_H */
