/* fuzz_rules.c: fuzz target for rule loading (bindings/lua).
 *
 * A private copy of the default rules/ is made once. Each input replaces
 * one of the five rule files, chosen by its first byte (modulo 5: tariff,
 * settlement, packages, exhaustion, arrears), with the remaining bytes,
 * and the set is loaded with rb_lua_rules_load. It must load or fail
 * cleanly (RB_EINVAL or RB_EIO with a one-line message), never crash or
 * hang: the sandbox's instruction and memory limits end runaway rules.
 * A set that loads is also asked its two policy questions, which run
 * rule code again. The replaced file is then restored.
 * Depends on: fuzz.h, rtcbill.h, rtcbill_rules.h (the rules host), POSIX
 * (mkdtemp, unlink, rmdir).
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"
#include "rtcbill.h"
#include "rtcbill_rules.h"

#ifndef RTCBILL_SOURCE_RULES_DIR
#define RTCBILL_SOURCE_RULES_DIR "rules"
#endif

static const char *const files[5] = {"tariff.lua", "settlement.lua",
                                     "packages.lua", "exhaustion.lua",
                                     "arrears.lua"};

static char dir[64];
static char *orig[5];
static size_t orig_len[5];

static char *path_of(int i, char *buf, size_t cap) {
  snprintf(buf, cap, "%s/%s", dir, files[i]);
  return buf;
}

static bool write_file(const char *path, const void *data, size_t len) {
  FILE *f = fopen(path, "wb");
  if (f == NULL)
    return false;
  bool ok = fwrite(data, 1, len, f) == len;
  return fclose(f) == 0 && ok;
}

static char *read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  char *buf = NULL;
  size_t cap = 0, n = 0, got;
  if (f == NULL)
    return NULL;
  do {
    if (n == cap) {
      char *nb = realloc(buf, cap = cap ? cap * 2 : 4096);
      FUZZ_CHECK(nb != NULL);
      buf = nb;
    }
    got = fread(buf + n, 1, cap - n, f);
    n += got;
  } while (got > 0);
  fclose(f);
  *len = n;
  return buf;
}

static void cleanup(void) {
  char p[128];
  for (int i = 0; i < 5; i++) {
    unlink(path_of(i, p, sizeof p));
    free(orig[i]);
    orig[i] = NULL;
  }
  rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  char src[512], p[128];
  (void)argc;
  (void)argv;
  snprintf(dir, sizeof dir, "/tmp/rtcbill-fuzz-rules-XXXXXX");
  FUZZ_CHECK(mkdtemp(dir) != NULL);
  for (int i = 0; i < 5; i++) {
    snprintf(src, sizeof src, "%s/%s", RTCBILL_SOURCE_RULES_DIR, files[i]);
    orig[i] = read_file(src, &orig_len[i]);
    if (orig[i] == NULL)
      fprintf(stderr, "fuzz_rules: cannot read %s\n", src);
    FUZZ_CHECK(orig[i] != NULL);
    FUZZ_CHECK(write_file(path_of(i, p, sizeof p), orig[i], orig_len[i]));
  }
  atexit(cleanup);
  return 0;
}

/* Runs the rule functions that remain after loading. */
static void ask_policy(rb_rules *r) {
  const rb_policy *p = rb_rules_policy(r);
  const rb_rules_data *d = rb_rules_data_get(r);
  FUZZ_CHECK(p != NULL && d != NULL);
  FUZZ_CHECK(d->tariff.ntiers >= 1 && d->tariff.ntiers <= RB_MAX_TIERS);
  rb_cycle_query cq = {"A1", INT64_C(1598889600), d->tariff.tz_offset};
  rb_cycle cycle;
  int rc = p->cycle(p->ctx, &cq, &cycle);
  FUZZ_CHECK(rc == RB_OK || rc == RB_EPOLICY || rc == RB_ENOMEM);
  if (rc == RB_OK)
    FUZZ_CHECK(cycle == RB_CYCLE_DAILY || cycle == RB_CYCLE_MONTHLY);
  else if (p->last_error != NULL)
    FUZZ_CHECK(p->last_error(p->ctx) != NULL);
  for (int trig = 0; trig < 3; trig++) {
    rb_exhaustion_query q = {
        .account = "A1",
        .app = 1400000001,
        .at = INT64_C(1604232000),
        .trigger = (rb_trigger)trig,
        .package_kind = trig == 0 ? NULL : d->kinds[0].name,
        .tier = trig == 0 ? d->tariff.tiers[d->tariff.ntiers - 1].name : NULL,
        .bought_package = trig == 1,
        .trial = (rb_trial_state)trig};
    rb_exhaustion_decision out;
    rc = p->exhaustion(p->ctx, &q, &out);
    FUZZ_CHECK(rc == RB_OK || rc == RB_EPOLICY || rc == RB_ENOMEM);
    if (rc == RB_OK && out.action == RB_DECIDE_STOP)
      FUZZ_CHECK(out.reason >= 0 && out.reason < RB_STOP_ARREARS);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char p[128], err[512];
  rb_rules *rules = NULL;
  if (size == 0)
    return 0;
  int i = data[0] % 5;
  FUZZ_CHECK(write_file(path_of(i, p, sizeof p), data + 1, size - 1));
  memset(err, 0, sizeof err);
  int rc = rb_lua_rules_load(dir, &rules, err, sizeof err);
  FUZZ_CHECK(rc == RB_OK || rc == RB_EINVAL || rc == RB_EIO || rc == RB_ENOMEM);
  if (rc == RB_OK) {
    FUZZ_CHECK(rules != NULL);
    ask_policy(rules);
    rb_rules_unref(rules);
  } else {
    /* One line saying why. */
    FUZZ_CHECK(rules == NULL);
    FUZZ_CHECK(err[0] != '\0' && memchr(err, '\0', sizeof err) != NULL);
    FUZZ_CHECK(strchr(err, '\n') == NULL);
  }
  FUZZ_CHECK(write_file(p, orig[i], orig_len[i]));
  return 0;
}
