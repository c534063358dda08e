/* test_timerq.c: the timer queue's order (due, then kind, then insertion)
 * and its pop limit, against a sorted reference on random input.
 *
 * Depends on: core/timerq.c, cmocka.
 */

/* uv.h, included by rtcbill.h, needs the POSIX thread types, which a
 * strict -std=c11 build hides unless POSIX is requested. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "rtcbill.h"

static rb_timerq *new_queue(void) {
  rb_timerq *q = NULL;

  assert_int_equal(rb_timerq_new(&q), RB_OK);
  assert_non_null(q);
  return q;
}

static void test_timerq_new_is_empty(void **state) {
  rb_timerq *q = new_queue();
  rb_timer t;

  (void)state;
  assert_int_equal(rb_timerq_len(q), 0);
  assert_false(rb_timerq_peek(q, &t));
  assert_false(rb_timerq_pop(q, INT64_MAX, &t));
  rb_timerq_free(q);
}

static void test_timerq_new_rejects_null(void **state) {
  (void)state;
  assert_int_equal(rb_timerq_new(NULL), RB_EINVAL);
  rb_timerq_free(NULL); /* must be harmless */
}

static void test_timerq_orders_by_due(void **state) {
  rb_timerq *q = new_queue();
  rb_timer t;

  (void)state;
  assert_int_equal(rb_timerq_add(q, 300, 0, 3), RB_OK);
  assert_int_equal(rb_timerq_add(q, 100, 9, 1), RB_OK);
  assert_int_equal(rb_timerq_add(q, 200, 5, 2), RB_OK);
  assert_int_equal(rb_timerq_len(q), 3);
  assert_true(rb_timerq_pop(q, INT64_MAX, &t));
  assert_int_equal(t.due, 100);
  assert_int_equal(t.payload, 1);
  assert_true(rb_timerq_pop(q, INT64_MAX, &t));
  assert_int_equal(t.due, 200);
  assert_int_equal(t.payload, 2);
  assert_true(rb_timerq_pop(q, INT64_MAX, &t));
  assert_int_equal(t.due, 300);
  assert_int_equal(t.payload, 3);
  assert_false(rb_timerq_pop(q, INT64_MAX, &t));
  rb_timerq_free(q);
}

/* SPEC 1.10: at the same instant the smaller kind fires first. */
static void test_timerq_same_due_orders_by_kind(void **state) {
  rb_timerq *q = new_queue();
  rb_timer t;
  const uint32_t want[] = {0, 1, 2, 3, 4};
  size_t i;

  (void)state;
  assert_int_equal(rb_timerq_add(q, 50, 3, 0), RB_OK);
  assert_int_equal(rb_timerq_add(q, 50, 4, 0), RB_OK);
  assert_int_equal(rb_timerq_add(q, 50, 1, 0), RB_OK);
  assert_int_equal(rb_timerq_add(q, 50, 0, 0), RB_OK);
  assert_int_equal(rb_timerq_add(q, 50, 2, 0), RB_OK);
  for (i = 0; i < 5; i++) {
    assert_true(rb_timerq_pop(q, 50, &t));
    assert_int_equal(t.kind, want[i]);
  }
  rb_timerq_free(q);
}

static void test_timerq_same_due_and_kind_orders_by_insertion(void **state) {
  rb_timerq *q = new_queue();
  rb_timer t;
  uint64_t i;

  (void)state;
  for (i = 0; i < 40; i++)
    assert_int_equal(rb_timerq_add(q, 7, 1, 100 + i), RB_OK);
  /* A different kind in between must not disturb the others' order. */
  assert_int_equal(rb_timerq_add(q, 7, 0, 99), RB_OK);
  assert_true(rb_timerq_pop(q, 7, &t));
  assert_int_equal(t.payload, 99);
  assert_int_equal(t.seq, 40);
  for (i = 0; i < 40; i++) {
    assert_true(rb_timerq_pop(q, 7, &t));
    assert_int_equal(t.payload, 100 + i);
    assert_int_equal(t.seq, i);
  }
  rb_timerq_free(q);
}

static void test_timerq_pop_respects_limit(void **state) {
  rb_timerq *q = new_queue();
  rb_timer t;

  (void)state;
  assert_int_equal(rb_timerq_add(q, 1000, 0, 1), RB_OK);
  assert_int_equal(rb_timerq_add(q, 2000, 0, 2), RB_OK);
  memset(&t, 0xAB, sizeof t);
  assert_false(rb_timerq_pop(q, 999, &t));
  assert_int_equal(rb_timerq_len(q), 2);
  assert_true(rb_timerq_pop(q, 1000, &t)); /* due == limit is due */
  assert_int_equal(t.payload, 1);
  assert_false(rb_timerq_pop(q, 1999, &t));
  assert_int_equal(rb_timerq_len(q), 1);
  assert_true(rb_timerq_pop(q, 5000, &t));
  assert_int_equal(t.payload, 2);
  assert_int_equal(rb_timerq_len(q), 0);
  rb_timerq_free(q);
}

static void test_timerq_peek_does_not_remove(void **state) {
  rb_timerq *q = new_queue();
  rb_timer t;

  (void)state;
  assert_int_equal(rb_timerq_add(q, 20, 2, 77), RB_OK);
  assert_int_equal(rb_timerq_add(q, 10, 5, 88), RB_OK);
  assert_true(rb_timerq_peek(q, &t));
  assert_int_equal(t.due, 10);
  assert_int_equal(t.kind, 5);
  assert_int_equal(t.payload, 88);
  assert_int_equal(t.seq, 1);
  assert_true(rb_timerq_peek(q, NULL));
  assert_int_equal(rb_timerq_len(q), 2);
  rb_timerq_free(q);
}

static void test_timerq_extreme_dues(void **state) {
  rb_timerq *q = new_queue();
  rb_timer t;

  (void)state;
  assert_int_equal(rb_timerq_add(q, INT64_MAX, 0, 3), RB_OK);
  assert_int_equal(rb_timerq_add(q, 0, 0, 2), RB_OK);
  assert_int_equal(rb_timerq_add(q, INT64_MIN, 0, 1), RB_OK);
  assert_true(rb_timerq_pop(q, INT64_MIN, &t));
  assert_int_equal(t.payload, 1);
  assert_false(rb_timerq_pop(q, -1, &t));
  assert_true(rb_timerq_pop(q, INT64_MAX, &t));
  assert_int_equal(t.payload, 2);
  assert_true(rb_timerq_pop(q, INT64_MAX, &t));
  assert_int_equal(t.payload, 3);
  rb_timerq_free(q);
}

static uint64_t rng_state = 0x9E3779B97F4A7C15ULL;

static uint64_t rng(uint64_t bound) {
  /* xorshift64: deterministic, so a failure reproduces. */
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return rng_state % bound;
}

static int ref_cmp(const void *a, const void *b) {
  const rb_timer *x = a;
  const rb_timer *y = b;

  if (x->due != y->due)
    return x->due < y->due ? -1 : 1;
  if (x->kind != y->kind)
    return x->kind < y->kind ? -1 : 1;
  return (x->seq > y->seq) - (x->seq < y->seq);
}

#define RANDOM_N 5000

/* Small ranges for due and kind make ties common, so the tie-breaks are
 * exercised, not only the main order. */
static void test_timerq_random_inserts_pop_sorted(void **state) {
  static rb_timer ref[RANDOM_N];
  rb_timerq *q = new_queue();
  rb_timer t;
  size_t i;

  (void)state;
  for (i = 0; i < RANDOM_N; i++) {
    ref[i].due = (rb_time)rng(500) - 250;
    ref[i].kind = (uint32_t)rng(5);
    ref[i].seq = i;
    ref[i].payload = i;
    assert_int_equal(rb_timerq_add(q, ref[i].due, ref[i].kind, i), RB_OK);
  }
  assert_int_equal(rb_timerq_len(q), RANDOM_N);
  qsort(ref, RANDOM_N, sizeof ref[0], ref_cmp);
  for (i = 0; i < RANDOM_N; i++) {
    assert_true(rb_timerq_pop(q, INT64_MAX, &t));
    assert_int_equal(t.due, ref[i].due);
    assert_int_equal(t.kind, ref[i].kind);
    assert_int_equal(t.seq, ref[i].seq);
    assert_int_equal(t.payload, ref[i].payload);
  }
  assert_false(rb_timerq_pop(q, INT64_MAX, &t));
  rb_timerq_free(q);
}

/* Adds and pops interleaved, checked against a linear-scan minimum. */
static void test_timerq_interleaved_add_and_pop(void **state) {
  static rb_timer live[RANDOM_N];
  rb_timerq *q = new_queue();
  size_t nlive = 0;
  uint64_t seq = 0;
  int step;

  (void)state;
  for (step = 0; step < 20000; step++) {
    if (nlive < RANDOM_N && (nlive == 0 || rng(3) != 0)) {
      rb_timer n = {(rb_time)rng(100), (uint32_t)rng(3), seq, seq};

      assert_int_equal(rb_timerq_add(q, n.due, n.kind, n.payload), RB_OK);
      live[nlive++] = n;
      seq++;
    } else {
      rb_time limit = (rb_time)rng(120);
      size_t min = 0, i;
      rb_timer t;

      for (i = 1; i < nlive; i++) {
        if (ref_cmp(&live[i], &live[min]) < 0)
          min = i;
      }
      if (live[min].due > limit) {
        assert_false(rb_timerq_pop(q, limit, &t));
        continue;
      }
      assert_true(rb_timerq_pop(q, limit, &t));
      assert_int_equal(t.payload, live[min].payload);
      assert_int_equal(t.seq, live[min].seq);
      live[min] = live[--nlive];
    }
    assert_int_equal(rb_timerq_len(q), nlive);
  }
  rb_timerq_free(q);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_timerq_new_is_empty),
      cmocka_unit_test(test_timerq_new_rejects_null),
      cmocka_unit_test(test_timerq_orders_by_due),
      cmocka_unit_test(test_timerq_same_due_orders_by_kind),
      cmocka_unit_test(test_timerq_same_due_and_kind_orders_by_insertion),
      cmocka_unit_test(test_timerq_pop_respects_limit),
      cmocka_unit_test(test_timerq_peek_does_not_remove),
      cmocka_unit_test(test_timerq_extreme_dues),
      cmocka_unit_test(test_timerq_random_inserts_pop_sorted),
      cmocka_unit_test(test_timerq_interleaved_add_and_pop),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
