/* compare_out.c: compare.json and compare.csv, the data of a comparison.
 *
 * compare.json holds everything: the two rule sets, event counts and
 * rejects per side, revenue, totals per tier (under each side's own tier
 * names) and per app, and one record per account with its totals,
 * minutes per tier and the policy outcomes that differ. compare.csv is
 * the per-account table for a spreadsheet: UTF-8 (with a byte order
 * mark, so that spreadsheets do not guess another encoding), a header
 * row, RFC 4180 quoting and CRLF line ends, amounts as decimal strings.
 * Depends on: compare.h, rtcbill.h (rb_buf, money and JSON writers).
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "compare.h"

/* Rejects listed per side in compare.json before "..._more". */
#define LIST_REJECTS 1000u

int cmp_write_file(const char *dir, const char *name, const rb_buf *b) {
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

/* The writers below chain appends and look at the buffer's state once:
 * rb_buf calls fail only when memory runs out, and `ok` keeps the first
 * failure. */
typedef struct out {
  rb_buf b;
  int rc;
} out;

static void put(out *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void put(out *o, const char *fmt, ...) {
  if (o->rc != RB_OK)
    return;
  char tmp[512];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  if (n < 0) {
    o->rc = RB_EINVAL;
    return;
  }
  if ((size_t)n < sizeof tmp) {
    o->rc = rb_buf_append(&o->b, tmp, (size_t)n);
    return;
  }
  char *big = malloc((size_t)n + 1);
  if (big == NULL) {
    o->rc = RB_ENOMEM;
    return;
  }
  va_start(ap, fmt);
  vsnprintf(big, (size_t)n + 1, fmt, ap);
  va_end(ap);
  o->rc = rb_buf_append(&o->b, big, (size_t)n);
  free(big);
}

static void jstr(out *o, const char *s) {
  if (o->rc == RB_OK)
    o->rc = rb_buf_json_string(&o->b, s);
}

/* A money value as a JSON string with `places` decimals at least. */
static void jmoney(out *o, rb_money v, int places) {
  char m[RB_MONEY_STRLEN];
  cli_money(v, places, m, sizeof m);
  jstr(o, m);
}

static void jminutes(out *o, const cli_tier_minutes *m) {
  put(o,
      "{\"billable\":%" PRId64 ",\"covered\":%" PRId64 ",\"postpaid\":%" PRId64
      ",\"unbilled\":%" PRId64 "}",
      m->billable, m->covered, m->postpaid, m->unbilled);
}

static void jpercent(out *o, rb_money a, rb_money b) {
  char p[40];
  if (cmp_percent(a, b, p, sizeof p))
    jstr(o, p);
  else
    put(o, "null");
}

static void j_side_rules(out *o, const cmp_side *s) {
  put(o, "{\"dir\":");
  jstr(o, s->rules_dir);
  put(o, ",\"version\":");
  jstr(o, s->data->version);
  put(o, ",\"currency\":");
  jstr(o, s->data->tariff.currency);
  put(o, ",\"tiers\":[");
  for (int t = 0; t < s->data->tariff.ntiers; t++) {
    put(o, "%s{\"tier\":", t ? "," : "");
    jstr(o, s->data->tariff.tiers[t].name);
    put(o, ",\"price_per_1000\":");
    jmoney(o, s->data->tariff.tiers[t].price_per_1000, 2);
    put(o, "}");
  }
  put(o, "]}");
}

static void j_rejects(out *o, const cmp *c, const cli_rejects *r) {
  size_t n = r->n < LIST_REJECTS ? r->n : LIST_REJECTS;
  put(o, "[");
  for (size_t i = 0; i < n && o->rc == RB_OK; i++) {
    if (i > 0)
      put(o, ",");
    o->rc = rb_reject_to_json(c->files[r->v[i].file], r->v[i].line,
                              &r->v[i].rej, &o->b);
    /* rb_reject_to_json ends its record with a newline: keep the array
     * on one line by taking it back. */
    if (o->rc == RB_OK && o->b.len > 0 && o->b.data[o->b.len - 1] == '\n')
      o->b.len--;
  }
  put(o, "]");
}

static void j_tiers(out *o, const cmp_side *s) {
  put(o, "[");
  for (int t = 0; t < s->data->tariff.ntiers; t++) {
    const cmp_tier_total *tt = &s->tiers[t];
    put(o, "%s{\"tier\":", t ? "," : "");
    jstr(o, s->data->tariff.tiers[t].name);
    put(o,
        ",\"billable\":%" PRId64 ",\"covered\":%" PRId64
        ",\"postpaid\":%" PRId64 ",\"unbilled\":%" PRId64 ",\"amount\":",
        tt->m.billable, tt->m.covered, tt->m.postpaid, tt->m.unbilled);
    jmoney(o, tt->amount, 8);
    put(o, "}");
  }
  put(o, "]");
}

static void j_account_side(out *o, const cmp_side *s, const cmp_acct_side *a) {
  char cy[32];
  cmp_cycles_name(a->cycles, cy, sizeof cy);
  put(o, "{\"total\":");
  jmoney(o, a->total, 2);
  put(o, ",\"amount\":");
  jmoney(o, a->amount, 8);
  put(o, ",\"bills\":%" PRIu32 ",\"cycle\":", a->bills);
  jstr(o, cy);
  put(o, ",\"minutes\":{");
  for (int t = 0; t < s->data->tariff.ntiers; t++) {
    if (t > 0)
      put(o, ",");
    jstr(o, s->data->tariff.tiers[t].name);
    put(o, ":");
    jminutes(o, &a->minutes[t]);
  }
  put(o, "}}");
}

static void j_account(out *o, const cmp *c, size_t i) {
  const cmp_account *a = &c->accounts[i];
  put(o, "{\"account\":");
  jstr(o, a->id);
  for (int s = 0; s < 2; s++) {
    put(o, ",\"%c\":", 'A' + s);
    j_account_side(o, &c->side[s], &a->side[s]);
  }
  put(o, ",\"delta\":");
  jmoney(o, a->delta, 2);
  put(o, ",\"delta_exact\":");
  jmoney(o, a->delta_exact, 8);
  put(o, ",\"delta_pct\":");
  jpercent(o, a->side[0].total, a->side[1].total);
  cmp_diff d[CMP_DIFFS_MAX];
  size_t more, n = cmp_differences(c, i, d, &more);
  put(o, ",\"differences\":[");
  for (size_t k = 0; k < n; k++) {
    put(o, "%s{\"what\":", k ? "," : "");
    jstr(o, d[k].what);
    if (d[k].app != 0)
      put(o, ",\"app\":%" PRId64, d[k].app);
    put(o, ",\"A\":");
    jstr(o, d[k].a);
    put(o, ",\"B\":");
    jstr(o, d[k].b);
    put(o, "}");
  }
  put(o, "]");
  if (more > 0)
    put(o, ",\"differences_more\":%zu", more);
  put(o, "}");
}

static void j_app(out *o, const cmp *c, const cmp_app *p) {
  put(o, "{\"app\":%" PRId64 ",\"account\":", p->id);
  if (p->account != CMP_NONE)
    jstr(o, c->accounts[p->account].id);
  else
    put(o, "null");
  for (int s = 0; s < 2; s++) {
    const cmp_app_side *ps = &p->side[s];
    put(o, ",\"%c\":{\"amount\":", 'A' + s);
    jmoney(o, ps->amount, 8);
    put(o,
        ",\"minutes\":%" PRId64 ",\"postpaid\":%" PRId64
        ",\"unbilled\":%" PRId64 "}",
        ps->minutes, ps->postpaid, ps->unbilled);
  }
  rb_money d = 0;
  rb_money_sub(p->side[1].amount, p->side[0].amount, &d);
  put(o, ",\"delta_exact\":");
  jmoney(o, d, 8);
  put(o, "}");
}

int cmp_write_json(const cmp *c, const char *dir) {
  out o = {{0}, RB_OK};
  const cmp_side *A = &c->side[0], *B = &c->side[1];
  put(&o, "{\"rules\":{\"A\":");
  j_side_rules(&o, A);
  put(&o, ",\"B\":");
  j_side_rules(&o, B);
  put(&o, "},\"events\":{\"read\":%" PRIu64 ",\"rejected_input\":%zu",
      c->in.read, c->in.rejects.n);
  for (int s = 0; s < 2; s++)
    put(&o,
        ",\"%c\":{\"accepted\":%" PRIu64 ",\"duplicates\":%" PRIu64
        ",\"rejected\":%zu}",
        'A' + s, c->side[s].accepted, c->side[s].duplicates,
        c->side[s].rejects.n);
  rb_money d = 0;
  put(&o, "},\"revenue\":{\"A\":");
  jmoney(&o, A->revenue, 2);
  put(&o, ",\"B\":");
  jmoney(&o, B->revenue, 2);
  rb_money_sub(B->revenue, A->revenue, &d);
  put(&o, ",\"delta\":");
  jmoney(&o, d, 2);
  put(&o, ",\"delta_pct\":");
  jpercent(&o, A->revenue, B->revenue);
  put(&o, ",\"A_exact\":");
  jmoney(&o, A->amount, 8);
  put(&o, ",\"B_exact\":");
  jmoney(&o, B->amount, 8);
  rb_money_sub(B->amount, A->amount, &d);
  put(&o, ",\"delta_exact\":");
  jmoney(&o, d, 8);
  put(&o, "},\"bills\":{\"A\":%" PRIu64 ",\"B\":%" PRIu64 "}", A->bills,
      B->bills);
  put(&o, ",\"tiers\":{\"A\":");
  j_tiers(&o, A);
  put(&o, ",\"B\":");
  j_tiers(&o, B);
  put(&o, "},\"accounts\":[");
  for (size_t i = 0; i < c->naccounts && o.rc == RB_OK; i++) {
    put(&o, i ? ",\n" : "\n");
    j_account(&o, c, i);
  }
  put(&o, "],\"apps\":[");
  for (size_t i = 0; i < c->napps && o.rc == RB_OK; i++) {
    put(&o, i ? ",\n" : "\n");
    j_app(&o, c, &c->apps[i]);
  }
  put(&o, "],\"rejects\":{\"input\":");
  j_rejects(&o, c, &c->in.rejects);
  put(&o, ",\"A\":");
  j_rejects(&o, c, &A->rejects);
  put(&o, ",\"B\":");
  j_rejects(&o, c, &B->rejects);
  put(&o, "}}\n");
  int rc = o.rc == RB_OK ? cmp_write_file(dir, "compare.json", &o.b) : ENOMEM;
  rb_buf_free(&o.b);
  return rc;
}

/* ------------------------------------------------------------------ */
/* CSV                                                                 */
/* ------------------------------------------------------------------ */

/* One RFC 4180 field: quoted when it holds a comma, a quote, CR or LF
 * (quotes doubled). Text that a spreadsheet would run as a formula (an
 * id starting with = + - @) gets a leading apostrophe, the usual guard:
 * ids are user data. */
static void cfield(out *o, const char *s, bool text) {
  bool quote = strpbrk(s, ",\"\r\n") != NULL;
  bool guard = text && (s[0] == '=' || s[0] == '+' || s[0] == '-' ||
                        s[0] == '@' || s[0] == '\t' || s[0] == '\r');
  if (!quote && !guard) {
    put(o, "%s", s);
    return;
  }
  put(o, "\"%s", guard ? "'" : "");
  for (const char *p = s; *p != '\0' && o->rc == RB_OK; p++) {
    if (*p == '"')
      o->rc = rb_buf_append(&o->b, "\"\"", 2);
    else
      o->rc = rb_buf_append(&o->b, p, 1);
  }
  put(o, "\"");
}

static void cmoney(out *o, rb_money v, int places) {
  char m[RB_MONEY_STRLEN];
  cli_money(v, places, m, sizeof m);
  put(o, ",%s", m);
}

int cmp_write_csv(const cmp *c, const char *dir) {
  out o = {{0}, RB_OK};
  put(&o, "\xEF\xBB\xBF"
          "account,total_A,total_B,delta,delta_pct,amount_A,amount_B,"
          "delta_exact,bills_A,bills_B,cycle_A,cycle_B");
  for (int s = 0; s < 2; s++) {
    const rb_tariff *t = &c->side[s].data->tariff;
    for (int k = 0; k < 2; k++)
      for (int i = 0; i < t->ntiers; i++) {
        char h[64];
        snprintf(h, sizeof h, "%s_%c_%s", k ? "postpaid" : "minutes", 'A' + s,
                 t->tiers[i].name);
        put(&o, ",");
        cfield(&o, h, true);
      }
  }
  put(&o, ",differences\r\n");
  for (size_t i = 0; i < c->naccounts && o.rc == RB_OK; i++) {
    const cmp_account *a = &c->accounts[i];
    char p[40], cy[32];
    cfield(&o, a->id, true);
    cmoney(&o, a->side[0].total, 2);
    cmoney(&o, a->side[1].total, 2);
    cmoney(&o, a->delta, 2);
    put(&o, ",%s",
        cmp_percent(a->side[0].total, a->side[1].total, p, sizeof p) ? p
                                                                     : "n/a");
    cmoney(&o, a->side[0].amount, 8);
    cmoney(&o, a->side[1].amount, 8);
    cmoney(&o, a->delta_exact, 8);
    put(&o, ",%" PRIu32 ",%" PRIu32, a->side[0].bills, a->side[1].bills);
    for (int s = 0; s < 2; s++) {
      cmp_cycles_name(a->side[s].cycles, cy, sizeof cy);
      put(&o, ",%s", cy);
    }
    for (int s = 0; s < 2; s++) {
      int nt = c->side[s].data->tariff.ntiers;
      for (int k = 0; k < 2; k++)
        for (int t = 0; t < nt; t++)
          put(&o, ",%" PRId64,
              k ? a->side[s].minutes[t].postpaid
                : a->side[s].minutes[t].billable);
    }
    /* The differences as one readable cell: "what [app]: A -> B; ...". */
    cmp_diff d[CMP_DIFFS_MAX];
    size_t more, n = cmp_differences(c, i, d, &more);
    rb_buf cell = {0};
    int rc = rb_buf_append(&cell, "", 0);
    for (size_t k = 0; k < n && rc == RB_OK; k++) {
      if (d[k].app != 0)
        rc = rb_buf_printf(&cell, "%s%s %" PRId64 ": A %s, B %s",
                           k ? "; " : "", d[k].what, d[k].app, d[k].a, d[k].b);
      else
        rc = rb_buf_printf(&cell, "%s%s: A %s, B %s", k ? "; " : "",
                           d[k].what, d[k].a, d[k].b);
    }
    if (rc == RB_OK && more > 0)
      rc = rb_buf_printf(&cell, "; %zu more", more);
    if (rc != RB_OK)
      o.rc = rc;
    put(&o, ",");
    if (o.rc == RB_OK)
      cfield(&o, cell.data != NULL ? cell.data : "", false);
    rb_buf_free(&cell);
    put(&o, "\r\n");
  }
  int rc = o.rc == RB_OK ? cmp_write_file(dir, "compare.csv", &o.b) : ENOMEM;
  rb_buf_free(&o.b);
  return rc;
}
