/* replay.c: rebuilding the engine from the store's journal.
 *
 * The journal is the daemon's source of truth: replaying it in order
 * into a fresh engine, with each event applied at the engine time
 * recorded for it, each clock advance and each rules change at its
 * place, gives back the exact engine the daemon had, because the engine
 * and the rules are deterministic. The daemon replays at start-up (and
 * checks the state digest); `rtcbill verify` replays with `compare` on,
 * which also matches every regenerated bill and notice, in order, with
 * the stored ones. The router lets the rebuilt engine's sink be pointed
 * at the live daemon afterwards.
 * Depends on: daemon_int.h, rtcbill.h, SQLite 3.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon_int.h"

/* A new arena after this many events bounds the replay's memory (the
 * engine copies what it keeps). */
#define ARENA_EVENTS 8192

static int route_bill(void *ctx, const rb_bill *b) {
  rb__router *r = ctx;
  return r->bill != NULL ? r->bill(r->ctx, b) : 0;
}

static int route_notice(void *ctx, const rb_notice *n) {
  rb__router *r = ctx;
  return r->notice != NULL ? r->notice(r->ctx, n) : 0;
}

rb_sink rb__router_sink(rb__router *r) {
  rb_sink s = {r, route_bill, route_notice, NULL};
  return s;
}

typedef struct replay {
  sqlite3 *db;
  bool compare;
  FILE *report;
  sqlite3_stmt *bcur, *ncur;
  rb__replay_stats *st;
  rb_engine *e;
  int64_t seq; /* the journal row being replayed */
  rb_buf buf;
  bool nomem;
} replay;

static void mismatch(replay *r, const char *what, int64_t seq,
                     const char *want, const char *got) {
  r->st->mismatches++;
  if (r->report != NULL && r->st->mismatches <= 20)
    fprintf(r->report,
            "journal row %" PRId64 ": %s %" PRId64 " differs\n"
            "  stored:   %s\n  replayed: %s\n",
            r->seq, what, seq, want ? want : "(none)", got);
}

/* Compares buf (one JSON line with its newline) with the next row of
 * cur. */
static void compare_next(replay *r, sqlite3_stmt *cur, const char *what,
                         int64_t n) {
  if (r->buf.len > 0 && r->buf.data[r->buf.len - 1] == '\n')
    r->buf.data[--r->buf.len] = '\0';
  if (sqlite3_step(cur) != SQLITE_ROW) {
    mismatch(r, what, n, NULL, r->buf.data);
    return;
  }
  const char *s = (const char *)sqlite3_column_text(cur, 0);
  size_t len = (size_t)sqlite3_column_bytes(cur, 0);
  if (s == NULL || len != r->buf.len || memcmp(s, r->buf.data, len) != 0)
    mismatch(r, what, n, s, r->buf.data);
}

static int on_bill(void *ctx, const rb_bill *b) {
  replay *r = ctx;
  r->st->bills++;
  if (!r->compare)
    return 0;
  r->buf.len = 0;
  if (rb_bill_to_json(b, &r->buf) != RB_OK) {
    r->nomem = true;
    return RB_ENOMEM;
  }
  compare_next(r, r->bcur, "bill", r->st->bills);
  return 0;
}

static int on_notice(void *ctx, const rb_notice *n) {
  replay *r = ctx;
  r->st->notices++;
  if (!r->compare)
    return 0;
  r->buf.len = 0;
  const rb_rules_data *rd = rb_rules_data_get(rb_engine_rules(r->e));
  if (rb_notice_to_json(n, rd->tariff.tz_offset, &r->buf) != RB_OK) {
    r->nomem = true;
    return RB_ENOMEM;
  }
  compare_next(r, r->ncur, "notice", r->st->notices);
  return 0;
}

static int rules_row(replay *r, rb__router *router, const char *version,
                     char *err, size_t cap) {
  rb__rules_src src;
  if (rb__store_rules_src(r->db, version, &src, err, cap) != 0)
    return -1;
  rb_rules *rules = NULL;
  int rc = rb__rules_src_load(&src, &rules, err, cap);
  rb__rules_src_free(&src);
  if (rc != 0)
    return -1;
  r->st->rules_changes++;
  if (r->e == NULL) {
    rb_sink sink = rb__router_sink(router);
    rc = rb_engine_new(rules, &sink, &r->e);
    rb_rules_unref(rules);
    if (rc != RB_OK) {
      snprintf(err, cap, "engine: %s", rb_strerror(rc));
      return -1;
    }
    return 0;
  }
  char why[256] = "";
  rc = rb_engine_set_rules(r->e, rules, why, sizeof why);
  rb_rules_unref(rules);
  if (rc != RB_OK) {
    snprintf(err, cap, "journal row %" PRId64 ": rules %s: %s", r->seq,
             version, why[0] ? why : rb_strerror(rc));
    return -1;
  }
  return 0;
}

static int event_row(replay *r, rb_arena *a, const char *line, size_t len,
                     int64_t at, int outcome, char *err, size_t cap) {
  rb_event ev;
  rb_reject rej;
  memset(&rej, 0, sizeof rej);
  int rc = rb_event_parse(a, line, len, &ev, &rej);
  if (rc != RB_OK) {
    snprintf(err, cap, "journal row %" PRId64 ": stored event does not "
             "parse: %s", r->seq, rej.message);
    return -1;
  }
  ev.at = at;
  rc = rb_engine_apply(r->e, &ev, &rej);
  int want = outcome == RB__OUT_DUPLICATE ? RB_DUPLICATE : RB_OK;
  if (rc < 0 && rc != RB_EREJECT) {
    snprintf(err, cap, "journal row %" PRId64 ": engine: %s", r->seq,
             rc == RB_EPOLICY ? rb_engine_last_error(r->e) : rb_strerror(rc));
    return -1;
  }
  r->st->events++;
  if (rc == RB_DUPLICATE)
    r->st->duplicates++;
  if (rc != want) {
    char got[300];
    snprintf(got, sizeof got, "%s%s",
             rc == RB_OK ? "accepted" : rc == RB_DUPLICATE ? "duplicate"
                                                           : "rejected: ",
             rc == RB_EREJECT ? rej.code : "");
    mismatch(r, "outcome of event", r->seq,
             outcome == RB__OUT_DUPLICATE ? "duplicate" : "accepted", got);
  }
  return 0;
}

int rb__replay(sqlite3 *db, bool compare, FILE *report, rb__router *router,
               rb_engine **engine, rb__replay_stats *stats, char *err,
               size_t cap) {
  replay r;
  memset(&r, 0, sizeof r);
  memset(stats, 0, sizeof *stats);
  r.db = db;
  r.compare = compare;
  r.report = report;
  r.st = stats;
  *engine = NULL;
  router->ctx = &r;
  router->bill = on_bill;
  router->notice = on_notice;
  sqlite3_stmt *j = NULL;
  rb_arena *arena = NULL;
  int status = -1;
  if (sqlite3_prepare_v2(db,
                         "SELECT seq, kind, at, outcome, data FROM journal "
                         "ORDER BY seq",
                         -1, &j, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2(db, "SELECT json FROM bills ORDER BY seq", -1,
                         &r.bcur, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2(db, "SELECT json FROM notices ORDER BY seq", -1,
                         &r.ncur, NULL) != SQLITE_OK) {
    snprintf(err, cap, "journal: %s", sqlite3_errmsg(db));
    goto done;
  }
  int step;
  int64_t in_arena = 0;
  while ((step = sqlite3_step(j)) == SQLITE_ROW) {
    r.seq = sqlite3_column_int64(j, 0);
    int kind = sqlite3_column_int(j, 1);
    int64_t at = sqlite3_column_type(j, 2) == SQLITE_NULL
                     ? RB_TIME_NONE
                     : sqlite3_column_int64(j, 2);
    int outcome = sqlite3_column_int(j, 3);
    const char *data = (const char *)sqlite3_column_text(j, 4);
    size_t len = (size_t)sqlite3_column_bytes(j, 4);
    stats->rows++;
    if (kind != RB__J_RULES && r.e == NULL) {
      snprintf(err, cap, "journal row %" PRId64 ": no rules before it",
               r.seq);
      goto done;
    }
    int rc = 0;
    if (kind == RB__J_RULES) {
      rc = rules_row(&r, router, data ? data : "", err, cap);
    } else if (kind == RB__J_ADVANCE) {
      stats->advances++;
      rc = rb_engine_advance(r.e, at);
      if (rc != RB_OK)
        snprintf(err, cap, "journal row %" PRId64 ": advance: %s", r.seq,
                 rc == RB_EPOLICY ? rb_engine_last_error(r.e)
                                  : rb_strerror(rc));
    } else if (kind == RB__J_EVENT && data != NULL) {
      if (arena == NULL || in_arena >= ARENA_EVENTS) {
        rb_arena_free(arena);
        in_arena = 0;
        if ((arena = rb_arena_new()) == NULL) {
          snprintf(err, cap, "replay: out of memory");
          goto done;
        }
      }
      in_arena++;
      rc = event_row(&r, arena, data, len, at, outcome, err, cap);
    } else {
      snprintf(err, cap, "journal row %" PRId64 ": unknown kind %d", r.seq,
               kind);
      rc = -1;
    }
    if (rc != 0)
      goto done;
    if (r.nomem) {
      snprintf(err, cap, "replay: out of memory");
      goto done;
    }
  }
  if (step != SQLITE_DONE) {
    snprintf(err, cap, "journal: %s", sqlite3_errmsg(db));
    goto done;
  }
  if (compare) {
    /* Stored outputs the replay did not produce are differences too. */
    int64_t extra = 0;
    while (sqlite3_step(r.bcur) == SQLITE_ROW)
      mismatch(&r, "stored bill beyond the replay", stats->bills + ++extra,
               (const char *)sqlite3_column_text(r.bcur, 0), "(none)");
    extra = 0;
    while (sqlite3_step(r.ncur) == SQLITE_ROW)
      mismatch(&r, "stored notice beyond the replay",
               stats->notices + ++extra,
               (const char *)sqlite3_column_text(r.ncur, 0), "(none)");
  }
  status = 0;
done:
  sqlite3_finalize(j);
  sqlite3_finalize(r.bcur);
  sqlite3_finalize(r.ncur);
  rb_arena_free(arena);
  rb_buf_free(&r.buf);
  router->ctx = NULL;
  router->bill = NULL;
  router->notice = NULL;
  if (status == 0)
    *engine = r.e;
  else
    rb_engine_free(r.e);
  return status;
}
