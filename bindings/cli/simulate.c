/* simulate.c: `rtcbill simulate`, a replay of usage on a virtual clock.
 *
 * Reads every input line (rejecting bad ones with their file and line),
 * orders the events by effective time, feeds them to the engine, then
 * lets the clock run on until every period with usage is billed (or to
 * --until). Input order breaks ties, so a run is reproducible from its
 * files alone. Depends on: cli.h, rtcbill.h (reader, engine, rules),
 * rtcbill_rules.h (loading the Lua rules), POSIX clock_gettime/isatty.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "rtcbill_rules.h"

/* Progress goes to a terminal every this many lines. */
#define PROGRESS_EVERY 100000u
/* Rejects echoed to stderr before "... N more". */
#define ECHO_REJECTS 20u

typedef struct sim_opts {
  const char *rules;
  const char *out;
  bool has_until;
  rb_time until;
  const char **files;
  size_t nfiles;
} sim_opts;

/* A parsed event and where it came from (the stable tie-break). */
typedef struct sim_event {
  rb_event ev;
  uint32_t file;
  uint64_t line;
} sim_event;

typedef struct sim {
  sim_opts opt;
  rb_arena *arena;
  sim_event *events;
  size_t nevents, cap_events;
  cli_reject_rec *rejects;
  size_t nrejects, cap_rejects;
  cli_counts counts;
  bool progress;
} sim;

static void help(FILE *f) {
  fprintf(f,
          "usage: " CLI_NAME " simulate [--rules DIR] [--until TIME] "
          "--out DIR EVENTS.jsonl...\n"
          "\n"
          "Replays usage events in time order on a virtual clock, firing\n"
          "every timer (package activation and expiry, settlement, arrears\n"
          "grace, reclaim) at its time. Without --until the run goes on\n"
          "after the last event until every period with usage is billed.\n"
          "\n"
          "Options:\n"
          "  --rules DIR    the rule scripts (default: %s)\n"
          "  --until TIME   stop the clock at TIME (RFC 3339, e.g.\n"
          "                 2020-12-01T00:00:00+08:00); later events are\n"
          "                 counted as pending and not applied\n"
          "  --out DIR      where bills.jsonl, notices.jsonl, rejects.jsonl\n"
          "                 and summary.json are written (created if\n"
          "                 missing)\n"
          "  -h, --help     show this help\n"
          "\n"
          "Exit status: 0 success, 1 invalid input (any line rejected; all\n"
          "outputs are still written), 2 usage error.\n",
          cli_default_rules_dir());
}

static int usage_error(const char *fmt, const char *arg) {
  fprintf(stderr, CLI_NAME " simulate: ");
  fprintf(stderr, fmt, arg);
  fprintf(stderr, "\nTry '" CLI_NAME " simulate --help'.\n");
  return CLI_EXIT_USAGE;
}

/* Matches "--name VALUE" and "--name=VALUE". Returns 1 with *value set,
 * 0 when arg is another option, -1 when the value is missing. */
static int option_value(int argc, char **argv, int *i, const char *name,
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

/* Returns -1 to go on, or the exit status to return now. */
static int parse_args(int argc, char **argv, sim_opts *o) {
  static const char *const names[] = {"--rules", "--until", "--out"};
  const char *until = NULL;
  bool only_files = false;
  memset(o, 0, sizeof *o);
  o->files = calloc((size_t)argc + 1, sizeof *o->files);
  if (o->files == NULL) {
    fprintf(stderr, CLI_NAME ": %s\n", strerror(ENOMEM));
    return CLI_EXIT_INVALID;
  }
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (only_files || a[0] != '-' || strcmp(a, "-") == 0) {
      o->files[o->nfiles++] = a;
      continue;
    }
    if (strcmp(a, "--") == 0) {
      only_files = true;
      continue;
    }
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      help(stdout);
      return CLI_EXIT_OK;
    }
    const char **slots[] = {&o->rules, &until, &o->out};
    int hit = 0;
    for (size_t k = 0; k < 3 && hit == 0; k++) {
      hit = option_value(argc, argv, &i, names[k], slots[k]);
      if (hit < 0)
        return usage_error("option '%s' needs a value", names[k]);
    }
    if (hit == 0)
      return usage_error("unknown option '%s'", a);
  }
  if (o->out == NULL || o->out[0] == '\0')
    return usage_error("%s", "missing --out DIR");
  if (o->nfiles == 0)
    return usage_error("%s", "no input files");
  if (o->nfiles > UINT32_MAX)
    return usage_error("%s", "too many input files");
  if (until != NULL) {
    if (rb_time_parse(until, strlen(until), &o->until, NULL) != RB_OK)
      return usage_error("--until '%s' is not an RFC 3339 time "
                         "(e.g. 2020-12-01T00:00:00+08:00)",
                         until);
    o->has_until = true;
  }
  return -1;
}

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
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

static bool add_reject(sim *s, uint32_t file, uint64_t line,
                       const rb_reject *rej) {
  if (!grow((void **)&s->rejects, &s->cap_rejects, s->nrejects,
            sizeof *s->rejects))
    return false;
  cli_reject_rec *r = &s->rejects[s->nrejects++];
  r->file = file;
  r->line = line;
  r->rej = *rej;
  s->counts.rejected++;
  return true;
}

static void progress(sim *s, bool last) {
  if (!s->progress)
    return;
  if (last || s->counts.read % PROGRESS_EVERY == 0)
    fprintf(stderr, "\r" CLI_NAME ": %" PRIu64 " lines read%s", s->counts.read,
            last ? "\n" : "");
}

/* Reads and parses one file. Returns 0, or prints why and returns 1. */
static int read_file(sim *s, uint32_t index) {
  const char *name = s->opt.files[index];
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
    s->counts.read++;
    progress(s, false);
    if (ln.too_long) {
      memset(&rej, 0, sizeof rej);
      snprintf(rej.code, sizeof rej.code, "line_too_long");
      snprintf(rej.message, sizeof rej.message,
               "the line is %" PRIu64 " bytes long, the limit is %u bytes",
               ln.length, RB_LINE_MAX);
      if (!add_reject(s, index, ln.number, &rej))
        goto nomem;
      continue;
    }
    if (!grow((void **)&s->events, &s->cap_events, s->nevents,
              sizeof *s->events))
      goto nomem;
    sim_event *se = &s->events[s->nevents];
    int prc = rb_event_parse(s->arena, ln.data, ln.len, &se->ev, &rej);
    if (prc == RB_OK) {
      se->file = index;
      se->line = ln.number;
      s->nevents++;
    } else if (prc == RB_EREJECT) {
      if (!add_reject(s, index, ln.number, &rej))
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

/* Effective time, then input order: the array is in input order, and
 * (file, line) is unique, so qsort's instability cannot show. */
static int event_cmp(const void *pa, const void *pb) {
  const sim_event *a = pa, *b = pb;
  if (a->ev.at != b->ev.at)
    return a->ev.at < b->ev.at ? -1 : 1;
  if (a->file != b->file)
    return a->file < b->file ? -1 : 1;
  if (a->line != b->line)
    return a->line < b->line ? -1 : 1;
  return 0;
}

/* Reports an engine failure: the rule's own text for a rule error, the
 * file that could not be written for an I/O error. */
static void engine_failure(const rb_engine *e, const cli_out *o, int rc) {
  if (rc == RB_EPOLICY && rb_engine_last_error(e) != NULL)
    fprintf(stderr, CLI_NAME ": %s\n", rb_engine_last_error(e));
  else if (rc == RB_EIO && o->io_errno != 0)
    fprintf(stderr, CLI_NAME ": %s: %s\n", o->io_path, strerror(o->io_errno));
  else
    fprintf(stderr, CLI_NAME ": %s\n", rb_strerror(rc));
}

/* Applies the sorted events and runs the clock to the end of the run.
 * Returns 0 or an engine failure code. */
static int run_engine(sim *s, rb_engine *e) {
  rb_time last = RB_TIME_NONE;
  for (size_t i = 0; i < s->nevents; i++) {
    const sim_event *se = &s->events[i];
    if (s->opt.has_until && se->ev.at > s->opt.until) {
      s->counts.pending++;
      continue;
    }
    rb_reject rej;
    memset(&rej, 0, sizeof rej);
    int rc = rb_engine_apply(e, &se->ev, &rej);
    if (rc == RB_OK) {
      s->counts.accepted++;
      if (last == RB_TIME_NONE || se->ev.at > last)
        last = se->ev.at;
    } else if (rc == RB_DUPLICATE) {
      s->counts.duplicates++;
    } else if (rc == RB_EREJECT) {
      if (!add_reject(s, se->file, se->line, &rej))
        return RB_ENOMEM;
    } else {
      return rc < 0 ? rc : RB_EINVAL;
    }
  }
  if (s->opt.has_until) {
    rb_time now = rb_engine_now(e);
    if (now != RB_TIME_NONE && now > s->opt.until)
      return RB_OK;
    return rb_engine_advance(e, s->opt.until);
  }
  /* Settling a period can make another one due (a late line issued on
   * the next bill), so run until the horizon stops moving. */
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

static void echo_rejects(const sim *s) {
  size_t n = s->nrejects < ECHO_REJECTS ? s->nrejects : ECHO_REJECTS;
  for (size_t i = 0; i < n; i++) {
    const cli_reject_rec *r = &s->rejects[i];
    fprintf(stderr, "%s:%" PRIu64 ": %s: %s\n", s->opt.files[r->file], r->line,
            r->rej.code, r->rej.message);
  }
  if (s->nrejects > n)
    fprintf(stderr, "... %zu more rejected lines in %s/rejects.jsonl\n",
            s->nrejects - n, s->opt.out);
}

static void sim_free(sim *s) {
  rb_arena_free(s->arena);
  free(s->events);
  free(s->rejects);
  free(s->opt.files);
}

int cli_simulate(int argc, char **argv) {
  sim s;
  memset(&s, 0, sizeof s);
  int status = parse_args(argc, argv, &s.opt);
  if (status >= 0) {
    free(s.opt.files);
    return status;
  }
  s.progress = isatty(STDERR_FILENO) == 1;
  const char *rules_dir =
      s.opt.rules != NULL ? s.opt.rules : cli_default_rules_dir();

  rb_rules *rules = NULL;
  char err[512] = "";
  int rc = rb_lua_rules_load(rules_dir, &rules, err, sizeof err);
  if (rc != RB_OK) {
    if (err[0] != '\0')
      fprintf(stderr, "%s\n", err);
    else
      fprintf(stderr, CLI_NAME ": %s: %s\n", rules_dir, rb_strerror(rc));
    sim_free(&s);
    return CLI_EXIT_INVALID;
  }
  const rb_rules_data *data = rb_rules_data_get(rules);

  uint64_t t0 = now_ns();
  s.arena = rb_arena_new();
  if (s.arena == NULL) {
    fprintf(stderr, CLI_NAME ": %s\n", strerror(ENOMEM));
    rb_rules_unref(rules);
    sim_free(&s);
    return CLI_EXIT_INVALID;
  }
  for (size_t i = 0; i < s.opt.nfiles; i++) {
    if (read_file(&s, (uint32_t)i) != 0) {
      progress(&s, true);
      rb_rules_unref(rules);
      sim_free(&s);
      return CLI_EXIT_INVALID;
    }
  }
  progress(&s, true);
  if (s.nevents > 1)
    qsort(s.events, s.nevents, sizeof *s.events, event_cmp);

  cli_out out;
  if (cli_out_open(&out, s.opt.out, data, err, sizeof err) != 0) {
    fprintf(stderr, CLI_NAME ": %s\n", err);
    rb_rules_unref(rules);
    sim_free(&s);
    return CLI_EXIT_INVALID;
  }
  rb_sink sink = cli_out_sink(&out);
  rb_engine *engine = NULL;
  rc = rb_engine_new(rules, &sink, &engine);
  if (rc == RB_OK) {
    rc = run_engine(&s, engine);
    if (rc != RB_OK)
      engine_failure(engine, &out, rc);
    rb_engine_free(engine);
  } else {
    fprintf(stderr, CLI_NAME ": %s\n", rb_strerror(rc));
  }
  status = rc == RB_OK ? CLI_EXIT_OK : CLI_EXIT_INVALID;
  if (cli_out_close(&out) != 0 && status == CLI_EXIT_OK) {
    fprintf(stderr, CLI_NAME ": %s: %s\n", out.io_path, strerror(out.io_errno));
    status = CLI_EXIT_INVALID;
  }

  if (status == CLI_EXIT_OK) {
    cli_report rep = {.counts = s.counts, .out = &out, .rules = data};
    int err_no = 0;
    if (cli_write_rejects(s.opt.out, s.opt.files, s.rejects, s.nrejects,
                          &err_no) != 0) {
      fprintf(stderr, CLI_NAME ": %s/rejects.jsonl: %s\n", s.opt.out,
              strerror(err_no));
      status = CLI_EXIT_INVALID;
    }
    rep.elapsed_ns = now_ns() - t0;
    if (status == CLI_EXIT_OK &&
        cli_write_summary(s.opt.out, &rep, &err_no) != 0) {
      fprintf(stderr, CLI_NAME ": %s/summary.json: %s\n", s.opt.out,
              strerror(err_no));
      status = CLI_EXIT_INVALID;
    }
    if (status == CLI_EXIT_OK) {
      echo_rejects(&s);
      cli_print_summary(stdout, &rep);
      if (s.nrejects > 0)
        status = CLI_EXIT_INVALID;
    }
  }
  cli_out_free(&out);
  rb_rules_unref(rules);
  sim_free(&s);
  return status;
}
