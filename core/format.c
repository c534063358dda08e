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

static int key_string(rb_buf *b, const char *k, const char *v, bool first) {
  int rc = key(b, k, first);
  return rc == RB_OK ? rb_buf_json_string(b, v == NULL ? "" : v) : rc;
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

static const char *or_empty(const char *s) { return s != NULL ? s : ""; }

/* Room for a string written by cur_str: every byte escaped as \u00XX
 * at worst, and the quotes. */
static size_t str_room(const char *s) { return 6 * strlen(s) + 2; }

/* The same for a string a record may lack (NULL: not written). */
static size_t opt_room(const char *s) { return s != NULL ? str_room(s) : 0; }

/* Puts quotes around the n bytes just formatted at p + 1 and returns
 * the cursor past them; a formatting failure (n < 0) goes to *rc. */
static char *cur_quoted(char *p, int n, int *rc) {
  if (n < 0) {
    *rc = n;
    return p;
  }
  p[0] = '"';
  p[n + 1] = '"';
  return p + n + 2;
}

/* A time, quoted; RB_TIME_STRLEN + 2 bytes of room. */
static char *cur_time(char *p, rb_time t, int32_t tz, int *rc) {
  return cur_quoted(p, rb_time_format(t, tz, p + 1, RB_TIME_STRLEN), rc);
}

/* An amount with exactly `places` decimals, quoted; RB_MONEY_STRLEN + 2
 * bytes of room. A value that is not a multiple of that step (which a
 * correct engine never hands over) is shown with as many more places as
 * it needs rather than rounded, because an output file must never alter
 * an amount. */
static char *cur_money(char *p, rb_money v, int places, int *rc) {
  return cur_quoted(p, rb_money_format_min(v, places, p + 1, RB_MONEY_STRLEN),
                    rc);
}

/* The bill's head and tail, around its lines: keys and punctuation,
 * three times and three amounts, besides its strings. */
#define BILL_ROOM (256 + 3 * (RB_TIME_STRLEN + 2) + 3 * (RB_MONEY_STRLEN + 2))

int rb_bill_to_json(const rb_bill *bill, rb_buf *out) {
  if (bill == NULL || out == NULL || bill->tariff == NULL ||
      (bill->nlines > 0 && bill->lines == NULL))
    return RB_EINVAL;
  const rb_tariff *t = bill->tariff;
  int32_t tz = t->tz_offset;
  size_t mark = out->len;
  const char *id = or_empty(bill->id), *account = or_empty(bill->account),
             *cycle = or_empty(rb_cycle_name(bill->cycle)),
             *version = or_empty(bill->rules_version);
  int rc = rb__buf_reserve(out, BILL_ROOM + str_room(id) + str_room(account) +
                                    str_room(cycle) + str_room(t->currency) +
                                    str_room(version));
  if (rc != RB_OK)
    return rc;
  /* The head, through a cursor into the room reserved. */
  char *p = out->data + out->len;
  p = CUR_LIT(p, "{\"bill\":");
  p = cur_str(p, id);
  p = CUR_LIT(p, ",\"account\":");
  p = cur_str(p, account);
  p = CUR_LIT(p, ",\"cycle\":");
  p = cur_str(p, cycle);
  p = CUR_LIT(p, ",\"period_start\":");
  p = cur_time(p, bill->period_start, tz, &rc);
  p = CUR_LIT(p, ",\"period_end\":");
  p = cur_time(p, bill->period_end, tz, &rc);
  p = CUR_LIT(p, ",\"issued_at\":");
  p = cur_time(p, bill->issued_at, tz, &rc);
  p = CUR_LIT(p, ",\"currency\":");
  p = cur_str(p, t->currency);
  p = CUR_LIT(p, ",\"rules\":");
  p = cur_str(p, version);
  p = CUR_LIT(p, ",\"lines\":[");
  *p = '\0';
  out->len = (size_t)(p - out->data);
  for (size_t i = 0; rc == RB_OK && i < bill->nlines; i++) {
    if (i > 0)
      rc = put(out, ",");
    if (rc == RB_OK)
      rc = bill_line(out, bill, &bill->lines[i]);
  }
  /* The tail: the room reserved above may have gone to the lines. */
  if (rc == RB_OK)
    rc = rb__buf_reserve(out, BILL_ROOM);
  if (rc != RB_OK)
    return finish(out, mark, rc);
  p = out->data + out->len;
  p = CUR_LIT(p, "],\"total\":");
  p = cur_money(p, bill->total, unit_places(t->total_unit), &rc);
  p = CUR_LIT(p, ",\"precision_diff\":");
  p = cur_money(p, bill->precision_diff, RB_MONEY_PLACES, &rc);
  p = CUR_LIT(p, ",\"balance_after\":");
  p = cur_money(p, bill->balance_after, 2, &rc);
  p = bill->arrears ? CUR_LIT(p, ",\"status\":\"arrears\"}\n")
                    : CUR_LIT(p, ",\"status\":\"paid\"}\n");
  *p = '\0';
  out->len = (size_t)(p - out->data);
  return finish(out, mark, rc);
}

/* The name of a notice's reason: postpaid_enabled carries why postpaid
 * was switched on, every other notice with a reason a stop reason. */
static const char *reason_name(const rb_notice *n) {
  if (n->type == RB_N_POSTPAID_ENABLED)
    return rb_postpaid_reason_name((rb_postpaid_reason)n->reason);
  return rb_stop_reason_name((rb_stop_reason)n->reason);
}

/* A notice's keys and punctuation, a time, an amount and three
 * integers, besides its strings. */
#define NOTICE_ROOM (200 + RB_TIME_STRLEN + RB_MONEY_STRLEN + 3 * 24)

int rb_notice_to_json(const rb_notice *n, int32_t tz_offset, rb_buf *out) {
  if (n == NULL || out == NULL)
    return RB_EINVAL;
  const char *type = or_empty(rb_notice_type_name(n->type));
  const char *reason = n->reason >= 0 ? or_empty(reason_name(n)) : NULL;
  size_t room = NOTICE_ROOM + str_room(type) + opt_room(n->account) +
                opt_room(n->package) + opt_room(n->bill) + opt_room(n->id) +
                opt_room(reason) + opt_room(n->rules);
  size_t mark = out->len;
  int rc = rb__buf_reserve(out, room);
  if (rc != RB_OK)
    return rc;
  char *p = out->data + out->len;
  p = CUR_LIT(p, "{\"at\":");
  p = cur_time(p, n->at, tz_offset, &rc);
  p = CUR_LIT(p, ",\"type\":");
  p = cur_str(p, type);
  /* Only rules_reloaded (in the daemon) concerns no account. */
  if (n->account != NULL) {
    p = CUR_LIT(p, ",\"account\":");
    p = cur_str(p, n->account);
  }
  if (n->app != 0) {
    p = CUR_LIT(p, ",\"app\":");
    p = cur_int(p, n->app);
  }
  if (n->package != NULL) {
    p = CUR_LIT(p, ",\"package\":");
    p = cur_str(p, n->package);
  }
  if (n->bill != NULL) {
    p = CUR_LIT(p, ",\"bill\":");
    p = cur_str(p, n->bill);
  }
  /* A notice carries no tariff; totals are rounded to cents by the
   * default rules, and format_min shows any finer unit exactly. */
  if (n->type == RB_N_BILL_ISSUED) {
    p = CUR_LIT(p, ",\"total\":");
    p = cur_money(p, n->total, 2, &rc);
  }
  if (n->id != NULL) {
    p = CUR_LIT(p, ",\"id\":");
    p = cur_str(p, n->id);
  }
  if (reason != NULL) {
    p = CUR_LIT(p, ",\"reason\":");
    p = cur_str(p, reason);
  }
  if (n->forfeited >= 0) {
    p = CUR_LIT(p, ",\"forfeited\":");
    p = cur_int(p, n->forfeited);
  }
  if (n->type == RB_N_ARREARS_NOTICE || n->type == RB_N_ARREARS_CLEARED) {
    p = CUR_LIT(p, ",\"balance\":");
    p = cur_money(p, n->balance, 2, &rc);
  }
  if (n->rules != NULL) {
    p = CUR_LIT(p, ",\"rules\":");
    p = cur_str(p, n->rules);
  }
  p = CUR_LIT(p, "}\n");
  *p = '\0';
  out->len = (size_t)(p - out->data);
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
