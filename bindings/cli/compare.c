/* compare.c: `rtcbill compare`, the same events under two rule sets.
 *
 * The question finance asks before a price change: what would these
 * bills have been under the new rules, for whom, and why. The input is
 * parsed once (events.c); the same parsed events are applied to two
 * engines, one per rule set, whose sinks tally per account, app and
 * tier. The two engines share nothing but the read-only events, so they
 * run on two threads: a comparison costs about one simulation, not two.
 * The figures are written by compare_out.c and report.c.
 * Depends on: cli.h, compare.h, rtcbill.h, rtcbill_rules.h, POSIX
 * threads and isatty.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compare.h"
#include "rtcbill_rules.h"

typedef struct cmp_opts {
  const char *rules, *against, *out;
  size_t shares; /* 0: chosen from the input's size */
  const char **files;
  size_t nfiles;
} cmp_opts;

static void help(FILE *f) {
  fprintf(f,
          "usage: " CLI_NAME " compare [--rules A] --against B [--out DIR] "
          "[--shares N] "
          "EVENTS.jsonl...\n"
          "\n"
          "Rates the same events under two rule sets, side by side: what\n"
          "the bills would have been under B, for whom, and why. The input\n"
          "is read once; each rule set runs its own engine on it.\n"
          "\n"
          "Options:\n"
          "  --rules A      the current rule scripts (default: %s)\n"
          "  --against B    the rule scripts to compare with\n"
          "  --out DIR      where compare.json, compare.csv and report.html\n"
          "                 are written (default: the current folder;\n"
          "                 created if missing)\n"
          "  --shares N     rate the accounts in N shares, as simulate does\n"
          "                 (default: about one per 65536 events; 1: one\n"
          "                 engine per rule set); the outputs are the same\n"
          "  -h, --help     show this help\n"
          "\n"
          "Exit status: 0 success, 1 invalid input (any line rejected under\n"
          "either rule set; all outputs are still written), 2 usage error.\n",
          cli_default_rules_dir());
}

/* Returns -1 to go on, or the exit status to return now. */
static int parse_args(int argc, char **argv, cmp_opts *o) {
  const char *shares = NULL;
  memset(o, 0, sizeof *o);
  const cli_opt opts[] = {{"--rules", &o->rules, NULL},
                          {"--against", &o->against, NULL},
                          {"--out", &o->out, NULL},
                          {"--shares", &shares, NULL},
                          {NULL, NULL, NULL}};
  cli_operands files;
  int status = cli_parse_args(argc, argv, "compare", opts, help, &files);
  o->files = files.v;
  o->nfiles = files.n;
  if (status >= 0)
    return status;
  if (o->against == NULL || o->against[0] == '\0')
    return cli_usage_error("compare",
                           "missing --against B (the rules to compare with)");
  if (o->out != NULL && o->out[0] == '\0')
    return cli_usage_error("compare", "--out needs a folder");
  if (o->nfiles == 0)
    return cli_usage_error("compare", "no input files");
  if (o->nfiles > UINT32_MAX)
    return cli_usage_error("compare", "too many input files");
  if ((status = cli_shares_option("compare", shares, &o->shares)) >= 0)
    return status;
  if (o->rules == NULL)
    o->rules = cli_default_rules_dir();
  if (o->out == NULL)
    o->out = ".";
  return -1;
}

/* ------------------------------------------------------------------ */
/* Accounts and apps: sorted arrays with hash indexes                 */
/* ------------------------------------------------------------------ */

static uint64_t hash_str(const char *s) {
  uint64_t h = 1469598103934665603u; /* FNV-1a 64 */
  for (; *s != '\0'; s++)
    h = (h ^ (unsigned char)*s) * 1099511628211u;
  return h;
}

static uint64_t hash_int(int64_t v) {
  uint64_t h = (uint64_t)v * 0x9E3779B97F4A7C15u;
  return h ^ (h >> 29);
}

uint32_t cmp_account_find(const cmp *c, const char *id) {
  if (c->acct_slots == NULL || id == NULL)
    return CMP_NONE;
  for (size_t i = hash_str(id) & c->acct_mask;; i = (i + 1) & c->acct_mask) {
    uint32_t k = c->acct_slots[i];
    if (k == CMP_NONE || strcmp(c->accounts[k].id, id) == 0)
      return k;
  }
}

uint32_t cmp_app_find(const cmp *c, int64_t id) {
  if (c->app_slots == NULL)
    return CMP_NONE;
  for (size_t i = hash_int(id) & c->app_mask;; i = (i + 1) & c->app_mask) {
    uint32_t k = c->app_slots[i];
    if (k == CMP_NONE || c->apps[k].id == id)
      return k;
  }
}

/* A table of at least twice n slots, all empty; NULL when memory is out
 * (or n is absurd). */
static uint32_t *slots_new(size_t n, size_t *mask) {
  size_t cap = 16;
  while (cap < n * 2) {
    if (cap > SIZE_MAX / 4 / sizeof(uint32_t))
      return NULL;
    cap *= 2;
  }
  uint32_t *s = malloc(cap * sizeof *s);
  if (s == NULL)
    return NULL;
  memset(s, 0xff, cap * sizeof *s);
  *mask = cap - 1;
  return s;
}

static int acct_cmp(const void *pa, const void *pb) {
  const cmp_account *a = pa, *b = pb;
  return strcmp(a->id, b->id);
}

static int app_cmp(const void *pa, const void *pb) {
  const cmp_app *a = pa, *b = pb;
  return a->id < b->id ? -1 : a->id > b->id;
}

/* Builds the account and app tables from the creation events, sorted
 * and deduplicated by id (the engine rejects a second creation, so the
 * first one counts; equal account ids are interchangeable, and for an
 * app the smallest event position is kept), with their hash indexes. */
static bool build_tables(cmp *c) {
  const cli_events *in = &c->in;
  size_t na = 0, np = 0;
  for (size_t i = 0; i < in->n; i++) {
    na += cli_events_at(in, i)->type == RB_EV_ACCOUNT;
    np += cli_events_at(in, i)->type == RB_EV_APP;
  }
  c->accounts = calloc(na + 1, sizeof *c->accounts);
  c->apps = calloc(np + 1, sizeof *c->apps);
  const char **app_acct = calloc(np + 1, sizeof *app_acct);
  if (c->accounts == NULL || c->apps == NULL || app_acct == NULL) {
    free(app_acct);
    return false;
  }
  /* The events are in effective-time order, so the first app event of
   * an id is the one the engine accepts; its account is kept by storing
   * the event's position in `account` until the sort is done. */
  for (size_t i = 0; i < in->n; i++) {
    const rb_event *ev = cli_event_full(cli_events_at(in, i));
    if (ev == NULL)
      continue;
    if (ev->type == RB_EV_ACCOUNT) {
      c->accounts[c->naccounts++].id = ev->account;
    } else if (ev->type == RB_EV_APP) {
      app_acct[c->napps] = ev->account;
      c->apps[c->napps].account = (uint32_t)c->napps;
      c->apps[c->napps++].id = ev->app;
    }
  }
  qsort(c->accounts, c->naccounts, sizeof *c->accounts, acct_cmp);
  size_t k = 0;
  for (size_t i = 0; i < c->naccounts; i++)
    if (k == 0 || strcmp(c->accounts[k - 1].id, c->accounts[i].id) != 0)
      c->accounts[k++] = c->accounts[i];
  c->naccounts = k;
  /* For apps, the earliest position of an id wins (see above). */
  qsort(c->apps, c->napps, sizeof *c->apps, app_cmp);
  k = 0;
  for (size_t i = 0; i < c->napps; i++) {
    if (k > 0 && c->apps[k - 1].id == c->apps[i].id) {
      if (c->apps[i].account < c->apps[k - 1].account)
        c->apps[k - 1].account = c->apps[i].account;
      continue;
    }
    c->apps[k++] = c->apps[i];
  }
  c->napps = k;
  c->acct_slots = slots_new(c->naccounts, &c->acct_mask);
  c->app_slots = slots_new(c->napps, &c->app_mask);
  c->app_order = calloc(c->napps + 1, sizeof *c->app_order);
  if (c->acct_slots == NULL || c->app_slots == NULL || c->app_order == NULL) {
    free(app_acct);
    return false;
  }
  for (size_t i = 0; i < c->naccounts; i++) {
    size_t s = hash_str(c->accounts[i].id) & c->acct_mask;
    while (c->acct_slots[s] != CMP_NONE)
      s = (s + 1) & c->acct_mask;
    c->acct_slots[s] = (uint32_t)i;
  }
  for (size_t i = 0; i < c->napps; i++) {
    c->apps[i].account = cmp_account_find(c, app_acct[c->apps[i].account]);
    size_t s = hash_int(c->apps[i].id) & c->app_mask;
    while (c->app_slots[s] != CMP_NONE)
      s = (s + 1) & c->app_mask;
    c->app_slots[s] = (uint32_t)i;
  }
  free(app_acct);
  /* Apps by account: a counting sort keeps them in id order. */
  for (size_t i = 0; i < c->napps; i++)
    if (c->apps[i].account != CMP_NONE)
      c->accounts[c->apps[i].account].app_end++;
  uint32_t at = 0;
  for (size_t i = 0; i < c->naccounts; i++) {
    uint32_t n = c->accounts[i].app_end;
    c->accounts[i].app_begin = c->accounts[i].app_end = at;
    at += n;
  }
  for (size_t i = 0; i < c->napps; i++)
    if (c->apps[i].account != CMP_NONE)
      c->app_order[c->accounts[c->apps[i].account].app_end++] = (uint32_t)i;
  return true;
}

/* ------------------------------------------------------------------ */
/* The sinks: one set of tallies per side, touched by its thread only  */
/* ------------------------------------------------------------------ */

static int add(int64_t *acc, int64_t v) { return rb_money_add(*acc, v, acc); }

static int add_minutes(cli_tier_minutes *m, const rb_bill_line *l) {
  if (add(&m->billable, l->minutes) || add(&m->covered, l->covered) ||
      add(&m->postpaid, l->postpaid) || add(&m->unbilled, l->unbilled))
    return RB_EOVERFLOW;
  return RB_OK;
}

static int on_bill(void *ctx, const rb_bill *b) {
  cmp_side *s = ctx;
  cmp *c = s->cmp;
  uint32_t ai = cmp_account_find(c, b->account);
  cmp_acct_side *as = ai != CMP_NONE ? &c->accounts[ai].side[s->which] : NULL;
  s->bills++;
  if (add(&s->revenue, b->total))
    return RB_EOVERFLOW;
  if (as != NULL) {
    as->bills++;
    as->cycles |= (uint8_t)(1u << b->cycle);
    if (add(&as->total, b->total))
      return RB_EOVERFLOW;
  }
  for (size_t i = 0; i < b->nlines; i++) {
    const rb_bill_line *l = &b->lines[i];
    if (l->tier < 0 || l->tier >= RB_MAX_TIERS)
      return RB_EINVAL;
    if (add(&s->amount, l->amount) || add(&s->tiers[l->tier].amount, l->amount))
      return RB_EOVERFLOW;
    if (add_minutes(&s->tiers[l->tier].m, l) != RB_OK)
      return RB_EOVERFLOW;
    if (as != NULL && (add(&as->amount, l->amount) ||
                       add_minutes(&as->minutes[l->tier], l) != RB_OK))
      return RB_EOVERFLOW;
    uint32_t pi = cmp_app_find(c, l->app);
    if (pi != CMP_NONE) {
      cmp_app_side *ps = &c->apps[pi].side[s->which];
      if (add(&ps->amount, l->amount) || add(&ps->minutes, l->minutes) ||
          add(&ps->postpaid, l->postpaid) || add(&ps->unbilled, l->unbilled))
        return RB_EOVERFLOW;
    }
  }
  return RB_OK;
}

static int on_notice(void *ctx, const rb_notice *n) {
  cmp_side *s = ctx;
  cmp *c = s->cmp;
  switch (n->type) {
  case RB_N_SERVICE_STOPPED:
  case RB_N_POSTPAID_ENABLED: {
    uint32_t pi = cmp_app_find(c, n->app);
    if (pi == CMP_NONE)
      return RB_OK;
    cmp_app_side *ps = &c->apps[pi].side[s->which];
    if (n->type == RB_N_POSTPAID_ENABLED)
      ps->auto_postpaid |= n->reason == RB_POSTPAID_AUTO;
    else if (n->reason >= 0 && n->reason < RB_STOP__COUNT)
      ps->stops |= (uint8_t)(1u << n->reason);
    return RB_OK;
  }
  case RB_N_ARREARS_NOTICE:
  case RB_N_ACCOUNT_RECLAIMED: {
    uint32_t ai = cmp_account_find(c, n->account);
    if (ai == CMP_NONE)
      return RB_OK;
    cmp_acct_side *as = &c->accounts[ai].side[s->which];
    if (n->type == RB_N_ARREARS_NOTICE)
      as->arrears++;
    else
      as->reclaimed = true;
    return RB_OK;
  }
  default:
    return RB_OK;
  }
}

/* Applies every event to this side's engine and runs its clock to the
 * end; the failure, if any, is left in s->rc and s->error. */
static void side_run(cmp_side *s) {
  const cli_events *in = &s->cmp->in;
  rb_sink sink = {.ctx = s, .bill = on_bill, .notice = on_notice};
  if (s->cmp->plan != NULL) {
    /* In shares, one engine after another (the tallies only add up). */
    cli_counts counts = {0};
    s->rc = cli_shares_rate(s->cmp->plan, s->rules, &sink, false, 0, &counts,
                            &s->rejects, s->error, sizeof s->error);
    s->accepted = counts.accepted;
    s->duplicates = counts.duplicates;
    return;
  }
  rb_engine *e = NULL;
  int rc = rb_engine_new(s->rules, &sink, &e);
  if (rc != RB_OK) {
    s->rc = rc;
    snprintf(s->error, sizeof s->error, "%s", rb_strerror(rc));
    return;
  }
  cli_progress pg;
  cli_progress_start(&pg, s->progress, "rating", in->n);
  rb_time last = RB_TIME_NONE;
  cli_feed feed;
  cli_feed_start(&feed, e, in->n, cli_events_ev, in);
  for (size_t i = 0; i < in->n && rc == RB_OK; i++) {
    const rb_event *ev = cli_feed_event(&feed, i);
    cli_progress_step(&pg, i, i);
    rb_reject rej;
    memset(&rej, 0, sizeof rej);
    int arc = rb_engine_apply(e, ev, &rej);
    if (arc == RB_OK) {
      s->accepted++;
      if (last == RB_TIME_NONE || ev->at > last)
        last = ev->at;
    } else if (arc == RB_DUPLICATE) {
      s->duplicates++;
    } else if (arc == RB_EREJECT) {
      const cli_event *ce = cli_events_at(in, i);
      if (!cli_rejects_add(&s->rejects, ce->file, ce->line, &rej))
        rc = RB_ENOMEM;
    } else {
      rc = arc < 0 ? arc : RB_EINVAL;
    }
  }
  cli_progress_end(&pg, in->n, in->n);
  if (rc == RB_OK)
    rc = cli_engine_finish(e, last);
  if (rc != RB_OK) {
    s->rc = rc;
    if (rc == RB_EPOLICY && rb_engine_last_error(e) != NULL)
      snprintf(s->error, sizeof s->error, "%s", rb_engine_last_error(e));
    else
      snprintf(s->error, sizeof s->error, "%s", rb_strerror(rc));
  }
  rb_engine_free(e);
}

static void *side_thread(void *arg) {
  side_run(arg);
  return NULL;
}

/* ------------------------------------------------------------------ */
/* Derived figures                                                     */
/* ------------------------------------------------------------------ */

bool cmp_percent(rb_money a, rb_money b, char *buf, size_t cap) {
  if (a == 0) {
    if (cap > 0)
      buf[0] = '\0';
    return false;
  }
  __extension__ typedef __int128 i128;
  /* Hundredths of a percent: (b - a) * 10000 / a, half away from 0. */
  i128 num = ((i128)b - a) * 10000;
  i128 den = a < 0 ? -(i128)a : a;
  if (a < 0)
    num = -num;
  bool neg = num < 0;
  i128 mag = neg ? -num : num;
  i128 q = (mag * 2 + den) / (den * 2);
  unsigned long long whole = (unsigned long long)(q / 100);
  unsigned frac = (unsigned)(q % 100);
  if (q / 100 > (i128)UINT64_MAX)
    whole = UINT64_MAX;
  snprintf(buf, cap, "%s%llu.%02u", neg && q != 0 ? "-" : "", whole, frac);
  return true;
}

void cmp_cycles_name(uint8_t cycles, char *buf, size_t cap) {
  bool m = cycles & (1u << RB_CYCLE_MONTHLY);
  bool d = cycles & (1u << RB_CYCLE_DAILY);
  snprintf(buf, cap, "%s", m && d ? "monthly+daily"
                           : m    ? "monthly"
                           : d    ? "daily"
                                  : "none");
}

void cmp_stops_name(uint8_t stops, char *buf, size_t cap) {
  size_t n = 0;
  if (cap > 0)
    buf[0] = '\0';
  for (int r = 0; r < RB_STOP__COUNT; r++) {
    if (!(stops & (1u << r)))
      continue;
    int w = snprintf(buf + n, cap > n ? cap - n : 0, "%s%s", n ? "+" : "",
                     rb_stop_reason_name((rb_stop_reason)r));
    if (w > 0)
      n += (size_t)w;
  }
  if (n == 0)
    snprintf(buf, cap, "none");
}

static void push_diff(cmp_diff *out, size_t *n, size_t *more, const char *what,
                      int64_t app, const char *a, const char *b) {
  if (*n >= CMP_DIFFS_MAX) {
    (*more)++;
    return;
  }
  cmp_diff *d = &out[(*n)++];
  d->what = what;
  d->app = app;
  snprintf(d->a, sizeof d->a, "%s", a);
  snprintf(d->b, sizeof d->b, "%s", b);
}

size_t cmp_differences(const cmp *c, size_t i, cmp_diff *out, size_t *more) {
  const cmp_account *acct = &c->accounts[i];
  const cmp_acct_side *A = &acct->side[0], *B = &acct->side[1];
  size_t n = 0;
  char a[48], b[48];
  *more = 0;
  if (A->cycles != B->cycles) {
    cmp_cycles_name(A->cycles, a, sizeof a);
    cmp_cycles_name(B->cycles, b, sizeof b);
    push_diff(out, &n, more, "cycle", 0, a, b);
  }
  for (uint32_t k = acct->app_begin; k < acct->app_end; k++) {
    const cmp_app *p = &c->apps[c->app_order[k]];
    if (p->side[0].stops != p->side[1].stops) {
      cmp_stops_name(p->side[0].stops, a, sizeof a);
      cmp_stops_name(p->side[1].stops, b, sizeof b);
      push_diff(out, &n, more, "service_stopped", p->id, a, b);
    }
    if (p->side[0].auto_postpaid != p->side[1].auto_postpaid)
      push_diff(out, &n, more, "postpaid_auto", p->id,
                p->side[0].auto_postpaid ? "yes" : "no",
                p->side[1].auto_postpaid ? "yes" : "no");
  }
  if ((A->arrears > 0) != (B->arrears > 0)) {
    snprintf(a, sizeof a, "%" PRIu32, A->arrears);
    snprintf(b, sizeof b, "%" PRIu32, B->arrears);
    push_diff(out, &n, more, "arrears_notices", 0, a, b);
  }
  if (A->reclaimed != B->reclaimed)
    push_diff(out, &n, more, "reclaimed", 0, A->reclaimed ? "yes" : "no",
              B->reclaimed ? "yes" : "no");
  int64_t ua = 0, ub = 0;
  for (int t = 0; t < RB_MAX_TIERS; t++) {
    ua += A->minutes[t].unbilled;
    ub += B->minutes[t].unbilled;
  }
  if (ua != ub) {
    snprintf(a, sizeof a, "%" PRId64, ua);
    snprintf(b, sizeof b, "%" PRId64, ub);
    push_diff(out, &n, more, "unbilled_minutes", 0, a, b);
  }
  return n;
}

static bool compute_deltas(cmp *c) {
  for (size_t i = 0; i < c->naccounts; i++) {
    cmp_account *a = &c->accounts[i];
    if (rb_money_sub(a->side[1].total, a->side[0].total, &a->delta) ||
        rb_money_sub(a->side[1].amount, a->side[0].amount, &a->delta_exact))
      return false;
  }
  return true;
}

/* ------------------------------------------------------------------ */
/* The command                                                         */
/* ------------------------------------------------------------------ */

static int load_side(cmp *c, int which, const char *dir) {
  cmp_side *s = &c->side[which];
  s->cmp = c;
  s->which = which;
  s->rules_dir = dir;
  char err[512] = "";
  int rc = rb_lua_rules_load(dir, &s->rules, err, sizeof err);
  if (rc != RB_OK) {
    if (err[0] != '\0')
      fprintf(stderr, "%s\n", err);
    else
      fprintf(stderr, CLI_NAME ": %s: %s\n", dir, rb_strerror(rc));
    return 1;
  }
  s->data = rb_rules_data_get(s->rules);
  return 0;
}

static void cmp_free(cmp *c, cmp_opts *o) {
  for (int i = 0; i < 2; i++) {
    if (c->side[i].rules != NULL)
      rb_rules_unref(c->side[i].rules);
    cli_rejects_free(&c->side[i].rejects);
  }
  cli_shares_free(c->plan);
  cli_events_free(&c->in);
  free(c->accounts);
  free(c->apps);
  free(c->app_order);
  free(c->acct_slots);
  free(c->app_slots);
  free(o->files);
}

static void print_summary(const cmp *c) {
  char a[RB_MONEY_STRLEN], b[RB_MONEY_STRLEN], d[RB_MONEY_STRLEN], p[40];
  rb_money delta = 0;
  rb_money_sub(c->side[1].revenue, c->side[0].revenue, &delta);
  cli_money(c->side[0].revenue, 2, a, sizeof a);
  cli_money(c->side[1].revenue, 2, b, sizeof b);
  cli_money(delta, 2, d, sizeof d);
  if (!cmp_percent(c->side[0].revenue, c->side[1].revenue, p, sizeof p))
    snprintf(p, sizeof p, "n/a");
  size_t up = 0, down = 0, diffs = 0;
  for (size_t i = 0; i < c->naccounts; i++) {
    cmp_diff tmp[CMP_DIFFS_MAX];
    size_t more;
    up += c->accounts[i].delta_exact > 0;
    down += c->accounts[i].delta_exact < 0;
    diffs += cmp_differences(c, i, tmp, &more) > 0;
  }
  printf("events:   %" PRIu64 " read, %zu rejected by the reader\n",
         c->in.read, c->in.rejects.n);
  for (int i = 0; i < 2; i++)
    printf("rules %c:  %s (%s), %" PRIu64 " accepted, %zu rejected, %" PRIu64
           " bills\n",
           'A' + i, c->side[i].rules_dir, c->side[i].data->version,
           c->side[i].accepted, c->side[i].rejects.n, c->side[i].bills);
  printf("revenue:  A %s, B %s %s, delta %s (%s%%)\n", a, b,
         c->side[0].data->tariff.currency, d, p);
  printf("accounts: %zu, %zu pay more, %zu pay less, %zu unchanged, "
         "%zu with different policy outcomes\n",
         c->naccounts, up, down, c->naccounts - up - down, diffs);
  printf("outputs:  %s/{compare.json,compare.csv,report.html}\n", c->out);
}

int cli_compare(int argc, char **argv) {
  cmp_opts o;
  cmp c;
  memset(&c, 0, sizeof c);
  int status = parse_args(argc, argv, &o);
  if (status >= 0) {
    free(o.files);
    return status;
  }
  bool tty = isatty(STDERR_FILENO) == 1;
  c.out = o.out;
  c.files = o.files;
  c.nfiles = o.nfiles;
  if (load_side(&c, 0, o.rules) != 0 || load_side(&c, 1, o.against) != 0) {
    cmp_free(&c, &o);
    return CLI_EXIT_INVALID;
  }
  uint64_t t0 = cli_now_ns();
  if (cli_events_read_jobs(&c.in, o.files, o.nfiles, tty, 2) != 0) {
    cmp_free(&c, &o);
    return CLI_EXIT_INVALID;
  }
  cli_events_sort(&c.in);
  /* Each side rates the accounts in shares, as simulate does. */
  size_t nshares = o.shares != 0 ? o.shares : cli_jobs_shares(c.in.n, 1);
  if (!build_tables(&c) ||
      (nshares > 1 && cli_shares_plan(&c.in, 2, nshares, &c.plan) < 0)) {
    fprintf(stderr, CLI_NAME ": %s\n", strerror(ENOMEM));
    cmp_free(&c, &o);
    return CLI_EXIT_INVALID;
  }
  /* B on a thread of its own, A here (with the progress line); if no
   * thread can be made, one after the other. */
  c.side[0].progress = tty;
  pthread_t th;
  bool threaded = pthread_create(&th, NULL, side_thread, &c.side[1]) == 0;
  side_run(&c.side[0]);
  if (threaded)
    pthread_join(th, NULL);
  else
    side_run(&c.side[1]);
  c.elapsed_ns = cli_now_ns() - t0;
  /* Rejects in file and line order, as simulate's rejects.jsonl. */
  cli_rejects_sort(&c.side[0].rejects);
  cli_rejects_sort(&c.side[1].rejects);
  for (int i = 0; i < 2; i++) {
    if (c.side[i].rc != RB_OK) {
      fprintf(stderr, CLI_NAME ": rules %c (%s): %s\n", 'A' + i,
              c.side[i].rules_dir, c.side[i].error);
      cmp_free(&c, &o);
      return CLI_EXIT_INVALID;
    }
  }
  if (!compute_deltas(&c)) {
    fprintf(stderr, CLI_NAME ": %s\n", rb_strerror(RB_EOVERFLOW));
    cmp_free(&c, &o);
    return CLI_EXIT_INVALID;
  }
  int err = cli_mkdir_p(o.out);
  const char *what = o.out;
  if (err == 0 && (err = cmp_write_json(&c, o.out)) != 0)
    what = "compare.json";
  if (err == 0 && (err = cmp_write_csv(&c, o.out)) != 0)
    what = "compare.csv";
  if (err == 0 && (err = cmp_write_report(&c, o.out)) != 0)
    what = "report.html";
  if (err != 0) {
    if (what == o.out)
      fprintf(stderr, CLI_NAME ": %s: %s\n", o.out, strerror(err));
    else
      fprintf(stderr, CLI_NAME ": %s/%s: %s\n", o.out, what, strerror(err));
    cmp_free(&c, &o);
    return CLI_EXIT_INVALID;
  }
  print_summary(&c);
  size_t nrej = c.in.rejects.n + c.side[0].rejects.n + c.side[1].rejects.n;
  if (nrej > 0)
    fprintf(stderr, CLI_NAME ": %zu lines rejected (see rejects in "
                    "%s/compare.json)\n",
            nrej, o.out);
  status = nrej > 0 ? CLI_EXIT_INVALID : CLI_EXIT_OK;
  cmp_free(&c, &o);
  return status;
}
