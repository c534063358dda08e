/* test_meter.c: metering of usage sessions (SPEC 1.1, 1.2, 1.10) and the
 * tier of a pixel area, including TRTC's published worked examples.
 *
 * Depends on: core/meter.c, core/time.c (rb_day_start), cmocka.
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

#include <cmocka.h>

#include "rtcbill.h"

/* Instants used below, as seconds since the epoch. */
#define T_20201110_0000 INT64_C(1604937600)  /* 2020-11-10T00:00+08:00 */
#define T_20201110_2350 INT64_C(1605023400)  /* 2020-11-10T23:50+08:00 */
#define T_20201111_0000 INT64_C(1605024000)  /* 2020-11-11T00:00+08:00 */
#define T_20201130_0000 INT64_C(1606665600)  /* 2020-11-30T00:00+08:00 */
#define T_20201130_2300 INT64_C(1606748400)  /* 2020-11-30T23:00+08:00 */
#define T_20201201_0000 INT64_C(1606752000)  /* 2020-12-01T00:00+08:00 */
#define T_NOON (T_20201110_0000 + 12 * 3600) /* far from any midnight */

enum { AUDIO = 0, SD = 1, HD = 2, HDP = 3 };
enum { AG_AUDIO = 0, AG_HD = 1, AG_FHD = 2, AG_2K = 3, AG_4K = 4 };

#define MAX_PIECES 16

typedef struct collect {
  size_t n;
  rb_piece p[MAX_PIECES];
  int stop_at; /* return 42 from the call with this index, -1 never */
} collect;

static int collect_cb(void *ctx, const rb_piece *p) {
  collect *c = ctx;

  assert_true(c->n < MAX_PIECES);
  c->p[c->n++] = *p;
  if (c->stop_at >= 0 && (size_t)c->stop_at == c->n - 1)
    return 42;
  return 0;
}

static void set_tier(rb_tariff *t, int i, const char *name, int64_t max) {
  strcpy(t->tiers[i].name, name);
  t->tiers[i].max_pixels = max;
}

/* The default rules' tariff (SPEC 1.1). */
static rb_tariff default_tariff(void) {
  rb_tariff t;

  memset(&t, 0, sizeof t);
  strcpy(t.currency, "CNY");
  t.tz_offset = 8 * 3600;
  t.video_mode = RB_VIDEO_PER_STREAM;
  t.ntiers = 4;
  set_tier(&t, AUDIO, "audio", 0);
  set_tier(&t, SD, "SD", 307200);
  set_tier(&t, HD, "HD", 921600);
  set_tier(&t, HDP, "HD+", INT64_MAX);
  return t;
}

/* The international model of SPEC appendix A (aggregate mode). */
static rb_tariff aggregate_tariff(void) {
  rb_tariff t;

  memset(&t, 0, sizeof t);
  strcpy(t.currency, "USD");
  t.tz_offset = 8 * 3600;
  t.video_mode = RB_VIDEO_AGGREGATE;
  t.ntiers = 5;
  set_tier(&t, AG_AUDIO, "audio", 0);
  set_tier(&t, AG_HD, "HD", 921600);
  set_tier(&t, AG_FHD, "FHD", 2073600);
  set_tier(&t, AG_2K, "2K", 3686400);
  set_tier(&t, AG_4K, "4K", INT64_MAX);
  return t;
}

static collect meter(const rb_tariff *t, rb_time start, int64_t seconds,
                     const rb_segment *v, size_t n) {
  collect c;

  memset(&c, 0, sizeof c);
  c.stop_at = -1;
  assert_int_equal(rb_meter_session(t, start, seconds, v, n, collect_cb, &c),
                   RB_OK);
  return c;
}

static void assert_seconds(const rb_piece *p, int ntiers, const int64_t *want) {
  int i;

  for (i = 0; i < ntiers; i++)
    assert_int_equal(p->seconds[i], want[i]);
  for (; i < RB_MAX_TIERS; i++)
    assert_int_equal(p->seconds[i], 0);
}

/* TRTC's example: A stays 45 min and receives B's 640x360 for 45 min,
 * C's 640x360 then 240x180 and D's 640x360 then 1280x720, 30 + 15 min
 * each: 120 SD minutes and 15 HD minutes, no audio. */
static void test_meter_trtc_example_per_stream(void **state) {
  rb_tariff t = default_tariff();
  const rb_segment v[] = {
      {0, 2700, 640, 360}, {0, 1800, 640, 360},    {1800, 900, 240, 180},
      {0, 1800, 640, 360}, {1800, 900, 1280, 720},
  };
  collect c = meter(&t, T_NOON, 2700, v, 5);
  const int64_t want[] = {0, 7200, 900, 0};

  (void)state;
  assert_int_equal(c.n, 1);
  assert_int_equal(c.p[0].from, T_NOON);
  assert_int_equal(c.p[0].to, T_NOON + 2700);
  assert_int_equal(c.p[0].day_start, T_20201110_0000);
  assert_seconds(&c.p[0], 4, want);
}

/* TRTC's example: 50 min in the room, video only from minute 10 to 25:
 * 35 audio minutes and 15 SD minutes. */
static void test_meter_trtc_example_audio_and_video(void **state) {
  rb_tariff t = default_tariff();
  const rb_segment v[] = {{600, 900, 640, 360}};
  collect c = meter(&t, T_NOON, 3000, v, 1);
  const int64_t want[] = {2100, 900, 0, 0};

  (void)state;
  assert_int_equal(c.n, 1);
  assert_seconds(&c.p[0], 4, want);
}

static void test_meter_no_video_is_audio(void **state) {
  rb_tariff t = default_tariff();
  collect c = meter(&t, T_NOON, 1234, NULL, 0);
  const int64_t want[] = {1234, 0, 0, 0};

  (void)state;
  assert_int_equal(c.n, 1);
  assert_seconds(&c.p[0], 4, want);
}

/* Audio is presence minus the UNION of the segments: overlapping
 * segments must not reduce audio twice. */
static void test_meter_audio_is_presence_minus_union(void **state) {
  rb_tariff t = default_tariff();
  const rb_segment v[] = {
      {100, 300, 640, 360},  /* [100, 400) */
      {300, 300, 640, 360},  /* [300, 600), overlaps the first */
      {800, 100, 1280, 720}, /* [800, 900) */
      {350, 50, 1920, 1080}, /* [350, 400), inside the first two */
  };
  collect c = meter(&t, T_NOON, 1000, v, 4);
  /* Union: [100, 600) + [800, 900) = 600 s, so audio 400. */
  const int64_t want[] = {400, 600, 100, 50};

  (void)state;
  assert_int_equal(c.n, 1);
  assert_seconds(&c.p[0], 4, want);
}

/* Tier bounds are inclusive upper bounds on w x h (SPEC 1.1). */
static void test_meter_pixel_boundaries(void **state) {
  rb_tariff t = default_tariff();
  const rb_segment v[] = {
      {0, 1, 640, 480},  /* 307200: SD */
      {0, 2, 720, 360},  /* 259200: SD */
      {0, 4, 1280, 720}, /* 921600: HD */
      {0, 8, 1281, 720}, /* 922320: HD+ */
      {0, 16, 641, 480}, /* 307680: HD */
  };
  collect c = meter(&t, T_NOON, 100, v, 5);
  const int64_t want[] = {84, 3, 20, 8};

  (void)state;
  assert_int_equal(c.n, 1);
  assert_seconds(&c.p[0], 4, want);
}

static void test_tariff_tier_for_pixels_bounds(void **state) {
  rb_tariff t = default_tariff();

  (void)state;
  assert_int_equal(rb_tariff_tier_for_pixels(&t, 1), SD);
  assert_int_equal(rb_tariff_tier_for_pixels(&t, 307200), SD);
  assert_int_equal(rb_tariff_tier_for_pixels(&t, 307201), HD);
  assert_int_equal(rb_tariff_tier_for_pixels(&t, 921600), HD);
  assert_int_equal(rb_tariff_tier_for_pixels(&t, 921601), HDP);
  assert_int_equal(rb_tariff_tier_for_pixels(&t, INT64_MAX), HDP);
}

/* Tier 0 is audio and is never chosen for received video. */
static void test_tariff_tier_for_pixels_no_video_is_audio(void **state) {
  rb_tariff t = default_tariff();

  (void)state;
  assert_int_equal(rb_tariff_tier_for_pixels(&t, 0), AUDIO);
  assert_int_equal(rb_tariff_tier_for_pixels(&t, -5), AUDIO);
  /* Even a tariff whose audio tier has a non-zero bound. */
  t.tiers[0].max_pixels = 1000;
  assert_int_equal(rb_tariff_tier_for_pixels(&t, 500), SD);
}

/* Above a bounded last tier, the last tier still applies (appendix A:
 * larger sums than 4K count as 4K). */
static void test_tariff_tier_for_pixels_above_last_bound(void **state) {
  rb_tariff t = aggregate_tariff();

  (void)state;
  t.tiers[AG_4K].max_pixels = 8847360;
  assert_int_equal(rb_tariff_tier_for_pixels(&t, 8847360), AG_4K);
  assert_int_equal(rb_tariff_tier_for_pixels(&t, 8847361), AG_4K);
  assert_int_equal(rb_tariff_tier_for_pixels(&t, 3686400), AG_2K);
  assert_int_equal(rb_tariff_tier_for_pixels(&t, 3686401), AG_4K);
}

/* Two 1280x720 streams at once sum to 1 843 200 px: FHD, counted once. */
static void test_meter_aggregate_sums_concurrent_streams(void **state) {
  rb_tariff t = aggregate_tariff();
  const rb_segment v[] = {{0, 600, 1280, 720}, {0, 600, 1280, 720}};
  collect c = meter(&t, T_NOON, 600, v, 2);
  const int64_t want[] = {0, 0, 600, 0, 0};

  (void)state;
  assert_int_equal(c.n, 1);
  assert_seconds(&c.p[0], 5, want);
}

static void test_meter_aggregate_partial_overlaps(void **state) {
  rb_tariff t = aggregate_tariff();
  const rb_segment v[] = {
      {0, 600, 1280, 720},    /* A: [0, 600) 921 600 px */
      {400, 500, 1920, 1080}, /* B: [400, 900) 2 073 600 px */
      {450, 50, 3840, 2160},  /* C: [450, 500) 8 294 400 px */
  };
  collect c = meter(&t, T_NOON, 1000, v, 3);
  /* [0,400) A: HD. [400,450) A+B 2 995 200: 2K. [450,500) A+B+C
   * 11 289 600: 4K. [500,600) A+B: 2K. [600,900) B: FHD.
   * [900,1000): audio. */
  const int64_t want[] = {100, 400, 300, 150, 50};

  (void)state;
  assert_int_equal(c.n, 1);
  assert_seconds(&c.p[0], 5, want);
}

/* The same streams under per_stream count each stream in its own tier. */
static void test_meter_per_stream_does_not_sum(void **state) {
  rb_tariff t = aggregate_tariff();
  const rb_segment v[] = {{0, 600, 1280, 720}, {0, 600, 1280, 720}};
  collect c;
  const int64_t want[] = {0, 1200, 0, 0, 0};

  (void)state;
  t.video_mode = RB_VIDEO_PER_STREAM;
  c = meter(&t, T_NOON, 600, v, 2);
  assert_int_equal(c.n, 1);
  assert_seconds(&c.p[0], 5, want);
}

/* Back-to-back segments: the instant where one ends and the next starts
 * is neither audio nor double video. */
static void test_meter_aggregate_adjacent_segments(void **state) {
  rb_tariff t = aggregate_tariff();
  const rb_segment v[] = {{0, 300, 1280, 720}, {300, 300, 1280, 720}};
  collect c = meter(&t, T_NOON, 600, v, 2);
  const int64_t want[] = {0, 600, 0, 0, 0};

  (void)state;
  assert_int_equal(c.n, 1);
  assert_seconds(&c.p[0], 5, want);
}

/* SPEC 1.10: sessions are split at every midnight of the billing zone. */
static void test_meter_split_at_midnight(void **state) {
  rb_tariff t = default_tariff();
  collect c = meter(&t, T_20201110_2350, 1200, NULL, 0);
  const int64_t want[] = {600, 0, 0, 0};

  (void)state;
  assert_int_equal(c.n, 2);
  assert_int_equal(c.p[0].day_start, T_20201110_0000);
  assert_int_equal(c.p[0].from, T_20201110_2350);
  assert_int_equal(c.p[0].to, T_20201111_0000);
  assert_seconds(&c.p[0], 4, want);
  assert_int_equal(c.p[1].day_start, T_20201111_0000);
  assert_int_equal(c.p[1].from, T_20201111_0000);
  assert_int_equal(c.p[1].to, T_20201111_0000 + 600);
  assert_seconds(&c.p[1], 4, want);
}

static void test_meter_split_across_month_end(void **state) {
  rb_tariff t = default_tariff();
  collect c = meter(&t, T_20201130_2300, 7200, NULL, 0);
  const int64_t want[] = {3600, 0, 0, 0};

  (void)state;
  assert_int_equal(c.n, 2);
  assert_int_equal(c.p[0].day_start, T_20201130_0000);
  assert_int_equal(c.p[0].to, T_20201201_0000);
  assert_seconds(&c.p[0], 4, want);
  assert_int_equal(c.p[1].day_start, T_20201201_0000);
  assert_int_equal(c.p[1].from, T_20201201_0000);
  assert_int_equal(c.p[1].to, T_20201201_0000 + 3600);
  assert_seconds(&c.p[1], 4, want);
}

static void test_meter_segment_crossing_midnight_is_clipped(void **state) {
  rb_tariff t = default_tariff();
  /* [23:55, 00:05) SD and [23:58, 00:01) HD in a [23:50, 00:10) stay. */
  const rb_segment v[] = {{300, 600, 640, 360}, {480, 180, 1280, 720}};
  collect c = meter(&t, T_20201110_2350, 1200, v, 2);
  const int64_t want0[] = {300, 300, 120, 0};
  const int64_t want1[] = {300, 300, 60, 0};

  (void)state;
  assert_int_equal(c.n, 2);
  assert_seconds(&c.p[0], 4, want0);
  assert_seconds(&c.p[1], 4, want1);
}

static void test_meter_aggregate_crossing_midnight(void **state) {
  rb_tariff t = aggregate_tariff();
  const rb_segment v[] = {{300, 600, 1280, 720}, {500, 200, 1280, 720}};
  collect c = meter(&t, T_20201110_2350, 1200, v, 2);
  /* Day 1 [23:50,24:00): audio 300, HD [300,500) 200, FHD [500,600) 100.
   * Day 2: FHD [600,700) 100, HD [700,900) 200, audio 300. */
  const int64_t want0[] = {300, 200, 100, 0, 0};
  const int64_t want1[] = {300, 200, 100, 0, 0};

  (void)state;
  assert_int_equal(c.n, 2);
  assert_seconds(&c.p[0], 5, want0);
  assert_seconds(&c.p[1], 5, want1);
}

/* The split follows the tariff's zone, not UTC. */
static void test_meter_split_follows_tz_offset(void **state) {
  rb_tariff t = default_tariff();
  collect c;

  (void)state;
  /* 23:50+08:00 is 15:50Z: no UTC midnight inside, one piece. */
  t.tz_offset = 0;
  c = meter(&t, T_20201110_2350, 1200, NULL, 0);
  assert_int_equal(c.n, 1);
  assert_int_equal(c.p[0].day_start, T_20201110_0000 + 8 * 3600);
  /* In -05:00 the local midnight falls at 05:00Z. */
  t.tz_offset = -5 * 3600;
  c = meter(&t, T_20201111_0000 + 13 * 3600 - 100, 300, NULL, 0);
  assert_int_equal(c.n, 2);
  assert_int_equal(c.p[0].to, T_20201111_0000 + 13 * 3600);
  assert_int_equal(c.p[0].seconds[AUDIO], 100);
  assert_int_equal(c.p[1].day_start, T_20201111_0000 + 13 * 3600);
  assert_int_equal(c.p[1].seconds[AUDIO], 200);
}

/* A session starting exactly at midnight belongs to that day only, and
 * one ending exactly at midnight gives no empty piece after it. */
static void test_meter_midnight_edges(void **state) {
  rb_tariff t = default_tariff();
  collect c;

  (void)state;
  c = meter(&t, T_20201111_0000, 60, NULL, 0);
  assert_int_equal(c.n, 1);
  assert_int_equal(c.p[0].day_start, T_20201111_0000);
  c = meter(&t, T_20201111_0000 - 60, 60, NULL, 0);
  assert_int_equal(c.n, 1);
  assert_int_equal(c.p[0].day_start, T_20201110_0000);
  assert_int_equal(c.p[0].to, T_20201111_0000);
}

static void test_meter_multi_day_session(void **state) {
  rb_tariff t = default_tariff();
  const rb_segment v[] = {{0, 3 * 86400, 640, 360}};
  collect c = meter(&t, T_20201110_2350, 3 * 86400, v, 1);
  size_t i;

  (void)state;
  assert_int_equal(c.n, 4);
  for (i = 0; i < c.n; i++) {
    assert_int_equal(c.p[i].day_start, T_20201110_0000 + 86400 * (int64_t)i);
    assert_int_equal(c.p[i].seconds[AUDIO], 0);
    assert_int_equal(c.p[i].seconds[SD], c.p[i].to - c.p[i].from);
    if (i > 0)
      assert_int_equal(c.p[i].from, c.p[i - 1].to);
  }
  assert_int_equal(c.p[0].seconds[SD], 600);
  assert_int_equal(c.p[1].seconds[SD], 86400);
  assert_int_equal(c.p[3].seconds[SD], 86400 - 600);
}

static void test_meter_zero_length_session_gives_no_piece(void **state) {
  rb_tariff t = default_tariff();
  collect c = meter(&t, T_NOON, 0, NULL, 0);

  (void)state;
  assert_int_equal(c.n, 0);
}

static void test_meter_zero_length_segment_is_ignored(void **state) {
  rb_tariff t = default_tariff();
  const rb_segment v[] = {{10, 0, 640, 360}, {100, 0, 1280, 720}};
  collect c = meter(&t, T_NOON, 100, v, 2);
  const int64_t want[] = {100, 0, 0, 0};

  (void)state;
  assert_int_equal(c.n, 1);
  assert_seconds(&c.p[0], 4, want);
}

static void test_meter_callback_error_stops(void **state) {
  rb_tariff t = default_tariff();
  collect c;

  (void)state;
  memset(&c, 0, sizeof c);
  c.stop_at = 0;
  assert_int_equal(
      rb_meter_session(&t, T_20201110_2350, 1200, NULL, 0, collect_cb, &c), 42);
  assert_int_equal(c.n, 1);
}

/* More segments than fit the stack buffer take the heap path; the
 * sanitizer build checks that it is released. */
static void test_meter_many_segments(void **state) {
  static rb_segment v[RB_SEGMENTS_MAX];
  rb_tariff t = default_tariff();
  collect c;
  size_t i;

  (void)state;
  /* 1000 back-to-back 640x360 segments of 1 s, then 3096 1280x720 ones
   * all over [0, 100). */
  for (i = 0; i < 1000; i++)
    v[i] = (rb_segment){(int64_t)i, 1, 640, 360};
  for (; i < RB_SEGMENTS_MAX; i++)
    v[i] = (rb_segment){0, 100, 1280, 720};
  c = meter(&t, T_20201110_2350, 1200, v, RB_SEGMENTS_MAX);
  assert_int_equal(c.n, 2);
  assert_int_equal(c.p[0].seconds[AUDIO], 0);
  assert_int_equal(c.p[0].seconds[SD], 600);
  assert_int_equal(c.p[0].seconds[HD], 3096 * 100);
  assert_int_equal(c.p[1].seconds[AUDIO], 200);
  assert_int_equal(c.p[1].seconds[SD], 400);
  assert_int_equal(c.p[1].seconds[HD], 0);

  /* Aggregate: the largest possible sum stays exact (no overflow). */
  t.video_mode = RB_VIDEO_AGGREGATE;
  for (i = 0; i < RB_SEGMENTS_MAX; i++)
    v[i] = (rb_segment){0, 10, RB_PIXELS_SIDE_MAX, RB_PIXELS_SIDE_MAX};
  c = meter(&t, T_NOON, 10, v, RB_SEGMENTS_MAX);
  assert_int_equal(c.n, 1);
  assert_int_equal(c.p[0].seconds[HDP], 10);
  assert_int_equal(c.p[0].seconds[AUDIO], 0);
}

static void test_meter_rejects_invalid_arguments(void **state) {
  rb_tariff t = default_tariff();
  collect c;
  rb_segment v[1];

  (void)state;
  memset(&c, 0, sizeof c);
  c.stop_at = -1;
  v[0] = (rb_segment){50, 60, 640, 360}; /* ends past the presence */
  assert_int_equal(rb_meter_session(&t, T_NOON, 100, v, 1, collect_cb, &c),
                   RB_EINVAL);
  v[0] = (rb_segment){-1, 10, 640, 360};
  assert_int_equal(rb_meter_session(&t, T_NOON, 100, v, 1, collect_cb, &c),
                   RB_EINVAL);
  v[0] = (rb_segment){0, 10, 0, 360};
  assert_int_equal(rb_meter_session(&t, T_NOON, 100, v, 1, collect_cb, &c),
                   RB_EINVAL);
  v[0] = (rb_segment){0, 10, 640, RB_PIXELS_SIDE_MAX + 1};
  assert_int_equal(rb_meter_session(&t, T_NOON, 100, v, 1, collect_cb, &c),
                   RB_EINVAL);
  assert_int_equal(rb_meter_session(&t, T_NOON, -1, NULL, 0, collect_cb, &c),
                   RB_EINVAL);
  assert_int_equal(rb_meter_session(&t, T_NOON, RB_SESSION_SECONDS_MAX + 1,
                                    NULL, 0, collect_cb, &c),
                   RB_EINVAL);
  assert_int_equal(
      rb_meter_session(&t, INT64_MAX - 10, 100, NULL, 0, collect_cb, &c),
      RB_EINVAL);
  assert_int_equal(
      rb_meter_session(&t, T_NOON, 100, v, RB_SEGMENTS_MAX + 1, collect_cb, &c),
      RB_EINVAL);
  t.ntiers = 1;
  assert_int_equal(rb_meter_session(&t, T_NOON, 100, NULL, 0, collect_cb, &c),
                   RB_EINVAL);
  assert_int_equal(c.n, 0);
}

/* Reference metering, one second at a time, straight from the SPEC's
 * wording: slow but obviously right. */
static void brute_force(const rb_tariff *t, rb_time start, int64_t seconds,
                        const rb_segment *v, size_t n, collect *out) {
  int64_t s;

  memset(out, 0, sizeof *out);
  for (s = 0; s < seconds; s++) {
    rb_time at = start + s;
    rb_time day = rb_day_start(at, t->tz_offset);
    rb_piece *p;
    int64_t active = 0, sum = 0;
    size_t i;

    if (out->n == 0 || out->p[out->n - 1].day_start != day) {
      p = &out->p[out->n++];
      p->day_start = day;
      p->from = at;
    }
    p = &out->p[out->n - 1];
    p->to = at + 1;
    for (i = 0; i < n; i++) {
      if (s >= v[i].offset && s < v[i].offset + v[i].seconds) {
        int64_t px = v[i].width * v[i].height;

        active++;
        sum += px;
        if (t->video_mode == RB_VIDEO_PER_STREAM)
          p->seconds[rb_tariff_tier_for_pixels(t, px)]++;
      }
    }
    if (active == 0)
      p->seconds[0]++;
    else if (t->video_mode == RB_VIDEO_AGGREGATE)
      p->seconds[rb_tariff_tier_for_pixels(t, sum)]++;
  }
}

static uint64_t rng_state = 0x2545F4914F6CDD1DULL;

static uint64_t rng(uint64_t bound) {
  /* xorshift64: deterministic, so a failure reproduces. */
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return rng_state % bound;
}

static void test_meter_matches_brute_force(void **state) {
  static const int64_t sides[][2] = {
      {240, 180},  {640, 360},   {640, 480},   {641, 480},
      {1280, 720}, {1920, 1080}, {2560, 1440}, {3840, 2160},
  };
  rb_tariff tariffs[2];
  int round;

  (void)state;
  tariffs[0] = default_tariff();
  tariffs[1] = aggregate_tariff();
  for (round = 0; round < 2000; round++) {
    rb_tariff *t = &tariffs[round % 2];
    rb_segment v[100];
    size_t n = (size_t)rng(round % 3 == 0 ? 100 : 8);
    int64_t seconds = 1 + (int64_t)rng(3000);
    rb_time start = T_20201111_0000 - (int64_t)rng(3000);
    collect got, want;
    size_t i, k;

    for (i = 0; i < n; i++) {
      size_t s = (size_t)rng(8);
      int64_t off = (int64_t)rng((uint64_t)seconds);

      v[i].offset = off;
      v[i].seconds = (int64_t)rng((uint64_t)(seconds - off + 1));
      v[i].width = sides[s][0];
      v[i].height = sides[s][1];
    }
    got = meter(t, start, seconds, v, n);
    brute_force(t, start, seconds, v, n, &want);
    assert_int_equal(got.n, want.n);
    for (i = 0; i < got.n; i++) {
      assert_int_equal(got.p[i].day_start, want.p[i].day_start);
      assert_int_equal(got.p[i].from, want.p[i].from);
      assert_int_equal(got.p[i].to, want.p[i].to);
      for (k = 0; k < RB_MAX_TIERS; k++)
        assert_int_equal(got.p[i].seconds[k], want.p[i].seconds[k]);
    }
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_meter_trtc_example_per_stream),
      cmocka_unit_test(test_meter_trtc_example_audio_and_video),
      cmocka_unit_test(test_meter_no_video_is_audio),
      cmocka_unit_test(test_meter_audio_is_presence_minus_union),
      cmocka_unit_test(test_meter_pixel_boundaries),
      cmocka_unit_test(test_tariff_tier_for_pixels_bounds),
      cmocka_unit_test(test_tariff_tier_for_pixels_no_video_is_audio),
      cmocka_unit_test(test_tariff_tier_for_pixels_above_last_bound),
      cmocka_unit_test(test_meter_aggregate_sums_concurrent_streams),
      cmocka_unit_test(test_meter_aggregate_partial_overlaps),
      cmocka_unit_test(test_meter_per_stream_does_not_sum),
      cmocka_unit_test(test_meter_aggregate_adjacent_segments),
      cmocka_unit_test(test_meter_split_at_midnight),
      cmocka_unit_test(test_meter_split_across_month_end),
      cmocka_unit_test(test_meter_segment_crossing_midnight_is_clipped),
      cmocka_unit_test(test_meter_aggregate_crossing_midnight),
      cmocka_unit_test(test_meter_split_follows_tz_offset),
      cmocka_unit_test(test_meter_midnight_edges),
      cmocka_unit_test(test_meter_multi_day_session),
      cmocka_unit_test(test_meter_zero_length_session_gives_no_piece),
      cmocka_unit_test(test_meter_zero_length_segment_is_ignored),
      cmocka_unit_test(test_meter_callback_error_stops),
      cmocka_unit_test(test_meter_many_segments),
      cmocka_unit_test(test_meter_rejects_invalid_arguments),
      cmocka_unit_test(test_meter_matches_brute_force),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
