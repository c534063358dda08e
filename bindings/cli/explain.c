/* explain.c: `rtcbill explain`, how a bill line came to be.
 *
 * Replays the events of the bill's account with the engine's trace sink
 * on (the engine keeps no history, so the provenance is recorded while
 * it happens): every usage record that added seconds to an accumulator,
 * every package cover with its factor, the minutes that went postpaid or
 * unbilled, retroactive cover, and finally which bill the accumulator
 * became a line of. Only the accumulators that end up in the asked bill
 * are printed: the sessions (count, seconds, the running total and its
 * ceil to minutes), the covers by package, postpaid minutes x unit price,
 * the bill's sum, its rounding and the rules version. Text by default,
 * JSON with --json. The events come from the command line or from the
 * inputs a simulate run recorded in DIR/summary.json (--from DIR).
 * Depends on: cli.h, rtcbill.h, rtcbill_rules.h.
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

#define SESSIONS_DEFAULT 20 /* usage records listed per line */
#define OTHER_BILLS 12      /* bill ids suggested when the id is wrong */

typedef struct xp_opts {
  const char *bill, *line, *rules, *from;
  bool json;
  int64_t sessions;
  const char **files;
  size_t nfiles;
  char **owned; /* strings read from --from, freed at the end */
  size_t nowned;
} xp_opts;

typedef struct xp_rec {
  rb_trace_type type;
  rb_time at;
  const char *id; /* usage id or package id (arena copies) */
  int64_t seconds, acc_seconds, minutes, factor;
  bool postpaid;
} xp_rec;

/* The records of one accumulator (app, tier, period, late). */
typedef struct xp_acc {
  int64_t app;
  int tier;
  bool late, billed; /* billed: it is a line of the asked bill */
  rb_time period;
  xp_rec *v;
  size_t n, cap;
} xp_acc;

typedef struct xp {
  xp_opts opt;
  const char *account; /* the bill's account */
  rb_arena *strings;
  xp_acc *accs;
  size_t naccs, cap_accs;
  int rc; /* a failure inside a sink */
  /* The asked bill, copied when it is issued. */
  bool found;
  rb_bill bill;
  char bill_id[RB_ID_MAX + 16];
  char version[RB_VERSION_MAX];
  rb_tariff tariff;
  rb_bill_line *lines;
  char others[OTHER_BILLS][RB_ID_MAX + 16];
  size_t nothers;
  int64_t line_app; /* --line, resolved against the bill's tariff */
  int line_tier;
} xp;

static void help(FILE *f) {
  fprintf(f,
          "usage: " CLI_NAME " explain --bill ID [--line APP/TIER] [--rules "
          "DIR] [--json] EVENTS.jsonl...\n"
          "       " CLI_NAME " explain --bill ID [--line APP/TIER] --from "
          "DIR\n"
          "\n"
          "Shows how the lines of a bill came to be: the usage sessions\n"
          "that contributed and their seconds, the ceil to minutes, the\n"
          "packages that covered minutes (with their factors), the\n"
          "postpaid minutes x unit price, the bill's rounding and the rules\n"
          "version. The events are replayed for the bill's account only.\n"
          "\n"
          "Options:\n"
          "  --bill ID        the bill, e.g. A1/2020-11 or A1/2020-11-06\n"
          "  --line APP/TIER  only this line, e.g. 1400000001/HD\n"
          "  --rules DIR      the rule scripts (default: %s)\n"
          "  --from DIR       a simulate output folder: replay the rules and\n"
          "                   event files recorded in its summary.json\n"
          "  --sessions N     usage records listed per line (default %d;\n"
          "                   all are counted)\n"
          "  --json           JSON instead of text\n"
          "  -h, --help       show this help\n"
          "\n"
          "Exit status: 0 success, 1 no such bill or line, or invalid input,\n"
          "2 usage error.\n",
          cli_default_rules_dir(), SESSIONS_DEFAULT);
}

static int parse_args(int argc, char **argv, xp_opts *o) {
  const char *sessions = NULL;
  memset(o, 0, sizeof *o);
  o->sessions = SESSIONS_DEFAULT;
  const cli_opt opts[] = {{"--bill", &o->bill, NULL},
                          {"--line", &o->line, NULL},
                          {"--rules", &o->rules, NULL},
                          {"--from", &o->from, NULL},
                          {"--sessions", &sessions, NULL},
                          {"--json", NULL, &o->json},
                          {NULL, NULL, NULL}};
  cli_operands files;
  int status = cli_parse_args(argc, argv, "explain", opts, help, &files);
  o->files = files.v;
  o->nfiles = files.n;
  if (status >= 0)
    return status;
  if (o->bill == NULL || strchr(o->bill, '/') == NULL)
    return cli_usage_error("explain", "missing --bill ACCOUNT/PERIOD");
  if (sessions != NULL) {
    char *end;
    errno = 0;
    long long n = strtoll(sessions, &end, 10);
    if (errno != 0 || *end != '\0' || end == sessions || n < 0)
      return cli_usage_error("explain", "--sessions '%s' is not a count",
                             sessions);
    o->sessions = n;
  }
  if (o->from != NULL && o->nfiles > 0)
    return cli_usage_error("explain", "give either --from DIR or event files");
  if (o->from == NULL && o->nfiles == 0)
    return cli_usage_error("explain", "no input files (or --from DIR)");
  return -1;
}

/* ------------------------------------------------------------------ */
/* --from DIR: the inputs recorded in summary.json                     */
/* ------------------------------------------------------------------ */

static const char *skip_ws(const char *p) {
  while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
    p++;
  return p;
}

static void put_utf8(char **w, unsigned long c) {
  unsigned char *o = (unsigned char *)*w;
  if (c < 0x80) {
    *o++ = (unsigned char)c;
  } else if (c < 0x800) {
    *o++ = (unsigned char)(0xC0 | (c >> 6));
    *o++ = (unsigned char)(0x80 | (c & 0x3F));
  } else if (c < 0x10000) {
    *o++ = (unsigned char)(0xE0 | (c >> 12));
    *o++ = (unsigned char)(0x80 | ((c >> 6) & 0x3F));
    *o++ = (unsigned char)(0x80 | (c & 0x3F));
  } else {
    *o++ = (unsigned char)(0xF0 | (c >> 18));
    *o++ = (unsigned char)(0x80 | ((c >> 12) & 0x3F));
    *o++ = (unsigned char)(0x80 | ((c >> 6) & 0x3F));
    *o++ = (unsigned char)(0x80 | (c & 0x3F));
  }
  *w = (char *)o;
}

static bool hex4(const char *p, unsigned long *out) {
  unsigned long v = 0;
  for (int i = 0; i < 4; i++) {
    char c = p[i];
    int d = c >= '0' && c <= '9'   ? c - '0'
            : c >= 'a' && c <= 'f' ? c - 'a' + 10
            : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                   : -1;
    if (d < 0)
      return false;
    v = v * 16 + (unsigned long)d;
  }
  *out = v;
  return true;
}

/* Decodes the JSON string at *p (at its opening quote) into a malloc'd
 * copy and moves *p past it; NULL on malformed text or no memory. The
 * summary was written by rtcbill itself, so this reads strings only. */
static char *json_string(const char **p) {
  const char *s = *p;
  if (*s != '"')
    return NULL;
  s++;
  size_t n = 0;
  while (s[n] != '\0' && s[n] != '"')
    n += s[n] == '\\' && s[n + 1] != '\0' ? 2 : 1;
  if (s[n] != '"')
    return NULL;
  char *out = malloc(n + 1), *w = out;
  if (out == NULL)
    return NULL;
  for (size_t i = 0; i < n; i++) {
    if (s[i] != '\\') {
      *w++ = s[i];
      continue;
    }
    char e = s[++i];
    unsigned long c;
    switch (e) {
    case 'b': *w++ = '\b'; break;
    case 'f': *w++ = '\f'; break;
    case 'n': *w++ = '\n'; break;
    case 'r': *w++ = '\r'; break;
    case 't': *w++ = '\t'; break;
    case 'u':
      if (i + 4 >= n + 1 || !hex4(s + i + 1, &c))
        goto bad;
      i += 4;
      if (c >= 0xD800 && c < 0xDC00 && i + 6 < n + 1 && s[i + 1] == '\\' &&
          s[i + 2] == 'u') {
        unsigned long lo;
        if (!hex4(s + i + 3, &lo) || lo < 0xDC00 || lo > 0xDFFF)
          goto bad;
        c = 0x10000 + ((c - 0xD800) << 10) + (lo - 0xDC00);
        i += 6;
      }
      put_utf8(&w, c);
      break;
    default: *w++ = e; break;
    }
  }
  *w = '\0';
  *p = s + n + 1;
  return out;
bad:
  free(out);
  return NULL;
}

static bool own(xp_opts *o, char *s) {
  char **v = realloc(o->owned, (o->nowned + 1) * sizeof *v);
  if (v == NULL) {
    free(s);
    return false;
  }
  o->owned = v;
  o->owned[o->nowned++] = s;
  return true;
}

/* path as recorded, made absolute against the recorded folder. */
static char *resolve(const char *cwd, char *path) {
  if (path[0] == '/' || cwd == NULL || cwd[0] == '\0' ||
      strcmp(path, "-") == 0)
    return path;
  char *j = cli_path_join(cwd, path);
  free(path);
  return j;
}

/* Reads DIR/summary.json's "inputs". Returns 0 or prints why and 1. */
static int read_from(xp_opts *o) {
  char *path = cli_path_join(o->from, "summary.json");
  FILE *f = path != NULL ? fopen(path, "rb") : NULL;
  if (f == NULL) {
    fprintf(stderr, CLI_NAME ": %s: %s\n", path ? path : o->from,
            strerror(path ? errno : ENOMEM));
    free(path);
    return 1;
  }
  rb_buf b = {0};
  char chunk[4096];
  size_t got;
  int rc = RB_OK;
  while (rc == RB_OK && (got = fread(chunk, 1, sizeof chunk, f)) > 0)
    rc = rb_buf_append(&b, chunk, got);
  fclose(f);
  const char *p = b.data != NULL ? strstr(b.data, "\"inputs\":{") : NULL;
  char *cwd = NULL, *rules = NULL;
  bool ok = rc == RB_OK && p != NULL;
  if (ok)
    p += strlen("\"inputs\":{");
  while (ok && *(p = skip_ws(p)) == '"') {
    char *key = json_string(&p);
    p = skip_ws(p);
    ok = key != NULL && *p == ':';
    p = skip_ws(p + 1);
    if (ok && strcmp(key, "events") == 0 && *p == '[') {
      p = skip_ws(p + 1);
      while (ok && *p == '"') {
        char *file = json_string(&p);
        ok = file != NULL && own(o, file);
        p = skip_ws(p);
        if (*p == ',')
          p = skip_ws(p + 1);
      }
      ok = ok && *p == ']';
      p++;
    } else if (ok) {
      char *v = json_string(&p);
      ok = v != NULL;
      if (ok && strcmp(key, "cwd") == 0)
        cwd = v;
      else if (ok && strcmp(key, "rules") == 0)
        rules = v;
      else
        free(v);
    }
    free(key);
    p = skip_ws(p);
    if (*p == ',')
      p++;
  }
  rb_buf_free(&b);
  if (!ok || o->nowned == 0 || rules == NULL) {
    fprintf(stderr, CLI_NAME ": %s: no \"inputs\" recorded (made by an "
                    "older rtcbill?); give the event files instead\n",
            path);
    free(cwd);
    free(rules);
    free(path);
    return 1;
  }
  free(path);
  const char **files = realloc(o->files, (o->nowned + 1) * sizeof *files);
  if (files == NULL) {
    free(cwd);
    free(rules);
    return 1;
  }
  o->files = files;
  for (size_t i = 0; i < o->nowned; i++) {
    o->owned[i] = resolve(cwd, o->owned[i]);
    if (o->owned[i] == NULL) {
      free(cwd);
      free(rules);
      return 1;
    }
    o->files[o->nfiles++] = o->owned[i];
  }
  rules = resolve(cwd, rules);
  free(cwd);
  if (rules == NULL || !own(o, rules))
    return 1;
  if (o->rules == NULL)
    o->rules = rules;
  return 0;
}

/* ------------------------------------------------------------------ */
/* The trace and bill sinks                                            */
/* ------------------------------------------------------------------ */

static xp_acc *acc_get(xp *x, const rb_trace *t) {
  for (size_t i = 0; i < x->naccs; i++) {
    xp_acc *a = &x->accs[i];
    if (!a->billed && a->app == t->app && a->tier == t->tier &&
        a->late == t->late && a->period == t->period)
      return a;
  }
  if (x->naccs == x->cap_accs) {
    size_t cap = x->cap_accs ? x->cap_accs * 2 : 16;
    xp_acc *v = realloc(x->accs, cap * sizeof *v);
    if (v == NULL)
      return NULL;
    x->accs = v;
    x->cap_accs = cap;
  }
  xp_acc *a = &x->accs[x->naccs++];
  memset(a, 0, sizeof *a);
  a->app = t->app;
  a->tier = t->tier;
  a->late = t->late;
  a->period = t->period;
  return a;
}

static int on_trace(void *ctx, const rb_trace *t) {
  xp *x = ctx;
  if (strcmp(t->account, x->account) != 0)
    return RB_OK;
  xp_acc *a = acc_get(x, t);
  if (a == NULL)
    return x->rc = RB_ENOMEM;
  if (t->type == RB_TRACE_BILLED) {
    /* A line of another bill: the accumulator starts again (late ones
     * are reused after each bill). */
    if (t->bill != NULL && strcmp(t->bill, x->opt.bill) == 0)
      a->billed = true;
    else
      a->n = 0;
    return RB_OK;
  }
  if (a->n == a->cap) {
    size_t cap = a->cap ? a->cap * 2 : 16;
    xp_rec *v = realloc(a->v, cap * sizeof *v);
    if (v == NULL)
      return x->rc = RB_ENOMEM;
    a->v = v;
    a->cap = cap;
  }
  xp_rec *r = &a->v[a->n];
  memset(r, 0, sizeof *r);
  r->type = t->type;
  r->at = t->at;
  const char *id = t->type == RB_TRACE_USAGE ? t->usage_id : t->package;
  if (id != NULL && (r->id = rb_arena_strndup(x->strings, id, strlen(id))) ==
                        NULL)
    return x->rc = RB_ENOMEM;
  r->seconds = t->seconds;
  r->acc_seconds = t->acc_seconds;
  r->minutes = t->minutes;
  r->factor = t->factor;
  r->postpaid = t->postpaid;
  a->n++;
  return RB_OK;
}

static int on_bill(void *ctx, const rb_bill *b) {
  xp *x = ctx;
  if (strcmp(b->account, x->account) != 0)
    return RB_OK;
  if (strcmp(b->id, x->opt.bill) != 0) {
    if (x->nothers < OTHER_BILLS)
      snprintf(x->others[x->nothers++], sizeof x->others[0], "%s", b->id);
    return RB_OK;
  }
  x->found = true;
  x->bill = *b;
  snprintf(x->bill_id, sizeof x->bill_id, "%s", b->id);
  snprintf(x->version, sizeof x->version, "%s", b->rules_version);
  x->tariff = *b->tariff;
  x->lines = malloc((b->nlines + 1) * sizeof *x->lines);
  if (x->lines == NULL)
    return x->rc = RB_ENOMEM;
  memcpy(x->lines, b->lines, b->nlines * sizeof *x->lines);
  x->bill.id = x->bill_id;
  x->bill.account = x->account;
  x->bill.rules_version = x->version;
  x->bill.tariff = &x->tariff;
  x->bill.lines = x->lines;
  return RB_OK;
}

/* ------------------------------------------------------------------ */
/* The replay                                                          */
/* ------------------------------------------------------------------ */

static bool app_in(const int64_t *apps, size_t n, int64_t app) {
  for (size_t i = 0; i < n; i++)
    if (apps[i] == app)
      return true;
  return false;
}

/* Applies the account's events (the engine keeps accounts apart, so the
 * others cannot change its bills) and runs the clock to the end. */
static int replay(xp *x, rb_rules *rules, const cli_events *in) {
  size_t napps = 0;
  int64_t *apps = malloc((in->n + 1) * sizeof *apps);
  if (apps == NULL)
    return RB_ENOMEM;
  for (size_t i = 0; i < in->n; i++) {
    const cli_event *ce = cli_events_at(in, i);
    if (ce->type == RB_EV_APP &&
        strcmp(cli_event_account(ce), x->account) == 0 &&
        !app_in(apps, napps, ce->app))
      apps[napps++] = ce->app;
  }
  rb_sink sink = {.ctx = x, .bill = on_bill, .trace = on_trace};
  rb_engine *e = NULL;
  int rc = rb_engine_new(rules, &sink, &e);
  rb_time last = RB_TIME_NONE;
  for (size_t i = 0; i < in->n && rc == RB_OK; i++) {
    const cli_event *ce = cli_events_at(in, i);
    bool mine;
    switch (ce->type) {
    case RB_EV_ENABLE_POSTPAID:
    case RB_EV_DISABLE_POSTPAID:
    case RB_EV_USAGE:
      mine = app_in(apps, napps, ce->app);
      break;
    default: {
      const char *account = cli_event_account(ce);
      mine = account != NULL && strcmp(account, x->account) == 0;
      break;
    }
    }
    if (!mine)
      continue;
    rb_event ev;
    cli_event_unpack(ce, &ev);
    rb_reject rej;
    int arc = rb_engine_apply(e, &ev, &rej);
    if (arc == RB_OK && (last == RB_TIME_NONE || ev.at > last))
      last = ev.at;
    else if (arc < 0 && arc != RB_EREJECT)
      rc = arc;
  }
  if (rc == RB_OK)
    rc = cli_engine_finish(e, last);
  if (rc != RB_OK && x->rc == RB_OK && rc == RB_EPOLICY && e != NULL)
    fprintf(stderr, CLI_NAME ": %s\n", rb_engine_last_error(e));
  rb_engine_free(e);
  free(apps);
  return x->rc != RB_OK ? x->rc : rc;
}

/* ------------------------------------------------------------------ */
/* Output                                                              */
/* ------------------------------------------------------------------ */

/* What one line's records add up to. */
typedef struct xp_sum {
  int64_t records, sessions, seconds, minutes;
  int64_t uncovered_postpaid, uncovered_unbilled;
  int64_t retro_postpaid, retro_unbilled;
} xp_sum;

static void summarise(const xp_acc *a, xp_sum *s) {
  memset(s, 0, sizeof *s);
  const char *prev = NULL;
  for (size_t i = 0; i < a->n; i++) {
    const xp_rec *r = &a->v[i];
    switch (r->type) {
    case RB_TRACE_USAGE:
      s->records++;
      /* A session split at a midnight inside the period adds twice. */
      if (prev == NULL || r->id == NULL || strcmp(prev, r->id) != 0)
        s->sessions++;
      prev = r->id;
      s->seconds = r->acc_seconds;
      s->minutes = r->minutes;
      break;
    case RB_TRACE_UNCOVERED:
      *(r->postpaid ? &s->uncovered_postpaid : &s->uncovered_unbilled) +=
          r->minutes;
      break;
    case RB_TRACE_RETRO:
      *(r->postpaid ? &s->retro_postpaid : &s->retro_unbilled) += r->minutes;
      break;
    default:
      break;
    }
  }
}

/* Covers of a line grouped by package, in order of first use. */
typedef struct xp_cover {
  const char *package;
  int64_t factor, minutes, retro;
} xp_cover;

static size_t covers(const xp_acc *a, xp_cover *out, size_t cap) {
  size_t n = 0;
  for (size_t i = 0; i < a->n; i++) {
    const xp_rec *r = &a->v[i];
    if (r->type != RB_TRACE_COVER && r->type != RB_TRACE_RETRO)
      continue;
    size_t k = 0;
    while (k < n && strcmp(out[k].package, r->id ? r->id : "") != 0)
      k++;
    if (k == n) {
      if (n == cap)
        continue;
      out[n].package = r->id ? r->id : "";
      out[n].factor = r->factor;
      out[n].minutes = out[n].retro = 0;
      n++;
    }
    if (r->type == RB_TRACE_COVER)
      out[k].minutes += r->minutes;
    else
      out[k].retro += r->minutes;
    if (r->factor > 0)
      out[k].factor = r->factor;
  }
  return n;
}

#define COVERS_MAX 64

static const xp_acc *line_acc(const xp *x, const rb_bill_line *l) {
  for (size_t i = 0; i < x->naccs; i++) {
    const xp_acc *a = &x->accs[i];
    if (a->billed && a->app == l->app && a->tier == l->tier &&
        a->late == l->late && (!l->late || a->period == l->origin))
      return a;
  }
  return NULL;
}

static void tstr(rb_time t, int32_t off, char *buf, size_t cap) {
  if (rb_time_format(t, off, buf, cap) < 0)
    snprintf(buf, cap, "?");
}

static void money8(rb_money v, char *buf, size_t cap) {
  if (rb_money_format(v, RB_MONEY_PLACES, buf, cap) < 0)
    snprintf(buf, cap, "?");
}

static void text_line(const xp *x, const rb_bill_line *l, const xp_acc *a) {
  const rb_tariff *t = &x->tariff;
  char ts[RB_TIME_STRLEN], m[RB_MONEY_STRLEN], p[RB_MONEY_STRLEN];
  printf("\nLine: app %" PRId64 ", tier %s", l->app, t->tiers[l->tier].name);
  if (l->late) {
    tstr(l->origin, t->tz_offset, ts, sizeof ts);
    printf(", late usage of the period starting %s", ts);
  }
  printf("\n");
  if (a == NULL) {
    printf("  (no trace of this line was recorded)\n");
    return;
  }
  xp_sum s;
  summarise(a, &s);
  printf("  usage: %" PRId64 " session%s (%" PRId64 " usage record%s), %"
         PRId64 " seconds\n",
         s.sessions, s.sessions == 1 ? "" : "s", s.records,
         s.records == 1 ? "" : "s", s.seconds);
  int64_t shown = 0;
  for (size_t i = 0; i < a->n; i++) {
    const xp_rec *r = &a->v[i];
    if (r->type != RB_TRACE_USAGE || shown >= x->opt.sessions)
      continue;
    shown++;
    tstr(r->at, t->tz_offset, ts, sizeof ts);
    printf("    %-16s effective %s  +%" PRId64 " s  running total %" PRId64
           " s = %" PRId64 " min\n",
           r->id ? r->id : "?", ts, r->seconds, r->acc_seconds, r->minutes);
  }
  if (s.records > shown)
    printf("    ... %" PRId64 " more usage records\n", s.records - shown);
  printf("  minutes: ceil(%" PRId64 " s / 60) = %" PRId64 "\n", s.seconds,
         l->minutes);
  xp_cover cv[COVERS_MAX];
  size_t nc = covers(a, cv, COVERS_MAX);
  printf("  covered: %" PRId64 " min\n", l->covered);
  for (size_t i = 0; i < nc; i++) {
    int64_t all = cv[i].minutes + cv[i].retro;
    printf("    package %s: %" PRId64 " min x factor %" PRId64 " = %" PRId64
           " package minutes",
           cv[i].package, all, cv[i].factor, all * cv[i].factor);
    if (cv[i].retro > 0)
      printf(" (%" PRId64 " of them retroactively, on activation)",
             cv[i].retro);
    printf("\n");
  }
  printf("  uncovered: %" PRId64 " min went postpaid, %" PRId64 " unbilled",
         s.uncovered_postpaid, s.uncovered_unbilled);
  if (s.retro_postpaid + s.retro_unbilled > 0)
    printf("; retroactive cover took back %" PRId64 " postpaid and %" PRId64
           " unbilled",
           s.retro_postpaid, s.retro_unbilled);
  printf("\n");
  money8(l->amount, m, sizeof m);
  cli_money(t->tiers[l->tier].price_per_1000, 2, p, sizeof p);
  printf("  postpaid: %" PRId64 " min x %s / 1000 = %s %s\n", l->postpaid, p,
         m, t->currency);
  if (l->unbilled > 0)
    printf("  unbilled: %" PRId64 " min (the app was stopped: recorded as "
           "leakage, not charged)\n",
           l->unbilled);
}

static void print_text(const xp *x) {
  const rb_bill *b = &x->bill;
  const rb_tariff *t = &x->tariff;
  char p0[RB_TIME_STRLEN], p1[RB_TIME_STRLEN], is[RB_TIME_STRLEN];
  char m[RB_MONEY_STRLEN], u[RB_MONEY_STRLEN];
  tstr(b->period_start, t->tz_offset, p0, sizeof p0);
  tstr(b->period_end, t->tz_offset, p1, sizeof p1);
  tstr(b->issued_at, t->tz_offset, is, sizeof is);
  printf("Bill %s (%s, %s to %s), issued %s\n", b->id, rb_cycle_name(b->cycle),
         p0, p1, is);
  printf("Rules version %s, currency %s\n", b->rules_version, t->currency);
  rb_money sum = 0;
  for (size_t i = 0; i < b->nlines; i++) {
    const rb_bill_line *l = &b->lines[i];
    rb_money_add(sum, l->amount, &sum);
    if (x->opt.line == NULL ||
        (x->line_app == l->app && x->line_tier == l->tier))
      text_line(x, l, line_acc(x, l));
  }
  money8(sum, m, sizeof m);
  printf("\nBill: %zu line%s, sum of the line amounts %s\n", b->nlines,
         b->nlines == 1 ? "" : "s", m);
  cli_money(t->total_unit, 2, u, sizeof u);
  cli_money(b->total, 2, m, sizeof m);
  printf("  total: rounded half-up to %s = %s %s\n", u, m, t->currency);
  money8(b->precision_diff, m, sizeof m);
  printf("  precision_diff: total - sum = %s\n", m);
  cli_money(b->balance_after, 2, m, sizeof m);
  printf("  balance after: %s (%s)\n", m, b->arrears ? "arrears" : "paid");
}

/* JSON: the same content for tools. `ok` keeps the first failure. */
typedef struct jout {
  rb_buf b;
  int rc;
} jout;

#define J(...)                                                             \
  do {                                                                     \
    if (j->rc == RB_OK)                                                    \
      j->rc = rb_buf_printf(&j->b, __VA_ARGS__);                           \
  } while (0)

static void jstr(jout *j, const char *s) {
  if (j->rc == RB_OK)
    j->rc = rb_buf_json_string(&j->b, s);
}

static void jtime(jout *j, rb_time t, int32_t off) {
  char ts[RB_TIME_STRLEN];
  tstr(t, off, ts, sizeof ts);
  jstr(j, ts);
}

static void jmoney(jout *j, rb_money v, int places) {
  char m[RB_MONEY_STRLEN];
  if (places == RB_MONEY_PLACES)
    money8(v, m, sizeof m);
  else
    cli_money(v, places, m, sizeof m);
  jstr(j, m);
}

static void json_line(jout *j, const xp *x, const rb_bill_line *l,
                      const xp_acc *a) {
  const rb_tariff *t = &x->tariff;
  xp_sum s;
  xp_acc none = {0};
  if (a == NULL)
    a = &none;
  summarise(a, &s);
  J("{\"app\":%" PRId64 ",\"tier\":", l->app);
  jstr(j, t->tiers[l->tier].name);
  J(",\"late\":%s", l->late ? "true" : "false");
  if (l->late) {
    J(",\"origin\":");
    jtime(j, l->origin, t->tz_offset);
  }
  J(",\"sessions\":%" PRId64 ",\"records\":%" PRId64 ",\"seconds\":%" PRId64
    ",\"minutes\":%" PRId64 ",\"usage\":[",
    s.sessions, s.records, s.seconds, l->minutes);
  int64_t shown = 0;
  for (size_t i = 0; i < a->n; i++) {
    const xp_rec *r = &a->v[i];
    if (r->type != RB_TRACE_USAGE || shown >= x->opt.sessions)
      continue;
    J("%s{\"id\":", shown++ ? "," : "");
    jstr(j, r->id ? r->id : "");
    J(",\"at\":");
    jtime(j, r->at, t->tz_offset);
    J(",\"seconds\":%" PRId64 ",\"total_seconds\":%" PRId64
      ",\"minutes\":%" PRId64 "}",
      r->seconds, r->acc_seconds, r->minutes);
  }
  J("],\"usage_more\":%" PRId64 ",\"covered\":%" PRId64 ",\"covers\":[",
    s.records - shown, l->covered);
  xp_cover cv[COVERS_MAX];
  size_t nc = covers(a, cv, COVERS_MAX);
  for (size_t i = 0; i < nc; i++) {
    int64_t all = cv[i].minutes + cv[i].retro;
    J("%s{\"package\":", i ? "," : "");
    jstr(j, cv[i].package);
    J(",\"minutes\":%" PRId64 ",\"factor\":%" PRId64
      ",\"package_minutes\":%" PRId64 ",\"retro\":%" PRId64 "}",
      all, cv[i].factor, all * cv[i].factor, cv[i].retro);
  }
  J("],\"uncovered\":{\"postpaid\":%" PRId64 ",\"unbilled\":%" PRId64
    "},\"retro\":{\"postpaid\":%" PRId64 ",\"unbilled\":%" PRId64
    "},\"postpaid\":%" PRId64 ",\"unbilled\":%" PRId64
    ",\"price_per_1000\":",
    s.uncovered_postpaid, s.uncovered_unbilled, s.retro_postpaid,
    s.retro_unbilled, l->postpaid, l->unbilled);
  jmoney(j, t->tiers[l->tier].price_per_1000, 2);
  J(",\"amount\":");
  jmoney(j, l->amount, RB_MONEY_PLACES);
  J("}");
}

static int print_json(const xp *x) {
  const rb_bill *b = &x->bill;
  const rb_tariff *t = &x->tariff;
  jout jo = {{0}, RB_OK}, *j = &jo;
  J("{\"bill\":");
  jstr(j, b->id);
  J(",\"account\":");
  jstr(j, b->account);
  J(",\"cycle\":\"%s\",\"period_start\":", rb_cycle_name(b->cycle));
  jtime(j, b->period_start, t->tz_offset);
  J(",\"period_end\":");
  jtime(j, b->period_end, t->tz_offset);
  J(",\"issued_at\":");
  jtime(j, b->issued_at, t->tz_offset);
  J(",\"currency\":");
  jstr(j, t->currency);
  J(",\"rules\":");
  jstr(j, b->rules_version);
  J(",\"lines\":[");
  rb_money sum = 0;
  bool first = true;
  for (size_t i = 0; i < b->nlines; i++) {
    const rb_bill_line *l = &b->lines[i];
    rb_money_add(sum, l->amount, &sum);
    if (x->opt.line != NULL &&
        (x->line_app != l->app || x->line_tier != l->tier))
      continue;
    J("%s", first ? "" : ",");
    first = false;
    json_line(j, x, l, line_acc(x, l));
  }
  J("],\"sum\":");
  jmoney(j, sum, RB_MONEY_PLACES);
  J(",\"total_unit\":");
  jmoney(j, t->total_unit, 2);
  J(",\"total\":");
  jmoney(j, b->total, 2);
  J(",\"precision_diff\":");
  jmoney(j, b->precision_diff, RB_MONEY_PLACES);
  J(",\"balance_after\":");
  jmoney(j, b->balance_after, 2);
  J(",\"status\":\"%s\"}\n", b->arrears ? "arrears" : "paid");
  if (j->rc == RB_OK)
    fwrite(j->b.data, 1, j->b.len, stdout);
  rb_buf_free(&j->b);
  return j->rc;
}

/* --line APP/TIER against the bill: 0, or prints why and returns 1. */
static int resolve_line(xp *x) {
  const char *s = x->opt.line, *slash = strchr(s, '/');
  char *end;
  errno = 0;
  long long app = strtoll(s, &end, 10);
  if (slash == NULL || end != slash || errno != 0 || app <= 0) {
    fprintf(stderr, CLI_NAME " explain: --line '%s' is not APP/TIER (e.g. "
                    "1400000001/HD)\n",
            s);
    return 1;
  }
  x->line_app = app;
  x->line_tier = -1;
  for (int i = 0; i < x->tariff.ntiers; i++)
    if (strcmp(x->tariff.tiers[i].name, slash + 1) == 0)
      x->line_tier = i;
  for (size_t i = 0; i < x->bill.nlines; i++)
    if (x->lines[i].app == app && x->lines[i].tier == x->line_tier)
      return 0;
  fprintf(stderr, CLI_NAME ": bill %s has no line %s; its lines are:",
          x->bill.id, s);
  for (size_t i = 0; i < x->bill.nlines; i++)
    fprintf(stderr, " %" PRId64 "/%s", x->lines[i].app,
            x->tariff.tiers[x->lines[i].tier].name);
  fprintf(stderr, "\n");
  return 1;
}

static void xp_free(xp *x) {
  for (size_t i = 0; i < x->naccs; i++)
    free(x->accs[i].v);
  free(x->accs);
  free(x->lines);
  rb_arena_free(x->strings);
  for (size_t i = 0; i < x->opt.nowned; i++)
    free(x->opt.owned[i]);
  free(x->opt.owned);
  free(x->opt.files);
  free((char *)x->account);
}

int cli_explain(int argc, char **argv) {
  xp x;
  memset(&x, 0, sizeof x);
  int status = parse_args(argc, argv, &x.opt);
  if (status >= 0) {
    free(x.opt.files);
    return status;
  }
  if (x.opt.from != NULL && read_from(&x.opt) != 0) {
    xp_free(&x);
    return CLI_EXIT_INVALID;
  }
  /* The account is the bill id up to its last '/': ids may hold one. */
  const char *slash = strrchr(x.opt.bill, '/');
  char *account = malloc((size_t)(slash - x.opt.bill) + 1);
  x.strings = rb_arena_new();
  if (account == NULL || x.strings == NULL) {
    free(account);
    fprintf(stderr, CLI_NAME ": %s\n", strerror(ENOMEM));
    xp_free(&x);
    return CLI_EXIT_INVALID;
  }
  memcpy(account, x.opt.bill, (size_t)(slash - x.opt.bill));
  account[slash - x.opt.bill] = '\0';
  x.account = account;

  const char *rules_dir =
      x.opt.rules != NULL ? x.opt.rules : cli_default_rules_dir();
  rb_rules *rules = NULL;
  char err[512] = "";
  int rc = rb_lua_rules_load(rules_dir, &rules, err, sizeof err);
  if (rc != RB_OK) {
    if (err[0] != '\0')
      fprintf(stderr, "%s\n", err);
    else
      fprintf(stderr, CLI_NAME ": %s: %s\n", rules_dir, rb_strerror(rc));
    xp_free(&x);
    return CLI_EXIT_INVALID;
  }
  cli_events in;
  if (cli_events_read(&in, x.opt.files, x.opt.nfiles,
                      isatty(STDERR_FILENO) == 1) != 0) {
    cli_events_free(&in);
    rb_rules_unref(rules);
    xp_free(&x);
    return CLI_EXIT_INVALID;
  }
  cli_events_sort(&in);
  rc = replay(&x, rules, &in);
  status = CLI_EXIT_OK;
  if (rc != RB_OK) {
    if (rc != RB_EPOLICY)
      fprintf(stderr, CLI_NAME ": %s\n", rb_strerror(rc));
    status = CLI_EXIT_INVALID;
  } else if (!x.found) {
    fprintf(stderr, CLI_NAME ": no bill %s in these events", x.opt.bill);
    if (x.nothers > 0) {
      fprintf(stderr, "; the account's bills include:");
      for (size_t i = 0; i < x.nothers; i++)
        fprintf(stderr, " %s", x.others[i]);
    }
    fprintf(stderr, "\n");
    status = CLI_EXIT_INVALID;
  } else if (x.opt.line != NULL && resolve_line(&x) != 0) {
    status = CLI_EXIT_INVALID;
  } else if (x.opt.json) {
    if (print_json(&x) != RB_OK) {
      fprintf(stderr, CLI_NAME ": %s\n", strerror(ENOMEM));
      status = CLI_EXIT_INVALID;
    }
  } else {
    print_text(&x);
  }
  cli_events_free(&in);
  rb_rules_unref(rules);
  xp_free(&x);
  return status;
}
