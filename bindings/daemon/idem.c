/* idem.c: idempotency keys for POST /v1/events and POST /v1/clock.
 *
 * Usage records carry an id and are idempotent by it; the other events
 * have none, so a client that lost the answer to a batch cannot tell
 * whether it was applied. With an `Idempotency-Key` header the first
 * request's answer (status and body) is stored in the same transaction
 * as its journal rows, with the SHA-256 of its endpoint and body; the
 * same key again with the same body gets that answer back and changes
 * nothing, with another body a 409. A repeat that comes while the first
 * request still waits for its commit is answered with it when it
 * commits. Keys live in the store's `idempotency` table, which the
 * journal replay never reads, and are dropped once older than the
 * retention (by the engine's clock, store.c).
 * Depends on: daemon_int.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon_int.h"

/* ------------------------------------------------------------------ */
/* SHA-256 (FIPS 180-4)                                               */
/* ------------------------------------------------------------------ */

typedef struct sha256 {
  uint32_t h[8];
  uint64_t bytes;
  unsigned char block[64];
  size_t used;
} sha256;

static const uint32_t K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1,
    0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
    0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
    0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
    0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
    0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
    0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
    0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
    0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

static uint32_t ror(uint32_t x, unsigned n) {
  return (x >> n) | (x << (32 - n));
}

static void sha_block(sha256 *s, const unsigned char *p) {
  uint32_t w[64];
  for (int i = 0; i < 16; i++)
    w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
           (uint32_t)p[4 * i + 2] << 8 | (uint32_t)p[4 * i + 3];
  for (int i = 16; i < 64; i++) {
    uint32_t s0 = ror(w[i - 15], 7) ^ ror(w[i - 15], 18) ^ (w[i - 15] >> 3);
    uint32_t s1 = ror(w[i - 2], 17) ^ ror(w[i - 2], 19) ^ (w[i - 2] >> 10);
    w[i] = w[i - 16] + s0 + w[i - 7] + s1;
  }
  uint32_t a = s->h[0], b = s->h[1], c = s->h[2], d = s->h[3], e = s->h[4],
           f = s->h[5], g = s->h[6], h = s->h[7];
  for (int i = 0; i < 64; i++) {
    uint32_t t1 = h + (ror(e, 6) ^ ror(e, 11) ^ ror(e, 25)) +
                  ((e & f) ^ (~e & g)) + K[i] + w[i];
    uint32_t t2 = (ror(a, 2) ^ ror(a, 13) ^ ror(a, 22)) +
                  ((a & b) ^ (a & c) ^ (b & c));
    h = g;
    g = f;
    f = e;
    e = d + t1;
    d = c;
    c = b;
    b = a;
    a = t1 + t2;
  }
  s->h[0] += a;
  s->h[1] += b;
  s->h[2] += c;
  s->h[3] += d;
  s->h[4] += e;
  s->h[5] += f;
  s->h[6] += g;
  s->h[7] += h;
}

static void sha_init(sha256 *s) {
  static const uint32_t h0[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372,
                                 0xa54ff53a, 0x510e527f, 0x9b05688c,
                                 0x1f83d9ab, 0x5be0cd19};
  memcpy(s->h, h0, sizeof h0);
  s->bytes = 0;
  s->used = 0;
}

static void sha_update(sha256 *s, const void *data, size_t n) {
  const unsigned char *p = data;
  s->bytes += n;
  while (n > 0) {
    size_t take = 64 - s->used < n ? 64 - s->used : n;
    memcpy(s->block + s->used, p, take);
    s->used += take;
    p += take;
    n -= take;
    if (s->used == 64) {
      sha_block(s, s->block);
      s->used = 0;
    }
  }
}

static void sha_final_hex(sha256 *s, char out[RB__IDEM_DIGEST_LEN]) {
  uint64_t bits = s->bytes * 8;
  static const unsigned char pad = 0x80, zero = 0;
  sha_update(s, &pad, 1);
  while (s->used != 56)
    sha_update(s, &zero, 1);
  unsigned char len[8];
  for (int i = 0; i < 8; i++)
    len[i] = (unsigned char)(bits >> (56 - 8 * i));
  sha_update(s, len, 8);
  static const char hex[] = "0123456789abcdef";
  for (int i = 0; i < 8; i++)
    for (int k = 0; k < 4; k++) {
      unsigned byte = (s->h[i] >> (24 - 8 * k)) & 0xffu;
      out[8 * i + 2 * k] = hex[byte >> 4];
      out[8 * i + 2 * k + 1] = hex[byte & 15u];
    }
  out[64] = '\0';
}

void rb__sha256_hex(const void *a, size_t alen, const void *b, size_t blen,
                    char out[RB__IDEM_DIGEST_LEN]) {
  sha256 s;
  sha_init(&s);
  if (alen > 0)
    sha_update(&s, a, alen);
  if (blen > 0)
    sha_update(&s, b, blen);
  sha_final_hex(&s, out);
}

/* ------------------------------------------------------------------ */
/* Keys                                                               */
/* ------------------------------------------------------------------ */

int rb__idem_start(rb__conn *c, const char *endpoint, bool *keyed,
                   char digest[RB__IDEM_DIGEST_LEN]) {
  *keyed = false;
  digest[0] = '\0';
  if (!c->idem_seen)
    return 0;
  /* http-parser drops the spaces before a value, not those after it. */
  while (c->idem_len > 0 && (c->idem[c->idem_len - 1] == ' ' ||
                             c->idem[c->idem_len - 1] == '\t'))
    c->idem[--c->idem_len] = '\0';
  bool ok = !c->idem_bad && c->idem_len > 0;
  for (size_t i = 0; ok && i < c->idem_len; i++)
    ok = c->idem[i] > ' ' && c->idem[i] < 0x7f;
  if (!ok) {
    char msg[160];
    snprintf(msg, sizeof msg,
             "Idempotency-Key: one header of 1 to %d visible ASCII "
             "characters",
             RB__IDEM_KEY_MAX);
    rb__http_error(c, 400, "bad_idempotency_key", msg);
    return 1;
  }
  const char *body = c->body.data != NULL ? c->body.data : "";
  rb__sha256_hex(endpoint, strlen(endpoint) + 1, body, c->body.len, digest);
  *keyed = true;
  return 0;
}

static void conflict(rb__daemon *d, rb__conn *c) {
  d->m.idem_conflicts++;
  rb__http_error(c, 409, "idempotency_key_reused",
                 "this Idempotency-Key was used for another request (a "
                 "different body or endpoint)");
}

/* The same request while its first copy waits for the store. */
static int find_waiting(rb__daemon *d, rb__conn *c,
                        const char digest[RB__IDEM_DIGEST_LEN]) {
  rb__job *lists[2] = {d->inflight, d->pending};
  for (int l = 0; l < 2; l++)
    for (rb__job *j = lists[l]; j != NULL; j = j->next) {
      if (j->idem_key == NULL || strcmp(j->idem_key, c->idem) != 0)
        continue;
      if (strcmp(j->idem_digest, digest) != 0) {
        conflict(d, c);
        return 1;
      }
      rb__reload_wait *w = calloc(1, sizeof *w);
      if (w == NULL) {
        rb__http_error(c, 503, "unavailable", "out of memory");
        return 1;
      }
      w->conn = c;
      c->refs++;
      w->next = j->replays;
      j->replays = w;
      d->m.idem_replayed++;
      return 1;
    }
  return 0;
}

int rb__idem_lookup(rb__daemon *d, rb__conn *c,
                    const char digest[RB__IDEM_DIGEST_LEN]) {
  /* Waiting jobs first: one that committed is still in the list until
   * its answer went out, so no request falls between the two. */
  if (find_waiting(d, c, digest))
    return 1;
  int64_t not_before = INT64_MIN;
  rb_time now = rb_engine_now(d->engine);
  if (d->store.idem_retention > 0 && now != RB_TIME_NONE)
    not_before = now - d->store.idem_retention;
  bool found = false;
  char stored[RB__IDEM_DIGEST_LEN];
  int status = 0;
  rb_buf body = {0};
  int rc = rb__store_idem_get(d->rdb, c->idem, not_before, &found, stored,
                              &status, &body);
  if (rc != RB_OK) {
    rb_buf_free(&body);
    rb__http_error(c, 503, "unavailable", rb_strerror(rc));
    return 1;
  }
  if (!found) {
    rb_buf_free(&body);
    return 0;
  }
  if (strcmp(stored, digest) != 0) {
    rb_buf_free(&body);
    conflict(d, c);
    return 1;
  }
  d->m.idem_replayed++;
  rb__http_respond(c, status, "application/json",
                   body.data != NULL ? body.data : "", body.len,
                   status == 503 ? "Idempotent-Replayed: true\r\n"
                                   "Retry-After: 1\r\n"
                                 : "Idempotent-Replayed: true\r\n");
  rb_buf_free(&body);
  return 1;
}

int rb__idem_record(rb__job *j, const rb__conn *c,
                    const char digest[RB__IDEM_DIGEST_LEN]) {
  j->idem_key = malloc(c->idem_len + 1);
  if (j->idem_key == NULL)
    return RB_ENOMEM;
  memcpy(j->idem_key, c->idem, c->idem_len + 1);
  memcpy(j->idem_digest, digest, RB__IDEM_DIGEST_LEN);
  return RB_OK;
}
