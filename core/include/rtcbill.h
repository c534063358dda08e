/* rtcbill.h: the public API of the rtcbill core library.
 *
 * The core rates real-time audio/video usage exactly: money in integer
 * units of 1e-8, time in integer seconds, tiers and package pools compiled
 * from the rules into plain C data, and a timer queue driven by a virtual
 * clock (simulation) or by libuv (real time). It contains no Lua: the
 * rule decisions it needs come through the rb_policy interface, which the
 * rules host (bindings/lua) implements.
 *
 * Depends on: the C11 standard library and libuv (the real-time clock).
 */
#ifndef RTCBILL_H
#define RTCBILL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ */
/* Errors                                                             */
/* ------------------------------------------------------------------ */

/* Every fallible function returns 0 (RB_OK) or one of these negative
 * codes. The list is stable: codes are only ever added. */
#define RB_ERRNO_MAP(XX)                                                   \
  XX(NOMEM, -1, "out of memory")                                           \
  XX(INVAL, -2, "invalid argument")                                        \
  XX(OVERFLOW, -3, "arithmetic overflow")                                  \
  XX(RANGE, -4, "value out of range")                                      \
  XX(SYNTAX, -5, "syntax error")                                           \
  XX(NOENT, -6, "not found")                                               \
  XX(EXIST, -7, "already exists")                                          \
  XX(STATE, -8, "not allowed in the current state")                        \
  XX(POLICY, -9, "a rule failed")                                          \
  XX(IO, -10, "input/output error")                                        \
  XX(REJECT, -11, "event rejected")                                        \
  XX(NOSPACE, -12, "buffer too small")

enum {
  RB_OK = 0,
#define RB__ERR_ENUM(name, val, msg) RB_E##name = (val),
  RB_ERRNO_MAP(RB__ERR_ENUM)
#undef RB__ERR_ENUM
};

/* A static, human-readable description of err; never NULL. */
const char *rb_strerror(int err);
/* The code's name without prefix, e.g. "NOMEM"; "UNKNOWN" if unknown. */
const char *rb_err_name(int err);

/* ------------------------------------------------------------------ */
/* Memory                                                             */
/* ------------------------------------------------------------------ */

/* The allocator every object of the core is allocated with. The default
 * is the C library's. realloc(ctx, NULL, n) must behave as malloc; sizes
 * are never 0. A NULL result is an allocation failure, which the core
 * reports as RB_ENOMEM and survives: the failing call changes nothing. */
typedef struct rb_allocator {
  void *ctx;
  void *(*malloc)(void *ctx, size_t size);
  void *(*realloc)(void *ctx, void *ptr, size_t size);
  void (*free)(void *ctx, void *ptr);
} rb_allocator;

/* Installs a (copy) of a, or the C library's allocator when a is NULL.
 * Process-wide and not thread-safe: set it before creating objects and
 * keep it while any of them lives. */
void rb_set_allocator(const rb_allocator *a);

/* ------------------------------------------------------------------ */
/* Money: int64 count of 1e-8 currency units                          */
/* ------------------------------------------------------------------ */

typedef int64_t rb_money;

#define RB_MONEY_SCALE INT64_C(100000000) /* units per 1.00 */
#define RB_MONEY_PLACES 8
#define RB_MONEY_STRLEN 32 /* enough for any formatted rb_money + NUL */

/* Parses a decimal string: optional '-', digits, optional '.' and 1..8
 * digits. No '+', exponent, spaces or leading '.'. The string is exactly
 * len bytes (no NUL needed).
 * Returns RB_ESYNTAX on bad syntax or more than 8 decimals, RB_EOVERFLOW
 * past the int64 range. *out is written only on success. */
int rb_money_parse(const char *s, size_t len, rb_money *out);

/* Writes v with exactly `places` decimals (0..8) and a NUL into buf.
 * v must be a multiple of 10^(8-places) (RB_EINVAL otherwise: formatting
 * never rounds). Returns the length written or RB_ENOSPACE. */
int rb_money_format(rb_money v, int places, char *buf, size_t cap);

/* Like rb_money_format with at least min_places decimals and as many more
 * (up to 8) as needed to show v exactly: 99.79 -> "99.79",
 * 0.245 -> "0.245" (min 2), 3 -> "3.00". */
int rb_money_format_min(rb_money v, int min_places, char *buf, size_t cap);

/* Checked arithmetic: RB_EOVERFLOW instead of wrapping. */
int rb_money_add(rb_money a, rb_money b, rb_money *out);
int rb_money_sub(rb_money a, rb_money b, rb_money *out);

/* *out = a * num / den, the product kept in 128 bits, rounded half away
 * from zero ("half-up" in commercial terms: 0.005 -> 0.01,
 * -0.005 -> -0.01). den must be > 0 (RB_EINVAL). RB_EOVERFLOW if the
 * result does not fit int64. */
int rb_money_muldiv(int64_t a, int64_t num, int64_t den, rb_money *out);

/* Rounds v to a multiple of unit (> 0), half away from zero. */
int rb_money_round(rb_money v, rb_money unit, rb_money *out);

/* ------------------------------------------------------------------ */
/* Time: int64 seconds since 1970-01-01T00:00:00Z; fixed UTC offsets   */
/* ------------------------------------------------------------------ */

typedef int64_t rb_time;

#define RB_TIME_STRLEN 32
#define RB_TIME_NONE INT64_MIN /* "no time", e.g. an absent field */

/* Parses RFC 3339 "YYYY-MM-DDTHH:MM:SS[.000]Z|±HH:MM" (T or t, Z or z;
 * a fraction is accepted only if it is all zeros: billing counts whole
 * seconds and never truncates). Years 0001-9999; the date must exist;
 * seconds 00-59 (no leap second); offsets up to ±23:59.
 * Returns RB_ESYNTAX for malformed text, RB_ERANGE for a well-formed but
 * impossible value (month 13, day 31 in November, hour 24).
 * If offset is not NULL it receives the offset in seconds east of UTC. */
int rb_time_parse(const char *s, size_t len, rb_time *out, int32_t *offset);

/* Formats t in the given offset as "YYYY-MM-DDTHH:MM:SS+HH:MM" (offset 0
 * is "+00:00"). Returns the length or RB_ENOSPACE / RB_ERANGE. */
int rb_time_format(rb_time t, int32_t offset, char *buf, size_t cap);

/* "YYYY-MM-DD" (with_day) or "YYYY-MM" of t's local date. */
int rb_date_format(rb_time t, int32_t offset, bool with_day, char *buf,
                   size_t cap);

/* Proleptic Gregorian calendar: days since 1970-01-01 and back. */
int64_t rb_days_from_civil(int64_t y, unsigned m, unsigned d);
void rb_civil_from_days(int64_t days, int64_t *y, unsigned *m, unsigned *d);

/* Start of the local day / month containing t (an instant, in UTC). */
rb_time rb_day_start(rb_time t, int32_t offset);
rb_time rb_month_start(rb_time t, int32_t offset);
/* Start of the local month `months` after the month containing t. */
rb_time rb_month_add(rb_time t, int months, int32_t offset);

typedef enum { RB_CYCLE_DAILY = 0, RB_CYCLE_MONTHLY = 1 } rb_cycle;
const char *rb_cycle_name(rb_cycle c); /* "daily" / "monthly" */

/* ------------------------------------------------------------------ */
/* Arena: bump allocator for event strings and segments               */
/* ------------------------------------------------------------------ */

typedef struct rb_arena rb_arena;

/* Creates an empty arena; NULL on allocation failure. Free with
 * rb_arena_free, which releases everything allocated from it. */
rb_arena *rb_arena_new(void);
void rb_arena_free(rb_arena *a);
/* size bytes aligned for any type; NULL on allocation failure. */
void *rb_arena_alloc(rb_arena *a, size_t size);
/* A NUL-terminated copy of s[0..len); NULL on allocation failure. */
char *rb_arena_strndup(rb_arena *a, const char *s, size_t len);
/* Bytes handed out so far (for memory reporting). */
size_t rb_arena_used(const rb_arena *a);

/* ------------------------------------------------------------------ */
/* Rejections                                                         */
/* ------------------------------------------------------------------ */

/* Why an input line or event was refused. `code` is one of the stable
 * snake_case words documented in docs/formats.md ("bad_json",
 * "unknown_type", "missing_field", "bad_field", "bad_time", "bad_money",
 * "out_of_range", "unknown_account", "unknown_app", "segment_outside",
 * "duplicate_app", "duplicate_account", "duplicate_package", "conflict",
 * "postpaid_irreversible", "cycle_change_not_allowed", "line_too_long");
 * `field` names the offending field ("" when it is the whole line). */
typedef struct rb_reject {
  char code[32];
  char field[32];
  char message[224];
} rb_reject;

/* ------------------------------------------------------------------ */
/* Input events (SPEC 3.2)                                            */
/* ------------------------------------------------------------------ */

typedef enum {
  RB_EV_ACCOUNT,
  RB_EV_APP,
  RB_EV_PACKAGE,
  RB_EV_TOPUP,
  RB_EV_ENABLE_POSTPAID,
  RB_EV_DISABLE_POSTPAID,
  RB_EV_CHANGE_CYCLE,
  RB_EV_USAGE
} rb_event_type;

/* One received video stream inside a usage session: from `offset`
 * seconds after the session start, for `seconds`, at width x height. */
typedef struct rb_segment {
  int64_t offset;
  int64_t seconds;
  int64_t width;
  int64_t height;
} rb_segment;

/* Limits the reader enforces (documented in docs/formats.md). */
#define RB_LINE_MAX (1u << 20)          /* bytes per input line */
#define RB_ID_MAX 256                   /* bytes per id string */
#define RB_SEGMENTS_MAX 4096            /* video segments per session */
#define RB_SESSION_SECONDS_MAX 31622400 /* 366 days */
#define RB_PIXELS_SIDE_MAX 65536        /* width or height */
#define RB_MINUTES_MAX INT64_C(1000000000000) /* package size */

/* A parsed, self-consistent event. Strings and the video array belong to
 * the arena the reader was given; the event itself is caller storage.
 * Fields not used by a type are zero / NULL / RB_TIME_NONE. */
typedef struct rb_event {
  rb_event_type type;
  rb_time at;        /* effective time: `at`; for usage max(end, received) */
  const char *account; /* account, app, package, topup, change_cycle */
  int64_t app;         /* app, enable/disable_postpaid, usage */
  const char *package; /* package id */
  const char *kind;    /* package kind name (checked against the rules by
                          the engine) */
  int64_t minutes;     /* package size */
  rb_money money;      /* account balance, package price, topup amount */
  bool postpaid;       /* app */
  rb_cycle cycle;      /* change_cycle */
  const char *id;      /* usage id */
  const char *user;
  const char *room;
  rb_time start;       /* usage */
  int64_t seconds;     /* usage presence */
  rb_time received;    /* usage; RB_TIME_NONE when absent */
  size_t nvideo;
  const rb_segment *video;
} rb_event;

/* Parses and validates one JSON line (without its newline) into *ev.
 * Checks everything that does not depend on engine state: JSON syntax,
 * types, required fields, exact integers (no floats, exponents or values
 * past int64), money strings, times, segments inside the presence,
 * positive sizes, limits above. Unknown keys are ignored.
 * Returns 0, or RB_EREJECT with *rej filled (and *ev unspecified);
 * RB_ENOMEM if the arena could not grow. */
int rb_event_parse(rb_arena *a, const char *line, size_t len, rb_event *ev,
                   rb_reject *rej);

/* ------------------------------------------------------------------ */
/* Rules: compiled data + policy interface                            */
/* ------------------------------------------------------------------ */

#define RB_MAX_TIERS 8
#define RB_MAX_KINDS 8
#define RB_NAME_MAX 24
#define RB_VERSION_MAX 40

typedef enum { RB_VIDEO_PER_STREAM = 0, RB_VIDEO_AGGREGATE = 1 } rb_video_mode;

/* A price tier. Tier 0 is the audio tier (no video received, max_pixels
 * 0); the others are ordered by their inclusive upper bound on the pixel
 * area; the last one may be unbounded (INT64_MAX). */
typedef struct rb_tier {
  char name[RB_NAME_MAX];
  int64_t max_pixels;
  rb_money price_per_1000; /* list price per 1000 minutes */
} rb_tier;

typedef struct rb_tariff {
  char currency[8];
  int32_t tz_offset;       /* billing time zone, seconds east of UTC */
  rb_video_mode video_mode;
  rb_money total_unit;     /* bill totals rounded to this (0.01) */
  int ntiers;
  rb_tier tiers[RB_MAX_TIERS];
} rb_tariff;

typedef struct rb_package_kind {
  char name[RB_NAME_MAX];
  bool granted;                  /* the trial: granted, never bought */
  int64_t factors[RB_MAX_TIERS]; /* package minutes per tier-minute, >= 1 */
} rb_package_kind;

/* Deduction order keys, applied in sequence. */
typedef enum {
  RB_ORDER_GRANTED_FIRST,   /* trial packages first */
  RB_ORDER_EARLIEST_EXPIRY,
  RB_ORDER_EARLIEST_PURCHASE,
  RB_ORDER_ID,
  RB_ORDER__COUNT
} rb_order_key;

/* The package catalogue, read only by the price estimator (SPEC 1.4):
 * fixed packages of a listed size and price, and custom packages of any
 * whole number X of thousands of minutes at X times the unit price of
 * the band X falls in. Bands are contiguous and ordered (the first starts
 * at 0 or 1, each next one at the previous `to` + 1); only the last may
 * be open (`to` = INT64_MAX). A rule set without a catalogue has
 * nfixed = nbands = 0. */
#define RB_CATALOGUE_MAX 16

typedef struct rb_catalogue_fixed {
  int64_t thousands; /* size in thousands of package minutes, >= 1 */
  rb_money price;    /* >= 0 */
} rb_catalogue_fixed;

typedef struct rb_catalogue_band {
  int64_t from, to;       /* sizes in thousands, inclusive */
  rb_money per_thousand;  /* unit price, >= 0 */
} rb_catalogue_band;

typedef struct rb_catalogue {
  int kind; /* the (bought, not granted) package kind the catalogue sells */
  int nfixed;
  rb_catalogue_fixed fixed[RB_CATALOGUE_MAX];
  int nbands;
  rb_catalogue_band bands[RB_CATALOGUE_MAX];
} rb_catalogue;

typedef struct rb_rules_data {
  rb_tariff tariff;

  int nkinds;
  rb_package_kind kinds[RB_MAX_KINDS];
  int trial_kind;           /* index of the granted kind, -1 for none */
  int64_t trial_minutes;    /* size of the granted trial */
  rb_time trial_grant_from; /* first app at/after this gets the trial */
  int64_t activation_delay; /* seconds from purchase to activation */
  int validity_months;      /* valid to the end of the purchase month
                               plus this many months (12) */
  int norder;
  rb_order_key order[RB_ORDER__COUNT];

  /* Bills are issued this many seconds after their period ends:
   * daily 36000 (D+1 10:00), monthly 36000 (the 1st, 10:00). */
  int64_t daily_issue_delay;
  int64_t monthly_issue_delay;

  int64_t grace_seconds;   /* arrears grace before stopping (86400) */
  int64_t reclaim_seconds; /* stopped for arrears this long: reclaim */

  char version[RB_VERSION_MAX]; /* the rule set's version id */

  rb_catalogue catalogue; /* for the estimator only; may be empty */
} rb_rules_data;

/* The settlement-cycle question, asked once per account at its first
 * app's creation. */
typedef struct rb_cycle_query {
  const char *account;
  rb_time first_app_at;
  int32_t tz_offset;
} rb_cycle_query;

typedef enum {
  RB_TRIAL_NONE,      /* never had one */
  RB_TRIAL_ACTIVE,
  RB_TRIAL_EXHAUSTED,
  RB_TRIAL_EXPIRED
} rb_trial_state;

typedef enum {
  RB_TRIGGER_UNCOVERED, /* an app's minutes need cover and none is left */
  RB_TRIGGER_EXHAUSTED, /* a package was used up, none has minutes left */
  RB_TRIGGER_EXPIRED    /* a package expired, none has minutes left */
} rb_trigger;

typedef enum {
  RB_STOP_TRIAL_EXHAUSTED = 0,
  RB_STOP_TRIAL_EXPIRED = 1,
  RB_STOP_NO_PACKAGE = 2,
  RB_STOP_ARREARS = 3,
  RB_STOP__COUNT
} rb_stop_reason;
const char *rb_stop_reason_name(rb_stop_reason r);

/* The exhaustion question for one app that is running without postpaid.
 * It is asked only on transitions, never per usage record. */
typedef struct rb_exhaustion_query {
  const char *account;
  int64_t app;
  rb_time at;
  rb_trigger trigger;
  const char *package_kind; /* the package used up/expired, else NULL */
  const char *tier;         /* the tier needing cover (uncovered), else NULL */
  bool bought_package;      /* the account ever bought a package (any
                               non-granted kind, pending or not) */
  rb_trial_state trial;
} rb_exhaustion_query;

typedef enum {
  RB_DECIDE_POSTPAID, /* switch postpaid on for every app of the account */
  RB_DECIDE_STOP      /* stop this app with `reason` */
} rb_decision_action;

typedef struct rb_exhaustion_decision {
  rb_decision_action action;
  rb_stop_reason reason; /* for RB_DECIDE_STOP; never RB_STOP_ARREARS */
} rb_exhaustion_decision;

/* The rule decisions the core cannot compile into data. Each function
 * returns 0 or a negative RB_E* code (RB_EPOLICY for a failing rule, with
 * a "rules/file.lua:LINE: message" text available from `last_error`). */
typedef struct rb_policy {
  void *ctx;
  int (*cycle)(void *ctx, const rb_cycle_query *q, rb_cycle *out);
  int (*exhaustion)(void *ctx, const rb_exhaustion_query *q,
                    rb_exhaustion_decision *out);
  const char *(*last_error)(void *ctx);
  /* Called once when the rule set is freed; may be NULL. */
  void (*release)(void *ctx);
} rb_policy;

typedef struct rb_rules rb_rules;

/* Validates data and builds a reference-counted rule set (count 1) that
 * owns a copy of data and, on success, the policy (its release() is
 * called when the last reference goes). On failure nothing is owned,
 * release() is not called, and a message goes to err (if cap > 0):
 * RB_EINVAL for invalid data, RB_ENOMEM. */
int rb_rules_new(const rb_rules_data *data, const rb_policy *policy,
                 rb_rules **out, char *err, size_t cap);
rb_rules *rb_rules_ref(rb_rules *r);
void rb_rules_unref(rb_rules *r);
const rb_rules_data *rb_rules_data_get(const rb_rules *r);
/* The rule set's policy (owned by the rule set). */
const rb_policy *rb_rules_policy(const rb_rules *r);
/* Index of the tier / kind named name, or -1. */
int rb_rules_tier_index(const rb_rules *r, const char *name);
int rb_rules_kind_index(const rb_rules *r, const char *name);
/* The tier of a received stream (or aggregate) of `pixels` (> 0). */
int rb_tariff_tier_for_pixels(const rb_tariff *t, int64_t pixels);

/* ------------------------------------------------------------------ */
/* Metering                                                           */
/* ------------------------------------------------------------------ */

/* Seconds per tier of one session, for one local day. */
typedef struct rb_piece {
  rb_time day_start;             /* local midnight the piece lies in */
  rb_time from, to;              /* the piece's presence [from, to) */
  int64_t seconds[RB_MAX_TIERS]; /* per tier, indexed like the tariff */
} rb_piece;

typedef int (*rb_piece_cb)(void *ctx, const rb_piece *p);

/* Meters one session (start, presence seconds, received video) under the
 * tariff: splits it at every local midnight and calls cb for each day
 * piece in chronological order (a zero-length session gives no piece).
 * per_stream: each segment's seconds count in its own tier; audio =
 * presence - |union of segments|. aggregate: at each instant the pixel
 * areas of all received streams are summed and that instant counts once,
 * in the tier of the sum. Segments must lie inside the presence (the
 * reader checks). Returns 0, RB_ENOMEM, or the first non-zero value cb
 * returned (metering stops there). */
int rb_meter_session(const rb_tariff *t, rb_time start, int64_t seconds,
                     const rb_segment *video, size_t nvideo, rb_piece_cb cb,
                     void *ctx);

/* ------------------------------------------------------------------ */
/* Timer queue                                                        */
/* ------------------------------------------------------------------ */

/* One deadline: ordered by due, then kind (smaller fires first at the
 * same instant), then insertion order. kind and payload are the owner's
 * (the engine uses kind for SPEC 1.10's firing order). */
typedef struct rb_timer {
  rb_time due;
  uint32_t kind;
  uint64_t seq;     /* insertion number, set by the queue */
  uint64_t payload;
} rb_timer;

typedef struct rb_timerq rb_timerq;

int rb_timerq_new(rb_timerq **out); /* RB_ENOMEM */
void rb_timerq_free(rb_timerq *q);
/* Adds a deadline; RB_ENOMEM leaves the queue unchanged. */
int rb_timerq_add(rb_timerq *q, rb_time due, uint32_t kind, uint64_t payload);
/* Makes room for `extra` more deadlines, so that as many adds (or
 * restores) cannot fail. RB_ENOMEM leaves the queue unchanged. */
int rb_timerq_reserve(rb_timerq *q, size_t extra);
/* Puts back a deadline popped from this queue, with its original place
 * in the order (its seq), e.g. after its handler failed for want of
 * memory. Cannot fail after a pop (the room is still there). */
int rb_timerq_restore(rb_timerq *q, const rb_timer *t);
/* The earliest deadline, false if empty. */
bool rb_timerq_peek(const rb_timerq *q, rb_timer *out);
/* Removes and returns the earliest deadline if its due <= limit. */
bool rb_timerq_pop(rb_timerq *q, rb_time limit, rb_timer *out);
size_t rb_timerq_len(const rb_timerq *q);

/* Real-time driver: one libuv timer armed for the queue's earliest
 * deadline. When it fires, every deadline due at or before the current
 * wall-clock second is popped in order and passed to fire(). The caller
 * allocates the rb_uvclock (like a uv handle) and must call
 * rb_uvclock_rearm after adding deadlines to the queue, and
 * rb_uvclock_close before freeing it. */
typedef struct rb_uvclock rb_uvclock;
typedef void (*rb_uvclock_fire_cb)(rb_uvclock *c, const rb_timer *t);
struct rb_uvclock {
  uv_timer_t timer; /* private */
  rb_timerq *q;
  rb_uvclock_fire_cb fire;
  void *data;       /* the caller's */
  /* The wall clock in rb_time seconds; defaults to time(NULL). Tests may
   * replace it before the first rearm. */
  rb_time (*now)(rb_uvclock *c);
};
int rb_uvclock_init(uv_loop_t *loop, rb_uvclock *c, rb_timerq *q,
                    rb_uvclock_fire_cb fire);
int rb_uvclock_rearm(rb_uvclock *c);
void rb_uvclock_close(rb_uvclock *c, uv_close_cb cb);

/* ------------------------------------------------------------------ */
/* Engine: accounts, apps, packages, ledger                           */
/* ------------------------------------------------------------------ */

/* One line of a bill, per (app, tier), and per origin period for late
 * usage. minutes = covered + postpaid + unbilled. */
typedef struct rb_bill_line {
  int64_t app;
  int tier;
  bool late;
  rb_time origin; /* the original period's start, for late lines */
  int64_t minutes;
  int64_t covered;
  int64_t postpaid;
  int64_t unbilled;
  rb_money amount; /* postpaid x price / 1000, exact to 1e-8 */
} rb_bill_line;

typedef struct rb_bill {
  const char *id; /* "ACCOUNT/YYYY-MM-DD" or "ACCOUNT/YYYY-MM" */
  const char *account;
  rb_cycle cycle;
  rb_time period_start, period_end, issued_at;
  const rb_tariff *tariff;     /* currency, tier names, time zone */
  const char *rules_version;
  size_t nlines;
  const rb_bill_line *lines;
  rb_money total;          /* sum of amounts rounded half-up */
  rb_money precision_diff; /* total - sum of amounts */
  rb_money balance_after;
  bool arrears;            /* balance_after < 0 */
} rb_bill;

typedef enum {
  RB_N_TRIAL_GRANTED,
  RB_N_PACKAGE_ACTIVATED,
  RB_N_PACKAGE_EXHAUSTED,
  RB_N_PACKAGE_EXPIRED,
  RB_N_POSTPAID_ENABLED,
  RB_N_SERVICE_STOPPED,
  RB_N_SERVICE_RESUMED,
  RB_N_ARREARS_NOTICE,
  RB_N_ARREARS_CLEARED,
  RB_N_ACCOUNT_RECLAIMED,
  RB_N_BILL_ISSUED,
  RB_N_DUPLICATE_USAGE,
  RB_N_LATE_USAGE,
  RB_N_RULES_RELOADED,
  RB_N__COUNT
} rb_notice_type;
const char *rb_notice_type_name(rb_notice_type t);

typedef enum {
  RB_POSTPAID_CREATION,
  RB_POSTPAID_CONSOLE,
  RB_POSTPAID_AUTO
} rb_postpaid_reason;
const char *rb_postpaid_reason_name(rb_postpaid_reason r);

/* A notice. Optional members are NULL / 0 / -1 when they do not apply. */
typedef struct rb_notice {
  rb_notice_type type;
  rb_time at;
  const char *account;
  int64_t app;        /* 0 when not about one app (app ids are > 0) */
  const char *package;
  const char *bill;
  rb_money total;     /* bill_issued */
  const char *id;     /* usage id */
  int reason;         /* rb_stop_reason or rb_postpaid_reason, else -1 */
  int64_t forfeited;  /* package_expired, account_reclaimed; -1 if n/a */
  rb_money balance;   /* arrears_notice / arrears_cleared */
  const char *rules;  /* rules_reloaded: the new version id, else NULL */
} rb_notice;

/* The provenance of bill lines, for explaining them (rtcbill explain).
 * Each record names one accumulator: (account, app, tier, period, late).
 *   USAGE      a usage record added `seconds` to it; the running total is
 *              then `acc_seconds`, i.e. `minutes` billable minutes
 *   COVER      `package` covered `minutes` tier-minutes of it, using
 *              minutes x `factor` package minutes
 *   UNCOVERED  `minutes` went postpaid (`postpaid`) or unbilled
 *   RETRO      an activating `package` turned `minutes` postpaid (or
 *              unbilled, `postpaid` false) minutes into covered ones
 *   BILLED     the accumulator became a line of bill `bill`
 * Pointers live only during the call. */
typedef enum {
  RB_TRACE_USAGE,
  RB_TRACE_COVER,
  RB_TRACE_UNCOVERED,
  RB_TRACE_RETRO,
  RB_TRACE_BILLED
} rb_trace_type;

typedef struct rb_trace {
  rb_trace_type type;
  rb_time at;
  const char *account;
  int64_t app;
  int tier;
  bool late;
  rb_time period; /* the period's start (the origin for late ones) */
  const char *usage_id;
  int64_t seconds, acc_seconds;
  int64_t minutes;
  const char *package;
  int64_t factor;
  bool postpaid;
  const char *bill;
} rb_trace;

/* Where the engine's output goes. All are called synchronously; the
 * pointed-to data lives only during the call. A non-zero return aborts
 * the operation in progress and is returned to the engine's caller.
 * trace may be NULL (the usual case: tracing then costs nothing). */
typedef struct rb_sink {
  void *ctx;
  int (*bill)(void *ctx, const rb_bill *b);
  int (*notice)(void *ctx, const rb_notice *n);
  int (*trace)(void *ctx, const rb_trace *t);
} rb_sink;

typedef struct rb_engine rb_engine;

/* Creates an engine rating with `rules` (a reference is taken) and
 * writing to sink (copied). The virtual clock starts at RB_TIME_NONE.
 * Free with rb_engine_free (which drops the rules reference). */
int rb_engine_new(rb_rules *rules, const rb_sink *sink, rb_engine **out);
void rb_engine_free(rb_engine *e);

/* Result of rb_engine_apply besides RB_OK. */
#define RB_DUPLICATE 1

/* Applies one event at its effective time ev->at, which must not be
 * earlier than the engine's clock (RB_EINVAL). Timers due at or before
 * ev->at fire first. Returns RB_OK (accepted), RB_DUPLICATE (a usage
 * record seen before with the same content: noticed, counted once), or
 * RB_EREJECT with *rej filled, in which case the event changed nothing
 * (and the clock did not move). RB_ENOMEM: the event (or a timer due
 * before it) could not get memory and changed nothing; the same call may
 * be retried. Other negative codes (RB_EPOLICY: a rule failed, or a sink
 * error) may leave the event half-applied: the engine then refuses all
 * further work (rb_engine_last_error says why). */
int rb_engine_apply(rb_engine *e, const rb_event *ev, rb_reject *rej);

/* Running one input on several engines, each holding a share of the
 * accounts (rtcbill simulate --jobs), and merging their outputs as if
 * one engine had run needs a common order for timers that fall due at
 * the same instant with the same kind, which one engine orders by
 * insertion. After the first call of rb_engine_set_position the engine
 * numbers timers by position instead: a timer scheduled while applying
 * an event gets (position << 16) | n, n counting the event's timers from
 * 0, and one scheduled while a timer fires (an arrears grace or a
 * reclaim) takes the firing timer's number. The caller sets the
 * position before each rb_engine_apply: the event's rank in the time
 * order of the whole input (below 2^48), the same on every engine. */
void rb_engine_set_position(rb_engine *e, uint64_t position);

/* True while a timer fires (inside a sink callback), with *out (if not
 * NULL) set to it: what a merge orders outputs of timers by. */
bool rb_engine_firing(const rb_engine *e, rb_timer *out);

/* A hint that ev will be applied soon: fetches into the cache what
 * applying it will read, so that a caller feeding a long sorted list can
 * overlap those memory reads with work. In five stages, each reading
 * only what the one before fetched: stage 0 (some 16 events ahead) the
 * app's index slot and the event's strings and segments, stage 1 (12
 * ahead) the app and the usage id's slot, stage 2 (8 ahead) its account
 * and the app's latest accumulators, stages 3 and 4 (4 and 2 ahead) the
 * account's active packages. Changes nothing, cannot fail. */
void rb_engine_prefetch(const rb_engine *e, const rb_event *ev, int stage);

/* Moves the virtual clock to t, firing every timer due at or before t.
 * RB_ENOMEM leaves the clock at the last timer that fired; retry. */
int rb_engine_advance(rb_engine *e, rb_time t);

/* The engine's clock (RB_TIME_NONE before the first event). */
rb_time rb_engine_now(const rb_engine *e);

/* The latest issue time among bills that are due but not yet issued, or
 * RB_TIME_NONE: simulate runs to max(last event, this). */
rb_time rb_engine_settle_horizon(const rb_engine *e);

/* The message of the last RB_EPOLICY failure (a rule error). */
const char *rb_engine_last_error(const rb_engine *e);

/* The earliest pending timer's due time, or RB_TIME_NONE: a real-time
 * driver sleeps until then and calls rb_engine_advance. */
rb_time rb_engine_next_timer(const rb_engine *e);

/* A read-only view of one account (rb_engine_account). Strings and
 * arrays belong to the engine and stay valid until its next call. */
typedef struct rb_app_info {
  int64_t app;
  rb_time created;
  bool postpaid;
  unsigned stops; /* bit (1 << rb_stop_reason) per stop reason; 0: runs */
} rb_app_info;

typedef struct rb_package_info {
  const char *id;
  const char *kind;
  const char *state; /* pending, active, exhausted, expired, cleared */
  int64_t minutes, remaining;
  rb_money price;
  rb_time purchased, activates, expires;
} rb_package_info;

typedef struct rb_account_info {
  const char *id;
  rb_money balance;
  rb_time created;
  bool has_cycle; /* false until the first app decides it */
  rb_cycle cycle;
  rb_time daily_from; /* after a monthly -> daily switch, else NONE */
  bool in_arrears, stopped_for_arrears, reclaimed;
  size_t napps;
  const rb_app_info *apps; /* ascending app id */
  size_t npackages;
  const rb_package_info *packages; /* in purchase order */
  size_t open_periods; /* periods with usage waiting for their bill */
} rb_account_info;

/* Fills *out about account `id`: RB_OK, RB_ENOENT, RB_ENOMEM. */
int rb_engine_account(rb_engine *e, const char *id, rb_account_info *out);

/* A 64-bit digest of the engine's whole state (clock, accounts, open
 * accumulators, apps, packages, usage ids seen): two engines that were
 * fed the same events under the same rules have the same digest. */
uint64_t rb_engine_digest(const rb_engine *e);

/* Memory figures of an engine, for capacity planning and benchmarks.
 * Bytes count what the engine allocated for the purpose (arrays at their
 * current capacity, index tables, copied ids), not the allocator's own
 * overhead. Accumulator storage never shrinks, so acc_bytes is the
 * memory held at the high-water mark accs_peak. */
typedef struct rb_engine_stats {
  uint64_t usage_ids;   /* usage records remembered (ids seen) */
  uint64_t usage_bytes; /* records, id table and id text */
  uint64_t accs_live;   /* (app, tier, period) accumulators now open */
  uint64_t accs_peak;   /* the most ever open at once */
  uint64_t acc_bytes;   /* accumulator array, index, period lists */
} rb_engine_stats;

void rb_engine_stats_get(const rb_engine *e, rb_engine_stats *out);

/* ------------------------------------------------------------------ */
/* Estimate: the price calculator (SPEC 2 `estimate`, 1.4 catalogue)  */
/* ------------------------------------------------------------------ */

/* A month of interactive live rooms. Every room has the same shape. */
typedef struct rb_estimate_input {
  int64_t rooms;    /* live sessions a day, >= 1 */
  int64_t hosts;    /* per room, >= 1: each receives the other hosts */
  int64_t audience; /* per room, >= 0: each receives every host */
  int64_t minutes;  /* length of a session, 1..RB_ESTIMATE_MINUTES_MAX */
  int64_t days;     /* days in the month, 1..RB_ESTIMATE_DAYS_MAX */
  const char *tier; /* the video tier's name in the rules ("HD") */
} rb_estimate_input;

#define RB_ESTIMATE_MINUTES_MAX 1440 /* a session within one day */
#define RB_ESTIMATE_DAYS_MAX 31

typedef enum {
  RB_OFFER_NONE = 0, /* no single package of the catalogue covers */
  RB_OFFER_FIXED,    /* a listed package */
  RB_OFFER_CUSTOM    /* a custom size at its band's unit price */
} rb_offer_type;

/* One package of the catalogue, as offered for the need. */
typedef struct rb_offer {
  rb_offer_type type;
  int64_t thousands;     /* size in thousands of package minutes */
  rb_money per_thousand; /* custom: the band's unit price; fixed: 0 */
  rb_money price;        /* custom: rounded to the tariff's total_unit */
} rb_offer;

typedef enum {
  RB_CHEAPER_SAME = 0,
  RB_CHEAPER_POSTPAID,
  RB_CHEAPER_PREPAID
} rb_cheaper;
const char *rb_cheaper_name(rb_cheaper c); /* "same" / "postpaid" / ... */

typedef struct rb_estimate_result {
  int tier;                          /* index of the input's tier */
  int kind;                          /* the kind whose factors are used */
  int64_t room_minutes[RB_MAX_TIERS]; /* one room, one day, per tier */
  int64_t minutes[RB_MAX_TIERS];      /* the month, per tier */
  int64_t total_minutes;              /* the month, all tiers */
  int64_t package_minutes; /* the month's consumption of the kind */
  int64_t need_thousands;  /* package_minutes / 1000, rounded up */
  rb_money amounts[RB_MAX_TIERS]; /* postpaid per tier, exact to 1e-8 */
  rb_money postpaid;       /* their sum rounded to total_unit (a bill) */
  rb_offer exact;          /* custom of exactly need_thousands, or NONE */
  rb_offer prepaid;        /* the cheapest single package, or NONE */
  rb_cheaper cheaper;      /* postpaid when no package covers */
  rb_money saving;         /* how much the cheaper option saves, >= 0 */
  /* On failure: the input field at fault ("rooms", "tier", ...; the
   * quantity that grew too large for an overflow) and a sentence. */
  char field[32];
  char message[192];
} rb_estimate_result;

/* Estimates a month of rooms under the rule set r (SPEC 2 estimate):
 * minutes per tier at list price, the consumption of the catalogue's
 * package kind by its factors, and the cheapest single package of the
 * catalogue (a fixed one, a custom one of the need or one at a larger
 * band boundary; on equal prices the larger size, then custom). Exact
 * integer arithmetic throughout. Returns 0, or with out->field and
 * out->message set: RB_EINVAL (a count below its minimum, NULL input),
 * RB_ENOENT (no such tier), RB_ERANGE (minutes or days above the limit),
 * RB_EOVERFLOW (a result too large for 64 bits). */
int rb_estimate(const rb_rules *r, const rb_estimate_input *in,
                rb_estimate_result *out);

/* ------------------------------------------------------------------ */
/* Engine: changing the rules of a live engine (hot reload)           */
/* ------------------------------------------------------------------ */

/* Makes `rules` the engine's rule set from now on: a reference is taken
 * and the old set's reference dropped. The engine is single-threaded, so
 * the swap happens between two events: an event in progress finished on
 * the old rules, later cover and policy decisions use the new ones, and
 * every bill issued from now on is priced with them and names their
 * version (SPEC 1.10). Timers already scheduled (bill issue times, grace,
 * reclaim, package expiry and activation) keep the times they were
 * given.
 * The new set must be compatible with the live state: the same tier
 * names in the same order (accumulators are kept per tier), the same
 * currency and billing time zone (open periods were cut in it), and
 * every package kind a package of the engine has, at the same place in
 * the list, with the same `granted` flag. Otherwise RB_EINVAL is
 * returned with one line saying why in err (if cap > 0), and the engine
 * keeps its rules: such a change needs a fresh engine.
 * When the version differs and the clock has started, a rules_reloaded
 * notice with the new version goes to the sink. A failed engine refuses
 * with RB_EPOLICY. */
int rb_engine_set_rules(rb_engine *e, rb_rules *rules, char *err, size_t cap);

/* The engine's current rule set (not a new reference). */
rb_rules *rb_engine_rules(const rb_engine *e);

/* ------------------------------------------------------------------ */
/* JSON output (SPEC 3.3, 3.4)                                        */
/* ------------------------------------------------------------------ */

/* A growable byte buffer. Zero-initialise; free data with rb_buf_free. */
typedef struct rb_buf {
  char *data;
  size_t len;
  size_t cap;
} rb_buf;
int rb_buf_append(rb_buf *b, const char *s, size_t n); /* RB_ENOMEM */
int rb_buf_printf(rb_buf *b, const char *fmt, ...);
/* Appends s as a JSON string literal (quotes, escapes). */
int rb_buf_json_string(rb_buf *b, const char *s);
void rb_buf_free(rb_buf *b);

/* Append one JSON object and a '\n' (one JSON Lines record). Times are
 * written in the tariff's time zone (notices: tz_offset). */
int rb_bill_to_json(const rb_bill *bill, rb_buf *out);
int rb_notice_to_json(const rb_notice *n, int32_t tz_offset, rb_buf *out);
/* {"file":..,"line":..,"error":..,"field":..,"message":..}\n */
int rb_reject_to_json(const char *file, uint64_t line, const rb_reject *r,
                      rb_buf *out);

#ifdef __cplusplus
}
#endif

#endif /* RTCBILL_H */
