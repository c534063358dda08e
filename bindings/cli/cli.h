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

/* The rules folder used when --rules is not given: the installed one if
 * it holds tariff.lua, else the source tree's. A static string. */
const char *cli_default_rules_dir(void);

/* ------------------------------------------------------------------ */
/* input.c: a streaming line reader                                    */
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
  char *block; /* raw bytes read from f */
  size_t blen, bpos;
  char *line; /* the current line, up to RB_LINE_MAX + 1 bytes */
  uint64_t lineno;
  bool eof;
} cli_reader;

/* Opens path ("-" is standard input). Returns 0, or an errno value with
 * nothing left to close. */
int cli_reader_open(cli_reader *r, const char *path);
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
} cli_report;

int cli_write_summary(const char *dir, const cli_report *r, int *err_no);
void cli_print_summary(FILE *f, const cli_report *r);

/* Joins dir and name with a '/'; malloc'd, NULL when memory runs out. */
char *cli_path_join(const char *dir, const char *name);

#endif /* RTCBILL_CLI_H */
