/* events.c: the input step shared by simulate, compare and explain.
 *
 * Every input line is parsed once into one arena and kept: events must
 * be applied in effective-time order, and input files need not be
 * sorted. compare feeds the same parsed events to two engines, so the
 * parse is never repeated. Also here: the option matcher, the progress
 * line for terminals and the end-of-run clock loop, which the commands
 * share. With --jobs, files are read by several threads in byte ranges.
 * Depends on: cli.h, rtcbill.h (reader, engine), POSIX clock_gettime,
 * stat and threads.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
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

bool cli_event_pack(rb_arena *a, const rb_event *ev, uint32_t file,
                    uint64_t line, cli_event *ce) {
  memset(ce, 0, sizeof *ce);
  ce->at = ev->at;
  ce->type = (uint8_t)ev->type;
  ce->file = file;
  ce->line = line;
  ce->app = ev->app;
  if (ev->type != RB_EV_USAGE) {
    rb_event *copy = rb_arena_alloc(a, sizeof *copy);
    if (copy == NULL)
      return false;
    *copy = *ev;
    ce->block = copy;
    return true;
  }
  ce->start = ev->start;
  ce->received = ev->received;
  ce->seconds = (uint32_t)ev->seconds;
  ce->nvideo = (uint16_t)ev->nvideo;
  size_t id = strlen(ev->id), user = strlen(ev->user), room = strlen(ev->room);
  ce->id_len = (uint16_t)id;
  ce->user_len = (uint16_t)user;
  /* The reader's fast path lays an event out this way already; the
   * precise path does not, and its events are copied into place. */
  size_t segs = ev->nvideo * sizeof(rb_segment);
  const char *base = ev->nvideo > 0 ? (const char *)ev->video : ev->id;
  if (ev->id == base + segs && ev->user == ev->id + id + 1 &&
      ev->room == ev->user + user + 1) {
    ce->block = base;
    return true;
  }
  char *block = rb_arena_alloc(a, segs + id + user + room + 3);
  if (block == NULL)
    return false;
  if (segs > 0)
    memcpy(block, ev->video, segs);
  memcpy(block + segs, ev->id, id + 1);
  memcpy(block + segs + id + 1, ev->user, user + 1);
  memcpy(block + segs + id + user + 2, ev->room, room + 1);
  ce->block = block;
  return true;
}

/* Reads and parses one file, or the lines of a byte range of it
 * (ranged), into es. *lines receives the physical lines it covered.
 * Returns 0, or prints why and returns 1. */
static int read_part(cli_events *es, uint32_t index, bool ranged,
                     uint64_t begin, uint64_t end, cli_progress *pg,
                     uint64_t *bytes, uint64_t *lines) {
  const char *name = es->files[index];
  cli_reader rd;
  int err = ranged ? cli_reader_open_range(&rd, name, begin, end)
                   : cli_reader_open(&rd, name);
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
    rb_event ev;
    int prc = rb_event_parse(es->arena, ln.data, ln.len, &ev, &rej);
    if (prc == RB_OK) {
      if (!cli_event_pack(es->arena, &ev, index, ln.number, &es->v[es->n]))
        goto nomem;
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
  *lines = rd.lineno;
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
  for (size_t i = 0; i < nfiles && rc == 0; i++) {
    uint64_t lines;
    rc = read_part(es, (uint32_t)i, false, 0, 0, &pg, &bytes, &lines);
  }
  cli_progress_end(&pg, bytes, es->read);
  return rc;
}

/* Reading with several threads: each regular file of some size is cut
 * into byte ranges that threads parse into parts of their own (arena,
 * events, rejects); the parts are then put end to end in input order,
 * their line numbers counted on from the ranges before them. */
#define PART_MIN ((uint64_t)1 << 22) /* smaller files are read whole */

typedef struct read_task {
  cli_events part;
  uint32_t file;
  bool ranged;
  uint64_t begin, end;
  uint64_t lines; /* physical lines of the range */
  int rc;
} read_task;

typedef struct read_pool {
  read_task *tasks;
  size_t ntasks, jobs;
} read_pool;

typedef struct read_worker {
  read_pool *pool;
  size_t first;
} read_worker;

static void *read_worker_run(void *arg) {
  read_worker *w = arg;
  for (size_t i = w->first; i < w->pool->ntasks; i += w->pool->jobs) {
    read_task *t = &w->pool->tasks[i];
    cli_progress pg;
    uint64_t bytes = 0;
    cli_progress_start(&pg, false, "reading", 0);
    t->rc = read_part(&t->part, t->file, t->ranged, t->begin, t->end, &pg,
                      &bytes, &t->lines);
  }
  return NULL;
}

/* Appends part's events and rejects to es, line numbers moved by base;
 * its arena joins es's list. false when memory runs out. */
static bool adopt(cli_events *es, cli_events *part, uint64_t base) {
  if (es->v == NULL && base == 0) {
    /* The first part's array becomes the whole's: the next ones are
     * appended to it (realloc moves large blocks without copying). */
    es->v = part->v;
    es->cap = part->cap;
    part->v = NULL;
    part->cap = 0;
  } else if (es->n + part->n > es->cap) {
    size_t cap = es->n + part->n;
    cli_event *v = realloc(es->v, cap * sizeof *v);
    if (v == NULL)
      return false;
    es->v = v;
    es->cap = cap;
  }
  rb_arena **arenas = realloc(es->arenas, (es->narenas + 1) * sizeof *arenas);
  if (arenas == NULL)
    return false;
  es->arenas = arenas;
  if (part->v != NULL) {
    memcpy(es->v + es->n, part->v, part->n * sizeof *part->v);
    for (size_t i = 0; i < part->n; i++)
      es->v[es->n + i].line += base;
  }
  es->n += part->n;
  for (size_t i = 0; i < part->rejects.n; i++) {
    cli_reject_rec *r = &part->rejects.v[i];
    if (!cli_rejects_add(&es->rejects, r->file, r->line + base, &r->rej))
      return false;
  }
  es->read += part->read;
  es->arenas[es->narenas++] = part->arena;
  part->arena = NULL;
  return true;
}

int cli_events_read_jobs(cli_events *es, const char *const *files,
                         size_t nfiles, bool progress, size_t jobs) {
  if (jobs <= 1)
    return cli_events_read(es, files, nfiles, progress);
  memset(es, 0, sizeof *es);
  es->files = files;
  es->nfiles = nfiles;
  es->arena = rb_arena_new();
  read_pool pool = {calloc(nfiles * jobs, sizeof(read_task)), 0, jobs};
  if (es->arena == NULL || pool.tasks == NULL) {
    free(pool.tasks);
    fprintf(stderr, CLI_NAME ": %s\n", strerror(ENOMEM));
    return 1;
  }
  for (size_t i = 0; i < nfiles; i++) {
    struct stat st;
    uint64_t size = 0;
    if (strcmp(files[i], "-") != 0 && stat(files[i], &st) == 0 &&
        S_ISREG(st.st_mode))
      size = (uint64_t)st.st_size;
    size_t parts = size >= PART_MIN ? jobs : 1;
    for (size_t k = 0; k < parts; k++) {
      read_task *t = &pool.tasks[pool.ntasks++];
      t->file = (uint32_t)i;
      t->ranged = parts > 1;
      t->begin = size / parts * k;
      t->end = k + 1 == parts ? UINT64_MAX : size / parts * (k + 1);
      t->part.files = files;
      t->part.nfiles = nfiles;
    }
  }
  int rc = 0;
  for (size_t i = 0; i < pool.ntasks; i++)
    if ((pool.tasks[i].part.arena = rb_arena_new()) == NULL)
      rc = 1;
  pthread_t th[CLI_JOBS_MAX];
  read_worker w[CLI_JOBS_MAX];
  size_t started = 0;
  for (size_t j = 1; j < jobs && rc == 0; j++) {
    w[j] = (read_worker){&pool, j};
    if (pthread_create(&th[j], NULL, read_worker_run, &w[j]) != 0)
      break;
    started = j;
  }
  /* Tasks of threads that could not start are run here, in turn. */
  w[0] = (read_worker){&pool, 0};
  if (rc == 0) {
    read_worker_run(&w[0]);
    for (size_t j = started + 1; j < jobs; j++) {
      w[j] = (read_worker){&pool, j};
      read_worker_run(&w[j]);
    }
  }
  for (size_t j = 1; j <= started; j++)
    pthread_join(th[j], NULL);
  if (rc != 0)
    fprintf(stderr, CLI_NAME ": %s\n", strerror(ENOMEM));
  uint64_t base = 0;
  for (size_t i = 0; i < pool.ntasks; i++) {
    read_task *t = &pool.tasks[i];
    if (i > 0 && t->file != pool.tasks[i - 1].file)
      base = 0;
    if (rc == 0 && t->rc != 0)
      rc = 1;
    if (rc == 0 && !adopt(es, &t->part, base)) {
      fprintf(stderr, CLI_NAME ": %s\n", strerror(ENOMEM));
      rc = 1;
    }
    base += t->lines;
    cli_events_free(&t->part);
  }
  free(pool.tasks);
  return rc;
}

/* Sorting by effective time, ties in input order. The array is in
 * input order (file, then line), so a stable sort on the time alone is
 * enough. Events mostly arrive in time order, and there are millions of
 * them: an already sorted array is detected in one pass, and otherwise
 * (time, position) keys are sorted with a least-significant-digit radix
 * sort, which is stable and linear, into an array of positions: the
 * events themselves do not move. */
typedef struct sort_key {
  uint64_t t; /* time - the earliest time */
  uint64_t i; /* position in input order */
} sort_key;

#define RADIX_BITS 11
#define RADIX (1u << RADIX_BITS)

/* Sorts keys[0..n) by t (stable), using tmp[0..n). Returns the array
 * that holds the result (keys or tmp). */
static sort_key *radix_sort(sort_key *keys, sort_key *tmp, size_t n,
                            uint64_t max) {
  size_t count[RADIX];
  for (unsigned shift = 0; shift < 64 && (max >> shift) != 0;
       shift += RADIX_BITS) {
    memset(count, 0, sizeof count);
    for (size_t i = 0; i < n; i++)
      count[(keys[i].t >> shift) & (RADIX - 1)]++;
    size_t sum = 0;
    for (size_t d = 0; d < RADIX; d++) {
      size_t c = count[d];
      count[d] = sum;
      sum += c;
    }
    for (size_t i = 0; i < n; i++)
      tmp[count[(keys[i].t >> shift) & (RADIX - 1)]++] = keys[i];
    sort_key *swap = keys;
    keys = tmp;
    tmp = swap;
  }
  return keys;
}

/* Effective time, then input order, for the fallback below. */
static int event_cmp(const void *pa, const void *pb) {
  const cli_event *a = pa, *b = pb;
  if (a->at != b->at)
    return a->at < b->at ? -1 : 1;
  if (a->file != b->file)
    return a->file < b->file ? -1 : 1;
  if (a->line != b->line)
    return a->line < b->line ? -1 : 1;
  return 0;
}

void cli_events_sort(cli_events *es) {
  size_t n = es->n;
  cli_event *v = es->v;
  if (n < 2)
    return;
  rb_time lo = v[0].at, hi = v[0].at;
  bool sorted = true;
  for (size_t i = 1; i < n; i++) {
    rb_time t = v[i].at;
    sorted = sorted && t >= v[i - 1].at;
    lo = t < lo ? t : lo;
    hi = t > hi ? t : hi;
  }
  if (sorted)
    return;
  sort_key *keys = malloc(2 * n * sizeof *keys);
  if (keys == NULL) {
    /* No memory for the keys: sort in place, more slowly. */
    qsort(v, n, sizeof *v, event_cmp);
    return;
  }
  for (size_t i = 0; i < n; i++) {
    keys[i].t = (uint64_t)v[i].at - (uint64_t)lo;
    keys[i].i = i;
  }
  sort_key *order =
      radix_sort(keys, keys + n, n, (uint64_t)hi - (uint64_t)lo);
  /* order[k].i is the event that goes to place k: kept as an index
   * array (the engines read v through it, mostly forwards), */
  if (n <= UINT32_MAX && (es->order = malloc(n * sizeof *es->order)) != NULL) {
    for (size_t k = 0; k < n; k++)
      es->order[k] = (uint32_t)order[k].i;
    free(keys);
    return;
  }
  /* or, without memory for it, applied in place: each cycle of the
   * permutation is walked once, places done marked by setting i to n. */
  for (size_t k = 0; k < n; k++) {
    if (order[k].i == n || order[k].i == k)
      continue;
    cli_event held = v[k];
    size_t at = k;
    for (;;) {
      size_t from = order[at].i;
      order[at].i = n;
      if (from == k) {
        v[at] = held;
        break;
      }
      v[at] = v[from];
      at = from;
    }
  }
  free(keys);
}

void cli_events_free(cli_events *es) {
  rb_arena_free(es->arena);
  for (size_t i = 0; i < es->narenas; i++)
    rb_arena_free(es->arenas[i]);
  free(es->arenas);
  free(es->v);
  free(es->order);
  cli_rejects_free(&es->rejects);
  memset(es, 0, sizeof *es);
}

/* ------------------------------------------------------------------ */
/* Feeding an engine                                                   */
/* ------------------------------------------------------------------ */

void cli_feed_start(cli_feed *f, rb_engine *e, size_t n,
                    const cli_event *(*at)(const void *, size_t),
                    const void *ctx) {
  f->e = e;
  f->n = n;
  f->at = at;
  f->ctx = ctx;
  f->unpacked = 0;
}

/* How far ahead of the event being applied each step looks: the packed
 * record is fetched, then its block, then it is unpacked into the ring
 * and the engine's stages follow (each reading only what the one before
 * fetched). The ring holds every event from the current one to the
 * furthest unpacked. */
#define FETCH_RECORD 32
#define FETCH_BLOCK 24
#define UNPACK 16

static void unpack_upto(cli_feed *f, size_t end) {
  for (; f->unpacked < end && f->unpacked < f->n; f->unpacked++)
    cli_event_unpack(f->at(f->ctx, f->unpacked),
                     &f->ring[f->unpacked % CLI_FEED_RING]);
}

const rb_event *cli_feed_event(cli_feed *f, size_t k) {
#if defined(__GNUC__)
  if (k + FETCH_RECORD < f->n)
    __builtin_prefetch(f->at(f->ctx, k + FETCH_RECORD));
  if (k + FETCH_BLOCK < f->n)
    __builtin_prefetch(f->at(f->ctx, k + FETCH_BLOCK)->block);
#endif
  unpack_upto(f, k + UNPACK + 1);
  static const struct {
    size_t ahead;
    int stage;
  } stages[] = {{UNPACK, 0}, {12, 1}, {8, 2}, {4, 3}, {2, 4}};
  for (size_t s = 0; s < sizeof stages / sizeof stages[0]; s++)
    if (k + stages[s].ahead < f->n)
      rb_engine_prefetch(f->e, &f->ring[(k + stages[s].ahead) % CLI_FEED_RING],
                         stages[s].stage);
  return &f->ring[k % CLI_FEED_RING];
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
