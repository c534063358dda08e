/* events.c: the input step shared by simulate, compare and explain.
 *
 * Every input line is parsed once into one arena and kept: events must
 * be applied in effective-time order, and input files need not be
 * sorted. compare feeds the same parsed events to two engines, so the
 * parse is never repeated. Also here: the option matcher, the progress
 * line for terminals and the end-of-run clock loop, which the commands
 * share. Depends on: cli.h, rtcbill.h (reader, engine), POSIX
 * clock_gettime and stat.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli.h"

/* The progress line is redrawn at most this often (ns), and the clock
 * is looked at only every PROGRESS_CHECK records. */
#define PROGRESS_PERIOD 250000000u
#define PROGRESS_CHECK 4096u

uint64_t cli_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int cli_option_value(int argc, char **argv, int *i, const char *name,
                     const char **value) {
  const char *a = argv[*i];
  size_t n = strlen(name);
  if (strncmp(a, name, n) != 0)
    return 0;
  if (a[n] == '=') {
    *value = a + n + 1;
    return 1;
  }
  if (a[n] != '\0')
    return 0;
  if (*i + 1 >= argc)
    return -1;
  *value = argv[++*i];
  return 1;
}

void cli_money(rb_money v, int places, char *buf, size_t cap) {
  if (rb_money_format_min(v, places, buf, cap) < 0)
    snprintf(buf, cap, "?");
}

/* Grows an array to hold one more element; false when memory is out. */
static bool grow(void **arr, size_t *cap, size_t n, size_t size) {
  if (n < *cap)
    return true;
  size_t ncap = *cap == 0 ? 1024 : *cap * 2;
  if (ncap > SIZE_MAX / size)
    return false;
  void *p = realloc(*arr, ncap * size);
  if (p == NULL)
    return false;
  *arr = p;
  *cap = ncap;
  return true;
}

bool cli_rejects_add(cli_rejects *r, uint32_t file, uint64_t line,
                     const rb_reject *rej) {
  if (!grow((void **)&r->v, &r->cap, r->n, sizeof *r->v))
    return false;
  cli_reject_rec *rec = &r->v[r->n++];
  rec->file = file;
  rec->line = line;
  rec->rej = *rej;
  return true;
}

void cli_rejects_free(cli_rejects *r) {
  free(r->v);
  memset(r, 0, sizeof *r);
}

/* ------------------------------------------------------------------ */
/* Progress                                                            */
/* ------------------------------------------------------------------ */

void cli_progress_start(cli_progress *p, bool on, const char *what,
                        uint64_t total) {
  memset(p, 0, sizeof *p);
  p->on = on;
  p->what = what;
  p->total = total;
  if (on)
    p->t0 = p->last = cli_now_ns();
}

static void progress_draw(cli_progress *p, uint64_t now, uint64_t done,
                          uint64_t records) {
  uint64_t ns = now - p->t0;
  __extension__ typedef unsigned __int128 u128;
  uint64_t rate = ns == 0 ? 0 : (uint64_t)((u128)records * 1000000000u / ns);
  fprintf(stderr, "\r" CLI_NAME ": %s", p->what);
  if (p->total > 0) {
    uint64_t pct = (uint64_t)((u128)(done < p->total ? done : p->total) * 100u
                              / p->total);
    fprintf(stderr, " %3" PRIu64 "%%", pct);
  }
  fprintf(stderr, ", %" PRIu64 " records, %" PRIu64 " records/s ", records,
          rate);
  p->shown = true;
}

void cli_progress_step(cli_progress *p, uint64_t done, uint64_t records) {
  if (!p->on || records % PROGRESS_CHECK != 0)
    return;
  uint64_t now = cli_now_ns();
  if (now - p->last < PROGRESS_PERIOD)
    return;
  p->last = now;
  progress_draw(p, now, done, records);
}

void cli_progress_end(cli_progress *p, uint64_t done, uint64_t records) {
  if (!p->on || !p->shown)
    return;
  progress_draw(p, cli_now_ns(), done, records);
  fputc('\n', stderr);
}

/* ------------------------------------------------------------------ */
/* Reading                                                             */
/* ------------------------------------------------------------------ */

/* Reads and parses one file. Returns 0, or prints why and returns 1. */
static int read_file(cli_events *es, uint32_t index, cli_progress *pg,
                     uint64_t *bytes) {
  const char *name = es->files[index];
  cli_reader rd;
  int err = cli_reader_open(&rd, name);
  if (err != 0) {
    fprintf(stderr, CLI_NAME ": %s: %s\n", name, strerror(err));
    return 1;
  }
  cli_line ln;
  int rc;
  while ((rc = cli_reader_next(&rd, &ln)) > 0) {
    rb_reject rej;
    es->read++;
    *bytes += ln.length + 1;
    cli_progress_step(pg, *bytes, es->read);
    if (ln.too_long) {
      memset(&rej, 0, sizeof rej);
      snprintf(rej.code, sizeof rej.code, "line_too_long");
      snprintf(rej.message, sizeof rej.message,
               "the line is %" PRIu64 " bytes long, the limit is %u bytes",
               ln.length, RB_LINE_MAX);
      if (!cli_rejects_add(&es->rejects, index, ln.number, &rej))
        goto nomem;
      continue;
    }
    if (!grow((void **)&es->v, &es->cap, es->n, sizeof *es->v))
      goto nomem;
    cli_event *ce = &es->v[es->n];
    int prc = rb_event_parse(es->arena, ln.data, ln.len, &ce->ev, &rej);
    if (prc == RB_OK) {
      ce->file = index;
      ce->line = ln.number;
      es->n++;
    } else if (prc == RB_EREJECT) {
      if (!cli_rejects_add(&es->rejects, index, ln.number, &rej))
        goto nomem;
    } else {
      fprintf(stderr, CLI_NAME ": %s:%" PRIu64 ": %s\n", name, ln.number,
              rb_strerror(prc));
      cli_reader_close(&rd);
      return 1;
    }
  }
  if (rc < 0) {
    fprintf(stderr, CLI_NAME ": %s: %s\n", name, strerror(errno));
    cli_reader_close(&rd);
    return 1;
  }
  cli_reader_close(&rd);
  return 0;
nomem:
  fprintf(stderr, CLI_NAME ": %s\n", strerror(ENOMEM));
  cli_reader_close(&rd);
  return 1;
}

int cli_events_read(cli_events *es, const char *const *files, size_t nfiles,
                    bool progress) {
  memset(es, 0, sizeof *es);
  es->files = files;
  es->nfiles = nfiles;
  es->arena = rb_arena_new();
  if (es->arena == NULL) {
    fprintf(stderr, CLI_NAME ": %s\n", strerror(ENOMEM));
    return 1;
  }
  /* The share of the input read is measured in bytes; standard input
   * and pipes have no size, and then only the rate is shown. */
  uint64_t total = 0;
  for (size_t i = 0; i < nfiles; i++) {
    struct stat st;
    if (strcmp(files[i], "-") != 0 && stat(files[i], &st) == 0 &&
        S_ISREG(st.st_mode))
      total += (uint64_t)st.st_size;
    else {
      total = 0;
      break;
    }
  }
  cli_progress pg;
  cli_progress_start(&pg, progress, "reading", total);
  uint64_t bytes = 0;
  int rc = 0;
  for (size_t i = 0; i < nfiles && rc == 0; i++)
    rc = read_file(es, (uint32_t)i, &pg, &bytes);
  cli_progress_end(&pg, bytes, es->read);
  return rc;
}

/* Effective time, then input order: the array is in input order, and
 * (file, line) is unique, so qsort's instability cannot show. */
static int event_cmp(const void *pa, const void *pb) {
  const cli_event *a = pa, *b = pb;
  if (a->ev.at != b->ev.at)
    return a->ev.at < b->ev.at ? -1 : 1;
  if (a->file != b->file)
    return a->file < b->file ? -1 : 1;
  if (a->line != b->line)
    return a->line < b->line ? -1 : 1;
  return 0;
}

void cli_events_sort(cli_events *es) {
  if (es->n > 1)
    qsort(es->v, es->n, sizeof *es->v, event_cmp);
}

void cli_events_free(cli_events *es) {
  rb_arena_free(es->arena);
  free(es->v);
  cli_rejects_free(&es->rejects);
  memset(es, 0, sizeof *es);
}

int cli_engine_finish(rb_engine *e, rb_time last) {
  rb_time target = last;
  for (;;) {
    rb_time h = rb_engine_settle_horizon(e);
    if (h != RB_TIME_NONE && (target == RB_TIME_NONE || h > target))
      target = h;
    rb_time now = rb_engine_now(e);
    if (target == RB_TIME_NONE || (now != RB_TIME_NONE && target <= now))
      return RB_OK;
    int rc = rb_engine_advance(e, target);
    if (rc != RB_OK)
      return rc;
  }
}
