/* meter.c: metering of one usage session into per-tier seconds per local
 * day (SPEC 1.2, 1.3, 1.10), and the tier of a pixel area.
 *
 * A session is swept once over the sorted start/end edges of its video
 * segments and the local midnights it crosses, so the cost is
 * O(n log n) in the number of segments whatever the video mode; the
 * usual per-stream session within one day takes a shorter way with the
 * same result.
 * Depends on: rtcbill.h, rb_day_start (time.c), the C standard library.
 */

/* uv.h, included by rtcbill.h, needs the POSIX thread types, which a
 * strict -std=c11 build hides unless POSIX is requested. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "rtcbill.h"

/* Sessions with up to this many segments are metered without touching
 * the heap: usage records are numerous and usually carry a handful of
 * segments, so the common case must not allocate. */
#define METER_STACK_SEGMENTS 64

/* Bound on |start|: far beyond any real date (about 142 million years),
 * yet low enough that start + seconds, the next midnight and the local
 * time computed by rb_day_start never overflow int64. */
#define METER_TIME_LIMIT (INT64_C(1) << 52)

#define METER_DAY INT64_C(86400)

/* One end of a video segment: at `at` the segment's pixel area enters
 * (delta +1) or leaves (delta -1) the set of received streams. */
typedef struct meter_edge {
  rb_time at;
  int64_t pixels;
  int tier;
  int delta;
} meter_edge;

/* What is received between two consecutive edges. */
typedef struct meter_state {
  int64_t active;              /* segments being received */
  int64_t pixels;              /* sum of their pixel areas */
  int64_t count[RB_MAX_TIERS]; /* per_stream: segments per tier */
} meter_state;

int rb_tariff_tier_for_pixels(const rb_tariff *t, int64_t pixels) {
  int n = t->ntiers > RB_MAX_TIERS ? RB_MAX_TIERS : t->ntiers;
  int i;

  /* Without video, or without any video tier, only audio remains. */
  if (pixels <= 0 || n < 2)
    return 0;
  for (i = 1; i < n; i++) {
    if (pixels <= t->tiers[i].max_pixels)
      return i;
  }
  /* The last tier takes everything above its nominal bound (SPEC
   * appendix A: larger sums than 4K still count as 4K). */
  return n - 1;
}

static int meter_edge_cmp(const void *a, const void *b) {
  const meter_edge *x = a;
  const meter_edge *y = b;

  /* The order of edges at the same instant does not matter: the sweep
   * applies all of them before it measures the next interval. */
  return (x->at > y->at) - (x->at < y->at);
}

/* Checks everything whose violation would make the arithmetic below
 * overflow or index out of bounds. The reader enforces the same limits
 * on input, so this only catches a misuse of the API. */
static int meter_check(const rb_tariff *t, rb_time start, int64_t seconds,
                       const rb_segment *video, size_t nvideo, rb_piece_cb cb) {
  size_t i;

  if (t == NULL || cb == NULL || (video == NULL && nvideo > 0))
    return RB_EINVAL;
  if (t->ntiers < 2 || t->ntiers > RB_MAX_TIERS)
    return RB_EINVAL;
  if (t->video_mode != RB_VIDEO_PER_STREAM &&
      t->video_mode != RB_VIDEO_AGGREGATE)
    return RB_EINVAL;
  if (seconds < 0 || seconds > RB_SESSION_SECONDS_MAX)
    return RB_EINVAL;
  if (start < -METER_TIME_LIMIT || start > METER_TIME_LIMIT)
    return RB_EINVAL;
  if (nvideo > RB_SEGMENTS_MAX)
    return RB_EINVAL;
  for (i = 0; i < nvideo; i++) {
    const rb_segment *s = &video[i];

    if (s->offset < 0 || s->seconds < 0 || s->offset > seconds ||
        s->seconds > seconds - s->offset)
      return RB_EINVAL;
    if (s->width < 1 || s->width > RB_PIXELS_SIDE_MAX || s->height < 1 ||
        s->height > RB_PIXELS_SIDE_MAX)
      return RB_EINVAL;
  }
  return RB_OK;
}

/* Credits `len` seconds of the current state to the piece's tiers. */
static void meter_credit(const rb_tariff *t, const meter_state *st, rb_piece *p,
                         int64_t len) {
  int k;

  if (st->active == 0) {
    p->seconds[0] += len;
  } else if (t->video_mode == RB_VIDEO_AGGREGATE) {
    p->seconds[rb_tariff_tier_for_pixels(t, st->pixels)] += len;
  } else {
    /* Streams are not summed: each counts its own seconds. */
    for (k = 1; k < t->ntiers; k++)
      p->seconds[k] += st->count[k] * len;
  }
}

/* Applies one edge. Pixel sums stay below 2^44 (RB_SEGMENTS_MAX streams
 * of at most RB_PIXELS_SIDE_MAX squared), far inside int64. */
static void meter_apply(meter_state *st, const meter_edge *e) {
  st->active += e->delta;
  st->pixels += e->delta * e->pixels;
  st->count[e->tier] += e->delta;
}

static int meter_sweep(const rb_tariff *t, rb_time start, rb_time end,
                       const meter_edge *edges, size_t nedges, rb_piece_cb cb,
                       void *ctx) {
  meter_state st;
  rb_time now = start;
  size_t i = 0;

  memset(&st, 0, sizeof st);
  while (now < end) {
    rb_piece p;
    rb_time day = rb_day_start(now, t->tz_offset);
    /* Billing zones are fixed offsets: every local day is 86400 s. */
    rb_time piece_end = day + METER_DAY < end ? day + METER_DAY : end;
    int rc;

    memset(&p, 0, sizeof p);
    p.day_start = day;
    p.from = now;
    p.to = piece_end;
    while (now < piece_end) {
      rb_time next = piece_end;

      while (i < nedges && edges[i].at <= now)
        meter_apply(&st, &edges[i++]);
      if (i < nedges && edges[i].at < next)
        next = edges[i].at;
      meter_credit(t, &st, &p, next - now);
      now = next;
    }
    rc = cb(ctx, &p);
    if (rc != 0)
      return rc;
  }
  return RB_OK;
}

/* Sessions with at most this many segments may take the short way. */
#define METER_SHORT_SEGMENTS 16

/* The usual session, per-stream and within one local day, the short way:
 * each segment's seconds go to its own tier, and audio is what no
 * segment covers, the presence less the union of the segments. This is
 * exactly what the sweep computes (streams are not summed in this mode),
 * without the edges. */
static int meter_one_day(const rb_tariff *t, rb_time start, int64_t seconds,
                         rb_time day, const rb_segment *video, size_t nvideo,
                         rb_piece_cb cb, void *ctx) {
  struct {
    int64_t from, to;
  } iv[METER_SHORT_SEGMENTS], x;
  size_t n = 0;
  rb_piece p;

  memset(&p, 0, sizeof p);
  p.day_start = day;
  p.from = start;
  p.to = start + seconds;
  for (size_t i = 0; i < nvideo; i++) {
    const rb_segment *s = &video[i];
    size_t j;

    if (s->seconds == 0)
      continue;
    p.seconds[rb_tariff_tier_for_pixels(t, s->width * s->height)] +=
        s->seconds;
    /* Kept in order of start, for the union below. */
    x.from = s->offset;
    x.to = s->offset + s->seconds;
    for (j = n++; j > 0 && iv[j - 1].from > x.from; j--)
      iv[j] = iv[j - 1];
    iv[j] = x;
  }
  int64_t covered = 0, reach = 0;
  for (size_t i = 0; i < n; i++) {
    int64_t from = iv[i].from > reach ? iv[i].from : reach;
    if (iv[i].to > from)
      covered += iv[i].to - from;
    if (iv[i].to > reach)
      reach = iv[i].to;
  }
  p.seconds[0] = seconds - covered;
  return cb(ctx, &p);
}

int rb_meter_session(const rb_tariff *t, rb_time start, int64_t seconds,
                     const rb_segment *video, size_t nvideo, rb_piece_cb cb,
                     void *ctx) {
  meter_edge stack[2 * METER_STACK_SEGMENTS];
  meter_edge *edges = stack;
  size_t nedges = 0;
  size_t i;
  int rc;

  rc = meter_check(t, start, seconds, video, nvideo, cb);
  if (rc != RB_OK)
    return rc;
  if (seconds == 0)
    return RB_OK;
  if (t->video_mode == RB_VIDEO_PER_STREAM && nvideo <= METER_SHORT_SEGMENTS) {
    rb_time day = rb_day_start(start, t->tz_offset);
    if (start + seconds <= day + METER_DAY)
      return meter_one_day(t, start, seconds, day, video, nvideo, cb, ctx);
  }
  if (nvideo > METER_STACK_SEGMENTS) {
    /* nvideo <= RB_SEGMENTS_MAX, so the size cannot overflow. */
    edges = rb__malloc(2 * nvideo * sizeof *edges);
    if (edges == NULL)
      return RB_ENOMEM;
  }
  for (i = 0; i < nvideo; i++) {
    const rb_segment *s = &video[i];
    int64_t pixels = s->width * s->height;
    int tier = rb_tariff_tier_for_pixels(t, pixels);

    /* A zero-length segment receives nothing and must not turn an
     * instant into video. */
    if (s->seconds == 0)
      continue;
    edges[nedges++] = (meter_edge){start + s->offset, pixels, tier, 1};
    edges[nedges++] =
        (meter_edge){start + s->offset + s->seconds, pixels, tier, -1};
  }
  if (nedges > 16) {
    qsort(edges, nedges, sizeof *edges, meter_edge_cmp);
  } else {
    /* A handful of edges, the usual case: insertion sort, without the
     * comparator calls. */
    for (i = 1; i < nedges; i++) {
      meter_edge x = edges[i];
      size_t j = i;
      for (; j > 0 && edges[j - 1].at > x.at; j--)
        edges[j] = edges[j - 1];
      edges[j] = x;
    }
  }
  rc = meter_sweep(t, start, start + seconds, edges, nedges, cb, ctx);
  if (edges != stack)
    rb__free(edges);
  return rc;
}
