/* test_estimate.c: the price calculator (rb_estimate) and the
 * validation of the catalogue by rb_rules_new.
 *
 * The rule set is the default one (SPEC 1.1, 1.4) written as C data, so
 * the expected figures below are worked by hand from the SPEC's prices:
 * they do not come from the code under test.
 *
 * Depends on: rtcbill.h and cmocka.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "rtcbill.h"

enum { AUDIO, SD, HD, HDP };

static rb_money M(const char *s) {
  rb_money v = 0;
  assert_int_equal(rb_money_parse(s, strlen(s), &v), RB_OK);
  return v;
}

static int stub_cycle(void *ctx, const rb_cycle_query *q, rb_cycle *out) {
  (void)ctx;
  (void)q;
  *out = RB_CYCLE_MONTHLY;
  return RB_OK;
}

static int stub_exhaustion(void *ctx, const rb_exhaustion_query *q,
                           rb_exhaustion_decision *out) {
  (void)ctx;
  (void)q;
  out->action = RB_DECIDE_POSTPAID;
  out->reason = RB_STOP_NO_PACKAGE;
  return RB_OK;
}

static const char *stub_error(void *ctx) {
  (void)ctx;
  return "";
}

static const rb_policy policy = {NULL, stub_cycle, stub_exhaustion, stub_error,
                                 NULL};

/* The default rules of SPEC 1.1 and 1.4, catalogue included. */
static void default_rules(rb_rules_data *d) {
  memset(d, 0, sizeof *d);
  strcpy(d->tariff.currency, "CNY");
  d->tariff.tz_offset = 8 * 3600;
  d->tariff.video_mode = RB_VIDEO_PER_STREAM;
  d->tariff.total_unit = M("0.01");
  d->tariff.ntiers = 4;
  const char *names[4] = {"audio", "SD", "HD", "HD+"};
  const int64_t px[4] = {0, 307200, 921600, INT64_MAX};
  const char *price[4] = {"7.00", "14.00", "28.00", "105.00"};
  const int64_t general[4] = {1, 2, 4, 15};
  for (int i = 0; i < 4; i++) {
    strcpy(d->tariff.tiers[i].name, names[i]);
    d->tariff.tiers[i].max_pixels = px[i];
    d->tariff.tiers[i].price_per_1000 = M(price[i]);
    d->kinds[0].factors[i] = 1;
    d->kinds[1].factors[i] = general[i];
  }
  d->nkinds = 2;
  strcpy(d->kinds[0].name, "trial");
  d->kinds[0].granted = true;
  strcpy(d->kinds[1].name, "general");
  d->trial_kind = 0;
  d->trial_minutes = 10000;
  d->activation_delay = 300;
  d->validity_months = 12;
  d->norder = 1;
  d->order[0] = RB_ORDER_ID;
  strcpy(d->version, "test");

  rb_catalogue *c = &d->catalogue;
  const int64_t sizes[4] = {25, 250, 1000, 3000};
  const char *fixed[4] = {"168.00", "1588.00", "5968.00", "16888.00"};
  const int64_t from[5] = {1, 25, 250, 1000, 3000};
  const int64_t to[5] = {24, 249, 999, 2999, INT64_MAX};
  const char *unit[5] = {"7.000", "6.720", "6.352", "5.968", "5.630"};
  c->kind = 1;
  c->nfixed = 4;
  for (int i = 0; i < 4; i++) {
    c->fixed[i].thousands = sizes[i];
    c->fixed[i].price = M(fixed[i]);
  }
  c->nbands = 5;
  for (int i = 0; i < 5; i++) {
    c->bands[i].from = from[i];
    c->bands[i].to = to[i];
    c->bands[i].per_thousand = M(unit[i]);
  }
}

static rb_rules *rules_of(const rb_rules_data *d) {
  rb_rules *r = NULL;
  char err[256] = "";
  int st = rb_rules_new(d, &policy, &r, err, sizeof err);
  if (st != RB_OK)
    fail_msg("rb_rules_new: %s", err);
  return r;
}

/* Runs one estimate under the default rules. */
static int run(int64_t rooms, int64_t hosts, int64_t audience, int64_t minutes,
               int64_t days, const char *tier, rb_estimate_result *e) {
  rb_rules_data d;
  default_rules(&d);
  rb_rules *r = rules_of(&d);
  rb_estimate_input in = {rooms, hosts, audience, minutes, days, tier};
  int st = rb_estimate(r, &in, e);
  rb_rules_unref(r);
  return st;
}

/* ------------------------------------------------------------------ */
/* Hand-worked cases                                                  */
/* ------------------------------------------------------------------ */

/* The example: per room 2 hosts x 1 stream x 60 + 50 x 2
 * streams x 60 = 6 120 HD minutes; x 10 rooms x 30 days = 1 836 000;
 * x 4 = 7 344 000 package minutes; postpaid 1 836 000 x 28 / 1000 =
 * 51 408.00; custom 7 344 x 5.630 = 41 346.72; saving 10 061.28. */
static void test_estimate_hd_live_rooms(void **state) {
  (void)state;
  rb_estimate_result e;
  assert_int_equal(run(10, 2, 50, 60, 30, "HD", &e), RB_OK);
  assert_int_equal(e.tier, HD);
  assert_int_equal(e.kind, 1);
  assert_int_equal(e.room_minutes[AUDIO], 0);
  assert_int_equal(e.room_minutes[SD], 0);
  assert_int_equal(e.room_minutes[HD], 6120);
  assert_int_equal(e.room_minutes[HDP], 0);
  assert_int_equal(e.minutes[HD], 1836000);
  assert_int_equal(e.total_minutes, 1836000);
  assert_int_equal(e.package_minutes, 7344000);
  assert_int_equal(e.need_thousands, 7344);
  assert_int_equal(e.amounts[HD], M("51408.00"));
  assert_int_equal(e.postpaid, M("51408.00"));
  assert_int_equal(e.exact.type, RB_OFFER_CUSTOM);
  assert_int_equal(e.exact.thousands, 7344);
  assert_int_equal(e.exact.per_thousand, M("5.630"));
  assert_int_equal(e.exact.price, M("41346.72"));
  assert_int_equal(e.prepaid.type, RB_OFFER_CUSTOM);
  assert_int_equal(e.prepaid.thousands, 7344);
  assert_int_equal(e.prepaid.price, M("41346.72"));
  assert_int_equal(e.cheaper, RB_CHEAPER_PREPAID);
  assert_int_equal(e.saving, M("10061.28"));
}

/* A need of exactly 240 thousand (audio: 8 people x 1000 min x 30
 * days): 240 x 6.720 = 1 612.80, but 250 x 6.352 = 1 588.00 is less.
 * The fixed 250 costs the same 1 588.00; the custom one is reported. */
static void test_estimate_band_boundary_beats_exact(void **state) {
  (void)state;
  rb_estimate_result e;
  assert_int_equal(run(1, 1, 7, 1000, 30, "audio", &e), RB_OK);
  assert_int_equal(e.package_minutes, 240000);
  assert_int_equal(e.need_thousands, 240);
  assert_int_equal(e.exact.thousands, 240);
  assert_int_equal(e.exact.per_thousand, M("6.720"));
  assert_int_equal(e.exact.price, M("1612.80"));
  assert_int_equal(e.prepaid.type, RB_OFFER_CUSTOM);
  assert_int_equal(e.prepaid.thousands, 250);
  assert_int_equal(e.prepaid.per_thousand, M("6.352"));
  assert_int_equal(e.prepaid.price, M("1588.00"));
  assert_int_equal(e.postpaid, M("1680.00"));
  assert_int_equal(e.cheaper, RB_CHEAPER_PREPAID);
  assert_int_equal(e.saving, M("92.00"));
}

/* 240 001 package minutes (a lone host's 1 audio minute + 60 000
 * viewers x 1 HD minute x 4) need 241 thousand, rounded up: 241 x 6.720
 * = 1 619.52; 250 x 6.352 = 1 588.00 still wins. */
static void test_estimate_need_rounds_up_to_a_thousand(void **state) {
  (void)state;
  rb_estimate_result e;
  assert_int_equal(run(1, 1, 60000, 1, 1, "HD", &e), RB_OK);
  assert_int_equal(e.room_minutes[AUDIO], 1);
  assert_int_equal(e.room_minutes[HD], 60000);
  assert_int_equal(e.package_minutes, 240001);
  assert_int_equal(e.need_thousands, 241);
  assert_int_equal(e.exact.thousands, 241);
  assert_int_equal(e.exact.price, M("1619.52"));
  assert_int_equal(e.prepaid.thousands, 250);
  assert_int_equal(e.prepaid.price, M("1588.00"));
  /* 1 x 7.00 / 1000 + 60 000 x 28.00 / 1000 = 0.007 + 1 680 = 1 680.007,
   * a bill total of 1 680.01. */
  assert_int_equal(e.amounts[AUDIO], M("0.007"));
  assert_int_equal(e.postpaid, M("1680.01"));
  assert_int_equal(e.saving, M("92.01"));
}

/* An audio room: everyone is audio, 52 x 60 = 3 120 a room a day,
 * 936 000 a month at factor 1; 936 x 6.352 = 5 945.472, priced 5 945.47
 * (rounded like a bill), below 1 000 x 5.968 = 5 968.00 and the fixed
 * 1 000 at 5 968.00. Postpaid 936 000 x 7 / 1000 = 6 552.00. */
static void test_estimate_audio_tier(void **state) {
  (void)state;
  rb_estimate_result e;
  assert_int_equal(run(10, 2, 50, 60, 30, "audio", &e), RB_OK);
  assert_int_equal(e.room_minutes[AUDIO], 3120);
  assert_int_equal(e.room_minutes[HD], 0);
  assert_int_equal(e.minutes[AUDIO], 936000);
  assert_int_equal(e.package_minutes, 936000);
  assert_int_equal(e.need_thousands, 936);
  assert_int_equal(e.prepaid.type, RB_OFFER_CUSTOM);
  assert_int_equal(e.prepaid.thousands, 936);
  assert_int_equal(e.prepaid.price, M("5945.47"));
  assert_int_equal(e.postpaid, M("6552.00"));
  assert_int_equal(e.cheaper, RB_CHEAPER_PREPAID);
  assert_int_equal(e.saving, M("606.53"));
}

/* A one-host room with no audience receives no video: 60 audio minutes
 * a day, 1 800 a month; postpaid 12.60 beats the smallest package, a
 * custom 2 thousand at 7.000 = 14.00, by 1.40. */
static void test_estimate_lone_host_is_audio(void **state) {
  (void)state;
  rb_estimate_result e;
  assert_int_equal(run(1, 1, 0, 60, 30, "HD", &e), RB_OK);
  assert_int_equal(e.room_minutes[AUDIO], 60);
  assert_int_equal(e.room_minutes[HD], 0);
  assert_int_equal(e.minutes[AUDIO], 1800);
  assert_int_equal(e.package_minutes, 1800);
  assert_int_equal(e.need_thousands, 2);
  assert_int_equal(e.prepaid.thousands, 2);
  assert_int_equal(e.prepaid.price, M("14.00"));
  assert_int_equal(e.postpaid, M("12.60"));
  assert_int_equal(e.cheaper, RB_CHEAPER_POSTPAID);
  assert_int_equal(e.saving, M("1.40"));
}

/* One host with an audience: the host is audio, the audience receives
 * one stream each (3 x 10 HD+ minutes, 10 audio). */
static void test_estimate_one_host_with_audience(void **state) {
  (void)state;
  rb_estimate_result e;
  assert_int_equal(run(1, 1, 3, 10, 1, "HD+", &e), RB_OK);
  assert_int_equal(e.room_minutes[AUDIO], 10);
  assert_int_equal(e.room_minutes[HDP], 30);
  assert_int_equal(e.package_minutes, 10 + 30 * 15);
  /* 10 x 7 / 1000 + 30 x 105 / 1000 = 0.07 + 3.15 */
  assert_int_equal(e.postpaid, M("3.22"));
}

/* Three hosts each receive two streams: 3 x 2 x 10 = 60 SD minutes. */
static void test_estimate_hosts_receive_each_other(void **state) {
  (void)state;
  rb_estimate_result e;
  assert_int_equal(run(1, 3, 0, 10, 1, "SD", &e), RB_OK);
  assert_int_equal(e.room_minutes[AUDIO], 0);
  assert_int_equal(e.room_minutes[SD], 60);
  assert_int_equal(e.package_minutes, 120);
}

/* 2 999 000 package minutes: 2 999 x 5.968 = 17 898.03, a custom
 * 3 000 x 5.630 = 16 890.00, the fixed 3 000 at 16 888.00 wins. */
static void test_estimate_fixed_package_wins(void **state) {
  (void)state;
  rb_estimate_result e;
  assert_int_equal(run(1, 1, 2998, 1000, 1, "audio", &e), RB_OK);
  assert_int_equal(e.need_thousands, 2999);
  assert_int_equal(e.exact.price, M("17898.03"));
  assert_int_equal(e.prepaid.type, RB_OFFER_FIXED);
  assert_int_equal(e.prepaid.thousands, 3000);
  assert_int_equal(e.prepaid.per_thousand, 0);
  assert_int_equal(e.prepaid.price, M("16888.00"));
  assert_int_equal(e.postpaid, M("20993.00"));
  assert_int_equal(e.saving, M("4105.00"));
}

/* Aggregate mode: a stream is taken at its tier's bound and the areas a
 * user receives are summed. SD: two streams = 614 400 px, HD; three =
 * 921 600 px, still HD (inclusive). HD: two streams are HD+. */
static void test_estimate_aggregate_mode_sums_areas(void **state) {
  (void)state;
  rb_rules_data d;
  default_rules(&d);
  d.tariff.video_mode = RB_VIDEO_AGGREGATE;
  rb_rules *r = rules_of(&d);
  rb_estimate_result e;
  rb_estimate_input in = {1, 3, 10, 10, 1, "SD"};
  assert_int_equal(rb_estimate(r, &in, &e), RB_OK);
  assert_int_equal(e.room_minutes[SD], 0);
  assert_int_equal(e.room_minutes[HD], 3 * 10 + 10 * 10);
  in.tier = "HD";
  in.hosts = 2;
  assert_int_equal(rb_estimate(r, &in, &e), RB_OK);
  /* Each host receives one HD stream; each viewer two: HD+. */
  assert_int_equal(e.room_minutes[HD], 2 * 10);
  assert_int_equal(e.room_minutes[HDP], 10 * 10);
  rb_rules_unref(r);
}

/* The factors and prices come from the rules: doubling the HD price and
 * selling another kind changes the estimate accordingly. */
static void test_estimate_follows_the_rules(void **state) {
  (void)state;
  rb_rules_data d;
  default_rules(&d);
  d.tariff.tiers[HD].price_per_1000 = M("56.00");
  d.nkinds = 3;
  strcpy(d.kinds[2].name, "video");
  for (int i = 0; i < 4; i++)
    d.kinds[2].factors[i] = i == HD ? 3 : 1;
  d.catalogue.kind = 2;
  rb_rules *r = rules_of(&d);
  rb_estimate_result e;
  rb_estimate_input in = {10, 2, 50, 60, 30, "HD"};
  assert_int_equal(rb_estimate(r, &in, &e), RB_OK);
  assert_int_equal(e.kind, 2);
  assert_int_equal(e.postpaid, M("102816.00"));
  assert_int_equal(e.package_minutes, 1836000 * 3);
  assert_int_equal(e.prepaid.thousands, 5508);
  assert_int_equal(e.prepaid.price, M("31010.04")); /* 5 508 x 5.630 */
  rb_rules_unref(r);
}

/* Without a catalogue there is only postpaid. */
static void test_estimate_without_catalogue(void **state) {
  (void)state;
  rb_rules_data d;
  default_rules(&d);
  memset(&d.catalogue, 0, sizeof d.catalogue);
  rb_rules *r = rules_of(&d);
  rb_estimate_result e;
  rb_estimate_input in = {10, 2, 50, 60, 30, "HD"};
  assert_int_equal(rb_estimate(r, &in, &e), RB_OK);
  assert_int_equal(e.kind, 1); /* the first kind that is bought */
  assert_int_equal(e.package_minutes, 7344000);
  assert_int_equal(e.exact.type, RB_OFFER_NONE);
  assert_int_equal(e.prepaid.type, RB_OFFER_NONE);
  assert_int_equal(e.cheaper, RB_CHEAPER_POSTPAID);
  assert_int_equal(e.saving, 0);
  rb_rules_unref(r);
}

/* A bounded last band and no fixed package large enough: no offer. */
static void test_estimate_need_beyond_catalogue(void **state) {
  (void)state;
  rb_rules_data d;
  default_rules(&d);
  d.catalogue.bands[4].to = 4000;
  rb_rules *r = rules_of(&d);
  rb_estimate_result e;
  rb_estimate_input in = {10, 2, 50, 60, 30, "HD"};
  assert_int_equal(rb_estimate(r, &in, &e), RB_OK);
  assert_int_equal(e.need_thousands, 7344);
  assert_int_equal(e.exact.type, RB_OFFER_NONE);
  assert_int_equal(e.prepaid.type, RB_OFFER_NONE);
  assert_int_equal(e.cheaper, RB_CHEAPER_POSTPAID);
  rb_rules_unref(r);
}

/* One band at the list price of audio: 1 000 audio minutes cost 7.00
 * either way. */
static void test_estimate_same_price(void **state) {
  (void)state;
  rb_rules_data d;
  default_rules(&d);
  d.catalogue.nfixed = 0;
  d.catalogue.nbands = 1;
  d.catalogue.bands[0].to = INT64_MAX;
  rb_rules *r = rules_of(&d);
  rb_estimate_result e;
  rb_estimate_input in = {1, 1, 0, 1000, 1, "audio"};
  assert_int_equal(rb_estimate(r, &in, &e), RB_OK);
  assert_int_equal(e.postpaid, M("7.00"));
  assert_int_equal(e.prepaid.price, M("7.00"));
  assert_int_equal(e.cheaper, RB_CHEAPER_SAME);
  assert_int_equal(e.saving, 0);
  assert_string_equal(rb_cheaper_name(e.cheaper), "same");
  assert_string_equal(rb_cheaper_name(RB_CHEAPER_PREPAID), "prepaid");
  assert_string_equal(rb_cheaper_name(RB_CHEAPER_POSTPAID), "postpaid");
  rb_rules_unref(r);
}

/* ------------------------------------------------------------------ */
/* Validation and overflow                                            */
/* ------------------------------------------------------------------ */

static void expect_error(int64_t rooms, int64_t hosts, int64_t audience,
                         int64_t minutes, int64_t days, const char *tier,
                         int code, const char *field) {
  rb_estimate_result e;
  assert_int_equal(run(rooms, hosts, audience, minutes, days, tier, &e), code);
  assert_string_equal(e.field, field);
  assert_true(strlen(e.message) > 10);
}

static void test_estimate_rejects_zero_and_negative_counts(void **state) {
  (void)state;
  expect_error(0, 2, 50, 60, 30, "HD", RB_EINVAL, "rooms");
  expect_error(-1, 2, 50, 60, 30, "HD", RB_EINVAL, "rooms");
  expect_error(10, 0, 50, 60, 30, "HD", RB_EINVAL, "hosts");
  expect_error(10, 2, -1, 60, 30, "HD", RB_EINVAL, "audience");
  expect_error(10, 2, 50, 0, 30, "HD", RB_EINVAL, "minutes");
  expect_error(10, 2, 50, 60, 0, "HD", RB_EINVAL, "days");
  rb_estimate_result e;
  assert_int_equal(run(0, 2, 50, 60, 30, "HD", &e), RB_EINVAL);
  assert_string_equal(e.message, "rooms must be 1 or more, not 0");
}

static void test_estimate_rejects_values_above_limits(void **state) {
  (void)state;
  expect_error(10, 2, 50, 1441, 30, "HD", RB_ERANGE, "minutes");
  expect_error(10, 2, 50, 60, 32, "HD", RB_ERANGE, "days");
  rb_estimate_result e;
  assert_int_equal(run(10, 2, 50, 1440, 31, "HD", &e), RB_OK);
  assert_int_equal(e.minutes[HD], 6120 * 24 * 10 * 31);
}

static void test_estimate_rejects_unknown_tier(void **state) {
  (void)state;
  rb_estimate_result e;
  assert_int_equal(run(10, 2, 50, 60, 30, "FHD", &e), RB_ENOENT);
  assert_string_equal(e.field, "tier");
  assert_string_equal(e.message, "tier \"FHD\" is not a tier of the rules "
                                 "(audio, SD, HD, HD+)");
  assert_int_equal(run(10, 2, 50, 60, 30, "hd", &e), RB_ENOENT);
  assert_int_equal(run(10, 2, 50, 60, 30, NULL, &e), RB_ENOENT);
}

static void test_estimate_reports_overflow_with_field(void **state) {
  (void)state;
  /* hosts x (hosts - 1) x minutes */
  expect_error(1, INT64_MAX, 0, 60, 30, "HD", RB_EOVERFLOW, "hosts");
  /* audience x hosts x minutes */
  expect_error(1, 2, INT64_MAX / 2, 60, 30, "HD", RB_EOVERFLOW, "audience");
  /* an audio room: hosts + audience */
  expect_error(1, 1, INT64_MAX, 1, 1, "audio", RB_EOVERFLOW, "audience");
  /* room minutes x rooms */
  expect_error(INT64_MAX, 2, 0, 60, 30, "HD", RB_EOVERFLOW, "rooms");
  /* 120 a room; x rooms fits, x 31 days does not */
  expect_error(INT64_MAX / 120, 2, 0, 60, 31, "HD", RB_EOVERFLOW, "days");
  /* 2 880 x 10^12 x 31 = 8.9e16 HD+ minutes fit, and x 15 package
   * minutes too, but x 105.00 / 1000 does not fit 64-bit money. */
  expect_error(INT64_C(1000000000000), 2, 0, 1440, 31, "HD+", RB_EOVERFLOW,
               "postpaid");
  /* Audio minutes x 15 would not fit as HD+ package minutes. */
  expect_error(INT64_MAX / 2880 / 31 / 2, 2, 0, 1440, 31, "HD+", RB_EOVERFLOW,
               "package_minutes");
}

static void test_estimate_rejects_null(void **state) {
  (void)state;
  rb_rules_data d;
  default_rules(&d);
  rb_rules *r = rules_of(&d);
  rb_estimate_result e;
  rb_estimate_input in = {10, 2, 50, 60, 30, "HD"};
  assert_int_equal(rb_estimate(NULL, &in, &e), RB_EINVAL);
  assert_int_equal(rb_estimate(r, NULL, &e), RB_EINVAL);
  assert_int_equal(rb_estimate(r, &in, NULL), RB_EINVAL);
  rb_rules_unref(r);
}

/* ------------------------------------------------------------------ */
/* The catalogue in rb_rules_new                                      */
/* ------------------------------------------------------------------ */

static void expect_invalid(const rb_rules_data *d, const char *needle) {
  rb_rules *r = NULL;
  char err[256] = "";
  assert_int_equal(rb_rules_new(d, &policy, &r, err, sizeof err), RB_EINVAL);
  assert_null(r);
  if (strstr(err, needle) == NULL)
    fail_msg("\"%s\" does not contain \"%s\"", err, needle);
}

static void test_rules_catalogue_is_validated(void **state) {
  (void)state;
  rb_rules_data d;

  default_rules(&d);
  d.catalogue.bands[2].from = 251; /* a gap after 249 */
  expect_invalid(&d, "band 2 must start at the previous band's end + 1");

  default_rules(&d);
  d.catalogue.bands[0].from = 2;
  expect_invalid(&d, "band 0 must start at 0 or 1");

  default_rules(&d);
  d.catalogue.bands[1].to = INT64_MAX; /* open, but not last */
  expect_invalid(&d, "only the last band may be open");

  default_rules(&d);
  d.catalogue.bands[3].per_thousand = -1;
  expect_invalid(&d, "band 3");

  default_rules(&d);
  d.catalogue.fixed[1].thousands = 0;
  expect_invalid(&d, "fixed package 1");

  default_rules(&d);
  d.catalogue.fixed[0].price = -1;
  expect_invalid(&d, "fixed package 0");

  default_rules(&d);
  d.catalogue.kind = 0; /* the trial is granted, never sold */
  expect_invalid(&d, "kind 0 is not a kind that can be bought");

  default_rules(&d);
  d.catalogue.nbands = RB_CATALOGUE_MAX + 1;
  expect_invalid(&d, "catalogue:");

  /* Empty is fine: the kind is not looked at. */
  default_rules(&d);
  memset(&d.catalogue, 0, sizeof d.catalogue);
  rb_rules_unref(rules_of(&d));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_estimate_hd_live_rooms),
      cmocka_unit_test(test_estimate_band_boundary_beats_exact),
      cmocka_unit_test(test_estimate_need_rounds_up_to_a_thousand),
      cmocka_unit_test(test_estimate_audio_tier),
      cmocka_unit_test(test_estimate_lone_host_is_audio),
      cmocka_unit_test(test_estimate_one_host_with_audience),
      cmocka_unit_test(test_estimate_hosts_receive_each_other),
      cmocka_unit_test(test_estimate_fixed_package_wins),
      cmocka_unit_test(test_estimate_aggregate_mode_sums_areas),
      cmocka_unit_test(test_estimate_follows_the_rules),
      cmocka_unit_test(test_estimate_without_catalogue),
      cmocka_unit_test(test_estimate_need_beyond_catalogue),
      cmocka_unit_test(test_estimate_same_price),
      cmocka_unit_test(test_estimate_rejects_zero_and_negative_counts),
      cmocka_unit_test(test_estimate_rejects_values_above_limits),
      cmocka_unit_test(test_estimate_rejects_unknown_tier),
      cmocka_unit_test(test_estimate_reports_overflow_with_field),
      cmocka_unit_test(test_estimate_rejects_null),
      cmocka_unit_test(test_rules_catalogue_is_validated),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
