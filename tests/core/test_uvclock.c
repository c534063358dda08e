/* test_uvclock.c: the libuv real-time driver of the timer queue, on a
 * real loop: firing order, never before the due second, re-arming, and
 * a loop that ends once the clock is closed.
 *
 * Depends on: core/uvclock.c, core/timerq.c, libuv, cmocka.
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
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "rtcbill.h"

#define MAX_FIRED 8

/* What a test observes, reached through the clock's `data`. */
typedef struct observed {
  size_t nfired;
  uint64_t payload[MAX_FIRED];
  rb_time due[MAX_FIRED];
  rb_time wall[MAX_FIRED]; /* the wall-clock second when it fired */
  uint64_t close_after;    /* close the clock after this payload fires */
  uint64_t add_on;         /* on this payload, add (due, 0, add_payload) */
  uint64_t add_payload;
  int closed;
  rb_time fake_now;
} observed;

static rb_time wall_now(void) {
  struct timespec ts;

  assert_int_equal(timespec_get(&ts, TIME_UTC), TIME_UTC);
  return (rb_time)ts.tv_sec;
}

static rb_time fake_now(rb_uvclock *c) {
  return ((observed *)c->data)->fake_now;
}

static void on_close(uv_handle_t *h) {
  /* The timer handle's data is the clock (documented in uvclock.c). */
  rb_uvclock *c = h->data;

  ((observed *)c->data)->closed++;
}

static void on_fire(rb_uvclock *c, const rb_timer *t) {
  observed *o = c->data;

  assert_true(o->nfired < MAX_FIRED);
  o->payload[o->nfired] = t->payload;
  o->due[o->nfired] = t->due;
  o->wall[o->nfired] = wall_now();
  o->nfired++;
  if (o->add_on != 0 && t->payload == o->add_on)
    assert_int_equal(rb_timerq_add(c->q, t->due, 0, o->add_payload), RB_OK);
  if (t->payload == o->close_after)
    rb_uvclock_close(c, on_close);
}

typedef struct fixture {
  uv_loop_t loop;
  rb_timerq *q;
  rb_uvclock clock;
  observed obs;
} fixture;

static int setup(void **state) {
  static fixture f;

  memset(&f, 0, sizeof f);
  if (uv_loop_init(&f.loop) != 0 || rb_timerq_new(&f.q) != RB_OK)
    return -1;
  f.clock.data = &f.obs;
  if (rb_uvclock_init(&f.loop, &f.clock, f.q, on_fire) != RB_OK)
    return -1;
  *state = &f;
  return 0;
}

static int teardown(void **state) {
  fixture *f = *state;

  /* Close the clock if the test did not, and drain the close. */
  rb_uvclock_close(&f->clock, NULL);
  uv_run(&f->loop, UV_RUN_DEFAULT);
  rb_timerq_free(f->q);
  return uv_loop_close(&f->loop) == 0 ? 0 : -1;
}

static void test_uvclock_init_sets_fields(void **state) {
  fixture *f = *state;

  assert_ptr_equal(f->clock.q, f->q);
  assert_ptr_equal(f->clock.data, &f->obs); /* left to the caller */
  assert_non_null(f->clock.now);
  assert_ptr_equal(f->clock.timer.data, &f->clock);
  /* The default clock is the wall clock. */
  assert_true(f->clock.now(&f->clock) - (rb_time)time(NULL) <= 1);
  assert_true((rb_time)time(NULL) - f->clock.now(&f->clock) <= 1);
}

static void test_uvclock_init_rejects_null(void **state) {
  fixture *f = *state;
  rb_uvclock other;

  assert_int_equal(rb_uvclock_init(NULL, &other, f->q, on_fire), RB_EINVAL);
  assert_int_equal(rb_uvclock_init(&f->loop, NULL, f->q, on_fire), RB_EINVAL);
  assert_int_equal(rb_uvclock_init(&f->loop, &other, NULL, on_fire), RB_EINVAL);
  assert_int_equal(rb_uvclock_init(&f->loop, &other, f->q, NULL), RB_EINVAL);
}

/* The real thing: three deadlines one and two seconds ahead fire in
 * (due, kind) order, none before its second, and the loop ends when the
 * last one closes the clock. */
static void test_uvclock_fires_in_order_in_real_time(void **state) {
  fixture *f = *state;
  rb_time now = f->clock.now(&f->clock);
  size_t i;

  assert_int_equal(rb_timerq_add(f->q, now + 1, 2, 1), RB_OK);
  assert_int_equal(rb_timerq_add(f->q, now + 1, 1, 2), RB_OK);
  assert_int_equal(rb_timerq_add(f->q, now + 2, 0, 3), RB_OK);
  f->obs.close_after = 3;
  assert_int_equal(rb_uvclock_rearm(&f->clock), RB_OK);
  assert_int_equal(uv_run(&f->loop, UV_RUN_DEFAULT), 0);

  assert_int_equal(f->obs.nfired, 3);
  assert_int_equal(f->obs.payload[0], 2); /* kind 1 before kind 2 */
  assert_int_equal(f->obs.payload[1], 1);
  assert_int_equal(f->obs.payload[2], 3);
  for (i = 0; i < 3; i++) {
    assert_true(f->obs.wall[i] >= f->obs.due[i]);
    /* Armed to the millisecond, so not a whole second late either. */
    assert_true(f->obs.wall[i] <= f->obs.due[i] + 1);
  }
  assert_int_equal(f->obs.closed, 1);
  assert_int_equal(rb_timerq_len(f->q), 0);
}

/* Deadlines already due fire on the first loop iteration; later ones
 * stay queued. */
static void test_uvclock_due_deadlines_fire_at_once(void **state) {
  fixture *f = *state;

  f->clock.now = fake_now;
  f->obs.fake_now = 1000;
  assert_int_equal(rb_timerq_add(f->q, 1100, 0, 3), RB_OK);
  assert_int_equal(rb_timerq_add(f->q, 1000, 0, 2), RB_OK);
  assert_int_equal(rb_timerq_add(f->q, 995, 7, 1), RB_OK);
  f->obs.close_after = 2;
  assert_int_equal(rb_uvclock_rearm(&f->clock), RB_OK);
  assert_int_equal(uv_timer_get_due_in(&f->clock.timer), 0);
  assert_int_equal(uv_run(&f->loop, UV_RUN_DEFAULT), 0);
  assert_int_equal(f->obs.nfired, 2);
  assert_int_equal(f->obs.payload[0], 1);
  assert_int_equal(f->obs.payload[1], 2);
  assert_int_equal(rb_timerq_len(f->q), 1);
  assert_int_equal(f->obs.closed, 1);
}

/* A deadline that fire() adds for the current second fires in the same
 * expiry, after the one being fired. */
static void test_uvclock_fire_may_add_deadlines(void **state) {
  fixture *f = *state;

  f->clock.now = fake_now;
  f->obs.fake_now = 1000;
  f->obs.add_on = 1;
  f->obs.add_payload = 2;
  f->obs.close_after = 2;
  assert_int_equal(rb_timerq_add(f->q, 1000, 5, 1), RB_OK);
  assert_int_equal(rb_uvclock_rearm(&f->clock), RB_OK);
  assert_int_equal(uv_run(&f->loop, UV_RUN_DEFAULT), 0);
  assert_int_equal(f->obs.nfired, 2);
  assert_int_equal(f->obs.payload[0], 1);
  assert_int_equal(f->obs.payload[1], 2);
}

/* Rearming follows the queue's head: a later deadline arms a long delay,
 * an earlier one added afterwards shortens it. */
static void test_uvclock_rearm_tracks_earliest(void **state) {
  fixture *f = *state;

  f->clock.now = fake_now;
  f->obs.fake_now = 1000;
  assert_int_equal(rb_timerq_add(f->q, 1100, 0, 1), RB_OK);
  assert_int_equal(rb_uvclock_rearm(&f->clock), RB_OK);
  assert_true(uv_is_active((uv_handle_t *)&f->clock.timer));
  assert_int_equal(uv_timer_get_due_in(&f->clock.timer), 100000);
  assert_int_equal(rb_timerq_add(f->q, 1003, 0, 2), RB_OK);
  assert_int_equal(rb_uvclock_rearm(&f->clock), RB_OK);
  assert_int_equal(uv_timer_get_due_in(&f->clock.timer), 3000);
  /* Far-future and "no time" deadlines do not overflow the delay. */
  assert_true(rb_timerq_pop(f->q, INT64_MAX, NULL));
  assert_true(rb_timerq_pop(f->q, INT64_MAX, NULL));
  assert_int_equal(rb_timerq_add(f->q, INT64_MAX, 0, 3), RB_OK);
  assert_int_equal(rb_uvclock_rearm(&f->clock), RB_OK);
  assert_true(uv_timer_get_due_in(&f->clock.timer) > 100000);
  assert_int_equal(rb_timerq_add(f->q, RB_TIME_NONE, 0, 4), RB_OK);
  assert_int_equal(rb_uvclock_rearm(&f->clock), RB_OK);
  assert_int_equal(uv_timer_get_due_in(&f->clock.timer), 0);
}

/* With the default clock the sub-second part counts: one second ahead
 * is at most 1000 ms away, and more than 0. */
static void test_uvclock_default_clock_arms_to_the_millisecond(void **state) {
  fixture *f = *state;
  uint64_t due_in;

  assert_int_equal(rb_timerq_add(f->q, f->clock.now(&f->clock) + 1, 0, 1),
                   RB_OK);
  assert_int_equal(rb_uvclock_rearm(&f->clock), RB_OK);
  due_in = uv_timer_get_due_in(&f->clock.timer);
  assert_true(due_in >= 1);
  assert_true(due_in <= 1000);
}

/* An empty queue leaves the timer stopped, so the loop can end. */
static void test_uvclock_empty_queue_does_not_hold_loop(void **state) {
  fixture *f = *state;

  f->clock.now = fake_now;
  f->obs.fake_now = 1000;
  assert_int_equal(rb_timerq_add(f->q, 2000, 0, 1), RB_OK);
  assert_int_equal(rb_uvclock_rearm(&f->clock), RB_OK);
  assert_true(uv_is_active((uv_handle_t *)&f->clock.timer));
  assert_true(rb_timerq_pop(f->q, INT64_MAX, NULL));
  assert_int_equal(rb_uvclock_rearm(&f->clock), RB_OK);
  assert_false(uv_is_active((uv_handle_t *)&f->clock.timer));
  assert_int_equal(uv_run(&f->loop, UV_RUN_DEFAULT), 0);
  assert_int_equal(f->obs.nfired, 0);
}

static void test_uvclock_close_is_idempotent(void **state) {
  fixture *f = *state;

  rb_uvclock_close(&f->clock, on_close);
  rb_uvclock_close(&f->clock, on_close);
  assert_int_equal(rb_uvclock_rearm(&f->clock), RB_ESTATE);
  assert_int_equal(uv_run(&f->loop, UV_RUN_DEFAULT), 0);
  assert_int_equal(f->obs.closed, 1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
      T(test_uvclock_init_sets_fields),
      T(test_uvclock_init_rejects_null),
      T(test_uvclock_fires_in_order_in_real_time),
      T(test_uvclock_due_deadlines_fire_at_once),
      T(test_uvclock_fire_may_add_deadlines),
      T(test_uvclock_rearm_tracks_earliest),
      T(test_uvclock_default_clock_arms_to_the_millisecond),
      T(test_uvclock_empty_queue_does_not_hold_loop),
      T(test_uvclock_close_is_idempotent),
#undef T
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
