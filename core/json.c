/* json.c: the strict JSON scanner behind the event reader (see json.h).
 *
 * A recursive-descent parser whose recursion is bounded by
 * RB__JSON_DEPTH_MAX, so hostile input cannot exhaust the stack. Nothing
 * here converts a number: the text is kept and rb__json_int64 reads it
 * digit by digit. Depends on: json.h, the C11 standard library.
 */
/* uv.h, included by rtcbill.h, needs the POSIX thread types, which a
 * strict -std=c11 build hides unless POSIX is requested. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include "alloc.h"
#include "json.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct parser {
  rb__json_doc *d;
  const char *beg; /* the text, for error columns */
  const char *p;   /* the next unread byte */
  const char *end;
} parser;

void rb__json_init(rb__json_doc *d) {
  memset(d, 0, offsetof(rb__json_doc, inline_nodes));
  d->nodes = d->inline_nodes;
  d->cap = RB__JSON_INLINE_NODES;
}

void rb__json_free(rb__json_doc *d) {
  if (d->nodes != d->inline_nodes)
    rb__free(d->nodes);
  if (d->sbuf != d->inline_bytes)
    rb__free(d->sbuf);
  d->nodes = d->inline_nodes;
  d->sbuf = NULL;
  d->n = d->sused = d->scap = 0;
}

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static int
fail(parser *ps, const char *at, const char *fmt, ...) {
  va_list ap;
  ps->d->err_col = (size_t)(at - ps->beg) + 1;
  va_start(ap, fmt);
  vsnprintf(ps->d->err_msg, sizeof ps->d->err_msg, fmt, ap);
  va_end(ap);
  return RB_ESYNTAX;
}

/* Names the byte at p for an error message without ever copying
 * non-printable input into it. */
static const char *describe(const parser *ps, const char *p, char buf[16]) {
  unsigned char c;
  if (p >= ps->end)
    return "the end of the line";
  c = (unsigned char)*p;
  if (c > 0x20 && c < 0x7f && c != '\'')
    snprintf(buf, 16, "'%c'", c);
  else
    snprintf(buf, 16, "byte 0x%02X", c);
  return buf;
}

static int unexpected(parser *ps, const char *p, const char *wanted) {
  char buf[16];
  if (p >= ps->end)
    return fail(ps, p, "the line ends early, expected %s", wanted);
  return fail(ps, p, "expected %s, found %s", wanted, describe(ps, p, buf));
}

static void skip_ws(parser *ps) {
  while (ps->p < ps->end &&
         (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
    ps->p++;
}

/* Appends a node and returns its index, or -1 when memory runs out.
 * Indices, not pointers, are kept while parsing because the array moves
 * when it grows. */
static long new_node(parser *ps, rb__json_type type, const char *at) {
  rb__json_doc *d = ps->d;
  rb__json_node *nn;
  if (d->n == d->cap) {
    size_t cap = d->cap * 2;
    if (d->nodes == d->inline_nodes) {
      nn = rb__malloc(cap * sizeof *nn);
      if (nn != NULL)
        memcpy(nn, d->nodes, d->n * sizeof *nn);
    } else {
      nn = rb__realloc(d->nodes, cap * sizeof *nn);
    }
    if (nn == NULL)
      return -1;
    d->nodes = nn;
    d->cap = cap;
  }
  nn = &d->nodes[d->n];
  memset(nn, 0, sizeof *nn);
  nn->type = (uint8_t)type;
  nn->pos = (uint32_t)(at - ps->beg);
  return (long)d->n++;
}

/* Length of the well-formed UTF-8 sequence at p (RFC 3629: no overlong
 * forms, no encoded surrogates, nothing past U+10FFFF), or 0. */
static size_t utf8_len(const unsigned char *p, const unsigned char *end) {
  unsigned char c = p[0];
  size_t n, i;
  unsigned char lo = 0x80, hi = 0xBF;
  if (c < 0x80)
    return 1;
  if (c >= 0xC2 && c <= 0xDF)
    n = 2;
  else if (c >= 0xE0 && c <= 0xEF) {
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
  } else
    return 0;
  if ((size_t)(end - p) < n)
    return 0;
  if (p[1] < lo || p[1] > hi)
    return 0;
  for (i = 2; i < n; i++)
    if (p[i] < 0x80 || p[i] > 0xBF)
      return 0;
  return n;
}

static int hex4(const char *p, const char *end, unsigned *out) {
  unsigned v = 0;
  int i;
  if (end - p < 4)
    return -1;
  for (i = 0; i < 4; i++) {
    char c = p[i];
    v <<= 4;
    if (c >= '0' && c <= '9')
      v |= (unsigned)(c - '0');
    else if (c >= 'a' && c <= 'f')
      v |= (unsigned)(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F')
      v |= (unsigned)(c - 'A' + 10);
    else
      return -1;
  }
  *out = v;
  return 0;
}

static char *put_utf8(char *o, unsigned cp) {
  if (cp < 0x80) {
    *o++ = (char)cp;
  } else if (cp < 0x800) {
    *o++ = (char)(0xC0 | (cp >> 6));
    *o++ = (char)(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    *o++ = (char)(0xE0 | (cp >> 12));
    *o++ = (char)(0x80 | ((cp >> 6) & 0x3F));
    *o++ = (char)(0x80 | (cp & 0x3F));
  } else {
    *o++ = (char)(0xF0 | (cp >> 18));
    *o++ = (char)(0x80 | ((cp >> 12) & 0x3F));
    *o++ = (char)(0x80 | ((cp >> 6) & 0x3F));
    *o++ = (char)(0x80 | (cp & 0x3F));
  }
  return o;
}

/* Decoded output is never longer than its source (every escape is at
 * least as long as the bytes it stands for), so one buffer the size of
 * the whole text holds every decoded string and never has to move. */
static int ensure_sbuf(parser *ps) {
  rb__json_doc *d = ps->d;
  size_t need = (size_t)(ps->end - ps->beg);
  if (d->sbuf != NULL)
    return 0;
  if (need <= RB__JSON_INLINE_BYTES) {
    d->sbuf = d->inline_bytes;
  } else {
    d->sbuf = rb__malloc(need);
    if (d->sbuf == NULL)
      return RB_ENOMEM;
  }
  d->scap = need;
  return 0;
}

/* Parses the string starting at the opening quote under ps->p. Strings
 * without escapes are returned in place; others are decoded into the
 * document's buffer. */
static int parse_string(parser *ps, const char **out, uint32_t *outlen) {
  const char *p = ps->p + 1, *start = p, *end = ps->end;
  char *o, *o0;
  unsigned char c;

  for (;;) {
    if (p >= end)
      return fail(ps, p, "the line ends inside a string");
    c = (unsigned char)*p;
    if (c == '"') {
      *out = start;
      *outlen = (uint32_t)(p - start);
      ps->p = p + 1;
      return 0;
    }
    if (c == '\\')
      break;
    if (c < 0x20)
      return fail(ps, p, "raw control character 0x%02X in a string", c);
    if (c < 0x80) {
      p++;
    } else {
      size_t n = utf8_len((const unsigned char *)p, (const unsigned char *)end);
      if (n == 0)
        return fail(ps, p, "invalid UTF-8 in a string");
      p += n;
    }
  }

  if (ensure_sbuf(ps) != 0)
    return RB_ENOMEM;
  o0 = o = ps->d->sbuf + ps->d->sused;
  memcpy(o, start, (size_t)(p - start));
  o += p - start;
  for (;;) {
    if (p >= end)
      return fail(ps, p, "the line ends inside a string");
    c = (unsigned char)*p;
    if (c == '"')
      break;
    if (c < 0x20)
      return fail(ps, p, "raw control character 0x%02X in a string", c);
    if (c >= 0x80) {
      size_t n = utf8_len((const unsigned char *)p, (const unsigned char *)end);
      if (n == 0)
        return fail(ps, p, "invalid UTF-8 in a string");
      memcpy(o, p, n);
      o += n;
      p += n;
      continue;
    }
    if (c != '\\') {
      *o++ = (char)c;
      p++;
      continue;
    }
    if (p + 1 >= end)
      return fail(ps, p, "the line ends inside a string");
    switch (p[1]) {
    case '"':
      *o++ = '"';
      break;
    case '\\':
      *o++ = '\\';
      break;
    case '/':
      *o++ = '/';
      break;
    case 'b':
      *o++ = '\b';
      break;
    case 'f':
      *o++ = '\f';
      break;
    case 'n':
      *o++ = '\n';
      break;
    case 'r':
      *o++ = '\r';
      break;
    case 't':
      *o++ = '\t';
      break;
    case 'u': {
      unsigned cp, lo;
      if (hex4(p + 2, end, &cp) != 0)
        return fail(ps, p, "\\u must be followed by 4 hex digits");
      if (cp >= 0xDC00 && cp <= 0xDFFF)
        return fail(ps, p, "lone low surrogate \\u%04X", cp);
      if (cp >= 0xD800 && cp <= 0xDBFF) {
        if (end - p < 12 || p[6] != '\\' || p[7] != 'u' ||
            hex4(p + 8, end, &lo) != 0 || lo < 0xDC00 || lo > 0xDFFF)
          return fail(ps, p, "lone high surrogate \\u%04X", cp);
        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        p += 6;
      }
      o = put_utf8(o, cp);
      p += 4;
      break;
    }
    default: {
      char buf[16];
      return fail(ps, p, "invalid escape: backslash then %s",
                  describe(ps, p + 1, buf));
    }
    }
    p += 2;
  }
  *out = o0;
  *outlen = (uint32_t)(o - o0);
  ps->d->sused += (size_t)(o - o0);
  ps->p = p + 1;
  return 0;
}

static bool is_digit(char c) { return c >= '0' && c <= '9'; }

/* RFC 8259 number grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
 * Anything else (a leading '+', "01", ".5", "1.", NaN) is an error. */
static int parse_number(parser *ps, long idx) {
  const char *p = ps->p, *start = p, *end = ps->end;
  bool integer = true;
  if (p < end && *p == '-')
    p++;
  if (p >= end || !is_digit(*p))
    return unexpected(ps, p, "a digit");
  if (*p == '0') {
    p++;
    if (p < end && is_digit(*p))
      return fail(ps, p, "a number must not have leading zeros");
  } else {
    while (p < end && is_digit(*p))
      p++;
  }
  if (p < end && *p == '.') {
    integer = false;
    p++;
    if (p >= end || !is_digit(*p))
      return unexpected(ps, p, "a digit after the decimal point");
    while (p < end && is_digit(*p))
      p++;
  }
  if (p < end && (*p == 'e' || *p == 'E')) {
    integer = false;
    p++;
    if (p < end && (*p == '+' || *p == '-'))
      p++;
    if (p >= end || !is_digit(*p))
      return unexpected(ps, p, "a digit in the exponent");
    while (p < end && is_digit(*p))
      p++;
  }
  ps->d->nodes[idx].s = start;
  ps->d->nodes[idx].slen = (uint32_t)(p - start);
  ps->d->nodes[idx].integer = integer;
  ps->p = p;
  return 0;
}

typedef struct keyref {
  const char *key;
  uint32_t len;
  uint32_t pos;
} keyref;

static int keyref_cmp(const void *a, const void *b) {
  const keyref *x = a, *y = b;
  uint32_t n = x->len < y->len ? x->len : y->len;
  int c = n ? memcmp(x->key, y->key, n) : 0;
  if (c != 0)
    return c;
  if (x->len != y->len)
    return x->len < y->len ? -1 : 1;
  return x->pos < y->pos ? -1 : x->pos > y->pos;
}

static bool same_key(const rb__json_node *a, const rb__json_node *b) {
  return a->keylen == b->keylen &&
         (a->keylen == 0 || memcmp(a->key, b->key, a->keylen) == 0);
}

static int dup_found(parser *ps, const rb__json_node *m) {
  ps->d->dup_key = m->key;
  ps->d->dup_keylen = m->keylen;
  return fail(ps, ps->beg + m->pos, "duplicate key in an object");
}

/* Small objects (the usual case) are checked pairwise; large ones are
 * sorted so that hostile lines with many keys stay O(n log n). */
static int check_duplicates(parser *ps, long obj) {
  rb__json_doc *d = ps->d;
  uint32_t count = d->nodes[obj].count, i, j, a, b;
  if (count < 2)
    return 0;
  if (count <= 16) {
    for (b = d->nodes[d->nodes[obj].child].next; b != 0; b = d->nodes[b].next)
      for (a = d->nodes[obj].child; a != b; a = d->nodes[a].next)
        if (same_key(&d->nodes[a], &d->nodes[b]))
          return dup_found(ps, &d->nodes[b]);
    return 0;
  }
  keyref *refs = rb__malloc(count * sizeof *refs);
  if (refs == NULL)
    return RB_ENOMEM;
  for (i = 0, a = d->nodes[obj].child; a != 0; a = d->nodes[a].next, i++) {
    refs[i].key = d->nodes[a].key;
    refs[i].len = d->nodes[a].keylen;
    refs[i].pos = d->nodes[a].pos;
  }
  qsort(refs, count, sizeof *refs, keyref_cmp);
  for (j = 1; j < count; j++) {
    if (refs[j].len == refs[j - 1].len &&
        (refs[j].len == 0 ||
         memcmp(refs[j].key, refs[j - 1].key, refs[j].len) == 0)) {
      d->dup_key = refs[j].key;
      d->dup_keylen = refs[j].len;
      int rc = fail(ps, ps->beg + refs[j].pos, "duplicate key in an object");
      rb__free(refs);
      return rc;
    }
  }
  rb__free(refs);
  return 0;
}

static int parse_value(parser *ps, int depth, long *out);

/* Links child idx after prev (or as the first child) of container c. */
static void append_child(rb__json_doc *d, long c, long *prev, long idx) {
  if (*prev < 0)
    d->nodes[c].child = (uint32_t)idx;
  else
    d->nodes[*prev].next = (uint32_t)idx;
  *prev = idx;
  d->nodes[c].count++;
}

static int parse_container(parser *ps, int depth, long idx, bool object) {
  long prev = -1, child;
  int rc;
  const char close = object ? '}' : ']';
  if (depth > RB__JSON_DEPTH_MAX)
    return fail(ps, ps->p, "nesting deeper than %d levels", RB__JSON_DEPTH_MAX);
  ps->p++;
  skip_ws(ps);
  if (ps->p < ps->end && *ps->p == close) {
    ps->p++;
    return 0;
  }
  for (;;) {
    const char *key = NULL;
    uint32_t keylen = 0;
    if (object) {
      skip_ws(ps);
      if (ps->p >= ps->end || *ps->p != '"')
        return unexpected(ps, ps->p, "a string key");
      if ((rc = parse_string(ps, &key, &keylen)) != 0)
        return rc;
      skip_ws(ps);
      if (ps->p >= ps->end || *ps->p != ':')
        return unexpected(ps, ps->p, "':' after a key");
      ps->p++;
    }
    if ((rc = parse_value(ps, depth, &child)) != 0)
      return rc;
    ps->d->nodes[child].key = key;
    ps->d->nodes[child].keylen = keylen;
    append_child(ps->d, idx, &prev, child);
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == ',') {
      ps->p++;
      continue;
    }
    if (ps->p < ps->end && *ps->p == close) {
      ps->p++;
      break;
    }
    return unexpected(ps, ps->p, object ? "',' or '}'" : "',' or ']'");
  }
  return object ? check_duplicates(ps, idx) : 0;
}

static int literal(parser *ps, const char *word, rb__json_type type,
                   long *out) {
  size_t n = strlen(word);
  if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0)
    return fail(ps, ps->p, "invalid literal (only true, false and null)");
  *out = new_node(ps, type, ps->p);
  if (*out < 0)
    return RB_ENOMEM;
  ps->p += n;
  return 0;
}

/* Parses one value at ps->p (after whitespace) at nesting depth `depth`
 * of its parent; *out receives the new node's index. */
static int parse_value(parser *ps, int depth, long *out) {
  long idx;
  int rc;
  char buf[16];
  skip_ws(ps);
  if (ps->p >= ps->end)
    return unexpected(ps, ps->p, "a value");
  switch (*ps->p) {
  case '{':
  case '[':
    if ((idx = new_node(ps, *ps->p == '{' ? RB__JSON_OBJECT : RB__JSON_ARRAY,
                        ps->p)) < 0)
      return RB_ENOMEM;
    *out = idx;
    return parse_container(ps, depth + 1, idx, *ps->p == '{');
  case '"': {
    const char *s;
    uint32_t len;
    if ((idx = new_node(ps, RB__JSON_STRING, ps->p)) < 0)
      return RB_ENOMEM;
    if ((rc = parse_string(ps, &s, &len)) != 0)
      return rc;
    ps->d->nodes[idx].s = s;
    ps->d->nodes[idx].slen = len;
    *out = idx;
    return 0;
  }
  case 't':
    return literal(ps, "true", RB__JSON_TRUE, out);
  case 'f':
    return literal(ps, "false", RB__JSON_FALSE, out);
  case 'n':
    return literal(ps, "null", RB__JSON_NULL, out);
  default:
    if (*ps->p == '-' || is_digit(*ps->p)) {
      if ((idx = new_node(ps, RB__JSON_NUMBER, ps->p)) < 0)
        return RB_ENOMEM;
      *out = idx;
      return parse_number(ps, idx);
    }
    return fail(ps, ps->p, "expected a value, found %s",
                describe(ps, ps->p, buf));
  }
}

int rb__json_parse(rb__json_doc *d, const char *text, size_t len) {
  parser ps;
  long root;
  int rc;
  if (len > UINT32_MAX / 2 || (text == NULL && len > 0))
    return RB_EINVAL;
  if (text == NULL)
    text = "";
  ps.d = d;
  ps.beg = ps.p = text;
  ps.end = text + len;
  if ((rc = parse_value(&ps, 0, &root)) != 0)
    return rc;
  skip_ws(&ps);
  if (ps.p != ps.end)
    return unexpected(&ps, ps.p, "the end of the line after the value");
  return 0;
}

const rb__json_node *rb__json_root(const rb__json_doc *d) {
  return d->n > 0 ? &d->nodes[0] : NULL;
}

const rb__json_node *rb__json_first(const rb__json_doc *d,
                                    const rb__json_node *n) {
  return n->child != 0 ? &d->nodes[n->child] : NULL;
}

const rb__json_node *rb__json_next(const rb__json_doc *d,
                                   const rb__json_node *n) {
  return n->next != 0 ? &d->nodes[n->next] : NULL;
}

const rb__json_node *rb__json_get(const rb__json_doc *d,
                                  const rb__json_node *obj, const char *key) {
  size_t len = strlen(key);
  const rb__json_node *m;
  if (obj->type != RB__JSON_OBJECT)
    return NULL;
  for (m = rb__json_first(d, obj); m != NULL; m = rb__json_next(d, m))
    if (m->keylen == len && memcmp(m->key, key, len) == 0)
      return m;
  return NULL;
}

int rb__json_int64(const rb__json_node *n, int64_t *out) {
  const char *p, *end;
  bool neg = false;
  uint64_t v = 0, limit;
  if (n->type != RB__JSON_NUMBER || !n->integer)
    return RB_ESYNTAX;
  p = n->s;
  end = p + n->slen;
  if (*p == '-') {
    neg = true;
    p++;
  }
  /* The negative range reaches one further than the positive one. */
  limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
  for (; p < end; p++) {
    unsigned digit = (unsigned)(*p - '0');
    if (v > (limit - digit) / 10)
      return RB_EOVERFLOW;
    v = v * 10 + digit;
  }
  if (!neg)
    *out = (int64_t)v;
  else
    *out = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
  return 0;
}
