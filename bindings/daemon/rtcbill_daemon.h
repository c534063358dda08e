/* rtcbill_daemon.h: the public API of the billing daemon library.
 *
 * The daemon runs one rtcbill engine (rtcbill.h) as a long-lived
 * service: an HTTP/1.1 JSON API on a libuv loop, a durable SQLite store
 * holding the journal of everything the engine was given (input events,
 * clock advances, rule changes) and the bills and notices it produced,
 * real-time timers, hot reload of the rules (rtcbill_rules.h) and a
 * graceful shutdown. `rtcbill serve` and `rtcbill verify` are thin
 * wrappers around rb_daemon_run and rb_daemon_verify; docs/operations.md
 * is the operator's guide.
 *
 * Depends on: rtcbill.h, rtcbill_rules.h, libuv, SQLite 3, http-parser.
 */
#ifndef RTCBILL_DAEMON_H
#define RTCBILL_DAEMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "rtcbill.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Roles a bearer token can carry (docs/operations.md, "Auth"). */
typedef enum {
  RB_ROLE_READ = 1,     /* GET the accounts, bills, notices, rules, metrics */
  RB_ROLE_INGEST = 2,   /* POST usage records */
  RB_ROLE_OPERATOR = 4  /* everything: all event types, reload, clock */
} rb_daemon_role;

#define RB_DAEMON_TOKENS_MAX 32
#define RB_DAEMON_TOKEN_MAX 256

typedef struct rb_daemon_token {
  unsigned role; /* one rb_daemon_role */
  char token[RB_DAEMON_TOKEN_MAX];
} rb_daemon_token;

/* The daemon's settings. rb_daemon_config_init fills the defaults;
 * rb_daemon_config_load reads a file over them. Strings are owned by the
 * struct (rb_daemon_config_free). */
typedef struct rb_daemon_config {
  char *host;            /* "127.0.0.1" */
  int port;              /* 8080; 0 picks a free port */
  char *db;              /* the SQLite file; required */
  char *rules;           /* the rules folder for a new store and reloads */
  bool test_clock;       /* clock = "test": time moves only by the API */
  bool watch_rules;      /* reload when the rules folder changes */
  size_t max_body;       /* bytes per request body (16 MiB) */
  size_t max_batch;      /* events per POST /v1/events (10000) */
  size_t max_pending;    /* batches waiting for their commit (64) */
  size_t max_conns;      /* open connections (256) */
  uint64_t request_timeout_ms; /* to receive one whole request (10 s) */
  uint64_t idle_timeout_ms;    /* keep-alive idle connection (60 s) */
  int64_t future_tolerance;    /* seconds an event may be ahead (300) */
  char *port_file;       /* if set, the bound port is written there */
  /* Idempotency keys are kept this long by the engine's clock (168
   * hours); 0 keeps them forever. */
  uint64_t idempotency_retention_hours;
  /* For tests only: each store commit is held this long first (0), so
   * that a test can fill the queue and see the backpressure. */
  uint64_t test_commit_delay_ms;
  size_t ntokens;
  rb_daemon_token tokens[RB_DAEMON_TOKENS_MAX];
} rb_daemon_config;

void rb_daemon_config_init(rb_daemon_config *c);
/* Reads `key = value` lines (docs/operations.md). Returns 0, or -1 with
 * "FILE:LINE: message" in err. */
int rb_daemon_config_load(rb_daemon_config *c, const char *path, char *err,
                          size_t cap);
/* Sets one key as if read from a file (command-line overrides). */
int rb_daemon_config_set(rb_daemon_config *c, const char *key,
                         const char *value, char *err, size_t cap);
void rb_daemon_config_free(rb_daemon_config *c);

/* Opens (or creates) the store, rebuilds the engine from its journal,
 * catches up with the clock, serves until SIGTERM or SIGINT and returns
 * the process exit status: 0 after a graceful shutdown, 1 when the store
 * or the engine failed (what was acknowledged is durable; a restart
 * replays the journal), 2 for a configuration error. Messages go to
 * `log`. Runs its own libuv loop; one daemon per process (it installs
 * signal handlers). */
int rb_daemon_run(const rb_daemon_config *c, FILE *log);

/* Replays the store's journal from scratch into a fresh engine and
 * compares every regenerated bill and notice, every event's outcome and
 * the final state digest with what is stored. Prints a summary to out.
 * Returns 0 (the store is consistent), 1 (a difference, described on
 * out) or 2 (the store cannot be read). */
int rb_daemon_verify(const char *db, FILE *out);

#ifdef __cplusplus
}
#endif

#endif /* RTCBILL_DAEMON_H */
