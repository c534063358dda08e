/* test_alloc_fail.c: running out of memory never half-applies an event.
 *
 * A scenario that touches every part of the engine (trial grant and
 * exhaustion, purchase, activation with retroactive cover, duplicates,
 * late usage, a cycle switch, bills, arrears, grace, reclaim) is run
 * once for reference, counting the core's allocations. Then, for every
 * k up to that count, it is run again with the k-th allocation failing:
 * the call that saw RB_ENOMEM is retried (allocations succeed again), and
 * the run must end with exactly the reference's bills and notices (a
 * half-applied event would repeat notices or count minutes twice) and
 * with every allocation freed.
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
/* An allocator that fails once, at the k-th allocation             */
/* ---------------------------------------------------------------- */

typedef struct counter {
  long count;   /* allocations seen while counting */
  long fail_at; /* 0: never */
  long live;    /* blocks not yet freed */
  int paused;   /* > 0 while the test's own sinks allocate */
  bool failed;  /* the failure has happened */
} counter;

static counter C;

/* Each block carries a header (keeping max alignment) saying whether it
 * counts as live: blocks of the test's own output buffers do not. */
#define HDR 16

static bool should_fail(void) {
  if (C.paused > 0)
    return false;
  C.count++;
  if (C.count == C.fail_at) {
    C.failed = true;
    return true;
  }
  return false;
}

static void *t_malloc(void *ctx, size_t n) {
  (void)ctx;
  if (should_fail())
    return NULL;
  char *p = malloc(n + HDR);
  if (p == NULL)
    return NULL;
  p[0] = C.paused == 0;
  C.live += p[0];
  return p + HDR;
}

static void *t_realloc(void *ctx, void *ptr, size_t n) {
  if (ptr == NULL)
    return t_malloc(ctx, n);
  if (should_fail())
    return NULL;
  char *p = realloc((char *)ptr - HDR, n + HDR);
  return p ? p + HDR : NULL;
}

static void t_free(void *ctx, void *ptr) {
  (void)ctx;
  if (ptr == NULL)
    return;
  char *p = (char *)ptr - HDR;
  C.live -= p[0];
  free(p);
}

static const rb_allocator counting = {NULL, t_malloc, t_realloc, t_free};

/* ---------------------------------------------------------------- */
/* Sinks: the test's own output, not counted as the engine's memory  */
/* ---------------------------------------------------------------- */

#define TZ FIXTURE_TZ

static int sink_bill(void *ctx, const rb_bill *b) {
  C.paused++;
  int rc = rb_bill_to_json(b, ctx);
  C.paused--;
  return rc;
}

static int sink_notice(void *ctx, const rb_notice *n) {
  C.paused++;
  int rc = rb_notice_to_json(n, TZ, ctx);
  C.paused--;
  return rc;
}

/* ---------------------------------------------------------------- */
/* The scenario                                                     */
/* ---------------------------------------------------------------- */

static const char *const events[] = {
    "{\"type\":\"account\",\"account\":\"A\",\"at\":\"2019-06-01T09:00:00+08:"
    "00\",\"balance\":\"1.00\"}",
    "{\"type\":\"app\",\"app\":1,\"account\":\"A\",\"at\":\"2019-06-01T09:05:"
    "00+08:00\",\"postpaid\":true}",
    "{\"type\":\"account\",\"account\":\"T\",\"at\":\"2020-10-01T09:00:00+08:"
    "00\"}",
    "{\"type\":\"app\",\"app\":7,\"account\":\"T\",\"at\":\"2020-10-01T10:00:"
    "00+08:00\"}",
    "{\"type\":\"app\",\"app\":8,\"account\":\"T\",\"at\":\"2020-10-01T11:00:"
    "00+08:00\"}",
    "{\"type\":\"package\",\"package\":\"P\",\"account\":\"A\",\"at\":\"2020-"
    "10-01T12:00:00+08:00\",\"kind\":\"general\",\"minutes\":100,\"price\":"
    "\"0.70\"}",
    "{\"type\":\"usage\",\"id\":\"a1\",\"app\":1,\"user\":\"x\",\"room\":\"r\""
    ",\"start\":\"2020-10-02T23:00:00+08:00\",\"seconds\":7200,\"video\":[{"
    "\"offset\":0,\"seconds\":3000,\"width\":640,\"height\":360},{\"offset\":"
    "600,\"seconds\":6000,\"width\":1280,\"height\":720},{\"offset\":7000,"
    "\"seconds\":200,\"width\":1920,\"height\":1080}]}",
    "{\"type\":\"usage\",\"id\":\"t1\",\"app\":7,\"user\":\"y\",\"room\":\"r\""
    ",\"start\":\"2020-10-03T00:00:00+08:00\",\"seconds\":86000}",
    "{\"type\":\"usage\",\"id\":\"t2\",\"app\":8,\"user\":\"z\",\"room\":\"r\""
    ",\"start\":\"2020-10-03T00:00:00+08:00\",\"seconds\":86000,\"video\":[{"
    "\"offset\":0,\"seconds\":86000,\"width\":640,\"height\":360}]}",
    "{\"type\":\"usage\",\"id\":\"t1\",\"app\":7,\"user\":\"y\",\"room\":\"r\""
    ",\"start\":\"2020-10-03T00:00:00+08:00\",\"seconds\":86000}",
    "{\"type\":\"usage\",\"id\":\"t3\",\"app\":7,\"user\":\"y\",\"room\":\"r\""
    ",\"start\":\"2020-10-05T08:00:00+08:00\",\"seconds\":600}",
    "{\"type\":\"package\",\"package\":\"Q\",\"account\":\"T\",\"at\":\"2020-"
    "10-05T12:00:00+08:00\",\"kind\":\"general\",\"minutes\":200,\"price\":"
    "\"1.40\"}",
    "{\"type\":\"usage\",\"id\":\"t4\",\"app\":8,\"user\":\"y\",\"room\":\"r\""
    ",\"start\":\"2020-10-06T08:00:00+08:00\",\"seconds\":6000,\"video\":[{"
    "\"offset\":0,\"seconds\":6000,\"width\":1280,\"height\":720}]}",
    "{\"type\":\"usage\",\"id\":\"a2\",\"app\":1,\"user\":\"x\",\"room\":\"r\""
    ",\"start\":\"2020-10-31T20:00:00+08:00\",\"seconds\":600,\"received\":"
    "\"2020-11-02T08:00:00+08:00\"}",
    "{\"type\":\"change_cycle\",\"account\":\"A\",\"at\":\"2020-11-10T08:00:"
    "00+08:00\",\"cycle\":\"daily\"}",
    "{\"type\":\"usage\",\"id\":\"a3\",\"app\":1,\"user\":\"x\",\"room\":\"r\""
    ",\"start\":\"2020-11-12T08:00:00+08:00\",\"seconds\":30000,\"video\":[{"
    "\"offset\":0,\"seconds\":30000,\"width\":1920,\"height\":1080}]}",
    "{\"type\":\"topup\",\"account\":\"A\",\"at\":\"2020-11-20T08:00:00+08:"
    "00\",\"amount\":\"1.00\"}",
    "{\"type\":\"usage\",\"id\":\"a4\",\"app\":1,\"user\":\"x\",\"room\":\"r\""
    ",\"start\":\"2020-11-25T08:00:00+08:00\",\"seconds\":600}",
    "{\"type\":\"topup\",\"account\":\"T\",\"at\":\"2021-02-01T08:00:00+08:"
    "00\",\"amount\":\"1.00\"}",
};
#define NEVENTS (sizeof events / sizeof *events)

typedef struct outcome {
  rb_buf out;
  int results[NEVENTS];
  int retries;
} outcome;

/* Runs the scenario under the counting allocator. A call that fails for
 * want of memory is retried once; any other failure fails the test. */
static void run(rb_rules *rules, outcome *o) {
  memset(o, 0, sizeof *o);
  rb_engine *e = NULL;
  rb_arena *arena = NULL;
  int rc;
  /* Bills and notices go to one buffer, in the order they come. */
  rb_sink sink = {&o->out, sink_bill, sink_notice, NULL};
  while ((arena = rb_arena_new()) == NULL)
    o->retries++;
  while ((rc = rb_engine_new(rules, &sink, &e)) == RB_ENOMEM)
    o->retries++;
  assert_int_equal(rc, RB_OK);
  for (size_t i = 0; i < NEVENTS; i++) {
    rb_event ev;
    rb_reject rej;
    while ((rc = rb_event_parse(arena, events[i], strlen(events[i]), &ev,
                                &rej)) == RB_ENOMEM)
      o->retries++;
    assert_int_equal(rc, RB_OK);
    while ((rc = rb_engine_apply(e, &ev, &rej)) == RB_ENOMEM)
      o->retries++;
    o->results[i] = rc;
  }
  rb_time end;
  assert_int_equal(
      rb_time_parse("2021-12-01T00:00:00+08:00", 25, &end, NULL), RB_OK);
  while ((rc = rb_engine_advance(e, end)) == RB_ENOMEM)
    o->retries++;
  assert_int_equal(rc, RB_OK);
  rb_engine_free(e);
  rb_arena_free(arena);
}

static void test_alloc_fail_every_allocation(void **state) {
  (void)state;
  rb_set_allocator(&counting);
  rb_rules *rules = fixture_rules(NULL);
  long baseline = C.live;

  outcome ref;
  C.count = 0;
  C.fail_at = 0;
  run(rules, &ref);
  long total = C.count;
  assert_int_equal(C.live, baseline);
  printf("[          ] %ld allocations in the reference run\n", total);
  assert_true(total > 30);
  assert_non_null(strstr(ref.out.data, "\"bill\":\"A/2020-10\""));
  assert_non_null(strstr(ref.out.data, "\"type\":\"account_reclaimed\""));
  assert_non_null(strstr(ref.out.data, "\"type\":\"package_activated\""));
  assert_non_null(strstr(ref.out.data, "\"late\":true"));
  assert_non_null(strstr(ref.out.data, "\"type\":\"duplicate_usage\""));
  assert_non_null(strstr(ref.out.data, "\"type\":\"package_expired\""));
  assert_non_null(strstr(ref.out.data, "\"type\":\"service_stopped\""));

  for (long k = 1; k <= total; k++) {
    outcome o;
    C.count = 0;
    C.fail_at = k;
    C.failed = false;
    run(rules, &o);
    if (!C.failed)
      fail_msg("allocation %ld of %ld never happened", k, total);
    if (o.retries != 1)
      fail_msg("allocation %ld: %d retries", k, o.retries);
    if (strcmp(o.out.data, ref.out.data) != 0)
      fail_msg("allocation %ld changed the output:\n%s\n---\n%s", k,
               o.out.data, ref.out.data);
    assert_memory_equal(o.results, ref.results, sizeof o.results);
    C.paused++;
    rb_buf_free(&o.out);
    C.paused--;
    if (C.live != baseline)
      fail_msg("allocation %ld: %ld blocks leaked", k, C.live - baseline);
  }
  rb_buf_free(&ref.out);
  rb_rules_unref(rules);
  assert_int_equal(C.live, 0);
  rb_set_allocator(NULL);
  printf("[          ] %ld allocation failures, each survived\n", total);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_alloc_fail_every_allocation),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
