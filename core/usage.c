/* usage.c: rating one usage record (SPEC 1.2, 1.3, 1.5, 1.9): idempotency
 * by id and content fingerprint, metering into day pieces, running
 * totals per (app, tier, period), cover from the pools, and the fate of
 * uncovered minutes (postpaid, unbilled, or the exhaustion policy).
 *
 * Depends on: engine.h (meter via rtcbill.h, pool.c, ledger.c).
 */
#include <stdlib.h>
#include <string.h>

#include "engine.h"

/* ---------------------------------------------------------------- */
/* Idempotency                                                      */
/* ---------------------------------------------------------------- */

/* Streaming FNV-1a over the canonical content; two seeds give a 128-bit
 * fingerprint, so a conflict is never mistaken for a duplicate in
 * practice (2^-128 per pair). */
typedef struct fp_state {
  uint64_t h[2];
} fp_state;

static void fp_bytes(fp_state *s, const void *p, size_t n) {
  const unsigned char *c = p;
  for (int k = 0; k < 2; k++) {
    uint64_t h = s->h[k];
    for (size_t i = 0; i < n; i++) {
      h ^= c[i];
      h *= UINT64_C(0x100000001b3);
    }
    s->h[k] = h;
  }
}

static void fp_i64(fp_state *s, int64_t v) {
  unsigned char b[8];
  for (int i = 0; i < 8; i++)
    b[i] = (unsigned char)((uint64_t)v >> (8 * i));
  fp_bytes(s, b, 8);
}

static void fp_str(fp_state *s, const char *str) {
  size_t n = strlen(str);
  fp_i64(s, (int64_t)n);
  fp_bytes(s, str, n);
}

static int seg_cmp(const void *x, const void *y) {
  const rb_segment *a = x, *b = y;
  const int64_t ka[4] = {a->offset, a->seconds, a->width, a->height};
  const int64_t kb[4] = {b->offset, b->seconds, b->width, b->height};
  for (int i = 0; i < 4; i++)
    if (ka[i] != kb[i])
      return ka[i] < kb[i] ? -1 : 1;
  return 0;
}

/* "Same content" ignores `received` and the order of the video segments
 * (SPEC 1.10). */
static int fingerprint(const rb_event *ev, uint64_t fp[2]) {
  fp_state s = {{UINT64_C(0xcbf29ce484222325), UINT64_C(0x84222325cbf29ce4)}};
  fp_i64(&s, ev->app);
  fp_str(&s, ev->user);
  fp_str(&s, ev->room);
  fp_i64(&s, ev->start);
  fp_i64(&s, ev->seconds);
  fp_i64(&s, (int64_t)ev->nvideo);
  rb_segment local[64], *segs = local;
  if (ev->nvideo > 64 && (segs = malloc(ev->nvideo * sizeof *segs)) == NULL)
    return RB_ENOMEM;
  if (ev->nvideo > 0)
    memcpy(segs, ev->video, ev->nvideo * sizeof *segs);
  qsort(segs, ev->nvideo, sizeof *segs, seg_cmp);
  for (size_t i = 0; i < ev->nvideo; i++) {
    fp_i64(&s, segs[i].offset);
    fp_i64(&s, segs[i].seconds);
    fp_i64(&s, segs[i].width);
    fp_i64(&s, segs[i].height);
  }
  if (segs != local)
    free(segs);
  fp[0] = rb__hash_u64(s.h[0]);
  fp[1] = rb__hash_u64(s.h[1]);
  return RB_OK;
}

static bool usage_eq(const void *ctx, uint32_t val, const void *key) {
  const rb_engine *e = ctx;
  return strcmp(e->usages[val].id, key) == 0;
}

int rb__usage_check(rb_engine *e, const rb_event *ev, rb_reject *rej,
                    bool *duplicate) {
  uint32_t idx;
  if (!rb__map_find(&e->usage_index, rb__hash_bytes(ev->id, strlen(ev->id), 1),
                    usage_eq, e, ev->id, &idx))
    return RB_OK;
  uint64_t fp[2];
  int rc = fingerprint(ev, fp);
  if (rc != RB_OK)
    return rc;
  if (fp[0] == e->usages[idx].fp[0] && fp[1] == e->usages[idx].fp[1]) {
    *duplicate = true;
    return RB_OK;
  }
  return rb__reject(rej, "conflict", "id",
                    "usage id \"%.64s\" was seen before with other content",
                    ev->id);
}

static int remember(rb_engine *e, const rb_event *ev) {
  int rc = rb__grow((void **)&e->usages, &e->capusages, e->nusages,
                    sizeof *e->usages);
  if (rc != RB_OK)
    return rc;
  rb__usage *u = &e->usages[e->nusages];
  if ((rc = fingerprint(ev, u->fp)) != RB_OK)
    return rc;
  size_t len = strlen(ev->id);
  if ((u->id = rb_arena_strndup(e->arena, ev->id, len)) == NULL)
    return RB_ENOMEM;
  rc = rb__map_insert(&e->usage_index, rb__hash_bytes(ev->id, len, 1),
                      e->nusages);
  if (rc == RB_OK)
    e->nusages++;
  return rc;
}

/* ---------------------------------------------------------------- */
/* Rating                                                           */
/* ---------------------------------------------------------------- */

#define PACKAGE_REASONS                                                      \
  ((1u << RB_STOP_TRIAL_EXHAUSTED) | (1u << RB_STOP_TRIAL_EXPIRED) |         \
   (1u << RB_STOP_NO_PACKAGE))

typedef struct rating {
  rb_engine *e;
  const rb_event *ev;
  uint32_t app, account;
  bool leak; /* the session started while stopped for arrears */
  bool late_noticed;
} rating;

/* Decides the fate of `rest` uncovered minutes of one tier: postpaid,
 * unbilled, or first a policy decision for an app running without
 * postpaid (SPEC 1.5, 1.7). */
static int uncovered(rating *r, int tier, int64_t rest, int64_t *postpaid,
                     int64_t *unbilled) {
  rb_engine *e = r->e;
  *postpaid = *unbilled = 0;
  if (rest == 0)
    return RB_OK;
  const rb__app *p = &e->apps[r->app];
  if (!r->leak && !p->postpaid && (p->stops & PACKAGE_REASONS) == 0) {
    int rc = rb__decide(e, r->app, RB_TRIGGER_UNCOVERED, NULL, tier);
    if (rc != RB_OK)
      return rc;
    p = &e->apps[r->app];
  }
  if (!r->leak && p->postpaid)
    *postpaid = rest;
  else
    *unbilled = rest;
  return RB_OK;
}

static int note_late(rating *r) {
  if (r->late_noticed)
    return RB_OK;
  r->late_noticed = true;
  rb_notice n;
  rb__notice_init(&n, RB_N_LATE_USAGE, r->e->accounts[r->account].id);
  n.app = r->ev->app;
  n.id = r->ev->id;
  return rb__notify(r->e, &n);
}

/* The accumulator a piece of `day` goes to: its period's, or a late one
 * when that period was already settled (SPEC 1.9). */
static int target(rating *r, int tier, rb_time day, bool *late,
                  uint32_t *acc) {
  rb_engine *e = r->e;
  rb__account *a = &e->accounts[r->account];
  rb_cycle cycle;
  rb_time start, end, due;
  rb__period_of(e, a, day, &cycle, &start, &end, &due);
  rb__period *p;
  *late = due <= e->now;
  if (!*late) {
    int rc = rb__period_open(e, r->account, cycle, start, end, due, &p);
    return rc != RB_OK ? rc
                       : rb__acc_get(e, r->account, r->app, tier, false,
                                     start, acc);
  }
  int rc = note_late(r);
  if (rc != RB_OK)
    return rc;
  /* Late minutes go on the next bill; with no bill pending, the open
   * period's bill is issued all the same. */
  if (a->nperiods == 0) {
    rb_cycle c2;
    rb_time s2, e2, d2;
    rb__period_of(e, a, rb_day_start(e->now, e->rd->tariff.tz_offset), &c2,
                  &s2, &e2, &d2);
    if ((rc = rb__period_open(e, r->account, c2, s2, e2, d2, &p)) != RB_OK)
      return rc;
  }
  return rb__acc_get(e, r->account, r->app, tier, true, start, acc);
}

static int rate_tier(rating *r, const rb_piece *pc, int tier) {
  rb_engine *e = r->e;
  bool late;
  uint32_t ai;
  int rc = target(r, tier, pc->day_start, &late, &ai);
  if (rc != RB_OK)
    return rc;
  rb__acc *acc = &e->accs[ai];
  if (acc->seconds > INT64_MAX - pc->seconds[tier])
    return RB_EOVERFLOW;
  acc->seconds += pc->seconds[tier];
  /* Billable minutes are the ceiling of the running total (SPEC 1.3). */
  int64_t minutes = acc->seconds / 60 + (acc->seconds % 60 != 0);
  int64_t delta = minutes - acc->minutes;
  acc->minutes = minutes;
  if (e->sink.trace != NULL) {
    rb_trace t = {.type = RB_TRACE_USAGE, .usage_id = r->ev->id,
                  .seconds = pc->seconds[tier], .acc_seconds = acc->seconds,
                  .minutes = minutes};
    if ((rc = rb__trace(e, &t, ai)) != RB_OK)
      return rc;
  }
  if (delta <= 0)
    return RB_OK;
  int64_t covered, postpaid, unbilled;
  if ((rc = rb__cover(e, r->account, ai, tier, delta, &covered)) != RB_OK ||
      (rc = uncovered(r, tier, delta - covered, &postpaid, &unbilled)) !=
          RB_OK)
    return rc;
  acc = &e->accs[ai];
  acc->covered += covered;
  acc->postpaid += postpaid;
  acc->unbilled += unbilled;
  if (e->sink.trace != NULL && postpaid + unbilled > 0) {
    rb_trace t = {.type = RB_TRACE_UNCOVERED, .minutes = postpaid + unbilled,
                  .postpaid = postpaid > 0};
    if ((rc = rb__trace(e, &t, ai)) != RB_OK)
      return rc;
  }
  if (late)
    return RB_OK;
  /* Keep today's uncovered minutes for a package activating later today;
   * each minute counts for the day the running total reached it. */
  rb__today *td = &e->apps[r->app].today[tier];
  if (td->day == RB_TIME_NONE || pc->day_start > td->day) {
    td->day = pc->day_start;
    td->acc = ai;
    td->postpaid = td->unbilled = 0;
  }
  if (pc->day_start == td->day) {
    td->postpaid += postpaid;
    td->unbilled += unbilled;
  }
  return RB_OK;
}

static int on_piece(void *ctx, const rb_piece *pc) {
  rating *r = ctx;
  for (int t = 0; t < r->e->rd->tariff.ntiers; t++) {
    if (pc->seconds[t] == 0)
      continue;
    int rc = rate_tier(r, pc, t);
    if (rc != RB_OK)
      return rc;
  }
  return RB_OK;
}

int rb__usage_apply(rb_engine *e, const rb_event *ev, uint32_t app) {
  int rc = remember(e, ev);
  if (rc != RB_OK)
    return rc;
  rating r = {e, ev, app, e->apps[app].account, false, false};
  r.leak = rb__stopped_for_arrears_at(&e->accounts[r.account], ev->start);
  return rb_meter_session(&e->rd->tariff, ev->start, ev->seconds, ev->video,
                          ev->nvideo, on_piece, &r);
}
