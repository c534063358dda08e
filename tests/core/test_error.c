/* test_error.c: error codes and the stable names of enums (error.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "rtcbill.h"

static void test_error_names_and_messages(void **state) {
  (void)state;
  assert_string_equal(rb_err_name(RB_ENOMEM), "NOMEM");
  assert_string_equal(rb_err_name(RB_ENOSPACE), "NOSPACE");
  assert_string_equal(rb_err_name(RB_OK), "OK");
  assert_string_equal(rb_err_name(-99), "UNKNOWN");
  assert_string_equal(rb_strerror(RB_EOVERFLOW), "arithmetic overflow");
  assert_string_equal(rb_strerror(42), "unknown error");
}

static void test_error_enum_names_are_stable(void **state) {
  (void)state;
  assert_string_equal(rb_stop_reason_name(RB_STOP_TRIAL_EXHAUSTED),
                      "trial_exhausted");
  assert_string_equal(rb_stop_reason_name(RB_STOP_NO_PACKAGE), "no_package");
  assert_string_equal(rb_stop_reason_name(RB_STOP_ARREARS), "arrears");
  assert_string_equal(rb_stop_reason_name(RB_STOP__COUNT), "unknown");
  assert_string_equal(rb_notice_type_name(RB_N_TRIAL_GRANTED),
                      "trial_granted");
  assert_string_equal(rb_notice_type_name(RB_N_LATE_USAGE), "late_usage");
  assert_string_equal(rb_notice_type_name(RB_N_RULES_RELOADED),
                      "rules_reloaded");
  assert_string_equal(rb_notice_type_name(RB_N__COUNT), "unknown");
  assert_string_equal(rb_postpaid_reason_name(RB_POSTPAID_CREATION),
                      "creation");
  assert_string_equal(rb_postpaid_reason_name(RB_POSTPAID_AUTO), "auto");
  assert_string_equal(rb_cycle_name(RB_CYCLE_DAILY), "daily");
  for (int i = 0; i < RB_N__COUNT; i++)
    assert_string_not_equal(rb_notice_type_name((rb_notice_type)i),
                            "unknown");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_error_names_and_messages),
      cmocka_unit_test(test_error_enum_names_are_stable),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
