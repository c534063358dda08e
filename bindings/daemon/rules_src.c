/* rules_src.c: the five rule files as data, so that the store can keep
 * every version the daemon ever rated with and replay it later.
 *
 * The version id is computed the way the rules host computes it (FNV-1a
 * 64 over each file's name, a NUL, its content and a NUL), so a snapshot
 * read from the folder can be matched with the set the reloader loaded:
 * a mismatch means the folder changed in between. Loading from stored
 * sources writes them to a private temporary folder and loads that.
 * Depends on: daemon_int.h, rtcbill_rules.h, POSIX mkdtemp.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon_int.h"

const char *const rb__rule_files[RB__RULE_FILES] = {
    "tariff.lua", "settlement.lua", "packages.lua", "exhaustion.lua",
    "arrears.lua"};

/* Rule files are small; this bounds what a mistaken folder can cost. */
#define RULE_FILE_MAX (4u << 20)

static void version_id(const rb__rules_src *s, char *out, size_t cap) {
  uint64_t x = UINT64_C(0xcbf29ce484222325);
  for (int f = 0; f < RB__RULE_FILES; f++) {
    const unsigned char *parts[2] = {(const unsigned char *)rb__rule_files[f],
                                     (const unsigned char *)s->src[f]};
    size_t lens[2] = {strlen(rb__rule_files[f]), s->len[f]};
    for (int p = 0; p < 2; p++)
      for (size_t i = 0; i <= lens[p]; i++) {
        x ^= i < lens[p] ? parts[p][i] : 0;
        x *= UINT64_C(0x100000001b3);
      }
  }
  snprintf(out, cap, "%016" PRIx64, x);
}

void rb__rules_src_free(rb__rules_src *s) {
  for (int f = 0; f < RB__RULE_FILES; f++) {
    free(s->src[f]);
    s->src[f] = NULL;
  }
}

int rb__rules_src_read(const char *dir, rb__rules_src *out, char *err,
                       size_t cap) {
  memset(out, 0, sizeof *out);
  for (int f = 0; f < RB__RULE_FILES; f++) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, rb__rule_files[f]);
    FILE *fp = fopen(path, "rb");
    if (fp == NULL) {
      snprintf(err, cap, "%s: %s", path, strerror(errno));
      rb__rules_src_free(out);
      return -1;
    }
    size_t n = 0, capb = 4096;
    char *b = malloc(capb);
    while (b != NULL) {
      if (n + 1 >= capb) {
        char *nb = capb < RULE_FILE_MAX ? realloc(b, capb * 2) : NULL;
        if (nb == NULL) {
          free(b);
          b = NULL;
          break;
        }
        b = nb;
        capb *= 2;
      }
      size_t got = fread(b + n, 1, capb - 1 - n, fp);
      n += got;
      if (got == 0)
        break;
    }
    bool bad = b == NULL || ferror(fp);
    fclose(fp);
    if (bad) {
      free(b);
      snprintf(err, cap, "%s: cannot read (or larger than %u bytes)", path,
               RULE_FILE_MAX);
      rb__rules_src_free(out);
      return -1;
    }
    b[n] = '\0';
    out->src[f] = b;
    out->len[f] = n;
  }
  version_id(out, out->version, sizeof out->version);
  return 0;
}

static int write_file(const char *path, const char *s, size_t n) {
  FILE *fp = fopen(path, "wb");
  if (fp == NULL)
    return -1;
  size_t w = fwrite(s, 1, n, fp);
  int rc = fclose(fp);
  return w == n && rc == 0 ? 0 : -1;
}

int rb__rules_src_load(const rb__rules_src *s, rb_rules **out, char *err,
                       size_t cap) {
  const char *tmp = getenv("TMPDIR");
  char dir[4096];
  snprintf(dir, sizeof dir, "%s/rtcbill-rules-XXXXXX",
           tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
  if (mkdtemp(dir) == NULL) {
    snprintf(err, cap, "%s: %s", dir, strerror(errno));
    return -1;
  }
  int rc = 0;
  char path[4200];
  for (int f = 0; f < RB__RULE_FILES && rc == 0; f++) {
    snprintf(path, sizeof path, "%s/%s", dir, rb__rule_files[f]);
    if (write_file(path, s->src[f], s->len[f]) != 0) {
      snprintf(err, cap, "%s: %s", path, strerror(errno));
      rc = -1;
    }
  }
  if (rc == 0 && rb_lua_rules_load(dir, out, err, cap) != RB_OK)
    rc = -1;
  for (int f = 0; f < RB__RULE_FILES; f++) {
    snprintf(path, sizeof path, "%s/%s", dir, rb__rule_files[f]);
    unlink(path);
  }
  rmdir(dir);
  if (rc == 0 &&
      strcmp(rb_rules_data_get(*out)->version, s->version) != 0) {
    snprintf(err, cap, "stored rules %s load as version %s", s->version,
             rb_rules_data_get(*out)->version);
    rb_rules_unref(*out);
    *out = NULL;
    rc = -1;
  }
  return rc;
}
