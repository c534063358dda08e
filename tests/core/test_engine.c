/* test_engine.c: the engine through its public API, with the rules given
 * as plain C data and a C stub policy (no Lua), so that each behaviour
 * is pinned independently of the rules host.
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

/* ---------------------------------------------------------------- */
/* Fixture: the default TRTC rules as C data, a stub policy, a sink  */
/* ---------------------------------------------------------------- */

#define TZ FIXTURE_TZ

typedef struct world {
  fixture_policy policy;
  rb_rules *rules;
  rb_engine *engine;
  rb_arena *arena;
  rb_buf bills, notices;
  int nbills;
  rb_bill_line last_lines[16];
  size_t last_nlines;
  rb_money last_total, last_balance;
  char last_bill[64];
} world;

static int sink_bill(void *ctx, const rb_bill *b) {
  world *w = ctx;
  w->nbills++;
  snprintf(w->last_bill, sizeof w->last_bill, "%s", b->id);
  w->last_nlines = b->nlines < 16 ? b->nlines : 16;
  memcpy(w->last_lines, b->lines, w->last_nlines * sizeof *b->lines);
  w->last_total = b->total;
  w->last_balance = b->balance_after;
  return rb_bill_to_json(b, &w->bills);
}

static int sink_notice(void *ctx, const rb_notice *n) {
  world *w = ctx;
  return rb_notice_to_json(n, TZ, &w->notices);
}

static int setup(void **state) {
  world *w = calloc(1, sizeof *w);
  w->rules = fixture_rules(&w->policy);
  rb_sink sink = {w, sink_bill, sink_notice, NULL};
  assert_int_equal(rb_engine_new(w->rules, &sink, &w->engine), RB_OK);
  w->arena = rb_arena_new();
  *state = w;
  return 0;
}

static int teardown(void **state) {
  world *w = *state;
  rb_engine_free(w->engine);
  rb_rules_unref(w->rules);
  rb_arena_free(w->arena);
  rb_buf_free(&w->bills);
  rb_buf_free(&w->notices);
  free(w);
  return 0;
}

/* Applies one JSON event line; returns the engine's result. */
static int feed(world *w, const char *line, rb_reject *rej) {
  rb_event ev;
  rb_reject prej;
  int rc = rb_event_parse(w->arena, line, strlen(line), &ev, &prej);
  if (rc != RB_OK)
    fail_msg("test line does not parse: %s: %s", prej.code, prej.message);
  rb_reject tmp;
  return rb_engine_apply(w->engine, &ev, rej ? rej : &tmp);
}

static void ok(world *w, const char *line) {
  rb_reject rej;
  int rc = feed(w, line, &rej);
  if (rc != RB_OK)
    fail_msg("event refused (%d): %s %s", rc, rej.code, rej.message);
}

static bool has(const rb_buf *b, const char *needle) {
  return b->data != NULL && strstr(b->data, needle) != NULL;
}

/* An old monthly account (no trial) with one postpaid app. */
static void monthly_postpaid(world *w) {
  ok(w, "{\"type\":\"account\",\"account\":\"A\",\"at\":\"2019-06-01T09:00:00"
        "+08:00\",\"balance\":\"100.00\"}");
  ok(w, "{\"type\":\"app\",\"app\":1,\"account\":\"A\",\"at\":\"2019-06-01T"
        "09:05:00+08:00\",\"postpaid\":true}");
}

static const char *usage_fmt =
    "{\"type\":\"usage\",\"id\":\"%s\",\"app\":%d,\"user\":\"u\",\"room\":"
    "\"r\",\"start\":\"%s\",\"seconds\":%d}";

static void usage(world *w, const char *id, int app, const char *start,
                  int seconds) {
  char line[512];
  snprintf(line, sizeof line, usage_fmt, id, app, start, seconds);
  ok(w, line);
}

static rb_time t(const char *s) {
  rb_time v;
  assert_int_equal(rb_time_parse(s, strlen(s), &v, NULL), RB_OK);
  return v;
}

/* ---------------------------------------------------------------- */
/* Cases                                                            */
/* ---------------------------------------------------------------- */

static void test_engine_running_total_ceil(void **state) {
  world *w = *state;
  monthly_postpaid(w);
  usage(w, "u1", 1, "2020-11-02T00:01:00+08:00", 30);
  usage(w, "u2", 1, "2020-11-02T00:06:00+08:00", 20);
  usage(w, "u3", 1, "2020-11-02T00:11:00+08:00", 40);
  assert_int_equal(rb_engine_settle_horizon(w->engine),
                   t("2020-12-01T10:00:00+08:00"));
  assert_int_equal(rb_engine_advance(w->engine, t("2020-12-01T10:00:00+08:00")),
                   RB_OK);
  assert_int_equal(w->nbills, 1);
  assert_string_equal(w->last_bill, "A/2020-11");
  assert_int_equal(w->last_nlines, 1);
  assert_int_equal(w->last_lines[0].minutes, 2);
  assert_int_equal(w->last_lines[0].postpaid, 2);
  assert_int_equal(w->last_lines[0].amount, 1400000); /* 0.014 */
  assert_int_equal(w->last_total, 1000000);           /* 0.01 */
  assert_int_equal(w->last_balance, 9999000000);
  assert_int_equal(rb_engine_settle_horizon(w->engine), RB_TIME_NONE);
}

static void test_engine_rejected_event_changes_nothing(void **state) {
  world *w = *state;
  monthly_postpaid(w);
  rb_time before = rb_engine_now(w->engine);
  rb_reject rej;
  /* A usage of an unknown app far in the future: refused, and the clock
   * must not move (no timer may fire for it). */
  char line[512];
  snprintf(line, sizeof line, usage_fmt, "x", 99, "2030-01-01T00:00:00+08:00",
           60);
  assert_int_equal(feed(w, line, &rej), RB_EREJECT);
  assert_string_equal(rej.code, "unknown_app");
  assert_string_equal(rej.field, "app");
  assert_int_equal(rb_engine_now(w->engine), before);
  assert_int_equal(feed(w,
                        "{\"type\":\"disable_postpaid\",\"app\":1,\"at\":"
                        "\"2030-01-01T00:00:00+08:00\"}",
                        &rej),
                   RB_EREJECT);
  assert_string_equal(rej.code, "postpaid_irreversible");
  assert_int_equal(feed(w,
                        "{\"type\":\"app\",\"app\":1,\"account\":\"A\",\"at\":"
                        "\"2030-01-01T00:00:00+08:00\"}",
                        &rej),
                   RB_EREJECT);
  assert_string_equal(rej.code, "duplicate_app");
  assert_int_equal(rb_engine_now(w->engine), before);
  assert_int_equal(w->nbills, 0);
}

static void test_engine_duplicate_and_conflict(void **state) {
  world *w = *state;
  monthly_postpaid(w);
  usage(w, "u1", 1, "2020-11-10T20:00:00+08:00", 1800);
  char line[512];
  snprintf(line, sizeof line, usage_fmt, "u1", 1, "2020-11-10T20:00:00+08:00",
           1800);
  assert_int_equal(feed(w, line, NULL), RB_DUPLICATE);
  snprintf(line, sizeof line, usage_fmt, "u1", 1, "2020-11-10T20:00:00+08:00",
           1801);
  rb_reject rej;
  assert_int_equal(feed(w, line, &rej), RB_EREJECT);
  assert_string_equal(rej.code, "conflict");
  assert_int_equal(rb_engine_advance(w->engine, t("2020-12-01T10:00:00+08:00")),
                   RB_OK);
  assert_int_equal(w->last_lines[0].minutes, 30);
  assert_true(has(&w->notices, "\"type\":\"duplicate_usage\""));
}

static void test_engine_trial_exhaustion_stops_then_package_resumes(
    void **state) {
  world *w = *state;
  ok(w, "{\"type\":\"account\",\"account\":\"T\",\"at\":\"2020-10-01T09:00:00"
        "+08:00\"}");
  ok(w, "{\"type\":\"app\",\"app\":7,\"account\":\"T\",\"at\":\"2020-10-01T"
        "10:00:00+08:00\"}");
  assert_int_equal(w->policy.cycle_calls, 1);
  assert_true(has(&w->notices, "\"type\":\"trial_granted\""));
  /* 10 020 minutes in one session: the trial covers 10 000. */
  usage(w, "big", 7, "2020-10-02T00:00:00+08:00", 601200);
  assert_int_equal(w->policy.exhaustion_calls, 1);
  assert_true(has(&w->notices, "\"reason\":\"trial_exhausted\""));
  /* While stopped, uncovered minutes are unbilled without asking again. */
  usage(w, "more", 7, "2020-10-10T00:00:00+08:00", 600);
  assert_int_equal(w->policy.exhaustion_calls, 1);
  ok(w, "{\"type\":\"package\",\"package\":\"P\",\"account\":\"T\",\"at\":"
        "\"2020-10-10T12:00:00+08:00\",\"kind\":\"general\",\"minutes\":100,"
        "\"price\":\"1.00\"}");
  assert_int_equal(rb_engine_advance(w->engine, t("2020-10-10T12:05:00+08:00")),
                   RB_OK);
  assert_true(has(&w->notices, "\"type\":\"service_resumed\""));
  assert_int_equal(rb_engine_advance(w->engine, t("2020-10-11T10:00:00+08:00")),
                   RB_OK);
  /* Day 10's 10 unbilled minutes were covered retroactively. */
  assert_string_equal(w->last_bill, "T/2020-10-10");
  assert_int_equal(w->last_lines[0].covered, 10);
  assert_int_equal(w->last_lines[0].unbilled, 0);
}

static void test_engine_policy_failure_is_reported(void **state) {
  world *w = *state;
  ok(w, "{\"type\":\"account\",\"account\":\"N\",\"at\":\"2019-01-01T09:00:00"
        "+08:00\"}");
  ok(w, "{\"type\":\"app\",\"app\":3,\"account\":\"N\",\"at\":\"2019-01-01T"
        "10:00:00+08:00\"}");
  w->policy.fail_exhaustion = true;
  char line[512];
  snprintf(line, sizeof line, usage_fmt, "u", 3, "2020-01-02T00:00:00+08:00",
           60);
  assert_int_equal(feed(w, line, NULL), RB_EPOLICY);
  assert_string_equal(rb_engine_last_error(w->engine),
                      "stub.lua:1: failed on purpose");
  /* The engine refuses further work rather than bill from a torn state. */
  assert_int_equal(rb_engine_advance(w->engine, t("2021-01-01T00:00:00+08:00")),
                   RB_EPOLICY);
}

static void test_engine_cycle_switch_closes_month(void **state) {
  world *w = *state;
  monthly_postpaid(w);
  usage(w, "u1", 1, "2020-11-03T20:00:00+08:00", 600);
  ok(w, "{\"type\":\"change_cycle\",\"account\":\"A\",\"at\":\"2020-11-10T"
        "08:00:00+08:00\",\"cycle\":\"daily\"}");
  /* The open month now ends with the switch day and is billed the next
   * morning. */
  assert_int_equal(rb_engine_settle_horizon(w->engine),
                   t("2020-11-11T10:00:00+08:00"));
  assert_int_equal(rb_engine_advance(w->engine, t("2020-11-11T10:00:00+08:00")),
                   RB_OK);
  assert_int_equal(w->nbills, 1);
  assert_string_equal(w->last_bill, "A/2020-11");
  assert_true(has(&w->bills, "\"period_end\":\"2020-11-11T00:00:00+08:00\""));
  usage(w, "u2", 1, "2020-11-12T20:00:00+08:00", 600);
  assert_int_equal(rb_engine_settle_horizon(w->engine),
                   t("2020-11-13T10:00:00+08:00"));
  assert_int_equal(rb_engine_advance(w->engine, t("2020-11-13T10:00:00+08:00")),
                   RB_OK);
  assert_int_equal(w->nbills, 2);
  assert_string_equal(w->last_bill, "A/2020-11-12");
  rb_reject rej;
  assert_int_equal(feed(w,
                        "{\"type\":\"change_cycle\",\"account\":\"A\",\"at\":"
                        "\"2020-11-20T08:00:00+08:00\",\"cycle\":\"monthly\"}",
                        &rej),
                   RB_EREJECT);
  assert_string_equal(rej.code, "cycle_change_not_allowed");
}

static void test_engine_arrears_reclaim(void **state) {
  world *w = *state;
  ok(w, "{\"type\":\"account\",\"account\":\"D\",\"at\":\"2019-06-01T09:00:00"
        "+08:00\",\"balance\":\"0.01\"}");
  ok(w, "{\"type\":\"app\",\"app\":5,\"account\":\"D\",\"at\":\"2019-06-01T"
        "09:05:00+08:00\",\"postpaid\":true}");
  ok(w, "{\"type\":\"package\",\"package\":\"G\",\"account\":\"D\",\"at\":"
        "\"2020-10-01T09:00:00+08:00\",\"kind\":\"general\",\"minutes\":10,"
        "\"price\":\"1.00\"}");
  /* 1000 HD minutes on Oct 20: 2 covered by the package, 998 postpaid. */
  char line[512];
  snprintf(line, sizeof line,
           "{\"type\":\"usage\",\"id\":\"h\",\"app\":5,\"user\":\"u\",\"room\""
           ":\"r\",\"start\":\"2020-10-20T08:00:00+08:00\",\"seconds\":60000,"
           "\"video\":[{\"offset\":0,\"seconds\":60000,\"width\":1280,"
           "\"height\":720}]}");
  ok(w, line);
  assert_int_equal(rb_engine_advance(w->engine, t("2021-01-01T00:00:00+08:00")),
                   RB_OK);
  assert_int_equal(w->nbills, 1);
  assert_int_equal(w->last_lines[0].covered, 2);
  assert_int_equal(w->last_lines[0].postpaid, 998);
  assert_true(has(&w->notices, "\"type\":\"arrears_notice\""));
  assert_true(has(&w->notices, "\"at\":\"2020-11-02T10:00:00+08:00\","
                               "\"type\":\"service_stopped\""));
  /* 60 days after the stop: reclaimed, the package's rest forfeited. */
  assert_int_equal(rb_engine_advance(w->engine, t("2021-01-01T10:00:00+08:00")),
                   RB_OK);
  assert_true(has(&w->notices, "\"type\":\"account_reclaimed\""));
  assert_true(has(&w->notices, "\"forfeited\":2"));
  /* A top-up clears the debt but never resumes a reclaimed account. */
  ok(w, "{\"type\":\"topup\",\"account\":\"D\",\"at\":\"2021-01-05T09:00:00"
        "+08:00\",\"amount\":\"100.00\"}");
  assert_true(has(&w->notices, "\"type\":\"arrears_cleared\""));
  assert_false(has(&w->notices, "\"type\":\"service_resumed\""));
}

/* Records what the trace sink saw, one short line per record. */
static int sink_trace(void *ctx, const rb_trace *tr) {
  world *w = ctx;
  static const char *names[] = {"usage", "cover", "uncovered", "retro",
                                "billed"};
  return rb_buf_printf(&w->bills, "%s app=%lld tier=%d s=%lld/%lld m=%lld "
                       "pkg=%s f=%lld pp=%d bill=%s\n",
                       names[tr->type], (long long)tr->app, tr->tier,
                       (long long)tr->seconds, (long long)tr->acc_seconds,
                       (long long)tr->minutes,
                       tr->package ? tr->package : "-", (long long)tr->factor,
                       (int)tr->postpaid, tr->bill ? tr->bill : "-");
}

static void test_engine_trace_explains_a_line(void **state) {
  world *w = *state;
  rb_engine_free(w->engine);
  rb_sink sink = {w, NULL, NULL, sink_trace};
  assert_int_equal(rb_engine_new(w->rules, &sink, &w->engine), RB_OK);
  monthly_postpaid(w);
  ok(w, "{\"type\":\"package\",\"package\":\"G\",\"account\":\"A\",\"at\":"
        "\"2020-11-01T09:00:00+08:00\",\"kind\":\"general\",\"minutes\":10,"
        "\"price\":\"1.00\"}");
  /* 3 HD minutes: 2 covered by G (8 of its 10), 1 postpaid. */
  ok(w, "{\"type\":\"usage\",\"id\":\"h\",\"app\":1,\"user\":\"u\",\"room\""
        ":\"r\",\"start\":\"2020-11-02T08:00:00+08:00\",\"seconds\":150,"
        "\"video\":[{\"offset\":0,\"seconds\":150,\"width\":1280,"
        "\"height\":720}]}");
  assert_int_equal(rb_engine_advance(w->engine, t("2020-12-01T10:00:00+08:00")),
                   RB_OK);
  assert_string_equal(
      w->bills.data,
      "usage app=1 tier=2 s=150/150 m=3 pkg=- f=0 pp=0 bill=-\n"
      "cover app=1 tier=2 s=0/0 m=2 pkg=G f=4 pp=0 bill=-\n"
      "uncovered app=1 tier=2 s=0/0 m=1 pkg=- f=0 pp=1 bill=-\n"
      "billed app=1 tier=2 s=0/0 m=0 pkg=- f=0 pp=0 bill=A/2020-11\n");
}

static void test_engine_account_view_and_digest(void **state) {
  world *w = *state;
  monthly_postpaid(w);
  ok(w, "{\"type\":\"package\",\"package\":\"G\",\"account\":\"A\",\"at\":"
        "\"2020-11-01T09:00:00+08:00\",\"kind\":\"general\",\"minutes\":10,"
        "\"price\":\"1.00\"}");
  usage(w, "u1", 1, "2020-11-02T08:00:00+08:00", 120);
  rb_account_info info;
  assert_int_equal(rb_engine_account(w->engine, "nobody", &info), RB_ENOENT);
  assert_int_equal(rb_engine_account(w->engine, "A", &info), RB_OK);
  assert_string_equal(info.id, "A");
  assert_int_equal(info.balance, 10000000000);
  assert_true(info.has_cycle);
  assert_int_equal(info.cycle, RB_CYCLE_MONTHLY);
  assert_int_equal(info.napps, 1);
  assert_int_equal(info.apps[0].app, 1);
  assert_true(info.apps[0].postpaid);
  assert_int_equal(info.apps[0].stops, 0);
  assert_int_equal(info.npackages, 1);
  assert_string_equal(info.packages[0].state, "active");
  assert_int_equal(info.packages[0].remaining, 8);
  assert_int_equal(info.packages[0].expires, t("2021-12-01T00:00:00+08:00"));
  assert_int_equal(info.open_periods, 1);
  assert_int_equal(rb_engine_next_timer(w->engine),
                   t("2020-12-01T10:00:00+08:00"));

  /* The digest depends on the state, not on how it was reached. */
  world *v = calloc(1, sizeof *v);
  v->rules = w->rules;
  v->arena = rb_arena_new();
  rb_sink sink = {v, sink_bill, sink_notice, NULL};
  assert_int_equal(rb_engine_new(w->rules, &sink, &v->engine), RB_OK);
  monthly_postpaid(v);
  ok(v, "{\"type\":\"package\",\"package\":\"G\",\"account\":\"A\",\"at\":"
        "\"2020-11-01T09:00:00+08:00\",\"kind\":\"general\",\"minutes\":10,"
        "\"price\":\"1.00\"}");
  usage(v, "u1", 1, "2020-11-02T08:00:00+08:00", 120);
  assert_int_equal(rb_engine_digest(v->engine), rb_engine_digest(w->engine));
  usage(v, "u2", 1, "2020-11-02T09:00:00+08:00", 1);
  assert_int_not_equal(rb_engine_digest(v->engine),
                       rb_engine_digest(w->engine));
  rb_engine_free(v->engine);
  rb_arena_free(v->arena);
  rb_buf_free(&v->bills);
  rb_buf_free(&v->notices);
  free(v);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_engine_running_total_ceil, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(
          test_engine_rejected_event_changes_nothing, setup, teardown),
      cmocka_unit_test_setup_teardown(test_engine_duplicate_and_conflict,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(
          test_engine_trial_exhaustion_stops_then_package_resumes, setup,
          teardown),
      cmocka_unit_test_setup_teardown(test_engine_policy_failure_is_reported,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(test_engine_cycle_switch_closes_month,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(test_engine_arrears_reclaim, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_engine_trace_explains_a_line,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(test_engine_account_view_and_digest,
                                      setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
