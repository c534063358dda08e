/* alloc.h: the core's memory entry points. Every allocation of the core
 * goes through these, so that an embedder can account for memory and the
 * tests can make the k-th allocation fail (rb_set_allocator).
 *
 * Depends on: rtcbill.h.
 */
#ifndef RTCBILL_ALLOC_H
#define RTCBILL_ALLOC_H

#include <stddef.h>

void *rb__malloc(size_t size);
void *rb__calloc(size_t n, size_t size);
void *rb__realloc(void *p, size_t size);
void rb__free(void *p);
char *rb__strdup(const char *s);

/* Arena blocks with less than max_align_t alignment (arena.c), for data
 * that packs tighter: 8-aligned (an event's segments and strings) and
 * unaligned (text). NULL on allocation failure. */
struct rb_arena;
void *rb__arena_alloc8(struct rb_arena *a, size_t size);
void *rb__arena_alloc_bytes(struct rb_arena *a, size_t size);

/* Makes room for n more bytes (and a NUL) in b (buf.c), so that a
 * writer can then fill them through a pointer; RB_ENOMEM changes
 * nothing. */
struct rb_buf;
int rb__buf_reserve(struct rb_buf *b, size_t n);

#endif /* RTCBILL_ALLOC_H */
