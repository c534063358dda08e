/* scan.c: the reader's fast path (see scan.h).
 *
 * One pass over the line with a pointer: keys land in a fixed slot each,
 * values are checked as they are read (strict JSON strings without
 * escapes, integers converted eight digits at a time, times in their
 * common fixed-width form converted on the spot, the video array
 * straight into a stack buffer), and the event's checks are those of
 * reader.c for an accepted line. It never reports an error: whatever it
 * does not handle, or would reject, goes back to the precise reader.
 * That keeps the two in step by construction, and tests/core/test_scan.c
 * checks it on every line of the test corpora.
 *
 * Lines come from programs, which write them the same way every time:
 * `"key":` with nothing between the quote and the colon, no spaces
 * around the punctuation, the keys of a usage line and of its segments
 * in the order of docs/formats.md. Each of those shapes is tried first
 * with fixed-length compares of whole tokens, and a line written any
 * other way falls back, token by token, to the general reading of the
 * same grammar: any order, any spaces. The shortcuts only make the usual
 * spelling cheap; they accept nothing the general path would not.
 *
 * Depends on: scan.h, alloc.h (packed arena blocks), rtcbill.h
 * (rb_time_parse, rb_days_from_civil, rb_money_parse, the arena), the C
 * standard library.
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

#define BIT(k) (UINT32_C(1) << (k))

typedef struct span {
  const char *s;
  size_t len;
} span;

typedef struct scan {
  uint32_t seen;  /* bit per slot */
  uint32_t del;   /* bit per string slot holding a DEL (no id may) */
  uint32_t timed; /* bit per time slot already converted into num[] */
  span str[K__COUNT];
  int64_t num[K__COUNT];
  bool flag;
  size_t nseg;
  rb_segment seg[SCAN_SEGMENTS];
} scan;

/* s[0..n) equals t[0..n), for t a literal: from 4 to 16 bytes, two
 * loads of a word a side (overlapping unless n is a multiple of the
 * word), which the compiler folds into constants for t; memcmp is left
 * to its own judgement and may make a call. */
static inline bool same_bytes(const char *s, const char *t, size_t n) {
  if (n >= 8 && n <= 16) {
    uint64_t a, b, c, d;
    memcpy(&a, s, 8);
    memcpy(&b, t, 8);
    memcpy(&c, s + n - 8, 8);
    memcpy(&d, t + n - 8, 8);
    return ((a ^ b) | (c ^ d)) == 0;
  }
  if (n >= 4 && n < 8) {
    uint32_t a, b, c, d;
    memcpy(&a, s, 4);
    memcpy(&b, t, 4);
    memcpy(&c, s + n - 4, 4);
    memcpy(&d, t + n - 4, 4);
    return ((a ^ b) | (c ^ d)) == 0;
  }
  return memcmp(s, t, n) == 0;
}

/* The remaining input starts with the literal lit: the pointer past it,
 * or NULL. */
#define AFTER(p, end, lit)                                                     \
  ((size_t)((end) - (p)) >= sizeof(lit) - 1 &&                                 \
           same_bytes((p), (lit), sizeof(lit) - 1)                             \
       ? (p) + sizeof(lit) - 1                                                 \
       : NULL)

/* JSON Lines written by machines rarely hold any whitespace: one test
 * (every JSON space is at most ' ') settles the common case. */
static inline bool is_ws(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static inline const char *skip_ws(const char *p, const char *end) {
  if (p < end && (unsigned char)*p <= ' ')
    while (p < end && is_ws(*p))
      p++;
  return p;
}

/* ------------------------------------------------------------------ */
/* Strings                                                            */
/* ------------------------------------------------------------------ */

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
 * where the byte is a quote, a backslash, a control character, DEL or
 * not ASCII (SWAR: "determine if a word has a byte less than n" and "has
 * a byte equal to n", from Sean Anderson's Bit Twiddling Hacks). A
 * borrow can also mark bytes after the first marked one, never before,
 * so the lowest mark is exact. */
#define ONES UINT64_C(0x0101010101010101)
#define HIGHS UINT64_C(0x8080808080808080)

static inline uint64_t zero_bytes(uint64_t w) { return (w - ONES) & ~w; }

static inline uint64_t special_bytes(uint64_t w) {
  uint64_t q = zero_bytes(w ^ (ONES * '"'));
  uint64_t b = zero_bytes(w ^ (ONES * '\\'));
  uint64_t d = zero_bytes(w ^ (ONES * 0x7F));
  uint64_t ctl = (w - ONES * 0x20) & ~w;
  return (q | b | d | ctl | w) & HIGHS;
}

/* read_string from p, inside the string that begins at start. */
static const char *read_string_at(const char *start, const char *p,
                                  const char *end, span *out, bool *del) {
  bool has_del = false;
  for (;;) {
    /* Plain ASCII runs go by words, up to the first byte that needs a
     * look (little-endian: the lowest mark). */
    if (end - p >= 8) {
      uint64_t w;
      memcpy(&w, p, 8);
      uint64_t m = special_bytes(w);
      if (m == 0) {
        p += 8;
        continue;
      }
      if (IS_LITTLE_ENDIAN)
        p += __builtin_ctzll(m) / 8;
    }
    if (p >= end)
      return NULL;
    unsigned char c = (unsigned char)*p;
    if (c == '"')
      break;
    if (c == '\\' || c < 0x20)
      return NULL;
    if (c < 0x80) {
      has_del |= c == 0x7F;
      p++;
    } else {
      size_t n = utf8_len((const unsigned char *)p, (const unsigned char *)end);
      if (n == 0)
        return NULL;
      p += n;
    }
  }
  out->s = start;
  out->len = (size_t)(p - start);
  *del = has_del;
  return p + 1;
}

/* A string at p (its opening quote) without escapes or control
 * characters: the pointer past its closing quote, or NULL. DEL is valid
 * JSON; *del says whether one was seen, since ids refuse it. The usual
 * short ASCII string ends in its first word or two and is taken here,
 * inline; anything else goes on in read_string_at. */
static inline const char *read_string(const char *p, const char *end, span *out,
                                      bool *del) {
  const char *start = ++p;
  while (IS_LITTLE_ENDIAN && end - p >= 8) {
    uint64_t w;
    memcpy(&w, p, 8);
    uint64_t m = special_bytes(w);
    if (m == 0) {
      p += 8;
      continue;
    }
    p += __builtin_ctzll(m) / 8;
    if (*p != '"')
      break;
    out->s = start;
    out->len = (size_t)(p - start);
    *del = false;
    return p + 1;
  }
  return read_string_at(start, p, end, out, del);
}

/* ------------------------------------------------------------------ */
/* Numbers and times                                                  */
/* ------------------------------------------------------------------ */

/* How many of the bytes of w, from its first in memory, are ASCII
 * digits: a mark on each byte below '0' and each above '9' (bit 7 set,
 * or set by adding 0x46), as for special_bytes, the lowest mark exact. */
static inline unsigned digit_count(uint64_t w) {
  uint64_t below = (w - ONES * '0') & ~w;
  uint64_t above = (w + ONES * (0x7F - '9')) | w;
  uint64_t m = (below | above) & HIGHS;
  return IS_LITTLE_ENDIAN ? (m ? (unsigned)__builtin_ctzll(m) / 8 : 8) : 0;
}

/* The number written by the eight ASCII digits of w, first byte most
 * significant: pairs, then quads, then the whole, each step one multiply
 * (simdjson's parse_eight_digits_unrolled). */
static inline uint64_t eight_digits(uint64_t w) {
  w = ((w & UINT64_C(0x0F0F0F0F0F0F0F0F)) * 2561) >> 8;
  w = ((w & UINT64_C(0x00FF00FF00FF00FF)) * 6553601) >> 16;
  return ((w & UINT64_C(0x0000FFFF0000FFFF)) * UINT64_C(42949672960001)) >> 32;
}

/* A JSON integer (no fraction or exponent) that fits int64: the pointer
 * past it, or NULL. */
static const char *read_int_any(const char *p, const char *end, int64_t *out) {
  bool neg = p < end && *p == '-';
  p += neg;
  const char *first = p;
  uint64_t v = 0;
  unsigned d;
  /* Eight to fifteen digits (ids of apps) go by two words when the line
   * has them: the first eight, then the rest as read_int takes them. */
  if (end - p >= 16) {
    static const uint64_t pow10[8] = {1,     10,     100,     1000,
                                      10000, 100000, 1000000, 10000000};
    uint64_t w, w2;
    memcpy(&w, p, 8);
    memcpy(&w2, p + 8, 8);
    unsigned n2 = digit_count(w2);
    if (digit_count(w) == 8 && n2 >= 1 && n2 <= 7) {
      v = eight_digits(w) * pow10[n2] + eight_digits(w2 << (8 * (8 - n2)));
      p += 8 + n2;
      goto digits_done;
    }
  }
  /* 18 digits cannot overflow: check only past them. */
  const char *fast = end - p > 18 ? p + 18 : end;
  while (p < fast && (d = (unsigned)(unsigned char)*p - '0') <= 9) {
    v = v * 10 + d;
    p++;
  }
  if (p == fast) {
    const uint64_t limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    while (p < end && (d = (unsigned)(unsigned char)*p - '0') <= 9) {
      if (v > (limit - d) / 10)
        return NULL;
      v = v * 10 + d;
      p++;
    }
  }
digits_done:
  /* No digit, a leading zero followed by a digit, a fraction or an
   * exponent: the precise reader says which. */
  if (p == first || (*first == '0' && p - first > 1))
    return NULL;
  if (p < end && (*p == '.' || *p == 'e' || *p == 'E'))
    return NULL;
  if (!neg)
    *out = (int64_t)v;
  else
    *out = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
  return p;
}

/* read_int_any, with most numbers (non-negative, one to seven digits, a
 * word of line left) in one word: shifted up so that the bytes past the
 * digits fall off and zeros, leading digits 0, come in. Inlined where
 * numbers are frequent. */
static inline const char *read_int(const char *p, const char *end,
                                   int64_t *out) {
  if (end - p >= 8) {
    uint64_t w;
    memcpy(&w, p, 8);
    unsigned n = digit_count(w);
    /* The byte after the digits is in the word: `| 0x20` folds "E"
     * onto "e" and nothing else onto it. */
    if (n >= 1 && n <= 7 && (n == 1 || *p != '0') && p[n] != '.' &&
        (p[n] | 0x20) != 'e') {
      *out = (int64_t)eight_digits(w << (8 * (8 - n)));
      return p + n;
    }
  }
  return read_int_any(p, end, out);
}

/* The digit c as a number; *bad records a byte that is not one, so that
 * a whole field is checked with a single test at the end. */
static inline unsigned digit(char c, unsigned *bad) {
  unsigned d = (unsigned)(unsigned char)c - '0';
  *bad |= d > 9;
  return d;
}

static inline unsigned two_digits(const char *s, unsigned *bad) {
  return digit(s[0], bad) * 10 + digit(s[1], bad);
}

static unsigned month_days(unsigned y, unsigned m) {
  static const unsigned char dim[13] = {0,  31, 28, 31, 30, 31, 30,
                                        31, 31, 30, 31, 30, 31};
  if (m == 2 && y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))
    return 29;
  return dim[m];
}

/* The byte c at index i of a word (in memory order, little-endian). */
#define AT_BYTE(c, i) ((uint64_t)(c) << (8 * (i)))

/* Matches the word w against a fixed-width pattern: ASCII digits where
 * the mask digits has 0xFF bytes, the bytes of lit elsewhere. On a match
 * *pairs holds, at each digit byte, ten times its digit plus the next
 * one: the value of a two-digit field starting there. (Eight bytes at a
 * time, as special_bytes; a value byte is a digit when neither it nor it
 * plus 6 reaches 0x10, and no byte can carry into the next.) */
static inline bool digits_pattern(uint64_t w, uint64_t digits, uint64_t lit,
                                  uint64_t *pairs) {
  uint64_t x = (w ^ (ONES * '0')) & digits;
  if ((w & ~digits) != lit || ((x | (x + ONES * 6)) & (ONES * 0xF0)) != 0)
    return false;
  *pairs = x * 10 + (x >> 8);
  return true;
}

static inline unsigned byte_at(uint64_t w, int i) {
  return (unsigned)(w >> (8 * i)) & 0xFF;
}

/* A time string at p (its opening quote) in the fixed-width form
 * "YYYY-MM-DDTHH:MM:SS" then "Z" or "+HH:MM", as producers write it:
 * *out as rb_time_parse converts it (same syntax, same ranges), and the
 * pointer past the closing quote. NULL for anything else (a fraction, a
 * bad or out-of-range field, a longer string), which is then read as a
 * plain string and left to rb_time_parse itself. */
static const char *read_time(const char *p, const char *end, rb_time *out) {
  const char *s = p + 1, *q;
  uint64_t w, date, clock;
  if (!IS_LITTLE_ENDIAN || end - p < 22)
    return NULL;
  /* "YYYY-MM-" and "DDTHH:MM" a word each; `| 0x20` folds "T" onto "t"
   * and nothing else onto it, as rb_time_parse takes either. */
  memcpy(&w, s, 8);
  if (!digits_pattern(w, UINT64_C(0x00FFFF00FFFFFFFF),
                      AT_BYTE('-', 4) | AT_BYTE('-', 7), &date))
    return NULL;
  memcpy(&w, s + 8, 8);
  if (!digits_pattern(w | AT_BYTE(0x20, 2), UINT64_C(0xFFFF00FFFF00FFFF),
                      AT_BYTE('t', 2) | AT_BYTE(':', 5), &clock))
    return NULL;
  unsigned year = byte_at(date, 0) * 100 + byte_at(date, 2);
  unsigned mon = byte_at(date, 5), day = byte_at(clock, 0);
  unsigned hour = byte_at(clock, 3), min = byte_at(clock, 6);
  /* ":SS" and the zone, a byte at a time. */
  unsigned bad = 0, oh = 0, om = 0;
  unsigned sec = two_digits(s + 17, &bad);
  if (s[16] != ':')
    return NULL;
  if ((s[19] | 0x20) == 'z') {
    q = s + 20;
  } else if (s[19] == '+' || s[19] == '-') {
    if (end - p < 27 || s[22] != ':')
      return NULL;
    oh = two_digits(s + 20, &bad);
    om = two_digits(s + 23, &bad);
    q = s + 25;
  } else {
    return NULL;
  }
  if (*q != '"' || bad || year < 1 || mon < 1 || mon > 12 || day < 1 ||
      day > month_days(year, mon) || hour > 23 || min > 59 || sec > 59 ||
      oh > 23 || om > 59)
    return NULL;
  int64_t off = (int64_t)(oh * 3600 + om * 60);
  *out = rb_days_from_civil(year, mon, day) * 86400 + hour * 3600 + min * 60 +
         sec - (s[19] == '-' ? -off : off);
  return q + 1;
}

/* ------------------------------------------------------------------ */
/* The line                                                           */
/* ------------------------------------------------------------------ */

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

/* A key token `"name":` at p, as producers write it: its slot in *k and
 * the pointer past the colon, or NULL (then any_key decides). The first
 * letter picks the few candidates; each is one compare of the whole
 * token, quotes and colon included, so "at" cannot match "atx". */
static const char *known_key(const char *p, const char *end, int *k) {
  const char *q = NULL;
  if (end - p < 5)
    return NULL;
#define TRY(lit, slot)                                                         \
  if (q == NULL && (q = AFTER(p, end, lit)) != NULL)                           \
  *k = slot
  switch (p[1]) {
  case 'a':
    TRY("\"at\":", K_AT);
    TRY("\"app\":", K_APP);
    TRY("\"account\":", K_ACCOUNT);
    TRY("\"amount\":", K_AMOUNT);
    break;
  case 'b':
    TRY("\"balance\":", K_BALANCE);
    break;
  case 'c':
    TRY("\"cycle\":", K_CYCLE);
    break;
  case 'i':
    TRY("\"id\":", K_ID);
    break;
  case 'k':
    TRY("\"kind\":", K_KIND);
    break;
  case 'm':
    TRY("\"minutes\":", K_MINUTES);
    break;
  case 'p':
    TRY("\"postpaid\":", K_POSTPAID);
    TRY("\"package\":", K_PACKAGE);
    TRY("\"price\":", K_PRICE);
    break;
  case 'r':
    TRY("\"room\":", K_ROOM);
    TRY("\"received\":", K_RECEIVED);
    break;
  case 's':
    TRY("\"start\":", K_START);
    TRY("\"seconds\":", K_SECONDS);
    break;
  case 't':
    TRY("\"type\":", K_TYPE);
    break;
  case 'u':
    TRY("\"user\":", K_USER);
    break;
  case 'v':
    TRY("\"video\":", K_VIDEO);
    break;
  default:
    break;
  }
#undef TRY
  return q;
}

/* Any key at p with its colon, spaces allowed: the general path. */
static const char *any_key(const char *p, const char *end, int *k) {
  span key;
  bool del;
  if (p == end || *p != '"' || (p = read_string(p, end, &key, &del)) == NULL)
    return NULL;
  if ((*k = key_slot(key.s, key.len)) < 0)
    return NULL;
  p = skip_ws(p, end);
  return p < end && *p == ':' ? p + 1 : NULL;
}

/* A segment as producers write it,
 * {"offset":N,"seconds":N,"width":N,"height":N}: the pointer past it, or
 * NULL (then read_segment decides, from the same place). */
static const char *segment_fast(const char *p, const char *end, rb_segment *g) {
  if ((p = AFTER(p, end, "{\"offset\":")) == NULL ||
      (p = read_int(p, end, &g->offset)) == NULL ||
      (p = AFTER(p, end, ",\"seconds\":")) == NULL ||
      (p = read_int(p, end, &g->seconds)) == NULL ||
      (p = AFTER(p, end, ",\"width\":")) == NULL ||
      (p = read_int(p, end, &g->width)) == NULL ||
      (p = AFTER(p, end, ",\"height\":")) == NULL ||
      (p = read_int(p, end, &g->height)) == NULL || p == end || *p != '}')
    return NULL;
  return p + 1;
}

/* One segment object, its four keys once each and nothing else. */
static const char *read_segment(const char *p, const char *end, rb_segment *g) {
  int64_t v[4];
  unsigned seen = 0;
  if (p == end || *p != '{')
    return NULL;
  p++;
  for (;;) {
    span k;
    bool del;
    int i;
    p = skip_ws(p, end);
    if (p == end || *p != '"' || (p = read_string(p, end, &k, &del)) == NULL)
      return NULL;
    if (k.len == 6 && memcmp(k.s, "offset", 6) == 0)
      i = 0;
    else if (k.len == 7 && memcmp(k.s, "seconds", 7) == 0)
      i = 1;
    else if (k.len == 5 && memcmp(k.s, "width", 5) == 0)
      i = 2;
    else if (k.len == 6 && memcmp(k.s, "height", 6) == 0)
      i = 3;
    else
      return NULL;
    if (seen & (1u << i))
      return NULL;
    seen |= 1u << i;
    p = skip_ws(p, end);
    if (p == end || *p != ':')
      return NULL;
    p = skip_ws(p + 1, end);
    if ((p = read_int_any(p, end, &v[i])) == NULL)
      return NULL;
    p = skip_ws(p, end);
    if (p == end)
      return NULL;
    if (*p == ',') {
      p++;
      continue;
    }
    if (*p != '}')
      return NULL;
    p++;
    break;
  }
  if (seen != 0xF)
    return NULL;
  g->offset = v[0];
  g->seconds = v[1];
  g->width = v[2];
  g->height = v[3];
  return p;
}

/* The array at p (its '['). */
static const char *read_video(scan *s, const char *p, const char *end) {
  s->nseg = 0;
  p = skip_ws(p + 1, end);
  if (p < end && *p == ']')
    return p + 1;
  for (;;) {
    if (s->nseg == SCAN_SEGMENTS)
      return NULL;
    rb_segment *g = &s->seg[s->nseg++];
    const char *q;
    p = skip_ws(p, end);
    if ((q = segment_fast(p, end, g)) == NULL &&
        (q = read_segment(p, end, g)) == NULL)
      return NULL;
    p = skip_ws(q, end);
    if (p == end)
      return NULL;
    if (*p == ',') {
      p++;
      continue;
    }
    if (*p != ']')
      return NULL;
    return p + 1;
  }
}

/* A string value for slot k at p. */
static const char *read_text(scan *s, int k, const char *p, const char *end) {
  const char *q;
  bool del;
  if (p == end || *p != '"' ||
      (q = read_string(p, end, &s->str[k], &del)) == NULL)
    return NULL;
  if (del)
    s->del |= BIT(k);
  return q;
}

/* A time value for slot k at p: converted now when it has the usual
 * form, kept as text for rb_time_parse otherwise. */
static const char *read_when(scan *s, int k, const char *p, const char *end) {
  const char *q;
  if (p < end && *p == '"' && (q = read_time(p, end, &s->num[k])) != NULL) {
    s->timed |= BIT(k);
    return q;
  }
  return read_text(s, k, p, end);
}

/* The value of slot k at p. Each slot takes the JSON type its field
 * has; anything else (including null, which the precise reader treats as
 * absent) is left to the precise reader. */
static const char *read_value(scan *s, int k, const char *p, const char *end) {
  const char *q;
  if (p == end)
    return NULL;
  switch (k) {
  case K_APP:
  case K_MINUTES:
  case K_SECONDS:
    return read_int(p, end, &s->num[k]);
  case K_POSTPAID:
    if ((q = AFTER(p, end, "true")) != NULL)
      s->flag = true;
    else if ((q = AFTER(p, end, "false")) != NULL)
      s->flag = false;
    return q;
  case K_VIDEO:
    return *p == '[' ? read_video(s, p, end) : NULL;
  case K_AT:
  case K_START:
  case K_RECEIVED:
    return read_when(s, k, p, end);
  default:
    return read_text(s, k, p, end);
  }
}

/* The fields of a usage line after its type, in the order of
 * docs/formats.md, which producers keep: one token compare and one read
 * of the field's known type each, without looking up the key or choosing
 * the reader. Returns where it stopped, just after a value: the end of
 * the line, or a field written otherwise, which read_line then takes the
 * general way (a value that fails here fails there too). */
static const char *usage_fields(scan *s, const char *p, const char *end) {
  const char *q;
#define FIELD(token, slot, read)                                               \
  if ((q = AFTER(p, end, token)) == NULL || (q = (read)) == NULL)              \
    return p;                                                                  \
  s->seen |= BIT(slot);                                                        \
  p = q
  FIELD(",\"id\":", K_ID, read_text(s, K_ID, q, end));
  FIELD(",\"app\":", K_APP, read_int(q, end, &s->num[K_APP]));
  FIELD(",\"user\":", K_USER, read_text(s, K_USER, q, end));
  FIELD(",\"room\":", K_ROOM, read_text(s, K_ROOM, q, end));
  FIELD(",\"start\":", K_START, read_when(s, K_START, q, end));
  FIELD(",\"seconds\":", K_SECONDS, read_int(q, end, &s->num[K_SECONDS]));
  /* Optional: a missing one is no reason to stop. */
  if (AFTER(p, end, ",\"received\":") != NULL) {
    FIELD(",\"received\":", K_RECEIVED, read_when(s, K_RECEIVED, q, end));
  }
  FIELD(",\"video\":", K_VIDEO,
        q < end && *q == '[' ? read_video(s, q, end) : NULL);
#undef FIELD
  return p;
}

/* The whole line: one object of known keys, each at most once. */
static bool read_line(scan *s, const char *p, const char *end) {
  p = skip_ws(p, end);
  if (p == end || *p != '{')
    return false;
  p++;
  for (;;) {
    const char *q;
    int k;
    if (s->seen == 0 && (q = AFTER(p, end, "\"type\":\"usage\"")) != NULL) {
      /* A usage line as usual, its type first: the rest in one run. */
      s->seen = BIT(K_TYPE);
      s->str[K_TYPE].s = q - 6;
      s->str[K_TYPE].len = 5;
      p = usage_fields(s, q, end);
    } else {
      /* Spaces are looked for only where the usual token is not found. */
      if ((q = known_key(p, end, &k)) == NULL &&
          (q = any_key(skip_ws(p, end), end, &k)) == NULL)
        return false; /* also "{}", which has no type */
      if (s->seen & BIT(k))
        return false;
      s->seen |= BIT(k);
      if ((p = read_value(s, k, skip_ws(q, end), end)) == NULL)
        return false;
    }
    if (p < end && *p == ',') {
      p++;
      continue;
    }
    p = skip_ws(p, end);
    if (p == end)
      return false;
    if (*p == ',') {
      p++;
      continue;
    }
    if (*p != '}')
      return false;
    p++;
    break;
  }
  return skip_ws(p, end) == end;
}

/* ------------------------------------------------------------------ */
/* The checks of reader.c, for an accepted line                       */
/* ------------------------------------------------------------------ */

static inline bool has(const scan *s, int k) { return s->seen & BIT(k); }

/* Raw C0 controls cannot reach here (read_string refuses them), and
 * read_string noted any DEL. */
static bool id_ok(const scan *s, int k) {
  return has(s, k) && s->str[k].len > 0 && s->str[k].len <= RB_ID_MAX &&
         !(s->del & BIT(k));
}

static bool time_ok(const scan *s, int k, rb_time *out) {
  if (!has(s, k))
    return false;
  if (s->timed & BIT(k)) {
    *out = s->num[k];
    return true;
  }
  return rb_time_parse(s->str[k].s, s->str[k].len, out, NULL) == RB_OK;
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

/* The type names differ in length but for two pairs: the length picks
 * one or two candidates to compare. */
static bool type_of(const scan *s, rb_event_type *t) {
  const span *v = &s->str[K_TYPE];
#define IS(lit) memcmp(v->s, lit, sizeof(lit) - 1) == 0
  if (!has(s, K_TYPE))
    return false;
  switch (v->len) {
  case 3:
    *t = RB_EV_APP;
    return IS("app");
  case 5:
    *t = IS("usage") ? RB_EV_USAGE : RB_EV_TOPUP;
    return *t == RB_EV_USAGE || IS("topup");
  case 7:
    *t = IS("account") ? RB_EV_ACCOUNT : RB_EV_PACKAGE;
    return *t == RB_EV_ACCOUNT || IS("package");
  case 12:
    *t = RB_EV_CHANGE_CYCLE;
    return IS("change_cycle");
  case 15:
    *t = RB_EV_ENABLE_POSTPAID;
    return IS("enable_postpaid");
  case 16:
    *t = RB_EV_DISABLE_POSTPAID;
    return IS("disable_postpaid");
  default:
    return false;
  }
#undef IS
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

/* The fields of ev->type, as reader.c's take_fields. */
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
  s.seen = s.del = s.timed = 0;
  s.nseg = 0;
  s.flag = false;
  memset(ev, 0, sizeof *ev);
  ev->at = ev->start = ev->received = RB_TIME_NONE;
  if (!read_line(&s, line, line + len) || !type_of(&s, &ev->type) ||
      !fields(&s, ev))
    return UNSURE;

  /* Accepted: copy the ids the type uses and the segments, in one block
   * (segments first, for their alignment). */
  static const int slots[6] = {K_ACCOUNT, K_PACKAGE, K_KIND,
                               K_ID,      K_USER,    K_ROOM};
  const char **dst[6] = {&ev->account, &ev->package, &ev->kind,
                         &ev->id,      &ev->user,    &ev->room};
  int first, last; /* the slots[] the type uses */
  switch (ev->type) {
  case RB_EV_ACCOUNT:
  case RB_EV_TOPUP:
  case RB_EV_CHANGE_CYCLE:
  case RB_EV_APP:
    first = last = 0;
    break;
  case RB_EV_PACKAGE:
    first = 0, last = 2;
    break;
  case RB_EV_USAGE:
    first = 3, last = 5;
    break;
  default:
    first = 0, last = -1;
    break;
  }
  size_t segbytes = ev->type == RB_EV_USAGE ? s.nseg * sizeof(rb_segment) : 0;
  size_t total = segbytes;
  for (int i = first; i <= last; i++)
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
  for (int i = first; i <= last; i++) {
    const span *v = &s.str[slots[i]];
    memcpy(o, v->s, v->len);
    o[v->len] = '\0';
    *dst[i] = o;
    o += v->len + 1;
  }
  return RB_OK;
}
