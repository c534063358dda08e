/* json.h: a strict JSON (RFC 8259) scanner for one input line (internal).
 *
 * rb__json_parse checks a whole text and builds a flat tree of nodes:
 * strings are decoded to UTF-8 (escapes resolved, surrogate pairs joined),
 * numbers are kept as their exact source text so that callers convert
 * them without ever going through a double. It rejects what a lenient
 * parser would let through: trailing garbage, invalid UTF-8, raw control
 * characters, lone surrogates, NaN/Infinity, leading zeros, duplicate keys
 * in one object, and nesting deeper than RB__JSON_DEPTH_MAX.
 *
 * Depends on: the C11 standard library and the RB_E* codes of rtcbill.h.
 */
#ifndef RB_JSON_H
#define RB_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "rtcbill.h"

/* Containers may nest this deep: the line's object is level 1. */
#define RB__JSON_DEPTH_MAX 8

typedef enum {
  RB__JSON_NULL,
  RB__JSON_FALSE,
  RB__JSON_TRUE,
  RB__JSON_NUMBER,
  RB__JSON_STRING,
  RB__JSON_ARRAY,
  RB__JSON_OBJECT
} rb__json_type;

/* One value. Nodes live in the document's array and refer to each other
 * by index; index 0 is the root, which is nobody's child, so 0 also means
 * "none" in `child` and `next`. */
typedef struct rb__json_node {
  const char *s;   /* string: decoded bytes (not NUL-terminated);
                      number: its source text; else NULL */
  const char *key; /* the member's decoded key inside an object, else NULL */
  uint32_t slen;
  uint32_t keylen;
  uint32_t child;  /* first element or member of a container */
  uint32_t next;   /* next sibling in the parent container */
  uint32_t count;  /* number of elements or members of a container */
  uint32_t pos;    /* byte offset of the value in the text */
  uint8_t type;    /* rb__json_type */
  uint8_t integer; /* number written without fraction or exponent */
} rb__json_node;

#define RB__JSON_INLINE_NODES 64
#define RB__JSON_INLINE_BYTES 512

/* A parsed text. Decoded strings point either into the text or into the
 * document's own buffer, so the text must outlive the document's use.
 * Small texts need no heap memory at all: the inline arrays are used
 * first. Initialise with rb__json_init, release with rb__json_free. */
typedef struct rb__json_doc {
  rb__json_node *nodes;
  size_t n, cap;
  char *sbuf; /* decoded strings that contained escapes */
  size_t sused, scap;

  /* Set when rb__json_parse returns RB_ESYNTAX. */
  size_t err_col;      /* 1-based byte column of the error */
  char err_msg[96];    /* printable ASCII only: never quotes the text */
  const char *dup_key; /* for a duplicate key: the decoded key, else NULL */
  size_t dup_keylen;

  rb__json_node inline_nodes[RB__JSON_INLINE_NODES];
  char inline_bytes[RB__JSON_INLINE_BYTES];
} rb__json_doc;

void rb__json_init(rb__json_doc *d);

/* Parses text[0..len) as exactly one JSON value surrounded by optional
 * whitespace. Returns 0; RB_ESYNTAX with err_col / err_msg (and dup_key)
 * set; RB_EINVAL if len exceeds what the 32-bit node fields can address;
 * RB_ENOMEM. A document is parsed at most once. */
int rb__json_parse(rb__json_doc *d, const char *text, size_t len);

/* Releases heap memory the document took (the struct is the caller's). */
void rb__json_free(rb__json_doc *d);

const rb__json_node *rb__json_root(const rb__json_doc *d);
/* First child of a container / next sibling, or NULL. */
const rb__json_node *rb__json_first(const rb__json_doc *d,
                                    const rb__json_node *n);
const rb__json_node *rb__json_next(const rb__json_doc *d,
                                   const rb__json_node *n);
/* The member of object obj whose key is the NUL-terminated key, or NULL. */
const rb__json_node *rb__json_get(const rb__json_doc *d,
                                  const rb__json_node *obj, const char *key);

/* Converts an integer number node exactly, digit by digit. Returns 0;
 * RB_ESYNTAX if n is not a number written as an integer (it has a
 * fraction or an exponent, or is not a number); RB_EOVERFLOW if the value
 * lies outside the int64 range. */
int rb__json_int64(const rb__json_node *n, int64_t *out);

#endif /* RB_JSON_H */
