/* test_catalogue.c: packages.lua's `catalogue` compiled by the rules
 * host (bindings/lua/catalogue.c), and an estimate under the default
 * rules as loaded from Lua.
 *
 * Copies of the default rules are changed in one place each and must
 * fail with "DIR/packages.lua:LINE: message". RTCBILL_SOURCE_RULES_DIR
 * must name the source tree's rules/.
 *
 * Depends on: rtcbill_rules.h, rtcbill.h, cmocka and POSIX (mkdtemp).
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
#include <unistd.h>

#include <cmocka.h>

#include "rtcbill_rules.h"
#include "rules_dir.h"

#ifndef RTCBILL_SOURCE_RULES_DIR
#error "define RTCBILL_SOURCE_RULES_DIR as the path of the rules/ directory"
#endif

static char tmpdir[64];

static rb_money M(const char *s) {
  rb_money v = 0;
  assert_int_equal(rb_money_parse(s, strlen(s), &v), RB_OK);
  return v;
}

/* The line of the default packages.lua holding needle (1-based). */
static int line_of(const char *needle) {
  char *text = rules_default_text("packages.lua");
  int line = rules_line_of(text, needle);
  free(text);
  return line;
}

/* Copies the default rules into a new temporary directory with the first
 * `from` of packages.lua replaced by `to`. */
static void make_rules(const char *from, const char *to) {
  char *text = rules_default_text("packages.lua");
  char *edited = rules_edit(text, from, to);
  rules_make_dir(tmpdir, sizeof tmpdir, "rtcbill-cat", "packages.lua",
                 edited);
  free(edited);
  free(text);
}

static int remove_rules(void **state) {
  (void)state;
  rules_remove_dir(tmpdir);
  tmpdir[0] = '\0';
  return 0;
}

static rb_rules *load(const char *dir) {
  rb_rules *r = NULL;
  char err[512] = "";
  if (rb_lua_rules_load(dir, &r, err, sizeof err) != RB_OK)
    fail_msg("loading %s: %s", dir, err);
  return r;
}

/* Changes packages.lua and expects "TMPDIR/packages.lua:LINE: ...words". */
static void expect_error(const char *from, const char *to, int line,
                         const char *words) {
  rb_rules *r = NULL;
  char err[512] = "", prefix[256];
  make_rules(from, to);
  int st = rb_lua_rules_load(tmpdir, &r, err, sizeof err);
  snprintf(prefix, sizeof prefix, "%s/packages.lua:%d: ", tmpdir, line);
  if (st != RB_EINVAL || strncmp(err, prefix, strlen(prefix)) != 0 ||
      strstr(err, words) == NULL)
    fail_msg("got %d \"%s\", want \"%s...%s...\"", st, err, prefix, words);
  assert_null(r);
  remove_rules(NULL);
}

/* ------------------------------------------------------------------ */
/* The default catalogue                                              */
/* ------------------------------------------------------------------ */

static void test_catalogue_default_is_compiled(void **state) {
  (void)state;
  rb_rules *r = load(RTCBILL_SOURCE_RULES_DIR);
  const rb_catalogue *c = &rb_rules_data_get(r)->catalogue;
  const int64_t sizes[4] = {25, 250, 1000, 3000};
  const char *fixed[4] = {"168.00", "1588.00", "5968.00", "16888.00"};
  const int64_t from[5] = {1, 25, 250, 1000, 3000};
  const int64_t to[5] = {24, 249, 999, 2999, INT64_MAX};
  const char *unit[5] = {"7.000", "6.720", "6.352", "5.968", "5.630"};
  assert_int_equal(c->kind, rb_rules_kind_index(r, "general"));
  assert_int_equal(c->nfixed, 4);
  for (int i = 0; i < 4; i++) {
    assert_int_equal(c->fixed[i].thousands, sizes[i]);
    assert_int_equal(c->fixed[i].price, M(fixed[i]));
  }
  assert_int_equal(c->nbands, 5);
  for (int i = 0; i < 5; i++) {
    assert_int_equal(c->bands[i].from, from[i]);
    assert_int_equal(c->bands[i].to, to[i]);
    assert_int_equal(c->bands[i].per_thousand, M(unit[i]));
  }
  rb_rules_unref(r);
}

/* The example under the rules as loaded from Lua. */
static void test_catalogue_estimate_with_default_rules(void **state) {
  (void)state;
  rb_rules *r = load(RTCBILL_SOURCE_RULES_DIR);
  rb_estimate_input in = {10, 2, 50, 60, 30, "HD"};
  rb_estimate_result e;
  assert_int_equal(rb_estimate(r, &in, &e), RB_OK);
  assert_int_equal(e.minutes[2], 1836000);
  assert_int_equal(e.package_minutes, 7344000);
  assert_int_equal(e.postpaid, M("51408.00"));
  assert_int_equal(e.prepaid.price, M("41346.72"));
  assert_int_equal(e.saving, M("10061.28"));
  rb_rules_unref(r);
}

static void test_catalogue_is_optional(void **state) {
  (void)state;
  make_rules("catalogue = {", "local unused = {");
  rb_rules *r = load(tmpdir);
  const rb_catalogue *c = &rb_rules_data_get(r)->catalogue;
  assert_int_equal(c->nfixed, 0);
  assert_int_equal(c->nbands, 0);
  rb_estimate_input in = {10, 2, 50, 60, 30, "HD"};
  rb_estimate_result e;
  assert_int_equal(rb_estimate(r, &in, &e), RB_OK);
  assert_int_equal(e.prepaid.type, RB_OFFER_NONE);
  assert_int_equal(e.cheaper, RB_CHEAPER_POSTPAID);
  rb_rules_unref(r);
}

static void test_catalogue_kind_can_be_named(void **state) {
  (void)state;
  make_rules("catalogue = {", "catalogue = {\n  kind = \"general\",");
  rb_rules *r = load(tmpdir);
  assert_int_equal(rb_rules_data_get(r)->catalogue.kind,
                   rb_rules_kind_index(r, "general"));
  rb_rules_unref(r);
}

/* ------------------------------------------------------------------ */
/* Mistakes                                                           */
/* ------------------------------------------------------------------ */

static void test_catalogue_errors_name_the_line(void **state) {
  (void)state;
  int cat = line_of("catalogue = {");
  int band2 = line_of("{ from = 25,");
  int band3 = line_of("{ from = 250,");
  int fixed1 = line_of("{ thousands = 25,");

  expect_error("per_thousand = \"6.720\"", "per_thousand = 6.720", band2,
               "catalogue.custom[2].per_thousand must be a decimal string");
  expect_error("per_thousand = \"6.720\"", "per_thousand = \"-6.720\"", band2,
               "must be zero or more");
  expect_error("{ from = 250,", "{ from = 251,", band3,
               "catalogue.custom[3].from is 251 but the band before ends "
               "at 249");
  expect_error("to = 249,", "", band2,
               "catalogue.custom[2] has no `to`: only the last band may be "
               "open-ended");
  expect_error("{ from = 1,", "{ from = 2,", line_of("{ from = 1,"),
               "catalogue.custom[1].from is 2: the bands must start at 1");
  expect_error("{ from = 25,   to = 249,", "{ from = 25,   to = 24,", band2,
               "catalogue.custom[2].to must be between 25 and");
  expect_error("{ thousands = 25,", "{ thousands = 0,", fixed1,
               "catalogue.fixed[1].thousands must be between 1 and");
  expect_error("{ thousands = 25,", "{ thousands = 2.5,", fixed1,
               "catalogue.fixed[1].thousands must be a whole number");
  expect_error("catalogue = {", "catalogue = {\n  kind = \"trial\",", cat + 1,
               "catalogue.kind \"trial\" is granted, never bought");
  expect_error("catalogue = {", "catalogue = {\n  kind = \"gold\",", cat + 1,
               "catalogue.kind is \"gold\", which is no kind");
  expect_error("catalogue = {", "catalogue = 5\nlocal unused = {", cat,
               "catalogue must be a table, not the number 5");
  expect_error("catalogue = {", "catalogue = {}\nlocal unused = {", cat,
               "catalogue lists no package");
  expect_error("fixed = {", "fixed = \"none\", unused = {", cat,
               "catalogue.fixed must be a table");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_catalogue_default_is_compiled),
      cmocka_unit_test(test_catalogue_estimate_with_default_rules),
      cmocka_unit_test_teardown(test_catalogue_is_optional, remove_rules),
      cmocka_unit_test_teardown(test_catalogue_kind_can_be_named, remove_rules),
      cmocka_unit_test_teardown(test_catalogue_errors_name_the_line,
                                remove_rules),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
