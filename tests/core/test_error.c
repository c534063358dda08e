#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "rtcbill.h"
static void t(void **s) {(void)s;
  assert_string_equal(rb_err_name(RB_ENOMEM), "NOMEM");
  assert_string_equal(rb_err_name(RB_ENOSPACE), "NOSPACE");
  assert_string_equal(rb_err_name(0), "OK");
  assert_string_equal(rb_err_name(-99), "UNKNOWN");
  assert_string_equal(rb_strerror(RB_EOVERFLOW), "arithmetic overflow");
  assert_string_equal(rb_strerror(42), "unknown error");
  assert_string_equal(rb_stop_reason_name(RB_STOP_NO_PACKAGE), "no_package");
  assert_string_equal(rb_stop_reason_name(RB_STOP_ARREARS), "arrears");
  assert_string_equal(rb_stop_reason_name(RB_STOP__COUNT), "unknown");
  assert_string_equal(rb_notice_type_name(RB_N_TRIAL_GRANTED), "trial_granted");
  assert_string_equal(rb_notice_type_name(RB_N_RULES_RELOADED), "rules_reloaded");
  assert_string_equal(rb_notice_type_name(RB_N_LATE_USAGE), "late_usage");
  assert_string_equal(rb_notice_type_name(RB_N__COUNT), "unknown");
  assert_string_equal(rb_postpaid_reason_name(RB_POSTPAID_AUTO), "auto");
  assert_string_equal(rb_postpaid_reason_name(RB_POSTPAID_CREATION), "creation");
  for (int i = 0; i < RB_N__COUNT; i++) assert_string_not_equal(rb_notice_type_name((rb_notice_type)i), "unknown");
}
int main(void){const struct CMUnitTest ts[]={cmocka_unit_test(t)};return cmocka_run_group_tests(ts,NULL,NULL);}
