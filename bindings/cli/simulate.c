/* simulate.c: `rtcbill simulate`, a replay of usage on a virtual clock.
 *
 * Reads every input line (rejecting bad ones with their file and line),
 * orders the events by effective time (both in events.c), feeds them to
 * the engine, then lets the clock run on until every period with usage
 * is billed (or to --until). Input order breaks ties, so a run is
 * reproducible from its files alone. With --jobs N the reading is
 * shared among threads (events.c) and so are the accounts, among N
 * engines (jobs.c), with the same outputs. Depends on: cli.h, rtcbill.h
 * (engine, rules), rtcbill_rules.h (loading the Lua rules), POSIX isatty.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "rtcbill_rules.h"

/* Rejects echoed to stderr before "... N more". */
#define ECHO_REJECTS 20u

typedef struct sim_opts {
  const char *rules;
  const char *out;
  bool has_until;
  rb_time until;
  size_t jobs;
  size_t shares; /* 0: chosen from the input's size */
  const char **files;
  size_t nfiles;
} sim_opts;

typedef struct sim {
  sim_opts opt;
  cli_events in;      /* parsed input, sorted; holds the parse rejects */
  cli_rejects rejects; /* every reject: the parse's, then the engine's */
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
          "  --jobs N       read with N threads and run the accounts' shares\n"
          "                 on N threads (default 1)\n"
          "  --shares N     cut the accounts into N shares, one engine each\n"
          "                 (default: about one per 65536 events, so that\n"
          "                 each engine's state stays in the caches; 1: a\n"
          "                 single engine); the outputs are the same\n"
          "  -h, --help     show this help\n"
          "\n"
          "Exit status: 0 success, 1 invalid input (any line rejected; all\n"
          "outputs are still written), 2 usage error.\n",
          cli_default_rules_dir());
}

/* Returns -1 to go on, or the exit status to return now. */
static int parse_args(int argc, char **argv, sim_opts *o) {
  const char *until = NULL, *jobs = NULL, *shares = NULL;
  memset(o, 0, sizeof *o);
  o->jobs = 1;
  const cli_opt opts[] = {{"--rules", &o->rules, NULL},
                          {"--until", &until, NULL},
                          {"--out", &o->out, NULL},
                          {"--jobs", &jobs, NULL},
                          {"--shares", &shares, NULL},
                          {NULL, NULL, NULL}};
  cli_operands files;
  int status = cli_parse_args(argc, argv, "simulate", opts, help, &files);
  o->files = files.v;
  o->nfiles = files.n;
  if (status >= 0)
    return status;
  if (o->out == NULL || o->out[0] == '\0')
    return cli_usage_error("simulate", "missing --out DIR");
  if (o->nfiles == 0)
    return cli_usage_error("simulate", "no input files");
  if (o->nfiles > UINT32_MAX)
    return cli_usage_error("simulate", "too many input files");
  if (jobs != NULL && !cli_count_arg(jobs, CLI_JOBS_MAX, &o->jobs))
    return cli_usage_error("simulate",
                           "--jobs '%s' is not a number of threads from 1 "
                           "to %d",
                           jobs, CLI_JOBS_MAX);
  if ((status = cli_shares_option("simulate", shares, &o->shares)) >= 0)
    return status;
  if (until != NULL) {
    if (rb_time_parse(until, strlen(until), &o->until, NULL) != RB_OK)
      return cli_usage_error("simulate",
                             "--until '%s' is not an RFC 3339 time "
                             "(e.g. 2020-12-01T00:00:00+08:00)",
                             until);
    o->has_until = true;
  }
  return -1;
}

static bool add_reject(sim *s, uint32_t file, uint64_t line,
                       const rb_reject *rej) {
  if (!cli_rejects_add(&s->rejects, file, line, rej))
    return false;
  s->counts.rejected++;
  return true;
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
  cli_progress pg;
  cli_progress_start(&pg, s->progress, "rating", s->in.n);
  cli_feed feed;
  cli_feed_start(&feed, e, s->in.n, cli_events_ev, &s->in);
  for (size_t i = 0; i < s->in.n; i++) {
    const rb_event *ev = cli_feed_event(&feed, i);
    cli_progress_step(&pg, i, i);
    if (s->opt.has_until && ev->at > s->opt.until) {
      s->counts.pending++;
      continue;
    }
    rb_reject rej;
    memset(&rej, 0, sizeof rej);
    int rc = rb_engine_apply(e, ev, &rej);
    if (rc == RB_OK) {
      s->counts.accepted++;
      if (last == RB_TIME_NONE || ev->at > last)
        last = ev->at;
    } else if (rc == RB_DUPLICATE) {
      s->counts.duplicates++;
    } else if (rc == RB_EREJECT) {
      const cli_event *ce = cli_events_at(&s->in, i);
      if (!add_reject(s, ce->file, ce->line, &rej)) {
        cli_progress_end(&pg, i, i);
        return RB_ENOMEM;
      }
    } else {
      cli_progress_end(&pg, i, i);
      return rc < 0 ? rc : RB_EINVAL;
    }
  }
  cli_progress_end(&pg, s->in.n, s->in.n);
  if (s->opt.has_until) {
    rb_time now = rb_engine_now(e);
    if (now != RB_TIME_NONE && now > s->opt.until)
      return RB_OK;
    return rb_engine_advance(e, s->opt.until);
  }
  return cli_engine_finish(e, last);
}

static void echo_rejects(const sim *s) {
  size_t n = s->rejects.n < ECHO_REJECTS ? s->rejects.n : ECHO_REJECTS;
  for (size_t i = 0; i < n; i++) {
    const cli_reject_rec *r = &s->rejects.v[i];
    fprintf(stderr, "%s:%" PRIu64 ": %s: %s\n", s->opt.files[r->file], r->line,
            r->rej.code, r->rej.message);
  }
  if (s->rejects.n > n)
    fprintf(stderr, "... %zu more rejected lines in %s/rejects.jsonl\n",
            s->rejects.n - n, s->opt.out);
}

static void sim_free(sim *s) {
  cli_events_free(&s->in);
  cli_rejects_free(&s->rejects);
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

  uint64_t t0 = cli_now_ns();
  if (cli_events_read_jobs(&s.in, s.opt.files, s.opt.nfiles, s.progress,
                           s.opt.jobs) != 0) {
    rb_rules_unref(rules);
    sim_free(&s);
    return CLI_EXIT_INVALID;
  }
  uint64_t t_read = cli_now_ns();
  s.counts.read = s.in.read;
  for (size_t i = 0; i < s.in.rejects.n; i++) {
    const cli_reject_rec *r = &s.in.rejects.v[i];
    if (!add_reject(&s, r->file, r->line, &r->rej)) {
      fprintf(stderr, CLI_NAME ": %s\n", strerror(ENOMEM));
      rb_rules_unref(rules);
      sim_free(&s);
      return CLI_EXIT_INVALID;
    }
  }
  cli_events_sort(&s.in);
  uint64_t t_sort = cli_now_ns();

  cli_out out;
  if (cli_out_open(&out, s.opt.out, data, err, sizeof err) != 0) {
    fprintf(stderr, CLI_NAME ": %s\n", err);
    rb_rules_unref(rules);
    sim_free(&s);
    return CLI_EXIT_INVALID;
  }
  rb_sink sink = cli_out_sink(&out);
  rb_engine *engine = NULL;
  rb_engine_stats stats;
  bool have_stats = false;
  int shared = 1;
  size_t nshares = s.opt.shares != 0
                       ? s.opt.shares
                       : cli_jobs_shares(s.in.n, s.opt.jobs);
  cli_shares *plan = NULL;
  if (nshares > 1 &&
      (shared = cli_shares_plan(&s.in, s.opt.jobs, nshares, &plan)) < 0) {
    fprintf(stderr, CLI_NAME ": %s\n", strerror(ENOMEM));
    rc = RB_ENOMEM;
  }
  if (shared == 0) {
    cli_jobs_result res;
    shared = cli_jobs_run(plan, rules, rules_dir,
                          s.opt.jobs < nshares ? s.opt.jobs : nshares,
                          s.opt.has_until, s.opt.until, &out, &res);
    if (shared == 0) {
      s.counts.accepted += res.counts.accepted;
      s.counts.duplicates += res.counts.duplicates;
      s.counts.pending += res.counts.pending;
      stats = res.stats;
      have_stats = true;
      for (size_t i = 0; i < res.rejects.n && rc == RB_OK; i++)
        if (!add_reject(&s, res.rejects.v[i].file, res.rejects.v[i].line,
                        &res.rejects.v[i].rej))
          rc = RB_ENOMEM;
      if (rc != RB_OK)
        fprintf(stderr, CLI_NAME ": %s\n", rb_strerror(rc));
    } else if (shared < 0) {
      fprintf(stderr, CLI_NAME ": %s\n", res.error);
      rc = res.rc != RB_OK ? res.rc : RB_EINVAL;
    }
    cli_rejects_free(&res.rejects);
  }
  cli_shares_free(plan);
  if (shared != 1) {
    /* Done on several engines, or failed there. */
  } else if ((rc = rb_engine_new(rules, &sink, &engine)) == RB_OK) {
    rc = run_engine(&s, engine);
    if (rc != RB_OK)
      engine_failure(engine, &out, rc);
    rb_engine_stats_get(engine, &stats);
    have_stats = true;
    rb_engine_free(engine);
  } else {
    fprintf(stderr, CLI_NAME ": %s\n", rb_strerror(rc));
  }
  uint64_t t_rate = cli_now_ns();
  status = rc == RB_OK ? CLI_EXIT_OK : CLI_EXIT_INVALID;
  if (cli_out_close(&out) != 0 && status == CLI_EXIT_OK) {
    fprintf(stderr, CLI_NAME ": %s: %s\n", out.io_path, strerror(out.io_errno));
    status = CLI_EXIT_INVALID;
  }

  if (status == CLI_EXIT_OK) {
    cli_report rep = {.counts = s.counts, .out = &out, .rules = data,
                      .rules_dir = rules_dir, .files = s.opt.files,
                      .nfiles = s.opt.nfiles, .have_stats = have_stats,
                      .engines = shared == 0 ? nshares : 1};
    if (have_stats)
      rep.stats = stats;
    int err_no = 0;
    if (cli_write_rejects(s.opt.out, s.opt.files, s.rejects.v, s.rejects.n,
                          &err_no) != 0) {
      fprintf(stderr, CLI_NAME ": %s/rejects.jsonl: %s\n", s.opt.out,
              strerror(err_no));
      status = CLI_EXIT_INVALID;
    }
    uint64_t t_end = cli_now_ns();
    rep.elapsed_ns = t_end - t0;
    rep.read_ns = t_read - t0;
    rep.sort_ns = t_sort - t_read;
    rep.rate_ns = t_rate - t_sort;
    rep.write_ns = t_end - t_rate;
    if (status == CLI_EXIT_OK &&
        cli_write_summary(s.opt.out, &rep, &err_no) != 0) {
      fprintf(stderr, CLI_NAME ": %s/summary.json: %s\n", s.opt.out,
              strerror(err_no));
      status = CLI_EXIT_INVALID;
    }
    if (status == CLI_EXIT_OK) {
      echo_rejects(&s);
      cli_print_summary(stdout, &rep);
      if (s.rejects.n > 0)
        status = CLI_EXIT_INVALID;
    }
  }
  cli_out_free(&out);
  rb_rules_unref(rules);
  sim_free(&s);
  return status;
}
