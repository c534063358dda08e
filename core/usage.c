/* usage.c: rating one usage record (SPEC 1.2, 1.3, 1.5, 1.9): idempotency
 * by id and content fingerprint, metering into day pieces, running
 * totals per (app, tier, period), cover from the pools, and the fate of
 * uncovered minutes (postpaid, unbilled, or the exhaustion policy).
 *
 * Depends on: engine.h (meter via rtcbill.h, pool.c, ledger.c).
 */
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
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
  if (ev->nvideo > 64 && (segs = rb__malloc(ev->nvideo * sizeof *segs)) == NULL)
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
    rb__free(segs);
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

/* Makes room to remember a usage record; its id is copied into the
 * engine's arena (a copy left unused by a later failure is harmless). */
static int remember_reserve(rb_engine *e, const rb_event *ev,
                            const char **id) {
  int rc = rb__grow((void **)&e->usages, &e->capusages, e->nusages,
                    sizeof *e->usages);
  if (rc == RB_OK)
    rc = rb__map_reserve(&e->usage_index, 1);
  if (rc == RB_OK &&
      (*id = rb_arena_strndup(e->arena, ev->id, strlen(ev->id))) == NULL)
    rc = RB_ENOMEM;
  return rc;
}

static void remember(rb_engine *e, const char *id, const uint64_t fp[2]) {
  rb__usage *u = &e->usages[e->nusages];
  u->id = id;
  u->fp[0] = fp[0];
  u->fp[1] = fp[1];
  /* Reserved: cannot fail. */
  (void)rb__map_insert(&e->usage_index, rb__hash_bytes(id, strlen(id), 1),
                       e->nusages);
  e->nusages++;
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
  const rb__account *a = &e->accounts[r->account];
  rb_cycle cycle;
  rb_time start, end, due;
  rb__period_of(e, a, day, &cycle, &start, &end, &due);
  *late = due <= e->now;
  if (*late) {
    int rc = note_late(r);
    if (rc != RB_OK)
      return rc;
  }
  /* plan() opened the period (or the next bill, for late minutes) and
   * made room for the accumulator. */
  return rb__acc_get(e, r->account, r->app, tier, *late, start, acc);
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

static bool acc_exists(rb_engine *e, uint32_t app, const struct rb__plan *p) {
  for (uint32_t i = 0; i < e->nplan; i++)
    if (e->plan[i].tier == p->tier && e->plan[i].late == p->late &&
        e->plan[i].period == p->period)
      return true;
  uint32_t idx;
  return rb__acc_find(e, app, p->tier, p->late, p->period, &idx);
}

/* Meters the record into e->pieces, opens the periods it lands in and
 * reserves room for every accumulator it creates. Opening a period
 * before anything else changes is harmless: a period that never gets an
 * accumulator is closed without a bill. */
static int plan(rb_engine *e, const rb_event *ev, uint32_t app,
                uint32_t account) {
  rb__account *a = &e->accounts[account];
  e->npieces = e->nplan = 0;
  int rc = rb_meter_session(&e->rd->tariff, ev->start, ev->seconds, ev->video,
                            ev->nvideo, collect_piece, e);
  for (uint32_t i = 0; i < e->npieces && rc == RB_OK; i++) {
    const rb_piece *pc = &e->pieces[i];
    for (int t = 0; t < e->rd->tariff.ntiers && rc == RB_OK; t++) {
      if (pc->seconds[t] == 0)
        continue;
      rb_cycle cycle;
      rb_time start, end, due;
      rb__period *p;
      rb__period_of(e, a, pc->day_start, &cycle, &start, &end, &due);
      struct rb__plan k = {t, due <= e->now, start, start};
      if (k.late) {
        rc = rb__open_next_bill(e, account, &p);
        k.list = RB_TIME_NONE;
      } else {
        rc = rb__period_open(e, account, cycle, start, end, due, &p);
      }
      if (rc != RB_OK || acc_exists(e, app, &k))
        continue;
      rc = rb__grow((void **)&e->plan, &e->capplan, e->nplan,
                    sizeof *e->plan);
      if (rc == RB_OK)
        e->plan[e->nplan++] = k;
    }
  }
  if (rc != RB_OK)
    return rc;
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
  remember(e, id, fp);
  rating r = {e, ev, app, account, false, false};
  r.leak = rb__stopped_for_arrears_at(&e->accounts[account], ev->start);
  for (uint32_t i = 0; i < e->npieces; i++) {
    for (int t = 0; t < e->rd->tariff.ntiers; t++) {
      if (e->pieces[i].seconds[t] == 0)
        continue;
      if ((rc = rate_tier(&r, &e->pieces[i], t)) != RB_OK)
        return rc;
    }
  }
  return RB_OK;
}
