/* usage.c: rating one usage record (SPEC 1.2, 1.3, 1.5, 1.9): idempotency
 * by id and content fingerprint, metering into day pieces, running
 * totals per (app, tier, period), cover from the pools, and the fate of
 * uncovered minutes (postpaid, unbilled, or the exhaustion policy).
 * Every usage record goes through here, so the store of ids seen is
 * compact (about 50 bytes an id) and a record's steps are planned once:
 * each (day piece, tier) with its period and accumulator, found through
 * the app's hot accumulator before the hash index.
 *
 * Depends on: engine.h (meter via rtcbill.h, pool.c, ledger.c), the
 * engine's arena for id text (alloc.h).
 */
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "engine.h"

/* ---------------------------------------------------------------- */
/* Idempotency                                                      */
/* ---------------------------------------------------------------- */

/* The fingerprint: two independent 64-bit lanes over the canonical
 * content taken as 64-bit words (strings 8 bytes at a time, preceded by
 * their length), each word mixed by a multiply and a shift, and a final
 * avalanche. 128 bits, so that a conflict is never mistaken for a
 * duplicate in practice; one pass, no per-byte loop. */
typedef struct fp_state {
  uint64_t a, b;
} fp_state;

#define FP_K1 UINT64_C(0x9E3779B97F4A7C15)
#define FP_K2 UINT64_C(0xC2B2AE3D27D4EB4F)

static inline void fp_word(fp_state *s, uint64_t w) {
  s->a = (s->a ^ w) * FP_K1;
  s->a ^= s->a >> 31;
  s->b = (s->b + w) * FP_K2;
  s->b ^= s->b >> 29;
}

static void fp_str(fp_state *s, const char *str) {
  size_t n = strlen(str);
  fp_word(s, n);
  for (; n >= 8; n -= 8, str += 8) {
    uint64_t w;
    memcpy(&w, str, 8);
    fp_word(s, w);
  }
  if (n > 0) {
    uint64_t w = 0;
    memcpy(&w, str, n);
    fp_word(s, w);
  }
}

static bool seg_less(const rb_segment *a, const rb_segment *b) {
  if (a->offset != b->offset)
    return a->offset < b->offset;
  if (a->seconds != b->seconds)
    return a->seconds < b->seconds;
  if (a->width != b->width)
    return a->width < b->width;
  return a->height < b->height;
}

static int seg_cmp(const void *x, const void *y) {
  const rb_segment *a = x, *b = y;
  return seg_less(a, b) ? -1 : seg_less(b, a);
}

/* "Same content" ignores `received` and the order of the video segments
 * (SPEC 1.10): segments are hashed in sorted order. */
static int fingerprint(const rb_event *ev, uint64_t fp[2]) {
  fp_state s = {UINT64_C(0xcbf29ce484222325), UINT64_C(0x84222325cbf29ce4)};
  fp_word(&s, (uint64_t)ev->app);
  fp_str(&s, ev->user);
  fp_str(&s, ev->room);
  fp_word(&s, (uint64_t)ev->start);
  fp_word(&s, (uint64_t)ev->seconds);
  fp_word(&s, (uint64_t)ev->nvideo);
  rb_segment local[16], *segs = local;
  const rb_segment *v = ev->video;
  size_t n = ev->nvideo;
  if (n > 1) {
    if (n > 16 && (segs = rb__malloc(n * sizeof *segs)) == NULL)
      return RB_ENOMEM;
    memcpy(segs, ev->video, n * sizeof *segs);
    if (n <= 16) {
      for (size_t i = 1; i < n; i++) {
        rb_segment x = segs[i];
        size_t j = i;
        for (; j > 0 && seg_less(&x, &segs[j - 1]); j--)
          segs[j] = segs[j - 1];
        segs[j] = x;
      }
    } else {
      qsort(segs, n, sizeof *segs, seg_cmp);
    }
    v = segs;
  }
  for (size_t i = 0; i < n; i++) {
    fp_word(&s, (uint64_t)v[i].offset);
    fp_word(&s, (uint64_t)v[i].seconds);
    fp_word(&s, (uint64_t)v[i].width);
    fp_word(&s, (uint64_t)v[i].height);
  }
  if (segs != local)
    rb__free(segs);
  fp[0] = rb__hash_u64(s.a ^ rb__hash_u64(s.b));
  fp[1] = rb__hash_u64(s.b + fp[0]);
  return RB_OK;
}

/* The id table: linear probing over 8-byte slots that hold the record's
 * index and the low 32 bits of the id's hash, which give both the home
 * slot (tables stay below 2^32 slots) and a tag, so that a probe touches
 * a record (and its id) only when the tag matches, and growing the table
 * never reads a record. */
static rb__usage *usage_at(const rb_engine *e, uint32_t i) {
  return &e->usage_chunks[i / RB__USAGE_CHUNK][i % RB__USAGE_CHUNK];
}

static uint64_t id_hash(rb_engine *e, const rb_event *ev) {
  if (e->hashed_ev == ev)
    return e->hashed;
  e->hashed_ev = ev;
  e->hashed = rb__hash_bytes(ev->id, strlen(ev->id), 1);
  return e->hashed;
}

/* The record with this id, or RB__NONE. */
static uint32_t usage_find(const rb_engine *e, const char *id, uint64_t h) {
  if (e->usage_cap == 0)
    return RB__NONE;
  size_t mask = e->usage_cap - 1;
  uint32_t tag = (uint32_t)h;
  for (size_t i = (size_t)tag & mask;; i = (i + 1) & mask) {
    uint64_t slot = e->usage_slots[i];
    if (slot == 0)
      return RB__NONE;
    if ((uint32_t)slot == tag) {
      uint32_t idx = (uint32_t)(slot >> 32) - 1;
      if (strcmp(usage_at(e, idx)->id, id) == 0)
        return idx;
    }
  }
}

static void slot_place(uint64_t *slots, size_t cap, uint64_t h, uint32_t idx) {
  size_t mask = cap - 1;
  size_t i = (size_t)(uint32_t)h & mask;
  while (slots[i] != 0)
    i = (i + 1) & mask;
  slots[i] = ((uint64_t)(idx + 1) << 32) | (uint32_t)h;
}

int rb__usage_check(rb_engine *e, const rb_event *ev, rb_reject *rej,
                    bool *duplicate) {
  uint32_t idx = usage_find(e, ev->id, id_hash(e, ev));
  if (idx == RB__NONE)
    return RB_OK;
  uint64_t fp[2];
  int rc = fingerprint(ev, fp);
  if (rc != RB_OK)
    return rc;
  const rb__usage *u = usage_at(e, idx);
  if (fp[0] == u->fp[0] && fp[1] == u->fp[1]) {
    *duplicate = true;
    return RB_OK;
  }
  return rb__reject(rej, "conflict", "id",
                    "usage id \"%.64s\" was seen before with other content",
                    ev->id);
}

/* Makes room to remember a usage record: a record slot, room in the id
 * table (rehashed to twice the size past 3/4 full) and the id's copy in
 * the engine's arena (a copy left unused by a later failure is
 * harmless). */
static int remember_reserve(rb_engine *e, const rb_event *ev, const char **id) {
  if (e->nusages == UINT32_MAX - 1)
    return RB_ENOMEM;
  if (e->nusages == e->nusage_chunks * RB__USAGE_CHUNK) {
    int rc = rb__grow((void **)&e->usage_chunks, &e->capusage_chunks,
                      e->nusage_chunks, sizeof *e->usage_chunks);
    if (rc != RB_OK)
      return rc;
    rb__usage *c = rb__malloc(RB__USAGE_CHUNK * sizeof *c);
    if (c == NULL)
      return RB_ENOMEM;
    e->usage_chunks[e->nusage_chunks++] = c;
  }
  if ((size_t)(e->nusages + 1) * 4 > e->usage_cap * 3) {
    size_t cap = e->usage_cap ? e->usage_cap * 2 : 1024;
    if (cap > (size_t)UINT32_MAX + 1)
      return RB_ENOMEM;
    uint64_t *slots = rb__calloc(cap, sizeof *slots);
    if (slots == NULL)
      return RB_ENOMEM;
    for (size_t i = 0; i < e->usage_cap; i++)
      if (e->usage_slots[i] != 0)
        slot_place(slots, cap, e->usage_slots[i],
                   (uint32_t)(e->usage_slots[i] >> 32) - 1);
    rb__free(e->usage_slots);
    e->usage_slots = slots;
    e->usage_cap = cap;
  }
  size_t len = strlen(ev->id);
  char *copy = rb__arena_alloc_bytes(e->arena, len + 1);
  if (copy == NULL)
    return RB_ENOMEM;
  memcpy(copy, ev->id, len + 1);
  *id = copy;
  return RB_OK;
}

static void remember(rb_engine *e, const rb_event *ev, const char *id,
                     const uint64_t fp[2]) {
  rb__usage *u = usage_at(e, e->nusages);
  u->id = id;
  u->fp[0] = fp[0];
  u->fp[1] = fp[1];
  /* Reserved: cannot fail. */
  slot_place(e->usage_slots, e->usage_cap, id_hash(e, ev), e->nusages);
  e->nusages++;
}

void rb__usage_free(rb_engine *e) {
  for (uint32_t i = 0; i < e->nusage_chunks; i++)
    rb__free(e->usage_chunks[i]);
  rb__free(e->usage_chunks);
  rb__free(e->usage_slots);
}

size_t rb__usage_bytes(const rb_engine *e) {
  /* The id bytes are the arena's: it holds nothing else. */
  return (size_t)e->capusage_chunks * sizeof *e->usage_chunks +
         (size_t)e->nusage_chunks * RB__USAGE_CHUNK * sizeof(rb__usage) +
         e->usage_cap * sizeof *e->usage_slots + rb_arena_used(e->arena);
}

/* ---------------------------------------------------------------- */
/* Rating                                                           */
/* ---------------------------------------------------------------- */

#define PACKAGE_REASONS                                                        \
  ((1u << RB_STOP_TRIAL_EXHAUSTED) | (1u << RB_STOP_TRIAL_EXPIRED) |           \
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

/* The live accumulator of (app, tier, late, period), or RB__NONE: the
 * app's hot one when it matches (the usual case), else the index. */
static uint32_t acc_lookup(const rb_engine *e, uint32_t app, int tier,
                           bool late, rb_time period) {
  uint32_t h = e->apps[app].hot[tier];
  if (h < e->naccs) {
    const rb__acc *a = &e->accs[h];
    if (a->live && a->app == app && a->tier == tier && a->late == late &&
        a->period == period)
      return h;
  }
  uint32_t idx;
  return rb__acc_find(e, app, tier, late, period, &idx) ? idx : RB__NONE;
}

/* One (day piece, tier) of the record with seconds, as planned: where
 * its seconds go, and the accumulator when it already existed. */
struct rb__step {
  uint32_t piece;
  uint32_t acc; /* RB__NONE: created when rated (room is reserved) */
  int tier;
  bool late;
  rb_time period;
};

static int rate_step(rating *r, const struct rb__step *st) {
  rb_engine *e = r->e;
  const rb_piece *pc = &e->pieces[st->piece];
  int tier = st->tier;
  bool late = st->late;
  uint32_t ai = st->acc;
  int rc;
  if (late && (rc = note_late(r)) != RB_OK)
    return rc;
  /* plan() opened the period (or the next bill, for late minutes) and
   * made room for the accumulator. */
  if (ai == RB__NONE || !e->accs[ai].live) {
    rc = rb__acc_get(e, r->account, r->app, tier, late, st->period, &ai);
    if (rc != RB_OK)
      return rc;
  }
  e->apps[r->app].hot[tier] = ai;
  rb__acc *acc = &e->accs[ai];
  if (acc->seconds > INT64_MAX - pc->seconds[tier])
    return RB_EOVERFLOW;
  acc->seconds += pc->seconds[tier];
  /* Billable minutes are the ceiling of the running total (SPEC 1.3). */
  int64_t minutes = acc->seconds / 60 + (acc->seconds % 60 != 0);
  int64_t delta = minutes - acc->minutes;
  acc->minutes = minutes;
  if (e->sink.trace != NULL) {
    rb_trace t = {.type = RB_TRACE_USAGE,
                  .usage_id = r->ev->id,
                  .seconds = pc->seconds[tier],
                  .acc_seconds = acc->seconds,
                  .minutes = minutes};
    if ((rc = rb__trace(e, &t, ai)) != RB_OK)
      return rc;
  }
  if (delta <= 0)
    return RB_OK;
  int64_t covered, postpaid, unbilled;
  if ((rc = rb__cover(e, r->account, ai, tier, delta, &covered)) != RB_OK ||
      (rc = uncovered(r, tier, delta - covered, &postpaid, &unbilled)) != RB_OK)
    return rc;
  acc = &e->accs[ai];
  acc->covered += covered;
  acc->postpaid += postpaid;
  acc->unbilled += unbilled;
  if (e->sink.trace != NULL && postpaid + unbilled > 0) {
    rb_trace t = {.type = RB_TRACE_UNCOVERED,
                  .minutes = postpaid + unbilled,
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

/* ---------------------------------------------------------------- */
/* Planning: every allocation before the first change               */
/* ---------------------------------------------------------------- */

/* An accumulator the record will create, and the list it joins. */
struct rb__plan {
  int tier;
  bool late;
  rb_time period; /* its period (origin) start */
  rb_time list;   /* the open period whose list it joins; RB_TIME_NONE
                     for the account's late list */
};

static int collect_piece(void *ctx, const rb_piece *pc) {
  rb_engine *e = ctx;
  int rc = rb__grow((void **)&e->pieces, &e->cappieces, e->npieces,
                    sizeof *e->pieces);
  if (rc == RB_OK)
    e->pieces[e->npieces++] = *pc;
  return rc;
}

static bool planned(const rb_engine *e, const struct rb__plan *p) {
  for (uint32_t i = 0; i < e->nplan; i++)
    if (e->plan[i].tier == p->tier && e->plan[i].late == p->late &&
        e->plan[i].period == p->period)
      return true;
  return false;
}

/* Meters the record into e->pieces, opens the periods it lands in,
 * lists its steps and reserves room for every accumulator it creates.
 * Opening a period before anything else changes is harmless: a period
 * that never gets an accumulator is closed without a bill. */
static int plan(rb_engine *e, const rb_event *ev, uint32_t app,
                uint32_t account) {
  rb__account *a = &e->accounts[account];
  e->npieces = e->nplan = e->nsteps = 0;
  int rc = rb_meter_session(&e->rd->tariff, ev->start, ev->seconds, ev->video,
                            ev->nvideo, collect_piece, e);
  for (uint32_t i = 0; i < e->npieces && rc == RB_OK; i++) {
    const rb_piece *pc = &e->pieces[i];
    rb_cycle cycle;
    rb_time start, end, due;
    rb__period_of(e, a, pc->day_start, &cycle, &start, &end, &due);
    bool late = due <= e->now;
    rb__period *p;
    for (int t = 0; t < e->rd->tariff.ntiers && rc == RB_OK; t++) {
      if (pc->seconds[t] == 0)
        continue;
      rc = rb__grow((void **)&e->steps, &e->capsteps, e->nsteps,
                    sizeof *e->steps);
      if (rc != RB_OK)
        break;
      uint32_t acc = acc_lookup(e, app, t, late, start);
      e->steps[e->nsteps++] = (struct rb__step){i, acc, t, late, start};
      /* A live accumulator means its period is open (or, for a late one,
       * that the next bill is): both are released by the same
       * settlement. */
      if (acc != RB__NONE)
        continue;
      if (late)
        rc = rb__open_next_bill(e, account, &p);
      else
        rc = rb__period_open(e, account, cycle, start, end, due, &p);
      struct rb__plan k = {t, late, start, late ? RB_TIME_NONE : start};
      if (rc != RB_OK || planned(e, &k))
        continue;
      rc = rb__grow((void **)&e->plan, &e->capplan, e->nplan, sizeof *e->plan);
      if (rc == RB_OK)
        e->plan[e->nplan++] = k;
    }
  }
  if (rc != RB_OK)
    return rc;
  if (e->nplan == 0)
    return RB_OK;
  if ((rc = rb__reserve((void **)&e->accs, &e->capaccs, e->naccs + e->nplan,
                        sizeof *e->accs)) != RB_OK ||
      (rc = rb__map_reserve(&e->acc_index, e->nplan)) != RB_OK)
    return rc;
  for (uint32_t i = 0; i < e->nplan; i++) {
    rb__idxv *list = e->plan[i].list == RB_TIME_NONE
                         ? &a->late
                         : &rb__period_find(a, e->plan[i].list)->accs;
    uint32_t joining = 0;
    for (uint32_t j = 0; j < e->nplan; j++)
      joining += e->plan[j].list == e->plan[i].list;
    if ((rc = rb__idxv_reserve(list, joining)) != RB_OK)
      return rc;
  }
  return RB_OK;
}

int rb__usage_apply(rb_engine *e, const rb_event *ev, uint32_t app) {
  uint64_t fp[2];
  const char *id;
  uint32_t account = e->apps[app].account;
  int rc = fingerprint(ev, fp);
  if (rc == RB_OK)
    rc = plan(e, ev, app, account);
  if (rc == RB_OK)
    rc = remember_reserve(e, ev, &id);
  if (rc != RB_OK)
    return rc;
  /* From here on nothing allocates: only a rule or a sink can fail. */
  remember(e, ev, id, fp);
  rating r = {e, ev, app, account, false, false};
  r.leak = rb__stopped_for_arrears_at(&e->accounts[account], ev->start);
  for (uint32_t i = 0; i < e->nsteps; i++)
    if ((rc = rate_step(&r, &e->steps[i])) != RB_OK)
      return rc;
  return RB_OK;
}
