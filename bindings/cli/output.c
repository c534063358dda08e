/* output.c: the result files of a run and its readable summary.
 *
 * bills.jsonl and notices.jsonl are written while the engine runs, in
 * emission order, through buffers flushed every megabyte so that a long
 * simulation does not hold its whole output in memory. rejects.jsonl and
 * summary.json are written at the end. The sink also tallies what the
 * summary reports: bill count, revenue and minutes per tier. Depends on:
 * cli.h, rtcbill.h (the JSON writers, money formatting), POSIX mkdir.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "cli.h"

#define FLUSH_AT ((size_t)1 << 20)

char *cli_path_join(const char *dir, const char *name) {
  size_t dl = strlen(dir), nl = strlen(name);
  bool slash = dl > 0 && dir[dl - 1] == '/';
  char *p = malloc(dl + nl + 2);
  if (p == NULL)
    return NULL;
  memcpy(p, dir, dl);
  if (!slash)
    p[dl++] = '/';
  memcpy(p + dl, name, nl + 1);
  return p;
}

/* mkdir -p: creates every missing folder of path. Returns 0 or an errno
 * value. */
static int mkdir_p(const char *path) {
  size_t len = strlen(path);
  char *p = malloc(len + 1);
  if (p == NULL)
    return ENOMEM;
  memcpy(p, path, len + 1);
  int rc = 0;
  for (size_t i = 1; i <= len && rc == 0; i++) {
    if (p[i] != '/' && p[i] != '\0')
      continue;
    char saved = p[i];
    p[i] = '\0';
    if (mkdir(p, 0777) != 0 && errno != EEXIST)
      rc = errno;
    p[i] = saved;
  }
  free(p);
  if (rc != 0)
    return rc;
  struct stat st;
  if (stat(path, &st) != 0)
    return errno;
  return S_ISDIR(st.st_mode) ? 0 : ENOTDIR;
}

int cli_mkdir_p(const char *path) { return mkdir_p(path); }

int cli_out_open(cli_out *o, const char *dir, const rb_rules_data *rules,
                 char *err, size_t cap) {
  memset(o, 0, sizeof *o);
  o->dir = dir;
  o->tz_offset = rules->tariff.tz_offset;
  o->ntiers = rules->tariff.ntiers;
  int rc = mkdir_p(dir);
  if (rc != 0) {
    snprintf(err, cap, "%s: %s", dir, strerror(rc));
    return -1;
  }
  o->bills_path = cli_path_join(dir, "bills.jsonl");
  o->notices_path = cli_path_join(dir, "notices.jsonl");
  if (o->bills_path == NULL || o->notices_path == NULL) {
    snprintf(err, cap, "%s", strerror(ENOMEM));
    cli_out_free(o);
    return -1;
  }
  o->bills = fopen(o->bills_path, "wb");
  if (o->bills == NULL) {
    snprintf(err, cap, "%s: %s", o->bills_path, strerror(errno));
    cli_out_free(o);
    return -1;
  }
  o->notices = fopen(o->notices_path, "wb");
  if (o->notices == NULL) {
    snprintf(err, cap, "%s: %s", o->notices_path, strerror(errno));
    cli_out_free(o);
    return -1;
  }
  return 0;
}

/* Writes out a buffer's content and empties it; remembers the first
 * error and its file. */
static int flush(cli_out *o, rb_buf *b, FILE *f, const char *path) {
  errno = 0;
  if (b->len > 0 && f != NULL && fwrite(b->data, 1, b->len, f) != b->len) {
    if (o->io_errno == 0) {
      o->io_errno = errno != 0 ? errno : EIO;
      o->io_path = path;
    }
    return RB_EIO;
  }
  b->len = 0;
  return RB_OK;
}

static int tally(int64_t *acc, int64_t v) { return rb_money_add(*acc, v, acc); }

int cli_out_tally(cli_out *o, const rb_bill *bill) {
  if (o->nbills < CLI_BRIEF_BILLS) {
    cli_bill_brief *br = &o->brief[o->nbills];
    snprintf(br->id, sizeof br->id, "%s", bill->id);
    br->cycle = bill->cycle;
    br->total = bill->total;
    br->balance_after = bill->balance_after;
    br->arrears = bill->arrears;
  }
  o->nbills++;
  if (!o->revenue_overflow &&
      rb_money_add(o->revenue, bill->total, &o->revenue) != RB_OK)
    o->revenue_overflow = true;
  /* Minute counts are far below int64 in any real run; an overflow is
   * reported rather than wrapped. */
  for (size_t i = 0; i < bill->nlines; i++) {
    const rb_bill_line *l = &bill->lines[i];
    if (l->tier < 0 || l->tier >= RB_MAX_TIERS)
      return RB_EINVAL;
    cli_tier_minutes *m = &o->minutes[l->tier];
    if (tally(&m->billable, l->minutes) != RB_OK ||
        tally(&m->covered, l->covered) != RB_OK ||
        tally(&m->postpaid, l->postpaid) != RB_OK ||
        tally(&m->unbilled, l->unbilled) != RB_OK)
      return RB_EOVERFLOW;
  }
  return RB_OK;
}

static int on_bill(void *ctx, const rb_bill *bill) {
  cli_out *o = ctx;
  int rc = rb_bill_to_json(bill, &o->bbuf);
  if (rc == RB_OK)
    rc = cli_out_tally(o, bill);
  if (rc != RB_OK)
    return rc;
  if (o->bbuf.len >= FLUSH_AT)
    return flush(o, &o->bbuf, o->bills, o->bills_path);
  return RB_OK;
}

int cli_out_write(cli_out *o, bool bills, const char *data, size_t len) {
  rb_buf *b = bills ? &o->bbuf : &o->nbuf;
  int rc = rb_buf_append(b, data, len);
  if (rc != RB_OK || b->len < FLUSH_AT)
    return rc;
  return bills ? flush(o, b, o->bills, o->bills_path)
               : flush(o, b, o->notices, o->notices_path);
}

static int on_notice(void *ctx, const rb_notice *n) {
  cli_out *o = ctx;
  int rc = rb_notice_to_json(n, o->tz_offset, &o->nbuf);
  if (rc != RB_OK)
    return rc;
  if (o->nbuf.len >= FLUSH_AT)
    return flush(o, &o->nbuf, o->notices, o->notices_path);
  return RB_OK;
}

rb_sink cli_out_sink(cli_out *o) {
  rb_sink s = {.ctx = o, .bill = on_bill, .notice = on_notice};
  return s;
}

/* Closes one stream, keeping the first error. */
static void close_stream(cli_out *o, FILE **f, const char *path) {
  if (*f == NULL)
    return;
  if (fclose(*f) != 0 && o->io_errno == 0) {
    o->io_errno = errno != 0 ? errno : EIO;
    o->io_path = path;
  }
  *f = NULL;
}

int cli_out_close(cli_out *o) {
  flush(o, &o->bbuf, o->bills, o->bills_path);
  flush(o, &o->nbuf, o->notices, o->notices_path);
  close_stream(o, &o->bills, o->bills_path);
  close_stream(o, &o->notices, o->notices_path);
  return o->io_errno != 0 ? -1 : 0;
}

void cli_out_free(cli_out *o) {
  if (o->bills != NULL)
    fclose(o->bills);
  if (o->notices != NULL)
    fclose(o->notices);
  o->bills = o->notices = NULL;
  rb_buf_free(&o->bbuf);
  rb_buf_free(&o->nbuf);
  free(o->bills_path);
  free(o->notices_path);
  o->bills_path = o->notices_path = NULL;
}

/* Writes a whole buffer to dir/name. Returns 0 or an errno value. */
static int write_file(const char *dir, const char *name, const rb_buf *b) {
  char *path = cli_path_join(dir, name);
  if (path == NULL)
    return ENOMEM;
  int rc = 0;
  FILE *f = fopen(path, "wb");
  if (f == NULL) {
    rc = errno;
  } else {
    errno = 0;
    if (b->len > 0 && fwrite(b->data, 1, b->len, f) != b->len)
      rc = errno != 0 ? errno : EIO;
    if (fclose(f) != 0 && rc == 0)
      rc = errno != 0 ? errno : EIO;
  }
  free(path);
  return rc;
}

static int reject_cmp(const void *pa, const void *pb) {
  const cli_reject_rec *a = pa, *b = pb;
  if (a->file != b->file)
    return a->file < b->file ? -1 : 1;
  if (a->line != b->line)
    return a->line < b->line ? -1 : 1;
  return 0;
}

void cli_rejects_sort(cli_rejects *r) {
  if (r->n > 1)
    qsort(r->v, r->n, sizeof *r->v, reject_cmp);
}

int cli_write_rejects(const char *dir, const char *const *files,
                      cli_reject_rec *recs, size_t n, int *err_no) {
  if (n > 1)
    qsort(recs, n, sizeof *recs, reject_cmp);
  rb_buf b = {0};
  for (size_t i = 0; i < n; i++) {
    if (rb_reject_to_json(files[recs[i].file], recs[i].line, &recs[i].rej,
                          &b) != RB_OK) {
      rb_buf_free(&b);
      *err_no = ENOMEM;
      return -1;
    }
  }
  int rc = write_file(dir, "rejects.jsonl", &b);
  rb_buf_free(&b);
  if (rc != 0) {
    *err_no = rc;
    return -1;
  }
  return 0;
}

/* Writes ns as seconds with 6 decimals, with integer arithmetic only. */
static int put_seconds(rb_buf *b, uint64_t ns) {
  return rb_buf_printf(b, "%" PRIu64 ".%06" PRIu64, ns / 1000000000u,
                       ns % 1000000000u / 1000u);
}

static uint64_t per_second(uint64_t records, uint64_t ns) {
  if (ns == 0)
    return records;
  __extension__ typedef unsigned __int128 u128;
  u128 r = (u128)records * 1000000000u / ns;
  return r > UINT64_MAX ? UINT64_MAX : (uint64_t)r;
}

/* "inputs":{"cwd":..,"rules":..,"events":[..]}, so that a later run
 * (rtcbill explain --from DIR) can replay the same files: paths are
 * written as given, with the folder they are relative to. */
static int put_inputs(rb_buf *b, const cli_report *r) {
  char cwd[4096];
  if (getcwd(cwd, sizeof cwd) == NULL)
    cwd[0] = '\0';
  int rc = rb_buf_printf(b, ",\"inputs\":{\"cwd\":");
  if (rc == RB_OK)
    rc = rb_buf_json_string(b, cwd);
  if (rc == RB_OK)
    rc = rb_buf_printf(b, ",\"rules\":");
  if (rc == RB_OK)
    rc = rb_buf_json_string(b, r->rules_dir);
  if (rc == RB_OK)
    rc = rb_buf_printf(b, ",\"events\":[");
  for (size_t i = 0; rc == RB_OK && i < r->nfiles; i++) {
    if (i > 0)
      rc = rb_buf_printf(b, ",");
    if (rc == RB_OK)
      rc = rb_buf_json_string(b, r->files[i]);
  }
  if (rc == RB_OK)
    rc = rb_buf_printf(b, "]}");
  return rc;
}

static void format_money(rb_money v, int places, char *buf, size_t cap) {
  if (rb_money_format_min(v, places, buf, cap) < 0)
    snprintf(buf, cap, "?");
}

int cli_write_summary(const char *dir, const cli_report *r, int *err_no) {
  const cli_counts *c = &r->counts;
  const rb_tariff *t = &r->rules->tariff;
  char money[RB_MONEY_STRLEN];
  format_money(r->out->revenue, 2, money, sizeof money);
  rb_buf b = {0};
  int rc = rb_buf_printf(&b,
                         "{\"events\":{\"read\":%" PRIu64
                         ",\"accepted\":%" PRIu64 ",\"rejected\":%" PRIu64
                         ",\"duplicates\":%" PRIu64 ",\"pending\":%" PRIu64
                         "},\"bills\":%" PRIu64 ",\"revenue\":",
                         c->read, c->accepted, c->rejected, c->duplicates,
                         c->pending, r->out->nbills);
  if (rc == RB_OK)
    rc = rb_buf_json_string(&b, money);
  if (rc == RB_OK)
    rc = rb_buf_printf(&b, ",\"rules\":");
  if (rc == RB_OK)
    rc = rb_buf_json_string(&b, r->rules->version);
  if (rc == RB_OK)
    rc = rb_buf_printf(&b, ",\"currency\":");
  if (rc == RB_OK)
    rc = rb_buf_json_string(&b, t->currency);
  if (rc == RB_OK)
    rc = rb_buf_printf(&b, ",\"minutes\":{");
  for (int i = 0; rc == RB_OK && i < t->ntiers; i++) {
    const cli_tier_minutes *m = &r->out->minutes[i];
    if (i > 0)
      rc = rb_buf_printf(&b, ",");
    if (rc == RB_OK)
      rc = rb_buf_json_string(&b, t->tiers[i].name);
    if (rc == RB_OK)
      rc = rb_buf_printf(&b,
                         ":{\"billable\":%" PRId64 ",\"covered\":%" PRId64
                         ",\"postpaid\":%" PRId64 ",\"unbilled\":%" PRId64 "}",
                         m->billable, m->covered, m->postpaid, m->unbilled);
  }
  if (rc == RB_OK)
    rc = rb_buf_printf(&b, "},\"seconds\":");
  if (rc == RB_OK)
    rc = put_seconds(&b, r->elapsed_ns);
  if (rc == RB_OK)
    rc = rb_buf_printf(&b, ",\"records_per_second\":%" PRIu64,
                       per_second(c->read, r->elapsed_ns));
  if (rc == RB_OK && (r->read_ns | r->sort_ns | r->rate_ns | r->write_ns)) {
    const uint64_t ph[4] = {r->read_ns, r->sort_ns, r->rate_ns, r->write_ns};
    const char *const names[4] = {"read", "sort", "rate", "write"};
    rc = rb_buf_printf(&b, ",\"phases\":{");
    for (int i = 0; rc == RB_OK && i < 4; i++) {
      rc = rb_buf_printf(&b, "%s\"%s\":", i > 0 ? "," : "", names[i]);
      if (rc == RB_OK)
        rc = put_seconds(&b, ph[i]);
    }
    if (rc == RB_OK)
      rc = rb_buf_printf(&b, "}");
  }
  if (rc == RB_OK && r->engines > 0)
    rc = rb_buf_printf(&b, ",\"engines\":%zu", r->engines);
  if (rc == RB_OK && r->have_stats) {
    const rb_engine_stats *st = &r->stats;
    rc = rb_buf_printf(
        &b,
        ",\"engine\":{\"usage_ids\":%" PRIu64 ",\"usage_bytes\":%" PRIu64
        ",\"bytes_per_usage_id\":%" PRIu64 ",\"accumulators_peak\":%" PRIu64
        ",\"accumulator_bytes\":%" PRIu64
        ",\"bytes_per_accumulator\":%" PRIu64 "}",
        st->usage_ids, st->usage_bytes,
        st->usage_ids ? st->usage_bytes / st->usage_ids : 0, st->accs_peak,
        st->acc_bytes, st->accs_peak ? st->acc_bytes / st->accs_peak : 0);
  }
  if (rc == RB_OK && r->rules_dir != NULL)
    rc = put_inputs(&b, r);
  if (rc == RB_OK)
    rc = rb_buf_printf(&b, "}\n");
  if (rc != RB_OK) {
    rb_buf_free(&b);
    *err_no = ENOMEM;
    return -1;
  }
  int wrc = write_file(dir, "summary.json", &b);
  rb_buf_free(&b);
  if (wrc != 0) {
    *err_no = wrc;
    return -1;
  }
  return 0;
}

void cli_print_summary(FILE *f, const cli_report *r) {
  const cli_counts *c = &r->counts;
  const rb_tariff *t = &r->rules->tariff;
  const cli_out *o = r->out;
  char a[RB_MONEY_STRLEN], b[RB_MONEY_STRLEN];

  fprintf(f,
          "events: %" PRIu64 " read, %" PRIu64 " accepted, %" PRIu64
          " rejected, %" PRIu64 " duplicates",
          c->read, c->accepted, c->rejected, c->duplicates);
  if (c->pending > 0)
    fprintf(f, ", %" PRIu64 " pending", c->pending);
  fprintf(f, "\nrules:  %s\n", r->rules->version);
  format_money(o->revenue, 2, a, sizeof a);
  fprintf(f, "bills:  %" PRIu64 ", revenue %s %s%s\n", o->nbills, a,
          t->currency, o->revenue_overflow ? " (overflowed)" : "");
  uint64_t shown = o->nbills < CLI_BRIEF_BILLS ? o->nbills : CLI_BRIEF_BILLS;
  for (uint64_t i = 0; i < shown; i++) {
    const cli_bill_brief *br = &o->brief[i];
    format_money(br->total, 2, a, sizeof a);
    format_money(br->balance_after, 2, b, sizeof b);
    fprintf(f, "  %-24s %-7s total %10s  balance %10s  %s\n", br->id,
            rb_cycle_name(br->cycle), a, b, br->arrears ? "arrears" : "paid");
  }
  if (o->nbills > shown)
    fprintf(f, "  ... %" PRIu64 " more\n", o->nbills - shown);
  fprintf(f, "minutes: %-8s %12s %12s %12s %12s\n", "tier", "billable",
          "covered", "postpaid", "unbilled");
  for (int i = 0; i < t->ntiers; i++) {
    const cli_tier_minutes *m = &o->minutes[i];
    fprintf(f,
            "         %-8s %12" PRId64 " %12" PRId64 " %12" PRId64 " %12" PRId64
            "\n",
            t->tiers[i].name, m->billable, m->covered, m->postpaid,
            m->unbilled);
  }
  fprintf(f,
          "outputs: %s/{bills.jsonl,notices.jsonl,rejects.jsonl,"
          "summary.json}\n",
          o->dir);
}
