/* scan.c: the reader's fast path (see scan.h).
 *
 * One pass over the line with a pointer: keys are recognised by length
 * and memcmp and land in a fixed slot each, values are checked as they
 * are read (strict JSON strings without escapes, integers converted
 * digit by digit, the video array straight into a stack buffer), and the
 * event's checks are those of reader.c for an accepted line. It never
 * reports an error: whatever it does not handle, or would reject, goes
 * back to the precise reader. That keeps the two in step by
 * construction, and tests/core/test_scan.c checks it on every line of
 * the test corpora.
 *
 * Depends on: scan.h, alloc.h (packed arena blocks), rtcbill.h (rb_time_parse,
 * rb_money_parse, the arena), the C standard library.
 */
/* uv.h, included by rtcbill.h, needs the POSIX thread types, which a
 * strict -std=c11 build hides unless POSIX is requested. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "alloc.h"
#include "scan.h"

/* Sessions with more segments than this are rare: the precise reader
 * takes them. */
#define SCAN_SEGMENTS 64

#define UNSURE RB__SCAN_UNSURE

/* Word-at-a-time scanning finds the first interesting byte by its bit
 * position, which needs the byte order; elsewhere it just skips clean
 * words and lets the byte loop find it. */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ &&    \
    defined(__GNUC__)
#define IS_LITTLE_ENDIAN 1
#else
#define IS_LITTLE_ENDIAN 0
#define __builtin_ctzll(x) 0
#endif

/* The keys the reader knows, one slot each. */
enum {
  K_TYPE,
  K_ACCOUNT,
  K_AT,
  K_BALANCE,
  K_APP,
  K_POSTPAID,
  K_PACKAGE,
  K_KIND,
  K_MINUTES,
  K_PRICE,
  K_AMOUNT,
  K_CYCLE,
  K_ID,
  K_USER,
  K_ROOM,
  K_START,
  K_SECONDS,
  K_RECEIVED,
  K_VIDEO,
  K__COUNT
};

typedef struct span {
  const char *s;
  size_t len;
} span;

typedef struct scan {
  const char *p, *end;
  uint32_t seen; /* bit per slot */
  span str[K__COUNT];
  int64_t num[K__COUNT];
  bool flag;
  size_t nseg;
  rb_segment seg[SCAN_SEGMENTS];
} scan;

static int key_slot(const char *k, size_t n) {
#define IS(lit) (n == sizeof(lit) - 1 && memcmp(k, lit, sizeof(lit) - 1) == 0)
  switch (n) {
  case 2:
    return IS("at") ? K_AT : IS("id") ? K_ID : -1;
  case 3:
    return IS("app") ? K_APP : -1;
  case 4:
    return IS("type")   ? K_TYPE
           : IS("kind") ? K_KIND
           : IS("user") ? K_USER
           : IS("room") ? K_ROOM
                        : -1;
  case 5:
    return IS("price")   ? K_PRICE
           : IS("cycle") ? K_CYCLE
           : IS("start") ? K_START
           : IS("video") ? K_VIDEO
                         : -1;
  case 6:
    return IS("amount") ? K_AMOUNT : -1;
  case 7:
    return IS("account")   ? K_ACCOUNT
           : IS("balance") ? K_BALANCE
           : IS("package") ? K_PACKAGE
           : IS("minutes") ? K_MINUTES
           : IS("seconds") ? K_SECONDS
                           : -1;
  case 8:
    return IS("postpaid") ? K_POSTPAID : IS("received") ? K_RECEIVED : -1;
  default:
    return -1;
  }
#undef IS
}

static inline bool is_ws(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static inline void skip_ws(scan *s) {
  while (s->p < s->end && is_ws(*s->p))
    s->p++;
}

/* The length of a well-formed UTF-8 sequence at p, or 0 (the rules of
 * json.c: no overlong forms, no surrogates, nothing past U+10FFFF). */
static size_t utf8_len(const unsigned char *p, const unsigned char *end) {
  unsigned char c = p[0], lo = 0x80, hi = 0xBF;
  size_t n;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0)
      lo = 0xA0;
    else if (c == 0xED)
      hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0)
      lo = 0x90;
    else if (c == 0xF4)
      hi = 0x8F;
  } else {
    return 0;
  }
  if ((size_t)(end - p) < n || p[1] < lo || p[1] > hi)
    return 0;
  for (size_t i = 2; i < n; i++)
    if (p[i] < 0x80 || p[i] > 0xBF)
      return 0;
  return n;
}

/* Eight bytes at a time: the bit 7 of each byte of the result is set
 * where the byte is a quote, a backslash, a control character or not
 * ASCII (SWAR: "determine if a word has a byte less than n" and "has a
 * byte equal to n", from Sean Anderson's Bit Twiddling Hacks). */
#define ONES UINT64_C(0x0101010101010101)
#define HIGHS UINT64_C(0x8080808080808080)

static inline uint64_t special_bytes(uint64_t w) {
  uint64_t q = w ^ (ONES * '"'), b = w ^ (ONES * '\\');
  uint64_t zq = (q - ONES) & ~q, zb = (b - ONES) & ~b;
  uint64_t ctl = (w - ONES * 0x20) & ~w;
  return (zq | zb | ctl | w) & HIGHS;
}

/* A string at s->p (its opening quote) without escapes or control
 * characters; DEL is allowed here (ids are checked for it later). */
static bool read_string(scan *s, span *out) {
  const char *p = s->p + 1, *end = s->end;
  const char *start = p;
  /* Plain ASCII runs go by words; the byte loop below decides at the
   * first byte that needs a look (little-endian: the lowest set bit is
   * the first such byte). */
  while (end - p >= 8) {
    uint64_t w;
    memcpy(&w, p, 8);
    uint64_t m = special_bytes(w);
    if (m == 0) {
      p += 8;
      continue;
    }
    if (IS_LITTLE_ENDIAN)
      p += __builtin_ctzll(m) / 8;
    break;
  }
  for (;;) {
    if (p >= end)
      return false;
    unsigned char c = (unsigned char)*p;
    if (c == '"')
      break;
    if (c == '\\' || c < 0x20)
      return false;
    if (c < 0x80) {
      p++;
    } else {
      size_t n = utf8_len((const unsigned char *)p, (const unsigned char *)end);
      if (n == 0)
        return false;
      p += n;
    }
  }
  out->s = start;
  out->len = (size_t)(p - start);
  s->p = p + 1;
  return true;
}

/* A JSON integer (no fraction or exponent) that fits int64. */
static bool read_int(scan *s, int64_t *out) {
  const char *p = s->p, *end = s->end;
  bool neg = false;
  if (p < end && *p == '-') {
    neg = true;
    p++;
  }
  if (p >= end || *p < '0' || *p > '9')
    return false;
  uint64_t v = 0;
  const uint64_t limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
  if (*p == '0') {
    p++;
  } else {
    /* 18 digits cannot overflow: check only past them. */
    const char *fast = end - p > 18 ? p + 18 : end;
    while (p < fast && *p >= '0' && *p <= '9')
      v = v * 10 + (unsigned)(*p++ - '0');
    while (p < end && *p >= '0' && *p <= '9') {
      unsigned d = (unsigned)(*p - '0');
      if (v > (limit - d) / 10)
        return false;
      v = v * 10 + d;
      p++;
    }
  }
  /* A leading zero followed by a digit is malformed; a fraction or an
   * exponent is not an integer: the precise reader says which. */
  if (p < end &&
      ((*p >= '0' && *p <= '9') || *p == '.' || *p == 'e' || *p == 'E'))
    return false;
  if (!neg)
    *out = (int64_t)v;
  else
    *out = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
  s->p = p;
  return true;
}

/* One segment object, its four keys once each and nothing else. */
static bool read_segment(scan *s, rb_segment *seg) {
  int64_t v[4];
  unsigned seen = 0;
  if (s->p >= s->end || *s->p != '{')
    return false;
  s->p++;
  for (;;) {
    span k;
    int i;
    skip_ws(s);
    if (s->p >= s->end || *s->p != '"' || !read_string(s, &k))
      return false;
    if (k.len == 6 && memcmp(k.s, "offset", 6) == 0)
      i = 0;
    else if (k.len == 7 && memcmp(k.s, "seconds", 7) == 0)
      i = 1;
    else if (k.len == 5 && memcmp(k.s, "width", 5) == 0)
      i = 2;
    else if (k.len == 6 && memcmp(k.s, "height", 6) == 0)
      i = 3;
    else
      return false;
    if (seen & (1u << i))
      return false;
    seen |= 1u << i;
    skip_ws(s);
    if (s->p >= s->end || *s->p != ':')
      return false;
    s->p++;
    skip_ws(s);
    if (!read_int(s, &v[i]))
      return false;
    skip_ws(s);
    if (s->p >= s->end)
      return false;
    if (*s->p == ',') {
      s->p++;
      continue;
    }
    if (*s->p != '}')
      return false;
    s->p++;
    break;
  }
  if (seen != 0xF)
    return false;
  seg->offset = v[0];
  seg->seconds = v[1];
  seg->width = v[2];
  seg->height = v[3];
  return true;
}

static bool read_video(scan *s) {
  s->p++; /* '[' */
  skip_ws(s);
  if (s->p < s->end && *s->p == ']') {
    s->p++;
    return true;
  }
  for (;;) {
    if (s->nseg == SCAN_SEGMENTS)
      return false;
    skip_ws(s);
    if (!read_segment(s, &s->seg[s->nseg]))
      return false;
    s->nseg++;
    skip_ws(s);
    if (s->p >= s->end)
      return false;
    if (*s->p == ',') {
      s->p++;
      continue;
    }
    if (*s->p != ']')
      return false;
    s->p++;
    return true;
  }
}

/* The value of slot k at s->p. Each slot takes the JSON type its field
 * has; anything else (including null, which the precise reader treats as
 * absent) is left to the precise reader. */
static bool read_value(scan *s, int k) {
  if (s->p >= s->end)
    return false;
  switch (k) {
  case K_APP:
  case K_MINUTES:
  case K_SECONDS:
    return read_int(s, &s->num[k]);
  case K_POSTPAID:
    if (s->end - s->p >= 4 && memcmp(s->p, "true", 4) == 0) {
      s->flag = true;
      s->p += 4;
      return true;
    }
    if (s->end - s->p >= 5 && memcmp(s->p, "false", 5) == 0) {
      s->flag = false;
      s->p += 5;
      return true;
    }
    return false;
  case K_VIDEO:
    return *s->p == '[' && read_video(s);
  default:
    return *s->p == '"' && read_string(s, &s->str[k]);
  }
}

/* The whole line: one object of known keys, each at most once. */
static bool read_line(scan *s) {
  skip_ws(s);
  if (s->p >= s->end || *s->p != '{')
    return false;
  s->p++;
  skip_ws(s);
  if (s->p < s->end && *s->p == '}')
    return false; /* no type: the precise reader says so */
  for (;;) {
    span key;
    skip_ws(s);
    if (s->p >= s->end || *s->p != '"' || !read_string(s, &key))
      return false;
    int k = key_slot(key.s, key.len);
    if (k < 0 || (s->seen & (1u << k)))
      return false;
    s->seen |= 1u << k;
    skip_ws(s);
    if (s->p >= s->end || *s->p != ':')
      return false;
    s->p++;
    skip_ws(s);
    if (!read_value(s, k))
      return false;
    skip_ws(s);
    if (s->p >= s->end)
      return false;
    if (*s->p == ',') {
      s->p++;
      continue;
    }
    if (*s->p != '}')
      return false;
    s->p++;
    break;
  }
  skip_ws(s);
  return s->p == s->end;
}

/* ------------------------------------------------------------------ */
/* The checks of reader.c, for an accepted line                       */
/* ------------------------------------------------------------------ */

static inline bool has(const scan *s, int k) { return s->seen & (1u << k); }

static bool id_ok(const scan *s, int k) {
  const span *v = &s->str[k];
  if (!has(s, k) || v->len == 0 || v->len > RB_ID_MAX)
    return false;
  /* Raw C0 controls cannot reach here (read_string refuses them). */
  return memchr(v->s, 0x7F, v->len) == NULL;
}

static bool time_ok(const scan *s, int k, rb_time *out) {
  return has(s, k) &&
         rb_time_parse(s->str[k].s, s->str[k].len, out, NULL) == RB_OK;
}

static bool int_ok(const scan *s, int k, int64_t min, int64_t max,
                   int64_t *out) {
  if (!has(s, k) || s->num[k] < min || s->num[k] > max)
    return false;
  *out = s->num[k];
  return true;
}

static bool money_ok(const scan *s, int k, bool required, bool positive,
                     rb_money *out) {
  rb_money v;
  if (!has(s, k))
    return !required;
  if (rb_money_parse(s->str[k].s, s->str[k].len, &v) != RB_OK ||
      (positive ? v <= 0 : v < 0))
    return false;
  *out = v;
  return true;
}

static bool type_of(const scan *s, rb_event_type *t) {
  static const struct {
    const char *name;
    size_t len;
    rb_event_type type;
  } types[] = {
      {"usage", 5, RB_EV_USAGE},
      {"account", 7, RB_EV_ACCOUNT},
      {"app", 3, RB_EV_APP},
      {"package", 7, RB_EV_PACKAGE},
      {"topup", 5, RB_EV_TOPUP},
      {"enable_postpaid", 15, RB_EV_ENABLE_POSTPAID},
      {"disable_postpaid", 16, RB_EV_DISABLE_POSTPAID},
      {"change_cycle", 12, RB_EV_CHANGE_CYCLE},
  };
  const span *v = &s->str[K_TYPE];
  if (!has(s, K_TYPE))
    return false;
  for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
    if (types[i].len == v->len && memcmp(types[i].name, v->s, v->len) == 0) {
      *t = types[i].type;
      return true;
    }
  }
  return false;
}

/* Segments inside the presence, compared without overflow (reader.c's
 * take_segment). */
static bool segments_ok(const scan *s, int64_t presence) {
  for (size_t i = 0; i < s->nseg; i++) {
    const rb_segment *g = &s->seg[i];
    if (g->offset < 0 || g->seconds < 1 || g->width < 1 ||
        g->width > RB_PIXELS_SIDE_MAX || g->height < 1 ||
        g->height > RB_PIXELS_SIDE_MAX)
      return false;
    if (g->seconds > presence || g->offset > presence - g->seconds)
      return false;
  }
  return true;
}

/* The fields of ev->type, as reader.c's take_fields; *strs lists the id
 * slots to copy, in the order account, package, kind, id, user, room. */
static bool fields(const scan *s, rb_event *ev) {
  switch (ev->type) {
  case RB_EV_ACCOUNT:
    return id_ok(s, K_ACCOUNT) && time_ok(s, K_AT, &ev->at) &&
           money_ok(s, K_BALANCE, false, false, &ev->money);
  case RB_EV_APP:
    if (!int_ok(s, K_APP, 1, INT64_MAX, &ev->app) || !id_ok(s, K_ACCOUNT) ||
        !time_ok(s, K_AT, &ev->at))
      return false;
    if (has(s, K_POSTPAID))
      ev->postpaid = s->flag;
    return true;
  case RB_EV_PACKAGE:
    return id_ok(s, K_PACKAGE) && id_ok(s, K_ACCOUNT) &&
           time_ok(s, K_AT, &ev->at) && id_ok(s, K_KIND) &&
           int_ok(s, K_MINUTES, 1, RB_MINUTES_MAX, &ev->minutes) &&
           money_ok(s, K_PRICE, true, false, &ev->money);
  case RB_EV_TOPUP:
    return id_ok(s, K_ACCOUNT) && time_ok(s, K_AT, &ev->at) &&
           money_ok(s, K_AMOUNT, true, true, &ev->money);
  case RB_EV_ENABLE_POSTPAID:
  case RB_EV_DISABLE_POSTPAID:
    return int_ok(s, K_APP, 1, INT64_MAX, &ev->app) &&
           time_ok(s, K_AT, &ev->at);
  case RB_EV_CHANGE_CYCLE: {
    const span *c = &s->str[K_CYCLE];
    if (!id_ok(s, K_ACCOUNT) || !time_ok(s, K_AT, &ev->at) || !has(s, K_CYCLE))
      return false;
    if (c->len == 5 && memcmp(c->s, "daily", 5) == 0)
      ev->cycle = RB_CYCLE_DAILY;
    else if (c->len == 7 && memcmp(c->s, "monthly", 7) == 0)
      ev->cycle = RB_CYCLE_MONTHLY;
    else
      return false;
    return true;
  }
  case RB_EV_USAGE: {
    if (!id_ok(s, K_ID) || !int_ok(s, K_APP, 1, INT64_MAX, &ev->app) ||
        !id_ok(s, K_USER) || !id_ok(s, K_ROOM) ||
        !time_ok(s, K_START, &ev->start) ||
        !int_ok(s, K_SECONDS, 0, RB_SESSION_SECONDS_MAX, &ev->seconds))
      return false;
    if (has(s, K_RECEIVED) && !time_ok(s, K_RECEIVED, &ev->received))
      return false;
    if (!segments_ok(s, ev->seconds))
      return false;
    rb_time end = ev->start + ev->seconds;
    ev->at =
        ev->received != RB_TIME_NONE && ev->received > end ? ev->received : end;
    return true;
  }
  }
  return false;
}

int rb__event_scan(rb_arena *a, const char *line, size_t len, rb_event *ev) {
  scan s;
  s.p = line;
  s.end = line + len;
  s.seen = 0;
  s.nseg = 0;
  s.flag = false;
  memset(ev, 0, sizeof *ev);
  ev->at = ev->start = ev->received = RB_TIME_NONE;
  if (!read_line(&s) || !type_of(&s, &ev->type) || !fields(&s, ev))
    return UNSURE;

  /* Accepted: copy the ids the type uses and the segments, in one block
   * (segments first, for their alignment). */
  static const int slots[6] = {K_ACCOUNT, K_PACKAGE, K_KIND,
                               K_ID,      K_USER,    K_ROOM};
  const char **dst[6] = {&ev->account, &ev->package, &ev->kind,
                         &ev->id,      &ev->user,    &ev->room};
  bool used[6] = {false};
  switch (ev->type) {
  case RB_EV_ACCOUNT:
  case RB_EV_TOPUP:
  case RB_EV_CHANGE_CYCLE:
  case RB_EV_APP:
    used[0] = true;
    break;
  case RB_EV_PACKAGE:
    used[0] = used[1] = used[2] = true;
    break;
  case RB_EV_USAGE:
    used[3] = used[4] = used[5] = true;
    break;
  default:
    break;
  }
  size_t segbytes = ev->type == RB_EV_USAGE ? s.nseg * sizeof(rb_segment) : 0;
  size_t total = segbytes;
  for (int i = 0; i < 6; i++)
    if (used[i])
      total += s.str[slots[i]].len + 1;
  if (total == 0)
    return RB_OK;
  char *block = rb__arena_alloc8(a, total);
  if (block == NULL)
    return RB_ENOMEM;
  if (segbytes > 0) {
    memcpy(block, s.seg, segbytes);
    ev->video = (const rb_segment *)(void *)block;
    ev->nvideo = s.nseg;
  }
  char *o = block + segbytes;
  for (int i = 0; i < 6; i++) {
    if (!used[i])
      continue;
    const span *v = &s.str[slots[i]];
    memcpy(o, v->s, v->len);
    o[v->len] = '\0';
    *dst[i] = o;
    o += v->len + 1;
  }
  return RB_OK;
}
