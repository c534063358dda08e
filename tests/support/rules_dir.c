/* rules_dir.c: temporary rule directories for tests (rules_dir.h).
 *
 * Depends on: POSIX (mkdtemp, unlink, rmdir), cmocka.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include "rules_dir.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#ifndef RTCBILL_SOURCE_RULES_DIR
#error "define RTCBILL_SOURCE_RULES_DIR as the path of the rules/ directory"
#endif

const char *const rules_files[5] = {"tariff.lua", "settlement.lua",
                                    "packages.lua", "exhaustion.lua",
                                    "arrears.lua"};

char *rules_read(const char *path, size_t *len) {
  FILE *fp = fopen(path, "rb");
  if (fp == NULL)
    fail_msg("cannot open %s", path);
  assert_int_equal(fseek(fp, 0, SEEK_END), 0);
  long n = ftell(fp);
  assert_true(n >= 0);
  rewind(fp);
  char *buf = malloc((size_t)n + 1);
  assert_non_null(buf);
  assert_int_equal(fread(buf, 1, (size_t)n, fp), (size_t)n);
  buf[n] = '\0';
  fclose(fp);
  if (len != NULL)
    *len = (size_t)n;
  return buf;
}

char *rules_default_text(const char *file) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s", RTCBILL_SOURCE_RULES_DIR, file);
  return rules_read(path, NULL);
}

char *rules_edit(const char *text, const char *from, const char *to) {
  size_t len = strlen(text), tlen = strlen(to);
  const char *at = from != NULL ? strstr(text, from) : text + len;
  if (at == NULL)
    fail_msg("\"%s\" is not in the rule file", from);
  size_t head = (size_t)(at - text), skip = from != NULL ? strlen(from) : 0;
  char *out = malloc(len - skip + tlen + 1);
  assert_non_null(out);
  memcpy(out, text, head);
  memcpy(out + head, to, tlen);
  memcpy(out + head + tlen, at + skip, len - head - skip + 1);
  return out;
}

int rules_line_of(const char *text, const char *needle) {
  const char *at = strstr(text, needle);
  if (at == NULL)
    fail_msg("\"%s\" is not in the rule file", needle);
  int line = 1;
  for (const char *p = text; p < at; p++)
    line += *p == '\n';
  return line;
}

int rules_line_after(const char *text) {
  int line = 1;
  for (const char *p = text; *p != '\0'; p++)
    line += *p == '\n';
  return line;
}

static void write_text(const char *path, const char *text) {
  FILE *fp = fopen(path, "wb");
  assert_non_null(fp);
  size_t n = strlen(text);
  assert_int_equal(fwrite(text, 1, n, fp), n);
  assert_int_equal(fclose(fp), 0);
}

void rules_make_dir(char *dir, size_t cap, const char *prefix,
                    const char *file, const char *text) {
  snprintf(dir, cap, "/tmp/%s-XXXXXX", prefix);
  assert_non_null(mkdtemp(dir));
  for (int f = 0; f < 5; f++) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, rules_files[f]);
    if (file != NULL && strcmp(file, rules_files[f]) == 0) {
      write_text(path, text);
    } else {
      char *src = rules_default_text(rules_files[f]);
      write_text(path, src);
      free(src);
    }
  }
}

void rules_remove_dir(const char *dir) {
  if (dir == NULL || dir[0] == '\0')
    return;
  for (int f = 0; f < 5; f++) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, rules_files[f]);
    unlink(path);
    snprintf(path, sizeof path, "%s/%s.tmp", dir, rules_files[f]);
    unlink(path);
  }
  rmdir(dir);
}
