/* test_reload.c: hot reload, from rb_engine_set_rules to the reloader.
 *
 * rb_engine_set_rules: a compatible set is swapped in and noticed, an
 * incompatible one (other tiers, currency, a kind a live package uses)
 * is refused with the reason and changes nothing. The reloader: a uv
 * loop rates a stream of usage a few events per tick while the watched
 * rules directory flips between two versions (HD at 28.00 and at 30.00)
 * by rename, triggered by the directory watch, by explicit requests and
 * by SIGHUP, with one broken edit in the middle. At the end every bill
 * names one of the two versions and is priced by it, the minutes per tier
 * equal those of a one-shot run of the same events (nothing lost or
 * counted twice), both versions were used, and the broken edit was
 * reported while the old version kept serving.
 *
 * Depends on: rtcbill_rules.h, rtcbill.h, libuv, cmocka and POSIX
 * (mkdtemp, rename, kill).
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include <setjmp.h>
#include <signal.h>
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

#define NEVENTS 2400
#define PER_TICK 3
#define MAX_DIRS 4

static char dirs[MAX_DIRS][64];
static int ndirs;

/* ------------------------------------------------------------------ */
/* Rule directories                                                   */
/* ------------------------------------------------------------------ */

static char *read_text(const char *path) { return rules_read(path, NULL); }

/* Writes path through a temporary file and a rename, as editors do. */
static void replace_file(const char *path, const char *text) {
  char tmp[600];
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  FILE *fp = fopen(tmp, "wb");
  assert_non_null(fp);
  assert_int_equal(fputs(text, fp) >= 0, 1);
  assert_int_equal(fclose(fp), 0);
  assert_int_equal(rename(tmp, path), 0);
}

/* The default tariff.lua with `from` replaced by `to` (or unchanged). */
static char *tariff_text(const char *from, const char *to) {
  char *src = rules_default_text("tariff.lua");
  if (from == NULL)
    return src;
  char *out = rules_edit(src, from, to);
  free(src);
  return out;
}

/* A new temporary copy of the default rules with `file` replaced by
 * `text` (NULL: unchanged). Returns its path. */
static const char *make_dir(const char *file, const char *text) {
  assert_true(ndirs < MAX_DIRS);
  char *d = dirs[ndirs++];
  rules_make_dir(d, 64, "rtcbill-reload", file, text);
  return d;
}

static int remove_dirs(void **state) {
  (void)state;
  for (int i = 0; i < ndirs; i++)
    rules_remove_dir(dirs[i]);
  ndirs = 0;
  return 0;
}

static rb_rules *load(const char *dir) {
  rb_rules *r = NULL;
  char err[512] = "";
  if (rb_lua_rules_load(dir, &r, err, sizeof err) != RB_OK)
    fail_msg("%s", err);
  return r;
}

static const char *version_of(const rb_rules *r) {
  return rb_rules_data_get(r)->version;
}

/* ------------------------------------------------------------------ */
/* Events and an output tally                                         */
/* ------------------------------------------------------------------ */

typedef struct tally {
  int64_t billable[RB_MAX_TIERS], postpaid[RB_MAX_TIERS];
  int nbills;
  int by_version[2];
  int reloaded_notices;
  const char *versions[2]; /* the two valid ones */
  rb_money hd_price[2];    /* their HD prices */
  int hd;                  /* the HD tier's index */
} tally;

static int on_bill(void *ctx, const rb_bill *b) {
  tally *t = ctx;
  int v = -1;
  for (int i = 0; i < 2; i++)
    if (t->versions[i] != NULL && strcmp(b->rules_version, t->versions[i]) == 0)
      v = i;
  if (v < 0)
    fail_msg("bill %s names rules %s, neither of the two versions", b->id,
             b->rules_version);
  t->by_version[v]++;
  t->nbills++;
  for (size_t i = 0; i < b->nlines; i++) {
    const rb_bill_line *l = &b->lines[i];
    t->billable[l->tier] += l->minutes;
    t->postpaid[l->tier] += l->postpaid;
    /* Priced with the version it names. */
    rb_money want;
    rb_money price = l->tier == t->hd
                         ? t->hd_price[v]
                         : b->tariff->tiers[l->tier].price_per_1000;
    assert_int_equal(rb_money_muldiv(l->postpaid, price, 1000, &want), RB_OK);
    assert_int_equal(l->amount, want);
  }
  return 0;
}

static int on_notice(void *ctx, const rb_notice *n) {
  tally *t = ctx;
  if (n->type == RB_N_RULES_RELOADED) {
    assert_non_null(n->rules);
    t->reloaded_notices++;
  }
  return 0;
}

typedef struct stream {
  rb_arena *arena;
  rb_event ev[NEVENTS + 16];
  int n;
} stream;

static void add_line(stream *s, const char *line) {
  rb_reject rej;
  if (rb_event_parse(s->arena, line, strlen(line), &s->ev[s->n], &rej) !=
      RB_OK)
    fail_msg("%s: %s", line, rej.message);
  s->n++;
}

/* Three daily accounts, two postpaid apps each, then NEVENTS sessions of
 * 30 minutes every 10 minutes, cycling through the four tiers. */
static void make_stream(stream *s) {
  char line[512];
  s->arena = rb_arena_new();
  assert_non_null(s->arena);
  s->n = 0;
  for (int a = 0; a < 3; a++) {
    snprintf(line, sizeof line,
             "{\"type\":\"account\",\"account\":\"A%d\",\"at\":"
             "\"2020-09-01T09:00:0%d+08:00\",\"balance\":\"1000.00\"}",
             a, a);
    add_line(s, line);
  }
  for (int a = 0; a < 3; a++) {
    for (int p = 0; p < 2; p++) {
      snprintf(line, sizeof line,
               "{\"type\":\"app\",\"app\":%d,\"account\":\"A%d\",\"at\":"
               "\"2020-09-01T10:00:0%d+08:00\",\"postpaid\":true}",
               1400000000 + a * 10 + p, a, a * 2 + p);
      add_line(s, line);
    }
  }
  static const char *const video[4] = {
      "", ",\"video\":[{\"offset\":0,\"seconds\":1800,\"width\":640,"
          "\"height\":480}]",
      ",\"video\":[{\"offset\":0,\"seconds\":1800,\"width\":1280,"
      "\"height\":720}]",
      ",\"video\":[{\"offset\":0,\"seconds\":1800,\"width\":1920,"
      "\"height\":1080}]"};
  rb_time t0;
  const char *base = "2020-09-02T00:00:00+08:00";
  assert_int_equal(rb_time_parse(base, strlen(base), &t0, NULL), RB_OK);
  for (int i = 0; i < NEVENTS; i++) {
    char start[RB_TIME_STRLEN];
    assert_true(rb_time_format(t0 + (rb_time)i * 600, 8 * 3600, start,
                               sizeof start) > 0);
    int app = 1400000000 + (i % 3) * 10 + (i / 3) % 2;
    snprintf(line, sizeof line,
             "{\"type\":\"usage\",\"id\":\"u-%d\",\"app\":%d,\"user\":"
             "\"u%d\",\"room\":\"r\",\"start\":\"%s\",\"seconds\":1800%s}",
             i, app, i % 7, start, video[i % 4]);
    add_line(s, line);
  }
}

/* Runs the clock on until every period with usage is billed. */
static void finish(rb_engine *e) {
  for (;;) {
    rb_time h = rb_engine_settle_horizon(e);
    if (h == RB_TIME_NONE)
      return;
    assert_int_equal(rb_engine_advance(e, h), RB_OK);
  }
}

static void tally_init(tally *t, rb_rules *a, rb_rules *b) {
  memset(t, 0, sizeof *t);
  t->versions[0] = version_of(a);
  t->versions[1] = b != NULL ? version_of(b) : NULL;
  t->hd = rb_rules_tier_index(a, "HD");
  assert_true(t->hd > 0);
  t->hd_price[0] = rb_rules_data_get(a)->tariff.tiers[t->hd].price_per_1000;
  if (b != NULL)
    t->hd_price[1] = rb_rules_data_get(b)->tariff.tiers[t->hd].price_per_1000;
}

/* ------------------------------------------------------------------ */
/* rb_engine_set_rules                                                */
/* ------------------------------------------------------------------ */

static void test_set_rules_swaps_and_notices(void **state) {
  (void)state;
  char *t30 = tariff_text("price = \"28.00\"", "price = \"30.00\"");
  rb_rules *a = load(make_dir(NULL, NULL));
  rb_rules *b = load(make_dir("tariff.lua", t30));
  free(t30);
  assert_string_not_equal(version_of(a), version_of(b));
  tally t;
  tally_init(&t, a, b);
  rb_sink sink = {.ctx = &t, .bill = on_bill, .notice = on_notice};
  rb_engine *e = NULL;
  assert_int_equal(rb_engine_new(a, &sink, &e), RB_OK);
  stream *s = malloc(sizeof *s);
  assert_non_null(s);
  make_stream(s);
  rb_reject rej;
  char err[256] = "";
  /* Before the clock starts a swap is silent. */
  assert_int_equal(rb_engine_set_rules(e, b, err, sizeof err), RB_OK);
  assert_int_equal(t.reloaded_notices, 0);
  assert_int_equal(rb_engine_set_rules(e, a, err, sizeof err), RB_OK);
  for (int i = 0; i < 600; i++)
    assert_int_equal(rb_engine_apply(e, &s->ev[i], &rej), RB_OK);
  assert_int_equal(rb_engine_set_rules(e, b, err, sizeof err), RB_OK);
  assert_int_equal(t.reloaded_notices, 1);
  assert_ptr_equal(rb_engine_rules(e), b);
  /* The same version again changes nothing visible. */
  assert_int_equal(rb_engine_set_rules(e, b, err, sizeof err), RB_OK);
  assert_int_equal(t.reloaded_notices, 1);
  for (int i = 600; i < s->n; i++)
    assert_int_equal(rb_engine_apply(e, &s->ev[i], &rej), RB_OK);
  finish(e);
  assert_true(t.by_version[0] > 0);
  assert_true(t.by_version[1] > 0);
  rb_engine_free(e);
  rb_rules_unref(a);
  rb_rules_unref(b);
  rb_arena_free(s->arena);
  free(s);
}

static void expect_refused(rb_engine *e, rb_rules *r, const char *words) {
  char err[256] = "";
  rb_rules *before = rb_engine_rules(e);
  assert_int_equal(rb_engine_set_rules(e, r, err, sizeof err), RB_EINVAL);
  if (strstr(err, words) == NULL)
    fail_msg("got \"%s\", want \"...%s...\"", err, words);
  assert_ptr_equal(rb_engine_rules(e), before);
}

static void test_set_rules_refuses_incompatible_sets(void **state) {
  (void)state;
  char *renamed = tariff_text("name = \"HD+\"", "name = \"FHD\"");
  char *usd = tariff_text("currency       = \"CNY\"",
                          "currency       = \"USD\"");
  char *utc = tariff_text("timezone       = \"+08:00\"",
                          "timezone       = \"+00:00\"");
  rb_rules *a = load(make_dir(NULL, NULL));
  rb_rules *other_tiers = NULL, *other_currency = NULL, *other_zone = NULL;
  char err[512];
  /* FHD needs factors: patch packages.lua too, through the loader's
   * error if not; here only the tariff differs, so build them apart. */
  const char *d1 = make_dir("tariff.lua", renamed);
  {
    char path[600];
    snprintf(path, sizeof path, "%s/packages.lua", d1);
    char *pk = read_text(path);
    for (char *p = strstr(pk, "[\"HD+\"]"); p != NULL;
         p = strstr(p, "[\"HD+\"]"))
      memcpy(p, "[\"FHD\"]", 7);
    replace_file(path, pk);
    free(pk);
  }
  assert_int_equal(rb_lua_rules_load(d1, &other_tiers, err, sizeof err),
                   RB_OK);
  other_currency = load(make_dir("tariff.lua", usd));
  other_zone = load(make_dir("tariff.lua", utc));
  free(renamed);
  free(usd);
  free(utc);

  tally t;
  tally_init(&t, a, NULL);
  rb_sink sink = {.ctx = &t, .bill = on_bill, .notice = on_notice};
  rb_engine *e = NULL;
  assert_int_equal(rb_engine_new(a, &sink, &e), RB_OK);
  expect_refused(e, other_tiers, "tier 4 is \"FHD\"");
  expect_refused(e, other_currency, "currency changes from CNY to USD");
  expect_refused(e, other_zone, "billing time zone");
  assert_int_equal(t.reloaded_notices, 0);
  rb_engine_free(e);
  rb_rules_unref(a);
  rb_rules_unref(other_tiers);
  rb_rules_unref(other_currency);
  rb_rules_unref(other_zone);
}

static void test_set_rules_refuses_a_kind_in_use(void **state) {
  (void)state;
  char path[600];
  rb_rules *a = load(make_dir(NULL, NULL));
  const char *d = make_dir(NULL, NULL);
  snprintf(path, sizeof path, "%s/packages.lua", d);
  char *pk = read_text(path);
  char *g = strstr(pk, "name = \"general\"");
  assert_non_null(g);
  memcpy(g, "name = \"premium\"", 16);
  replace_file(path, pk);
  free(pk);
  rb_rules *b = load(d);
  tally t;
  tally_init(&t, a, NULL);
  rb_sink sink = {.ctx = &t, .bill = on_bill, .notice = on_notice};
  rb_engine *e = NULL;
  assert_int_equal(rb_engine_new(a, &sink, &e), RB_OK);
  stream *s = malloc(sizeof *s);
  assert_non_null(s);
  s->arena = rb_arena_new();
  s->n = 0;
  add_line(s, "{\"type\":\"account\",\"account\":\"A1\",\"at\":"
              "\"2020-09-01T09:00:00+08:00\",\"balance\":\"10.00\"}");
  add_line(s, "{\"type\":\"package\",\"package\":\"P1\",\"account\":\"A1\","
              "\"at\":\"2020-09-01T10:00:00+08:00\",\"kind\":\"general\","
              "\"minutes\":1000,\"price\":\"10.00\"}");
  rb_reject rej;
  assert_int_equal(rb_engine_apply(e, &s->ev[0], &rej), RB_OK);
  /* No package yet: the renamed kind is harmless. */
  char err[256];
  assert_int_equal(rb_engine_set_rules(e, b, err, sizeof err), RB_OK);
  assert_int_equal(rb_engine_set_rules(e, a, err, sizeof err), RB_OK);
  assert_int_equal(rb_engine_apply(e, &s->ev[1], &rej), RB_OK);
  expect_refused(e, b, "package \"P1\" is of kind \"general\"");
  rb_engine_free(e);
  rb_rules_unref(a);
  rb_rules_unref(b);
  rb_arena_free(s->arena);
  free(s);
}

/* ------------------------------------------------------------------ */
/* The reloader under load                                            */
/* ------------------------------------------------------------------ */

typedef struct run {
  uv_loop_t loop;
  uv_timer_t rate, flip;
  rb_lua_reloader rl;
  rb_engine *e;
  stream *s;
  int next;       /* next event to apply */
  int flips;
  char tariff_path[600];
  char *text[2];  /* the two good tariff.lua contents */
  char *broken;
  bool broken_written, broken_reported;
  const char *version_at_break;
  int ok_reloads, failed_reloads, requests;
  bool closed;
} run;

static void on_reload(rb_lua_reloader *rl, int status, rb_rules *rules,
                      const char *error) {
  run *r = rl->data;
  if (status != RB_OK) {
    assert_null(rules);
    assert_non_null(error);
    r->failed_reloads++;
    /* The broken edit: reported with file and line, old rules live. */
    if (strstr(error, "tariff.lua:") != NULL &&
        strstr(error, "unexpected symbol") != NULL)
      r->broken_reported = true;
    else
      fail_msg("unexpected reload failure: %s", error);
    if (r->version_at_break != NULL)
      assert_string_equal(version_of(rb_engine_rules(r->e)),
                          r->version_at_break);
    return;
  }
  char err[256] = "";
  int rc = rb_engine_set_rules(r->e, rules, err, sizeof err);
  if (rc != RB_OK)
    fail_msg("set_rules: %s", err);
  rb_rules_unref(rules);
  r->ok_reloads++;
}

static void on_closed(rb_lua_reloader *rl) { ((run *)rl->data)->closed = true; }

static void on_rate(uv_timer_t *h) {
  run *r = h->data;
  rb_reject rej;
  for (int k = 0; k < PER_TICK && r->next < r->s->n; k++, r->next++)
    assert_int_equal(rb_engine_apply(r->e, &r->s->ev[r->next], &rej), RB_OK);
  if (r->next < r->s->n)
    return;
  finish(r->e);
  uv_timer_stop(&r->rate);
  uv_timer_stop(&r->flip);
  uv_close((uv_handle_t *)&r->rate, NULL);
  uv_close((uv_handle_t *)&r->flip, NULL);
  rb_lua_reloader_close(&r->rl, on_closed);
}

/* Every flip rewrites tariff.lua by rename; the watch sees it, and every
 * other flip also asks explicitly or raises SIGHUP. The fourth writes a
 * broken file and asks for it, and the fifth repairs it. */
static void on_flip(uv_timer_t *h) {
  run *r = h->data;
  int k = r->flips++;
  if (k == 3) {
    r->version_at_break = version_of(rb_engine_rules(r->e));
    replace_file(r->tariff_path, r->broken);
    r->broken_written = true;
    assert_int_equal(rb_lua_reloader_request(&r->rl), RB_OK);
    return;
  }
  replace_file(r->tariff_path, r->text[(k + 1) % 2]);
  if (k % 3 == 1) {
    assert_int_equal(rb_lua_reloader_request(&r->rl), RB_OK);
    r->requests++;
  } else if (k % 3 == 2) {
    assert_int_equal(kill(getpid(), SIGHUP), 0);
  }
}

static void test_reload_under_load(void **state) {
  (void)state;
  run *r = calloc(1, sizeof *r);
  assert_non_null(r);
  r->text[0] = tariff_text(NULL, NULL);
  r->text[1] = tariff_text("price = \"28.00\"", "price = \"30.00\"");
  r->broken = tariff_text("currency       = \"CNY\"",
                          "currency       = = \"CNY\"");
  rb_rules *a = load(make_dir(NULL, NULL));
  rb_rules *b = load(make_dir("tariff.lua", r->text[1]));
  const char *watched = make_dir(NULL, NULL);
  snprintf(r->tariff_path, sizeof r->tariff_path, "%s/tariff.lua", watched);

  /* The reference: the same events in one run under version A. */
  stream *s = malloc(sizeof *s);
  assert_non_null(s);
  make_stream(s);
  tally once;
  tally_init(&once, a, b);
  rb_sink sink1 = {.ctx = &once, .bill = on_bill, .notice = on_notice};
  rb_engine *e1 = NULL;
  rb_reject rej;
  assert_int_equal(rb_engine_new(a, &sink1, &e1), RB_OK);
  for (int i = 0; i < s->n; i++)
    assert_int_equal(rb_engine_apply(e1, &s->ev[i], &rej), RB_OK);
  finish(e1);
  rb_engine_free(e1);
  assert_int_equal(once.by_version[1], 0);

  tally live;
  tally_init(&live, a, b);
  rb_sink sink = {.ctx = &live, .bill = on_bill, .notice = on_notice};
  assert_int_equal(rb_engine_new(a, &sink, &r->e), RB_OK);
  r->s = s;
  assert_int_equal(uv_loop_init(&r->loop), 0);
  assert_int_equal(rb_lua_reloader_init(&r->loop, &r->rl, watched,
                                        RB_LUA_RELOAD_SIGHUP |
                                            RB_LUA_RELOAD_WATCH,
                                        on_reload),
                   RB_OK);
  r->rl.data = r;
  r->rl.debounce_ms = 20;
  uv_timer_init(&r->loop, &r->rate);
  uv_timer_init(&r->loop, &r->flip);
  r->rate.data = r->flip.data = r;
  uv_timer_start(&r->rate, on_rate, 1, 1);
  uv_timer_start(&r->flip, on_flip, 60, 60);
  assert_int_equal(uv_run(&r->loop, UV_RUN_DEFAULT), 0);
  assert_true(r->closed);
  assert_int_equal(uv_loop_close(&r->loop), 0);

  printf("reload under load: %d events, %d flips, %d reloads swapped in, "
         "%d refused, %d rules_reloaded notices, bills %d (A) + %d (B)\n",
         s->n, r->flips, r->ok_reloads, r->failed_reloads,
         live.reloaded_notices, live.by_version[0], live.by_version[1]);
  /* Nothing lost, nothing counted twice. */
  assert_int_equal(live.nbills, once.nbills);
  for (int t = 0; t < RB_MAX_TIERS; t++) {
    assert_int_equal(live.billable[t], once.billable[t]);
    assert_int_equal(live.postpaid[t], once.postpaid[t]);
  }
  /* Both versions served, the swaps were noticed, the break reported. */
  assert_true(r->flips >= 6);
  assert_true(live.by_version[0] > 0);
  assert_true(live.by_version[1] > 0);
  assert_true(live.reloaded_notices >= 2);
  assert_true(r->broken_written);
  assert_true(r->broken_reported);

  rb_engine_free(r->e);
  rb_rules_unref(a);
  rb_rules_unref(b);
  rb_arena_free(s->arena);
  free(s);
  free(r->text[0]);
  free(r->text[1]);
  free(r->broken);
  free(r);
}

static void test_reloader_refuses_a_missing_dir(void **state) {
  (void)state;
  uv_loop_t loop;
  rb_lua_reloader rl;
  assert_int_equal(uv_loop_init(&loop), 0);
  assert_int_equal(rb_lua_reloader_init(&loop, &rl, "/nonexistent/rules",
                                        RB_LUA_RELOAD_WATCH, on_reload),
                   RB_ENOENT);
  assert_int_equal(rb_lua_reloader_init(&loop, &rl, "/tmp", 0, NULL),
                   RB_EINVAL);
  assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
  assert_int_equal(uv_loop_close(&loop), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_teardown(test_set_rules_swaps_and_notices,
                                remove_dirs),
      cmocka_unit_test_teardown(test_set_rules_refuses_incompatible_sets,
                                remove_dirs),
      cmocka_unit_test_teardown(test_set_rules_refuses_a_kind_in_use,
                                remove_dirs),
      cmocka_unit_test_teardown(test_reload_under_load, remove_dirs),
      cmocka_unit_test_teardown(test_reloader_refuses_a_missing_dir,
                                remove_dirs),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
