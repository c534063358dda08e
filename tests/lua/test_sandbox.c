/* test_sandbox.c: hostile rule files against the sandbox.
 *
 * Every attack a rule file could make (runaway loops plain, in pcall and
 * in coroutines, a 1 GB allocation, deep recursion, reaching for os, io,
 * require, load, string.dump, debug, the global table or the string
 * metatable, catastrophic patterns) is written into a copy of the
 * default rules, either at load time or inside decide(). Each must be
 * refused or stopped with "DIR/file.lua:LINE: message", and leave no
 * trace: a failed load returns no rules, a failed call leaves its answer
 * untouched and the rule set usable, and an engine applies nothing of
 * the aborted decision. The time each took to stop is printed
 * ("stop time: ...") and bounded.
 *
 * Depends on: rtcbill_rules.h, rtcbill.h, Lua 5.4 (to write a binary
 * chunk), cmocka and POSIX (mkdtemp, clock_gettime).
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
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <lauxlib.h>
#include <lua.h>

#include "rtcbill_rules.h"
#include "rules_dir.h"

#ifndef RTCBILL_SOURCE_RULES_DIR
#error "define RTCBILL_SOURCE_RULES_DIR as the path of the rules/ directory"
#endif

/* Generous: the limits stop everything here in well under a second on
 * a laptop; a sanitizer build is several times slower. */
#define STOP_MS_MAX 20000.0

static char tmpdir[64];

/* ------------------------------------------------------------------ */
/* Helpers                                                            */
/* ------------------------------------------------------------------ */

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void report(const char *what, double ms) {
  printf("stop time: %-44s %9.1f ms\n", what, ms);
  assert_true(ms < STOP_MS_MAX);
}

static char *read_text(const char *path) { return rules_read(path, NULL); }

static void write_file(const char *file, const char *text, size_t len) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s", tmpdir, file);
  FILE *fp = fopen(path, "wb");
  assert_non_null(fp);
  assert_int_equal(fwrite(text, 1, len, fp), len);
  assert_int_equal(fclose(fp), 0);
}

/* Copies the default rules into a new temporary directory with `text`
 * appended to `file` (NULL: unchanged). Returns the line the appended
 * text starts on. */
static int make_rules(const char *file, const char *text) {
  char *edited = NULL;
  int line = 0;
  if (file != NULL) {
    char *src = rules_default_text(file);
    line = rules_line_after(src);
    edited = rules_edit(src, NULL, text);
    free(src);
  }
  rules_make_dir(tmpdir, sizeof tmpdir, "rtcbill-sandbox", file, edited);
  free(edited);
  return line;
}

static int remove_rules(void **state) {
  (void)state;
  rules_remove_dir(tmpdir);
  tmpdir[0] = '\0';
  return 0;
}

/* Checks "TMPDIR/file:LINE: ...words..." with LINE in lo..hi. */
static void expect_message(const char *err, const char *file, int lo, int hi,
                           const char *words) {
  char prefix[256];
  int n = snprintf(prefix, sizeof prefix, "%s/%s:", tmpdir, file);
  int line = 0;
  if (strncmp(err, prefix, (size_t)n) != 0 ||
      sscanf(err + n, "%d", &line) != 1 || line < lo || line > hi ||
      strstr(err, words) == NULL)
    fail_msg("got \"%s\", want \"%s%d..%d: ...%s...\"", err, prefix, lo, hi,
             words);
  assert_null(strchr(err, '\n'));
}

/* Appends `text` to file, loads, and expects the load to fail with
 * words on one of lines (start + lo .. start + hi) of the text. */
static void hostile_load(const char *what, const char *file, const char *text,
                         int lo, int hi, const char *words) {
  rb_rules *r = NULL;
  char err[512] = "";
  int start = make_rules(file, text);
  double t0 = now_ms();
  int st = rb_lua_rules_load(tmpdir, &r, err, sizeof err);
  double ms = now_ms() - t0;
  assert_int_equal(st, RB_EINVAL);
  assert_null(r);
  expect_message(err, file, start + lo, start + hi, words);
  report(what, ms);
}

/* A decide() that runs `snippet` (one line, the 4th of the text) for
 * app 666 and answers as the default rule otherwise. */
static int hostile_decide_rules(const char *snippet) {
  char text[2048];
  snprintf(text, sizeof text,
           "\nlocal default_decide = decide\n"
           "function decide(q)\n"
           "  if q.app == 666 then\n"
           "%s\n"
           "  end\n"
           "  return default_decide(q)\n"
           "end\n",
           snippet);
  return make_rules("exhaustion.lua", text) + 4;
}

static rb_rules *load_tmp(void) {
  rb_rules *r = NULL;
  char err[512] = "";
  if (rb_lua_rules_load(tmpdir, &r, err, sizeof err) != RB_OK)
    fail_msg("%s", err);
  return r;
}

static rb_time parse_time(const char *s) {
  rb_time t;
  assert_int_equal(rb_time_parse(s, strlen(s), &t, NULL), RB_OK);
  return t;
}

static int ask(rb_rules *r, int64_t app, rb_exhaustion_decision *d) {
  const rb_policy *p = rb_rules_policy(r);
  rb_exhaustion_query q = {"A1",
                           app,
                           parse_time("2020-10-06T20:00:00+08:00"),
                           RB_TRIGGER_UNCOVERED,
                           NULL,
                           "HD",
                           false,
                           RB_TRIAL_NONE};
  return p->exhaustion(p->ctx, &q, d);
}

/* Runs the hostile decide() for app 666: RB_EPOLICY with the message,
 * the answer untouched; then the same rule set still answers app 1. */
static void hostile_call(const char *what, const char *snippet, int lo, int hi,
                         const char *words) {
  int line = hostile_decide_rules(snippet);
  rb_rules *r = load_tmp();
  rb_exhaustion_decision d = {(rb_decision_action)77, (rb_stop_reason)77};
  double t0 = now_ms();
  int st = ask(r, 666, &d);
  double ms = now_ms() - t0;
  assert_int_equal(st, RB_EPOLICY);
  assert_int_equal(d.action, 77);
  assert_int_equal(d.reason, 77);
  const rb_policy *p = rb_rules_policy(r);
  expect_message(p->last_error(p->ctx), "exhaustion.lua", line + lo,
                 line + hi, words);
  for (int i = 0; i < 3; i++) {
    assert_int_equal(ask(r, 1, &d), RB_OK);
    assert_int_equal(d.action, RB_DECIDE_STOP);
    assert_int_equal(d.reason, RB_STOP_NO_PACKAGE);
  }
  rb_rules_unref(r);
  report(what, ms);
}

/* ------------------------------------------------------------------ */
/* Runaway loops                                                      */
/* ------------------------------------------------------------------ */

static void test_loop_at_load_is_stopped(void **state) {
  (void)state;
  hostile_load("infinite loop at load", "arrears.lua",
               "while true do end\n", 0, 0, "instruction limit exceeded");
}

static void test_loop_inside_pcall_is_stopped(void **state) {
  (void)state;
  hostile_load("infinite loop inside pcall", "arrears.lua",
               "for i = 1, 3 do\n"
               "  pcall(function() while true do end end)\n"
               "end\n",
               0, 1, "instruction limit exceeded");
}

static void test_loop_inside_coroutine_wrap_is_stopped(void **state) {
  (void)state;
  hostile_load("infinite loop inside coroutine.wrap", "arrears.lua",
               "coroutine.wrap(function() while true do end end)()\n", 0, 0,
               "instruction limit exceeded");
}

static void test_loop_resuming_a_coroutine_is_stopped(void **state) {
  (void)state;
  /* Each resume is cheap; the budget is shared by all threads. */
  hostile_load("loop resuming a yielding coroutine", "arrears.lua",
               "local co = coroutine.create(function()\n"
               "  while true do coroutine.yield() end end)\n"
               "while true do coroutine.resume(co) end\n",
               0, 2, "instruction limit exceeded");
}

static void test_loop_in_coroutine_under_pcall_is_stopped(void **state) {
  (void)state;
  hostile_load("loop in a coroutine resumed under pcall", "arrears.lua",
               "local co = coroutine.create(function() while true do end "
               "end)\n"
               "for i = 1, 5 do pcall(coroutine.resume, co) end\n",
               0, 1, "instruction limit exceeded");
}

static void test_loop_in_decide_is_stopped(void **state) {
  (void)state;
  hostile_call("infinite loop in decide()", "while true do end", 0, 0,
               "instruction limit exceeded");
}

static void test_loop_in_decide_inside_pcall_is_stopped(void **state) {
  (void)state;
  hostile_call("infinite loop in decide() inside pcall",
               "while true do pcall(function() while true do end end) end", 0,
               0, "instruction limit exceeded");
}

static void test_loop_in_decide_inside_coroutine_is_stopped(void **state) {
  (void)state;
  hostile_call("infinite loop in decide() inside a coroutine",
               "local ok = coroutine.resume(coroutine.create(function() "
               "while true do end end)) return { action = 'postpaid' }",
               0, 0, "instruction limit exceeded");
}

/* ------------------------------------------------------------------ */
/* Memory and the stack                                               */
/* ------------------------------------------------------------------ */

static void test_one_gigabyte_is_refused(void **state) {
  (void)state;
  hostile_load("1 GB allocation at load", "arrears.lua",
               "local s = string.rep('x', 1 << 30)\n", 0, 0,
               "memory limit exceeded");
}

static void test_growing_table_is_stopped(void **state) {
  (void)state;
  hostile_load("table growing without end, inside pcall", "arrears.lua",
               "pcall(function()\n"
               "  local t = {} for i = 1, 1 << 40 do t[i] = i end end)\n",
               0, 1, "memory limit exceeded");
}

static void test_memory_in_decide_is_refused(void **state) {
  (void)state;
  hostile_call("1 GB allocation in decide()",
               "local s = string.rep('x', 1 << 30)", 0, 0,
               "memory limit exceeded");
}

static void test_memory_in_coroutine_is_refused(void **state) {
  (void)state;
  hostile_call("memory bomb in decide() inside a coroutine",
               "local ok = coroutine.resume(coroutine.create(function() "
               "local t = {} for i = 1, 1 << 40 do t[i] = {} end end)) "
               "return { action = 'postpaid' }",
               0, 0, "memory limit exceeded");
}

static void test_deep_recursion_is_a_stack_overflow(void **state) {
  (void)state;
  hostile_load("deep recursion at load", "arrears.lua",
               "local function f(n) return f(n + 1) + 1 end\n"
               "f(1)\n",
               0, 0, "stack overflow");
}

static void test_deep_recursion_in_decide(void **state) {
  (void)state;
  hostile_call("deep recursion in decide()",
               "local function f(n) return f(n + 1) + 1 end f(1)", 0, 0,
               "stack overflow");
}

/* ------------------------------------------------------------------ */
/* Reaching outside                                                   */
/* ------------------------------------------------------------------ */

static void test_os_execute_is_absent(void **state) {
  (void)state;
  char path[128];
  snprintf(path, sizeof path, "/tmp/rtcbill-sandbox-pwned-%ld",
           (long)getpid());
  char text[256];
  snprintf(text, sizeof text, "os.execute('touch %s')\n", path);
  hostile_load("os.execute", "arrears.lua", text, 0, 0,
               "attempt to index a nil value (global 'os')");
  assert_int_not_equal(access(path, F_OK), 0);
}

static void test_io_open_is_absent(void **state) {
  (void)state;
  hostile_load("io.open", "tariff.lua", "local f = io.open('/etc/passwd')\n",
               0, 0, "attempt to index a nil value (global 'io')");
}

static void test_require_is_absent(void **state) {
  (void)state;
  hostile_load("require", "settlement.lua", "local os = require('os')\n", 0,
               0, "attempt to call a nil value (global 'require')");
}

static void test_load_is_absent(void **state) {
  (void)state;
  hostile_load("load of a chunk", "packages.lua",
               "local f = load('\\27Lua')\n", 0, 0,
               "attempt to call a nil value (global 'load')");
}

static void test_string_dump_is_absent(void **state) {
  (void)state;
  hostile_load("string.dump", "arrears.lua",
               "local b = string.dump(function() end)\n", 0, 0,
               "attempt to call a nil value (field 'dump')");
}

static void test_string_dump_method_is_absent(void **state) {
  (void)state;
  hostile_load("(''):dump through the string metatable", "arrears.lua",
               "local b = ('x'):dump()\n", 0, 0,
               "attempt to call a nil value (method 'dump')");
}

static void test_debug_is_absent(void **state) {
  (void)state;
  hostile_load("debug.sethook", "arrears.lua", "debug.sethook()\n", 0, 0,
               "attempt to index a nil value (global 'debug')");
}

static void test_setmetatable_on_globals_is_refused(void **state) {
  (void)state;
  hostile_load("setmetatable(_G, ...)", "arrears.lua",
               "setmetatable(_G, { __index = function() end })\n", 0, 0,
               "bad argument #1 to 'setmetatable' (table expected, got nil)");
}

static void test_string_metatable_is_out_of_reach(void **state) {
  (void)state;
  hostile_load("string metatable tampering", "arrears.lua",
               "getmetatable('').__index = { upper = function() end }\n", 0,
               0, "attempt to index a nil value");
}

static void test_collectgarbage_is_absent(void **state) {
  (void)state;
  hostile_load("collectgarbage", "arrears.lua", "collectgarbage('stop')\n", 0,
               0, "attempt to call a nil value (global 'collectgarbage')");
}

/* A file that rewrites its string library changes its own copy only:
 * the next file and the strings' methods still see the real one. */
static void test_string_tampering_stays_in_its_file(void **state) {
  (void)state;
  make_rules("tariff.lua", "string.upper = function() return 'pwned' end\n"
                           "string.find = nil\n");
  char *src = read_text(RTCBILL_SOURCE_RULES_DIR "/arrears.lua");
  const char *check = "assert(('x'):upper() == 'X' and string.upper('x') == "
                      "'X' and ('abc'):find('b') == 2)\n";
  size_t n = strlen(src) + strlen(check);
  char *text = malloc(n + 1);
  assert_non_null(text);
  snprintf(text, n + 1, "%s%s", src, check);
  write_file("arrears.lua", text, n);
  free(text);
  free(src);
  rb_rules_unref(load_tmp());
}

/* lua_Writer appending to a FILE. */
static int write_chunk(lua_State *L, const void *p, size_t n, void *ud) {
  (void)L;
  return fwrite(p, 1, n, ud) == n ? 0 : 1;
}

static void test_binary_chunk_file_is_refused(void **state) {
  (void)state;
  char path[512], err[512] = "";
  make_rules(NULL, NULL);
  snprintf(path, sizeof path, "%s/arrears.lua", tmpdir);
  lua_State *L = luaL_newstate();
  assert_non_null(L);
  assert_int_equal(luaL_loadstring(L, "grace_hours = 24 reclaim_days = 60"),
                   LUA_OK);
  FILE *fp = fopen(path, "wb");
  assert_non_null(fp);
  assert_int_equal(lua_dump(L, write_chunk, fp, 1), 0);
  assert_int_equal(fclose(fp), 0);
  lua_close(L);
  rb_rules *r = NULL;
  double t0 = now_ms();
  assert_int_equal(rb_lua_rules_load(tmpdir, &r, err, sizeof err), RB_EINVAL);
  report("binary chunk as a rule file", now_ms() - t0);
  assert_null(r);
  assert_non_null(strstr(err, "arrears.lua"));
  assert_non_null(strstr(err, "attempt to load a binary chunk"));
}

/* ------------------------------------------------------------------ */
/* Patterns                                                           */
/* ------------------------------------------------------------------ */

static void test_catastrophic_find_is_refused(void **state) {
  (void)state;
  hostile_load("catastrophic pattern (s:find)", "arrears.lua",
               "local s = string.rep('a', 20000)\n"
               "local i = s:find(string.rep('a*', 12) .. 'b')\n",
               1, 1, "is too costly for a subject of 20000 bytes");
}

static void test_catastrophic_gsub_is_refused(void **state) {
  (void)state;
  hostile_load("catastrophic pattern (string.gsub)", "arrears.lua",
               "local s = string.rep('a', 5000)\n"
               "local r = string.gsub(s, '(a-)(a-)(a-)b', '%1')\n",
               1, 1, "too costly");
}

static void test_catastrophic_gmatch_is_refused(void **state) {
  (void)state;
  hostile_load("catastrophic pattern (gmatch, back-reference)", "arrears.lua",
               "local s = string.rep('ab', 5000)\n"
               "for x in s:gmatch('(a.-)%1%1b') do end\n",
               1, 1, "too costly");
}

static void test_catastrophic_optional_items_are_refused(void **state) {
  (void)state;
  hostile_load("catastrophic pattern (40 optional items)", "arrears.lua",
               "local s = string.rep('a', 40)\n"
               "local m = s:match('^' .. string.rep('a?', 40) .. "
               "string.rep('a', 40) .. '$')\n",
               1, 1, "too costly");
}

/* What rules need passes: anchored date patterns, plain finds, a short
 * unanchored search; the worst allowed case is timed. */
static void test_ordinary_patterns_pass(void **state) {
  (void)state;
  make_rules("arrears.lua",
             "local y, m, d = ('2020-08-31'):match('^(%d+)-(%d+)-(%d+)$')\n"
             "assert(y == '2020' and m == '08' and d == '31')\n"
             "assert(('A1/trial'):find('/', 1, true) == 3)\n"
             "assert(('a,b,c'):gsub(',', ';') == 'a;b;c')\n"
             "local n = 0 for w in ('x y z'):gmatch('%a+') do n = n + 1 end\n"
             "assert(n == 3)\n"
             "assert(string.rep('a', 3000):find('a*b') == nil)\n");
  double t0 = now_ms();
  rb_rules_unref(load_tmp());
  report("ordinary patterns incl. worst allowed", now_ms() - t0);
}

/* ------------------------------------------------------------------ */
/* The clock, and an engine left untouched                            */
/* ------------------------------------------------------------------ */

static void test_clock_now_is_the_decision_time(void **state) {
  (void)state;
  hostile_decide_rules("");
  char *src = read_text(RTCBILL_SOURCE_RULES_DIR "/exhaustion.lua");
  const char *more = "\nlocal inner = decide\n"
                     "function decide(q)\n"
                     "  assert(clock.now() == q.at, clock.now())\n"
                     "  assert(clock.today() == '2020-10-06')\n"
                     "  return inner(q)\n"
                     "end\n"
                     "assert(clock.now() == nil)\n";
  size_t n = strlen(src) + strlen(more);
  char *text = malloc(n + 1);
  assert_non_null(text);
  snprintf(text, n + 1, "%s%s", src, more);
  write_file("exhaustion.lua", text, n);
  free(text);
  free(src);
  rb_rules *r = load_tmp();
  rb_exhaustion_decision d;
  assert_int_equal(ask(r, 1, &d), RB_OK);
  assert_int_equal(d.action, RB_DECIDE_STOP);
  rb_rules_unref(r);
}

typedef struct seen {
  int notices[RB_N__COUNT];
  int bills;
} seen;

static int on_bill(void *ctx, const rb_bill *b) {
  (void)b;
  ((seen *)ctx)->bills++;
  return 0;
}

static int on_notice(void *ctx, const rb_notice *n) {
  ((seen *)ctx)->notices[n->type]++;
  return 0;
}

static int apply_line(rb_engine *e, rb_arena *a, const char *line) {
  rb_event ev;
  rb_reject rej;
  assert_int_equal(rb_event_parse(a, line, strlen(line), &ev, &rej), RB_OK);
  return rb_engine_apply(e, &ev, &rej);
}

/* The engine asks decide() for app 666 (no package, no postpaid): the
 * aborted rule stops nothing and switches nothing on. */
static void test_aborted_decide_changes_no_engine_state(void **state) {
  (void)state;
  hostile_decide_rules("while true do end");
  rb_rules *r = load_tmp();
  seen s;
  memset(&s, 0, sizeof s);
  rb_sink sink = {.ctx = &s, .bill = on_bill, .notice = on_notice};
  rb_engine *e = NULL;
  rb_arena *a = rb_arena_new();
  assert_non_null(a);
  assert_int_equal(rb_engine_new(r, &sink, &e), RB_OK);
  rb_rules_unref(r);
  assert_int_equal(
      apply_line(e, a,
                 "{\"type\":\"account\",\"account\":\"A1\",\"at\":"
                 "\"2019-01-01T09:00:00+08:00\",\"balance\":\"10.00\"}"),
      RB_OK);
  assert_int_equal(
      apply_line(e, a,
                 "{\"type\":\"app\",\"app\":666,\"account\":\"A1\",\"at\":"
                 "\"2019-01-01T09:05:00+08:00\",\"postpaid\":false}"),
      RB_OK);
  int rc = apply_line(
      e, a,
      "{\"type\":\"usage\",\"id\":\"u1\",\"app\":666,\"user\":\"u\","
      "\"room\":\"r\",\"start\":\"2019-01-02T10:00:00+08:00\","
      "\"seconds\":600}");
  assert_int_equal(rc, RB_EPOLICY);
  assert_non_null(strstr(rb_engine_last_error(e),
                         "exhaustion.lua:"));
  assert_non_null(strstr(rb_engine_last_error(e),
                         "instruction limit exceeded"));
  assert_int_equal(s.notices[RB_N_SERVICE_STOPPED], 0);
  assert_int_equal(s.notices[RB_N_POSTPAID_ENABLED], 0);
  assert_int_equal(s.bills, 0);
  rb_engine_free(e);
  rb_arena_free(a);
}

int main(void) {
  const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_teardown(name, remove_rules)
      T(test_loop_at_load_is_stopped),
      T(test_loop_inside_pcall_is_stopped),
      T(test_loop_inside_coroutine_wrap_is_stopped),
      T(test_loop_resuming_a_coroutine_is_stopped),
      T(test_loop_in_coroutine_under_pcall_is_stopped),
      T(test_loop_in_decide_is_stopped),
      T(test_loop_in_decide_inside_pcall_is_stopped),
      T(test_loop_in_decide_inside_coroutine_is_stopped),
      T(test_one_gigabyte_is_refused),
      T(test_growing_table_is_stopped),
      T(test_memory_in_decide_is_refused),
      T(test_memory_in_coroutine_is_refused),
      T(test_deep_recursion_is_a_stack_overflow),
      T(test_deep_recursion_in_decide),
      T(test_os_execute_is_absent),
      T(test_io_open_is_absent),
      T(test_require_is_absent),
      T(test_load_is_absent),
      T(test_string_dump_is_absent),
      T(test_string_dump_method_is_absent),
      T(test_debug_is_absent),
      T(test_setmetatable_on_globals_is_refused),
      T(test_string_metatable_is_out_of_reach),
      T(test_collectgarbage_is_absent),
      T(test_string_tampering_stays_in_its_file),
      T(test_binary_chunk_file_is_refused),
      T(test_catastrophic_find_is_refused),
      T(test_catastrophic_gsub_is_refused),
      T(test_catastrophic_gmatch_is_refused),
      T(test_catastrophic_optional_items_are_refused),
      T(test_ordinary_patterns_pass),
      T(test_clock_now_is_the_decision_time),
      T(test_aborted_decide_changes_no_engine_state),
#undef T
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
