/* test_format.c: the JSON Lines writers for bills, notices and rejects.
 *
 * Every case compares the exact bytes written: the key order and number
 * formats are part of the output contract (SPEC 3.3, 3.4). Depends on:
 * rtcbill.h, core/format.c, core/buf.c, core/money.c, core/time.c,
 * core/error.c and cmocka.
 */
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

#define TZ8 (8 * 3600)

/* An instant from RFC 3339 text; the parser has its own tests. */
static rb_time T(const char *s) {
  rb_time t = 0;
  assert_int_equal(rb_time_parse(s, strlen(s), &t, NULL), RB_OK);
  return t;
}

static rb_tariff tariff(void) {
  rb_tariff t;
  memset(&t, 0, sizeof t);
  strcpy(t.currency, "CNY");
  t.tz_offset = TZ8;
  t.total_unit = 1000000;
  t.ntiers = 4;
  strcpy(t.tiers[0].name, "audio");
  strcpy(t.tiers[1].name, "SD");
  strcpy(t.tiers[2].name, "HD");
  strcpy(t.tiers[3].name, "HD+");
  return t;
}

static rb_notice notice(rb_notice_type type, const char *at) {
  rb_notice n;
  memset(&n, 0, sizeof n);
  n.type = type;
  n.at = T(at);
  n.account = "A1";
  n.reason = -1;
  n.forfeited = -1;
  return n;
}

static void test_bill_spec_example(void **state) {
  (void)state;
  rb_tariff t = tariff();
  rb_bill_line line = {.app = 1400000001,
                       .tier = 1,
                       .minutes = 60,
                       .postpaid = 60,
                       .amount = 84000000};
  rb_bill b = {.id = "A1/2020-10-06",
               .account = "A1",
               .cycle = RB_CYCLE_DAILY,
               .period_start = T("2020-10-06T00:00:00+08:00"),
               .period_end = T("2020-10-07T00:00:00+08:00"),
               .issued_at = T("2020-10-07T10:00:00+08:00"),
               .tariff = &t,
               .rules_version = "v1",
               .nlines = 1,
               .lines = &line,
               .total = 84000000,
               .balance_after = 9916000000};
  rb_buf out = {0};
  assert_int_equal(rb_bill_to_json(&b, &out), RB_OK);
  assert_string_equal(
      out.data,
      "{\"bill\":\"A1/2020-10-06\",\"account\":\"A1\",\"cycle\":\"daily\","
      "\"period_start\":\"2020-10-06T00:00:00+08:00\","
      "\"period_end\":\"2020-10-07T00:00:00+08:00\","
      "\"issued_at\":\"2020-10-07T10:00:00+08:00\",\"currency\":\"CNY\","
      "\"rules\":\"v1\",\"lines\":[{\"app\":1400000001,\"tier\":\"SD\","
      "\"minutes\":60,\"covered\":0,\"postpaid\":60,\"unbilled\":0,"
      "\"amount\":\"0.84000000\",\"late\":false}],\"total\":\"0.84\","
      "\"precision_diff\":\"0.00000000\",\"balance_after\":\"99.16\","
      "\"status\":\"paid\"}\n");
  assert_int_equal(out.len, strlen(out.data));
  rb_buf_free(&out);
}

static void test_bill_late_line_arrears_and_negative_diff(void **state) {
  (void)state;
  rb_tariff t = tariff();
  rb_bill_line lines[2] = {{.app = 7,
                            .tier = 0,
                            .minutes = 3,
                            .covered = 1,
                            .postpaid = 2,
                            .amount = 1400000},
                           {.app = 7,
                            .tier = 3,
                            .late = true,
                            .origin = T("2020-11-01T00:00:00+08:00"),
                            .minutes = 1,
                            .unbilled = 1,
                            .amount = 0}};
  rb_bill b = {.id = "M/2020-12",
               .account = "M",
               .cycle = RB_CYCLE_MONTHLY,
               .period_start = T("2020-12-01T00:00:00+08:00"),
               .period_end = T("2021-01-01T00:00:00+08:00"),
               .issued_at = T("2021-01-01T10:00:00+08:00"),
               .tariff = &t,
               .rules_version = "r",
               .nlines = 2,
               .lines = lines,
               .total = 1000000,
               .precision_diff = -400000,
               .balance_after = -24500000,
               .arrears = true};
  rb_buf out = {0};
  assert_int_equal(rb_bill_to_json(&b, &out), RB_OK);
  assert_string_equal(
      out.data,
      "{\"bill\":\"M/2020-12\",\"account\":\"M\",\"cycle\":\"monthly\","
      "\"period_start\":\"2020-12-01T00:00:00+08:00\","
      "\"period_end\":\"2021-01-01T00:00:00+08:00\","
      "\"issued_at\":\"2021-01-01T10:00:00+08:00\",\"currency\":\"CNY\","
      "\"rules\":\"r\",\"lines\":["
      "{\"app\":7,\"tier\":\"audio\",\"minutes\":3,\"covered\":1,"
      "\"postpaid\":2,\"unbilled\":0,\"amount\":\"0.01400000\","
      "\"late\":false},"
      "{\"app\":7,\"tier\":\"HD+\",\"minutes\":1,\"covered\":0,"
      "\"postpaid\":0,\"unbilled\":1,\"amount\":\"0.00000000\","
      "\"late\":true,\"origin\":\"2020-11-01T00:00:00+08:00\"}],"
      "\"total\":\"0.01\",\"precision_diff\":\"-0.00400000\","
      "\"balance_after\":\"-0.245\",\"status\":\"arrears\"}\n");
  rb_buf_free(&out);
}

static void test_bill_total_places_follow_unit(void **state) {
  (void)state;
  rb_tariff t = tariff();
  t.total_unit = 100000; /* 0.001 */
  t.tz_offset = 0;
  rb_bill b = {.id = "X/2020-01",
               .account = "X",
               .cycle = RB_CYCLE_MONTHLY,
               .period_start = 0,
               .period_end = 0,
               .issued_at = 0,
               .tariff = &t,
               .rules_version = "r",
               .nlines = 0,
               .lines = NULL,
               .total = 300000000,
               .balance_after = 0};
  rb_buf out = {0};
  assert_int_equal(rb_bill_to_json(&b, &out), RB_OK);
  assert_non_null(strstr(out.data, "\"lines\":[],\"total\":\"3.000\","));
  assert_non_null(
      strstr(out.data, "\"issued_at\":\"1970-01-01T00:00:00+00:00\""));
  assert_non_null(strstr(out.data, "\"balance_after\":\"0.00\""));
  rb_buf_free(&out);
}

static void test_bill_appends_after_existing_content(void **state) {
  (void)state;
  rb_tariff t = tariff();
  rb_bill b = {
      .id = "A/2020-01", .account = "A", .tariff = &t, .rules_version = "r"};
  rb_buf out = {0};
  assert_int_equal(rb_buf_append(&out, "prev\n", 5), RB_OK);
  assert_int_equal(rb_bill_to_json(&b, &out), RB_OK);
  assert_int_equal(strncmp(out.data, "prev\n{\"bill\":\"A/2020-01\"", 24), 0);
  assert_int_equal(out.data[out.len - 1], '\n');
  rb_buf_free(&out);
}

static void test_bill_bad_tier_leaves_buffer_unchanged(void **state) {
  (void)state;
  rb_tariff t = tariff();
  rb_bill_line line = {.app = 1, .tier = 4, .minutes = 1};
  rb_bill b = {.id = "A/2020-01",
               .account = "A",
               .tariff = &t,
               .rules_version = "r",
               .nlines = 1,
               .lines = &line};
  rb_buf out = {0};
  assert_int_equal(rb_buf_append(&out, "keep", 4), RB_OK);
  assert_int_equal(rb_bill_to_json(&b, &out), RB_EINVAL);
  assert_int_equal(out.len, 4);
  assert_string_equal(out.data, "keep");
  line.tier = -1;
  assert_int_equal(rb_bill_to_json(&b, &out), RB_EINVAL);
  assert_string_equal(out.data, "keep");
  rb_buf_free(&out);
}

static void test_bill_rejects_null_arguments(void **state) {
  (void)state;
  rb_tariff t = tariff();
  rb_bill b = {.id = "A", .account = "A", .tariff = NULL};
  rb_buf out = {0};
  assert_int_equal(rb_bill_to_json(&b, &out), RB_EINVAL);
  b.tariff = &t;
  b.nlines = 1;
  assert_int_equal(rb_bill_to_json(&b, &out), RB_EINVAL);
  assert_int_equal(rb_bill_to_json(NULL, &out), RB_EINVAL);
  assert_int_equal(out.len, 0);
  rb_buf_free(&out);
}

static void test_bill_escapes_strings(void **state) {
  (void)state;
  rb_tariff t = tariff();
  rb_bill b = {.id = "q\"/2020-01",
               .account = "q\"",
               .tariff = &t,
               .rules_version = "r"};
  rb_buf out = {0};
  assert_int_equal(rb_bill_to_json(&b, &out), RB_OK);
  assert_int_equal(strncmp(out.data,
                           "{\"bill\":\"q\\\"/2020-01\",\"account\":\"q\\\"\"",
                           37),
                   0);
  rb_buf_free(&out);
}

static void test_notice_minimal_keys(void **state) {
  (void)state;
  rb_notice n = notice(RB_N_TRIAL_GRANTED, "2020-10-01T09:05:00+08:00");
  n.package = "A1/trial";
  rb_buf out = {0};
  assert_int_equal(rb_notice_to_json(&n, TZ8, &out), RB_OK);
  assert_string_equal(out.data, "{\"at\":\"2020-10-01T09:05:00+08:00\","
                                "\"type\":\"trial_granted\",\"account\":\"A1\","
                                "\"package\":\"A1/trial\"}\n");
  rb_buf_free(&out);
}

static void test_notice_bill_issued_has_bill_and_total(void **state) {
  (void)state;
  rb_notice n = notice(RB_N_BILL_ISSUED, "2020-12-01T10:00:00+08:00");
  n.bill = "A1/2020-11";
  n.total = 21000000;
  rb_buf out = {0};
  assert_int_equal(rb_notice_to_json(&n, TZ8, &out), RB_OK);
  assert_string_equal(out.data,
                      "{\"at\":\"2020-12-01T10:00:00+08:00\","
                      "\"type\":\"bill_issued\",\"account\":\"A1\","
                      "\"bill\":\"A1/2020-11\",\"total\":\"0.21\"}\n");
  rb_buf_free(&out);
}

static void test_notice_postpaid_reason_name(void **state) {
  (void)state;
  rb_notice n = notice(RB_N_POSTPAID_ENABLED, "2020-10-01T01:05:00Z");
  n.app = 1400000001;
  n.reason = RB_POSTPAID_AUTO;
  rb_buf out = {0};
  assert_int_equal(rb_notice_to_json(&n, TZ8, &out), RB_OK);
  assert_string_equal(out.data,
                      "{\"at\":\"2020-10-01T09:05:00+08:00\","
                      "\"type\":\"postpaid_enabled\",\"account\":\"A1\","
                      "\"app\":1400000001,\"reason\":\"auto\"}\n");
  rb_buf_free(&out);
}

static void test_notice_stop_reason_name(void **state) {
  (void)state;
  rb_notice n = notice(RB_N_SERVICE_STOPPED, "2020-10-01T09:05:00+08:00");
  n.app = 3;
  n.reason = RB_STOP_TRIAL_EXPIRED;
  rb_buf out = {0};
  assert_int_equal(rb_notice_to_json(&n, 0, &out), RB_OK);
  assert_string_equal(out.data,
                      "{\"at\":\"2020-10-01T01:05:00+00:00\","
                      "\"type\":\"service_stopped\",\"account\":\"A1\","
                      "\"app\":3,\"reason\":\"trial_expired\"}\n");
  rb_buf_free(&out);
}

static void test_notice_forfeited_zero_is_written(void **state) {
  (void)state;
  rb_notice n = notice(RB_N_PACKAGE_EXPIRED, "2021-06-01T00:00:00+08:00");
  n.package = "P1";
  n.forfeited = 0;
  rb_buf out = {0};
  assert_int_equal(rb_notice_to_json(&n, TZ8, &out), RB_OK);
  assert_string_equal(out.data,
                      "{\"at\":\"2021-06-01T00:00:00+08:00\","
                      "\"type\":\"package_expired\",\"account\":\"A1\","
                      "\"package\":\"P1\",\"forfeited\":0}\n");
  rb_buf_free(&out);
}

static void test_notice_arrears_balance(void **state) {
  (void)state;
  rb_notice n = notice(RB_N_ARREARS_NOTICE, "2020-12-01T10:00:00+08:00");
  n.balance = -24500000;
  rb_buf out = {0};
  assert_int_equal(rb_notice_to_json(&n, TZ8, &out), RB_OK);
  assert_string_equal(out.data,
                      "{\"at\":\"2020-12-01T10:00:00+08:00\","
                      "\"type\":\"arrears_notice\",\"account\":\"A1\","
                      "\"balance\":\"-0.245\"}\n");
  rb_buf_free(&out);
  n = notice(RB_N_ARREARS_CLEARED, "2020-12-02T10:00:00+08:00");
  n.balance = 500000000;
  assert_int_equal(rb_notice_to_json(&n, TZ8, &out), RB_OK);
  assert_string_equal(out.data,
                      "{\"at\":\"2020-12-02T10:00:00+08:00\","
                      "\"type\":\"arrears_cleared\",\"account\":\"A1\","
                      "\"balance\":\"5.00\"}\n");
  rb_buf_free(&out);
}

static void test_notice_balance_only_for_arrears(void **state) {
  (void)state;
  rb_notice n = notice(RB_N_SERVICE_RESUMED, "2020-12-02T10:00:00+08:00");
  n.balance = 500000000;
  n.app = 9;
  rb_buf out = {0};
  assert_int_equal(rb_notice_to_json(&n, TZ8, &out), RB_OK);
  assert_string_equal(out.data,
                      "{\"at\":\"2020-12-02T10:00:00+08:00\","
                      "\"type\":\"service_resumed\",\"account\":\"A1\","
                      "\"app\":9}\n");
  rb_buf_free(&out);
}

static void test_notice_usage_id(void **state) {
  (void)state;
  rb_notice n = notice(RB_N_DUPLICATE_USAGE, "2020-11-10T20:30:00+08:00");
  n.app = 1;
  n.id = "u-1";
  rb_buf out = {0};
  assert_int_equal(rb_notice_to_json(&n, TZ8, &out), RB_OK);
  assert_string_equal(out.data,
                      "{\"at\":\"2020-11-10T20:30:00+08:00\","
                      "\"type\":\"duplicate_usage\",\"account\":\"A1\","
                      "\"app\":1,\"id\":\"u-1\"}\n");
  rb_buf_free(&out);
}

static void test_notice_bad_time_leaves_buffer_unchanged(void **state) {
  (void)state;
  rb_notice n = notice(RB_N_LATE_USAGE, "2020-11-10T20:30:00+08:00");
  n.at = RB_TIME_NONE;
  rb_buf out = {0};
  assert_int_equal(rb_notice_to_json(&n, TZ8, &out), RB_ERANGE);
  assert_int_equal(out.len, 0);
  rb_buf_free(&out);
}

static void test_reject_exact(void **state) {
  (void)state;
  rb_reject r;
  memset(&r, 0, sizeof r);
  strcpy(r.code, "bad_field");
  strcpy(r.field, "seconds");
  strcpy(r.message, "\"seconds\" must be an integer\n");
  rb_buf out = {0};
  assert_int_equal(rb_reject_to_json("in/ev.jsonl", 42, &r, &out), RB_OK);
  assert_string_equal(out.data, "{\"file\":\"in/ev.jsonl\",\"line\":42,"
                                "\"error\":\"bad_field\",\"field\":\"seconds\","
                                "\"message\":\"\\\"seconds\\\" must be an "
                                "integer\\n\"}\n");
  rb_buf_free(&out);
}

static void test_reject_unterminated_members_stay_in_bounds(void **state) {
  (void)state;
  rb_reject r;
  memset(&r, 'x', sizeof r);
  rb_buf out = {0};
  assert_int_equal(
      rb_reject_to_json("f", UINT64_C(18446744073709551615), &r, &out), RB_OK);
  /* 32 + 32 + 224 'x' plus the fixed text. */
  size_t fixed = strlen("{\"file\":\"f\",\"line\":18446744073709551615,"
                        "\"error\":\"\",\"field\":\"\",\"message\":\"\"}\n");
  assert_int_equal(out.len, fixed + 32 + 32 + 224);
  rb_buf_free(&out);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_bill_spec_example),
      cmocka_unit_test(test_bill_late_line_arrears_and_negative_diff),
      cmocka_unit_test(test_bill_total_places_follow_unit),
      cmocka_unit_test(test_bill_appends_after_existing_content),
      cmocka_unit_test(test_bill_bad_tier_leaves_buffer_unchanged),
      cmocka_unit_test(test_bill_rejects_null_arguments),
      cmocka_unit_test(test_bill_escapes_strings),
      cmocka_unit_test(test_notice_minimal_keys),
      cmocka_unit_test(test_notice_bill_issued_has_bill_and_total),
      cmocka_unit_test(test_notice_postpaid_reason_name),
      cmocka_unit_test(test_notice_stop_reason_name),
      cmocka_unit_test(test_notice_forfeited_zero_is_written),
      cmocka_unit_test(test_notice_arrears_balance),
      cmocka_unit_test(test_notice_balance_only_for_arrears),
      cmocka_unit_test(test_notice_usage_id),
      cmocka_unit_test(test_notice_bad_time_leaves_buffer_unchanged),
      cmocka_unit_test(test_reject_exact),
      cmocka_unit_test(test_reject_unterminated_members_stay_in_bounds),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
