/* error.c: error descriptions and the stable names of the public enums.
 *
 * Every string here is static. The error tables come from the
 * RB_ERRNO_MAP X-macro in rtcbill.h so that a code added there needs no
 * edit here. Depends on: rtcbill.h only.
 */

/* uv.h, included by rtcbill.h, needs the POSIX thread types, which a
 * strict -std=c11 build hides unless POSIX is requested. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include "rtcbill.h"

const char *rb_strerror(int err) {
  switch (err) {
  case RB_OK:
    return "success";
#define RB__ERR_MSG(name, val, msg)                                        \
  case RB_E##name:                                                         \
    return msg;
    RB_ERRNO_MAP(RB__ERR_MSG)
#undef RB__ERR_MSG
  default:
    return "unknown error";
  }
}

const char *rb_err_name(int err) {
  switch (err) {
  case RB_OK:
    return "OK";
#define RB__ERR_NAME(name, val, msg)                                       \
  case RB_E##name:                                                         \
    return #name;
    RB_ERRNO_MAP(RB__ERR_NAME)
#undef RB__ERR_NAME
  default:
    return "UNKNOWN";
  }
}

/* The names below appear in output files and in the rules, so they are
 * part of the format contract (SPEC 3.4). An out-of-range value yields
 * "unknown" rather than NULL so that a writer never prints garbage. */

const char *rb_cycle_name(rb_cycle c) {
  switch (c) {
  case RB_CYCLE_DAILY:
    return "daily";
  case RB_CYCLE_MONTHLY:
    return "monthly";
  }
  return "unknown";
}

const char *rb_stop_reason_name(rb_stop_reason r) {
  switch (r) {
  case RB_STOP_TRIAL_EXHAUSTED:
    return "trial_exhausted";
  case RB_STOP_TRIAL_EXPIRED:
    return "trial_expired";
  case RB_STOP_NO_PACKAGE:
    return "no_package";
  case RB_STOP_ARREARS:
    return "arrears";
  case RB_STOP__COUNT:
    break;
  }
  return "unknown";
}

const char *rb_notice_type_name(rb_notice_type t) {
  static const char *const names[RB_N__COUNT] = {
      [RB_N_TRIAL_GRANTED] = "trial_granted",
      [RB_N_PACKAGE_ACTIVATED] = "package_activated",
      [RB_N_PACKAGE_EXHAUSTED] = "package_exhausted",
      [RB_N_PACKAGE_EXPIRED] = "package_expired",
      [RB_N_POSTPAID_ENABLED] = "postpaid_enabled",
      [RB_N_SERVICE_STOPPED] = "service_stopped",
      [RB_N_SERVICE_RESUMED] = "service_resumed",
      [RB_N_ARREARS_NOTICE] = "arrears_notice",
      [RB_N_ARREARS_CLEARED] = "arrears_cleared",
      [RB_N_ACCOUNT_RECLAIMED] = "account_reclaimed",
      [RB_N_BILL_ISSUED] = "bill_issued",
      [RB_N_DUPLICATE_USAGE] = "duplicate_usage",
      [RB_N_LATE_USAGE] = "late_usage",
      [RB_N_RULES_RELOADED] = "rules_reloaded",
  };
  /* The enum's signedness is implementation-defined; compare as int. */
  if ((int)t < 0 || (int)t >= RB_N__COUNT || names[t] == NULL)
    return "unknown";
  return names[t];
}

const char *rb_postpaid_reason_name(rb_postpaid_reason r) {
  switch (r) {
  case RB_POSTPAID_CREATION:
    return "creation";
  case RB_POSTPAID_CONSOLE:
    return "console";
  case RB_POSTPAID_AUTO:
    return "auto";
  }
  return "unknown";
}
