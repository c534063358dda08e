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

/* Formats fmt into a fresh line and checks it through both paths. */
static void check_fmt(tally *t, const char *fmt, ...) {
  char line[1024];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  assert_true(n > 0 && (size_t)n < sizeof line);
  check_line(t, line, (size_t)n);
}

/* Times at the edges of every field of RFC 3339, as "at", "start" and
 * "received": the fast path converts the fixed-width form itself and
 * must agree with rb_time_parse on each, accepted or not. */
static void test_scan_times_agree_with_rb_time_parse(void **state) {
  (void)state;
  static const char *const dates[] = {
      "2020-10-06",      "0000-01-01", "0001-01-01", "9999-12-31", "1900-02-29",
      "2000-02-29",      "2004-02-29", "2001-02-29", "2100-02-28", "2020-02-30",
      "2020-04-30",      "2020-04-31", "2020-06-31", "2020-09-31", "2020-11-31",
      "2020-12-31",      "2020-01-32", "2020-00-10", "2020-13-10", "2020-10-00",
      "202a-10-06",      "2020/10/06", "2020-1-006", "-020-10-06", "2020-10-0:",
      "2020-10-\xc3\xa9"};
  static const char *const clocks[] = {
      "T00:00:00", "T23:59:59", "t12:34:56", "T24:00:00", "T23:60:00",
      "T23:59:60", "T23:59:5",  "T23:59:5x", " 23:59:59", "T23-59:59",
      "T23:59-59", "T2:3:4567", "T/0:00:00", "T:0:00:00"};
  static const char *const zones[] = {
      "Z",      "z",      "+00:00", "-00:00", "+08:00",       "-23:59",
      "+23:59", "+24:00", "+08:60", "+0800",  "+08:00:00",    "",
      "+8:00",  "+08:0",  "08:00",  ".0Z",    ".000+08:00",   ".5Z",
      ".Z",     "Zz",     "+08;00", "\x7f",   "+08:0\xc3\xa9"};
  tally t = {0};
  size_t nd = sizeof dates / sizeof dates[0];
  size_t nc = sizeof clocks / sizeof clocks[0];
  size_t nz = sizeof zones / sizeof zones[0];
  for (size_t d = 0; d < nd; d++)
    for (size_t c = 0; c < nc; c++)
      for (size_t z = 0; z < nz; z++) {
        char time[64];
        snprintf(time, sizeof time, "%s%s%s", dates[d], clocks[c], zones[z]);
        check_fmt(&t,
                  "{\"type\":\"topup\",\"account\":\"A\",\"at\":\"%s\","
                  "\"amount\":\"1\"}",
                  time);
        check_fmt(&t,
                  "{\"type\":\"usage\",\"id\":\"u\",\"app\":1,\"user\":\"b\","
                  "\"room\":\"r\",\"start\":\"%s\",\"seconds\":10,"
                  "\"received\":\"%s\"}",
                  time, time);
        /* At the very end of the line: nothing to read past it. */
        check_fmt(&t, "{\"type\":\"account\",\"account\":\"A\",\"at\":\"%s\"}",
                  time);
      }
  assert_int_equal(t.lines, 3 * nd * nc * nz);
  /* The valid ones, all taken by the fast path (the fixed-width form
   * by its own conversion, the others through rb_time_parse). */
  assert_int_equal(t.fast, t.precise_ok);
  assert_true(t.fast > 500);
}

/* Integers of every length where the fields take them, at the end of
 * the line and before a comma, in and out of range. */
static void test_scan_integers_agree(void **state) {
  (void)state;
  static const char *const nums[] = {
      "0",
      "1",
      "-0",
      "-1",
      "00",
      "01",
      "10",
      "7",
      "42",
      "360",
      "1080",
      "65536",
      "65537",
      "123456",
      "1234567",
      "12345678",
      "123456789",
      "1400010763",
      "31622400",
      "31622401",
      "999999999999999",
      "1000000000000000",
      "1000000000000",
      "1000000000001",
      "12345678901234567",
      "123456789012345678",
      "1234567890123456789",
      "9223372036854775807",
      "9223372036854775808",
      "-9223372036854775808",
      "-9223372036854775809",
      "99999999999999999999",
      "1.0",
      "1e3",
      "1E3",
      "12345678.5",
      "1234567e1",
      "12345678e1",
      "0x10",
      "1a",
      "12345678a",
      "-",
      "--1",
      "+1",
      "",
      "1 ",
      " 1",
      "\"1\"",
      "null",
  };
  tally t = {0};
  for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++) {
    const char *n = nums[i];
    check_fmt(&t,
              "{\"type\":\"app\",\"app\":%s,\"account\":\"A\",\"at\":"
              "\"2020-10-03T08:00:00Z\"}",
              n);
    check_fmt(&t,
              "{\"type\":\"enable_postpaid\",\"at\":"
              "\"2020-10-03T08:00:00Z\",\"app\":%s}",
              n);
    check_fmt(&t,
              "{\"type\":\"package\",\"package\":\"P\",\"account\":\"A\","
              "\"at\":\"2020-10-03T08:00:00Z\",\"kind\":\"k\",\"minutes\":"
              "%s,\"price\":\"1\"}",
              n);
    check_fmt(&t,
              "{\"type\":\"usage\",\"id\":\"u\",\"app\":1,\"user\":\"b\","
              "\"room\":\"r\",\"start\":\"2020-10-06T20:00:00+08:00\","
              "\"seconds\":%s}",
              n);
    check_fmt(&t,
              "{\"type\":\"usage\",\"id\":\"u\",\"app\":%s,\"user\":\"b\","
              "\"room\":\"r\",\"start\":\"2020-10-06T20:00:00+08:00\","
              "\"seconds\":31622400,\"video\":[{\"offset\":%s,\"seconds\":1,"
              "\"width\":%s,\"height\":%s},{\"offset\":0,\"seconds\":%s,"
              "\"width\":1,\"height\":1}]}",
              n, n, n, n, n);
  }
  assert_true(t.fast > 40);
}

/* Lines written otherwise than producers usually do: other key orders,
 * spaces anywhere JSON allows them, the type late, duplicates after the
 * usual run. The fast path must agree on each, and still take the valid
 * ones. */
static void test_scan_key_orders_and_spaces(void **state) {
  (void)state;
  static const char *const valid[] = {
      /* Usage: received before and after video, fields shuffled, the
       * type last, segments with their keys in another order. */
      "{\"type\":\"usage\",\"id\":\"u\",\"app\":1,\"user\":\"b\",\"room\":"
      "\"r\",\"start\":\"2020-10-06T20:00:00+08:00\",\"seconds\":10,"
      "\"received\":\"2020-10-06T21:00:00+08:00\",\"video\":[{\"offset\":0,"
      "\"seconds\":10,\"width\":1,\"height\":1}]}",
      "{\"type\":\"usage\",\"id\":\"u\",\"app\":1,\"user\":\"b\",\"room\":"
      "\"r\",\"start\":\"2020-10-06T20:00:00+08:00\",\"seconds\":10,"
      "\"video\":[{\"offset\":0,\"seconds\":10,\"width\":1,\"height\":1}],"
      "\"received\":\"2020-10-06T21:00:00+08:00\"}",
      "{\"type\":\"usage\",\"app\":1,\"id\":\"u\",\"room\":\"r\",\"user\":"
      "\"b\",\"seconds\":10,\"start\":\"2020-10-06T20:00:00+08:00\"}",
      "{\"id\":\"u\",\"app\":1,\"user\":\"b\",\"room\":\"r\",\"start\":"
      "\"2020-10-06T20:00:00+08:00\",\"seconds\":10,\"video\":[],\"type\":"
      "\"usage\"}",
      "{\"type\":\"usage\",\"id\":\"u\",\"app\":1,\"user\":\"b\",\"room\":"
      "\"r\",\"start\":\"2020-10-06T20:00:00+08:00\",\"seconds\":10,"
      "\"video\":[{\"height\":1,\"width\":2,\"offset\":3,\"seconds\":4},"
      "{\"offset\":0,\"seconds\":10,\"width\":1,\"height\":1}]}",
      "{\"type\":\"usage\",\"id\":\"u\",\"app\":1,\"user\":\"b\",\"room\":"
      "\"r\",\"start\":\"2020-10-06T20:00:00+08:00\",\"seconds\":10,"
      "\"video\":[{\"offset\":0,\"seconds\":10,\"width\":1,\"height\":1},"
      "{\"seconds\":4,\"offset\":3,\"width\":2,\"height\":1}]}",
      /* Spaces around every token. */
      " { \"type\" : \"usage\" , \"id\" : \"u\" , \"app\" : 1 , \"user\" : "
      "\"b\" , \"room\" : \"r\" , \"start\" : \"2020-10-06T20:00:00+08:00\" "
      ", \"seconds\" : 10 , \"video\" : [ { \"offset\" : 0 , \"seconds\" : "
      "10 , \"width\" : 1 , \"height\" : 1 } , { \"offset\":1,\"seconds\":"
      "2,\"width\":3,\"height\":4} ] } \t\r\n",
      "{\"type\":\"usage\",\"id\": \"u\",\"app\":\t1,\"user\"\n:\"b\","
      "\"room\":\"r\" ,\"start\":\"2020-10-06T20:00:00+08:00\",\"seconds\""
      ":10,\"video\":[{\"offset\":0,\"seconds\":10,\"width\":1,"
      "\"height\":1 }]}",
      /* The other types in other orders, with and without spaces. */
      "{\"at\":\"2020-10-03T08:00:00Z\",\"type\":\"app\",\"postpaid\":true,"
      "\"account\":\"A\",\"app\":5}",
      "{\"type\" :\"app\", \"account\":\"A\",\"app\":5,\"at\":"
      "\"2020-10-03T08:00:00+08:00\"}",
      "{\"balance\":\"5.00\",\"at\":\"2020-10-03T08:00:00Z\",\"account\":"
      "\"C\",\"type\":\"account\"}",
      "{\"type\":\"package\",\"price\":\"1\",\"minutes\":100,\"kind\":\"k\","
      "\"at\":\"2020-10-03T08:00:00Z\",\"account\":\"A\",\"package\":\"P\"}",
      "{\"amount\":\"2\",\"type\":\"topup\",\"at\":\"2020-10-03T08:00:00Z\","
      "\"account\":\"A\"}",
      "{\"cycle\":\"monthly\",\"type\":\"change_cycle\",\"account\":\"A\","
      "\"at\":\"2020-10-03T08:00:00Z\"}",
      "{\"app\":3,\"at\":\"2020-10-03T08:00:00Z\",\"type\":"
      "\"disable_postpaid\"}",
  };
  /* Left to the precise reader, which refuses all but two: an explicit
   * null (an absent field) and an unknown key in a segment (ignored). */
  static const char *const left[] = {
      /* Duplicates: inside the usual run, after it, and of the type. */
      "{\"type\":\"usage\",\"id\":\"u\",\"id\":\"v\",\"app\":1,\"user\":"
      "\"b\",\"room\":\"r\",\"start\":\"2020-10-06T20:00:00+08:00\","
      "\"seconds\":10}",
      "{\"type\":\"usage\",\"id\":\"u\",\"app\":1,\"user\":\"b\",\"room\":"
      "\"r\",\"start\":\"2020-10-06T20:00:00+08:00\",\"seconds\":10,"
      "\"video\":[],\"user\":\"c\"}",
      "{\"type\":\"usage\",\"id\":\"u\",\"app\":1,\"user\":\"b\",\"room\":"
      "\"r\",\"start\":\"2020-10-06T20:00:00+08:00\",\"seconds\":10,"
      "\"type\":\"usage\"}",
      "{\"id\":\"u\",\"type\":\"usage\",\"id\":\"u\",\"app\":1,\"user\":"
      "\"b\",\"room\":\"r\",\"start\":\"2020-10-06T20:00:00+08:00\","
      "\"seconds\":10}",
      "{\"type\":\"usage\",\"id\":\"u\",\"app\":1,\"user\":\"b\",\"room\":"
      "\"r\",\"start\":\"2020-10-06T20:00:00+08:00\",\"seconds\":10,"
      "\"video\":[{\"offset\":0,\"offset\":0,\"seconds\":10,\"width\":1,"
      "\"height\":1}]}",
      /* Broken in the middle of the usual run. */
      "{\"type\":\"usage\",\"id\":\"u\",\"app\":1,\"user\":\"b\",\"room\":"
      "\"r\",\"start\":\"2020-10-06T20:00:00+08:00\",\"seconds\":10,"
      "\"video\":[{\"offset\":0,\"seconds\":10,\"width\":1,\"height\":1},]}",
      "{\"type\":\"usage\",\"id\":\"u\",\"app\":1,\"user\":\"b\",\"room\":"
      "\"r\",\"start\":\"2020-10-06T20:00:00+08:00\",\"seconds\":10,"
      "\"video\":[{\"offset\":0,\"seconds\":10,\"width\":1}]}",
      "{\"type\":\"usage\",\"id\":\"u\",\"app\":1,\"user\":\"b\",\"room\":"
      "\"r\",\"start\":\"2020-10-06T20:00:00+08:00\",\"seconds\":10,"
      "\"video\":[{\"offset\":0,\"seconds\":10,\"width\":1,\"height\":1,"
      "\"depth\":1}]}",
      "{\"type\":\"usage\",\"id\":\"u\",\"app\":1,\"user\":\"b\",\"room\":"
      "\"r\",\"start\":\"2020-10-06T20:00:00+08:00\",\"seconds\":10,"
      "\"video\":{}}",
      "{\"type\":\"usage\",\"id\":\"u\",\"app\":1,\"user\":\"b\",\"room\":"
      "\"r\",\"start\":\"2020-10-06T20:00:00+08:00\",\"seconds\":10,"
      "\"received\":null}",
      "{\"type\":\"usage\",\"id\":\"u\",\"app\":1,\"user\":\"b\",\"room\":"
      "\"r\",\"start\":\"2020-10-06T20:00:00+08:00\",\"seconds\":10}}",
      "{\"type\":\"usage\",\"id\":\"u\",\"app\":1,\"user\":\"b\",\"room\":"
      "\"r\",\"start\":\"2020-10-06T20:00:00+08:00\",\"seconds\":10",
      "{\"type\":\"usage\",\"id\":\"u\",\"app\":1,\"user\":\"b\",\"room\":"
      "\"r\",\"start\":\"2020-10-06T20:00:00+08:00\"\"seconds\":10}",
      "{\"type\":\"usage\"}",
      "{\"type\":\"usage\",}",
      "{\"type\":\"usages\",\"id\":\"u\",\"app\":1,\"user\":\"b\",\"room\":"
      "\"r\",\"start\":\"2020-10-06T20:00:00+08:00\",\"seconds\":10}",
  };
  tally ok = {0}, no = {0};
  for (size_t i = 0; i < sizeof valid / sizeof valid[0]; i++) {
    check_line(&ok, valid[i], strlen(valid[i]));
    check_mutants(&no, valid[i], strlen(valid[i]));
  }
  assert_int_equal(ok.precise_ok, ok.lines);
  assert_int_equal(ok.fast, ok.lines);
  tally rest = {0};
  for (size_t i = 0; i < sizeof left / sizeof left[0]; i++) {
    check_line(&rest, left[i], strlen(left[i]));
    check_mutants(&no, left[i], strlen(left[i]));
  }
  assert_int_equal(rest.fast, 0);
  assert_int_equal(rest.precise_ok, 2);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_scan_takes_every_example_line),
      cmocka_unit_test(test_scan_agrees_on_example_mutants),
      cmocka_unit_test(test_scan_agrees_on_fuzz_seeds),
      cmocka_unit_test(test_scan_edge_lines),
      cmocka_unit_test(test_scan_times_agree_with_rb_time_parse),
      cmocka_unit_test(test_scan_integers_agree),
      cmocka_unit_test(test_scan_key_orders_and_spaces),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
