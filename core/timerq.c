/* timerq.c: the timer queue, a binary min-heap of deadlines ordered by
 * (due, kind, insertion number) in a growable array.
 *
 * The engine's virtual clock and the libuv driver (uvclock.c) both pop
 * from it. Depends on: rtcbill.h, the C standard library.
 */

/* uv.h, included by rtcbill.h, needs the POSIX thread types, which a
 * strict -std=c11 build hides unless POSIX is requested. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include <stdlib.h>

#include "alloc.h"
#include "engine.h"
#include "rtcbill.h"

#define TIMERQ_MIN_CAP 16

struct rb_timerq {
  rb_timer *heap;
  size_t len;
  size_t cap;
  uint64_t next_seq;
};

/* The insertion number makes the order total, so deadlines with equal
 * due and kind fire in the order they were added, which a heap alone
 * would not guarantee. */
static bool timer_before(const rb_timer *a, const rb_timer *b) {
  if (a->due != b->due)
    return a->due < b->due;
  if (a->kind != b->kind)
    return a->kind < b->kind;
  return a->seq < b->seq;
}

static void timerq_sift_up(rb_timer *h, size_t i) {
  rb_timer moving = h[i];

  while (i > 0) {
    size_t parent = (i - 1) / 2;

    if (!timer_before(&moving, &h[parent]))
      break;
    h[i] = h[parent];
    i = parent;
  }
  h[i] = moving;
}

static void timerq_sift_down(rb_timer *h, size_t len, size_t i) {
  rb_timer moving = h[i];

  for (;;) {
    size_t child = 2 * i + 1;

    if (child >= len)
      break;
    if (child + 1 < len && timer_before(&h[child + 1], &h[child]))
      child++;
    if (!timer_before(&h[child], &moving))
      break;
    h[i] = h[child];
    i = child;
  }
  h[i] = moving;
}

int rb_timerq_new(rb_timerq **out) {
  rb_timerq *q;

  if (out == NULL)
    return RB_EINVAL;
  q = rb__calloc(1, sizeof *q);
  if (q == NULL)
    return RB_ENOMEM;
  *out = q;
  return RB_OK;
}

void rb_timerq_free(rb_timerq *q) {
  if (q == NULL)
    return;
  rb__free(q->heap);
  rb__free(q);
}

int rb_timerq_reserve(rb_timerq *q, size_t extra) {
  if (q == NULL)
    return RB_EINVAL;
  if (extra <= q->cap - q->len)
    return RB_OK;
  size_t cap = q->cap == 0 ? TIMERQ_MIN_CAP : q->cap;
  while (cap - q->len < extra) {
    if (cap > SIZE_MAX / 2 / sizeof *q->heap)
      return RB_ENOMEM;
    cap *= 2;
  }
  /* On failure realloc keeps the old block, so the queue is intact. */
  rb_timer *heap = rb__realloc(q->heap, cap * sizeof *heap);
  if (heap == NULL)
    return RB_ENOMEM;
  q->heap = heap;
  q->cap = cap;
  return RB_OK;
}

static void push(rb_timerq *q, const rb_timer *t) {
  q->heap[q->len] = *t;
  timerq_sift_up(q->heap, q->len);
  q->len++;
}

int rb_timerq_add(rb_timerq *q, rb_time due, uint32_t kind, uint64_t payload) {
  int rc = rb_timerq_reserve(q, 1);
  if (rc != RB_OK)
    return rc;
  push(q, &(rb_timer){due, kind, q->next_seq++, payload});
  return RB_OK;
}

int rb__timerq_add_seq(rb_timerq *q, rb_time due, uint32_t kind, uint64_t seq,
                       uint64_t payload) {
  int rc = rb_timerq_reserve(q, 1);
  if (rc != RB_OK)
    return rc;
  /* Restoring a popped timer checks its number against next_seq. */
  if (seq >= q->next_seq)
    q->next_seq = seq + 1;
  push(q, &(rb_timer){due, kind, seq, payload});
  return RB_OK;
}

int rb_timerq_restore(rb_timerq *q, const rb_timer *t) {
  if (t == NULL || t->seq >= q->next_seq)
    return RB_EINVAL;
  int rc = rb_timerq_reserve(q, 1);
  if (rc != RB_OK)
    return rc;
  push(q, t);
  return RB_OK;
}

bool rb_timerq_peek(const rb_timerq *q, rb_timer *out) {
  if (q == NULL || q->len == 0)
    return false;
  if (out != NULL)
    *out = q->heap[0];
  return true;
}

bool rb_timerq_pop(rb_timerq *q, rb_time limit, rb_timer *out) {
  if (q == NULL || q->len == 0 || q->heap[0].due > limit)
    return false;
  if (out != NULL)
    *out = q->heap[0];
  q->len--;
  if (q->len > 0) {
    q->heap[0] = q->heap[q->len];
    timerq_sift_down(q->heap, q->len, 0);
  }
  return true;
}

size_t rb_timerq_len(const rb_timerq *q) { return q == NULL ? 0 : q->len; }
