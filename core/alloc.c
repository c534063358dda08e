/* alloc.c: the core's allocator hooks (see alloc.h and rb_set_allocator)
 * and the huge-page hint for large blocks.
 *
 * Depends on: the C standard library, POSIX madvise where the system has
 * MADV_HUGEPAGE (Linux).
 */
#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE /* MADV_HUGEPAGE */
#endif
#include "alloc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#if defined(__linux__)
#include <sys/mman.h>
#endif

#include "rtcbill.h"

static void *sys_malloc(void *ctx, size_t size) {
  (void)ctx;
  return malloc(size);
}

static void *sys_realloc(void *ctx, void *p, size_t size) {
  (void)ctx;
  return realloc(p, size);
}

static void sys_free(void *ctx, void *p) {
  (void)ctx;
  free(p);
}

static const rb_allocator sys = {NULL, sys_malloc, sys_realloc, sys_free};
static rb_allocator current = {NULL, sys_malloc, sys_realloc, sys_free};

void rb_set_allocator(const rb_allocator *a) { current = a ? *a : sys; }

void *rb__malloc(size_t size) {
  return current.malloc(current.ctx, size ? size : 1);
}

void rb_advise_large(void *p, size_t n) {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  const uintptr_t huge = (uintptr_t)2 << 20;
  if (p == NULL || n < RB_LARGE_BLOCK)
    return;
  uintptr_t from = ((uintptr_t)p + huge - 1) & ~(huge - 1);
  uintptr_t to = ((uintptr_t)p + n) & ~(huge - 1);
  if (to > from)
    (void)madvise((void *)from, to - from, MADV_HUGEPAGE);
#else
  (void)p;
  (void)n;
#endif
}

void *rb__calloc(size_t n, size_t size) {
  if (size != 0 && n > SIZE_MAX / size)
    return NULL;
  void *p = rb__malloc(n * size);
  if (p != NULL) {
    rb_advise_large(p, n * size); /* before memset touches the pages */
    memset(p, 0, n * size);
  }
  return p;
}

void *rb__realloc(void *p, size_t size) {
  return current.realloc(current.ctx, p, size ? size : 1);
}

void rb__free(void *p) {
  if (p != NULL)
    current.free(current.ctx, p);
}

char *rb__strdup(const char *s) {
  size_t n = strlen(s) + 1;
  char *d = rb__malloc(n);
  if (d != NULL)
    memcpy(d, s, n);
  return d;
}
