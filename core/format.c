/* format.c: the JSON Lines writers for bills, notices and rejections.
 *
 * Each writer appends one complete record and its '\n' to an rb_buf, with
 * the keys in a fixed order so that outputs can be compared byte for
 * byte between runs. Money goes out as decimal strings, times as RFC 3339
 * in the billing time zone. A writer that fails leaves the buffer as it
 * found it, so a half-written record never reaches a file. Depends on:
 * rtcbill.h (rb_buf_*, money and time formatting, enum names), alloc.h
 * (rb__buf_reserve).
 */

/* uv.h, included by rtcbill.h, needs the POSIX thread types, which a
 * strict -std=c11 build hides unless POSIX is requested. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include <inttypes.h>
#include <string.h>

#include "alloc.h"
#include "rtcbill.h"

/* Appends a NUL-terminated literal. */
static int put(rb_buf *b, const char *s) {
  return rb_buf_append(b, s, strlen(s));
}

/* Appends ,"key": (or "key": when first) so that callers only list the
 * keys in order. Keys are this file's own identifiers, which need no
 * escaping. */
static int key(rb_buf *b, const char *k, bool first) {
  char tmp[40];
  size_t n = strlen(k);
  if (n > sizeof tmp - 4)
    return RB_EINVAL;
  size_t o = 0;
  if (!first)
    tmp[o++] = ',';
  tmp[o++] = '"';
  memcpy(tmp + o, k, n);
  o += n;
  tmp[o++] = '"';
  tmp[o++] = ':';
  return rb_buf_append(b, tmp, o);
}

/* Appends v in decimal (what printf's %lld writes, without its cost:
 * bills have many integers). */
static int put_int(rb_buf *b, int64_t v) {
  char tmp[24], *end = tmp + sizeof tmp, *p = end;
  uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
  do {
    *--p = (char)('0' + u % 10);
    u /= 10;
  } while (u != 0);
  if (v < 0)
    *--p = '-';
  return rb_buf_append(b, p, (size_t)(end - p));
}

static int key_string(rb_buf *b, const char *k, const char *v, bool first) {
  int rc = key(b, k, first);
  return rc == RB_OK ? rb_buf_json_string(b, v == NULL ? "" : v) : rc;
}

static int key_int(rb_buf *b, const char *k, int64_t v) {
  int rc = key(b, k, false);
  return rc == RB_OK ? put_int(b, v) : rc;
}

static int key_time(rb_buf *b, const char *k, rb_time t, int32_t tz) {
  char tmp[RB_TIME_STRLEN];
  int rc = rb_time_format(t, tz, tmp, sizeof tmp);
  if (rc < 0)
    return rc;
  return key_string(b, k, tmp, false);
}

/* Money with exactly `places` decimals; a value that is not a multiple of
 * that step (which a correct engine never hands over) is shown with as
 * many more places as it needs rather than rounded, because an output
 * file must never alter an amount. */
static int key_money(rb_buf *b, const char *k, rb_money v, int places) {
  char tmp[RB_MONEY_STRLEN];
  int rc = rb_money_format_min(v, places, tmp, sizeof tmp);
  if (rc < 0)
    return rc;
  return key_string(b, k, tmp, false);
}

/* The decimals a total is written with: those of the rounding unit
 * (1000000 units = 0.01 gives 2; 5000000 = 0.05 gives 2 as well). */
static int unit_places(rb_money unit) {
  int places = RB_MONEY_PLACES;
  if (unit <= 0)
    return 2;
  while (places > 0 && unit % 10 == 0) {
    unit /= 10;
    places--;
  }
  return places;
}

/* Undoes a partial record: the buffer is cut back to where it was. */
static int finish(rb_buf *out, size_t mark, int rc) {
  if (rc != RB_OK) {
    out->len = mark;
    if (out->data != NULL)
      out->data[mark] = '\0';
  }
  return rc;
}

/* Bill lines are most of the output, so they are written through a
 * cursor into room reserved once, instead of one checked append per
 * key and value. */
static char *cur_lit(char *p, const char *s, size_t n) {
  memcpy(p, s, n);
  return p + n;
}
#define CUR_LIT(p, lit) cur_lit(p, lit, sizeof(lit) - 1)

static char *cur_int(char *p, int64_t v) {
  char tmp[24], *end = tmp + sizeof tmp, *q = end;
  uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
  do {
    *--q = (char)('0' + u % 10);
    u /= 10;
  } while (u != 0);
  if (v < 0)
    *--q = '-';
  return cur_lit(p, q, (size_t)(end - q));
}

/* A JSON string literal; at most 6 bytes per input byte plus quotes. */
static char *cur_str(char *p, const char *s) {
  static const char hex[] = "0123456789abcdef";
  *p++ = '"';
  for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
    if (*c >= 0x20 && *c != '"' && *c != '\\') {
      *p++ = (char)*c;
    } else if (*c == '"' || *c == '\\') {
      *p++ = '\\';
      *p++ = (char)*c;
    } else {
      const char *named = *c == '\b'   ? "b"
                          : *c == '\f' ? "f"
                          : *c == '\n' ? "n"
                          : *c == '\r' ? "r"
                          : *c == '\t' ? "t"
                                       : NULL;
      *p++ = '\\';
      if (named != NULL) {
        *p++ = named[0];
      } else {
        p = CUR_LIT(p, "u00");
        *p++ = hex[*c >> 4];
        *p++ = hex[*c & 15];
      }
    }
  }
  *p++ = '"';
  return p;
}

/* Room for one line besides its tier name: keys and punctuation, five
 * integers, an amount and an origin time. */
#define LINE_ROOM (160 + 5 * 24 + RB_MONEY_STRLEN + RB_TIME_STRLEN)

static int bill_line(rb_buf *b, const rb_bill *bill, const rb_bill_line *l) {
  const rb_tariff *t = bill->tariff;
  if (l->tier < 0 || l->tier >= t->ntiers)
    return RB_EINVAL;
  const char *name = t->tiers[l->tier].name;
  char amount[RB_MONEY_STRLEN], origin[RB_TIME_STRLEN];
  int na =
      rb_money_format_min(l->amount, RB_MONEY_PLACES, amount, sizeof amount);
  if (na < 0)
    return na;
  int no = 0;
  if (l->late &&
      (no = rb_time_format(l->origin, t->tz_offset, origin, sizeof origin)) < 0)
    return no;
  int rc = rb__buf_reserve(b, LINE_ROOM + 6 * strlen(name));
  if (rc != RB_OK)
    return rc;
  char *p = b->data + b->len;
  p = CUR_LIT(p, "{\"app\":");
  p = cur_int(p, l->app);
  p = CUR_LIT(p, ",\"tier\":");
  p = cur_str(p, name);
  p = CUR_LIT(p, ",\"minutes\":");
  p = cur_int(p, l->minutes);
  p = CUR_LIT(p, ",\"covered\":");
  p = cur_int(p, l->covered);
  p = CUR_LIT(p, ",\"postpaid\":");
  p = cur_int(p, l->postpaid);
  p = CUR_LIT(p, ",\"unbilled\":");
  p = cur_int(p, l->unbilled);
  p = CUR_LIT(p, ",\"amount\":\"");
  p = cur_lit(p, amount, (size_t)na);
  p = l->late ? CUR_LIT(p, "\",\"late\":true")
              : CUR_LIT(p, "\",\"late\":false");
  if (l->late) {
    p = CUR_LIT(p, ",\"origin\":\"");
    p = cur_lit(p, origin, (size_t)no);
    *p++ = '"';
  }
  *p++ = '}';
  *p = '\0';
  b->len = (size_t)(p - b->data);
  return RB_OK;
}

int rb_bill_to_json(const rb_bill *bill, rb_buf *out) {
  if (bill == NULL || out == NULL || bill->tariff == NULL ||
      (bill->nlines > 0 && bill->lines == NULL))
    return RB_EINVAL;
  const rb_tariff *t = bill->tariff;
  int32_t tz = t->tz_offset;
  size_t mark = out->len;
  int rc = put(out, "{");
  if (rc == RB_OK)
    rc = key_string(out, "bill", bill->id, true);
  if (rc == RB_OK)
    rc = key_string(out, "account", bill->account, false);
  if (rc == RB_OK)
    rc = key_string(out, "cycle", rb_cycle_name(bill->cycle), false);
  if (rc == RB_OK)
    rc = key_time(out, "period_start", bill->period_start, tz);
  if (rc == RB_OK)
    rc = key_time(out, "period_end", bill->period_end, tz);
  if (rc == RB_OK)
    rc = key_time(out, "issued_at", bill->issued_at, tz);
  if (rc == RB_OK)
    rc = key_string(out, "currency", t->currency, false);
  if (rc == RB_OK)
    rc = key_string(out, "rules", bill->rules_version, false);
  if (rc == RB_OK)
    rc = key(out, "lines", false);
  if (rc == RB_OK)
    rc = put(out, "[");
  for (size_t i = 0; rc == RB_OK && i < bill->nlines; i++) {
    if (i > 0)
      rc = put(out, ",");
    if (rc == RB_OK)
      rc = bill_line(out, bill, &bill->lines[i]);
  }
  if (rc == RB_OK)
    rc = put(out, "]");
  if (rc == RB_OK)
    rc = key_money(out, "total", bill->total, unit_places(t->total_unit));
  if (rc == RB_OK)
    rc =
        key_money(out, "precision_diff", bill->precision_diff, RB_MONEY_PLACES);
  if (rc == RB_OK)
    rc = key_money(out, "balance_after", bill->balance_after, 2);
  if (rc == RB_OK)
    rc = key_string(out, "status", bill->arrears ? "arrears" : "paid", false);
  if (rc == RB_OK)
    rc = put(out, "}\n");
  return finish(out, mark, rc);
}

/* The name of a notice's reason: postpaid_enabled carries why postpaid
 * was switched on, every other notice with a reason a stop reason. */
static const char *reason_name(const rb_notice *n) {
  if (n->type == RB_N_POSTPAID_ENABLED)
    return rb_postpaid_reason_name((rb_postpaid_reason)n->reason);
  return rb_stop_reason_name((rb_stop_reason)n->reason);
}

int rb_notice_to_json(const rb_notice *n, int32_t tz_offset, rb_buf *out) {
  if (n == NULL || out == NULL)
    return RB_EINVAL;
  size_t mark = out->len;
  char tmp[RB_TIME_STRLEN];
  int rc = rb_time_format(n->at, tz_offset, tmp, sizeof tmp);
  if (rc < 0)
    return rc;
  rc = put(out, "{");
  if (rc == RB_OK)
    rc = key_string(out, "at", tmp, true);
  if (rc == RB_OK)
    rc = key_string(out, "type", rb_notice_type_name(n->type), false);
  /* Only rules_reloaded (in the daemon) concerns no account. */
  if (rc == RB_OK && n->account != NULL)
    rc = key_string(out, "account", n->account, false);
  if (rc == RB_OK && n->app != 0)
    rc = key_int(out, "app", n->app);
  if (rc == RB_OK && n->package != NULL)
    rc = key_string(out, "package", n->package, false);
  if (rc == RB_OK && n->bill != NULL)
    rc = key_string(out, "bill", n->bill, false);
  /* A notice carries no tariff; totals are rounded to cents by the
   * default rules, and format_min shows any finer unit exactly. */
  if (rc == RB_OK && n->type == RB_N_BILL_ISSUED)
    rc = key_money(out, "total", n->total, 2);
  if (rc == RB_OK && n->id != NULL)
    rc = key_string(out, "id", n->id, false);
  if (rc == RB_OK && n->reason >= 0)
    rc = key_string(out, "reason", reason_name(n), false);
  if (rc == RB_OK && n->forfeited >= 0)
    rc = key_int(out, "forfeited", n->forfeited);
  if (rc == RB_OK &&
      (n->type == RB_N_ARREARS_NOTICE || n->type == RB_N_ARREARS_CLEARED))
    rc = key_money(out, "balance", n->balance, 2);
  if (rc == RB_OK && n->rules != NULL)
    rc = key_string(out, "rules", n->rules, false);
  if (rc == RB_OK)
    rc = put(out, "}\n");
  return finish(out, mark, rc);
}

int rb_reject_to_json(const char *file, uint64_t line, const rb_reject *r,
                      rb_buf *out) {
  if (r == NULL || out == NULL)
    return RB_EINVAL;
  size_t mark = out->len;
  /* The fixed-size members may be unterminated if a producer filled them
   * to the brim; copy them so that the escaper stops in bounds. */
  char code[sizeof r->code + 1], field[sizeof r->field + 1],
      message[sizeof r->message + 1];
  memcpy(code, r->code, sizeof r->code);
  code[sizeof r->code] = '\0';
  memcpy(field, r->field, sizeof r->field);
  field[sizeof r->field] = '\0';
  memcpy(message, r->message, sizeof r->message);
  message[sizeof r->message] = '\0';
  int rc = put(out, "{");
  if (rc == RB_OK)
    rc = key_string(out, "file", file, true);
  if (rc == RB_OK)
    rc = key(out, "line", false);
  if (rc == RB_OK)
    rc = rb_buf_printf(out, "%" PRIu64, line);
  if (rc == RB_OK)
    rc = key_string(out, "error", code, false);
  if (rc == RB_OK)
    rc = key_string(out, "field", field, false);
  if (rc == RB_OK)
    rc = key_string(out, "message", message, false);
  if (rc == RB_OK)
    rc = put(out, "}\n");
  return finish(out, mark, rc);
}
