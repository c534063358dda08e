/* test_limits.c: numeric limits through the public API — balances and
 * totals near the int64 bounds of 1e-8 units, package minutes at
 * RB_MINUTES_MAX, sessions of RB_SESSION_SECONDS_MAX, app id INT64_MAX.
 * An overflow must be an error naming the account (a rejected top-up,
 * or a failed settlement with rb_engine_last_error), never a wrap.
 *
 * The rules are plain C data with a stub policy (no Lua), in the manner
 * of test_engine.c; prices are set per test to reach the bounds.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fixture.h"
#include "rtcbill.h"

#define TZ FIXTURE_TZ
#define MAX_TIERS 4

/* ---------------------------------------------------------------- */
/* Fixture: the default rules (tests/support), a tally sink         */
/* ---------------------------------------------------------------- */

typedef struct world {
  rb_rules *rules;
  rb_engine *engine;
  rb_arena *arena;
  rb_buf notices;
  int nbills;
  int64_t minutes[MAX_TIERS], covered[MAX_TIERS], postpaid[MAX_TIERS];
  rb_money revenue;
  rb_money last_total, last_balance;
  int64_t last_app;
  char last_bill[64];
} world;

static int sink_bill(void *ctx, const rb_bill *b) {
  world *w = ctx;
  w->nbills++;
  snprintf(w->last_bill, sizeof w->last_bill, "%s", b->id);
  for (size_t i = 0; i < b->nlines; i++) {
    const rb_bill_line *l = &b->lines[i];
    assert_true(l->tier >= 0 && l->tier < MAX_TIERS);
    assert_int_equal(l->minutes, l->covered + l->postpaid + l->unbilled);
    w->minutes[l->tier] += l->minutes;
    w->covered[l->tier] += l->covered;
    w->postpaid[l->tier] += l->postpaid;
    w->last_app = l->app;
  }
  w->revenue += b->total;
  w->last_total = b->total;
  w->last_balance = b->balance_after;
  return RB_OK;
}

static int sink_notice(void *ctx, const rb_notice *n) {
  world *w = ctx;
  return rb_notice_to_json(n, TZ, &w->notices);
}

/* The default TRTC rules, with every tier at `price` per 1000 minutes
 * when price >= 0 (the list prices otherwise). */
static void rules_data(rb_rules_data *d, rb_money price) {
  fixture_rules_data(d);
  for (int i = 0; i < d->tariff.ntiers && price >= 0; i++)
    d->tariff.tiers[i].price_per_1000 = price;
}

static world *world_new(rb_money price) {
  world *w = calloc(1, sizeof *w);
  rb_rules_data d;
  char err[256];
  assert_non_null(w);
  rules_data(&d, price);
  rb_policy p = fixture_policy_make(NULL);
  assert_int_equal(rb_rules_new(&d, &p, &w->rules, err, sizeof err), RB_OK);
  rb_sink sink = {w, sink_bill, sink_notice, NULL};
  assert_int_equal(rb_engine_new(w->rules, &sink, &w->engine), RB_OK);
  w->arena = rb_arena_new();
  assert_non_null(w->arena);
  return w;
}

static void world_free(world *w) {
  rb_engine_free(w->engine);
  rb_rules_unref(w->rules);
  rb_arena_free(w->arena);
  rb_buf_free(&w->notices);
  free(w);
}

static int setup_list(void **state) {
  *state = world_new(-1);
  return 0;
}

/* Every tier at INT64_MAX units per 1000 minutes: one minute costs
 * about 92233720.37, so a thousand minutes reach the int64 bound. */
static int setup_max_price(void **state) {
  *state = world_new(INT64_MAX);
  return 0;
}

/* One unit under the bound: 1000 minutes cost exactly INT64_MAX - 1
 * units, whose rounding to 0.01 goes past the bound. */
static int setup_max_price_less_one(void **state) {
  *state = world_new(INT64_MAX - 1);
  return 0;
}

static int teardown(void **state) {
  world_free(*state);
  return 0;
}

static rb_time t(const char *s) {
  rb_time v;
  assert_int_equal(rb_time_parse(s, strlen(s), &v, NULL), RB_OK);
  return v;
}

/* Parses one line; returns the reader's result with *rej filled. */
static int parse(world *w, const char *line, rb_event *ev, rb_reject *rej) {
  return rb_event_parse(w->arena, line, strlen(line), ev, rej);
}

/* Parses and applies one line; a line that does not parse fails. */
static int feed(world *w, const char *line, rb_reject *rej) {
  rb_event ev;
  rb_reject prej, tmp;
  if (parse(w, line, &ev, &prej) != RB_OK)
    fail_msg("test line does not parse: %s: %s", prej.code, prej.message);
  return rb_engine_apply(w->engine, &ev, rej != NULL ? rej : &tmp);
}

static void ok(world *w, const char *line) {
  rb_reject rej;
  int rc = feed(w, line, &rej);
  if (rc != RB_OK)
    fail_msg("event refused (%d): %s %s", rc, rej.code, rej.message);
}

static void expect_parse_reject(world *w, const char *line, const char *code,
                                const char *field) {
  rb_event ev;
  rb_reject rej;
  assert_int_equal(parse(w, line, &ev, &rej), RB_EREJECT);
  assert_string_equal(rej.code, code);
  assert_string_equal(rej.field, field);
}

/* Runs the clock until every period with usage is billed, as simulate
 * does; returns the first failure. */
static int settle_all(world *w) {
  for (;;) {
    rb_time h = rb_engine_settle_horizon(w->engine);
    if (h == RB_TIME_NONE || h <= rb_engine_now(w->engine))
      return RB_OK;
    int rc = rb_engine_advance(w->engine, h);
    if (rc != RB_OK)
      return rc;
  }
}

static bool has(const rb_buf *b, const char *needle) {
  return b->data != NULL && strstr(b->data, needle) != NULL;
}

/* An old monthly account (no trial) with one postpaid app. */
static void monthly_account(world *w, const char *balance) {
  char line[256];
  snprintf(line, sizeof line,
           "{\"type\":\"account\",\"account\":\"BIG\",\"at\":"
           "\"2019-06-01T09:00:00+08:00\",\"balance\":\"%s\"}",
           balance);
  ok(w, line);
  ok(w, "{\"type\":\"app\",\"app\":1,\"account\":\"BIG\",\"at\":"
        "\"2019-06-01T09:05:00+08:00\",\"postpaid\":true}");
}

static void usage(world *w, const char *id, int64_t app, const char *start,
                  int64_t seconds) {
  char line[512];
  snprintf(line, sizeof line,
           "{\"type\":\"usage\",\"id\":\"%s\",\"app\":%lld,\"user\":\"u\","
           "\"room\":\"r\",\"start\":\"%s\",\"seconds\":%lld}",
           id, (long long)app, start, (long long)seconds);
  ok(w, line);
}

static const char *topup_fmt =
    "{\"type\":\"topup\",\"account\":\"BIG\",\"at\":\"%s\",\"amount\":\"%s\"}";

static int topup(world *w, const char *at, const char *amount, rb_reject *rej) {
  char line[256];
  snprintf(line, sizeof line, topup_fmt, at, amount);
  return feed(w, line, rej);
}

/* ---------------------------------------------------------------- */
/* Balances                                                          */
/* ---------------------------------------------------------------- */

static void test_topup_reaches_int64_max_exactly(void **state) {
  world *w = *state;
  rb_reject rej;
  monthly_account(w, "92233720368.54775800");
  assert_int_equal(topup(w, "2019-06-02T00:00:00+08:00", "0.00000007", &rej),
                   RB_OK);
  /* One minute of audio in June: 0.007 CNY, a bill total of 0.01. */
  usage(w, "u1", 1, "2019-06-10T20:00:00+08:00", 60);
  assert_int_equal(settle_all(w), RB_OK);
  assert_int_equal(w->nbills, 1);
  assert_int_equal(w->last_total, 1000000);
  assert_int_equal(w->last_balance, INT64_MAX - 1000000);
}

static void test_topup_past_int64_max_rejected_naming_account(void **state) {
  world *w = *state;
  rb_reject rej;
  monthly_account(w, "92233720368.54775807");
  assert_int_equal(topup(w, "2019-06-02T00:00:00+08:00", "0.00000001", &rej),
                   RB_EREJECT);
  assert_string_equal(rej.code, "out_of_range");
  assert_string_equal(rej.field, "amount");
  assert_non_null(strstr(rej.message, "\"BIG\""));
  /* The largest possible top-up is refused the same way. */
  assert_int_equal(
      topup(w, "2019-06-02T00:00:00+08:00", "92233720368.54775807", &rej),
      RB_EREJECT);
  assert_string_equal(rej.code, "out_of_range");
  /* Nothing changed: the balance is still INT64_MAX before the bill. */
  usage(w, "u1", 1, "2019-06-10T20:00:00+08:00", 60);
  assert_int_equal(settle_all(w), RB_OK);
  assert_int_equal(w->last_balance, INT64_MAX - 1000000);
}

static void test_amounts_past_int64_rejected_by_reader(void **state) {
  world *w = *state;
  expect_parse_reject(w,
                      "{\"type\":\"account\",\"account\":\"X\",\"at\":\"2019-"
                      "06-01T09:00:00+08:00\",\"balance\":\"92233720368."
                      "54775808\"}",
                      "out_of_range", "balance");
  expect_parse_reject(w,
                      "{\"type\":\"topup\",\"account\":\"X\",\"at\":\"2019-"
                      "06-01T09:00:00+08:00\",\"amount\":\"-92233720368."
                      "54775808\"}",
                      "out_of_range", "amount");
  expect_parse_reject(w,
                      "{\"type\":\"package\",\"package\":\"P\",\"account\":"
                      "\"X\",\"at\":\"2019-06-01T09:00:00+08:00\",\"kind\":"
                      "\"general\",\"minutes\":1,\"price\":"
                      "\"100000000000000000000\"}",
                      "out_of_range", "price");
}

/* A bill of 600 minutes at INT64_MAX per 1000 takes the balance to
 * -0.6 x INT64_MAX; a second one cannot be deducted: the settlement
 * fails with RB_EOVERFLOW and the account named, nothing wraps. */
static void test_bill_overflowing_balance_fails_naming_account(void **state) {
  world *w = *state;
  monthly_account(w, "0");
  usage(w, "u1", 1, "2019-06-10T00:00:00+08:00", 36000);
  assert_int_equal(rb_engine_advance(w->engine, t("2019-07-01T10:00:00+08:00")),
                   RB_OK);
  assert_int_equal(w->nbills, 1);
  rb_money first = w->last_total;
  assert_true(first > INT64_MAX / 2);
  assert_int_equal(w->last_balance, -first);
  assert_true(has(&w->notices, "\"arrears_notice\""));
  /* Within the 24 hours of grace, so the app still runs. */
  usage(w, "u2", 1, "2019-07-01T10:30:00+08:00", 36000);
  assert_int_equal(rb_engine_advance(w->engine, t("2019-08-01T10:00:00+08:00")),
                   RB_EOVERFLOW);
  assert_int_equal(w->nbills, 1); /* the second bill was not issued */
  assert_non_null(rb_engine_last_error(w->engine));
  assert_non_null(strstr(rb_engine_last_error(w->engine), "\"BIG\""));
}

/* A top-up of INT64_MAX units into a balance of about -0.6 x INT64_MAX
 * is exact (mixed signs cannot overflow) and clears the arrears. */
static void test_max_topup_into_deep_arrears_clears_them(void **state) {
  world *w = *state;
  rb_reject rej;
  monthly_account(w, "0");
  usage(w, "u1", 1, "2019-06-10T00:00:00+08:00", 36000);
  assert_int_equal(rb_engine_advance(w->engine, t("2019-07-01T10:00:00+08:00")),
                   RB_OK);
  rb_money debt = w->last_total;
  assert_int_equal(
      topup(w, "2019-07-01T11:00:00+08:00", "92233720368.54775807", &rej),
      RB_OK);
  assert_true(has(&w->notices, "\"arrears_cleared\""));
  usage(w, "u2", 1, "2019-07-10T00:00:00+08:00", 60);
  assert_int_equal(settle_all(w), RB_OK);
  assert_int_equal(w->nbills, 2);
  assert_int_equal(w->last_balance, INT64_MAX - debt - w->last_total);
}

/* 1001 minutes at INT64_MAX per 1000: the line amount itself leaves
 * int64. */
static void test_line_amount_overflow_fails_naming_account(void **state) {
  world *w = *state;
  monthly_account(w, "0");
  usage(w, "u1", 1, "2019-06-10T00:00:00+08:00", 1001 * 60);
  assert_int_equal(settle_all(w), RB_EOVERFLOW);
  assert_int_equal(w->nbills, 0);
  assert_non_null(strstr(rb_engine_last_error(w->engine), "\"BIG\""));
}

/* Two lines of 600 minutes each fit alone; their sum does not. */
static void test_bill_sum_overflow_fails_naming_account(void **state) {
  world *w = *state;
  char line[512];
  monthly_account(w, "0");
  usage(w, "u1", 1, "2019-06-10T00:00:00+08:00", 36000);
  snprintf(line, sizeof line,
           "{\"type\":\"usage\",\"id\":\"u2\",\"app\":1,\"user\":\"v\","
           "\"room\":\"r\",\"start\":\"2019-06-11T00:00:00+08:00\","
           "\"seconds\":36000,\"video\":[{\"offset\":0,\"seconds\":36000,"
           "\"width\":640,\"height\":360}]}");
  ok(w, line);
  assert_int_equal(settle_all(w), RB_EOVERFLOW);
  assert_int_equal(w->nbills, 0);
  assert_non_null(strstr(rb_engine_last_error(w->engine), "\"BIG\""));
}

/* 1000 minutes at INT64_MAX - 1 per 1000 sum to INT64_MAX - 1 units,
 * which fits; the total rounded half-up to 0.01 would not. */
static void test_total_rounding_past_int64_fails(void **state) {
  world *w = *state;
  monthly_account(w, "0");
  usage(w, "u1", 1, "2019-06-10T00:00:00+08:00", 1000 * 60);
  assert_int_equal(settle_all(w), RB_EOVERFLOW);
  assert_int_equal(w->nbills, 0);
  assert_non_null(strstr(rb_engine_last_error(w->engine), "\"BIG\""));
}

/* ---------------------------------------------------------------- */
/* Minutes, seconds and ids                                          */
/* ---------------------------------------------------------------- */

static const char *package_fmt =
    "{\"type\":\"package\",\"package\":\"%s\",\"account\":\"BIG\",\"at\":"
    "\"2019-06-01T10:00:00+08:00\",\"kind\":\"general\",\"minutes\":%lld,"
    "\"price\":\"92233720368.54775807\"}";

static void test_package_of_max_minutes_covers(void **state) {
  world *w = *state;
  char line[512];
  monthly_account(w, "0");
  for (int i = 0; i < 3; i++) {
    char id[8];
    snprintf(id, sizeof id, "P%d", i);
    snprintf(line, sizeof line, package_fmt, id, (long long)RB_MINUTES_MAX);
    ok(w, line);
  }
  /* A full day of HD+ (factor 15) in one session. */
  snprintf(line, sizeof line,
           "{\"type\":\"usage\",\"id\":\"u1\",\"app\":1,\"user\":\"u\","
           "\"room\":\"r\",\"start\":\"2019-06-10T00:00:00+08:00\","
           "\"seconds\":86400,\"video\":[{\"offset\":0,\"seconds\":86400,"
           "\"width\":65536,\"height\":65536}]}");
  ok(w, line);
  assert_int_equal(settle_all(w), RB_OK);
  assert_int_equal(w->nbills, 1);
  assert_int_equal(w->minutes[3], 1440);
  assert_int_equal(w->covered[3], 1440);
  assert_int_equal(w->postpaid[3], 0);
  assert_int_equal(w->revenue, 0);
  assert_true(has(&w->notices, "\"package_activated\""));
  assert_false(has(&w->notices, "\"package_exhausted\""));
}

static void test_package_minutes_past_max_rejected(void **state) {
  world *w = *state;
  char line[512];
  snprintf(line, sizeof line, package_fmt, "P",
           (long long)(RB_MINUTES_MAX + 1));
  expect_parse_reject(w, line, "out_of_range", "minutes");
  snprintf(line, sizeof line, package_fmt, "P", (long long)0);
  expect_parse_reject(w, line, "out_of_range", "minutes");
}

/* A session of RB_SESSION_SECONDS_MAX (366 days) from 2019-06-02 local
 * midnight, plus a second stream in its very last second: every day's
 * piece is whole, so exactly 527 040 + 1 HD minutes are billed, at 28.00
 * per 1000. */
static void test_session_of_max_seconds_billed_exactly(void **state) {
  world *w = *state;
  char line[512];
  monthly_account(w, "0");
  snprintf(line, sizeof line,
           "{\"type\":\"usage\",\"id\":\"long\",\"app\":1,\"user\":\"u\","
           "\"room\":\"r\",\"start\":\"2019-06-02T00:00:00+08:00\","
           "\"seconds\":%d,\"video\":[{\"offset\":0,\"seconds\":%d,"
           "\"width\":1280,\"height\":720},{\"offset\":%d,\"seconds\":1,"
           "\"width\":1280,\"height\":720}]}",
           RB_SESSION_SECONDS_MAX, RB_SESSION_SECONDS_MAX,
           RB_SESSION_SECONDS_MAX - 1);
  ok(w, line);
  assert_int_equal(settle_all(w), RB_OK);
  assert_int_equal(w->minutes[0], 0);
  /* The second segment is its last second: one more HD minute. */
  assert_int_equal(w->minutes[2], RB_SESSION_SECONDS_MAX / 60 + 1);
  assert_int_equal(w->postpaid[2], RB_SESSION_SECONDS_MAX / 60 + 1);
  assert_true(w->nbills >= 1);
  /* 527 041 x 0.028 = 14 757.148 exactly, billed (late lines on the one
   * bill after the session's end) and rounded half-up: 14 757.15. */
  assert_int_equal(w->revenue, INT64_C(1475715000000));
}

static void test_session_past_max_seconds_rejected(void **state) {
  world *w = *state;
  char line[512];
  snprintf(line, sizeof line,
           "{\"type\":\"usage\",\"id\":\"u\",\"app\":1,\"user\":\"u\","
           "\"room\":\"r\",\"start\":\"2019-06-01T00:00:00+08:00\","
           "\"seconds\":%d}",
           RB_SESSION_SECONDS_MAX + 1);
  expect_parse_reject(w, line, "out_of_range", "seconds");
  snprintf(line, sizeof line,
           "{\"type\":\"usage\",\"id\":\"u\",\"app\":1,\"user\":\"u\","
           "\"room\":\"r\",\"start\":\"2019-06-01T00:00:00+08:00\","
           "\"seconds\":10,\"video\":[{\"offset\":9223372036854775807,"
           "\"seconds\":9223372036854775807,\"width\":1,\"height\":1}]}");
  expect_parse_reject(w, line, "segment_outside", "video[0]");
}

static void test_app_id_int64_max(void **state) {
  world *w = *state;
  ok(w, "{\"type\":\"account\",\"account\":\"BIG\",\"at\":"
        "\"2019-06-01T09:00:00+08:00\",\"balance\":\"1.00\"}");
  ok(w, "{\"type\":\"app\",\"app\":9223372036854775807,\"account\":\"BIG\","
        "\"at\":\"2019-06-01T09:05:00+08:00\",\"postpaid\":true}");
  usage(w, "u1", INT64_MAX, "2019-06-10T20:00:00+08:00", 600);
  assert_int_equal(settle_all(w), RB_OK);
  assert_int_equal(w->nbills, 1);
  assert_int_equal(w->last_app, INT64_MAX);
  assert_int_equal(w->minutes[0], 10);
  expect_parse_reject(w,
                      "{\"type\":\"app\",\"app\":9223372036854775808,"
                      "\"account\":\"BIG\",\"at\":\"2019-06-01T09:05:00+08:"
                      "00\"}",
                      "out_of_range", "app");
  expect_parse_reject(w,
                      "{\"type\":\"enable_postpaid\",\"app\":0,\"at\":"
                      "\"2019-06-01T09:05:00+08:00\"}",
                      "out_of_range", "app");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_topup_reaches_int64_max_exactly,
                                      setup_list, teardown),
      cmocka_unit_test_setup_teardown(
          test_topup_past_int64_max_rejected_naming_account, setup_list,
          teardown),
      cmocka_unit_test_setup_teardown(
          test_amounts_past_int64_rejected_by_reader, setup_list, teardown),
      cmocka_unit_test_setup_teardown(
          test_bill_overflowing_balance_fails_naming_account, setup_max_price,
          teardown),
      cmocka_unit_test_setup_teardown(
          test_max_topup_into_deep_arrears_clears_them, setup_max_price,
          teardown),
      cmocka_unit_test_setup_teardown(
          test_line_amount_overflow_fails_naming_account, setup_max_price,
          teardown),
      cmocka_unit_test_setup_teardown(
          test_bill_sum_overflow_fails_naming_account, setup_max_price,
          teardown),
      cmocka_unit_test_setup_teardown(test_total_rounding_past_int64_fails,
                                      setup_max_price_less_one, teardown),
      cmocka_unit_test_setup_teardown(test_package_of_max_minutes_covers,
                                      setup_list, teardown),
      cmocka_unit_test_setup_teardown(test_package_minutes_past_max_rejected,
                                      setup_list, teardown),
      cmocka_unit_test_setup_teardown(
          test_session_of_max_seconds_billed_exactly, setup_list, teardown),
      cmocka_unit_test_setup_teardown(test_session_past_max_seconds_rejected,
                                      setup_list, teardown),
      cmocka_unit_test_setup_teardown(test_app_id_int64_max, setup_list,
                                      teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
