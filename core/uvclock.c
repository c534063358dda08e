/* uvclock.c: the real-time driver of a timer queue, one libuv timer armed
 * for the queue's earliest deadline.
 *
 * Deadlines are wall-clock seconds (rb_time), while libuv timers count
 * milliseconds of the loop's monotonic clock, so the delay is recomputed
 * from the wall clock at every arming and a wake-up that comes early
 * simply re-arms. The uv timer's `data` points back to the rb_uvclock;
 * the clock's own `data` is left to the caller. Depends on: rtcbill.h,
 * libuv, the C11 timespec_get.
 */

/* uv.h, included by rtcbill.h, needs the POSIX thread types, which a
 * strict -std=c11 build hides unless POSIX is requested. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include <time.h>

#include "rtcbill.h"

#define UVCLOCK_MS_PER_S INT64_C(1000)
#define UVCLOCK_NS_PER_MS 1000000L

/* The UTC wall clock in seconds, like time(NULL). timespec_get is used
 * rather than time() so that the whole second and the sub-second part
 * that rearm reads come from the same clock (time() may lag it by a
 * clock tick on some systems). */
static rb_time uvclock_default_now(rb_uvclock *c) {
  struct timespec ts;

  (void)c;
  if (timespec_get(&ts, TIME_UTC) != TIME_UTC)
    return (rb_time)time(NULL);
  return (rb_time)ts.tv_sec;
}

static int uvclock_error(int uverr) {
  return uverr == UV_ENOMEM ? RB_ENOMEM : RB_ESTATE;
}

static void uvclock_expired(uv_timer_t *timer) {
  rb_uvclock *c = timer->data;
  rb_time now = c->now(c);
  rb_timer t;

  while (rb_timerq_pop(c->q, now, &t)) {
    c->fire(c, &t);
    /* fire() may close the clock (e.g. at shutdown): nothing more may
     * fire and the handle must not be restarted. */
    if (uv_is_closing((uv_handle_t *)&c->timer))
      return;
  }
  /* A libuv callback cannot report errors; a failed rearm can only mean
   * the handle is closing, which was checked above. */
  (void)rb_uvclock_rearm(c);
}

int rb_uvclock_init(uv_loop_t *loop, rb_uvclock *c, rb_timerq *q,
                    rb_uvclock_fire_cb fire) {
  int rc;

  if (loop == NULL || c == NULL || q == NULL || fire == NULL)
    return RB_EINVAL;
  rc = uv_timer_init(loop, &c->timer);
  if (rc != 0)
    return uvclock_error(rc);
  c->timer.data = c;
  c->q = q;
  c->fire = fire;
  c->now = uvclock_default_now;
  return RB_OK;
}

/* Milliseconds from the wall clock to `due`, 0 when already due. With
 * the default clock the sub-second part is known, so the timer fires
 * right at the start of the due second rather than up to a second late;
 * a replaced clock gives whole seconds only. */
static uint64_t uvclock_delay_ms(rb_uvclock *c, rb_time due) {
  struct timespec ts;
  rb_time now;
  uint64_t elapsed_ms = 0;
  uint64_t diff;

  if (c->now == uvclock_default_now &&
      timespec_get(&ts, TIME_UTC) == TIME_UTC) {
    now = (rb_time)ts.tv_sec;
    elapsed_ms = (uint64_t)(ts.tv_nsec / UVCLOCK_NS_PER_MS);
  } else {
    now = c->now(c);
  }
  if (due <= now)
    return 0;
  /* due > now, so the difference fits uint64 even when the signed
   * subtraction would overflow. */
  diff = (uint64_t)due - (uint64_t)now;
  if (diff > UINT64_MAX / UVCLOCK_MS_PER_S)
    return UINT64_MAX;
  return diff * UVCLOCK_MS_PER_S - elapsed_ms;
}

int rb_uvclock_rearm(rb_uvclock *c) {
  rb_timer next;
  int rc;

  if (c == NULL)
    return RB_EINVAL;
  if (uv_is_closing((uv_handle_t *)&c->timer))
    return RB_ESTATE;
  if (!rb_timerq_peek(c->q, &next)) {
    /* Nothing to wait for: an idle clock must not keep the loop alive. */
    rc = uv_timer_stop(&c->timer);
    return rc == 0 ? RB_OK : uvclock_error(rc);
  }
  /* The loop's cached time may be stale after a long callback; a stale
   * base would make the timer fire early (harmless, but a wasted wake).
   */
  uv_update_time(c->timer.loop);
  rc = uv_timer_start(&c->timer, uvclock_expired, uvclock_delay_ms(c, next.due),
                      0);
  return rc == 0 ? RB_OK : uvclock_error(rc);
}

void rb_uvclock_close(rb_uvclock *c, uv_close_cb cb) {
  /* uv_close on a closing handle is a fatal libuv assertion; closing
   * twice is made harmless instead. */
  if (c == NULL || uv_is_closing((uv_handle_t *)&c->timer))
    return;
  uv_close((uv_handle_t *)&c->timer, cb);
}
