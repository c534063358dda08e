/* report.c: report.html, the comparison as one self-contained page.
 *
 * Finance opens it in a browser, offline: no network, no external
 * script, style sheet or font (a Content-Security-Policy says so to the
 * browser too). The charts are inline SVG whose geometry is computed
 * here with integer arithmetic (no JavaScript draws anything): the
 * distribution of per-account deltas, revenue by tier A vs B, and the
 * top movers. A few lines of inline JavaScript only sort the tables
 * when a header is clicked. All text that comes from the input or the
 * rules (account ids, tier names, folders) is HTML-escaped.
 * Depends on: compare.h, rtcbill.h (rb_buf, money).
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

#define HIST_BINS 20      /* bars in the delta distribution */
#define TOP_MOVERS 15     /* accounts in the top movers chart */
#define TABLE_ROWS 5000   /* accounts listed in the table */

__extension__ typedef __int128 i128;

typedef struct page {
  rb_buf b;
  int rc;
} page;

static void h(page *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void h(page *p, const char *fmt, ...) {
  if (p->rc != RB_OK)
    return;
  va_list ap;
  va_start(ap, fmt);
  char tmp[1024];
  int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  /* Every format here is short; a longer result is a defect. */
  if (n < 0 || (size_t)n >= sizeof tmp)
    p->rc = RB_EINVAL;
  else
    p->rc = rb_buf_append(&p->b, tmp, (size_t)n);
}

/* Text as HTML: the five characters that can change the markup are
 * written as entities; everything else (UTF-8 included) goes as is. */
static void esc(page *p, const char *s) {
  for (; *s != '\0' && p->rc == RB_OK; s++) {
    const char *e = NULL;
    switch (*s) {
    case '&': e = "&amp;"; break;
    case '<': e = "&lt;"; break;
    case '>': e = "&gt;"; break;
    case '"': e = "&quot;"; break;
    case '\'': e = "&#39;"; break;
    default: break;
    }
    p->rc = e != NULL ? rb_buf_append(&p->b, e, strlen(e))
                      : rb_buf_append(&p->b, s, 1);
  }
}

/* Money for display: rounded half-up to 0.01 and grouped by thousands
 * ("1 234.56"), with an explicit sign when `sign`. */
static void money_text(rb_money v, bool sign, char *buf, size_t cap) {
  rb_money r = v;
  if (rb_money_round(v, RB_MONEY_SCALE / 100, &r) != RB_OK)
    r = v;
  char raw[RB_MONEY_STRLEN];
  cli_money(r, 2, raw, sizeof raw);
  const char *digits = raw[0] == '-' ? raw + 1 : raw;
  const char *dot = strchr(digits, '.');
  size_t nint = dot != NULL ? (size_t)(dot - digits) : strlen(digits);
  size_t n = 0;
  if (cap < 2)
    return;
  if (raw[0] == '-')
    buf[n++] = '-';
  else if (sign && r > 0)
    buf[n++] = '+';
  for (size_t i = 0; i < nint && n + 2 < cap; i++) {
    if (i > 0 && (nint - i) % 3 == 0)
      buf[n++] = ',';
    buf[n++] = digits[i];
  }
  snprintf(buf + n, cap - n, "%s", dot != NULL ? dot : "");
}

static void money(page *p, rb_money v, bool sign) {
  char m[RB_MONEY_STRLEN + 16];
  money_text(v, sign, m, sizeof m);
  h(p, "%s", m);
}

/* v scaled to [0, span] against max (> 0), rounded down. */
static int64_t scale(rb_money v, rb_money max, int64_t span) {
  if (max <= 0 || v <= 0)
    return 0;
  i128 r = (i128)v * span / max;
  return r > span ? span : (int64_t)r;
}

static rb_money mabs(rb_money v) {
  return v >= 0 ? v : v == INT64_MIN ? INT64_MAX : -v;
}

static const char STYLE[] =
    "body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,"
    "sans-serif;margin:24px auto;max-width:1180px;color:#1d2330;"
    "padding:0 16px}h1{font-size:24px;margin:0 0 4px}"
    "h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #dde2ea;"
    "padding-bottom:4px}.sub{color:#5b6475}"
    ".cards{display:flex;flex-wrap:wrap;gap:12px;margin:16px 0}"
    ".card{border:1px solid #dde2ea;border-radius:8px;padding:10px 14px;"
    "min-width:150px}.card b{display:block;font-size:20px}"
    ".card span{color:#5b6475;font-size:12px}"
    ".up{color:#c0392b}.down{color:#2e7d32}"
    "svg{display:block;max-width:100%;height:auto;font-size:12px}"
    "svg text{fill:#1d2330}table{border-collapse:collapse;width:100%;"
    "font-size:13px}th,td{padding:4px 8px;border-bottom:1px solid #eceff4;"
    "text-align:right;white-space:nowrap}th:first-child,td:first-child,"
    "td.t,th.t{text-align:left}th{background:#f4f6f9;position:sticky;top:0}"
    "table.sortable th{cursor:pointer}"
    "th[aria-sort=ascending]::after{content:' \\25B2'}"
    "th[aria-sort=descending]::after{content:' \\25BC'}"
    ".legend span{display:inline-block;width:12px;height:12px;"
    "margin:0 4px 0 12px;vertical-align:-1px}.note{color:#5b6475;"
    "font-size:12px}";

/* Sorts the rows of a table.sortable by the clicked column: numbers by
 * their data-v (exact integer units), text by its content. */
static const char SCRIPT[] =
    "(function(){'use strict';"
    "document.querySelectorAll('table.sortable').forEach(function(t){"
    "t.tHead.rows[0].querySelectorAll('th').forEach(function(th){"
    "th.addEventListener('click',function(){"
    "var col=th.cellIndex,body=t.tBodies[0],num=th.dataset.type==='num',"
    "asc=th.getAttribute('aria-sort')!=='ascending';"
    "t.tHead.rows[0].querySelectorAll('th').forEach(function(x){"
    "x.removeAttribute('aria-sort');});"
    "th.setAttribute('aria-sort',asc?'ascending':'descending');"
    "var rows=Array.prototype.slice.call(body.rows);"
    "rows.sort(function(a,b){var x=a.cells[col],y=b.cells[col],r;"
    "if(num){r=Number(x.dataset.v)-Number(y.dataset.v);}"
    "else{r=x.textContent.localeCompare(y.textContent);}"
    "return asc?r:-r;});"
    "rows.forEach(function(r){body.appendChild(r);});});});});"
    "})();";

/* ------------------------------------------------------------------ */
/* Charts                                                              */
/* ------------------------------------------------------------------ */

/* The distribution of per-account deltas (B total - A total): equal
 * bins of a whole number of cents between the smallest and the largest
 * delta, the height of a bar being its number of accounts. */
static void chart_distribution(page *p, const cmp *c) {
  const int64_t W = 1100, H = 320, x0 = 60, x1 = 1080, y0 = 20, y1 = 260;
  rb_money lo = 0, hi = 0;
  for (size_t i = 0; i < c->naccounts; i++) {
    rb_money d = c->accounts[i].delta;
    if (i == 0 || d < lo)
      lo = d;
    if (i == 0 || d > hi)
      hi = d;
  }
  int64_t nb = c->naccounts == 0 ? 1 : HIST_BINS;
  const rb_money cent = RB_MONEY_SCALE / 100;
  i128 span = (i128)hi - lo;
  rb_money width = (rb_money)((span / nb / cent + 1) * cent);
  if (lo == hi)
    nb = 1;
  uint64_t count[HIST_BINS] = {0}, maxc = 0;
  for (size_t i = 0; i < c->naccounts; i++) {
    int64_t k = (int64_t)(((i128)c->accounts[i].delta - lo) / width);
    if (k >= nb)
      k = nb - 1;
    if (++count[k] > maxc)
      maxc = count[k];
  }
  h(p, "<svg id=\"chart-deltas\" viewBox=\"0 0 %" PRId64 " %" PRId64
       "\" role=\"img\" aria-label=\"Distribution of per-account deltas\">",
    W, H);
  h(p, "<line x1=\"%" PRId64 "\" y1=\"%" PRId64 "\" x2=\"%" PRId64
       "\" y2=\"%" PRId64 "\" stroke=\"#8a93a5\"/>",
    x0, y1, x1, y1);
  int64_t bw = (x1 - x0) / nb;
  for (int64_t k = 0; k < nb; k++) {
    int64_t bh =
        maxc == 0 ? 0 : (int64_t)(count[k] * (uint64_t)(y1 - y0) / maxc);
    int64_t x = x0 + k * bw;
    rb_money from = (rb_money)(lo + (i128)width * k);
    rb_money to = (rb_money)(lo + (i128)width * (k + 1));
    const char *fill = to <= 0 && from < 0 ? "#59a14f"
                       : from > 0          ? "#e15759"
                                           : "#8a93a5";
    h(p, "<rect class=\"bar\" x=\"%" PRId64 "\" y=\"%" PRId64
         "\" width=\"%" PRId64 "\" height=\"%" PRId64 "\" fill=\"%s\">"
         "<title>",
      x + 2, y1 - bh, bw - 4, bh, fill);
    if (nb == 1) {
      h(p, "delta ");
      money(p, lo, true);
    } else {
      money(p, from, true);
      h(p, " to ");
      money(p, to, true);
    }
    h(p, ": %" PRIu64 " accounts</title></rect>", count[k]);
    if (count[k] > 0)
      h(p, "<text x=\"%" PRId64 "\" y=\"%" PRId64 "\" text-anchor=\"middle\">"
           "%" PRIu64 "</text>",
        x + bw / 2, y1 - bh - 4, count[k]);
    if (nb == 1 || k % 4 == 0) {
      h(p, "<text x=\"%" PRId64 "\" y=\"%" PRId64 "\" text-anchor=\"%s\">",
        nb == 1 ? x + bw / 2 : x, y1 + 18, nb == 1 ? "middle" : "start");
      money(p, nb == 1 ? lo : from, true);
      h(p, "</text>");
    }
  }
  if (nb > 1) {
    h(p, "<text x=\"%" PRId64 "\" y=\"%" PRId64 "\" text-anchor=\"end\">",
      x1, y1 + 18);
    money(p, hi, true);
    h(p, "</text>");
  }
  h(p, "<text x=\"%" PRId64 "\" y=\"%" PRId64 "\" text-anchor=\"middle\" "
       "class=\"axis\">delta of the bill totals per account (B - A); bar "
       "height: number of accounts</text></svg>",
    (x0 + x1) / 2, H - 10);
}

/* A tier name in the union of both sides' names: its index under each
 * side, -1 where that side has no tier of the name. */
typedef struct tier_pair {
  const char *name;
  int idx[2];
} tier_pair;

static int tier_union(const cmp *c, tier_pair *out) {
  int n = 0;
  for (int s = 0; s < 2; s++) {
    const rb_tariff *t = &c->side[s].data->tariff;
    for (int i = 0; i < t->ntiers; i++) {
      int k = 0;
      while (k < n && strcmp(out[k].name, t->tiers[i].name) != 0)
        k++;
      if (k == n) {
        out[n].name = t->tiers[i].name;
        out[n].idx[0] = out[n].idx[1] = -1;
        n++;
      }
      out[k].idx[s] = i;
    }
  }
  return n;
}

/* Revenue by tier (exact line amounts), A and B side by side. */
static void chart_tiers(page *p, const cmp *c) {
  const int64_t W = 1100, H = 320, x0 = 60, x1 = 1080, y0 = 30, y1 = 260;
  tier_pair tp[2 * RB_MAX_TIERS];
  int n = tier_union(c, tp);
  rb_money max = 0;
  for (int i = 0; i < n; i++)
    for (int s = 0; s < 2; s++)
      if (tp[i].idx[s] >= 0 && c->side[s].tiers[tp[i].idx[s]].amount > max)
        max = c->side[s].tiers[tp[i].idx[s]].amount;
  h(p, "<svg id=\"chart-tiers\" viewBox=\"0 0 %" PRId64 " %" PRId64
       "\" role=\"img\" aria-label=\"Revenue by tier, A and B\">",
    W, H);
  h(p, "<line x1=\"%" PRId64 "\" y1=\"%" PRId64 "\" x2=\"%" PRId64
       "\" y2=\"%" PRId64 "\" stroke=\"#8a93a5\"/>",
    x0, y1, x1, y1);
  int64_t gw = n > 0 ? (x1 - x0) / n : x1 - x0;
  int64_t bw = gw * 3 / 10;
  for (int i = 0; i < n; i++) {
    int64_t gx = x0 + i * gw + (gw - 2 * bw) / 2;
    for (int s = 0; s < 2; s++) {
      if (tp[i].idx[s] < 0)
        continue;
      rb_money v = c->side[s].tiers[tp[i].idx[s]].amount;
      int64_t bh = scale(v, max, y1 - y0);
      int64_t x = gx + s * bw;
      h(p, "<rect class=\"bar\" x=\"%" PRId64 "\" y=\"%" PRId64
           "\" width=\"%" PRId64 "\" height=\"%" PRId64
           "\" fill=\"%s\"><title>%c ",
        x, y1 - bh, bw - 2, bh, s ? "#f28e2b" : "#4e79a7", 'A' + s);
      esc(p, tp[i].name);
      h(p, ": ");
      money(p, v, false);
      h(p, "</title></rect><text x=\"%" PRId64 "\" y=\"%" PRId64
           "\" text-anchor=\"middle\">",
        x + bw / 2, y1 - bh - 4);
      money(p, v, false);
      h(p, "</text>");
    }
    h(p, "<text x=\"%" PRId64 "\" y=\"%" PRId64
         "\" text-anchor=\"middle\" font-weight=\"600\">",
      x0 + i * gw + gw / 2, y1 + 18);
    esc(p, tp[i].name);
    h(p, "</text>");
  }
  h(p, "<text x=\"%" PRId64 "\" y=\"%" PRId64
       "\" text-anchor=\"middle\">postpaid revenue per tier, ",
    (x0 + x1) / 2, H - 10);
  esc(p, c->side[0].data->tariff.currency);
  h(p, "</text></svg>");
}

static const cmp *sort_ctx;

/* Largest |delta| first, then account id. */
static int mover_cmp(const void *pa, const void *pb) {
  const cmp_account *a = &sort_ctx->accounts[*(const uint32_t *)pa];
  const cmp_account *b = &sort_ctx->accounts[*(const uint32_t *)pb];
  rb_money x = mabs(a->delta_exact), y = mabs(b->delta_exact);
  if (x != y)
    return x > y ? -1 : 1;
  return strcmp(a->id, b->id);
}

/* The accounts whose bills move most: bars to the right pay more under
 * B, to the left less. */
static void chart_movers(page *p, const cmp *c, const uint32_t *order) {
  size_t n = c->naccounts < TOP_MOVERS ? c->naccounts : TOP_MOVERS;
  while (n > 0 && c->accounts[order[n - 1]].delta_exact == 0)
    n--;
  const int64_t W = 1100, row = 24, top = 10, mid = 640, half = 380;
  int64_t H = top + (int64_t)(n > 0 ? n : 1) * row + 30;
  rb_money max = 0;
  for (size_t i = 0; i < n; i++)
    if (mabs(c->accounts[order[i]].delta_exact) > max)
      max = mabs(c->accounts[order[i]].delta_exact);
  h(p, "<svg id=\"chart-movers\" viewBox=\"0 0 %" PRId64 " %" PRId64
       "\" role=\"img\" aria-label=\"Top movers\">",
    W, H);
  if (n == 0)
    h(p, "<text x=\"%" PRId64 "\" y=\"%" PRId64 "\" text-anchor=\"middle\">"
         "No account's bill changes.</text>",
      W / 2, top + 16);
  for (size_t i = 0; i < n; i++) {
    const cmp_account *a = &c->accounts[order[i]];
    int64_t y = top + (int64_t)i * row;
    int64_t len = scale(mabs(a->delta_exact), max, half - 120);
    if (len < 1)
      len = 1;
    bool up = a->delta_exact > 0;
    int64_t x = up ? mid : mid - len;
    h(p, "<text x=\"%" PRId64 "\" y=\"%" PRId64 "\" text-anchor=\"end\">",
      (int64_t)250, y + 16);
    esc(p, a->id);
    h(p, "</text><rect class=\"bar\" x=\"%" PRId64 "\" y=\"%" PRId64
         "\" width=\"%" PRId64 "\" height=\"%" PRId64 "\" fill=\"%s\"><title>",
      x, y + 4, len, row - 8, up ? "#e15759" : "#59a14f");
    esc(p, a->id);
    h(p, ": ");
    money(p, a->delta_exact, true);
    h(p, "</title></rect><text x=\"%" PRId64 "\" y=\"%" PRId64
         "\" text-anchor=\"%s\">",
      up ? x + len + 6 : x - 6, y + 16, up ? "start" : "end");
    money(p, a->delta_exact, true);
    h(p, "</text>");
  }
  h(p, "<line x1=\"%" PRId64 "\" y1=\"%" PRId64 "\" x2=\"%" PRId64
       "\" y2=\"%" PRId64 "\" stroke=\"#8a93a5\"/>",
    mid, top, mid, H - 24);
  h(p, "<text x=\"%" PRId64 "\" y=\"%" PRId64 "\" text-anchor=\"middle\">"
       "change of the exact amount, B - A (left: pays less, right: pays "
       "more)</text></svg>",
    mid, H - 6);
}

/* ------------------------------------------------------------------ */
/* Tables                                                              */
/* ------------------------------------------------------------------ */

static void td_money(page *p, rb_money v, bool sign) {
  h(p, "<td data-v=\"%" PRId64 "\"%s>", v,
    sign && v > 0 ? " class=\"up\"" : sign && v < 0 ? " class=\"down\"" : "");
  money(p, v, sign);
  h(p, "</td>");
}

static void td_int(page *p, int64_t v) {
  h(p, "<td data-v=\"%" PRId64 "\">%" PRId64 "</td>", v, v);
}

static void td_percent(page *p, rb_money a, rb_money b) {
  char pct[40];
  if (cmp_percent(a, b, pct, sizeof pct)) {
    /* data-v in hundredths of a percent, for sorting. */
    i128 num = ((i128)b - a) * 10000;
    i128 v = num / (a < 0 ? -(i128)a : a);
    h(p, "<td data-v=\"%" PRId64 "\">%s%%</td>",
      (int64_t)(v > INT64_MAX ? INT64_MAX : v < -INT64_MAX ? -INT64_MAX : v),
      pct);
  } else {
    h(p, "<td data-v=\"0\">n/a</td>");
  }
}

static void table_tiers(page *p, const cmp *c) {
  tier_pair tp[2 * RB_MAX_TIERS];
  int n = tier_union(c, tp);
  h(p, "<table id=\"tiers\" class=\"sortable\"><thead><tr><th>tier</th>"
       "<th data-type=\"num\">minutes A</th><th data-type=\"num\">postpaid "
       "A</th><th data-type=\"num\">minutes B</th><th data-type=\"num\">"
       "postpaid B</th><th data-type=\"num\">revenue A</th>"
       "<th data-type=\"num\">revenue B</th><th data-type=\"num\">delta</th>"
       "</tr></thead><tbody>");
  for (int i = 0; i < n; i++) {
    const cmp_tier_total *t[2] = {NULL, NULL};
    for (int s = 0; s < 2; s++)
      if (tp[i].idx[s] >= 0)
        t[s] = &c->side[s].tiers[tp[i].idx[s]];
    h(p, "<tr><td>");
    esc(p, tp[i].name);
    h(p, "</td>");
    for (int s = 0; s < 2; s++) {
      td_int(p, t[s] ? t[s]->m.billable : 0);
      td_int(p, t[s] ? t[s]->m.postpaid : 0);
    }
    rb_money a = t[0] ? t[0]->amount : 0, b = t[1] ? t[1]->amount : 0, d = 0;
    rb_money_sub(b, a, &d);
    td_money(p, a, false);
    td_money(p, b, false);
    td_money(p, d, true);
    h(p, "</tr>");
  }
  h(p, "</tbody></table>");
}

static void diff_text(page *p, const cmp_diff *d, size_t n, size_t more) {
  for (size_t k = 0; k < n; k++) {
    h(p, "%s", k ? "; " : "");
    esc(p, d[k].what);
    if (d[k].app != 0)
      h(p, " %" PRId64, d[k].app);
    h(p, ": A ");
    esc(p, d[k].a);
    h(p, ", B ");
    esc(p, d[k].b);
  }
  if (more > 0)
    h(p, "; %zu more", more);
}

static void table_accounts(page *p, const cmp *c, const uint32_t *order) {
  size_t n = c->naccounts < TABLE_ROWS ? c->naccounts : TABLE_ROWS;
  h(p, "<table id=\"accounts\" class=\"sortable\"><thead><tr>"
       "<th>account</th><th data-type=\"num\">total A</th>"
       "<th data-type=\"num\">total B</th><th data-type=\"num\">delta</th>"
       "<th data-type=\"num\">delta %%</th><th data-type=\"num\">exact "
       "delta</th><th class=\"t\">policy outcomes that differ</th></tr>"
       "</thead><tbody>");
  for (size_t i = 0; i < n && p->rc == RB_OK; i++) {
    const cmp_account *a = &c->accounts[order[i]];
    h(p, "<tr><td>");
    esc(p, a->id);
    h(p, "</td>");
    td_money(p, a->side[0].total, false);
    td_money(p, a->side[1].total, false);
    td_money(p, a->delta, true);
    td_percent(p, a->side[0].total, a->side[1].total);
    td_money(p, a->delta_exact, true);
    cmp_diff d[CMP_DIFFS_MAX];
    size_t more, nd = cmp_differences(c, order[i], d, &more);
    h(p, "<td class=\"t\">");
    diff_text(p, d, nd, more);
    h(p, "</td></tr>");
  }
  h(p, "</tbody></table>");
  if (c->naccounts > n)
    h(p, "<p class=\"note\">The table lists the %zu accounts that move "
         "most; compare.csv has all %zu.</p>",
      n, c->naccounts);
}

/* ------------------------------------------------------------------ */
/* The page                                                            */
/* ------------------------------------------------------------------ */

static void card(page *p, const char *label, rb_money v, bool sign,
                 const char *extra) {
  h(p, "<div class=\"card\"><span>");
  esc(p, label);
  h(p, "</span><b%s>",
    sign && v > 0 ? " class=\"up\"" : sign && v < 0 ? " class=\"down\"" : "");
  money(p, v, sign);
  h(p, "</b><span>");
  esc(p, extra);
  h(p, "</span></div>");
}

static void summary(page *p, const cmp *c) {
  const cmp_side *A = &c->side[0], *B = &c->side[1];
  rb_money d = 0;
  rb_money_sub(B->revenue, A->revenue, &d);
  char pct[48], cur[16];
  snprintf(cur, sizeof cur, "%s", A->data->tariff.currency);
  if (cmp_percent(A->revenue, B->revenue, pct, sizeof pct))
    snprintf(pct + strlen(pct), sizeof pct - strlen(pct), "%%");
  else
    snprintf(pct, sizeof pct, "n/a");
  size_t up = 0, down = 0, diffs = 0;
  for (size_t i = 0; i < c->naccounts; i++) {
    cmp_diff tmp[CMP_DIFFS_MAX];
    size_t more;
    up += c->accounts[i].delta_exact > 0;
    down += c->accounts[i].delta_exact < 0;
    diffs += cmp_differences(c, i, tmp, &more) > 0;
  }
  h(p, "<div class=\"cards\" id=\"summary\">");
  card(p, "revenue A", A->revenue, false, cur);
  card(p, "revenue B", B->revenue, false, cur);
  card(p, "delta B - A", d, true, pct);
  h(p, "<div class=\"card\"><span>accounts</span><b>%zu</b><span>%zu pay "
       "more, %zu pay less, %zu unchanged</span></div>",
    c->naccounts, up, down, c->naccounts - up - down);
  h(p, "<div class=\"card\"><span>policy outcomes</span><b>%zu</b><span>"
       "accounts where they differ</span></div>",
    diffs);
  h(p, "<div class=\"card\"><span>events</span><b>%" PRIu64 "</b><span>"
       "rejected: %zu input, %zu A, %zu B</span></div></div>",
    c->in.read, c->in.rejects.n, A->rejects.n, B->rejects.n);
}

int cmp_write_report(const cmp *c, const char *dir) {
  page pg = {{0}, RB_OK}, *p = &pg;
  uint32_t *order = malloc((c->naccounts + 1) * sizeof *order);
  if (order == NULL)
    return ENOMEM;
  for (size_t i = 0; i < c->naccounts; i++)
    order[i] = (uint32_t)i;
  sort_ctx = c;
  qsort(order, c->naccounts, sizeof *order, mover_cmp);
  sort_ctx = NULL;

  h(p, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
       "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src "
       "'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; "
       "img-src data:\"><meta name=\"viewport\" content=\"width=device-"
       "width\"><link rel=\"icon\" href=\"data:,\"><title>rtcbill "
       "comparison</title><style>");
  if (p->rc == RB_OK)
    p->rc = rb_buf_append(&p->b, STYLE, sizeof STYLE - 1);
  h(p, "</style></head><body>");
  h(p, "<h1>What the bills would have been under other rules</h1>");
  for (int s = 0; s < 2; s++) {
    h(p, "<div class=\"sub\">%c: <code>", 'A' + s);
    esc(p, c->side[s].rules_dir);
    h(p, "</code> (rules ");
    esc(p, c->side[s].data->version);
    h(p, ")</div>");
  }
  summary(p, c);
  h(p, "<h2>Distribution of per-account deltas</h2>");
  chart_distribution(p, c);
  h(p, "<h2>Revenue by tier</h2><div class=\"legend\"><span style=\""
       "background:#4e79a7\"></span>A<span style=\"background:#f28e2b\">"
       "</span>B</div>");
  chart_tiers(p, c);
  table_tiers(p, c);
  h(p, "<h2>Top movers</h2>");
  chart_movers(p, c, order);
  h(p, "<h2>Accounts</h2><p class=\"note\">Click a column header to sort. "
       "Totals are the sums of the bills as issued (rounded to 0.01 per "
       "bill); the exact delta is the change of the unrounded line "
       "amounts.</p>");
  table_accounts(p, c, order);
  h(p, "<script>");
  if (p->rc == RB_OK)
    p->rc = rb_buf_append(&p->b, SCRIPT, sizeof SCRIPT - 1);
  h(p, "</script></body></html>\n");
  free(order);
  if (p->rc != RB_OK) {
    rb_buf_free(&p->b);
    return ENOMEM;
  }
  int rc = cmp_write_file(dir, "report.html", &p->b);
  rb_buf_free(&p->b);
  return rc;
}
