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

#endif /* RTCBILL_ALLOC_H */
