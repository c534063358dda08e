/* map.h: an open-addressing hash index from 64-bit hashes to uint32
 * values, for the engine's tables (accounts, apps, packages, usage ids,
 * accumulators).
 *
 * The map stores only hashes and values; the keys live in the caller's
 * objects and are compared through an eq callback, so one structure
 * serves string keys and composite keys alike and never copies them.
 * Linear probing with backward-shift deletion keeps lookups short
 * without tombstones.
 *
 * Depends on: the C standard library.
 */
#ifndef RTCBILL_MAP_H
#define RTCBILL_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct rb__map {
  uint64_t *hashes;
  uint32_t *vals; /* UINT32_MAX marks an empty slot */
  size_t cap;     /* a power of two, or 0 */
  size_t len;
} rb__map;

/* True when the object at index val has the key `key`. */
typedef bool (*rb__map_eq)(const void *ctx, uint32_t val, const void *key);

/* Zero-initialise a map before use; free its storage with this. */
void rb__map_free(rb__map *m);

/* Finds the value for key; false if absent. */
bool rb__map_find(const rb__map *m, uint64_t h, rb__map_eq eq, const void *ctx,
                  const void *key, uint32_t *val);

/* Makes room for `extra` more inserts, which then cannot fail. Returns 0
 * or RB_ENOMEM (the map is then unchanged). */
int rb__map_reserve(rb__map *m, size_t extra);

/* Inserts a value whose key the caller knows to be absent. Returns 0 or
 * RB_ENOMEM (the map is then unchanged). */
int rb__map_insert(rb__map *m, uint64_t h, uint32_t val);

/* Removes the entry for key; false if absent. */
bool rb__map_remove(rb__map *m, uint64_t h, rb__map_eq eq, const void *ctx,
                    const void *key);

/* Hashes: 64-bit FNV-1a with a final avalanche (splitmix64), so that
 * keys differing in one byte spread over the whole table. */
uint64_t rb__hash_bytes(const void *p, size_t n, uint64_t seed);
uint64_t rb__hash_u64(uint64_t x);

#endif /* RTCBILL_MAP_H */
