/* compare.h: the figures of `rtcbill compare`, shared by the run
 * (compare.c), the data files (compare_out.c) and the HTML report
 * (report.c).
 *
 * The same parsed events are rated under two rule sets, A and B (`side`
 * 0 and 1); each side's engine writes to sinks that tally per account,
 * per app and per tier. Tier names may differ between the sides, so
 * every minute count is kept under its own side's tier index. Money is
 * integer units of 1e-8 throughout, as everywhere in rtcbill.
 * Depends on: cli.h, rtcbill.h.
 */
#ifndef RTCBILL_CLI_COMPARE_H
#define RTCBILL_CLI_COMPARE_H

#include "cli.h"

#define CMP_NONE UINT32_MAX

typedef struct cmp_acct_side {
  rb_money total;  /* sum of its bill totals (what was charged) */
  rb_money amount; /* sum of its line amounts, exact */
  uint32_t bills;
  uint8_t cycles;  /* bit (1 << rb_cycle) for each bill's cycle */
  bool reclaimed;
  uint32_t arrears; /* arrears notices */
  cli_tier_minutes minutes[RB_MAX_TIERS];
} cmp_acct_side;

typedef struct cmp_account {
  const char *id;
  cmp_acct_side side[2];
  rb_money delta;       /* B total - A total */
  rb_money delta_exact; /* B amount - A amount */
  uint32_t app_begin, app_end; /* its apps in cmp.app_order */
} cmp_account;

typedef struct cmp_app_side {
  rb_money amount;
  int64_t minutes, postpaid, unbilled;
  uint8_t stops; /* bit (1 << rb_stop_reason) for each stop noticed */
  bool auto_postpaid;
} cmp_app_side;

typedef struct cmp_app {
  int64_t id;
  uint32_t account; /* index in cmp.accounts, CMP_NONE if unknown */
  cmp_app_side side[2];
} cmp_app;

typedef struct cmp_tier_total {
  cli_tier_minutes m;
  rb_money amount; /* sum of line amounts, exact */
} cmp_tier_total;

struct cmp;

typedef struct cmp_side {
  struct cmp *cmp;
  int which; /* 0 = A, 1 = B */
  const char *rules_dir;
  rb_rules *rules;
  const rb_rules_data *data;
  cli_rejects rejects; /* the engine's rejects (parse ones are shared) */
  uint64_t accepted, duplicates;
  uint64_t bills;
  rb_money revenue; /* sum of bill totals */
  rb_money amount;  /* sum of line amounts, exact */
  cmp_tier_total tiers[RB_MAX_TIERS];
  int rc;           /* the engine's failure, 0 if none */
  char error[512];  /* its message */
  bool progress;
} cmp_side;

typedef struct cmp {
  const char *out;
  const char *const *files;
  size_t nfiles;
  cli_events in;
  cmp_account *accounts; /* sorted by id */
  size_t naccounts;
  cmp_app *apps;         /* sorted by id */
  size_t napps;
  uint32_t *app_order;   /* app indexes by account, then id */
  uint32_t *acct_slots, *app_slots; /* open-addressing hash tables */
  size_t acct_mask, app_mask;
  cmp_side side[2];
  cli_shares *plan; /* the accounts in shares, or NULL: one engine */
  uint64_t elapsed_ns;
} cmp;

/* Index of an account / app, or CMP_NONE. */
uint32_t cmp_account_find(const cmp *c, const char *id);
uint32_t cmp_app_find(const cmp *c, int64_t id);

/* One policy outcome that differs between the sides for an account. */
typedef struct cmp_diff {
  const char *what; /* "service_stopped", "postpaid_auto", "cycle", ... */
  int64_t app;      /* 0 when it concerns the whole account */
  char a[48], b[48];
} cmp_diff;

#define CMP_DIFFS_MAX 16

/* Fills up to CMP_DIFFS_MAX differences of account i; returns how many
 * (*more receives how many did not fit). */
size_t cmp_differences(const cmp *c, size_t i, cmp_diff *out, size_t *more);

/* (b - a) / a as a percentage with 2 decimals, rounded half away from
 * zero with integers only ("12.35", "-100.00"). False, with "" in buf,
 * when a is 0 (no percentage exists). */
bool cmp_percent(rb_money a, rb_money b, char *buf, size_t cap);

/* The name of a cycle set ("monthly", "daily", "monthly+daily", "none")
 * and of a stop set ("none", "trial_exhausted+arrears"). */
void cmp_cycles_name(uint8_t cycles, char *buf, size_t cap);
void cmp_stops_name(uint8_t stops, char *buf, size_t cap);

/* compare_out.c: DIR/compare.json and DIR/compare.csv. Return 0 or an
 * errno value. */
int cmp_write_json(const cmp *c, const char *dir);
int cmp_write_csv(const cmp *c, const char *dir);
/* Writes buf to dir/name; 0 or an errno value. */
int cmp_write_file(const char *dir, const char *name, const rb_buf *b);

/* report.c: DIR/report.html; 0 or an errno value. */
int cmp_write_report(const cmp *c, const char *dir);

#endif /* RTCBILL_CLI_COMPARE_H */
