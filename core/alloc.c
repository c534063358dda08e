/* alloc.c: the core's allocator hooks (see alloc.h and rb_set_allocator).
 *
 * Depends on: the C standard library.
 */
#include "alloc.h"

#include <stdlib.h>
#include <string.h>

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

void *rb__calloc(size_t n, size_t size) {
  if (size != 0 && n > SIZE_MAX / size)
    return NULL;
  void *p = rb__malloc(n * size);
  if (p != NULL)
    memset(p, 0, n * size);
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
