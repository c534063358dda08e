/* engine.h: the engine's private state, shared by the files that make up
 * the engine: engine.c (clock, timers, event dispatch, accounts and
 * apps), pool.c (package pools, cover, activation, expiry, the
 * exhaustion policy), ledger.c (accumulators, periods, bills, balance
 * and arrears) and usage.c (rating a usage record).
 *
 * Everything here is plain data indexed by uint32: accounts, apps,
 * packages and accumulators live in growable arrays and refer to each
 * other by index, so that growing an array never invalidates a link.
 *
 * Depends on: rtcbill.h, map.h.
 */
#ifndef RTCBILL_ENGINE_H
#define RTCBILL_ENGINE_H

#include "map.h"
#include "rtcbill.h"

#define RB__NONE UINT32_MAX

/* Timer kinds, in the order SPEC 1.10 fires them at the same instant. */
enum {
  RB__T_EXPIRY = 0,
  RB__T_ACTIVATION = 1,
  RB__T_SETTLEMENT = 2,
  RB__T_GRACE = 3,
  RB__T_RECLAIM = 4
};

/* A growable array of indices. */
typedef struct rb__idxv {
  uint32_t *v;
  uint32_t n, cap;
} rb__idxv;

int rb__idxv_push(rb__idxv *a, uint32_t x);
/* Makes room for `extra` more pushes, which then cannot fail. */
int rb__idxv_reserve(rb__idxv *a, uint32_t extra);
void rb__idxv_free(rb__idxv *a);

/* One settlement period with usage, waiting for its bill. */
typedef struct rb__period {
  uint32_t id; /* per account, for the settlement timer's payload */
  rb_cycle cycle;
  rb_time start, end, due;
  rb__idxv accs; /* accumulators of this period */
} rb__period;

typedef struct rb__account {
  /* What rating a usage record reads comes first, so that it shares
   * one or two cache lines: the cycle, the open periods, the active
   * packages, the arrears stops. */
  rb_cycle cycle;
  uint32_t nperiods;
  /* After an operator's monthly -> daily switch: the local midnight from
   * which periods are daily (the month before it ends there). */
  rb_time daily_from;
  /* Open periods, ascending start; late accumulators wait for the next
   * bill. */
  rb__period *periods;
  rb__idxv active; /* active packages with minutes, in deduction order */
  /* Intervals [from, to) during which the apps were stopped for arrears,
   * to tell sessions that started while stopped (leakage). */
  rb_time *stop_from, *stop_to;
  uint32_t nstops, capstops;

  char *id;
  rb_money balance;
  rb_time created;

  bool has_app;
  rb_time first_app_at;

  rb__idxv apps;     /* ascending app id */
  rb__idxv packages; /* every package ever, in purchase order */
  bool bought_package;
  uint32_t trial;    /* the granted package, or RB__NONE */

  uint32_t capperiods;
  uint32_t next_period_id;
  rb__idxv late;

  /* Arrears: an episode starts when a bill makes the balance negative. */
  bool in_arrears;
  bool arrears_stopped;
  bool reclaimed;
  uint32_t arrears_epoch; /* bumps cancel pending grace/reclaim timers */
} rb__account;

/* The per-tier record of today's uncovered minutes, for the same-day
 * retroactive cover of a package that activates later that day. */
typedef struct rb__today {
  rb_time day;
  uint32_t acc;
  int64_t postpaid;
  int64_t unbilled;
} rb__today;

typedef struct rb__app {
  int64_t id;
  rb_time created;
  uint32_t account;
  unsigned stops; /* bit (1 << rb_stop_reason) per reason */
  bool postpaid;
  /* The accumulator each tier's last usage went to, or RB__NONE: the
   * next record of the app almost always goes to the same one, so this
   * spares the hash lookup (checked against the key before use). With
   * the fields above, one cache line. */
  uint32_t hot[RB_MAX_TIERS];
  rb__today today[RB_MAX_TIERS];
} rb__app;

typedef enum {
  RB__PKG_PENDING,
  RB__PKG_ACTIVE,
  RB__PKG_EXHAUSTED,
  RB__PKG_EXPIRED,
  RB__PKG_CLEARED
} rb__pkg_state;

typedef struct rb__package {
  char *id;
  uint32_t account;
  int kind;
  bool granted;
  rb__pkg_state state;
  rb_time purchased, activates, expires;
  int64_t minutes, remaining;
  rb_money price;
} rb__package;

typedef struct rb__acc {
  uint32_t app;
  uint8_t tier;
  bool late;
  bool live;
  rb_time period; /* period start; for late ones the origin period */
  uint32_t account;
  int64_t seconds, minutes, covered, postpaid, unbilled;
} rb__acc;

/* A remembered usage record: 24 bytes, plus its id's bytes in the
 * engine's arena and an 8-byte slot in the id table (usage.c). */
typedef struct rb__usage {
  uint64_t fp[2]; /* 128-bit fingerprint of the canonical content */
  const char *id; /* NUL-terminated, packed in the engine's arena */
} rb__usage;

/* Remembered records live in chunks of this many, so that the store
 * grows without copying and wastes at most one partly used chunk. */
#define RB__USAGE_CHUNK 4096u

struct rb_engine {
  rb_rules *rules;
  const rb_rules_data *rd;
  rb_sink sink;
  rb_time now;
  rb_timerq *timers;
  rb_arena *arena; /* ids of usage records */
  bool failed;     /* a rule or sink failed mid-event: refuse more work */
  char error[256];

  rb__account *accounts;
  uint32_t naccounts, capaccounts;
  rb__map account_index;

  rb__app *apps;
  uint32_t napps, capapps;
  rb__map app_index;

  rb__package *packages;
  uint32_t npackages, cappackages;
  rb__map package_index;

  rb__acc *accs;
  uint32_t naccs, capaccs;
  rb__idxv free_accs;
  rb__map acc_index;

  /* Usage ids seen (usage.c): records in chunks, and an open-addressing
   * table of slots, each (record index + 1) << 32 | 32 bits of the id's
   * hash, 0 when empty. */
  rb__usage **usage_chunks;
  uint32_t nusage_chunks, capusage_chunks;
  uint32_t nusages;
  uint64_t *usage_slots;
  size_t usage_cap; /* a power of two, or 0 */
  /* The id hash of the record rb__usage_check last looked at, reused by
   * rb__usage_apply for the same event. */
  const rb_event *hashed_ev;
  uint64_t hashed;

  /* The local month rb__period_of last computed, [start, end) in the
   * billing time zone tz: months are long, so this saves the calendar
   * arithmetic for almost every usage record. */
  rb_time month_start, month_end;
  int32_t month_tz;

  /* The high-water mark of live accumulators (rb_engine_stats). */
  uint32_t live_accs, peak_accs;

  /* Ordering by position (rb_engine_set_position): timers scheduled
   * while applying the event at `position` are numbered position << 16
   * | n; those scheduled while a timer fires take its number. */
  bool ordered;
  uint64_t position;
  uint32_t scheduled; /* n: timers the current event scheduled so far */
  bool firing;
  rb_timer fired; /* the timer firing, while `firing` */

  rb_time settle_max; /* the latest settlement due ever scheduled */

  /* Scratch for bills. */
  rb_bill_line *lines;
  uint32_t caplines;

  /* Scratch for rating one usage record: its day pieces, and the
   * accumulators it will create (planned before anything changes, so
   * that running out of memory leaves no half-applied event). */
  rb_piece *pieces;
  uint32_t npieces, cappieces;
  struct rb__plan *plan;
  uint32_t nplan, capplan;
  struct rb__step *steps; /* the record's (piece, tier) parts */
  uint32_t nsteps, capsteps;

  /* Scratch for rb_engine_account's arrays. */
  rb_app_info *info_apps;
  uint32_t capinfo_apps;
  rb_package_info *info_pkgs;
  uint32_t capinfo_pkgs;
};

/* Grows *arr (of elem bytes, *cap elements) to hold at least `need`. */
int rb__reserve(void **arr, uint32_t *cap, uint32_t need, size_t elem);
/* Grows *arr to hold n + 1. */
int rb__grow(void **arr, uint32_t *cap, uint32_t n, size_t elem);

/* Schedules a timer: in insertion order, or by position when the engine
 * is ordered (rb_engine_set_position). RB_ENOMEM unless reserved. */
int rb__timer_add(rb_engine *e, rb_time due, uint32_t kind, uint64_t payload);
/* rb_timerq_add with the caller's sequence number (timerq.c). */
int rb__timerq_add_seq(rb_timerq *q, rb_time due, uint32_t kind, uint64_t seq,
                       uint64_t payload);

/* Reject helper: fills rej and returns RB_EREJECT. */
int rb__reject(rb_reject *rej, const char *code, const char *field,
               const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

/* Emits a notice through the sink (fills `at` with the clock). A sink
 * failure marks the engine failed. */
int rb__notify(rb_engine *e, rb_notice *n);
void rb__notice_init(rb_notice *n, rb_notice_type type, const char *account);

/* Marks the engine failed with the policy's last error. */
int rb__policy_failed(rb_engine *e, const char *fallback);
int rb__pkg_index_add(rb_engine *e, uint32_t pkg);

/* Service state (engine.c). */
int rb__app_stop(rb_engine *e, uint32_t app, rb_stop_reason r);
int rb__app_clear(rb_engine *e, uint32_t app, unsigned reasons);
int rb__enable_postpaid(rb_engine *e, uint32_t app, rb_postpaid_reason why);

/* Pools (pool.c). */
/* Creating a package is two steps so that a caller can reserve every
 * allocation before it changes anything: prepare (copies the id and
 * makes room; RB_ENOMEM changes nothing), then commit (cannot run out of
 * memory; takes the id). rb__pkg_unprepare releases a prepared id. */
int rb__pkg_prepare(rb_engine *e, uint32_t account, const char *id,
                    char **idcopy);
void rb__pkg_unprepare(char *idcopy);
int rb__pkg_commit(rb_engine *e, uint32_t account, char *idcopy, int kind,
                   int64_t minutes, rb_money price, rb_time at,
                   uint32_t *out);
int rb__pkg_activate(rb_engine *e, uint32_t pkg);
int rb__pkg_expire(rb_engine *e, uint32_t pkg);
/* Covers up to need tier-minutes of tier from the account's active
 * packages; *covered gets how many. May exhaust packages and run the
 * exhaustion policy. */
int rb__cover(rb_engine *e, uint32_t account, uint32_t acc, int tier,
              int64_t need, int64_t *covered);
/* Asks the exhaustion policy about an app running without postpaid and
 * applies the decision. */
int rb__decide(rb_engine *e, uint32_t app, rb_trigger trigger,
               const char *kind, int tier);
int rb__clear_packages(rb_engine *e, uint32_t account, int64_t *forfeited);
rb_trial_state rb__trial_state(const rb_engine *e, const rb__account *a);

/* Ledger (ledger.c). */
/* The period containing local day start `day` for the account. */
void rb__period_of(rb_engine *e, const rb__account *a, rb_time day,
                   rb_cycle *cycle, rb_time *start, rb_time *end,
                   rb_time *due);
/* Finds or opens (and schedules) the account's period starting at start. */
int rb__period_open(rb_engine *e, uint32_t account, rb_cycle cycle,
                    rb_time start, rb_time end, rb_time due,
                    rb__period **out);
/* The account's open period starting at start, or NULL. */
rb__period *rb__period_find(rb__account *a, rb_time start);
int rb__acc_get(rb_engine *e, uint32_t account, uint32_t app, int tier,
                bool late, rb_time period, uint32_t *out);
bool rb__acc_find(const rb_engine *e, uint32_t app, int tier, bool late,
                  rb_time period, uint32_t *out);
/* The period whose bill comes next (opening the current one if none is
 * pending): where late minutes go (SPEC 1.9). */
int rb__open_next_bill(rb_engine *e, uint32_t account, rb__period **out);
int rb__settle(rb_engine *e, uint32_t account, uint32_t period_id,
               rb_time due);
int rb__grace(rb_engine *e, uint32_t account, uint32_t epoch);
int rb__reclaim(rb_engine *e, uint32_t account, uint32_t epoch);
int rb__topup(rb_engine *e, uint32_t account, rb_money amount);
int rb__switch_daily(rb_engine *e, uint32_t account);
void rb__recompute_settle_max(rb_engine *e);
bool rb__stopped_for_arrears_at(const rb__account *a, rb_time t);

/* Sends a provenance record about accumulator acc (its identity and the
 * clock are filled in) when the sink traces; free otherwise. */
int rb__trace(rb_engine *e, rb_trace *t, uint32_t acc);

/* Usage (usage.c). */
int rb__usage_check(rb_engine *e, const rb_event *ev, rb_reject *rej,
                    bool *duplicate);
int rb__usage_apply(rb_engine *e, const rb_event *ev, uint32_t app);
void rb__usage_free(rb_engine *e);
/* Bytes the remembered usage records take (rb_engine_stats). */
size_t rb__usage_bytes(const rb_engine *e);

#endif /* RTCBILL_ENGINE_H */
