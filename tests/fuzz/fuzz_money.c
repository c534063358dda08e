/* fuzz_money.c: fuzz target for decimal money (core/money.c).
 *
 * Text input: whatever rb_money_parse accepts must format and parse back
 * to the same value, both with all 8 decimals and in the shortest exact
 * form; a value it refuses must be refused with RB_ESYNTAX or
 * RB_EOVERFLOW only.
 * Binary input (first byte 0xFF, then 24 bytes): three int64 drive the
 * checked arithmetic, compared with a 128-bit reference: add and sub
 * overflow exactly when the true result leaves int64; muldiv and round
 * are within half a step of the exact quotient and round half away from
 * zero.
 * Depends on: fuzz.h, rtcbill.h (money), the compiler's __int128.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include <string.h>

#include "fuzz.h"
#include "rtcbill.h"

__extension__ typedef __int128 i128;

static void check_text(const char *s, size_t len) {
  rb_money v, back;
  char buf[RB_MONEY_STRLEN];
  int n, rc = rb_money_parse(s, len, &v);
  FUZZ_CHECK(rc == RB_OK || rc == RB_ESYNTAX || rc == RB_EOVERFLOW);
  if (rc != RB_OK)
    return;
  n = rb_money_format(v, RB_MONEY_PLACES, buf, sizeof buf);
  FUZZ_CHECK(n > 0 && (size_t)n < sizeof buf);
  FUZZ_CHECK(rb_money_parse(buf, (size_t)n, &back) == RB_OK && back == v);
  for (int min = 0; min <= RB_MONEY_PLACES; min++) {
    n = rb_money_format_min(v, min, buf, sizeof buf);
    FUZZ_CHECK(n > 0);
    FUZZ_CHECK(rb_money_parse(buf, (size_t)n, &back) == RB_OK && back == v);
    /* The shortest exact form never ends in a zero past min places. */
    const char *dot = memchr(buf, '.', (size_t)n);
    if (dot != NULL && (int)(buf + n - dot - 1) > min)
      FUZZ_CHECK(buf[n - 1] != '0');
  }
  /* Formatting never rounds: too few places for v is an error. */
  for (int places = 0; places < RB_MONEY_PLACES; places++) {
    int64_t step = 1;
    for (int i = places; i < RB_MONEY_PLACES; i++)
      step *= 10;
    n = rb_money_format(v, places, buf, sizeof buf);
    FUZZ_CHECK((v % step == 0) == (n > 0));
  }
  /* A buffer one byte short is refused, never overrun. */
  n = rb_money_format(v, RB_MONEY_PLACES, buf, sizeof buf);
  FUZZ_CHECK(rb_money_format(v, RB_MONEY_PLACES, buf, (size_t)n) ==
             RB_ENOSPACE);
}

static int64_t get64(const uint8_t *p) {
  uint64_t u = 0;
  for (int i = 0; i < 8; i++)
    u = u << 8 | p[i];
  return (int64_t)u;
}

static i128 abs128(i128 v) { return v < 0 ? -v : v; }

static void check_arith(int64_t a, int64_t b, int64_t c) {
  rb_money out = 0;
  i128 exact = (i128)a + b;
  int rc = rb_money_add(a, b, &out);
  FUZZ_CHECK((rc == RB_EOVERFLOW) == (exact > INT64_MAX || exact < INT64_MIN));
  FUZZ_CHECK(rc != RB_OK || out == exact);
  exact = (i128)a - b;
  rc = rb_money_sub(a, b, &out);
  FUZZ_CHECK((rc == RB_EOVERFLOW) == (exact > INT64_MAX || exact < INT64_MIN));
  FUZZ_CHECK(rc != RB_OK || out == exact);

  /* muldiv: q = a*b/c rounded half away from zero, i.e. |q*c - a*b| <=
   * c/2 and, on a tie, |q*c| > |a*b|. */
  rc = rb_money_muldiv(a, b, c, &out);
  if (c <= 0) {
    FUZZ_CHECK(rc == RB_EINVAL);
  } else {
    FUZZ_CHECK(rc == RB_OK || rc == RB_EOVERFLOW);
    i128 p = (i128)a * b;
    i128 q = p / c; /* truncated; the true answer is q or q +- 1 */
    i128 r = p % c;
    i128 want = q;
    if (2 * abs128(r) >= (i128)c)
      want += p < 0 ? -1 : 1;
    FUZZ_CHECK((rc == RB_EOVERFLOW) == (want > INT64_MAX || want < INT64_MIN));
    FUZZ_CHECK(rc != RB_OK || out == want);
  }

  /* round: a multiple of the unit, nearest, ties away from zero. */
  rc = rb_money_round(a, c, &out);
  if (c <= 0) {
    FUZZ_CHECK(rc == RB_EINVAL);
  } else if (rc == RB_OK) {
    i128 d = (i128)out - a;
    FUZZ_CHECK(out % c == 0);
    FUZZ_CHECK(2 * abs128(d) <= (i128)c);
    if (2 * abs128(d) == (i128)c)
      FUZZ_CHECK(abs128(out) > abs128(a));
  } else {
    FUZZ_CHECK(rc == RB_EOVERFLOW);
    /* Only a rounding that leaves int64 may fail. */
    i128 lo = (i128)a - (i128)(c / 2 + 1), hi = (i128)a + (i128)(c / 2 + 1);
    FUZZ_CHECK(lo < INT64_MIN || hi > INT64_MAX);
  }
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size >= 25 && data[0] == 0xFF) {
    check_arith(get64(data + 1), get64(data + 9), get64(data + 17));
    return 0;
  }
  check_text((const char *)data, size);
  return 0;
}
