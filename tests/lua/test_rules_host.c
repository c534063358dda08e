/* test_rules_host.c: the rules host, end to end.
 *
 * Loads the default rules and checks every compiled value, asks the
 * settlement and exhaustion policies their questions, breaks copies of
 * the rules in the ways rule authors (or attackers) would and checks the
 * message each gives, and checks rb_rules_new's own validation with C
 * data. RTCBILL_SOURCE_RULES_DIR must name the source tree's rules/.
 *
 * Depends on: rtcbill_rules.h, rtcbill.h, Lua 5.4 (to write a binary
 * chunk), cmocka and POSIX (mkdtemp).
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
#include <lauxlib.h>
#include <lua.h>

#include "rtcbill_rules.h"
#include "rules_dir.h"

#ifndef RTCBILL_SOURCE_RULES_DIR
#error "define RTCBILL_SOURCE_RULES_DIR as the path of the rules/ directory"
#endif

/* The temporary rules directory of the running test, or "". */
static char tmpdir[64];

/* ------------------------------------------------------------------ */
/* Helpers                                                            */
/* ------------------------------------------------------------------ */

static char *default_text(const char *file) {
  return rules_default_text(file);
}

/* The line of the default `file` holding needle (1-based). */
static int line_of(const char *file, const char *needle) {
  char *text = default_text(file);
  int line = rules_line_of(text, needle);
  free(text);
  return line;
}

/* The line a text appended to the default `file` starts on. */
static int line_after(const char *file) {
  char *text = default_text(file);
  int line = rules_line_after(text);
  free(text);
  return line;
}

/* Copies the default rules into a new temporary directory, with `file`
 * changed: the first `from` replaced by `to`, or `to` appended when from
 * is NULL. file NULL copies them unchanged. */
static void make_rules(const char *file, const char *from, const char *to) {
  char *edited = NULL;
  if (file != NULL) {
    char *text = default_text(file);
    edited = rules_edit(text, from, to);
    free(text);
  }
  rules_make_dir(tmpdir, sizeof tmpdir, "rtcbill-rules", file, edited);
  free(edited);
}

static int remove_rules(void **state) {
  (void)state;
  rules_remove_dir(tmpdir);
  tmpdir[0] = '\0';
  return 0;
}

static rb_rules *load_default(void) {
  rb_rules *r = NULL;
  char err[512] = "";
  int st = rb_lua_rules_load(RTCBILL_SOURCE_RULES_DIR, &r, err, sizeof err);
  if (st != RB_OK)
    fail_msg("loading the default rules: %s", err);
  return r;
}

/* Loads the changed copy and expects RB_EINVAL with a message starting
 * "TMPDIR/file:LINE: " (line > 0) or "TMPDIR/file: " and holding
 * `words`. */
static void expect_error(int want, const char *file, int line,
                         const char *words) {
  rb_rules *r = NULL;
  char err[512] = "", prefix[256];
  int st = rb_lua_rules_load(tmpdir, &r, err, sizeof err);
  if (line > 0)
    snprintf(prefix, sizeof prefix, "%s/%s:%d: ", tmpdir, file, line);
  else
    snprintf(prefix, sizeof prefix, "%s/%s: ", tmpdir, file);
  if (st != want || strncmp(err, prefix, strlen(prefix)) != 0 ||
      strstr(err, words) == NULL)
    fail_msg("got %d \"%s\", want %d \"%s...%s...\"", st, err, want, prefix,
             words);
  assert_null(r);
  assert_null(strchr(err, '\n'));
}

static rb_time parse_time(const char *s) {
  rb_time t;
  assert_int_equal(rb_time_parse(s, strlen(s), &t, NULL), RB_OK);
  return t;
}

static int ask_cycle(rb_rules *r, const char *at, rb_cycle *out) {
  const rb_policy *p = rb_rules_policy(r);
  rb_cycle_query q = {"A1", parse_time(at), 8 * 3600};
  return p->cycle(p->ctx, &q, out);
}

static int ask(rb_rules *r, rb_trigger trigger, bool bought,
               rb_trial_state trial, rb_exhaustion_decision *d) {
  const rb_policy *p = rb_rules_policy(r);
  rb_exhaustion_query q = {
      "A1",    1400000001, parse_time("2020-10-06T20:00:00+08:00"),
      trigger, NULL,       trigger == RB_TRIGGER_UNCOVERED ? "HD" : NULL,
      bought,  trial};
  if (trigger != RB_TRIGGER_UNCOVERED)
    q.package_kind = "trial";
  return p->exhaustion(p->ctx, &q, d);
}

/* ------------------------------------------------------------------ */
/* The default rules                                                  */
/* ------------------------------------------------------------------ */

static void test_load_default_tariff(void **state) {
  (void)state;
  rb_rules *r = load_default();
  const rb_tariff *t = &rb_rules_data_get(r)->tariff;
  assert_string_equal(t->currency, "CNY");
  assert_int_equal(t->tz_offset, 8 * 3600);
  assert_int_equal(t->video_mode, RB_VIDEO_PER_STREAM);
  assert_int_equal(t->total_unit, RB_MONEY_SCALE / 100);
  assert_int_equal(t->ntiers, 4);
  static const char *const names[4] = {"audio", "SD", "HD", "HD+"};
  static const int64_t pixels[4] = {0, 307200, 921600, INT64_MAX};
  static const rb_money prices[4] = {7 * RB_MONEY_SCALE, 14 * RB_MONEY_SCALE,
                                     28 * RB_MONEY_SCALE, 105 * RB_MONEY_SCALE};
  for (int i = 0; i < 4; i++) {
    assert_string_equal(t->tiers[i].name, names[i]);
    assert_int_equal(t->tiers[i].max_pixels, pixels[i]);
    assert_int_equal(t->tiers[i].price_per_1000, prices[i]);
    assert_int_equal(rb_rules_tier_index(r, names[i]), i);
  }
  assert_int_equal(rb_rules_tier_index(r, "FHD"), -1);
  rb_rules_unref(r);
}

static void test_load_default_packages(void **state) {
  (void)state;
  rb_rules *r = load_default();
  const rb_rules_data *d = rb_rules_data_get(r);
  static const int64_t general[4] = {1, 2, 4, 15};
  assert_int_equal(d->nkinds, 2);
  assert_string_equal(d->kinds[0].name, "trial");
  assert_true(d->kinds[0].granted);
  assert_string_equal(d->kinds[1].name, "general");
  assert_false(d->kinds[1].granted);
  for (int i = 0; i < 4; i++) {
    assert_int_equal(d->kinds[0].factors[i], 1);
    assert_int_equal(d->kinds[1].factors[i], general[i]);
  }
  assert_int_equal(rb_rules_kind_index(r, "general"), 1);
  assert_int_equal(rb_rules_kind_index(r, "trial"), 0);
  assert_int_equal(rb_rules_kind_index(r, "gold"), -1);
  assert_int_equal(d->trial_kind, 0);
  assert_int_equal(d->trial_minutes, 10000);
  assert_int_equal(d->trial_grant_from,
                   parse_time("2019-10-11T00:00:00+08:00"));
  assert_int_equal(d->activation_delay, 300);
  assert_int_equal(d->validity_months, 12);
  assert_int_equal(d->norder, 4);
  assert_int_equal(d->order[0], RB_ORDER_GRANTED_FIRST);
  assert_int_equal(d->order[1], RB_ORDER_EARLIEST_EXPIRY);
  assert_int_equal(d->order[2], RB_ORDER_EARLIEST_PURCHASE);
  assert_int_equal(d->order[3], RB_ORDER_ID);
  rb_rules_unref(r);
}

static void test_load_default_schedule(void **state) {
  (void)state;
  rb_rules *r = load_default();
  const rb_rules_data *d = rb_rules_data_get(r);
  assert_int_equal(d->daily_issue_delay, 10 * 3600);
  assert_int_equal(d->monthly_issue_delay, 10 * 3600);
  assert_int_equal(d->grace_seconds, 24 * 3600);
  assert_int_equal(d->reclaim_seconds, 60 * 86400);
  rb_rules_unref(r);
}

/* FNV-1a 64 over name, NUL, content, NUL of each file, computed here
 * independently of the host. */
static void test_load_version_is_fnv1a_of_the_files(void **state) {
  (void)state;
  uint64_t x = UINT64_C(0xcbf29ce484222325);
  char want[32];
  for (int f = 0; f < 5; f++) {
    char *text = default_text(rules_files[f]);
    const char *parts[2] = {rules_files[f], text};
    for (int p = 0; p < 2; p++) {
      size_t n = strlen(parts[p]) + 1; /* with the NUL */
      for (size_t i = 0; i < n; i++) {
        x ^= (unsigned char)parts[p][i];
        x *= UINT64_C(0x100000001b3);
      }
    }
    free(text);
  }
  snprintf(want, sizeof want, "%016llx", (unsigned long long)x);
  rb_rules *r = load_default();
  assert_string_equal(rb_rules_data_get(r)->version, want);
  rb_rules_unref(r);
}

static void test_load_version_changes_with_a_comment(void **state) {
  (void)state;
  rb_rules *a = load_default(), *b = NULL;
  char err[512];
  make_rules("arrears.lua", NULL, "-- a note\n");
  assert_int_equal(rb_lua_rules_load(tmpdir, &b, err, sizeof err), RB_OK);
  assert_int_equal(strlen(rb_rules_data_get(b)->version), 16);
  assert_string_not_equal(rb_rules_data_get(a)->version,
                          rb_rules_data_get(b)->version);
  rb_rules_unref(a);
  rb_rules_unref(b);
}

static void test_load_accepts_a_trailing_slash(void **state) {
  (void)state;
  rb_rules *r = NULL;
  char err[512];
  make_rules(NULL, NULL, NULL);
  char dir[80];
  snprintf(dir, sizeof dir, "%s/", tmpdir);
  assert_int_equal(rb_lua_rules_load(dir, &r, err, sizeof err), RB_OK);
  rb_rules_unref(r);
}

/* ------------------------------------------------------------------ */
/* Policies                                                           */
/* ------------------------------------------------------------------ */

static void test_cycle_monthly_until_2020_08_31(void **state) {
  (void)state;
  rb_rules *r = load_default();
  rb_cycle c = RB_CYCLE_DAILY;
  assert_int_equal(ask_cycle(r, "2020-08-31T23:59:59+08:00", &c), RB_OK);
  assert_int_equal(c, RB_CYCLE_MONTHLY);
  /* The same instant seen in UTC is still 2020-08-31 in the billing
   * zone; 16:00Z is already September there. */
  assert_int_equal(ask_cycle(r, "2020-08-31T15:59:59Z", &c), RB_OK);
  assert_int_equal(c, RB_CYCLE_MONTHLY);
  assert_int_equal(ask_cycle(r, "2019-01-01T00:00:00+08:00", &c), RB_OK);
  assert_int_equal(c, RB_CYCLE_MONTHLY);
  rb_rules_unref(r);
}

static void test_cycle_daily_from_2020_09_01(void **state) {
  (void)state;
  rb_rules *r = load_default();
  rb_cycle c = RB_CYCLE_MONTHLY;
  assert_int_equal(ask_cycle(r, "2020-09-01T00:00:00+08:00", &c), RB_OK);
  assert_int_equal(c, RB_CYCLE_DAILY);
  c = RB_CYCLE_MONTHLY;
  assert_int_equal(ask_cycle(r, "2020-08-31T16:00:00Z", &c), RB_OK);
  assert_int_equal(c, RB_CYCLE_DAILY);
  rb_rules_unref(r);
}

static void test_exhaustion_bought_package_gives_postpaid(void **state) {
  (void)state;
  rb_rules *r = load_default();
  static const rb_trial_state trials[4] = {
      RB_TRIAL_NONE, RB_TRIAL_ACTIVE, RB_TRIAL_EXHAUSTED, RB_TRIAL_EXPIRED};
  for (int i = 0; i < 4; i++) {
    for (int t = RB_TRIGGER_UNCOVERED; t <= RB_TRIGGER_EXPIRED; t++) {
      rb_exhaustion_decision d = {RB_DECIDE_STOP, RB_STOP_ARREARS};
      assert_int_equal(ask(r, (rb_trigger)t, true, trials[i], &d), RB_OK);
      assert_int_equal(d.action, RB_DECIDE_POSTPAID);
    }
  }
  rb_rules_unref(r);
}

static void test_exhaustion_stops_by_trial_state(void **state) {
  (void)state;
  rb_rules *r = load_default();
  static const struct {
    rb_trial_state trial;
    rb_stop_reason reason;
  } cases[4] = {{RB_TRIAL_NONE, RB_STOP_NO_PACKAGE},
                {RB_TRIAL_ACTIVE, RB_STOP_TRIAL_EXHAUSTED},
                {RB_TRIAL_EXHAUSTED, RB_STOP_TRIAL_EXHAUSTED},
                {RB_TRIAL_EXPIRED, RB_STOP_TRIAL_EXPIRED}};
  for (int i = 0; i < 4; i++) {
    for (int t = RB_TRIGGER_UNCOVERED; t <= RB_TRIGGER_EXPIRED; t++) {
      rb_exhaustion_decision d = {RB_DECIDE_POSTPAID, RB_STOP_ARREARS};
      assert_int_equal(ask(r, (rb_trigger)t, false, cases[i].trial, &d), RB_OK);
      assert_int_equal(d.action, RB_DECIDE_STOP);
      assert_int_equal(d.reason, cases[i].reason);
    }
  }
  rb_rules_unref(r);
}

/* The query reaches the rule with every field: a rule echoing them into
 * its stop decision only succeeds if they are as documented. */
static void test_exhaustion_query_fields_reach_the_rule(void **state) {
  (void)state;
  rb_rules *r = NULL;
  char err[512];
  make_rules("exhaustion.lua", NULL,
             "function decide(q)\n"
             "  assert(q.account == 'A1', q.account)\n"
             "  assert(math.type(q.app) == 'integer' and q.app == 1400000001)\n"
             "  assert(q.at == '2020-10-06T20:00:00+08:00', q.at)\n"
             "  assert(q.trigger == 'uncovered' and q.tier == 'HD')\n"
             "  assert(q.package_kind == nil and q.bought_package == false)\n"
             "  assert(q.trial == 'expired')\n"
             "  return { action = 'stop', reason = 'trial_expired' }\n"
             "end\n");
  assert_int_equal(rb_lua_rules_load(tmpdir, &r, err, sizeof err), RB_OK);
  rb_exhaustion_decision d = {RB_DECIDE_POSTPAID, RB_STOP_ARREARS};
  int st = ask(r, RB_TRIGGER_UNCOVERED, false, RB_TRIAL_EXPIRED, &d);
  if (st != RB_OK)
    fail_msg("%s", rb_rules_policy(r)->last_error(rb_rules_policy(r)->ctx));
  assert_int_equal(d.action, RB_DECIDE_STOP);
  assert_int_equal(d.reason, RB_STOP_TRIAL_EXPIRED);
  rb_rules_unref(r);
}

/* Loads a copy whose exhaustion.lua ends with `decide`, asks, and
 * expects RB_EPOLICY with last_error starting with prefix. */
static void expect_decide_error(const char *decide, const char *words,
                                int line) {
  rb_rules *r = NULL;
  char err[512], prefix[256];
  int at = line_after("exhaustion.lua");
  make_rules("exhaustion.lua", NULL, decide);
  assert_int_equal(rb_lua_rules_load(tmpdir, &r, err, sizeof err), RB_OK);
  rb_exhaustion_decision d = {RB_DECIDE_POSTPAID, RB_STOP_ARREARS};
  int st = ask(r, RB_TRIGGER_EXHAUSTED, false, RB_TRIAL_EXHAUSTED, &d);
  const rb_policy *p = rb_rules_policy(r);
  const char *msg = p->last_error(p->ctx);
  if (line > 0)
    snprintf(prefix, sizeof prefix, "%s/exhaustion.lua:%d: ", tmpdir,
             at + line - 1);
  else
    snprintf(prefix, sizeof prefix, "%s/exhaustion.lua: ", tmpdir);
  if (st != RB_EPOLICY || strncmp(msg, prefix, strlen(prefix)) != 0 ||
      strstr(msg, words) == NULL)
    fail_msg("got %d \"%s\", want \"%s...%s\"", st, msg, prefix, words);
  /* A failed call leaves the decision alone. */
  assert_int_equal(d.action, RB_DECIDE_POSTPAID);
  assert_int_equal(d.reason, RB_STOP_ARREARS);
  rb_rules_unref(r);
}

static void test_exhaustion_error_names_file_and_line(void **state) {
  (void)state;
  expect_decide_error("function decide(q)\n"
                      "  local reasons = nil\n"
                      "  return reasons[q.trial]\n"
                      "end\n",
                      "attempt to index a nil value", 3);
}

static void test_exhaustion_error_without_position_gets_one(void **state) {
  (void)state;
  expect_decide_error("function decide(q)\n"
                      "  error({})\n"
                      "end\n",
                      "error object is a table value", 2);
}

static void test_exhaustion_rejects_reason_arrears(void **state) {
  (void)state;
  expect_decide_error(
      "function decide(q) return { action = 'stop', reason = 'arrears' } "
      "end\n",
      "decide returned action \"stop\" with reason \"arrears\"", 0);
}

static void test_exhaustion_rejects_unknown_action(void **state) {
  (void)state;
  expect_decide_error("function decide(q) return { action = 'refund' } end\n",
                      "decide returned action \"refund\"", 0);
}

static void test_exhaustion_rejects_a_non_table(void **state) {
  (void)state;
  expect_decide_error("function decide(q) return 'postpaid' end\n",
                      "decide returned \"postpaid\" (expected a table", 0);
}

static void test_exhaustion_runaway_call_is_stopped(void **state) {
  (void)state;
  expect_decide_error("function decide(q)\n"
                      "  while true do end\n"
                      "end\n",
                      "instruction limit exceeded", 2);
}

/* The budget is per call: after a runaway call the next one runs. */
static void test_policy_budget_is_per_call(void **state) {
  (void)state;
  rb_rules *r = NULL;
  char err[512];
  make_rules("exhaustion.lua", NULL,
             "calls = 0\n"
             "function decide(q)\n"
             "  calls = calls + 1\n"
             "  if calls == 1 then while true do end end\n"
             "  return { action = 'postpaid' }\n"
             "end\n");
  assert_int_equal(rb_lua_rules_load(tmpdir, &r, err, sizeof err), RB_OK);
  rb_exhaustion_decision d = {RB_DECIDE_STOP, RB_STOP_ARREARS};
  assert_int_equal(ask(r, RB_TRIGGER_EXHAUSTED, false, RB_TRIAL_NONE, &d),
                   RB_EPOLICY);
  assert_int_equal(ask(r, RB_TRIGGER_EXHAUSTED, false, RB_TRIAL_NONE, &d),
                   RB_OK);
  assert_int_equal(d.action, RB_DECIDE_POSTPAID);
  rb_rules_unref(r);
}

static void test_cycle_wrong_answer_is_a_policy_error(void **state) {
  (void)state;
  rb_rules *r = NULL;
  char err[512], want[256];
  make_rules("settlement.lua", "return \"daily\"", "return \"weekly\"");
  assert_int_equal(rb_lua_rules_load(tmpdir, &r, err, sizeof err), RB_OK);
  rb_cycle c = RB_CYCLE_MONTHLY;
  assert_int_equal(ask_cycle(r, "2021-01-01T00:00:00+08:00", &c), RB_EPOLICY);
  assert_int_equal(c, RB_CYCLE_MONTHLY);
  snprintf(want, sizeof want,
           "%s/settlement.lua: cycle returned \"weekly\" (expected "
           "\"monthly\" or \"daily\")",
           tmpdir);
  const rb_policy *p = rb_rules_policy(r);
  assert_string_equal(p->last_error(p->ctx), want);
  rb_rules_unref(r);
}

/* ------------------------------------------------------------------ */
/* Broken rules                                                       */
/* ------------------------------------------------------------------ */

static void test_broken_syntax_error_names_line(void **state) {
  (void)state;
  make_rules("tariff.lua", "video_mode     = \"per_stream\"",
             "video_mode     = = \"per_stream\"");
  expect_error(RB_EINVAL, "tariff.lua", line_of("tariff.lua", "video_mode "),
               "unexpected symbol near '='");
}

static void test_broken_runaway_loop_at_load(void **state) {
  (void)state;
  int line = line_after("settlement.lua");
  make_rules("settlement.lua", NULL, "while true do end\n");
  expect_error(RB_EINVAL, "settlement.lua", line, "instruction limit exceeded");
}

static void test_broken_runaway_loop_inside_pcall(void **state) {
  (void)state;
  int line = line_after("arrears.lua");
  make_rules("arrears.lua", NULL,
             "while true do pcall(function() while true do end end) end\n");
  expect_error(RB_EINVAL, "arrears.lua", line, "instruction limit exceeded");
}

static void test_broken_memory_bomb(void **state) {
  (void)state;
  int line = line_after("packages.lua");
  make_rules("packages.lua", NULL,
             "local s = string.rep('x', 100 * 1024 * 1024)\n");
  expect_error(RB_EINVAL, "packages.lua", line, "memory limit exceeded");
}

static void test_broken_memory_bomb_inside_pcall(void **state) {
  (void)state;
  int line = line_after("packages.lua");
  make_rules("packages.lua", NULL,
             "local t = {}\n"
             "while true do\n"
             "  pcall(function() t[#t + 1] = string.rep('x', 1 << 20) .. #t "
             "end)\n"
             "end\n");
  expect_error(RB_EINVAL, "packages.lua", line + 2, "memory limit exceeded");
}

static void test_broken_os_execute_is_absent(void **state) {
  (void)state;
  int line = line_after("exhaustion.lua");
  make_rules("exhaustion.lua", NULL,
             "os.execute('touch /tmp/rtcbill-pwned')\n");
  expect_error(RB_EINVAL, "exhaustion.lua", line, "global 'os'");
  assert_int_not_equal(access("/tmp/rtcbill-pwned", F_OK), 0);
}

/* Everything that reaches outside the sandbox is absent; what rules may
 * use is there. The check runs as a rule, so a failure names its line. */
static void test_sandbox_allow_list(void **state) {
  (void)state;
  rb_rules *r = NULL;
  char err[512] = "";
  make_rules(
      "arrears.lua", NULL,
      "for _, name in ipairs({ 'load', 'loadstring', 'dofile', 'loadfile',\n"
      "    'require', 'collectgarbage', 'print', 'io', 'os', 'debug',\n"
      "    'package', '_G' }) do\n"
      "  assert(_ENV[name] == nil, name)\n"
      "end\n"
      "assert(string.dump == nil and ('').dump == nil)\n"
      "assert(math.random == nil and math.randomseed == nil)\n"
      "assert(getmetatable('') == nil)\n"
      "assert(string.format('%d', 7) == '7' and table.concat({1, 2}) == "
      "'12')\n"
      "assert(math.floor(2.5) == 2 and utf8.char(72) == 'H')\n"
      "assert(type(coroutine.wrap) == 'function' and clock.now() == nil)\n"
      "assert(select('#', pcall(error, 'x')) == 2)\n"
      "assert(not pcall(setmetatable, {}, { __gc = function() end }))\n"
      "string.upper = nil -- changes this file's copy only\n");
  int st = rb_lua_rules_load(tmpdir, &r, err, sizeof err);
  if (st != RB_OK)
    fail_msg("%s", err);
  rb_rules_unref(r);
}

/* lua_Writer appending to a FILE. */
static int write_chunk(lua_State *L, const void *p, size_t n, void *ud) {
  (void)L;
  return fwrite(p, 1, n, ud) == n ? 0 : 1;
}

static void test_broken_binary_chunk_is_refused(void **state) {
  (void)state;
  char path[512];
  make_rules(NULL, NULL, NULL);
  snprintf(path, sizeof path, "%s/arrears.lua", tmpdir);
  FILE *fp = fopen(path, "wb");
  assert_non_null(fp);
  lua_State *L = luaL_newstate();
  assert_non_null(L);
  assert_int_equal(luaL_loadstring(L, "grace_hours = 1 reclaim_days = 1"),
                   LUA_OK);
  assert_int_equal(lua_dump(L, write_chunk, fp, 0), 0);
  lua_close(L);
  assert_int_equal(fclose(fp), 0);
  expect_error(RB_EINVAL, "arrears.lua", 0, "attempt to load a binary chunk");
}

static void test_broken_negative_price(void **state) {
  (void)state;
  make_rules("tariff.lua", "\"14.00\"", "\"-14.00\"");
  expect_error(RB_EINVAL, "tariff.lua", line_of("tariff.lua", "\"SD\""),
               "tier \"SD\": price \"-14.00\" must be zero or more");
}

static void test_broken_price_as_number(void **state) {
  (void)state;
  make_rules("tariff.lua", "\"28.00\"", "28.00");
  expect_error(RB_EINVAL, "tariff.lua", line_of("tariff.lua", "\"HD\""),
               "money is never a float");
}

static void test_broken_unordered_tiers(void **state) {
  (void)state;
  make_rules("tariff.lua", "max_pixels = 1280 * 720",
             "max_pixels = 320 * 240 ");
  expect_error(RB_EINVAL, "tariff.lua", line_of("tariff.lua", "\"HD\""),
               "increasing order of max_pixels: \"HD\" (76800) is not above "
               "\"SD\" (307200)");
}

static void test_broken_missing_factor(void **state) {
  (void)state;
  make_rules("packages.lua", "HD = 4, [\"HD+\"] = 15", "HD = 4");
  expect_error(RB_EINVAL, "packages.lua",
               line_of("packages.lua", "factors = { audio = 1, SD = 2"),
               "kind \"general\" has no factor for tier \"HD+\"");
}

static void test_broken_unknown_order_key(void **state) {
  (void)state;
  make_rules("packages.lua", "\"earliest_purchase\"", "\"cheapest\"");
  expect_error(RB_EINVAL, "packages.lua",
               line_of("packages.lua", "deduction_order ="),
               "deduction_order[3] is \"cheapest\"");
}

static void test_broken_float_hours(void **state) {
  (void)state;
  make_rules("arrears.lua", "grace_hours  = 24", "grace_hours  = 24.5");
  expect_error(RB_EINVAL, "arrears.lua", line_of("arrears.lua", "grace_hours"),
               "grace_hours must be a whole number, not the number 24.5");
}

static void test_broken_missing_decide(void **state) {
  (void)state;
  make_rules("exhaustion.lua", "function decide(q)", "function choose(q)");
  expect_error(RB_EINVAL, "exhaustion.lua", 0, "function decide(q) is missing");
}

static void test_broken_missing_file(void **state) {
  (void)state;
  char path[512];
  make_rules(NULL, NULL, NULL);
  snprintf(path, sizeof path, "%s/arrears.lua", tmpdir);
  assert_int_equal(unlink(path), 0);
  expect_error(RB_EIO, "arrears.lua", 0, "cannot open");
}

/* ------------------------------------------------------------------ */
/* rb_rules_new with C data                                           */
/* ------------------------------------------------------------------ */

static int released;

static int stub_cycle(void *ctx, const rb_cycle_query *q, rb_cycle *out) {
  (void)ctx, (void)q;
  *out = RB_CYCLE_DAILY;
  return RB_OK;
}
static int stub_exhaustion(void *ctx, const rb_exhaustion_query *q,
                           rb_exhaustion_decision *out) {
  (void)ctx, (void)q;
  out->action = RB_DECIDE_POSTPAID;
  return RB_OK;
}
static const char *stub_last_error(void *ctx) {
  (void)ctx;
  return "";
}
static void stub_release(void *ctx) {
  (void)ctx;
  released++;
}
static const rb_policy stub_policy = {NULL, stub_cycle, stub_exhaustion,
                                      stub_last_error, stub_release};

/* The default rules' data, for the C cases to break. */
static rb_rules_data default_data(void) {
  rb_rules *r = load_default();
  rb_rules_data d = *rb_rules_data_get(r);
  rb_rules_unref(r);
  return d;
}

static void test_rules_new_refcount_releases_once(void **state) {
  (void)state;
  rb_rules_data d = default_data();
  rb_rules *r = NULL;
  char err[256] = "";
  released = 0;
  assert_int_equal(rb_rules_new(&d, &stub_policy, &r, err, sizeof err), RB_OK);
  d.tariff.ntiers = 0; /* the rule set keeps its own copy */
  assert_int_equal(rb_rules_data_get(r)->tariff.ntiers, 4);
  assert_ptr_equal(rb_rules_ref(r), r);
  rb_rules_unref(r);
  assert_int_equal(released, 0);
  rb_rules_unref(r);
  assert_int_equal(released, 1);
}

/* Each mutation must be refused with RB_EINVAL, a message holding
 * `words`, nothing returned and the policy not released. */
static void expect_invalid(rb_rules_data d, const rb_policy *p,
                           const char *words) {
  rb_rules *r = NULL;
  char err[256] = "";
  released = 0;
  assert_int_equal(rb_rules_new(&d, p, &r, err, sizeof err), RB_EINVAL);
  assert_null(r);
  assert_int_equal(released, 0);
  if (strstr(err, words) == NULL)
    fail_msg("\"%s\" lacks \"%s\"", err, words);
}

static void test_rules_new_rejects_bad_tariffs(void **state) {
  (void)state;
  rb_rules_data d = default_data(), x;
  x = d, x.tariff.ntiers = 0;
  expect_invalid(x, &stub_policy, "0 tiers");
  x = d, x.tariff.ntiers = RB_MAX_TIERS + 1;
  expect_invalid(x, &stub_policy, "9 tiers");
  x = d, x.tariff.tiers[1].name[0] = '\0';
  expect_invalid(x, &stub_policy, "tier 1 has no valid name");
  x = d, memset(x.tariff.tiers[2].name, 'A', RB_NAME_MAX);
  expect_invalid(x, &stub_policy, "tier 2 has no valid name");
  x = d, strcpy(x.tariff.tiers[3].name, "SD");
  expect_invalid(x, &stub_policy, "\"SD\" is listed twice");
  x = d, x.tariff.tiers[0].max_pixels = 1;
  expect_invalid(x, &stub_policy, "audio tier");
  x = d, x.tariff.tiers[2].max_pixels = 307200;
  expect_invalid(x, &stub_policy, "max_pixels must increase");
  x = d, x.tariff.tiers[1].max_pixels = 0;
  expect_invalid(x, &stub_policy, "above 0");
  x = d, x.tariff.tiers[3].price_per_1000 = -1;
  expect_invalid(x, &stub_policy, "negative price");
  x = d, x.tariff.total_unit = 0;
  expect_invalid(x, &stub_policy, "rounding unit");
  x = d, x.tariff.currency[0] = '\0';
  expect_invalid(x, &stub_policy, "currency");
}

static void test_rules_new_rejects_bad_kinds(void **state) {
  (void)state;
  rb_rules_data d = default_data(), x;
  x = d, x.nkinds = 0;
  expect_invalid(x, &stub_policy, "0 kinds");
  x = d, strcpy(x.kinds[1].name, "trial");
  expect_invalid(x, &stub_policy, "\"trial\" is listed twice");
  x = d, x.kinds[1].factors[3] = 0;
  expect_invalid(x, &stub_policy, "factor 0 for tier \"HD+\"");
  x = d, x.trial_kind = 1;
  expect_invalid(x, &stub_policy, "not a granted kind");
  x = d, x.trial_kind = 2;
  expect_invalid(x, &stub_policy, "does not exist");
  x = d, x.trial_kind = -1;
  expect_invalid(x, &stub_policy, "1 granted kinds");
  x = d, x.trial_minutes = 0;
  expect_invalid(x, &stub_policy, "trial's minutes");
  /* No trial at all is a valid rule set. */
  rb_rules *r = NULL;
  x = d, x.trial_kind = -1, x.kinds[0].granted = false;
  assert_int_equal(rb_rules_new(&x, &stub_policy, &r, NULL, 0), RB_OK);
  rb_rules_unref(r);
}

static void test_rules_new_rejects_bad_schedules(void **state) {
  (void)state;
  rb_rules_data d = default_data(), x;
  rb_policy p;
  x = d, x.norder = 0;
  expect_invalid(x, &stub_policy, "0 keys");
  x = d, x.order[3] = RB_ORDER_GRANTED_FIRST;
  expect_invalid(x, &stub_policy, "repeated");
  x = d, x.order[1] = RB_ORDER__COUNT;
  expect_invalid(x, &stub_policy, "unknown deduction order key");
  x = d, x.activation_delay = -1;
  expect_invalid(x, &stub_policy, "activation delay");
  x = d, x.validity_months = 0;
  expect_invalid(x, &stub_policy, "validity_months");
  x = d, x.monthly_issue_delay = -1;
  expect_invalid(x, &stub_policy, "issue delay");
  x = d, x.grace_seconds = -1;
  expect_invalid(x, &stub_policy, "grace");
  x = d, x.reclaim_seconds = -1;
  expect_invalid(x, &stub_policy, "reclaim");
  p = stub_policy, p.exhaustion = NULL;
  expect_invalid(d, &p, "policy lacks a function");
  p = stub_policy, p.cycle = NULL;
  expect_invalid(d, &p, "policy lacks a function");
  p = stub_policy, p.last_error = NULL;
  expect_invalid(d, &p, "policy lacks a function");
  expect_invalid(d, NULL, "policy lacks a function");
}

int main(void) {
  const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_teardown(name, remove_rules)
      T(test_load_default_tariff),
      T(test_load_default_packages),
      T(test_load_default_schedule),
      T(test_load_version_is_fnv1a_of_the_files),
      T(test_load_version_changes_with_a_comment),
      T(test_load_accepts_a_trailing_slash),
      T(test_cycle_monthly_until_2020_08_31),
      T(test_cycle_daily_from_2020_09_01),
      T(test_exhaustion_bought_package_gives_postpaid),
      T(test_exhaustion_stops_by_trial_state),
      T(test_exhaustion_query_fields_reach_the_rule),
      T(test_exhaustion_error_names_file_and_line),
      T(test_exhaustion_error_without_position_gets_one),
      T(test_exhaustion_rejects_reason_arrears),
      T(test_exhaustion_rejects_unknown_action),
      T(test_exhaustion_rejects_a_non_table),
      T(test_exhaustion_runaway_call_is_stopped),
      T(test_policy_budget_is_per_call),
      T(test_cycle_wrong_answer_is_a_policy_error),
      T(test_broken_syntax_error_names_line),
      T(test_broken_runaway_loop_at_load),
      T(test_broken_runaway_loop_inside_pcall),
      T(test_broken_memory_bomb),
      T(test_broken_memory_bomb_inside_pcall),
      T(test_broken_os_execute_is_absent),
      T(test_sandbox_allow_list),
      T(test_broken_binary_chunk_is_refused),
      T(test_broken_negative_price),
      T(test_broken_price_as_number),
      T(test_broken_unordered_tiers),
      T(test_broken_missing_factor),
      T(test_broken_unknown_order_key),
      T(test_broken_float_hours),
      T(test_broken_missing_decide),
      T(test_broken_missing_file),
      T(test_rules_new_refcount_releases_once),
      T(test_rules_new_rejects_bad_tariffs),
      T(test_rules_new_rejects_bad_kinds),
      T(test_rules_new_rejects_bad_schedules),
#undef T
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
