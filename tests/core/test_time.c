/* test_time.c: RFC 3339 parsing and formatting, the civil calendar, and
 * local day and month boundaries at fixed offsets.
 * Depends on: core/time.c, core/error.c (rb_cycle_name), cmocka. */

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

#define UNTOUCHED INT64_C(777)
#define CST (8 * 3600) /* UTC+08:00, the default billing time zone */

static int parse(const char *s, rb_time *t, int32_t *off) {
  return rb_time_parse(s, strlen(s), t, off);
}

/* A time the test knows to be valid, as an instant. */
static rb_time at(const char *s) {
  rb_time t = UNTOUCHED;
  assert_int_equal(parse(s, &t, NULL), RB_OK);
  return t;
}

static void expect_parse_error(const char *s, int rc) {
  rb_time t = UNTOUCHED;
  int32_t off = 77;
  assert_int_equal(parse(s, &t, &off), rc);
  assert_int_equal(t, UNTOUCHED);
  assert_int_equal(off, 77);
}

/* Formats t at offset and compares with want. */
static void expect_format(rb_time t, int32_t offset, const char *want) {
  char buf[RB_TIME_STRLEN];
  assert_int_equal(rb_time_format(t, offset, buf, sizeof buf),
                   (int)strlen(want));
  assert_string_equal(buf, want);
}

static void test_parse_offsets(void **state) {
  (void)state;
  rb_time t;
  int32_t off;
  assert_int_equal(parse("2020-11-01T20:00:00+08:00", &t, &off), RB_OK);
  assert_int_equal(t, 1604232000);
  assert_int_equal(off, 8 * 3600);
  assert_int_equal(parse("2020-11-01T12:00:00Z", &t, &off), RB_OK);
  assert_int_equal(t, 1604232000);
  assert_int_equal(off, 0);
  assert_int_equal(parse("2020-02-29T12:00:00-05:30", &t, &off), RB_OK);
  assert_int_equal(t, 1582997400);
  assert_int_equal(off, -(5 * 3600 + 30 * 60));
  assert_int_equal(parse("2020-11-01T12:00:00-00:00", &t, &off), RB_OK);
  assert_int_equal(t, 1604232000);
  assert_int_equal(off, 0);
  assert_int_equal(parse("2020-11-02T11:59:00+23:59", &t, &off), RB_OK);
  assert_int_equal(t, 1604232000);
  assert_int_equal(off, 23 * 3600 + 59 * 60);
}

static void test_parse_before_epoch_and_extremes(void **state) {
  (void)state;
  assert_int_equal(at("1969-12-31T23:59:59Z"), -1);
  assert_int_equal(at("1970-01-01T00:00:00Z"), 0);
  assert_int_equal(at("0001-01-01T00:00:00Z"), INT64_C(-62135596800));
  assert_int_equal(at("9999-12-31T23:59:59Z"), INT64_C(253402300799));
}

static void test_parse_lowercase_separators(void **state) {
  (void)state;
  assert_int_equal(at("2020-11-01t12:00:00z"), 1604232000);
  assert_int_equal(at("2020-11-01t20:00:00+08:00"), 1604232000);
}

static void test_parse_offset_is_optional_out(void **state) {
  (void)state;
  rb_time t;
  assert_int_equal(parse("2020-11-01T12:00:00Z", &t, NULL), RB_OK);
  assert_int_equal(t, 1604232000);
}

static void test_parse_leap_days(void **state) {
  (void)state;
  assert_int_equal(at("2020-02-29T00:00:00Z"), 1582934400);
  assert_int_equal(at("2000-02-29T00:00:00Z"), 951782400);
  expect_parse_error("2021-02-29T00:00:00Z", RB_ERANGE);
  expect_parse_error("1900-02-29T00:00:00Z", RB_ERANGE);
  expect_parse_error("2020-02-30T00:00:00Z", RB_ERANGE);
}

static void test_parse_rejects_impossible_values(void **state) {
  (void)state;
  expect_parse_error("2020-11-31T00:00:00+08:00", RB_ERANGE);
  expect_parse_error("2020-13-01T00:00:00Z", RB_ERANGE);
  expect_parse_error("2020-00-01T00:00:00Z", RB_ERANGE);
  expect_parse_error("2020-01-00T00:00:00Z", RB_ERANGE);
  expect_parse_error("2020-01-32T00:00:00Z", RB_ERANGE);
  expect_parse_error("0000-01-01T00:00:00Z", RB_ERANGE);
  expect_parse_error("2020-01-01T24:00:00Z", RB_ERANGE);
  expect_parse_error("2020-01-01T23:60:00Z", RB_ERANGE);
  expect_parse_error("2020-12-31T23:59:60Z", RB_ERANGE);
  expect_parse_error("2020-01-01T00:00:00+24:00", RB_ERANGE);
  expect_parse_error("2020-01-01T00:00:00-08:60", RB_ERANGE);
}

static void test_parse_fraction_must_be_zero(void **state) {
  (void)state;
  assert_int_equal(at("2020-11-01T12:00:00.000Z"), 1604232000);
  assert_int_equal(at("2020-11-01T20:00:00.0+08:00"), 1604232000);
  expect_parse_error("2020-11-01T12:00:00.5Z", RB_ESYNTAX);
  expect_parse_error("2020-11-01T12:00:00.001+08:00", RB_ESYNTAX);
  expect_parse_error("2020-11-01T12:00:00.Z", RB_ESYNTAX);
}

static void test_parse_rejects_malformed_text(void **state) {
  (void)state;
  expect_parse_error("", RB_ESYNTAX);
  expect_parse_error("2020-11-01", RB_ESYNTAX);
  expect_parse_error("2020-11-01T12:00:00", RB_ESYNTAX);
  expect_parse_error("2020-11-01 12:00:00Z", RB_ESYNTAX);
  expect_parse_error("2020/11/01T12:00:00Z", RB_ESYNTAX);
  expect_parse_error("2020-1-01T12:00:00Z", RB_ESYNTAX);
  expect_parse_error("20201-11-01T12:00:00Z", RB_ESYNTAX);
  expect_parse_error("2020-11-01T12:00Z", RB_ESYNTAX);
  expect_parse_error("2020-11-01T12:00:00+0800", RB_ESYNTAX);
  expect_parse_error("2020-11-01T12:00:00+08", RB_ESYNTAX);
  expect_parse_error("2020-11-01T12:00:00+8:00", RB_ESYNTAX);
  expect_parse_error("+020-11-01T12:00:00Z", RB_ESYNTAX);
  expect_parse_error("2020-11-01T12:00:00ZZ", RB_ESYNTAX);
  expect_parse_error("2020-11-01T12:00:00Z ", RB_ESYNTAX);
  expect_parse_error("2020-11-01T12:00:00+08:00x", RB_ESYNTAX);
  expect_parse_error("2020-11-01T12:00:00UTC", RB_ESYNTAX);
  /* Malformed wins over impossible: month 13 with junk is syntax. */
  expect_parse_error("2020-13-01T12:00:00X", RB_ESYNTAX);
}

static void test_parse_honours_length(void **state) {
  (void)state;
  rb_time t;
  const char *s = "2020-11-01T12:00:00Zjunk";
  assert_int_equal(rb_time_parse(s, 20, &t, NULL), RB_OK);
  assert_int_equal(t, 1604232000);
  assert_int_equal(rb_time_parse(s, 19, &t, NULL), RB_ESYNTAX);
}

static void test_format_in_offsets(void **state) {
  (void)state;
  expect_format(1604232000, CST, "2020-11-01T20:00:00+08:00");
  expect_format(1604232000, 0, "2020-11-01T12:00:00+00:00");
  expect_format(1582997400, -(5 * 3600 + 30 * 60),
                "2020-02-29T12:00:00-05:30");
  expect_format(-1, 0, "1969-12-31T23:59:59+00:00");
  expect_format(-1, -3600, "1969-12-31T22:59:59-01:00");
  expect_format(INT64_C(-62135596800), 0, "0001-01-01T00:00:00+00:00");
  expect_format(INT64_C(253402300799), 0, "9999-12-31T23:59:59+00:00");
}

static void test_format_round_trips(void **state) {
  (void)state;
  const char *texts[] = {"2020-11-30T23:59:59+08:00",
                         "1969-07-20T20:17:40+00:00",
                         "2000-02-29T00:00:00-05:30",
                         "2100-03-01T00:00:00+23:59",
                         "1600-02-29T12:34:56-23:59"};
  for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
    rb_time t;
    int32_t off;
    assert_int_equal(parse(texts[i], &t, &off), RB_OK);
    expect_format(t, off, texts[i]);
  }
}

static void test_format_reports_errors(void **state) {
  (void)state;
  char buf[RB_TIME_STRLEN] = "keep";
  /* 25 characters need 26 bytes. */
  assert_int_equal(rb_time_format(0, 0, buf, 25), RB_ENOSPACE);
  assert_int_equal(rb_time_format(0, 24 * 3600, buf, sizeof buf),
                   RB_ERANGE);
  assert_int_equal(rb_time_format(0, 30, buf, sizeof buf), RB_ERANGE);
  assert_int_equal(rb_time_format(RB_TIME_NONE, 0, buf, sizeof buf),
                   RB_ERANGE);
  assert_int_equal(rb_time_format(INT64_MAX, 0, buf, sizeof buf),
                   RB_ERANGE);
  assert_int_equal(rb_time_format(INT64_C(-62135596801), 0, buf,
                                  sizeof buf),
                   RB_ERANGE);
  assert_int_equal(rb_time_format(INT64_C(253402300800), 0, buf,
                                  sizeof buf),
                   RB_ERANGE);
  assert_string_equal(buf, "keep");
  assert_int_equal(rb_time_format(0, 0, buf, 26), 25);
  assert_string_equal(buf, "1970-01-01T00:00:00+00:00");
}

static void test_date_format_uses_local_date(void **state) {
  (void)state;
  char buf[16];
  /* 2020-11-30T16:00:00Z is already December 1st at +08:00. */
  rb_time t = at("2020-11-30T16:00:00Z");
  assert_int_equal(rb_date_format(t, CST, true, buf, sizeof buf), 10);
  assert_string_equal(buf, "2020-12-01");
  assert_int_equal(rb_date_format(t, CST, false, buf, sizeof buf), 7);
  assert_string_equal(buf, "2020-12");
  assert_int_equal(rb_date_format(t, 0, true, buf, sizeof buf), 10);
  assert_string_equal(buf, "2020-11-30");
  assert_int_equal(rb_date_format(t, 0, false, buf, 7), RB_ENOSPACE);
  assert_int_equal(rb_date_format(t, 0, false, buf, 8), 7);
  assert_string_equal(buf, "2020-11");
}

static void test_days_from_civil_known_dates(void **state) {
  (void)state;
  assert_int_equal(rb_days_from_civil(1970, 1, 1), 0);
  assert_int_equal(rb_days_from_civil(1969, 12, 31), -1);
  assert_int_equal(rb_days_from_civil(2000, 3, 1), 11017);
  assert_int_equal(rb_days_from_civil(2000, 2, 29), 11016);
  /* 2100 is not a leap year: February 28th is followed by March 1st. */
  assert_int_equal(rb_days_from_civil(2100, 3, 1), 47541);
  assert_int_equal(rb_days_from_civil(2100, 2, 28), 47540);
  assert_int_equal(rb_days_from_civil(1, 1, 1), -719162);
  assert_int_equal(rb_days_from_civil(1600, 2, 29), -135081);
}

static void test_civil_from_days_inverts(void **state) {
  (void)state;
  int64_t y;
  unsigned m, d;
  rb_civil_from_days(-1, &y, &m, &d);
  assert_int_equal(y, 1969);
  assert_int_equal(m, 12);
  assert_int_equal(d, 31);
  rb_civil_from_days(47541, &y, &m, &d);
  assert_int_equal(y, 2100);
  assert_int_equal(m, 3);
  assert_int_equal(d, 1);
  rb_civil_from_days(-719162, &y, &m, &d);
  assert_int_equal(y, 1);
  assert_int_equal(m, 1);
  assert_int_equal(d, 1);
  /* Every day of four centuries on both sides of 1970 round-trips and
   * follows the previous one. */
  int64_t py;
  unsigned pm, pd;
  rb_civil_from_days(-146098, &py, &pm, &pd);
  for (int64_t z = -146097; z <= 146097; z++) {
    rb_civil_from_days(z, &y, &m, &d);
    assert_int_equal(rb_days_from_civil(y, m, d), z);
    if (d == 1)
      assert_true(m == pm % 12 + 1 && (m != 1 || y == py + 1));
    else
      assert_true(d == pd + 1 && m == pm && y == py);
    py = y;
    pm = m;
    pd = d;
  }
}

static void test_day_start_at_offsets(void **state) {
  (void)state;
  rb_time midnight = at("2020-10-06T00:00:00+08:00");
  assert_int_equal(midnight, 1601913600);
  assert_int_equal(rb_day_start(midnight, CST), midnight);
  assert_int_equal(rb_day_start(midnight + 1, CST), midnight);
  assert_int_equal(rb_day_start(midnight - 1, CST), midnight - 86400);
  assert_int_equal(rb_day_start(at("2020-10-06T23:59:59+08:00"), CST),
                   midnight);
  /* Before 1970 and west of UTC the floor must still go down. */
  assert_int_equal(rb_day_start(-1, 0), -86400);
  assert_int_equal(rb_day_start(-1, -5 * 3600),
                   at("1969-12-31T00:00:00-05:00"));
  assert_int_equal(rb_day_start(-1, -5 * 3600), -68400);
  assert_int_equal(rb_day_start(RB_TIME_NONE, CST), RB_TIME_NONE);
}

static void test_month_start_at_month_end(void **state) {
  (void)state;
  rb_time nov = at("2020-11-01T00:00:00+08:00");
  rb_time dec = at("2020-12-01T00:00:00+08:00");
  assert_int_equal(nov, 1604160000);
  assert_int_equal(dec, 1606752000);
  assert_int_equal(rb_month_start(at("2020-11-30T23:59:59+08:00"), CST),
                   nov);
  assert_int_equal(rb_month_start(dec, CST), dec);
  assert_int_equal(rb_month_start(dec - 1, CST), nov);
  assert_int_equal(rb_month_start(nov, CST), nov);
  /* The same instant in UTC is still in November there. */
  assert_int_equal(rb_month_start(dec, 0), at("2020-11-01T00:00:00Z"));
  assert_int_equal(rb_month_start(at("2020-02-29T23:00:00+08:00"), CST),
                   at("2020-02-01T00:00:00+08:00"));
  assert_int_equal(rb_month_start(-1, -5 * 3600),
                   at("1969-12-01T00:00:00-05:00"));
  assert_int_equal(rb_month_start(RB_TIME_NONE, CST), RB_TIME_NONE);
}

static void test_month_add_across_year_end(void **state) {
  (void)state;
  rb_time t = at("2020-12-15T10:00:00+08:00");
  assert_int_equal(rb_month_add(t, 1, CST), at("2021-01-01T00:00:00+08:00"));
  assert_int_equal(rb_month_add(t, 2, CST), at("2021-02-01T00:00:00+08:00"));
  assert_int_equal(rb_month_add(t, 0, CST), at("2020-12-01T00:00:00+08:00"));
  assert_int_equal(rb_month_add(t, -12, CST),
                   at("2019-12-01T00:00:00+08:00"));
  assert_int_equal(rb_month_add(t, -11, CST),
                   at("2020-01-01T00:00:00+08:00"));
  assert_int_equal(rb_month_add(t, 13, CST), at("2022-01-01T00:00:00+08:00"));
  /* A package bought 2020-05-01 is valid to the end of May 2021. */
  assert_int_equal(rb_month_add(at("2020-05-01T12:00:00+08:00"), 13, CST),
                   at("2021-06-01T00:00:00+08:00"));
}

static void test_month_add_from_january_31(void **state) {
  (void)state;
  rb_time t = at("2021-01-31T23:59:59+08:00");
  assert_int_equal(rb_month_add(t, 1, CST), at("2021-02-01T00:00:00+08:00"));
  assert_int_equal(rb_month_add(t, 2, CST), at("2021-03-01T00:00:00+08:00"));
  assert_int_equal(rb_month_add(t, -1, CST),
                   at("2020-12-01T00:00:00+08:00"));
  /* At UTC that instant is still January 31st, 15:59:59. */
  assert_int_equal(rb_month_add(t, 1, 0), at("2021-02-01T00:00:00Z"));
  assert_int_equal(rb_month_add(RB_TIME_NONE, 1, CST), RB_TIME_NONE);
}

static void test_cycle_names(void **state) {
  (void)state;
  assert_string_equal(rb_cycle_name(RB_CYCLE_DAILY), "daily");
  assert_string_equal(rb_cycle_name(RB_CYCLE_MONTHLY), "monthly");
  assert_string_equal(rb_cycle_name((rb_cycle)7), "unknown");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_parse_offsets),
      cmocka_unit_test(test_parse_before_epoch_and_extremes),
      cmocka_unit_test(test_parse_lowercase_separators),
      cmocka_unit_test(test_parse_offset_is_optional_out),
      cmocka_unit_test(test_parse_leap_days),
      cmocka_unit_test(test_parse_rejects_impossible_values),
      cmocka_unit_test(test_parse_fraction_must_be_zero),
      cmocka_unit_test(test_parse_rejects_malformed_text),
      cmocka_unit_test(test_parse_honours_length),
      cmocka_unit_test(test_format_in_offsets),
      cmocka_unit_test(test_format_round_trips),
      cmocka_unit_test(test_format_reports_errors),
      cmocka_unit_test(test_date_format_uses_local_date),
      cmocka_unit_test(test_days_from_civil_known_dates),
      cmocka_unit_test(test_civil_from_days_inverts),
      cmocka_unit_test(test_day_start_at_offsets),
      cmocka_unit_test(test_month_start_at_month_end),
      cmocka_unit_test(test_month_add_across_year_end),
      cmocka_unit_test(test_month_add_from_january_31),
      cmocka_unit_test(test_cycle_names),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
