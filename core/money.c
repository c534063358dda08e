/* money.c: exact decimal money in int64 units of 1e-8.
 *
 * Parsing and formatting of decimal strings, checked addition and
 * subtraction, and a multiply-divide with a 128-bit intermediate and
 * half-away-from-zero rounding. Nothing here uses floating point: a bill
 * must add up to the last unit. Depends on: rtcbill.h, the C standard
 * library, and the compiler's __int128 (GCC and Clang).
 */

/* uv.h, included by rtcbill.h, needs the POSIX thread types, which a
 * strict -std=c11 build hides unless POSIX is requested. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include <string.h>

#include "rtcbill.h"

__extension__ typedef __int128 rb__i128;
__extension__ typedef unsigned __int128 rb__u128;

/* Powers of ten up to 10^8, the only scales money uses. */
static const int64_t pow10_tab[RB_MONEY_PLACES + 1] = {
    1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000};

/* The magnitude of an int64 as uint64, defined for INT64_MIN too (whose
 * negation does not fit int64). */
static uint64_t magnitude(int64_t v) {
  return v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
}

static int is_digit(char c) { return c >= '0' && c <= '9'; }

int rb_money_parse(const char *s, size_t len, rb_money *out) {
  size_t i = 0, int_start, int_end, frac_start = 0, frac_len = 0;
  int neg = 0;
  if (s == NULL || out == NULL)
    return RB_EINVAL;

  /* First check the whole syntax, so that a long string of digits with
   * junk at the end is a syntax error rather than an overflow. */
  if (i < len && s[i] == '-') {
    neg = 1;
    i++;
  }
  int_start = i;
  while (i < len && is_digit(s[i]))
    i++;
  int_end = i;
  if (int_end == int_start)
    return RB_ESYNTAX;
  if (i < len && s[i] == '.') {
    i++;
    frac_start = i;
    while (i < len && is_digit(s[i]))
      i++;
    frac_len = i - frac_start;
    if (frac_len == 0 || frac_len > RB_MONEY_PLACES)
      return RB_ESYNTAX;
  }
  if (i != len)
    return RB_ESYNTAX;

  /* The magnitude may reach 2^63 (INT64_MIN's); anything above is an
   * overflow. Accumulating in 128 bits and capping just past the limit
   * keeps an arbitrarily long run of digits from wrapping. */
  const rb__u128 limit = neg ? (rb__u128)1 << 63 : (rb__u128)INT64_MAX;
  rb__u128 acc = 0;
  for (i = int_start; i < int_end; i++) {
    acc = acc * 10 + (unsigned)(s[i] - '0');
    if (acc > limit)
      return RB_EOVERFLOW;
  }
  acc *= (rb__u128)RB_MONEY_SCALE;
  uint64_t frac = 0;
  for (i = 0; i < frac_len; i++)
    frac = frac * 10 + (unsigned)(s[frac_start + i] - '0');
  acc += (rb__u128)frac * (uint64_t)pow10_tab[RB_MONEY_PLACES - frac_len];
  if (acc > limit)
    return RB_EOVERFLOW;

  /* Negate in unsigned arithmetic: -2^63 has no positive counterpart.
   * "-0.00" lands here as 0, so there is no negative zero. */
  uint64_t mag = (uint64_t)acc;
  if (neg)
    *out = mag == (uint64_t)1 << 63 ? INT64_MIN : -(int64_t)mag;
  else
    *out = (int64_t)mag;
  return RB_OK;
}

/* Writes the decimal digits of u backwards ending at end; returns the
 * start. At least `width` digits are written (zero padded). */
static char *put_digits(char *end, uint64_t u, int width) {
  char *p = end;
  do {
    *--p = (char)('0' + u % 10);
    u /= 10;
    width--;
  } while (u != 0 || width > 0);
  return p;
}

int rb_money_format(rb_money v, int places, char *buf, size_t cap) {
  char tmp[RB_MONEY_STRLEN];
  char *end = tmp + sizeof tmp, *p;
  if (places < 0 || places > RB_MONEY_PLACES)
    return RB_EINVAL;
  int64_t step = pow10_tab[RB_MONEY_PLACES - places];
  if (v % step != 0)
    return RB_EINVAL;

  uint64_t mag = magnitude(v);
  uint64_t ipart = mag / (uint64_t)RB_MONEY_SCALE;
  uint64_t fpart = (mag % (uint64_t)RB_MONEY_SCALE) / (uint64_t)step;
  p = end;
  if (places > 0) {
    p = put_digits(p, fpart, places);
    *--p = '.';
  }
  p = put_digits(p, ipart, 1);
  /* v is an integer, so v < 0 means a non-zero magnitude: "-0.00" can
   * never be produced. */
  if (v < 0)
    *--p = '-';

  size_t n = (size_t)(end - p);
  if (buf == NULL || cap < n + 1)
    return RB_ENOSPACE;
  memcpy(buf, p, n);
  buf[n] = '\0';
  return (int)n;
}

int rb_money_format_min(rb_money v, int min_places, char *buf, size_t cap) {
  if (min_places < 0 || min_places > RB_MONEY_PLACES)
    return RB_EINVAL;
  int places = min_places;
  while (places < RB_MONEY_PLACES &&
         v % pow10_tab[RB_MONEY_PLACES - places] != 0)
    places++;
  return rb_money_format(v, places, buf, cap);
}

int rb_money_add(rb_money a, rb_money b, rb_money *out) {
  if (out == NULL)
    return RB_EINVAL;
  if ((b > 0 && a > INT64_MAX - b) || (b < 0 && a < INT64_MIN - b))
    return RB_EOVERFLOW;
  *out = a + b;
  return RB_OK;
}

int rb_money_sub(rb_money a, rb_money b, rb_money *out) {
  if (out == NULL)
    return RB_EINVAL;
  if ((b < 0 && a > INT64_MAX + b) || (b > 0 && a < INT64_MIN + b))
    return RB_EOVERFLOW;
  *out = a - b;
  return RB_OK;
}

/* p / den rounded half away from zero, den > 0. C division truncates
 * toward zero, so the remainder has the sign of p and a half or more of
 * den moves the quotient one step further from zero. */
static rb__i128 div_round(rb__i128 p, rb__i128 den) {
  rb__i128 q = p / den, r = p % den;
  rb__i128 r2 = r < 0 ? -r : r;
  if (r2 >= den - r2)
    q += p < 0 ? -1 : 1;
  return q;
}

static int fit64(rb__i128 v, rb_money *out) {
  if (v > INT64_MAX || v < INT64_MIN)
    return RB_EOVERFLOW;
  *out = (int64_t)v;
  return RB_OK;
}

int rb_money_muldiv(int64_t a, int64_t num, int64_t den, rb_money *out) {
  if (out == NULL || den <= 0)
    return RB_EINVAL;
  /* |a * num| <= 2^126, so the product always fits 128 bits. */
  rb__i128 p = (rb__i128)a * num;
  return fit64(div_round(p, den), out);
}

int rb_money_round(rb_money v, rb_money unit, rb_money *out) {
  if (out == NULL || unit <= 0)
    return RB_EINVAL;
  rb__i128 q = div_round(v, unit);
  return fit64(q * unit, out);
}
