/* map.c: the engine's hash index (see map.h).
 *
 * Depends on: the C standard library.
 */
#include "alloc.h"
#include "map.h"

#include <stdlib.h>

#include "rtcbill.h"

#define EMPTY UINT32_MAX

void rb__map_free(rb__map *m) {
  rb__free(m->hashes);
  rb__free(m->vals);
  m->hashes = NULL;
  m->vals = NULL;
  m->cap = 0;
  m->len = 0;
}

bool rb__map_find(const rb__map *m, uint64_t h, rb__map_eq eq, const void *ctx,
                  const void *key, uint32_t *val) {
  if (m->cap == 0)
    return false;
  size_t mask = m->cap - 1;
  for (size_t i = (size_t)h & mask;; i = (i + 1) & mask) {
    if (m->vals[i] == EMPTY)
      return false;
    if (m->hashes[i] == h && eq(ctx, m->vals[i], key)) {
      *val = m->vals[i];
      return true;
    }
  }
}

static void place(uint64_t *hashes, uint32_t *vals, size_t cap, uint64_t h,
                  uint32_t val) {
  size_t mask = cap - 1;
  size_t i = (size_t)h & mask;
  while (vals[i] != EMPTY)
    i = (i + 1) & mask;
  hashes[i] = h;
  vals[i] = val;
}

static int grow_to(rb__map *m, size_t cap) {
  uint64_t *hashes = rb__malloc(cap * sizeof *hashes);
  uint32_t *vals = rb__malloc(cap * sizeof *vals);
  if (hashes == NULL || vals == NULL) {
    rb__free(hashes);
    rb__free(vals);
    return RB_ENOMEM;
  }
  for (size_t i = 0; i < cap; i++)
    vals[i] = EMPTY;
  for (size_t i = 0; i < m->cap; i++)
    if (m->vals[i] != EMPTY)
      place(hashes, vals, cap, m->hashes[i], m->vals[i]);
  rb__free(m->hashes);
  rb__free(m->vals);
  m->hashes = hashes;
  m->vals = vals;
  m->cap = cap;
  return RB_OK;
}

/* The load stays at most 3/4 so that probe runs stay short. */
int rb__map_reserve(rb__map *m, size_t extra) {
  size_t cap = m->cap ? m->cap : 16;
  while ((m->len + extra) * 4 > cap * 3) {
    if (cap > SIZE_MAX / 8 / sizeof(uint64_t))
      return RB_ENOMEM;
    cap *= 2;
  }
  return cap == m->cap ? RB_OK : grow_to(m, cap);
}

int rb__map_insert(rb__map *m, uint64_t h, uint32_t val) {
  int rc = rb__map_reserve(m, 1);
  if (rc != RB_OK)
    return rc;
  place(m->hashes, m->vals, m->cap, h, val);
  m->len++;
  return RB_OK;
}

bool rb__map_remove(rb__map *m, uint64_t h, rb__map_eq eq, const void *ctx,
                    const void *key) {
  if (m->cap == 0)
    return false;
  size_t mask = m->cap - 1;
  size_t i = (size_t)h & mask;
  for (;; i = (i + 1) & mask) {
    if (m->vals[i] == EMPTY)
      return false;
    if (m->hashes[i] == h && eq(ctx, m->vals[i], key))
      break;
  }
  /* Backward-shift deletion: pull later members of the probe run into
   * the hole when their home slot does not lie between hole and them. */
  m->vals[i] = EMPTY;
  for (size_t j = (i + 1) & mask; m->vals[j] != EMPTY; j = (j + 1) & mask) {
    size_t home = (size_t)m->hashes[j] & mask;
    bool between = (i <= j) ? (i < home && home <= j) : (i < home || home <= j);
    if (!between) {
      m->hashes[i] = m->hashes[j];
      m->vals[i] = m->vals[j];
      m->vals[j] = EMPTY;
      i = j;
    }
  }
  m->len--;
  return true;
}

uint64_t rb__hash_u64(uint64_t x) {
  x += UINT64_C(0x9e3779b97f4a7c15);
  x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
  x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
  return x ^ (x >> 31);
}

uint64_t rb__hash_bytes(const void *p, size_t n, uint64_t seed) {
  const unsigned char *s = p;
  uint64_t h = UINT64_C(0xcbf29ce484222325) ^ rb__hash_u64(seed);
  for (size_t i = 0; i < n; i++) {
    h ^= s[i];
    h *= UINT64_C(0x100000001b3);
  }
  return rb__hash_u64(h ^ n);
}
