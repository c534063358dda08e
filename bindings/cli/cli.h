/* cli.h: the pieces of the `rtcbill` command shared between its files.
 *
 * main.c dispatches subcommands; input.c reads JSON Lines files one line
 * at a time; simulate.c runs the engine over them; output.c writes the
 * result files and the readable summary. The command is a thin consumer
 * of the public headers: rtcbill.h (the core) and rtcbill_rules.h (the
 * rules host). Depends on: rtcbill.h and the C standard library.
 */
#ifndef RTCBILL_CLI_H
#define RTCBILL_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "rtcbill.h"

#ifndef RTCBILL_VERSION
#define RTCBILL_VERSION "0.1.0"
#endif

/* Exit statuses of every subcommand (SPEC 2). */
enum { CLI_EXIT_OK = 0, CLI_EXIT_INVALID = 1, CLI_EXIT_USAGE = 2 };

/* The program name used in messages. */
#define CLI_NAME "rtcbill"

/* Subcommands: each takes its own arguments (argv[0] is the subcommand's
 * name) and returns an exit status. */
int cli_simulate(int argc, char **argv);
int cli_estimate(int argc, char **argv); /* estimate.c */
int cli_compare(int argc, char **argv);
int cli_explain(int argc, char **argv);
int cli_check(int argc, char **argv);   /* check.c */
int cli_serve(int argc, char **argv);   /* serve.c: the daemon */
int cli_verify(int argc, char **argv);  /* verify.c: a daemon's store */

/* The rules folder used when --rules is not given: the installed one if
 * it holds tariff.lua, else the source tree's. A static string. */
const char *cli_default_rules_dir(void);

/* ------------------------------------------------------------------ */
/* input.c: a streaming line reader                                   */
/* ------------------------------------------------------------------ */

/* One physical line. `data` (len bytes, NUL-terminated, no newline, a
 * trailing '\r' removed) stays valid until the next read. A line longer
 * than RB_LINE_MAX is never held whole: too_long is set, data is NULL,
 * and `length` says how long it was. */
typedef struct cli_line {
  const char *data;
  size_t len;
  uint64_t number; /* 1-based */
  bool too_long;
  uint64_t length;
} cli_line;

typedef struct cli_reader {
  FILE *f;
  bool owned;  /* close f at the end (not for stdin) */
  char *block; /* raw bytes read from f; lines are handed out in place */
  size_t blen, bpos;
  uint64_t base; /* file offset of block[0] */
  uint64_t end;  /* lines starting at or after this offset are not ours */
  bool skip;     /* skip through the first newline (a range's start) */
  char *line; /* a line longer than a block: its first RB_LINE_MAX + 1
                 bytes */
  uint64_t lineno;
  bool eof;
} cli_reader;

/* Opens path ("-" is standard input). Returns 0, or an errno value with
 * nothing left to close. */
int cli_reader_open(cli_reader *r, const char *path);
/* Opens the lines of a regular file that start at byte offsets in
 * [begin, end): ranges that split a file at any offsets read every line
 * once. Line numbers count from the range's first line (1). */
int cli_reader_open_range(cli_reader *r, const char *path, uint64_t begin,
                          uint64_t end);
/* The next line that is not empty or all white space (those are skipped
 * but numbered). Returns 1 with *out filled, 0 at the end, or -1 on a
 * read error (errno set) or when memory runs out (errno ENOMEM). */
int cli_reader_next(cli_reader *r, cli_line *out);
void cli_reader_close(cli_reader *r);

/* ------------------------------------------------------------------ */
/* output.c: result files and the readable summary                     */
/* ------------------------------------------------------------------ */

/* How many bills the readable summary lists before "... N more". */
#define CLI_BRIEF_BILLS 20

typedef struct cli_tier_minutes {
  int64_t billable, covered, postpaid, unbilled;
} cli_tier_minutes;

typedef struct cli_bill_brief {
  char id[RB_ID_MAX + 16];
  rb_cycle cycle;
  rb_money total, balance_after;
  bool arrears;
} cli_bill_brief;

/* A rejected line, kept until the end so that rejects.jsonl comes out
 * in input order although the engine rejects in time order. */
typedef struct cli_reject_rec {
  uint32_t file;
  uint64_t line;
  rb_reject rej;
} cli_reject_rec;

typedef struct cli_counts {
  uint64_t read, accepted, rejected, duplicates, pending;
} cli_counts;

/* The engine's sink: bills and notices go through buffers to their
 * files as they are emitted, and the summary's figures are tallied on
 * the way. */
typedef struct cli_out {
  const char *dir;
  char *bills_path, *notices_path;
  FILE *bills, *notices;
  rb_buf bbuf, nbuf;
  int32_t tz_offset;
  int io_errno;        /* the first write error, 0 if none */
  const char *io_path; /* the file it concerns */
  uint64_t nbills;
  rb_money revenue;
  bool revenue_overflow;
  int ntiers;
  cli_tier_minutes minutes[RB_MAX_TIERS];
  cli_bill_brief brief[CLI_BRIEF_BILLS];
} cli_out;

/* Creates dir (and its parents) and opens bills.jsonl and notices.jsonl
 * in it. On failure returns -1 with a message in err and nothing open. */
int cli_out_open(cli_out *o, const char *dir, const rb_rules_data *rules,
                 char *err, size_t cap);
rb_sink cli_out_sink(cli_out *o);
/* The summary's share of a bill (count, the first bills' briefs,
 * revenue, minutes per tier), as the sink tallies it. */
int cli_out_tally(cli_out *o, const rb_bill *bill);
/* Appends finished JSON Lines text to bills.jsonl (bills) or
 * notices.jsonl, through the same buffers as the sink. */
int cli_out_write(cli_out *o, bool bills, const char *data, size_t len);
/* Flushes and closes the two streams; -1 (with o->io_errno) on a write
 * error. Safe to call twice. */
int cli_out_close(cli_out *o);
void cli_out_free(cli_out *o);

/* Writes DIR/rejects.jsonl sorted by file then line (recs is sorted in
 * place). -1 on error, with the errno value in *err_no. */
int cli_write_rejects(const char *dir, const char *const *files,
                      cli_reject_rec *recs, size_t n, int *err_no);

/* The run's figures for summary.json and the readable summary. */
typedef struct cli_report {
  cli_counts counts;
  const cli_out *out;
  const rb_rules_data *rules;
  uint64_t elapsed_ns;
  /* Where the time went, in ns: reading and parsing, sorting, rating
   * (the engines and the sinks), writing the outputs at the end. Written
   * to summary.json as "phases" when elapsed_ns is set. */
  uint64_t read_ns, sort_ns, rate_ns, write_ns;
  /* Engines the run used: more than 1 when --jobs shared it out. */
  size_t engines;
  /* The engine's memory figures (summary.json "engine"), if have_stats. */
  bool have_stats;
  rb_engine_stats stats;
  /* The run's inputs, recorded in summary.json so that `rtcbill explain
   * --from DIR` can replay them; NULL / 0 to leave them out. */
  const char *rules_dir;
  const char *const *files;
  size_t nfiles;
} cli_report;

int cli_write_summary(const char *dir, const cli_report *r, int *err_no);
void cli_print_summary(FILE *f, const cli_report *r);

/* Creates path and its missing parents; 0 or an errno value. */
int cli_mkdir_p(const char *path);

/* Joins dir and name with a '/'; malloc'd, NULL when memory runs out. */
char *cli_path_join(const char *dir, const char *name);

/* ------------------------------------------------------------------ */
/* events.c: parse once, sort by effective time (simulate, compare,    */
/* explain), options and progress                                     */
/* ------------------------------------------------------------------ */

/* A parsed event as the commands keep it, in 64 bytes (a full rb_event
 * is 152): millions of them are held, sorted and read back in time
 * order, so their size is memory traffic, page faults and cache misses.
 * What ordering and sharing out read is here; a usage record's strings
 * and segments sit in one arena block, the segments first, then id,
 * user and room, each NUL-terminated, back to back; any other type
 * keeps its whole rb_event in the arena. cli_event_unpack gives the
 * rb_event back. */
typedef struct cli_event {
  rb_time at;       /* effective time */
  int64_t app;      /* app, enable/disable_postpaid, usage */
  rb_time start;    /* usage */
  rb_time received; /* usage; RB_TIME_NONE when absent */
  const void *block;
  uint64_t line; /* where it came from (the stable tie-break) */
  uint32_t file;
  uint32_t seconds; /* usage: at most RB_SESSION_SECONDS_MAX */
  uint16_t nvideo;  /* usage: at most RB_SEGMENTS_MAX */
  uint8_t type;     /* rb_event_type */
  uint8_t unused;
  uint16_t id_len, user_len; /* usage: at most RB_ID_MAX */
} cli_event;

/* A usage record's id (NUL-terminated, id_len bytes). */
static inline const char *cli_event_id(const cli_event *ce) {
  return (const char *)ce->block + (size_t)ce->nvideo * sizeof(rb_segment);
}

/* Any other type's whole event (NULL for usage). */
static inline const rb_event *cli_event_full(const cli_event *ce) {
  return ce->type == RB_EV_USAGE ? NULL : (const rb_event *)ce->block;
}

/* The account an account, app, package, topup or change_cycle event
 * names (NULL for the others). */
static inline const char *cli_event_account(const cli_event *ce) {
  const rb_event *full = cli_event_full(ce);
  return full != NULL ? full->account : NULL;
}

/* The rb_event ce stands for, with pointers into ce's arena. */
static inline void cli_event_unpack(const cli_event *ce, rb_event *ev) {
  if (ce->type != RB_EV_USAGE) {
    *ev = *cli_event_full(ce);
    return;
  }
  memset(ev, 0, sizeof *ev);
  ev->type = RB_EV_USAGE;
  ev->at = ce->at;
  ev->app = ce->app;
  ev->start = ce->start;
  ev->received = ce->received;
  ev->seconds = ce->seconds;
  ev->nvideo = ce->nvideo;
  ev->video = ce->nvideo > 0 ? (const rb_segment *)ce->block : NULL;
  ev->id = cli_event_id(ce);
  ev->user = ev->id + ce->id_len + 1;
  ev->room = ev->user + ce->user_len + 1;
}

/* Packs ev (just parsed into arena a) into *ce; returns false when the
 * arena cannot grow. */
bool cli_event_pack(rb_arena *a, const rb_event *ev, uint32_t file,
                    uint64_t line, cli_event *ce);

/* A growable list of rejected lines. */
typedef struct cli_rejects {
  cli_reject_rec *v;
  size_t n, cap;
} cli_rejects;

/* Appends one reject; false when memory runs out. */
bool cli_rejects_add(cli_rejects *r, uint32_t file, uint64_t line,
                     const rb_reject *rej);
void cli_rejects_free(cli_rejects *r);
/* Sorts by file, then line (output.c). */
void cli_rejects_sort(cli_rejects *r);

/* Progress on stderr for long runs: records per second and the share of
 * the work done, redrawn at most a few times a second, and only when
 * `on` (stderr is a terminal): silent otherwise. */
typedef struct cli_progress {
  bool on, shown;
  const char *what;  /* "reading", "rating" */
  uint64_t total;    /* units of work (bytes, events); 0 = unknown */
  uint64_t t0, last; /* monotonic ns */
} cli_progress;

void cli_progress_start(cli_progress *p, bool on, const char *what,
                        uint64_t total);
/* done units of `total`, after `records` records. Cheap: it looks at the
 * clock only every few thousand records. */
void cli_progress_step(cli_progress *p, uint64_t done, uint64_t records);
/* Ends the line the progress was drawn on (if any). */
void cli_progress_end(cli_progress *p, uint64_t done, uint64_t records);

/* Every input line, parsed once into one arena: the events in input
 * order (then sorted), and the lines the reader rejected. */
typedef struct cli_events {
  const char *const *files;
  size_t nfiles;
  rb_arena *arena;
  rb_arena **arenas; /* more arenas, from reading with several threads */
  size_t narenas;
  cli_event *v; /* input order until sorted; see cli_events_at */
  size_t n, cap;
  /* After cli_events_sort: v[order[k]] is the k-th event in time order,
   * or order is NULL and v itself is in time order. */
  uint32_t *order;
  cli_rejects rejects; /* parse-level rejects */
  uint64_t read;       /* lines read (not blank) */
} cli_events;

/* The k-th event in time order (after cli_events_sort). */
static inline const cli_event *cli_events_at(const cli_events *es, size_t k) {
  return es->order != NULL ? &es->v[es->order[k]] : &es->v[k];
}

/* Feeding a long run of events to an engine: each is unpacked once,
 * some way ahead of its turn, into a small ring, and the engine is told
 * about the ones ahead in the stages of rb_engine_prefetch, so that the
 * memory each event will touch is on its way while earlier ones are
 * applied. at(ctx, k) is the k-th event of the run. */
#define CLI_FEED_RING 32
typedef struct cli_feed {
  rb_engine *e;
  size_t n;
  const cli_event *(*at)(const void *ctx, size_t k);
  const void *ctx;
  size_t unpacked; /* events [0, unpacked) have been unpacked */
  rb_event ring[CLI_FEED_RING];
} cli_feed;

void cli_feed_start(cli_feed *f, rb_engine *e, size_t n,
                    const cli_event *(*at)(const void *, size_t),
                    const void *ctx);
/* The k-th event, unpacked; k goes from 0 up by one. The pointer stays
 * valid until the next call. */
const rb_event *cli_feed_event(cli_feed *f, size_t k);

/* The k-th event in time order, for cli_feed. */
static inline const cli_event *cli_events_ev(const void *es, size_t k) {
  return cli_events_at(es, k);
}

/* Reads and parses every file into es (zeroed first); prints why and
 * returns 1 on an I/O error or when memory runs out, else 0. */
int cli_events_read(cli_events *es, const char *const *files, size_t nfiles,
                    bool progress);
/* The most threads --jobs may ask for. */
#define CLI_JOBS_MAX 64

/* cli_events_read with `jobs` threads (1: the same as cli_events_read):
 * regular files of a few MB or more are parsed in byte ranges, one per
 * thread; the result is the same, in the same order. */
int cli_events_read_jobs(cli_events *es, const char *const *files,
                         size_t nfiles, bool progress, size_t jobs);
/* jobs.c: simulate's events on several engines, each holding a share of
 * the accounts, run on one or more threads; the outputs are merged into
 * the files one engine writes. */
typedef struct cli_jobs_result {
  cli_counts counts;   /* accepted, duplicates, pending */
  cli_rejects rejects; /* the engines' rejects */
  rb_engine_stats stats; /* summed over the engines */
  int rc;              /* an engine's failure code, else 0 */
  char error[512];
} cli_jobs_result;

/* The most shares a run is cut into (a share's number fits a byte). */
#define CLI_SHARES_MAX 256
/* About this many events a share: its engine's working set (accounts,
 * apps, accumulators, usage ids) then stays within the caches. */
#define CLI_SHARE_EVENTS 65536

/* Shares run their events in windows (in time order) whose outputs are
 * merged and written before the next, so that what is held in memory
 * is one window's bills and notices, not the run's: a sixteenth of the
 * events, at least CLI_WINDOW_MIN and at most CLI_WINDOW_MAX. */
#define CLI_WINDOW_MIN ((size_t)1 << 10)
#define CLI_WINDOW_MAX ((size_t)1 << 20)

/* How many shares a run of `events` events on `threads` threads is cut
 * into: one per CLI_SHARE_EVENTS events, at least one per thread, a
 * whole number per thread, at most CLI_SHARES_MAX. */
size_t cli_jobs_shares(size_t events, size_t threads);

/* The accounts of sorted events cut into shares (jobs.c). */
typedef struct cli_shares cli_shares;

/* Cuts the accounts of the sorted events `in` into `shares` shares,
 * planning on `threads` threads. Returns 0 (*out set; free it with
 * cli_shares_free after the runs, and keep `in` meanwhile), 1 when the
 * input cannot be shared out exactly (an app under two accounts, an id
 * used in two shares, fewer events than shares, fewer than two shares):
 * run one engine; or -1 when memory runs out. */
int cli_shares_plan(const cli_events *in, size_t threads, size_t shares,
                    cli_shares **out);
void cli_shares_free(cli_shares *sh);

/* Runs the shares on `threads` threads (share k on thread k % threads,
 * after the thread's earlier ones; rules is thread 0's rule set, the
 * other threads load rules_dir again), writing bills and notices to out
 * as one engine would. Returns 0 (done, res filled; free res->rejects)
 * or -1 on a failure described in res->error. */
int cli_jobs_run(const cli_shares *sh, rb_rules *rules, const char *rules_dir,
                 size_t threads, bool has_until, rb_time until, cli_out *out,
                 cli_jobs_result *res);

/* Runs the shares one after the other on the calling thread, every
 * engine writing to `sink` (in no particular order across shares: for
 * sinks that only add up), with the end of the run one engine would
 * have. Counts and rejects are added to *counts and *rejects. Returns
 * RB_OK or the failure (described in err). */
int cli_shares_rate(const cli_shares *sh, rb_rules *rules, const rb_sink *sink,
                    bool has_until, rb_time until, cli_counts *counts,
                    cli_rejects *rejects, char *err, size_t cap);

/* Sorts by effective time, then file, then line (input order): into an
 * order array, or in place when memory for one is short. */
void cli_events_sort(cli_events *es);
void cli_events_free(cli_events *es);

/* One option of a subcommand: with a value (value != NULL; "--name V" or
 * "--name=V", given at most once) or a flag (value == NULL, flag set).
 * Tables end with an entry whose name is NULL. */
typedef struct cli_opt {
  const char *name;
  const char **value;
  bool *flag;
} cli_opt;

/* The operands (input files) of a command line; free with
 * cli_operands_free. */
typedef struct cli_operands {
  const char **v;
  size_t n;
} cli_operands;

/* Parses argv[1..] against opts: -h/--help prints help to stdout; "--"
 * makes the rest operands; "-" is an operand. Operands go to *operands
 * (NULL: the command takes none, and one is a usage error). Returns -1
 * to go on, or the exit status to return now (0 after --help, 2 after a
 * usage error, which it prints). */
int cli_parse_args(int argc, char **argv, const char *cmd,
                   const cli_opt *opts, void (*help)(FILE *),
                   cli_operands *operands);
void cli_operands_free(cli_operands *ops);

/* A count from 1 to max, in decimal digits only (--jobs, --shares). */
bool cli_count_arg(const char *text, size_t max, size_t *out);
/* --shares TEXT (NULL: not given) of command cmd into *out: -1 to go
 * on, or the usage error's exit status. */
int cli_shares_option(const char *cmd, const char *text, size_t *out);

/* Prints "rtcbill CMD: <message>" and a pointer to --help; returns
 * CLI_EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Matches "--name VALUE" and "--name=VALUE" at argv[*i]. Returns 1 with
 * *value set (and *i moved past it), 0 when argv[*i] is another option,
 * -1 when the value is missing. */
int cli_option_value(int argc, char **argv, int *i, const char *name,
                     const char **value);

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t cli_now_ns(void);

/* Runs the engine's clock on after the last applied event (`last`, or
 * RB_TIME_NONE) until every period with usage is billed: settling can
 * make another period due, so it loops until the horizon stops moving.
 * Returns 0 or the engine's failure code. */
int cli_engine_finish(rb_engine *e, rb_time last);

/* Writes v as a decimal with at least `places` decimals ("?" if it
 * cannot be formatted, which does not happen for valid money). */
void cli_money(rb_money v, int places, char *buf, size_t cap);

#endif /* RTCBILL_CLI_H */
