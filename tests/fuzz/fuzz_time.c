/* fuzz_time.c: fuzz target for RFC 3339 times and the calendar
 * (core/time.c).
 *
 * Text input: whatever rb_time_parse accepts must format in its own
 * offset and parse back to the same instant and offset, its local day
 * and month starts must bracket it, and a refusal must be RB_ESYNTAX or
 * RB_ERANGE only.
 * Binary input (first byte 0xFF, then 8 + 4 + 4 bytes): an arbitrary
 * instant, offset and month count go through the formatter and the day
 * and month helpers, which must answer or refuse without undefined
 * behaviour; whatever formats must parse back.
 * Depends on: fuzz.h, rtcbill.h (time).
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include <string.h>

#include "fuzz.h"
#include "rtcbill.h"

#define DAY 86400

static void check_roundtrip(rb_time t, int32_t off) {
  char buf[RB_TIME_STRLEN], date[16];
  rb_time back;
  int32_t off2 = 99;
  int n = rb_time_format(t, off, buf, sizeof buf);
  if (n < 0) {
    FUZZ_CHECK(n == RB_ERANGE);
    return;
  }
  FUZZ_CHECK(n == 25);
  FUZZ_CHECK(rb_time_parse(buf, (size_t)n, &back, &off2) == RB_OK);
  FUZZ_CHECK(back == t && off2 == off);
  FUZZ_CHECK(rb_date_format(t, off, true, date, sizeof date) == 10);
  FUZZ_CHECK(memcmp(date, buf, 10) == 0);
  FUZZ_CHECK(rb_date_format(t, off, false, date, sizeof date) == 7);
  /* Too small a buffer is refused, never overrun. */
  FUZZ_CHECK(rb_time_format(t, off, buf, 25) == RB_ENOSPACE);
}

static void check_calendar(rb_time t, int32_t off) {
  rb_time d = rb_day_start(t, off), m = rb_month_start(t, off);
  int64_t y;
  unsigned mo, dd;
  FUZZ_CHECK(d != RB_TIME_NONE && m != RB_TIME_NONE);
  FUZZ_CHECK(d <= t && t < d + DAY);
  FUZZ_CHECK(m <= d);
  FUZZ_CHECK(rb_month_add(t, 1, off) > t);
  FUZZ_CHECK(rb_month_add(t, -1, off) < m);
  FUZZ_CHECK(rb_month_start(m, off) == m);
  /* Civil dates and day numbers are inverse. */
  int64_t days = (d + off) / DAY;
  rb_civil_from_days(days, &y, &mo, &dd);
  FUZZ_CHECK(mo >= 1 && mo <= 12 && dd >= 1 && dd <= 31);
  FUZZ_CHECK(rb_days_from_civil(y, mo, dd) == days);
  rb_civil_from_days((m + off) / DAY, &y, &mo, &dd);
  FUZZ_CHECK(dd == 1);
}

static void check_text(const char *s, size_t len) {
  rb_time t;
  int32_t off;
  int rc = rb_time_parse(s, len, &t, &off);
  FUZZ_CHECK(rc == RB_OK || rc == RB_ESYNTAX || rc == RB_ERANGE);
  if (rc != RB_OK)
    return;
  FUZZ_CHECK(off % 60 == 0 && off >= -(23 * 3600 + 59 * 60) &&
             off <= 23 * 3600 + 59 * 60);
  /* Parsing accepted a local time of years 1..9999, so it formats. */
  FUZZ_CHECK(rb_time_format(t, off, NULL, 0) == RB_ENOSPACE);
  check_roundtrip(t, off);
  check_roundtrip(t, 0);
  check_roundtrip(t, 8 * 3600);
  check_calendar(t, off);
  check_calendar(t, 8 * 3600);
}

static uint64_t getn(const uint8_t *p, int n) {
  uint64_t u = 0;
  for (int i = 0; i < n; i++)
    u = u << 8 | p[i];
  return u;
}

static void check_binary(const uint8_t *p) {
  rb_time t = (rb_time)getn(p, 8);
  int32_t off = (int32_t)(uint32_t)getn(p + 8, 4);
  int months = (int)(int32_t)(uint32_t)getn(p + 12, 4);
  /* Arbitrary values: only "no crash, no UB" and round trips. */
  check_roundtrip(t, off);
  (void)rb_day_start(t, off);
  (void)rb_month_start(t, off);
  /* The calendar helpers promise sane answers for real offsets and for
   * instants within +-2^62 s. */
  if (off >= -86399 && off <= 86399 && months > -1000000 && months < 1000000 &&
      t > -((int64_t)1 << 50) && t < ((int64_t)1 << 50)) {
    rb_time m = rb_month_add(t, months, off);
    FUZZ_CHECK(m != RB_TIME_NONE);
    FUZZ_CHECK(rb_month_start(m, off) == m);
    FUZZ_CHECK(months <= 0 || m > t);
    FUZZ_CHECK(months > 0 || m <= t);
  }
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size >= 17 && data[0] == 0xFF) {
    check_binary(data + 1);
    return 0;
  }
  check_text((const char *)data, size);
  return 0;
}
