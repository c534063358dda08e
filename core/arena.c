/* arena.c: a bump allocator for data that lives as long as a batch.
 *
 * Event strings and segment arrays are many, small and freed together, so
 * they come from chunks carved front to back: 64 KiB at first, then an
 * eighth of what the arena holds, up to 8 MiB (so that an arena of
 * hundreds of MB is a few dozen blocks, not thousands of small ones, and
 * at most about an eighth of it is ever unused); a request larger than a
 * chunk gets a chunk of its own. Every allocation is aligned for
 * any type (max_align_t); the reader's fast path packs an event's
 * strings and segments into one 8-aligned block (rb__arena_alloc8), and
 * the engine keeps usage ids as unaligned text (rb__arena_alloc_bytes).
 * Depends on: rtcbill.h, alloc.h and the C standard library.
 */

/* uv.h, included by rtcbill.h, needs the POSIX thread types, which a
 * strict -std=c11 build hides unless POSIX is requested. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include <stdalign.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "rtcbill.h"

#define CHUNK_SIZE ((size_t)64 * 1024)
#define CHUNK_SIZE_MAX ((size_t)8 << 20)
#define ALIGN (alignof(max_align_t))

typedef struct chunk {
  struct chunk *next;
  size_t cap;  /* usable bytes in data */
  size_t used; /* bytes handed out from data */
  /* The flexible member's type makes data start max-aligned. */
  max_align_t data[];
} chunk;

struct rb_arena {
  chunk *head; /* the chunk small requests are carved from */
  size_t used; /* total bytes handed out, after alignment */
};

/* The usable size of a default chunk, so that the whole malloc block is
 * exactly CHUNK_SIZE. */
#define CHUNK_DATA (CHUNK_SIZE - sizeof(chunk))

static chunk *chunk_new(size_t cap) {
  if (cap > SIZE_MAX - sizeof(chunk))
    return NULL;
  chunk *c = rb__malloc(sizeof(chunk) + cap);
  if (c == NULL)
    return NULL;
  c->next = NULL;
  c->cap = cap;
  c->used = 0;
  return c;
}

rb_arena *rb_arena_new(void) {
  rb_arena *a = rb__malloc(sizeof *a);
  if (a == NULL)
    return NULL;
  a->head = NULL;
  a->used = 0;
  return a;
}

void rb_arena_free(rb_arena *a) {
  if (a == NULL)
    return;
  chunk *c = a->head;
  while (c != NULL) {
    chunk *next = c->next;
    rb__free(c);
    c = next;
  }
  rb__free(a);
}

/* Carves size bytes (already a multiple of align) aligned to align, a
 * power of two no larger than ALIGN, from the head chunk, or from a new
 * one. Padding skipped for alignment counts as used. */
static void *carve(rb_arena *a, size_t size, size_t align) {
  chunk *c = a->head;
  size_t off = c != NULL ? (c->used + align - 1) & ~(align - 1) : 0;
  if (c == NULL || off > c->cap || c->cap - off < size) {
    if (size > CHUNK_DATA) {
      /* A large request gets a chunk of exactly its size, linked behind
       * the current head, so that the head's free space keeps serving
       * small requests instead of being abandoned. */
      chunk *big = chunk_new(size);
      if (big == NULL)
        return NULL;
      big->used = size;
      if (c != NULL) {
        big->next = c->next;
        c->next = big;
      } else {
        a->head = big;
      }
      a->used += size;
      return big->data;
    }
    size_t grown = a->used / 8;
    grown = grown < CHUNK_SIZE ? CHUNK_SIZE
            : grown > CHUNK_SIZE_MAX ? CHUNK_SIZE_MAX
                                     : grown;
    c = chunk_new(grown - sizeof(chunk));
    if (c == NULL)
      return NULL;
    c->next = a->head;
    a->head = c;
    off = 0;
  }
  void *p = (char *)c->data + off;
  a->used += off - c->used + size;
  c->used = off + size;
  return p;
}

void *rb_arena_alloc(rb_arena *a, size_t size) {
  if (a == NULL)
    return NULL;
  /* A zero-byte request still gets a distinct pointer, like rb__malloc(1),
   * so callers never mistake it for a failure. */
  if (size == 0)
    size = 1;
  if (size > SIZE_MAX - (ALIGN - 1))
    return NULL;
  return carve(a, (size + ALIGN - 1) & ~(ALIGN - 1), ALIGN);
}

void *rb__arena_alloc8(rb_arena *a, size_t size) {
  if (a == NULL || size > SIZE_MAX - 7)
    return NULL;
  if (size == 0)
    size = 1;
  return carve(a, (size + 7) & ~(size_t)7, 8);
}

void *rb__arena_alloc_bytes(rb_arena *a, size_t size) {
  if (a == NULL)
    return NULL;
  return carve(a, size == 0 ? 1 : size, 1);
}

char *rb_arena_strndup(rb_arena *a, const char *s, size_t len) {
  if (len == SIZE_MAX || (s == NULL && len > 0))
    return NULL;
  char *p = rb_arena_alloc(a, len + 1);
  if (p == NULL)
    return NULL;
  if (len > 0)
    memcpy(p, s, len);
  p[len] = '\0';
  return p;
}

size_t rb_arena_used(const rb_arena *a) { return a == NULL ? 0 : a->used; }
