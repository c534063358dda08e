/* test_scan.c: cmocka tests of the reader's fast path (core/scan.c)
 * against the precise reader (core/reader.c).
 *
 * The fast path may only ever say "accepted, and here is the event" when
 * the precise reader accepts the same line with the same event; for
 * anything else it must step aside. These tests check that promise on
 * the example files, the fuzzing seeds and a few hundred thousand
 * mutants of them (every byte deleted, replaced or preceded by a byte
 * that matters to JSON), and check that it does take the common lines.
 * Depends on: cmocka, the core library (scan.h, reader, arena), the
 * example and fuzz corpus files of the source tree.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "rtcbill.h"
#include "scan.h"

#ifndef RTCBILL_SOURCE_DIR
#define RTCBILL_SOURCE_DIR "."
#endif

/* How the two paths compared over a run of lines. */
typedef struct tally {
  size_t lines, fast, precise_ok;
} tally;

static bool same_str(const char *a, const char *b) {
  if (a == NULL || b == NULL)
    return a == b;
  return strcmp(a, b) == 0;
}

static void assert_same_event(const rb_event *x, const rb_event *y,
                              const char *line, size_t len) {
  bool same = x->type == y->type && x->at == y->at && x->app == y->app &&
              x->minutes == y->minutes && x->money == y->money &&
              x->postpaid == y->postpaid && x->cycle == y->cycle &&
              x->start == y->start && x->seconds == y->seconds &&
              x->received == y->received && x->nvideo == y->nvideo &&
              same_str(x->account, y->account) &&
              same_str(x->package, y->package) && same_str(x->kind, y->kind) &&
              same_str(x->id, y->id) && same_str(x->user, y->user) &&
              same_str(x->room, y->room) &&
              (x->video == NULL) == (y->video == NULL);
  for (size_t i = 0; same && i < x->nvideo; i++)
    same = memcmp(&x->video[i], &y->video[i], sizeof x->video[i]) == 0;
  if (!same)
    fail_msg("the paths disagree on: %.*s", (int)len, line);
}

/* One line through both paths. */
static void check_line(tally *t, const char *line, size_t len) {
  rb_arena *a = rb_arena_new(), *b = rb_arena_new();
  rb_event fast, precise;
  rb_reject rej;
  assert_non_null(a);
  assert_non_null(b);
  size_t before = rb_arena_used(a);
  int rf = rb__event_scan(a, line, len, &fast);
  int rp = rb__event_parse_precise(b, line, len, &precise, &rej);
  assert_true(rf == RB_OK || rf == RB__SCAN_UNSURE);
  t->lines++;
  t->precise_ok += rp == RB_OK;
  if (rf == RB_OK) {
    t->fast++;
    if (rp != RB_OK)
      fail_msg("fast path accepts what the reader rejects (%s %s): %.*s",
               rej.code, rej.field, (int)len, line);
    assert_same_event(&fast, &precise, line, len);
  } else {
    assert_true(rb_arena_used(a) == before);
  }
  rb_arena_free(a);
  rb_arena_free(b);
}

/* The bytes that matter to the scanner's decisions. */
static const unsigned char probes[] = {
    '"',  '\\', '{',  '}',  '[',  ']',  ',',  ':',  ' ',  '\t', '\n', '0',
    '1',  '9',  '-',  '+',  '.',  'e',  'E',  'n',  't',  'f',  'a',  0x00,
    0x01, 0x1F, 0x7F, 0x80, 0xC0, 0xC3, 0xE2, 0xED, 0xF0, 0xF5, 0xFF};

/* Every single-byte deletion, replacement and insertion of line. */
static void check_mutants(tally *t, const char *line, size_t len) {
  char *m = malloc(len + 2);
  assert_non_null(m);
  for (size_t i = 0; i <= len; i++) {
    if (i < len) {
      memcpy(m, line, i);
      memcpy(m + i, line + i + 1, len - i - 1);
      check_line(t, m, len - 1);
    }
    for (size_t k = 0; k < sizeof probes; k++) {
      memcpy(m, line, len);
      if (i < len && (unsigned char)line[i] != probes[k]) {
        m[i] = (char)probes[k];
        check_line(t, m, len);
      }
      memcpy(m, line, i);
      m[i] = (char)probes[k];
      memcpy(m + i + 1, line + i, len - i);
      check_line(t, m, len + 1);
    }
  }
  free(m);
}

/* Calls fn on up to max lines of a file (max 0: all). */
static size_t each_line(const char *path, size_t max,
                        void (*fn)(tally *, const char *, size_t), tally *t) {
  FILE *f = fopen(path, "rb");
  if (f == NULL)
    fail_msg("cannot open %s", path);
  char *buf = NULL;
  size_t cap = 0, n = 0;
  ssize_t got;
  while ((max == 0 || n < max) && (got = getline(&buf, &cap, f)) > 0) {
    size_t len = (size_t)got;
    if (buf[len - 1] == '\n')
      len--;
    fn(t, buf, len);
    n++;
  }
  free(buf);
  fclose(f);
  return n;
}

static void test_scan_takes_every_example_line(void **state) {
  (void)state;
  tally t = {0};
  each_line(RTCBILL_SOURCE_DIR "/examples/events/year.jsonl", 0, check_line,
            &t);
  each_line(RTCBILL_SOURCE_DIR "/examples/events/trtc-examples.jsonl", 0,
            check_line, &t);
  each_line(RTCBILL_SOURCE_DIR "/examples/compare/month.jsonl", 0, check_line,
            &t);
  /* The examples are valid, plain lines: the fast path takes them all. */
  assert_true(t.lines > 16000);
  assert_int_equal(t.precise_ok, t.lines);
  assert_int_equal(t.fast, t.lines);
}

static void test_scan_agrees_on_example_mutants(void **state) {
  (void)state;
  tally t = {0};
  const char *files[] = {RTCBILL_SOURCE_DIR
                         "/examples/events/trtc-examples.jsonl",
                         RTCBILL_SOURCE_DIR "/examples/events/year.jsonl",
                         RTCBILL_SOURCE_DIR "/examples/compare/month.jsonl"};
  for (size_t i = 0; i < 3; i++)
    each_line(files[i], 12, check_mutants, &t);
  /* Many mutants stay valid (a digit for a digit, a space): the fast
   * path must have had its say on a good share of them. */
  assert_true(t.lines > 100000);
  assert_true(t.fast > t.lines / 20);
}

static void test_scan_agrees_on_fuzz_seeds(void **state) {
  (void)state;
  tally t = {0};
  const char *dir = RTCBILL_SOURCE_DIR "/tests/fuzz/corpus/event";
  DIR *d = opendir(dir);
  assert_non_null(d);
  struct dirent *de;
  size_t files = 0;
  while ((de = readdir(d)) != NULL) {
    if (de->d_name[0] == '.')
      continue;
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    static char buf[1 << 16];
    size_t len = fread(buf, 1, sizeof buf, f);
    fclose(f);
    check_line(&t, buf, len);
    if (len < 600)
      check_mutants(&t, buf, len);
    files++;
  }
  closedir(d);
  assert_true(files > 20);
  assert_true(t.fast > 0);
}

/* Lines on the edges of what the fast path takes. */
static void test_scan_edge_lines(void **state) {
  (void)state;
  static const char *const lines[] = {
      /* Accepted by both. */
      "{\"type\":\"usage\",\"id\":\"u\",\"app\":1,\"user\":\"\xc3\xa9\","
      "\"room\":\"r\",\"start\":\"2020-10-06T20:00:00+08:00\",\"seconds\":-0}",
      " {\"type\" : \"topup\" ,\"account\":\"A\",\"at\":"
      "\"2020-10-03T08:00:00Z\",\"amount\":\"1.5\"}\r\n",
      "{\"type\":\"app\",\"app\":9223372036854775807,\"account\":\"A\","
      "\"at\":\"2020-10-03T08:00:00Z\",\"postpaid\":false}",
      "{\"type\":\"usage\",\"id\":\"u\",\"app\":1,\"user\":\"b\",\"room\":"
      "\"r\",\"start\":\"2020-10-06T20:00:00+08:00\",\"seconds\":10,"
      "\"received\":\"2020-10-09T20:00:00+08:00\",\"video\":[]}",
      "{\"type\":\"usage\",\"id\":\"u\",\"app\":1,\"user\":\"b\",\"room\":"
      "\"r\",\"start\":\"2020-10-06T20:00:00+08:00\",\"seconds\":10,"
      "\"video\":[{\"height\":1,\"width\":65536,\"seconds\":10,"
      "\"offset\":0}]}",
      "{\"type\":\"change_cycle\",\"account\":\"A\",\"at\":"
      "\"2020-10-03T08:00:00Z\",\"cycle\":\"daily\",\"app\":7}",
      /* Left to the precise reader (and some rejected by it). */
      "{\"type\":\"usage\",\"id\":\"u\\u0041\",\"app\":1,\"user\":\"b\","
      "\"room\":\"r\",\"start\":\"2020-10-06T20:00:00+08:00\",\"seconds\":1}",
      "{\"type\":\"usage\",\"id\":\"u\",\"app\":1,\"user\":\"b\",\"room\":"
      "\"r\",\"start\":\"2020-10-06T20:00:00+08:00\",\"seconds\":1,"
      "\"extra\":{\"a\":[1,2]}}",
      "{\"type\":\"usage\",\"id\":\"u\",\"app\":1,\"user\":\"b\",\"room\":"
      "\"r\",\"start\":\"2020-10-06T20:00:00+08:00\",\"seconds\":1,"
      "\"id\":\"v\"}",
      "{\"type\":\"usage\",\"id\":\"u\x7f\",\"app\":1,\"user\":\"b\","
      "\"room\":\"r\",\"start\":\"2020-10-06T20:00:00+08:00\",\"seconds\":1}",
      "{\"type\":\"usage\",\"id\":\"u\",\"app\":1.0,\"user\":\"b\",\"room\":"
      "\"r\",\"start\":\"2020-10-06T20:00:00+08:00\",\"seconds\":1}",
      "{\"type\":\"usage\",\"id\":\"u\",\"app\":1,\"user\":\"b\",\"room\":"
      "\"r\",\"start\":\"2020-10-06T20:00:00+08:00\",\"seconds\":5,"
      "\"video\":[{\"offset\":1,\"seconds\":5,\"width\":1,\"height\":1}]}",
      "{\"type\":\"account\",\"account\":\"A\",\"at\":"
      "\"2020-10-03T08:00:00Z\",\"balance\":null}",
      "{\"type\":\"account\",\"account\":\"A\",\"at\":"
      "\"2020-10-03T08:00:00Z\"} x",
      "{\"type\":\"app\",\"app\":9223372036854775808,\"account\":\"A\","
      "\"at\":\"2020-10-03T08:00:00Z\"}",
  };
  tally t = {0};
  for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
    check_line(&t, lines[i], strlen(lines[i]));
    check_mutants(&t, lines[i], strlen(lines[i]));
  }
  tally first = {0};
  for (size_t i = 0; i < 6; i++)
    check_line(&first, lines[i], strlen(lines[i]));
  assert_int_equal(first.fast, 6);
  tally rest = {0};
  for (size_t i = 6; i < sizeof lines / sizeof lines[0]; i++)
    check_line(&rest, lines[i], strlen(lines[i]));
  assert_int_equal(rest.fast, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_scan_takes_every_example_line),
      cmocka_unit_test(test_scan_agrees_on_example_mutants),
      cmocka_unit_test(test_scan_agrees_on_fuzz_seeds),
      cmocka_unit_test(test_scan_edge_lines),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
