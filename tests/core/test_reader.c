/* test_reader.c: cmocka tests of rb_event_parse (core/reader.c) and the
 * strict JSON scanner under it (core/json.c).
 *
 * Each accepted event has its values asserted; each malformed line has
 * its exact error code and field asserted. Depends on: cmocka, the core
 * library (reader, json, money, time, arena).
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "rtcbill.h"

static rb_arena *arena;

static int setup(void **state) {
  (void)state;
  arena = rb_arena_new();
  return arena == NULL ? -1 : 0;
}

static int teardown(void **state) {
  (void)state;
  rb_arena_free(arena);
  arena = NULL;
  return 0;
}

/* Parses a string literal; sizeof keeps embedded NUL bytes in the line. */
#define PARSE(lit, ev, rej) rb_event_parse(arena, lit, sizeof(lit) - 1, ev, rej)

/* Asserts that the line is rejected with exactly this code and field. A
 * macro, so that a failure points at the offending case. */
#define REJECT(lit, want_code, want_field)                                     \
  do {                                                                         \
    rb_event ev_;                                                              \
    rb_reject rej_;                                                            \
    assert_int_equal(PARSE(lit, &ev_, &rej_), RB_EREJECT);                     \
    assert_string_equal(rej_.code, want_code);                                 \
    assert_string_equal(rej_.field, want_field);                               \
    assert_true(rej_.message[0] != '\0');                                      \
  } while (0)

#define ACCEPT(lit, ev)                                                        \
  do {                                                                         \
    rb_reject rej_;                                                            \
    int rc_ = PARSE(lit, ev, &rej_);                                           \
    if (rc_ != 0)                                                              \
      fail_msg("rejected: %s %s: %s", rej_.code, rej_.field, rej_.message);    \
  } while (0)

/* Expected instants (seconds since the epoch) of the sample times. */
#define T_0110_0900 INT64_C(1601514000) /* 2020-10-01T09:00:00+08:00 */
#define T_0110_0905 INT64_C(1601514300)
#define T_0210_1200 INT64_C(1601611200)
#define T_0310_0800 INT64_C(1601683200)
#define T_0410_0800 INT64_C(1601769600)
#define T_0510_0800 INT64_C(1601856000)
#define T_0510_0900 INT64_C(1601859600)
#define T_0610_2000 INT64_C(1601985600)
#define T_0610_2045 INT64_C(1601988300)
#define T_0610_2100 INT64_C(1601989200)

/* The fields every event type leaves alone must be empty. */
static void assert_no_usage_fields(const rb_event *ev) {
  assert_null(ev->id);
  assert_null(ev->user);
  assert_null(ev->room);
  assert_true(ev->start == RB_TIME_NONE);
  assert_true(ev->received == RB_TIME_NONE);
  assert_int_equal(ev->seconds, 0);
  assert_int_equal(ev->nvideo, 0);
  assert_null(ev->video);
}

/* ------------------------------------------------------------------ */
/* Accepted events                                                    */
/* ------------------------------------------------------------------ */

static void test_parse_account_with_balance(void **state) {
  rb_event ev;
  (void)state;
  ACCEPT("{\"type\":\"account\",\"account\":\"A1\","
         "\"at\":\"2020-10-01T09:00:00+08:00\",\"balance\":\"100.00\"}",
         &ev);
  assert_int_equal(ev.type, RB_EV_ACCOUNT);
  assert_string_equal(ev.account, "A1");
  assert_true(ev.at == T_0110_0900);
  assert_true(ev.money == INT64_C(100) * RB_MONEY_SCALE);
  assert_int_equal(ev.app, 0);
  assert_null(ev.package);
  assert_null(ev.kind);
  assert_false(ev.postpaid);
  assert_no_usage_fields(&ev);
}

static void test_parse_account_balance_defaults_to_zero(void **state) {
  rb_event ev;
  (void)state;
  ACCEPT("{\"at\":\"2020-10-01T01:00:00Z\",\"account\":\"A2\","
         "\"type\":\"account\"}",
         &ev);
  assert_string_equal(ev.account, "A2");
  assert_true(ev.at == T_0110_0900);
  assert_true(ev.money == 0);
  /* An explicit null is the same as an absent optional field. */
  ACCEPT("{\"type\":\"account\",\"account\":\"A3\","
         "\"at\":\"2020-10-01T09:00:00+08:00\",\"balance\":null}",
         &ev);
  assert_true(ev.money == 0);
  ACCEPT("{\"type\":\"account\",\"account\":\"A4\","
         "\"at\":\"2020-10-01T09:00:00+08:00\",\"balance\":\"0.24500000\"}",
         &ev);
  assert_true(ev.money == INT64_C(24500000));
}

static void test_parse_app_max_int64_id(void **state) {
  rb_event ev;
  (void)state;
  ACCEPT("{\"type\":\"app\",\"app\":9223372036854775807,\"account\":\"A1\","
         "\"at\":\"2020-10-01T09:05:00+08:00\",\"postpaid\":true}",
         &ev);
  assert_int_equal(ev.type, RB_EV_APP);
  assert_true(ev.app == INT64_MAX);
  assert_string_equal(ev.account, "A1");
  assert_true(ev.at == T_0110_0905);
  assert_true(ev.postpaid);
  assert_true(ev.money == 0);
  assert_no_usage_fields(&ev);
}

static void test_parse_app_postpaid_defaults_to_false(void **state) {
  rb_event ev;
  (void)state;
  ACCEPT("{\"type\":\"app\",\"app\":1400000001,\"account\":\"A1\","
         "\"at\":\"2020-10-01T09:05:00+08:00\"}",
         &ev);
  assert_true(ev.app == INT64_C(1400000001));
  assert_false(ev.postpaid);
  ACCEPT("{\"type\":\"app\",\"app\":1,\"account\":\"A1\","
         "\"at\":\"2020-10-01T09:05:00+08:00\",\"postpaid\":false}",
         &ev);
  assert_true(ev.app == 1);
  assert_false(ev.postpaid);
}

static void test_parse_package(void **state) {
  rb_event ev;
  (void)state;
  ACCEPT("{\"type\":\"package\",\"package\":\"P1\",\"account\":\"A1\","
         "\"at\":\"2020-10-02T12:00:00+08:00\",\"kind\":\"general\","
         "\"minutes\":25000,\"price\":\"168.00\"}",
         &ev);
  assert_int_equal(ev.type, RB_EV_PACKAGE);
  assert_string_equal(ev.package, "P1");
  assert_string_equal(ev.account, "A1");
  assert_string_equal(ev.kind, "general");
  assert_true(ev.at == T_0210_1200);
  assert_true(ev.minutes == 25000);
  assert_true(ev.money == INT64_C(168) * RB_MONEY_SCALE);
  assert_int_equal(ev.app, 0);
  assert_no_usage_fields(&ev);
  /* The limits themselves are accepted: a free package of the maximum
   * size. */
  ACCEPT("{\"type\":\"package\",\"package\":\"P2\",\"account\":\"A1\","
         "\"at\":\"2020-10-02T12:00:00+08:00\",\"kind\":\"general\","
         "\"minutes\":1000000000000,\"price\":\"0\"}",
         &ev);
  assert_true(ev.minutes == RB_MINUTES_MAX);
  assert_true(ev.money == 0);
}

static void test_parse_topup(void **state) {
  rb_event ev;
  (void)state;
  ACCEPT("{\"type\":\"topup\",\"account\":\"A1\","
         "\"at\":\"2020-10-03T08:00:00+08:00\",\"amount\":\"50.00\"}",
         &ev);
  assert_int_equal(ev.type, RB_EV_TOPUP);
  assert_string_equal(ev.account, "A1");
  assert_true(ev.at == T_0310_0800);
  assert_true(ev.money == INT64_C(50) * RB_MONEY_SCALE);
  ACCEPT("{\"type\":\"topup\",\"account\":\"A1\","
         "\"at\":\"2020-10-03T08:00:00+08:00\",\"amount\":\"0.00000001\"}",
         &ev);
  assert_true(ev.money == 1);
  assert_no_usage_fields(&ev);
}

static void test_parse_enable_and_disable_postpaid(void **state) {
  rb_event ev;
  (void)state;
  ACCEPT("{\"type\":\"enable_postpaid\",\"app\":1400000001,"
         "\"at\":\"2020-10-04T08:00:00+08:00\"}",
         &ev);
  assert_int_equal(ev.type, RB_EV_ENABLE_POSTPAID);
  assert_true(ev.app == INT64_C(1400000001));
  assert_true(ev.at == T_0410_0800);
  assert_null(ev.account);
  ACCEPT("{\"type\":\"disable_postpaid\",\"app\":1400000001,"
         "\"at\":\"2020-10-05T09:00:00+08:00\"}",
         &ev);
  assert_int_equal(ev.type, RB_EV_DISABLE_POSTPAID);
  assert_true(ev.app == INT64_C(1400000001));
  assert_true(ev.at == T_0510_0900);
  assert_null(ev.account);
  assert_no_usage_fields(&ev);
}

static void test_parse_change_cycle(void **state) {
  rb_event ev;
  (void)state;
  ACCEPT("{\"type\":\"change_cycle\",\"account\":\"A1\","
         "\"at\":\"2020-10-05T08:00:00+08:00\",\"cycle\":\"daily\"}",
         &ev);
  assert_int_equal(ev.type, RB_EV_CHANGE_CYCLE);
  assert_string_equal(ev.account, "A1");
  assert_true(ev.at == T_0510_0800);
  assert_int_equal(ev.cycle, RB_CYCLE_DAILY);
  ACCEPT("{\"type\":\"change_cycle\",\"account\":\"A1\","
         "\"at\":\"2020-10-05T08:00:00+08:00\",\"cycle\":\"monthly\"}",
         &ev);
  assert_int_equal(ev.cycle, RB_CYCLE_MONTHLY);
}

static void test_parse_usage_with_video(void **state) {
  rb_event ev;
  (void)state;
  ACCEPT("{\"type\":\"usage\",\"id\":\"u-1\",\"app\":1400000001,"
         "\"user\":\"alice\",\"room\":\"r1\","
         "\"start\":\"2020-10-06T20:00:00+08:00\",\"seconds\":2700,"
         "\"video\":[{\"offset\":0,\"seconds\":2700,\"width\":640,"
         "\"height\":360},{\"offset\":1800,\"seconds\":900,\"width\":1280,"
         "\"height\":720}]}",
         &ev);
  assert_int_equal(ev.type, RB_EV_USAGE);
  assert_string_equal(ev.id, "u-1");
  assert_true(ev.app == INT64_C(1400000001));
  assert_string_equal(ev.user, "alice");
  assert_string_equal(ev.room, "r1");
  assert_true(ev.start == T_0610_2000);
  assert_true(ev.seconds == 2700);
  assert_true(ev.received == RB_TIME_NONE);
  assert_true(ev.at == T_0610_2045);
  assert_int_equal(ev.nvideo, 2);
  assert_true(ev.video[0].offset == 0);
  assert_true(ev.video[0].seconds == 2700);
  assert_true(ev.video[0].width == 640);
  assert_true(ev.video[0].height == 360);
  assert_true(ev.video[1].offset == 1800);
  assert_true(ev.video[1].seconds == 900);
  assert_true(ev.video[1].width == 1280);
  assert_true(ev.video[1].height == 720);
  assert_null(ev.account);
  assert_null(ev.package);
  assert_true(ev.money == 0);
}

static void test_parse_usage_audio_only_and_empty_video(void **state) {
  rb_event ev;
  (void)state;
  ACCEPT("{\"type\":\"usage\",\"id\":\"u-2\",\"app\":7,\"user\":\"bob\","
         "\"room\":\"r1\",\"start\":\"2020-10-06T20:00:00+08:00\","
         "\"seconds\":0}",
         &ev);
  assert_true(ev.seconds == 0);
  assert_true(ev.at == T_0610_2000);
  assert_int_equal(ev.nvideo, 0);
  assert_null(ev.video);
  ACCEPT("{\"type\":\"usage\",\"id\":\"u-3\",\"app\":7,\"user\":\"bob\","
         "\"room\":\"r1\",\"start\":\"2020-10-06T20:00:00+08:00\","
         "\"seconds\":31622400,\"video\":[]}",
         &ev);
  assert_true(ev.seconds == RB_SESSION_SECONDS_MAX);
  assert_int_equal(ev.nvideo, 0);
  assert_null(ev.video);
}

static void test_parse_usage_received_sets_effective_time(void **state) {
  rb_event ev;
  (void)state;
  /* Received after the end: the record takes effect when received. */
  ACCEPT("{\"type\":\"usage\",\"id\":\"u-4\",\"app\":7,\"user\":\"bob\","
         "\"room\":\"r1\",\"start\":\"2020-10-06T20:00:00+08:00\","
         "\"seconds\":60,\"received\":\"2020-10-06T21:00:00+08:00\"}",
         &ev);
  assert_true(ev.received == T_0610_2100);
  assert_true(ev.at == T_0610_2100);
  /* Received before the end counts as the end. */
  ACCEPT("{\"type\":\"usage\",\"id\":\"u-5\",\"app\":7,\"user\":\"bob\","
         "\"room\":\"r1\",\"start\":\"2020-10-06T20:00:00+08:00\","
         "\"seconds\":2700,\"received\":\"2020-10-06T20:00:00+08:00\"}",
         &ev);
  assert_true(ev.received == T_0610_2000);
  assert_true(ev.at == T_0610_2045);
}

static void test_parse_strings_decode_escapes(void **state) {
  rb_event ev;
  (void)state;
  ACCEPT("{\"type\":\"usage\",\"id\":\"a\\\"b\\\\c\\/d\","
         "\"app\":7,\"user\":\"\\u00e9\\ud83d\\ude00\",\"room\":\"\xe6\x88\xbf"
         "\",\"start\":\"2020-10-06T20:00:00+08:00\",\"seconds\":1}",
         &ev);
  assert_string_equal(ev.id, "a\"b\\c/d");
  assert_string_equal(ev.user, "\xc3\xa9\xf0\x9f\x98\x80");
  assert_string_equal(ev.room, "\xe6\x88\xbf");
  /* Raw multi-byte UTF-8 at the edges of the valid ranges passes. */
  ACCEPT("{\"type\":\"usage\",\"id\":\"\xf0\x9f\x98\x80\",\"app\":7,"
         "\"user\":\"\xe0\xa0\x80\",\"room\":\"\xf4\x8f\xbf\xbf\","
         "\"start\":\"2020-10-06T20:00:00+08:00\",\"seconds\":1}",
         &ev);
  assert_string_equal(ev.id, "\xf0\x9f\x98\x80");
  assert_string_equal(ev.user, "\xe0\xa0\x80");
  assert_string_equal(ev.room, "\xf4\x8f\xbf\xbf");
  /* Escaped keys are keys like any other. */
  ACCEPT("{\"\\u0074ype\":\"topup\",\"account\":\"A1\","
         "\"at\":\"2020-10-03T08:00:00+08:00\",\"amount\":\"1\"}",
         &ev);
  assert_int_equal(ev.type, RB_EV_TOPUP);
}

static void test_parse_ignores_unknown_keys(void **state) {
  rb_event ev;
  (void)state;
  /* Unknown values may be anything valid, up to 8 levels of nesting in
   * all (the line's own object is the first). */
  ACCEPT(" {\"note\":{\"a\":[1,2.5,-3e-7,true,null,\"x\"]},"
         "\"deep\":[[[[[[{}]]]]]],\"type\":\"topup\",\"account\":\"A1\","
         "\"at\":\"2020-10-03T08:00:00+08:00\",\"amount\":\"50.00\","
         "\"extra\":\"\\u00e9\"}\r",
         &ev);
  assert_int_equal(ev.type, RB_EV_TOPUP);
  assert_true(ev.money == INT64_C(50) * RB_MONEY_SCALE);
  /* Segments may carry extra keys too. */
  ACCEPT("{\"type\":\"usage\",\"id\":\"u\",\"app\":7,\"user\":\"b\","
         "\"room\":\"r\",\"start\":\"2020-10-06T20:00:00+08:00\","
         "\"seconds\":10,\"video\":[{\"offset\":9,\"seconds\":1,"
         "\"width\":65536,\"height\":1,\"codec\":\"h264\"}]}",
         &ev);
  assert_int_equal(ev.nvideo, 1);
  assert_true(ev.video[0].offset == 9);
  assert_true(ev.video[0].width == RB_PIXELS_SIDE_MAX);
}

static void test_parse_id_of_exactly_the_limit(void **state) {
  char line[600];
  char id[RB_ID_MAX + 2];
  rb_event ev;
  rb_reject rej;
  int n;
  (void)state;
  memset(id, 'x', sizeof id);
  id[RB_ID_MAX] = '\0';
  n = snprintf(line, sizeof line,
               "{\"type\":\"topup\",\"account\":\"%s\","
               "\"at\":\"2020-10-03T08:00:00+08:00\",\"amount\":\"1\"}",
               id);
  assert_int_equal(rb_event_parse(arena, line, (size_t)n, &ev, &rej), 0);
  assert_int_equal(strlen(ev.account), RB_ID_MAX);

  id[RB_ID_MAX] = 'x';
  id[RB_ID_MAX + 1] = '\0';
  n = snprintf(line, sizeof line,
               "{\"type\":\"topup\",\"account\":\"%s\","
               "\"at\":\"2020-10-03T08:00:00+08:00\",\"amount\":\"1\"}",
               id);
  assert_int_equal(rb_event_parse(arena, line, (size_t)n, &ev, &rej),
                   RB_EREJECT);
  assert_string_equal(rej.code, "out_of_range");
  assert_string_equal(rej.field, "account");
}

static void test_parse_segments_up_to_the_limit(void **state) {
  const char *head = "{\"type\":\"usage\",\"id\":\"u\",\"app\":7,"
                     "\"user\":\"b\",\"room\":\"r\","
                     "\"start\":\"2020-10-06T20:00:00+08:00\","
                     "\"seconds\":5000,\"video\":[";
  const char *seg = "{\"offset\":1,\"seconds\":2,\"width\":3,\"height\":4}";
  size_t cap = strlen(head) + (RB_SEGMENTS_MAX + 1) * (strlen(seg) + 1) + 4;
  char *line = malloc(cap);
  rb_event ev;
  rb_reject rej;
  size_t len, i;
  (void)state;
  assert_non_null(line);
  for (int extra = 0; extra < 2; extra++) {
    len = (size_t)sprintf(line, "%s", head);
    for (i = 0; i < (size_t)RB_SEGMENTS_MAX + (size_t)extra; i++)
      len += (size_t)sprintf(line + len, "%s%s", i ? "," : "", seg);
    len += (size_t)sprintf(line + len, "]}");
    if (extra == 0) {
      assert_int_equal(rb_event_parse(arena, line, len, &ev, &rej), 0);
      assert_int_equal(ev.nvideo, RB_SEGMENTS_MAX);
      assert_true(ev.video[RB_SEGMENTS_MAX - 1].height == 4);
    } else {
      assert_int_equal(rb_event_parse(arena, line, len, &ev, &rej), RB_EREJECT);
      assert_string_equal(rej.code, "out_of_range");
      assert_string_equal(rej.field, "video");
    }
  }
  free(line);
}

/* ------------------------------------------------------------------ */
/* Malformed JSON                                                     */
/* ------------------------------------------------------------------ */

static void test_reject_empty_and_blank_lines(void **state) {
  rb_event ev;
  rb_reject rej;
  (void)state;
  assert_int_equal(rb_event_parse(arena, "", 0, &ev, &rej), RB_EREJECT);
  assert_string_equal(rej.code, "bad_json");
  assert_string_equal(rej.field, "");
  assert_string_equal(rej.message, "the line is empty");
  REJECT(" \t\r", "bad_json", "");
}

static void test_reject_truncated_lines(void **state) {
  (void)state;
  REJECT("{\"type\":\"topup\",\"account\":\"A1\"", "bad_json", "");
  REJECT("{\"type\":\"top", "bad_json", "");
  REJECT("{\"type\":", "bad_json", "");
  REJECT("{\"type\"", "bad_json", "");
  REJECT("{", "bad_json", "");
  REJECT("{\"a\":\"\\u00", "bad_json", "");
}

static void test_reject_trailing_garbage(void **state) {
  rb_event ev;
  rb_reject rej;
  (void)state;
  REJECT("{\"type\":\"topup\"} x", "bad_json", "");
  REJECT("{}{}", "bad_json", "");
  REJECT("{\"type\":\"topup\"},", "bad_json", "");
  assert_int_equal(PARSE("{\"type\":\"topup\"}]", &ev, &rej), RB_EREJECT);
  assert_string_equal(rej.message,
                      "malformed JSON at column 17: expected the end of the "
                      "line after the value, found ']'");
}

static void test_reject_bad_utf8(void **state) {
  (void)state;
  REJECT("{\"type\":\"topup\",\"account\":\"A\xc3\x28\"}", "bad_json", "");
  /* Overlong encoding of '/'. */
  REJECT("{\"account\":\"\xc0\xaf\"}", "bad_json", "");
  /* Overlong three- and four-byte forms. */
  REJECT("{\"account\":\"\xe0\x80\xaf\"}", "bad_json", "");
  REJECT("{\"account\":\"\xf0\x80\x80\xaf\"}", "bad_json", "");
  /* A lone continuation byte. */
  REJECT("{\"account\":\"\x80\"}", "bad_json", "");
  /* A surrogate encoded directly in UTF-8. */
  REJECT("{\"account\":\"\xed\xa0\x80\"}", "bad_json", "");
  /* Past U+10FFFF. */
  REJECT("{\"account\":\"\xf4\x90\x80\x80\"}", "bad_json", "");
  /* A sequence cut short by the closing quote. */
  REJECT("{\"account\":\"\xe6\x88\"}", "bad_json", "");
  /* Invalid bytes in a key are just as bad. */
  REJECT("{\"\xff\":1}", "bad_json", "");
}

static void test_reject_control_characters_and_bad_escapes(void **state) {
  (void)state;
  REJECT("{\"account\":\"a\tb\"}", "bad_json", "");
  REJECT("{\"account\":\"a\nb\"}", "bad_json", "");
  REJECT("{\"account\":\"\\x41\"}", "bad_json", "");
  REJECT("{\"account\":\"\\u12G4\"}", "bad_json", "");
  REJECT("{\"account\":\"\\U0041\"}", "bad_json", "");
  /* A NUL byte outside a string. */
  REJECT("{\"a\":1\0}", "bad_json", "");
}

static void test_reject_lone_surrogates(void **state) {
  (void)state;
  REJECT("{\"user\":\"\\ud800\"}", "bad_json", "");
  REJECT("{\"user\":\"\\ud800x\"}", "bad_json", "");
  REJECT("{\"user\":\"\\ud800\\u0041\"}", "bad_json", "");
  REJECT("{\"user\":\"\\udc00\"}", "bad_json", "");
}

static void test_reject_non_json_numbers(void **state) {
  (void)state;
  REJECT("{\"type\":\"app\",\"app\":NaN}", "bad_json", "");
  REJECT("{\"type\":\"app\",\"app\":Infinity}", "bad_json", "");
  REJECT("{\"type\":\"app\",\"app\":-Infinity}", "bad_json", "");
  REJECT("{\"type\":\"app\",\"app\":01}", "bad_json", "");
  REJECT("{\"type\":\"app\",\"app\":+1}", "bad_json", "");
  REJECT("{\"type\":\"app\",\"app\":.5}", "bad_json", "");
  REJECT("{\"type\":\"app\",\"app\":1.}", "bad_json", "");
  REJECT("{\"type\":\"app\",\"app\":1e}", "bad_json", "");
  REJECT("{\"type\":\"app\",\"app\":-}", "bad_json", "");
  REJECT("{\"type\":\"app\",\"app\":0x10}", "bad_json", "");
}

static void test_reject_other_syntax_errors(void **state) {
  (void)state;
  REJECT("{\"type\":\"topup\",}", "bad_json", "");
  REJECT("{'type':'topup'}", "bad_json", "");
  REJECT("{type:\"topup\"}", "bad_json", "");
  REJECT("{\"type\" \"topup\"}", "bad_json", "");
  REJECT("{\"a\":[1,2,]}", "bad_json", "");
  REJECT("{\"a\":tru}", "bad_json", "");
  REJECT("{\"a\":True}", "bad_json", "");
  REJECT("\xef\xbb\xbf{}", "bad_json", "");
}

static void test_reject_deep_nesting(void **state) {
  rb_event ev;
  rb_reject rej;
  (void)state;
  /* Nine levels: one too many. */
  assert_int_equal(
      PARSE("{\"type\":\"topup\",\"x\":[[[[[[[[1]]]]]]]]}", &ev, &rej),
      RB_EREJECT);
  assert_string_equal(rej.code, "bad_json");
  assert_string_equal(rej.field, "");
  assert_non_null(strstr(rej.message, "deeper than 8"));
  REJECT("{\"x\":{\"x\":{\"x\":{\"x\":{\"x\":{\"x\":{\"x\":{\"x\":{}}}}}}}}}",
         "bad_json", "");
}

static void test_reject_duplicate_keys(void **state) {
  rb_event ev;
  rb_reject rej;
  (void)state;
  REJECT("{\"type\":\"topup\",\"account\":\"A1\",\"account\":\"A2\","
         "\"at\":\"2020-10-03T08:00:00+08:00\",\"amount\":\"1\"}",
         "bad_json", "account");
  /* The same key spelled with an escape is still the same key. */
  REJECT("{\"type\":\"topup\",\"account\":\"A1\","
         "\"at\":\"2020-10-03T08:00:00+08:00\",\"\\u0061t\":\"x\"}",
         "bad_json", "at");
  /* Inside a segment, and inside an ignored value. */
  REJECT("{\"type\":\"usage\",\"video\":[{\"width\":1,\"width\":2}]}",
         "bad_json", "width");
  REJECT("{\"note\":{\"k\":1,\"k\":1},\"type\":\"topup\"}", "bad_json", "k");
  /* A key with a control character is shown without it. */
  assert_int_equal(PARSE("{\"a\\nb\":1,\"a\\nb\":2}", &ev, &rej), RB_EREJECT);
  assert_string_equal(rej.code, "bad_json");
  assert_string_equal(rej.field, "a?b");
  for (const char *p = rej.message; *p; p++)
    assert_true((unsigned char)*p >= 0x20);
}

static void test_reject_duplicate_keys_in_large_objects(void **state) {
  rb_event ev;
  rb_reject rej;
  char line[1024];
  size_t len = 0;
  int i;
  (void)state;
  /* Objects with many keys take the sorting path. */
  len += (size_t)sprintf(line + len, "{");
  for (i = 0; i < 40; i++)
    len += (size_t)sprintf(line + len, "\"k%d\":%d,", i, i);
  len += (size_t)sprintf(line + len, "\"k17\":0}");
  assert_int_equal(rb_event_parse(arena, line, len, &ev, &rej), RB_EREJECT);
  assert_string_equal(rej.code, "bad_json");
  assert_string_equal(rej.field, "k17");
  /* Without the repeat the same object is fine as far as JSON goes. */
  line[len - 9] = '}';
  assert_int_equal(rb_event_parse(arena, line, len - 8, &ev, &rej), RB_EREJECT);
  assert_string_equal(rej.code, "missing_field");
  assert_string_equal(rej.field, "type");
}

static void test_reject_non_object_lines(void **state) {
  (void)state;
  REJECT("[{\"type\":\"topup\"}]", "bad_json", "");
  REJECT("\"topup\"", "bad_json", "");
  REJECT("42", "bad_json", "");
  REJECT("null", "bad_json", "");
}

static void test_reject_line_too_long(void **state) {
  size_t len = RB_LINE_MAX + 1;
  char *line = malloc(len);
  rb_event ev;
  rb_reject rej;
  (void)state;
  assert_non_null(line);
  memset(line, ' ', len);
  line[0] = '{';
  line[len - 1] = '}';
  assert_int_equal(rb_event_parse(arena, line, len, &ev, &rej), RB_EREJECT);
  assert_string_equal(rej.code, "line_too_long");
  assert_string_equal(rej.field, "");
  /* One byte less is within the limit (and then lacks a type). */
  line[len - 2] = '}';
  assert_int_equal(rb_event_parse(arena, line, len - 1, &ev, &rej), RB_EREJECT);
  assert_string_equal(rej.code, "missing_field");
  free(line);
}

/* ------------------------------------------------------------------ */
/* Types and fields                                                   */
/* ------------------------------------------------------------------ */

static void test_reject_missing_or_unknown_type(void **state) {
  rb_event ev;
  rb_reject rej;
  (void)state;
  REJECT("{}", "missing_field", "type");
  REJECT("{\"account\":\"A1\",\"at\":\"2020-10-03T08:00:00+08:00\"}",
         "missing_field", "type");
  REJECT("{\"type\":null}", "missing_field", "type");
  REJECT("{\"type\":7}", "bad_field", "type");
  REJECT("{\"type\":\"refund\"}", "unknown_type", "type");
  REJECT("{\"type\":\"Usage\"}", "unknown_type", "type");
  REJECT("{\"type\":\"\"}", "unknown_type", "type");
  /* The unknown name is quoted with its control characters escaped. */
  assert_int_equal(PARSE("{\"type\":\"x\\ny\"}", &ev, &rej), RB_EREJECT);
  assert_string_equal(rej.message, "unknown event type \"x\\u000Ay\"");
}

static void test_reject_missing_required_fields(void **state) {
  rb_event ev;
  rb_reject rej;
  (void)state;
  REJECT("{\"type\":\"account\",\"at\":\"2020-10-01T09:00:00+08:00\"}",
         "missing_field", "account");
  REJECT("{\"type\":\"account\",\"account\":\"A1\"}", "missing_field", "at");
  REJECT("{\"type\":\"app\",\"account\":\"A1\","
         "\"at\":\"2020-10-01T09:00:00+08:00\"}",
         "missing_field", "app");
  REJECT("{\"type\":\"package\",\"package\":\"P1\",\"account\":\"A1\","
         "\"at\":\"2020-10-02T12:00:00+08:00\",\"minutes\":1,"
         "\"price\":\"1\"}",
         "missing_field", "kind");
  REJECT("{\"type\":\"package\",\"package\":\"P1\",\"account\":\"A1\","
         "\"at\":\"2020-10-02T12:00:00+08:00\",\"kind\":\"general\","
         "\"minutes\":1}",
         "missing_field", "price");
  REJECT("{\"type\":\"topup\",\"account\":\"A1\","
         "\"at\":\"2020-10-03T08:00:00+08:00\"}",
         "missing_field", "amount");
  REJECT("{\"type\":\"change_cycle\",\"account\":\"A1\","
         "\"at\":\"2020-10-05T08:00:00+08:00\"}",
         "missing_field", "cycle");
  REJECT("{\"type\":\"enable_postpaid\",\"app\":1}", "missing_field", "at");
  /* A usage record has "start", not "at". */
  REJECT("{\"type\":\"usage\",\"id\":\"u\",\"app\":1,\"user\":\"b\","
         "\"room\":\"r\",\"at\":\"2020-10-06T20:00:00+08:00\","
         "\"seconds\":1}",
         "missing_field", "start");
  REJECT("{\"type\":\"usage\",\"id\":\"u\",\"app\":1,\"room\":\"r\","
         "\"start\":\"2020-10-06T20:00:00+08:00\",\"seconds\":1}",
         "missing_field", "user");
  /* A required field set to null is missing. */
  assert_int_equal(PARSE("{\"type\":\"topup\",\"account\":null}", &ev, &rej),
                   RB_EREJECT);
  assert_string_equal(rej.code, "missing_field");
  assert_string_equal(rej.field, "account");
  assert_string_equal(rej.message, "missing required field \"account\"");
}

static void test_reject_integer_fields(void **state) {
  rb_event ev;
  rb_reject rej;
  (void)state;
#define APP(v)                                                                 \
  "{\"type\":\"enable_postpaid\",\"app\":" v                                   \
  ",\"at\":\"2020-10-04T08:00:00+08:00\"}"
  REJECT(APP("\"1400000001\""), "bad_field", "app");
  REJECT(APP("1.0"), "bad_field", "app");
  REJECT(APP("1e3"), "bad_field", "app");
  REJECT(APP("1E3"), "bad_field", "app");
  REJECT(APP("true"), "bad_field", "app");
  REJECT(APP("[1]"), "bad_field", "app");
  REJECT(APP("0"), "out_of_range", "app");
  REJECT(APP("-0"), "out_of_range", "app");
  REJECT(APP("-1"), "out_of_range", "app");
  REJECT(APP("9223372036854775808"), "out_of_range", "app");
  REJECT(APP("99999999999999999999999999999"), "out_of_range", "app");
  REJECT(APP("-9223372036854775809"), "out_of_range", "app");
  /* The most negative int64 is read exactly, then refused as an id. */
  assert_int_equal(PARSE(APP("-9223372036854775808"), &ev, &rej), RB_EREJECT);
  assert_string_equal(rej.code, "out_of_range");
  assert_string_equal(rej.message,
                      "\"app\" must be >= 1, got -9223372036854775808");
  assert_int_equal(PARSE(APP("9223372036854775808"), &ev, &rej), RB_EREJECT);
  assert_string_equal(rej.message, "\"app\" does not fit in a 64-bit "
                                   "integer, got \"9223372036854775808\"");
#undef APP
}

static void test_reject_package_minutes(void **state) {
  (void)state;
#define PKG(v)                                                                 \
  "{\"type\":\"package\",\"package\":\"P1\",\"account\":\"A1\","               \
  "\"at\":\"2020-10-02T12:00:00+08:00\",\"kind\":\"general\","                 \
  "\"minutes\":" v ",\"price\":\"168.00\"}"
  REJECT(PKG("0"), "out_of_range", "minutes");
  REJECT(PKG("1000000000001"), "out_of_range", "minutes");
  REJECT(PKG("\"25000\""), "bad_field", "minutes");
  REJECT(PKG("25000.0"), "bad_field", "minutes");
#undef PKG
}

static void test_reject_usage_seconds(void **state) {
  rb_event ev;
  rb_reject rej;
  (void)state;
#define USAGE(v)                                                               \
  "{\"type\":\"usage\",\"id\":\"u\",\"app\":1,\"user\":\"b\","                 \
  "\"room\":\"r\",\"start\":\"2020-10-06T20:00:00+08:00\",\"seconds\":" v "}"
  assert_int_equal(PARSE(USAGE("-5"), &ev, &rej), RB_EREJECT);
  assert_string_equal(rej.code, "out_of_range");
  assert_string_equal(rej.field, "seconds");
  assert_string_equal(rej.message, "\"seconds\" must be >= 0, got -5");
  REJECT(USAGE("31622401"), "out_of_range", "seconds");
  REJECT(USAGE("2.5"), "bad_field", "seconds");
  REJECT(USAGE("\"60\""), "bad_field", "seconds");
  REJECT(USAGE("-9223372036854775809"), "out_of_range", "seconds");
#undef USAGE
}

static void test_reject_string_ids(void **state) {
  (void)state;
#define TOPUP(v)                                                               \
  "{\"type\":\"topup\",\"account\":" v                                         \
  ",\"at\":\"2020-10-03T08:00:00+08:00\",\"amount\":\"1\"}"
  REJECT(TOPUP("1"), "bad_field", "account");
  REJECT(TOPUP("{}"), "bad_field", "account");
  REJECT(TOPUP("\"\""), "bad_field", "account");
  REJECT(TOPUP("\"a\\u0000b\""), "bad_field", "account");
  REJECT(TOPUP("\"a\\tb\""), "bad_field", "account");
  REJECT(TOPUP("\"a\\u007fb\""), "bad_field", "account");
#undef TOPUP
  REJECT("{\"type\":\"package\",\"package\":\"P1\",\"account\":\"A1\","
         "\"at\":\"2020-10-02T12:00:00+08:00\",\"kind\":\"\","
         "\"minutes\":1,\"price\":\"1\"}",
         "bad_field", "kind");
  REJECT("{\"type\":\"usage\",\"id\":\"\",\"app\":1}", "bad_field", "id");
  REJECT("{\"type\":\"usage\",\"id\":\"u\",\"app\":1,\"user\":\"b\","
         "\"room\":false}",
         "bad_field", "room");
}

static void test_reject_times(void **state) {
  rb_event ev;
  rb_reject rej;
  (void)state;
#define AT(v) "{\"type\":\"account\",\"account\":\"A1\",\"at\":" v "}"
  REJECT(AT("\"2020-11-31T09:00:00+08:00\""), "bad_time", "at");
  REJECT(AT("\"2020-10-01T25:00:00+08:00\""), "bad_time", "at");
  REJECT(AT("\"2020-10-01T09:00:00\""), "bad_time", "at");
  REJECT(AT("\"2020-10-01 09:00:00+08:00\""), "bad_time", "at");
  REJECT(AT("\"2020-13-01T09:00:00+08:00\""), "bad_time", "at");
  REJECT(AT("\"yesterday\""), "bad_time", "at");
  REJECT(AT("\"\""), "bad_time", "at");
  REJECT(AT("1601514000"), "bad_field", "at");
  assert_int_equal(PARSE(AT("\"2020-11-31T09:00:00+08:00\""), &ev, &rej),
                   RB_EREJECT);
  assert_string_equal(rej.message,
                      "\"at\" is not a valid RFC 3339 time with an offset, "
                      "got \"2020-11-31T09:00:00+08:00\"");
#undef AT
  REJECT("{\"type\":\"usage\",\"id\":\"u\",\"app\":1,\"user\":\"b\","
         "\"room\":\"r\",\"start\":\"2020-10-06T20:00:00+08:00\","
         "\"seconds\":1,\"received\":\"soon\"}",
         "bad_time", "received");
  REJECT("{\"type\":\"usage\",\"id\":\"u\",\"app\":1,\"user\":\"b\","
         "\"room\":\"r\",\"start\":\"2020-10-06T20:60:00+08:00\","
         "\"seconds\":1}",
         "bad_time", "start");
}

static void test_reject_money(void **state) {
  rb_event ev;
  rb_reject rej;
  (void)state;
#define BAL(v)                                                                 \
  "{\"type\":\"account\",\"account\":\"A1\","                                  \
  "\"at\":\"2020-10-01T09:00:00+08:00\",\"balance\":" v "}"
  REJECT(BAL("100.00"), "bad_money", "balance");
  REJECT(BAL("100"), "bad_money", "balance");
  REJECT(BAL("\"1.123456789\""), "bad_money", "balance");
  REJECT(BAL("\"1e3\""), "bad_money", "balance");
  REJECT(BAL("\" 1.00\""), "bad_money", "balance");
  REJECT(BAL("\"+1.00\""), "bad_money", "balance");
  REJECT(BAL("\"\""), "bad_money", "balance");
  REJECT(BAL("\"-0.01\""), "out_of_range", "balance");
  REJECT(BAL("\"99999999999999999999\""), "out_of_range", "balance");
  REJECT(BAL("true"), "bad_field", "balance");
  assert_int_equal(PARSE(BAL("\"-5.00\""), &ev, &rej), RB_EREJECT);
  assert_string_equal(rej.message, "\"balance\" must be >= 0, got \"-5.00\"");
#undef BAL
#define PRICE(v)                                                               \
  "{\"type\":\"package\",\"package\":\"P1\",\"account\":\"A1\","               \
  "\"at\":\"2020-10-02T12:00:00+08:00\",\"kind\":\"general\","                 \
  "\"minutes\":25000,\"price\":" v "}"
  REJECT(PRICE("168"), "bad_money", "price");
  REJECT(PRICE("\"168.000000001\""), "bad_money", "price");
  REJECT(PRICE("\"-1\""), "out_of_range", "price");
#undef PRICE
#define AMOUNT(v)                                                              \
  "{\"type\":\"topup\",\"account\":\"A1\","                                    \
  "\"at\":\"2020-10-03T08:00:00+08:00\",\"amount\":" v "}"
  REJECT(AMOUNT("\"0\""), "out_of_range", "amount");
  REJECT(AMOUNT("\"0.00\""), "out_of_range", "amount");
  REJECT(AMOUNT("\"-50.00\""), "out_of_range", "amount");
  REJECT(AMOUNT("50"), "bad_money", "amount");
#undef AMOUNT
}

static void test_reject_booleans_and_cycles(void **state) {
  (void)state;
#define APPEV(v)                                                               \
  "{\"type\":\"app\",\"app\":1,\"account\":\"A1\","                            \
  "\"at\":\"2020-10-01T09:05:00+08:00\",\"postpaid\":" v "}"
  REJECT(APPEV("\"true\""), "bad_field", "postpaid");
  REJECT(APPEV("1"), "bad_field", "postpaid");
#undef APPEV
#define CYCLE(v)                                                               \
  "{\"type\":\"change_cycle\",\"account\":\"A1\","                             \
  "\"at\":\"2020-10-05T08:00:00+08:00\",\"cycle\":" v "}"
  REJECT(CYCLE("\"weekly\""), "bad_field", "cycle");
  REJECT(CYCLE("\"Daily\""), "bad_field", "cycle");
  REJECT(CYCLE("1"), "bad_field", "cycle");
#undef CYCLE
}

/* ------------------------------------------------------------------ */
/* Video segments                                                     */
/* ------------------------------------------------------------------ */

#define VIDEO(v)                                                               \
  "{\"type\":\"usage\",\"id\":\"u\",\"app\":1,\"user\":\"b\","                 \
  "\"room\":\"r\",\"start\":\"2020-10-06T20:00:00+08:00\","                    \
  "\"seconds\":120,\"video\":" v "}"
#define SEG "{\"offset\":0,\"seconds\":60,\"width\":640,\"height\":360}"

static void test_reject_video_shapes(void **state) {
  (void)state;
  REJECT(VIDEO("{}"), "bad_field", "video");
  REJECT(VIDEO("\"none\""), "bad_field", "video");
  REJECT(VIDEO("[1]"), "bad_field", "video[0]");
  REJECT(VIDEO("[" SEG ",[]]"), "bad_field", "video[1]");
}

static void test_reject_segment_fields(void **state) {
  (void)state;
  REJECT(VIDEO("[{\"seconds\":60,\"width\":640,\"height\":360}]"),
         "missing_field", "video[0].offset");
  REJECT(VIDEO("[" SEG ",{\"offset\":0,\"seconds\":60,\"width\":640}]"),
         "missing_field", "video[1].height");
  REJECT(VIDEO("[{\"offset\":-1,\"seconds\":60,\"width\":640,"
               "\"height\":360}]"),
         "out_of_range", "video[0].offset");
  REJECT(VIDEO("[{\"offset\":0,\"seconds\":0,\"width\":640,"
               "\"height\":360}]"),
         "out_of_range", "video[0].seconds");
  REJECT(VIDEO("[{\"offset\":0,\"seconds\":60,\"width\":0,"
               "\"height\":360}]"),
         "out_of_range", "video[0].width");
  REJECT(VIDEO("[{\"offset\":0,\"seconds\":60,\"width\":640,"
               "\"height\":65537}]"),
         "out_of_range", "video[0].height");
  REJECT(VIDEO("[{\"offset\":0,\"seconds\":60,\"width\":640.0,"
               "\"height\":360}]"),
         "bad_field", "video[0].width");
  REJECT(VIDEO("[{\"offset\":\"0\",\"seconds\":60,\"width\":640,"
               "\"height\":360}]"),
         "bad_field", "video[0].offset");
  REJECT(VIDEO("[{\"offset\":0,\"seconds\":60,\"width\":640,"
               "\"height\":1e2}]"),
         "bad_field", "video[0].height");
}

static void test_reject_segment_outside_presence(void **state) {
  rb_event ev;
  rb_reject rej;
  (void)state;
  /* Ending exactly at the presence end is inside. */
  ACCEPT(VIDEO("[{\"offset\":60,\"seconds\":60,\"width\":1,\"height\":1}]"),
         &ev);
  assert_true(ev.video[0].offset == 60);
  assert_int_equal(PARSE(VIDEO("[" SEG ",{\"offset\":61,\"seconds\":60,"
                               "\"width\":1,\"height\":1}]"),
                         &ev, &rej),
                   RB_EREJECT);
  assert_string_equal(rej.code, "segment_outside");
  assert_string_equal(rej.field, "video[1]");
  REJECT(VIDEO("[{\"offset\":0,\"seconds\":121,\"width\":1,\"height\":1}]"),
         "segment_outside", "video[0]");
  /* Huge values must not overflow the comparison. */
  REJECT(VIDEO("[{\"offset\":9223372036854775807,\"seconds\":1,"
               "\"width\":1,\"height\":1}]"),
         "segment_outside", "video[0]");
  REJECT(VIDEO("[{\"offset\":1,\"seconds\":9223372036854775807,"
               "\"width\":1,\"height\":1}]"),
         "segment_outside", "video[0]");
}

#undef SEG
#undef VIDEO

/* ------------------------------------------------------------------ */
/* Side effects                                                       */
/* ------------------------------------------------------------------ */

static void test_reject_leaves_arena_untouched(void **state) {
  rb_event ev;
  rb_reject rej;
  size_t before;
  (void)state;
  before = rb_arena_used(arena);
  assert_int_equal(
      PARSE("{\"type\":\"usage\",\"id\":\"u\",\"app\":1,\"user\":\"b\","
            "\"room\":\"r\",\"start\":\"2020-10-06T20:00:00+08:00\","
            "\"seconds\":10,\"video\":[{\"offset\":0,\"seconds\":5,"
            "\"width\":1,\"height\":1},{\"offset\":0,\"seconds\":50,"
            "\"width\":1,\"height\":1}]}",
            &ev, &rej),
      RB_EREJECT);
  assert_string_equal(rej.code, "segment_outside");
  assert_true(rb_arena_used(arena) == before);
  /* An accepted event does use it. */
  ACCEPT("{\"type\":\"topup\",\"account\":\"A1\","
         "\"at\":\"2020-10-03T08:00:00+08:00\",\"amount\":\"1\"}",
         &ev);
  assert_true(rb_arena_used(arena) > before);
}

static void test_reject_messages_have_no_control_characters(void **state) {
  rb_event ev;
  rb_reject rej;
  const unsigned char *p;
  (void)state;
  assert_int_equal(PARSE("{\"type\":\"change_cycle\",\"account\":\"A1\","
                         "\"at\":\"2020-10-05T08:00:00+08:00\","
                         "\"cycle\":\"\\u0007\\u001b[31m\\u0085\"}",
                         &ev, &rej),
                   RB_EREJECT);
  assert_string_equal(rej.field, "cycle");
  for (p = (const unsigned char *)rej.message; *p; p++)
    assert_true(*p >= 0x20 && *p != 0x7f && !(p[0] == 0xc2 && p[1] < 0xa0));
  assert_string_equal(rej.message, "\"cycle\" must be \"daily\" or "
                                   "\"monthly\", got \"\\u0007\\u001B[31m"
                                   "\\u0085\"");
}

static void test_reject_long_quotes_are_cut(void **state) {
  rb_event ev;
  rb_reject rej;
  (void)state;
  assert_int_equal(
      PARSE("{\"type\":\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
            "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
            "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
            "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
            "\"}",
            &ev, &rej),
      RB_EREJECT);
  assert_string_equal(rej.code, "unknown_type");
  assert_string_equal(rej.message,
                      "unknown event type \"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
                      "xxxxxxxxxxxxxxxx...\"");
}

static void test_parse_rejects_invalid_arguments(void **state) {
  rb_event ev;
  rb_reject rej;
  (void)state;
  assert_int_equal(rb_event_parse(NULL, "{}", 2, &ev, &rej), RB_EINVAL);
  assert_int_equal(rb_event_parse(arena, NULL, 2, &ev, &rej), RB_EINVAL);
  assert_int_equal(rb_event_parse(arena, "{}", 2, NULL, &rej), RB_EINVAL);
  /* A caller that does not want the reason may pass NULL. */
  assert_int_equal(rb_event_parse(arena, "{}", 2, &ev, NULL), RB_EREJECT);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_parse_account_with_balance),
      cmocka_unit_test(test_parse_account_balance_defaults_to_zero),
      cmocka_unit_test(test_parse_app_max_int64_id),
      cmocka_unit_test(test_parse_app_postpaid_defaults_to_false),
      cmocka_unit_test(test_parse_package),
      cmocka_unit_test(test_parse_topup),
      cmocka_unit_test(test_parse_enable_and_disable_postpaid),
      cmocka_unit_test(test_parse_change_cycle),
      cmocka_unit_test(test_parse_usage_with_video),
      cmocka_unit_test(test_parse_usage_audio_only_and_empty_video),
      cmocka_unit_test(test_parse_usage_received_sets_effective_time),
      cmocka_unit_test(test_parse_strings_decode_escapes),
      cmocka_unit_test(test_parse_ignores_unknown_keys),
      cmocka_unit_test(test_parse_id_of_exactly_the_limit),
      cmocka_unit_test(test_parse_segments_up_to_the_limit),
      cmocka_unit_test(test_reject_empty_and_blank_lines),
      cmocka_unit_test(test_reject_truncated_lines),
      cmocka_unit_test(test_reject_trailing_garbage),
      cmocka_unit_test(test_reject_bad_utf8),
      cmocka_unit_test(test_reject_control_characters_and_bad_escapes),
      cmocka_unit_test(test_reject_lone_surrogates),
      cmocka_unit_test(test_reject_non_json_numbers),
      cmocka_unit_test(test_reject_other_syntax_errors),
      cmocka_unit_test(test_reject_deep_nesting),
      cmocka_unit_test(test_reject_duplicate_keys),
      cmocka_unit_test(test_reject_duplicate_keys_in_large_objects),
      cmocka_unit_test(test_reject_non_object_lines),
      cmocka_unit_test(test_reject_line_too_long),
      cmocka_unit_test(test_reject_missing_or_unknown_type),
      cmocka_unit_test(test_reject_missing_required_fields),
      cmocka_unit_test(test_reject_integer_fields),
      cmocka_unit_test(test_reject_package_minutes),
      cmocka_unit_test(test_reject_usage_seconds),
      cmocka_unit_test(test_reject_string_ids),
      cmocka_unit_test(test_reject_times),
      cmocka_unit_test(test_reject_money),
      cmocka_unit_test(test_reject_booleans_and_cycles),
      cmocka_unit_test(test_reject_video_shapes),
      cmocka_unit_test(test_reject_segment_fields),
      cmocka_unit_test(test_reject_segment_outside_presence),
      cmocka_unit_test(test_reject_leaves_arena_untouched),
      cmocka_unit_test(test_reject_messages_have_no_control_characters),
      cmocka_unit_test(test_reject_long_quotes_are_cut),
      cmocka_unit_test(test_parse_rejects_invalid_arguments),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
