/* buf.c: a growable byte buffer and JSON string escaping.
 *
 * The output writers build each JSON Lines record in an rb_buf. The
 * buffer keeps its bytes NUL-terminated (data[len] == '\0' once anything
 * was written) so that a record can be handed to C string functions, and
 * a failed call leaves its previous content intact. Depends on:
 * rtcbill.h and the C standard library.
 */

/* uv.h, included by rtcbill.h, needs the POSIX thread types, which a
 * strict -std=c11 build hides unless POSIX is requested. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "rtcbill.h"

#define BUF_MIN 64

/* Makes room for n more bytes plus the terminating NUL, doubling the
 * capacity so that appending is amortised O(1). On failure nothing
 * changes. */
static int reserve(rb_buf *b, size_t n) {
  if (n > SIZE_MAX - 1 - b->len)
    return RB_ENOMEM;
  size_t need = b->len + n + 1;
  if (need <= b->cap)
    return RB_OK;
  size_t cap = b->cap < BUF_MIN ? BUF_MIN : b->cap;
  while (cap < need) {
    if (cap > SIZE_MAX / 2) {
      cap = need;
      break;
    }
    cap *= 2;
  }
  char *p = rb__realloc(b->data, cap);
  if (p == NULL)
    return RB_ENOMEM;
  b->data = p;
  b->cap = cap;
  return RB_OK;
}

int rb__buf_reserve(rb_buf *b, size_t n) { return reserve(b, n); }

int rb_buf_append(rb_buf *b, const char *s, size_t n) {
  if (b == NULL || (s == NULL && n > 0))
    return RB_EINVAL;
  int rc = reserve(b, n);
  if (rc != RB_OK)
    return rc;
  if (n > 0)
    memcpy(b->data + b->len, s, n);
  b->len += n;
  b->data[b->len] = '\0';
  return RB_OK;
}

int rb_buf_printf(rb_buf *b, const char *fmt, ...) {
  if (b == NULL || fmt == NULL)
    return RB_EINVAL;
  va_list ap, ap2;
  va_start(ap, fmt);
  va_copy(ap2, ap);
  /* Try the free space first; most records fit without growing. */
  size_t avail = b->cap > b->len ? b->cap - b->len : 0;
  int n = vsnprintf(avail > 0 ? b->data + b->len : NULL, avail, fmt, ap);
  va_end(ap);
  int rc = RB_OK;
  if (n < 0) {
    rc = RB_EINVAL; /* an encoding error in the format or arguments */
  } else if ((size_t)n >= avail) {
    rc = reserve(b, (size_t)n);
    if (rc == RB_OK)
      vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap2);
  }
  va_end(ap2);
  if (rc != RB_OK) {
    /* The first attempt may have written into the free space; restore
     * the terminator so the old content is still a valid string. */
    if (b->cap > b->len)
      b->data[b->len] = '\0';
    return rc;
  }
  b->len += (size_t)n;
  return RB_OK;
}

/* The escape JSON requires (RFC 8259 section 7) for byte c, or NULL when
 * c stands for itself. Bytes of 0x80 and above are UTF-8 sequences and
 * pass through unchanged; validating UTF-8 is the reader's job. */
static const char *escape_of(unsigned char c, char tmp[7]) {
  static const char hex[] = "0123456789abcdef";
  switch (c) {
  case '"':
    return "\\\"";
  case '\\':
    return "\\\\";
  case '\b':
    return "\\b";
  case '\f':
    return "\\f";
  case '\n':
    return "\\n";
  case '\r':
    return "\\r";
  case '\t':
    return "\\t";
  default:
    if (c >= 0x20)
      return NULL;
    memcpy(tmp, "\\u00", 4);
    tmp[4] = hex[c >> 4];
    tmp[5] = hex[c & 15];
    tmp[6] = '\0';
    return tmp;
  }
}

int rb_buf_json_string(rb_buf *b, const char *s) {
  if (b == NULL || s == NULL)
    return RB_EINVAL;
  /* Ids, names and times almost never need an escape: copy them whole
   * when a first look finds nothing to escape. */
  const unsigned char *q = (const unsigned char *)s;
  while (*q >= 0x20 && *q != '"' && *q != '\\')
    q++;
  if (*q == '\0') {
    size_t len = (size_t)(q - (const unsigned char *)s);
    int rc = reserve(b, len + 2);
    if (rc != RB_OK)
      return rc;
    char *out = b->data + b->len;
    out[0] = '"';
    memcpy(out + 1, s, len);
    out[len + 1] = '"';
    out[len + 2] = '\0';
    b->len += len + 2;
    return RB_OK;
  }
  char tmp[7];
  /* Measure first and grow once, so that a failure appends nothing. */
  size_t n = 2;
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    const char *e = escape_of(*p, tmp);
    size_t k = e == NULL ? 1 : strlen(e);
    if (n > SIZE_MAX - k)
      return RB_ENOMEM;
    n += k;
  }
  int rc = reserve(b, n);
  if (rc != RB_OK)
    return rc;
  char *out = b->data + b->len;
  *out++ = '"';
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    const char *e = escape_of(*p, tmp);
    if (e == NULL) {
      *out++ = (char)*p;
    } else {
      size_t k = strlen(e);
      memcpy(out, e, k);
      out += k;
    }
  }
  *out++ = '"';
  *out = '\0';
  b->len += n;
  return RB_OK;
}

void rb_buf_free(rb_buf *b) {
  if (b == NULL)
    return;
  rb__free(b->data);
  b->data = NULL;
  b->len = 0;
  b->cap = 0;
}
