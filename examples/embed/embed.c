/* embed.c: rtcbill embedded in a C program through rtcbill.h alone.
 *
 * The rule set is built in C (TRTC's list prices, monthly bills issued on
 * the 1st at 10:00 Beijing time, postpaid when nothing covers) with a C
 * policy instead of the Lua rules host; three events are parsed from
 * JSON Lines, applied, the clock is run to the bill's issue time, and
 * the bill and notices are printed as JSON Lines. Build it against an
 * installed library:
 *   cc -std=c11 embed.c $(pkg-config --cflags --libs rtcbill) -o embed
 * Depends on: rtcbill.h (librtcbill, libuv).
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include <stdio.h>
#include <string.h>

#include <rtcbill.h>

static int cycle(void *ctx, const rb_cycle_query *q, rb_cycle *out) {
  (void)ctx;
  (void)q;
  *out = RB_CYCLE_MONTHLY;
  return RB_OK;
}

static int exhaustion(void *ctx, const rb_exhaustion_query *q,
                      rb_exhaustion_decision *out) {
  (void)ctx;
  (void)q;
  out->action = RB_DECIDE_POSTPAID;
  out->reason = RB_STOP_NO_PACKAGE;
  return RB_OK;
}

static const char *last_error(void *ctx) {
  (void)ctx;
  return "";
}

static int on_bill(void *ctx, const rb_bill *b) {
  rb_buf *out = ctx;
  return rb_bill_to_json(b, out);
}

static int on_notice(void *ctx, const rb_notice *n) {
  rb_buf *out = ctx;
  return rb_notice_to_json(n, 8 * 3600, out);
}

static void tier(rb_tier *t, const char *name, int64_t max_pixels,
                 const char *price) {
  snprintf(t->name, sizeof t->name, "%s", name);
  t->max_pixels = max_pixels;
  rb_money_parse(price, strlen(price), &t->price_per_1000);
}

static const char *const events[] = {
    "{\"type\":\"account\",\"account\":\"E1\",\"at\":"
    "\"2020-11-01T09:00:00+08:00\",\"balance\":\"10.00\"}",
    "{\"type\":\"app\",\"app\":1400000042,\"account\":\"E1\",\"at\":"
    "\"2020-11-01T09:05:00+08:00\",\"postpaid\":true}",
    "{\"type\":\"usage\",\"id\":\"e-1\",\"app\":1400000042,\"user\":\"a\","
    "\"room\":\"r\",\"start\":\"2020-11-10T20:00:00+08:00\","
    "\"seconds\":3000,\"video\":[{\"offset\":600,\"seconds\":900,"
    "\"width\":640,\"height\":360}]}",
};

int main(void) {
  rb_rules_data d;
  memset(&d, 0, sizeof d);
  snprintf(d.tariff.currency, sizeof d.tariff.currency, "CNY");
  d.tariff.tz_offset = 8 * 3600;
  d.tariff.video_mode = RB_VIDEO_PER_STREAM;
  d.tariff.total_unit = RB_MONEY_SCALE / 100;
  d.tariff.ntiers = 4;
  tier(&d.tariff.tiers[0], "audio", 0, "7.00");
  tier(&d.tariff.tiers[1], "SD", 640 * 480, "14.00");
  tier(&d.tariff.tiers[2], "HD", 1280 * 720, "28.00");
  tier(&d.tariff.tiers[3], "HD+", INT64_MAX, "105.00");
  d.nkinds = 1;
  snprintf(d.kinds[0].name, sizeof d.kinds[0].name, "general");
  int64_t factors[4] = {1, 2, 4, 15};
  memcpy(d.kinds[0].factors, factors, sizeof factors);
  d.trial_kind = -1;
  d.trial_grant_from = RB_TIME_NONE;
  d.validity_months = 12;
  d.norder = 2;
  d.order[0] = RB_ORDER_EARLIEST_EXPIRY;
  d.order[1] = RB_ORDER_ID;
  d.daily_issue_delay = d.monthly_issue_delay = 36000;
  d.grace_seconds = 86400;
  d.reclaim_seconds = 60 * 86400;
  snprintf(d.version, sizeof d.version, "embed-1");

  rb_policy policy = {NULL, cycle, exhaustion, last_error, NULL};
  rb_rules *rules = NULL;
  char err[256] = "";
  if (rb_rules_new(&d, &policy, &rules, err, sizeof err) != RB_OK) {
    fprintf(stderr, "embed: rules: %s\n", err);
    return 1;
  }
  rb_buf out = {0};
  rb_sink sink = {&out, on_bill, on_notice, NULL};
  rb_engine *e = NULL;
  int rc = rb_engine_new(rules, &sink, &e);
  rb_rules_unref(rules);
  rb_arena *arena = rb_arena_new();
  if (rc != RB_OK || arena == NULL) {
    fprintf(stderr, "embed: %s\n", rb_strerror(rc ? rc : RB_ENOMEM));
    return 1;
  }
  for (size_t i = 0; i < sizeof events / sizeof events[0] && rc == RB_OK;
       i++) {
    rb_event ev;
    rb_reject rej;
    rc = rb_event_parse(arena, events[i], strlen(events[i]), &ev, &rej);
    if (rc == RB_OK)
      rc = rb_engine_apply(e, &ev, &rej);
    if (rc == RB_EREJECT)
      fprintf(stderr, "embed: event %zu: %s: %s\n", i + 1, rej.code,
              rej.message);
  }
  /* Run the clock on until the month's bill is issued. */
  rb_time h;
  while (rc == RB_OK && (h = rb_engine_settle_horizon(e)) != RB_TIME_NONE &&
         h > rb_engine_now(e))
    rc = rb_engine_advance(e, h);
  if (rc == RB_OK)
    fwrite(out.data, 1, out.len, stdout);
  else
    fprintf(stderr, "embed: %s\n", rb_strerror(rc));
  rb_engine_free(e);
  rb_arena_free(arena);
  rb_buf_free(&out);
  return rc == RB_OK ? 0 : 1;
}
