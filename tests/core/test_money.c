/* test_money.c: decimal money parsing, formatting and exact arithmetic.
 * Depends on: core/money.c, cmocka. */

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

/* A sentinel that no test expects, to prove *out is left alone. */
#define UNTOUCHED INT64_C(777)

static int parse(const char *s, rb_money *out) {
  return rb_money_parse(s, strlen(s), out);
}

/* Expects s to be refused with rc and *out to stay as it was. */
static void expect_parse_error(const char *s, int rc) {
  rb_money v = UNTOUCHED;
  assert_int_equal(parse(s, &v), rc);
  assert_int_equal(v, UNTOUCHED);
}

static void test_parse_plain_values(void **state) {
  (void)state;
  rb_money v;
  assert_int_equal(parse("0", &v), RB_OK);
  assert_int_equal(v, 0);
  assert_int_equal(parse("168.00", &v), RB_OK);
  assert_int_equal(v, INT64_C(16800000000));
  assert_int_equal(parse("0.245", &v), RB_OK);
  assert_int_equal(v, INT64_C(24500000));
  assert_int_equal(parse("1.12345678", &v), RB_OK);
  assert_int_equal(v, INT64_C(112345678));
  assert_int_equal(parse("-3.5", &v), RB_OK);
  assert_int_equal(v, INT64_C(-350000000));
  assert_int_equal(parse("0.00000001", &v), RB_OK);
  assert_int_equal(v, 1);
  assert_int_equal(parse("007", &v), RB_OK);
  assert_int_equal(v, INT64_C(700000000));
}

static void test_parse_negative_zero_is_zero(void **state) {
  (void)state;
  rb_money v = UNTOUCHED;
  assert_int_equal(parse("-0.00", &v), RB_OK);
  assert_int_equal(v, 0);
  v = UNTOUCHED;
  assert_int_equal(parse("-0", &v), RB_OK);
  assert_int_equal(v, 0);
}

static void test_parse_rejects_bad_syntax(void **state) {
  (void)state;
  expect_parse_error("", RB_ESYNTAX);
  expect_parse_error("-", RB_ESYNTAX);
  expect_parse_error(".5", RB_ESYNTAX);
  expect_parse_error("-.5", RB_ESYNTAX);
  expect_parse_error("5.", RB_ESYNTAX);
  expect_parse_error("1e3", RB_ESYNTAX);
  expect_parse_error("+1", RB_ESYNTAX);
  expect_parse_error(" 1", RB_ESYNTAX);
  expect_parse_error("1 ", RB_ESYNTAX);
  expect_parse_error("--1", RB_ESYNTAX);
  expect_parse_error("1.2.3", RB_ESYNTAX);
  expect_parse_error("1,5", RB_ESYNTAX);
  expect_parse_error("0x10", RB_ESYNTAX);
}

static void test_parse_rejects_nine_decimals(void **state) {
  (void)state;
  expect_parse_error("1.123456789", RB_ESYNTAX);
  expect_parse_error("0.000000000", RB_ESYNTAX);
}

static void test_parse_int64_boundaries(void **state) {
  (void)state;
  rb_money v;
  assert_int_equal(parse("92233720368.54775807", &v), RB_OK);
  assert_true(v == INT64_MAX);
  assert_int_equal(parse("-92233720368.54775808", &v), RB_OK);
  assert_true(v == INT64_MIN);
  expect_parse_error("92233720368.54775808", RB_EOVERFLOW);
  expect_parse_error("-92233720368.54775809", RB_EOVERFLOW);
  expect_parse_error("92233720369", RB_EOVERFLOW);
  expect_parse_error("123456789012345678901234567890", RB_EOVERFLOW);
}

static void test_parse_syntax_beats_overflow(void **state) {
  (void)state;
  /* Junk after an overlong number is a syntax problem first. */
  expect_parse_error("123456789012345678901234567890x", RB_ESYNTAX);
}

static void test_parse_honours_length(void **state) {
  (void)state;
  rb_money v;
  assert_int_equal(rb_money_parse("1.50xyz", 4, &v), RB_OK);
  assert_int_equal(v, INT64_C(150000000));
  assert_int_equal(rb_money_parse("12", 0, &v), RB_ESYNTAX);
}

static void test_format_two_places(void **state) {
  (void)state;
  char buf[RB_MONEY_STRLEN];
  assert_int_equal(rb_money_format(INT64_C(12345000000), 2, buf, sizeof buf),
                   6);
  assert_string_equal(buf, "123.45");
  assert_int_equal(rb_money_format(0, 2, buf, sizeof buf), 4);
  assert_string_equal(buf, "0.00");
  assert_int_equal(rb_money_format(INT64_C(-5000000), 2, buf, sizeof buf),
                   5);
  assert_string_equal(buf, "-0.05");
  assert_int_equal(rb_money_format(INT64_C(8400000000), 2, buf, sizeof buf),
                   5);
  assert_string_equal(buf, "84.00");
}

static void test_format_eight_places(void **state) {
  (void)state;
  char buf[RB_MONEY_STRLEN];
  assert_int_equal(rb_money_format(INT64_C(24500000), 8, buf, sizeof buf),
                   10);
  assert_string_equal(buf, "0.24500000");
  assert_int_equal(rb_money_format(1, 8, buf, sizeof buf), 10);
  assert_string_equal(buf, "0.00000001");
  assert_int_equal(rb_money_format(INT64_MAX, 8, buf, sizeof buf), 20);
  assert_string_equal(buf, "92233720368.54775807");
  assert_int_equal(rb_money_format(INT64_MIN, 8, buf, sizeof buf), 21);
  assert_string_equal(buf, "-92233720368.54775808");
}

static void test_format_zero_places(void **state) {
  (void)state;
  char buf[RB_MONEY_STRLEN];
  assert_int_equal(rb_money_format(INT64_C(300000000), 0, buf, sizeof buf),
                   1);
  assert_string_equal(buf, "3");
  assert_int_equal(rb_money_format(INT64_C(-300000000), 0, buf, sizeof buf),
                   2);
  assert_string_equal(buf, "-3");
}

static void test_format_negative_zero_round_trip(void **state) {
  (void)state;
  char buf[RB_MONEY_STRLEN];
  rb_money v;
  assert_int_equal(parse("-0", &v), RB_OK);
  assert_int_equal(rb_money_format(v, 2, buf, sizeof buf), 4);
  assert_string_equal(buf, "0.00");
}

static void test_format_never_rounds(void **state) {
  (void)state;
  char buf[RB_MONEY_STRLEN] = "keep";
  assert_int_equal(rb_money_format(1, 2, buf, sizeof buf), RB_EINVAL);
  assert_int_equal(rb_money_format(-1, 2, buf, sizeof buf), RB_EINVAL);
  assert_int_equal(rb_money_format(INT64_MIN, 2, buf, sizeof buf),
                   RB_EINVAL);
  assert_int_equal(rb_money_format(0, 9, buf, sizeof buf), RB_EINVAL);
  assert_int_equal(rb_money_format(0, -1, buf, sizeof buf), RB_EINVAL);
  assert_string_equal(buf, "keep");
}

static void test_format_reports_small_buffer(void **state) {
  (void)state;
  char buf[8];
  /* "123.45" needs 7 bytes with its NUL. */
  assert_int_equal(rb_money_format(INT64_C(12345000000), 2, buf, 6),
                   RB_ENOSPACE);
  assert_int_equal(rb_money_format(INT64_C(12345000000), 2, buf, 7), 6);
  assert_string_equal(buf, "123.45");
  assert_int_equal(rb_money_format(0, 2, NULL, 0), RB_ENOSPACE);
}

static void test_format_min_shows_exact_value(void **state) {
  (void)state;
  char buf[RB_MONEY_STRLEN];
  assert_int_equal(rb_money_format_min(INT64_C(9979000000), 2, buf,
                                       sizeof buf),
                   5);
  assert_string_equal(buf, "99.79");
  assert_int_equal(rb_money_format_min(INT64_C(24500000), 2, buf,
                                       sizeof buf),
                   5);
  assert_string_equal(buf, "0.245");
  assert_int_equal(rb_money_format_min(INT64_C(300000000), 2, buf,
                                       sizeof buf),
                   4);
  assert_string_equal(buf, "3.00");
  assert_int_equal(rb_money_format_min(INT64_C(300000000), 0, buf,
                                       sizeof buf),
                   1);
  assert_string_equal(buf, "3");
  assert_int_equal(rb_money_format_min(INT64_C(-50000000), 0, buf,
                                       sizeof buf),
                   4);
  assert_string_equal(buf, "-0.5");
  assert_int_equal(rb_money_format_min(1, 2, buf, sizeof buf), 10);
  assert_string_equal(buf, "0.00000001");
  assert_int_equal(rb_money_format_min(INT64_MIN, 2, buf, sizeof buf), 21);
  assert_string_equal(buf, "-92233720368.54775808");
  assert_int_equal(rb_money_format_min(0, 9, buf, sizeof buf), RB_EINVAL);
}

static void test_add_checks_overflow(void **state) {
  (void)state;
  rb_money v = UNTOUCHED;
  assert_int_equal(rb_money_add(INT64_MAX, 1, &v), RB_EOVERFLOW);
  assert_int_equal(rb_money_add(INT64_MIN, -1, &v), RB_EOVERFLOW);
  assert_int_equal(rb_money_add(INT64_MAX, INT64_MAX, &v), RB_EOVERFLOW);
  assert_int_equal(v, UNTOUCHED);
  assert_int_equal(rb_money_add(INT64_MAX, 0, &v), RB_OK);
  assert_true(v == INT64_MAX);
  assert_int_equal(rb_money_add(INT64_MIN, INT64_MAX, &v), RB_OK);
  assert_int_equal(v, -1);
  assert_int_equal(rb_money_add(INT64_C(16800000000), INT64_C(-84000000),
                                &v),
                   RB_OK);
  assert_int_equal(v, INT64_C(16716000000));
}

static void test_sub_checks_overflow(void **state) {
  (void)state;
  rb_money v = UNTOUCHED;
  assert_int_equal(rb_money_sub(INT64_MIN, 1, &v), RB_EOVERFLOW);
  assert_int_equal(rb_money_sub(0, INT64_MIN, &v), RB_EOVERFLOW);
  assert_int_equal(rb_money_sub(INT64_MAX, -1, &v), RB_EOVERFLOW);
  assert_int_equal(v, UNTOUCHED);
  assert_int_equal(rb_money_sub(-1, INT64_MIN, &v), RB_OK);
  assert_true(v == INT64_MAX);
  assert_int_equal(rb_money_sub(INT64_MIN, -1, &v), RB_OK);
  assert_true(v == INT64_MIN + 1);
  assert_int_equal(rb_money_sub(INT64_C(10000000000), INT64_C(84000000),
                                &v),
                   RB_OK);
  assert_int_equal(v, INT64_C(9916000000));
}

static void test_muldiv_prices_minutes(void **state) {
  (void)state;
  rb_money v;
  /* 60 SD minutes at 14.00 per 1000 minutes is 0.84. */
  assert_int_equal(rb_money_muldiv(INT64_C(1400000000), 60, 1000, &v),
                   RB_OK);
  assert_int_equal(v, INT64_C(84000000));
  /* 35 audio minutes at 7.00 per 1000 is 0.245, exact to 1e-8. */
  assert_int_equal(rb_money_muldiv(INT64_C(700000000), 35, 1000, &v),
                   RB_OK);
  assert_int_equal(v, INT64_C(24500000));
}

static void test_muldiv_rounds_half_away_from_zero(void **state) {
  (void)state;
  rb_money v;
  /* 0.455 in units of 0.01 is 45.5, which rounds to 46. */
  assert_int_equal(rb_money_muldiv(INT64_C(45500000), 1, 1000000, &v),
                   RB_OK);
  assert_int_equal(v, 46);
  assert_int_equal(rb_money_muldiv(INT64_C(-500000), 1, 1000000, &v),
                   RB_OK);
  assert_int_equal(v, -1);
  assert_int_equal(rb_money_muldiv(1, 1, 2, &v), RB_OK);
  assert_int_equal(v, 1);
  assert_int_equal(rb_money_muldiv(-1, 1, 2, &v), RB_OK);
  assert_int_equal(v, -1);
  assert_int_equal(rb_money_muldiv(3, 1, 2, &v), RB_OK);
  assert_int_equal(v, 2);
  assert_int_equal(rb_money_muldiv(5, -1, 2, &v), RB_OK);
  assert_int_equal(v, -3);
  assert_int_equal(rb_money_muldiv(1, 1, 3, &v), RB_OK);
  assert_int_equal(v, 0);
  assert_int_equal(rb_money_muldiv(2, 1, 3, &v), RB_OK);
  assert_int_equal(v, 1);
  assert_int_equal(rb_money_muldiv(-2, 1, 3, &v), RB_OK);
  assert_int_equal(v, -1);
  assert_int_equal(rb_money_muldiv(-4, 1, 3, &v), RB_OK);
  assert_int_equal(v, -1);
  assert_int_equal(rb_money_muldiv(1, 499, 1000, &v), RB_OK);
  assert_int_equal(v, 0);
}

static void test_muldiv_uses_128_bits(void **state) {
  (void)state;
  rb_money v;
  assert_int_equal(rb_money_muldiv(INT64_MAX, INT64_MAX, INT64_MAX, &v),
                   RB_OK);
  assert_true(v == INT64_MAX);
  assert_int_equal(rb_money_muldiv(INT64_MIN, INT64_MAX, INT64_MAX, &v),
                   RB_OK);
  assert_true(v == INT64_MIN);
  assert_int_equal(rb_money_muldiv(INT64_C(1000000000000000),
                                   INT64_C(10000000000),
                                   INT64_C(1000000000), &v),
                   RB_OK);
  assert_int_equal(v, INT64_C(10000000000000000));
  /* (2^64 - 2) / 3 = 6148914691236517204.67, rounded up. */
  assert_int_equal(rb_money_muldiv(INT64_MAX, 2, 3, &v), RB_OK);
  assert_int_equal(v, INT64_C(6148914691236517205));
}

static void test_muldiv_reports_overflow(void **state) {
  (void)state;
  rb_money v = UNTOUCHED;
  assert_int_equal(rb_money_muldiv(INT64_MAX, 2, 1, &v), RB_EOVERFLOW);
  assert_int_equal(rb_money_muldiv(INT64_MIN, -1, 1, &v), RB_EOVERFLOW);
  assert_int_equal(rb_money_muldiv(INT64_MIN, INT64_MIN, 1, &v),
                   RB_EOVERFLOW);
  /* (2^64 - 1) / 2 = 2^63 - 0.5: only the rounding step overflows. */
  assert_int_equal(rb_money_muldiv(INT64_C(6148914691236517205), 3, 2, &v),
                   RB_EOVERFLOW);
  assert_int_equal(v, UNTOUCHED);
  /* Its negative rounds to -2^63, which fits. */
  assert_int_equal(rb_money_muldiv(INT64_C(-6148914691236517205), 3, 2, &v),
                   RB_OK);
  assert_true(v == INT64_MIN);
}

static void test_muldiv_rejects_bad_denominator(void **state) {
  (void)state;
  rb_money v = UNTOUCHED;
  assert_int_equal(rb_money_muldiv(1, 1, 0, &v), RB_EINVAL);
  assert_int_equal(rb_money_muldiv(1, 1, -1, &v), RB_EINVAL);
  assert_int_equal(v, UNTOUCHED);
}

static void test_round_to_cents(void **state) {
  (void)state;
  rb_money v;
  assert_int_equal(rb_money_round(INT64_C(45500000), 1000000, &v), RB_OK);
  assert_int_equal(v, INT64_C(46000000));
  assert_int_equal(rb_money_round(INT64_C(-500000), 1000000, &v), RB_OK);
  assert_int_equal(v, INT64_C(-1000000));
  assert_int_equal(rb_money_round(INT64_C(499999), 1000000, &v), RB_OK);
  assert_int_equal(v, 0);
  assert_int_equal(rb_money_round(INT64_C(-499999), 1000000, &v), RB_OK);
  assert_int_equal(v, 0);
  assert_int_equal(rb_money_round(INT64_C(24500000), 1000000, &v), RB_OK);
  assert_int_equal(v, INT64_C(25000000));
  assert_int_equal(rb_money_round(INT64_C(84000000), 1000000, &v), RB_OK);
  assert_int_equal(v, INT64_C(84000000));
}

static void test_round_at_int64_edges(void **state) {
  (void)state;
  rb_money v = UNTOUCHED;
  /* INT64_MAX ends in ...775807: to 0.01 it would round up past it. */
  assert_int_equal(rb_money_round(INT64_MAX, 1000000, &v), RB_EOVERFLOW);
  assert_int_equal(rb_money_round(INT64_MIN, 1000000, &v), RB_EOVERFLOW);
  assert_int_equal(rb_money_round(1, 0, &v), RB_EINVAL);
  assert_int_equal(rb_money_round(1, -100, &v), RB_EINVAL);
  assert_int_equal(v, UNTOUCHED);
  assert_int_equal(rb_money_round(INT64_MAX, 100, &v), RB_OK);
  assert_int_equal(v, INT64_C(9223372036854775800));
  assert_int_equal(rb_money_round(INT64_MIN, 1, &v), RB_OK);
  assert_true(v == INT64_MIN);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_parse_plain_values),
      cmocka_unit_test(test_parse_negative_zero_is_zero),
      cmocka_unit_test(test_parse_rejects_bad_syntax),
      cmocka_unit_test(test_parse_rejects_nine_decimals),
      cmocka_unit_test(test_parse_int64_boundaries),
      cmocka_unit_test(test_parse_syntax_beats_overflow),
      cmocka_unit_test(test_parse_honours_length),
      cmocka_unit_test(test_format_two_places),
      cmocka_unit_test(test_format_eight_places),
      cmocka_unit_test(test_format_zero_places),
      cmocka_unit_test(test_format_negative_zero_round_trip),
      cmocka_unit_test(test_format_never_rounds),
      cmocka_unit_test(test_format_reports_small_buffer),
      cmocka_unit_test(test_format_min_shows_exact_value),
      cmocka_unit_test(test_add_checks_overflow),
      cmocka_unit_test(test_sub_checks_overflow),
      cmocka_unit_test(test_muldiv_prices_minutes),
      cmocka_unit_test(test_muldiv_rounds_half_away_from_zero),
      cmocka_unit_test(test_muldiv_uses_128_bits),
      cmocka_unit_test(test_muldiv_reports_overflow),
      cmocka_unit_test(test_muldiv_rejects_bad_denominator),
      cmocka_unit_test(test_round_to_cents),
      cmocka_unit_test(test_round_at_int64_edges),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
