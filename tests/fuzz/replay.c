/* replay.c: runs a fuzz target without libFuzzer, over files.
 *
 * usage: fuzz_X PATH...   (each PATH a file or a directory of files)
 *
 * Linked with one target in place of libFuzzer's main, so that the
 * checked-in corpus, crash regressions included, is fed through
 * LLVMFuzzerTestOneInput by the ordinary toolchain on every `make test`.
 * A broken invariant aborts (the test fails); an unreadable path is an
 * error. Prints the number of inputs run.
 * Depends on: fuzz.h, POSIX (opendir, stat).
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include <dirent.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

static int run_file(const char *path) {
  FILE *f = fopen(path, "rb");
  uint8_t *buf = NULL;
  size_t cap = 0, n = 0, got;
  if (f == NULL) {
    perror(path);
    return -1;
  }
  do {
    if (n == cap) {
      uint8_t *nb = realloc(buf, cap = cap ? cap * 2 : 65536);
      if (nb == NULL) {
        fclose(f);
        free(buf);
        fprintf(stderr, "%s: out of memory\n", path);
        return -1;
      }
      buf = nb;
    }
    got = fread(buf + n, 1, cap - n, f);
    n += got;
  } while (got > 0);
  fclose(f);
  /* An exact-size copy, so that ASan sees any read past the input. */
  uint8_t *exact = malloc(n ? n : 1);
  if (exact == NULL) {
    free(buf);
    return -1;
  }
  if (n > 0)
    memcpy(exact, buf, n);
  free(buf);
  LLVMFuzzerTestOneInput(exact, n);
  free(exact);
  return 1;
}

static int run_path(const char *path) {
  struct stat st;
  if (stat(path, &st) != 0) {
    perror(path);
    return -1;
  }
  if (!S_ISDIR(st.st_mode))
    return run_file(path);
  DIR *d = opendir(path);
  if (d == NULL) {
    perror(path);
    return -1;
  }
  int count = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.')
      continue;
    size_t len = strlen(path) + strlen(e->d_name) + 2;
    char *sub = malloc(len);
    if (sub == NULL) {
      closedir(d);
      return -1;
    }
    snprintf(sub, len, "%s/%s", path, e->d_name);
    int rc = run_path(sub);
    free(sub);
    if (rc < 0) {
      closedir(d);
      return -1;
    }
    count += rc;
  }
  closedir(d);
  return count;
}

int main(int argc, char **argv) {
  int total = 0;
  if (argc < 2) {
    fprintf(stderr, "usage: %s PATH...\n", argv[0]);
    return 2;
  }
  LLVMFuzzerInitialize(&argc, &argv);
  for (int i = 1; i < argc; i++) {
    int rc = run_path(argv[i]);
    if (rc < 0)
      return 1;
    total += rc;
  }
  printf("%s: %d inputs, no finding\n", argv[0], total);
  return total > 0 ? 0 : 1;
}
