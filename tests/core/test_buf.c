/* test_buf.c: the growable buffer and JSON string escaping.
 * Depends on: core/buf.c, cmocka. */

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

/* Appends s as JSON to a fresh buffer and compares with want. */
static void expect_json(const char *s, const char *want) {
  rb_buf b = {0};
  assert_int_equal(rb_buf_json_string(&b, s), RB_OK);
  assert_int_equal(b.len, strlen(want));
  assert_memory_equal(b.data, want, b.len);
  assert_int_equal(b.data[b.len], '\0');
  rb_buf_free(&b);
}

static void test_append_accumulates(void **state) {
  (void)state;
  rb_buf b = {0};
  assert_int_equal(rb_buf_append(&b, "abc", 3), RB_OK);
  assert_int_equal(rb_buf_append(&b, "defXYZ", 3), RB_OK);
  assert_int_equal(rb_buf_append(&b, NULL, 0), RB_OK);
  assert_int_equal(b.len, 6);
  assert_string_equal(b.data, "abcdef");
  rb_buf_free(&b);
}

static void test_append_grows_by_doubling(void **state) {
  (void)state;
  rb_buf b = {0};
  char block[100];
  memset(block, 'x', sizeof block);
  assert_int_equal(rb_buf_append(&b, block, 10), RB_OK);
  assert_int_equal(b.cap, 64);
  /* 10 + 60 bytes and a NUL need 71: one doubling. */
  assert_int_equal(rb_buf_append(&b, block, 60), RB_OK);
  assert_int_equal(b.cap, 128);
  assert_int_equal(rb_buf_append(&b, block, 100), RB_OK);
  assert_int_equal(b.cap, 256);
  assert_int_equal(b.len, 170);
  for (size_t i = 0; i < b.len; i++)
    assert_int_equal(b.data[i], 'x');
  assert_int_equal(b.data[b.len], '\0');
  rb_buf_free(&b);
}

static void test_append_failure_keeps_content(void **state) {
  (void)state;
  rb_buf b = {0};
  assert_int_equal(rb_buf_append(&b, "keep", 4), RB_OK);
  char *data = b.data;
  size_t cap = b.cap;
  assert_int_equal(rb_buf_append(&b, "x", SIZE_MAX), RB_ENOMEM);
  assert_int_equal(rb_buf_append(&b, "x", SIZE_MAX - 4), RB_ENOMEM);
  assert_ptr_equal(b.data, data);
  assert_int_equal(b.cap, cap);
  assert_int_equal(b.len, 4);
  assert_string_equal(b.data, "keep");
  assert_int_equal(rb_buf_append(&b, NULL, 1), RB_EINVAL);
  assert_int_equal(b.len, 4);
  rb_buf_free(&b);
}

static void test_printf_formats_and_appends(void **state) {
  (void)state;
  rb_buf b = {0};
  assert_int_equal(rb_buf_printf(&b, "{\"app\":%lld", 1400000001LL), RB_OK);
  assert_int_equal(rb_buf_printf(&b, ",\"tier\":\"%s\"}", "SD"), RB_OK);
  assert_string_equal(b.data, "{\"app\":1400000001,\"tier\":\"SD\"}");
  assert_int_equal(b.len, strlen("{\"app\":1400000001,\"tier\":\"SD\"}"));
  assert_int_equal(rb_buf_printf(&b, "%s", ""), RB_OK);
  assert_int_equal(b.len, strlen("{\"app\":1400000001,\"tier\":\"SD\"}"));
  rb_buf_free(&b);
}

static void test_printf_grows_for_long_output(void **state) {
  (void)state;
  rb_buf b = {0};
  char big[1001];
  memset(big, 'y', 1000);
  big[1000] = '\0';
  assert_int_equal(rb_buf_append(&b, "<", 1), RB_OK);
  assert_int_equal(rb_buf_printf(&b, "%s>%d", big, 42), RB_OK);
  assert_int_equal(b.len, 1004);
  assert_int_equal(b.data[0], '<');
  assert_int_equal(b.data[1000], 'y');
  assert_string_equal(b.data + 1001, ">42");
  assert_true(b.cap >= b.len + 1);
  rb_buf_free(&b);
}

static void test_free_resets_for_reuse(void **state) {
  (void)state;
  rb_buf b = {0};
  assert_int_equal(rb_buf_append(&b, "abc", 3), RB_OK);
  rb_buf_free(&b);
  assert_null(b.data);
  assert_int_equal(b.len, 0);
  assert_int_equal(b.cap, 0);
  assert_int_equal(rb_buf_printf(&b, "%d", 7), RB_OK);
  assert_string_equal(b.data, "7");
  rb_buf_free(&b);
  rb_buf_free(&b);
}

static void test_json_string_plain(void **state) {
  (void)state;
  expect_json("", "\"\"");
  expect_json("A1/2020-10-06", "\"A1/2020-10-06\"");
}

static void test_json_string_escapes_quote_and_backslash(void **state) {
  (void)state;
  expect_json("a\"b\\c", "\"a\\\"b\\\\c\"");
}

static void test_json_string_escapes_control_chars(void **state) {
  (void)state;
  expect_json("\n\t\r\b\f", "\"\\n\\t\\r\\b\\f\"");
  expect_json("\x01x\x1f", "\"\\u0001x\\u001f\"");
  expect_json("\x1b[0m", "\"\\u001b[0m\"");
  /* DEL is not a JSON control character. */
  expect_json("\x7f", "\"\x7f\"");
}

static void test_json_string_passes_utf8(void **state) {
  (void)state;
  expect_json("\xe5\x90\x8d\xe5\xad\x97 \xe2\x82\xac",
              "\"\xe5\x90\x8d\xe5\xad\x97 \xe2\x82\xac\"");
}

static void test_json_string_appends_after_content(void **state) {
  (void)state;
  rb_buf b = {0};
  assert_int_equal(rb_buf_append(&b, "{\"id\":", 6), RB_OK);
  assert_int_equal(rb_buf_json_string(&b, "u-1"), RB_OK);
  assert_int_equal(rb_buf_append(&b, "}", 1), RB_OK);
  assert_string_equal(b.data, "{\"id\":\"u-1\"}");
  assert_int_equal(rb_buf_json_string(&b, NULL), RB_EINVAL);
  assert_string_equal(b.data, "{\"id\":\"u-1\"}");
  rb_buf_free(&b);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_append_accumulates),
      cmocka_unit_test(test_append_grows_by_doubling),
      cmocka_unit_test(test_append_failure_keeps_content),
      cmocka_unit_test(test_printf_formats_and_appends),
      cmocka_unit_test(test_printf_grows_for_long_output),
      cmocka_unit_test(test_free_resets_for_reuse),
      cmocka_unit_test(test_json_string_plain),
      cmocka_unit_test(test_json_string_escapes_quote_and_backslash),
      cmocka_unit_test(test_json_string_escapes_control_chars),
      cmocka_unit_test(test_json_string_passes_utf8),
      cmocka_unit_test(test_json_string_appends_after_content),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
