/* time.c: RFC 3339 times and the proleptic Gregorian calendar.
 *
 * Times are int64 seconds since 1970-01-01T00:00:00Z; a local calendar is
 * a fixed offset from UTC (the billing time zone comes from the rules).
 * All divisions that cross zero are floor divisions, so instants before
 * 1970 and offsets west of UTC land in the right local day. The calendar
 * conversions are Howard Hinnant's days_from_civil / civil_from_days
 * ("chrono-Compatible Low-Level Date Algorithms"). Depends on: rtcbill.h
 * and the C standard library.
 */

/* uv.h, included by rtcbill.h, needs the POSIX thread types, which a
 * strict -std=c11 build hides unless POSIX is requested. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include <string.h>

#include "rtcbill.h"

#define DAY 86400
/* The largest offset RFC 3339 can write: 23:59. */
#define OFFSET_MAX (23 * 3600 + 59 * 60)
/* Instants handled by the day and month helpers: about +-1.4e11 years,
 * far beyond any real time, and small enough that adding an offset or
 * converting to days can never overflow. Outside it they answer
 * RB_TIME_NONE. */
#define TIME_LIMIT ((int64_t)1 << 62)

static int64_t floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0)))
    q--;
  return q;
}

static int64_t floor_mod(int64_t a, int64_t b) {
  return a - floor_div(a, b) * b;
}

int64_t rb_days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;                             /* [0, 399] */
  int64_t mp = m > 2 ? (int64_t)m - 3 : (int64_t)m + 9;    /* March = 0 */
  int64_t doy = (153 * mp + 2) / 5 + (int64_t)d - 1;       /* [0, 365] */
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;     /* [0, 146096] */
  return era * 146097 + doe - 719468;
}

void rb_civil_from_days(int64_t days, int64_t *y, unsigned *m,
                        unsigned *d) {
  int64_t z = days + 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  int64_t doe = z - era * 146097;                            /* [0, 146096] */
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);     /* [0, 365] */
  int64_t mp = (5 * doy + 2) / 153;                          /* [0, 11] */
  unsigned dd = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
  unsigned mm = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
  if (y != NULL)
    *y = yoe + era * 400 + (mm <= 2);
  if (m != NULL)
    *m = mm;
  if (d != NULL)
    *d = dd;
}

static int is_leap(int64_t y) {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned days_in_month(int64_t y, unsigned m) {
  static const unsigned dim[12] = {31, 28, 31, 30, 31, 30,
                                   31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : dim[m - 1];
}

/* Reads exactly n ASCII digits at s; -1 if any is not a digit. */
static int digits(const char *s, int n) {
  int v = 0;
  for (int i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9')
      return -1;
    v = v * 10 + (s[i] - '0');
  }
  return v;
}

int rb_time_parse(const char *s, size_t len, rb_time *out, int32_t *offset) {
  /* "YYYY-MM-DDTHH:MM:SS" is 19 bytes, then an optional fraction, then
   * "Z" or "+HH:MM". Syntax is checked in full before any range, so that
   * "2020-13-01Tjunk" is a syntax error. */
  if (s == NULL || out == NULL)
    return RB_EINVAL;
  if (len < 20)
    return RB_ESYNTAX;
  int year = digits(s, 4), mon = digits(s + 5, 2), day = digits(s + 8, 2);
  int hour = digits(s + 11, 2), min = digits(s + 14, 2);
  int sec = digits(s + 17, 2);
  if (year < 0 || mon < 0 || day < 0 || hour < 0 || min < 0 || sec < 0 ||
      s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') ||
      s[13] != ':' || s[16] != ':')
    return RB_ESYNTAX;

  size_t i = 19;
  int nonzero_fraction = 0;
  if (s[i] == '.') {
    size_t start = ++i;
    while (i < len && s[i] >= '0' && s[i] <= '9') {
      if (s[i] != '0')
        nonzero_fraction = 1;
      i++;
    }
    if (i == start)
      return RB_ESYNTAX;
  }
  if (i >= len)
    return RB_ESYNTAX;

  int32_t off;
  int oh = 0, om = 0;
  if (s[i] == 'Z' || s[i] == 'z') {
    if (len - i != 1)
      return RB_ESYNTAX;
    off = 0;
  } else if (s[i] == '+' || s[i] == '-') {
    if (len - i != 6)
      return RB_ESYNTAX;
    oh = digits(s + i + 1, 2);
    om = digits(s + i + 4, 2);
    if (oh < 0 || om < 0 || s[i + 3] != ':')
      return RB_ESYNTAX;
    off = (int32_t)((oh * 3600 + om * 60) * (s[i] == '-' ? -1 : 1));
  } else {
    return RB_ESYNTAX;
  }
  /* A fraction of a second is well-formed RFC 3339 but not something a
   * whole-second biller can take without truncating: refuse it as text
   * this parser does not accept, like money with too many decimals. */
  if (nonzero_fraction)
    return RB_ESYNTAX;

  if (year < 1 || mon < 1 || mon > 12 || day < 1 ||
      (unsigned)day > days_in_month(year, (unsigned)mon) || hour > 23 ||
      min > 59 || sec > 59 || oh > 23 || om > 59)
    return RB_ERANGE;

  int64_t days = rb_days_from_civil(year, (unsigned)mon, (unsigned)day);
  *out = days * DAY + hour * 3600 + min * 60 + sec - off;
  if (offset != NULL)
    *offset = off;
  return RB_OK;
}

/* Splits t, seen at offset, into local civil fields; RB_ERANGE when the
 * offset cannot be written as +-HH:MM or the local year is outside
 * 0001-9999 (which RFC 3339 cannot write either). */
static int local_fields(rb_time t, int32_t offset, int64_t *y, unsigned *mo,
                        unsigned *d, int64_t *sod) {
  /* Year 1 starts at day -719162; year 10000 at day 2932897. */
  static const int64_t lo = INT64_C(-719162) * DAY;
  static const int64_t hi = INT64_C(2932897) * DAY;
  if (offset < -OFFSET_MAX || offset > OFFSET_MAX || offset % 60 != 0)
    return RB_ERANGE;
  if (t < lo - OFFSET_MAX || t >= hi + OFFSET_MAX)
    return RB_ERANGE;
  int64_t local = t + offset;
  if (local < lo || local >= hi)
    return RB_ERANGE;
  rb_civil_from_days(floor_div(local, DAY), y, mo, d);
  *sod = floor_mod(local, DAY);
  return RB_OK;
}

/* Writes n zero-padded digits of v at p. */
static void put(char *p, int64_t v, int n) {
  for (int i = n - 1; i >= 0; i--) {
    p[i] = (char)('0' + v % 10);
    v /= 10;
  }
}

static int emit(const char *tmp, size_t n, char *buf, size_t cap) {
  if (buf == NULL || cap < n + 1)
    return RB_ENOSPACE;
  memcpy(buf, tmp, n);
  buf[n] = '\0';
  return (int)n;
}

int rb_time_format(rb_time t, int32_t offset, char *buf, size_t cap) {
  int64_t y, sod;
  unsigned mo, d;
  int rc = local_fields(t, offset, &y, &mo, &d, &sod);
  if (rc != RB_OK)
    return rc;
  char tmp[RB_TIME_STRLEN];
  memcpy(tmp, "0000-00-00T00:00:00+00:00", 25);
  put(tmp, y, 4);
  put(tmp + 5, mo, 2);
  put(tmp + 8, d, 2);
  put(tmp + 11, sod / 3600, 2);
  put(tmp + 14, sod / 60 % 60, 2);
  put(tmp + 17, sod % 60, 2);
  int32_t a = offset < 0 ? -offset : offset;
  tmp[19] = offset < 0 ? '-' : '+';
  put(tmp + 20, a / 3600, 2);
  put(tmp + 23, a / 60 % 60, 2);
  return emit(tmp, 25, buf, cap);
}

int rb_date_format(rb_time t, int32_t offset, bool with_day, char *buf,
                   size_t cap) {
  int64_t y, sod;
  unsigned mo, d;
  int rc = local_fields(t, offset, &y, &mo, &d, &sod);
  if (rc != RB_OK)
    return rc;
  char tmp[16];
  memcpy(tmp, "0000-00-00", 10);
  put(tmp, y, 4);
  put(tmp + 5, mo, 2);
  put(tmp + 8, d, 2);
  return emit(tmp, with_day ? 10 : 7, buf, cap);
}

rb_time rb_day_start(rb_time t, int32_t offset) {
  if (t <= -TIME_LIMIT || t >= TIME_LIMIT)
    return RB_TIME_NONE;
  int64_t local = t + offset;
  return floor_div(local, DAY) * DAY - offset;
}

rb_time rb_month_start(rb_time t, int32_t offset) {
  return rb_month_add(t, 0, offset);
}

rb_time rb_month_add(rb_time t, int months, int32_t offset) {
  if (t <= -TIME_LIMIT || t >= TIME_LIMIT)
    return RB_TIME_NONE;
  int64_t y;
  unsigned m;
  rb_civil_from_days(floor_div(t + offset, DAY), &y, &m, NULL);
  /* Count months from year 0 so that the year carry is one floor
   * division, whichever way `months` points. */
  int64_t idx = y * 12 + (int64_t)(m - 1) + months;
  int64_t ny = floor_div(idx, 12);
  unsigned nm = (unsigned)floor_mod(idx, 12) + 1;
  return rb_days_from_civil(ny, nm, 1) * DAY - offset;
}
