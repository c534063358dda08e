/* daemon_int.h: the daemon library's private pieces, shared between its
 * files: the store (store.c), rule sources (rules_src.c), the journal
 * replay (replay.c), the HTTP layer (http.c), the API (api.c), tokens
 * (auth.c), metrics (metrics.c) and the daemon itself (daemon.c).
 * Depends on: rtcbill.h, rtcbill_rules.h, libuv, SQLite 3, http-parser.
 */
#ifndef RTCBILL_DAEMON_INT_H
#define RTCBILL_DAEMON_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <http_parser.h>
#include <sqlite3.h>
#include <uv.h>

#include "rtcbill.h"
#include "rtcbill_daemon.h"
#include "rtcbill_rules.h"

/* ------------------------------------------------------------------ */
/* Rule sources: the five files, stored once per version               */
/* ------------------------------------------------------------------ */

#define RB__RULE_FILES 5
extern const char *const rb__rule_files[RB__RULE_FILES];

typedef struct rb__rules_src {
  char version[RB_VERSION_MAX];
  char *src[RB__RULE_FILES]; /* malloc'd, NUL-terminated */
  size_t len[RB__RULE_FILES];
} rb__rules_src;

/* Reads the five files of dir and computes their version id the way
 * the rules host does. 0 or -1 with err. */
int rb__rules_src_read(const char *dir, rb__rules_src *out, char *err,
                       size_t cap);
/* Loads rules from sources (written to a private temporary folder) and
 * checks that the loaded version is the recorded one. */
int rb__rules_src_load(const rb__rules_src *s, rb_rules **out, char *err,
                       size_t cap);
void rb__rules_src_free(rb__rules_src *s);

/* ------------------------------------------------------------------ */
/* Commit jobs                                                        */
/* ------------------------------------------------------------------ */

enum { RB__J_EVENT = 1, RB__J_ADVANCE = 2, RB__J_RULES = 3 };
enum { RB__OUT_ACCEPTED = 0, RB__OUT_DUPLICATE = 1 };

typedef struct rb__jrow {
  int kind;
  int64_t at;   /* the engine time it was applied at (RB_TIME_NONE: none) */
  int outcome;  /* events: RB__OUT_* */
  char *data;   /* event line, rules version, or NULL */
} rb__jrow;

typedef struct rb__out {
  int64_t seq;
  char *key;     /* bill id, or notice type */
  char *account;
  char *json;    /* one JSON object, no newline */
} rb__out;

struct rb__conn;
struct rb__reload_wait;

/* An Idempotency-Key has 1 to RB__IDEM_KEY_MAX visible ASCII characters;
 * a digest is 64 hex digits and a NUL. */
#define RB__IDEM_KEY_MAX 255
#define RB__IDEM_DIGEST_LEN 65

/* Everything one unit of work (a batch, a clock advance, a rules change)
 * gives the store, and the answer waiting for its commit. */
typedef struct rb__job {
  struct rb__job *next;
  rb__jrow *rows;
  size_t nrows, caprows;
  rb__out *bills;
  size_t nbills, capbills;
  rb__out *notices;
  size_t nnotices, capnotices;
  char **usage;
  size_t nusage, capusage;
  rb__rules_src *rules; /* sources to store (a new version), or NULL */
  uint64_t digest;      /* the engine's digest after the job */
  int64_t now;          /* the engine's clock after the job */
  char version[RB_VERSION_MAX];
  /* The reply, sent once committed. */
  struct rb__conn *conn;
  int status;
  rb_buf body;
  uint64_t t0_ns;
  bool is_batch;
  struct rb__reload_wait *waits; /* reload requests answered with it */
  /* Idempotency: the request's key (or NULL) and the SHA-256 of its
   * endpoint and body, stored with the answer in the job's transaction;
   * `replays` are the same request posted again before the commit,
   * answered with this job's answer. */
  char *idem_key;
  char idem_digest[RB__IDEM_DIGEST_LEN];
  struct rb__reload_wait *replays;
  uint64_t events; /* accepted + duplicate, for the metrics */
} rb__job;

rb__job *rb__job_new(void);
void rb__job_free(rb__job *j);
int rb__job_row(rb__job *j, int kind, int64_t at, int outcome,
                const char *data, size_t len);
int rb__job_usage(rb__job *j, const char *id);
int rb__job_out(rb__out **v, size_t *n, size_t *cap, int64_t seq,
                const char *key, const char *account, const char *json,
                size_t len);

/* ------------------------------------------------------------------ */
/* Store (SQLite)                                                     */
/* ------------------------------------------------------------------ */

typedef struct rb__store {
  sqlite3 *db;
  sqlite3_stmt *ins_journal, *ins_usage, *ins_bill, *ins_notice,
      *ins_rules, *upd_state, *ins_idem, *del_idem;
  int64_t idem_retention; /* seconds of engine time; 0: forever */
  uint64_t delay_ms;      /* tests only: hold each commit this long */
} rb__store;

typedef struct rb__state {
  bool present;
  int64_t journal_seq;
  uint64_t digest;
  int64_t now;
  char rules[RB_VERSION_MAX];
  int64_t bills, notices;
} rb__state;

/* Opens path for writing (creating it and the schema), WAL with
 * synchronous=FULL. 0 or -1 with err. */
int rb__store_open(rb__store *s, const char *path, char *err, size_t cap);
/* Commits the jobs of the list (in order) in one transaction. */
int rb__store_commit(rb__store *s, rb__job *list, char *err, size_t cap);
void rb__store_close(rb__store *s);

/* A read-only connection (the loop thread's, and verify's). */
int rb__store_open_read(const char *path, sqlite3 **out, char *err,
                        size_t cap);
int rb__store_state(sqlite3 *db, rb__state *st, char *err, size_t cap);
int rb__store_rules_src(sqlite3 *db, const char *version, rb__rules_src *out,
                        char *err, size_t cap);
/* Appends a JSON array of the bills of an account (or the one bill id
 * when account is NULL) to out; *found says whether there was any. */
int rb__store_bills_json(sqlite3 *db, const char *account, const char *id,
                         rb_buf *out, bool *found);
/* {"notices":[...],"next":N,"more":bool} after cursor, at most limit. */
int rb__store_notices_json(sqlite3 *db, int64_t after, int64_t limit,
                           rb_buf *out);
int64_t rb__store_count(sqlite3 *db, const char *sql);
/* The stored answer of an idempotency key applied at or after
 * not_before (engine time; INT64_MIN: any): *found, its body digest, the
 * status and the body appended to out. RB_OK, RB_EIO or RB_ENOMEM. */
int rb__store_idem_get(sqlite3 *db, const char *key, int64_t not_before,
                       bool *found, char digest[RB__IDEM_DIGEST_LEN],
                       int *status, rb_buf *out);

/* ------------------------------------------------------------------ */
/* Sink router and replay                                             */
/* ------------------------------------------------------------------ */

/* The engine's sink is fixed when it is created; the router lets the
 * same engine write first to the replay and then to the live daemon. */
typedef struct rb__router {
  void *ctx;
  int (*bill)(void *ctx, const rb_bill *b);
  int (*notice)(void *ctx, const rb_notice *n);
} rb__router;

rb_sink rb__router_sink(rb__router *r);

typedef struct rb__replay_stats {
  int64_t rows, events, duplicates, advances, rules_changes;
  int64_t bills, notices;
  int64_t mismatches;
} rb__replay_stats;

/* Replays the journal of db into a new engine writing to router (which
 * the replay points at itself while it runs). With `compare`, every
 * output and outcome is compared with the stored one; differences are
 * described on `report` (may be NULL) and counted. On success *engine is
 * the rebuilt engine (or NULL for an empty journal) and *rules its rule
 * set reference. Returns 0, or -1 with err. */
int rb__replay(sqlite3 *db, bool compare, FILE *report, rb__router *router,
               rb_engine **engine, rb__replay_stats *stats, char *err,
               size_t cap);

/* ------------------------------------------------------------------ */
/* Auth                                                               */
/* ------------------------------------------------------------------ */

/* The roles of the bearer token in an Authorization header value; 0 if
 * none matches. Constant time in the token's content. */
unsigned rb__auth_roles(const rb_daemon_config *c, const char *header);
bool rb__ct_equal(const char *a, size_t alen, const char *b, size_t blen);

/* ------------------------------------------------------------------ */
/* Metrics                                                            */
/* ------------------------------------------------------------------ */

#define RB__LAT_BUCKETS 12
typedef struct rb__metrics {
  uint64_t events_accepted, events_duplicate, events_rejected;
  uint64_t batches, http_requests, http_errors_4xx, http_errors_5xx;
  uint64_t lat_count, lat_sum_us;
  uint64_t lat_buckets[RB__LAT_BUCKETS + 1]; /* last: +Inf */
  uint64_t bills, notices;
  rb_money revenue;
  uint64_t reloads_ok, reloads_failed;
  int64_t timer_lag_ms;
  uint64_t timer_firings;
  uint64_t commits, commit_batches_max;
  uint64_t backpressure;
  uint64_t idem_replayed, idem_conflicts;
} rb__metrics;

void rb__metrics_latency(rb__metrics *m, uint64_t us);
int rb__metrics_text(const rb__metrics *m, const char *rules_version,
                     int64_t journal, size_t pending, rb_buf *out);

/* ------------------------------------------------------------------ */
/* HTTP                                                               */
/* ------------------------------------------------------------------ */

struct rb__daemon;

typedef struct rb__conn {
  uv_tcp_t tcp;
  uv_timer_t timer;
  uv_shutdown_t shutdown;
  http_parser parser;
  struct rb__daemon *d;
  struct rb__conn *prev, *next;
  rb_buf url, body;
  char field[32];
  size_t field_len;
  bool field_overflow, in_value, auth_overflow, expect_continue;
  int want; /* the header value being read: 1 auth, 2 expect, 3 key */
  char auth[RB_DAEMON_TOKEN_MAX + 16];
  size_t auth_len;
  /* Idempotency-Key: seen (even empty), too long or repeated (bad). */
  char idem[RB__IDEM_KEY_MAX + 1];
  size_t idem_len;
  bool idem_seen, idem_bad;
  bool started;   /* a request's first bytes came */
  bool busy;      /* a request is being answered */
  bool keep_alive;
  bool closing;
  bool lingering; /* answered and half-closed, dropping input */
  int handles;    /* open uv handles (tcp, timer) */
  int refs;       /* jobs still holding the connection */
  int err_status; /* an HTTP error found while parsing */
  char *rest;     /* bytes after a complete request (pipelining) */
  size_t rest_len;
  uint64_t t0_ns;
} rb__conn;

int rb__http_listen(struct rb__daemon *d, char *err, size_t cap);
/* Sends a response and goes on with the connection (keep-alive) or
 * closes it. body may be NULL. extra: more header lines, each ending
 * in \r\n, or NULL. */
void rb__http_respond(rb__conn *c, int status, const char *ctype,
                      const char *body, size_t len, const char *extra);
/* {"error":code,"message":message} */
void rb__http_error(rb__conn *c, int status, const char *code,
                    const char *message);
void rb__http_release(rb__conn *c); /* drops a job's reference */
void rb__http_close_all(struct rb__daemon *d, bool idle_only);

/* ------------------------------------------------------------------ */
/* The daemon                                                         */
/* ------------------------------------------------------------------ */

typedef struct rb__reload_wait {
  rb__conn *conn;
  struct rb__reload_wait *next;
} rb__reload_wait;

typedef struct rb__daemon {
  const rb_daemon_config *cfg;
  FILE *log;
  uv_loop_t loop;
  uv_tcp_t server;
  bool listening;
  uv_timer_t clock_timer;
  uv_signal_t sigterm, sigint;
  rb_lua_reloader reloader;
  bool reloader_on;
  uv_work_t work;
  rb__store store;      /* the writer's connection */
  sqlite3 *rdb;         /* the loop thread's read connection */
  rb__router router;
  rb_engine *engine;
  rb__job *cur;         /* the job the sink writes into */
  rb__job *pending, **pending_tail;
  size_t npending;
  rb__job *inflight;
  int commit_rc;
  char commit_err[512];
  int64_t bill_seq, notice_seq; /* the last used */
  int64_t journal_rows;
  rb_buf scratch;
  rb__metrics m;
  char rules_loaded_at[RB_TIME_STRLEN];
  rb__reload_wait *reload_waits;
  rb__conn *conns;
  size_t nconns;
  bool stopping;
  int exit_status;
  char port_str[16];
} rb__daemon;

/* ------------------------------------------------------------------ */
/* Idempotency keys (idem.c)                                          */
/* ------------------------------------------------------------------ */

/* SHA-256 of a then b, as 64 lower-case hex digits. */
void rb__sha256_hex(const void *a, size_t alen, const void *b, size_t blen,
                    char out[RB__IDEM_DIGEST_LEN]);
/* Reads the request's Idempotency-Key. Returns 1 when the request was
 * answered (a malformed key: 400); else 0, with *keyed and, when keyed,
 * the digest of endpoint and body. Call before the body is changed. */
int rb__idem_start(rb__conn *c, const char *endpoint, bool *keyed,
                   char digest[RB__IDEM_DIGEST_LEN]);
/* Looks the key up among the jobs waiting for the store, then in the
 * store. Returns 1 when the request was answered or will be (the stored
 * answer, a 409 for another body, the answer of the same request still
 * waiting for its commit), 0 when the key is new. */
int rb__idem_lookup(rb__daemon *d, rb__conn *c,
                    const char digest[RB__IDEM_DIGEST_LEN]);
/* Records the key in job j (stored with its answer). RB_OK/RB_ENOMEM. */
int rb__idem_record(rb__job *j, const rb__conn *c,
                    const char digest[RB__IDEM_DIGEST_LEN]);

/* Called by http.c for each complete request. */
void rb__api_dispatch(rb__daemon *d, rb__conn *c);
/* The API's work on the daemon (daemon.c). */
int rb__daemon_batch(rb__daemon *d, rb__conn *c, unsigned roles);
/* idem_digest: the request's (rb__idem_start), or NULL without a key. */
int rb__daemon_clock(rb__daemon *d, rb__conn *c, rb_time to, bool settle,
                     const char *idem_digest);
void rb__daemon_reload(rb__daemon *d, rb__conn *c);
void rb__daemon_fatal(rb__daemon *d, const char *what);
/* Hands a finished job to the writer (it is answered once durable). */
void rb__daemon_submit(rb__daemon *d, rb__job *j);
rb_time rb__daemon_wall(void);
uint64_t rb__now_ns(void);
int32_t rb__daemon_tz(const rb__daemon *d);

#endif /* RTCBILL_DAEMON_INT_H */
