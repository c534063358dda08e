/* query.c: read-only views of the engine's state, for operators and
 * tooling (the daemon's account endpoint, `verify`): one account's
 * balance, cycle, arrears, apps and packages; the next timer; and a
 * digest of the whole state that two runs can compare; memory figures.
 *
 * Depends on: engine.h.
 */
#include <string.h>

#include "alloc.h"
#include "engine.h"

static bool account_eq(const void *ctx, uint32_t val, const void *key) {
  const rb_engine *e = ctx;
  return strcmp(e->accounts[val].id, key) == 0;
}

static const char *const pkg_states[] = {"pending", "active", "exhausted",
                                         "expired", "cleared"};

int rb_engine_account(rb_engine *e, const char *id, rb_account_info *out) {
  uint32_t idx;
  if (e == NULL || id == NULL || out == NULL)
    return RB_EINVAL;
  if (!rb__map_find(&e->account_index, rb__hash_bytes(id, strlen(id), 0),
                    account_eq, e, id, &idx))
    return RB_ENOENT;
  const rb__account *a = &e->accounts[idx];
  int rc = rb__reserve((void **)&e->info_apps, &e->capinfo_apps, a->apps.n,
                       sizeof *e->info_apps);
  if (rc == RB_OK)
    rc = rb__reserve((void **)&e->info_pkgs, &e->capinfo_pkgs, a->packages.n,
                     sizeof *e->info_pkgs);
  if (rc != RB_OK)
    return rc;
  for (uint32_t i = 0; i < a->apps.n; i++) {
    const rb__app *p = &e->apps[a->apps.v[i]];
    e->info_apps[i] = (rb_app_info){p->id, p->created, p->postpaid, p->stops};
  }
  for (uint32_t i = 0; i < a->packages.n; i++) {
    const rb__package *p = &e->packages[a->packages.v[i]];
    e->info_pkgs[i] = (rb_package_info){
        p->id,       e->rd->kinds[p->kind].name, pkg_states[p->state],
        p->minutes,  p->remaining,               p->price,
        p->purchased, p->activates,              p->expires};
  }
  *out = (rb_account_info){
      .id = a->id,
      .balance = a->balance,
      .created = a->created,
      .has_cycle = a->has_app,
      .cycle = a->cycle,
      .daily_from = a->daily_from,
      .in_arrears = a->in_arrears,
      .stopped_for_arrears = a->arrears_stopped,
      .reclaimed = a->reclaimed,
      .napps = a->apps.n,
      .apps = e->info_apps,
      .npackages = a->packages.n,
      .packages = e->info_pkgs,
      .open_periods = a->nperiods,
  };
  return RB_OK;
}

rb_time rb_engine_next_timer(const rb_engine *e) {
  rb_timer t;
  return rb_timerq_peek(e->timers, &t) ? t.due : RB_TIME_NONE;
}

/* FNV-1a over the fields, in a fixed order and width. */
static void mix(uint64_t *h, int64_t v) {
  for (int i = 0; i < 8; i++) {
    *h ^= (uint64_t)v >> (8 * i) & 0xff;
    *h *= UINT64_C(0x100000001b3);
  }
}

static void mix_str(uint64_t *h, const char *s) {
  mix(h, (int64_t)strlen(s));
  for (; *s; s++) {
    *h ^= (unsigned char)*s;
    *h *= UINT64_C(0x100000001b3);
  }
}

uint64_t rb_engine_digest(const rb_engine *e) {
  uint64_t h = UINT64_C(0xcbf29ce484222325);
  mix(&h, e->now);
  for (uint32_t i = 0; i < e->naccounts; i++) {
    const rb__account *a = &e->accounts[i];
    mix_str(&h, a->id);
    mix(&h, a->balance);
    mix(&h, a->has_app ? (int64_t)a->cycle : -1);
    mix(&h, a->daily_from);
    mix(&h, a->in_arrears | a->arrears_stopped << 1 | a->reclaimed << 2);
    mix(&h, a->bought_package);
    for (uint32_t j = 0; j < a->nperiods; j++) {
      const rb__period *p = &a->periods[j];
      mix(&h, p->start);
      mix(&h, p->due);
      for (uint32_t k = 0; k < p->accs.n; k++) {
        const rb__acc *c = &e->accs[p->accs.v[k]];
        mix(&h, e->apps[c->app].id);
        mix(&h, c->tier);
        mix(&h, c->seconds);
        mix(&h, c->covered);
        mix(&h, c->postpaid);
        mix(&h, c->unbilled);
      }
    }
    for (uint32_t k = 0; k < a->late.n; k++) {
      const rb__acc *c = &e->accs[a->late.v[k]];
      mix(&h, c->period);
      mix(&h, c->seconds);
      mix(&h, c->covered + c->postpaid * 3 + c->unbilled * 7);
    }
  }
  for (uint32_t i = 0; i < e->napps; i++) {
    mix(&h, e->apps[i].id);
    mix(&h, e->apps[i].postpaid);
    mix(&h, e->apps[i].stops);
  }
  for (uint32_t i = 0; i < e->npackages; i++) {
    mix_str(&h, e->packages[i].id);
    mix(&h, e->packages[i].state);
    mix(&h, e->packages[i].remaining);
  }
  mix(&h, e->nusages);
  return h;
}

void rb_engine_stats_get(const rb_engine *e, rb_engine_stats *out) {
  memset(out, 0, sizeof *out);
  out->usage_ids = e->nusages;
  out->usage_bytes = rb__usage_bytes(e);
  out->accs_live = e->live_accs;
  out->accs_peak = e->peak_accs;
  /* Each open accumulator is one index in its period's list (or the
   * late list), and lists grow by doubling: at most two indices each at
   * the peak (the lists of billed periods are freed, so they cannot be
   * measured afterwards); plus the free list, which keeps its size. */
  uint64_t lists = 2 * (uint64_t)e->peak_accs + e->free_accs.cap;
  out->acc_bytes = (uint64_t)e->capaccs * sizeof *e->accs +
                   (uint64_t)e->acc_index.cap *
                       (sizeof *e->acc_index.hashes +
                        sizeof *e->acc_index.vals) +
                   lists * sizeof(uint32_t);
}
