/* baseline_cjson.c: the parsing baseline of the benchmarks. Parses every
 * line of a JSON Lines file with cJSON (Debian's libcjson-dev) and does
 * nothing else: no validation of fields, no events, no rating. It reads
 * the file in large blocks and hands cJSON each line in place, so that
 * its figure is the cost of parsing alone.
 *
 * usage: baseline_cjson FILE.jsonl   prints "lines N parsed N seconds S
 * records_per_second R". Depends on: cJSON, POSIX clock_gettime.
 */
#define _POSIX_C_SOURCE 200809L
#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BLOCK ((size_t)8 << 20)

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: baseline_cjson FILE.jsonl\n");
    return 2;
  }
  uint64_t t0 = now_ns();
  FILE *f = fopen(argv[1], "rb");
  if (f == NULL) {
    perror(argv[1]);
    return 1;
  }
  /* A block plus room for the tail of a line cut by the block's end. */
  size_t cap = 2 * BLOCK;
  char *buf = malloc(cap);
  if (buf == NULL)
    return 1;
  size_t have = 0;
  uint64_t lines = 0, parsed = 0;
  for (;;) {
    size_t got = fread(buf + have, 1, cap - have, f);
    have += got;
    if (have == 0)
      break;
    char *p = buf, *end = buf + have;
    for (;;) {
      char *nl = memchr(p, '\n', (size_t)(end - p));
      if (nl == NULL) {
        if (got == 0 && p < end)
          nl = end; /* the last line has no newline */
        else
          break;
      }
      lines++;
      cJSON *j = cJSON_ParseWithLength(p, (size_t)(nl - p));
      if (j != NULL) {
        parsed++;
        cJSON_Delete(j);
      }
      p = nl < end ? nl + 1 : end;
      if (p >= end)
        break;
    }
    have = (size_t)(end - p);
    memmove(buf, p, have);
    if (got == 0)
      break;
    if (have == cap) {
      fprintf(stderr, "baseline_cjson: a line longer than %zu bytes\n", cap);
      return 1;
    }
  }
  fclose(f);
  free(buf);
  uint64_t ns = now_ns() - t0;
  printf("lines %" PRIu64 " parsed %" PRIu64 " seconds %" PRIu64 ".%03" PRIu64
         " records_per_second %" PRIu64 "\n",
         lines, parsed, ns / 1000000000u, ns % 1000000000u / 1000000u,
         ns ? lines * 1000000000u / ns : 0);
  return parsed == lines ? 0 : 1;
}
