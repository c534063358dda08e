/* daemon.c: the billing daemon: one engine, its store and its clock.
 *
 * Everything that touches the engine runs on the loop thread, between
 * two callbacks: a batch of events, a clock advance (a real-time timer,
 * the catch-up at start-up, or the test clock), a rules change. Each of
 * them is a job: the journal rows and outputs it produced, handed to
 * the writer, which commits in the libuv thread pool. While a commit is
 * in flight later jobs wait and are committed together (group commit);
 * a batch is answered only once its job is durable. If a commit fails
 * the engine is ahead of the store: the daemon answers 503, stops and
 * exits non-zero, and a restart replays the journal (replay.c). Start-up
 * rebuilds the engine from the journal, checks the stored digest and
 * fires the timers missed while down, in order and once.
 * Depends on: daemon_int.h, rtcbill.h, rtcbill_rules.h, libuv.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon_int.h"

uint64_t rb__now_ns(void) { return uv_hrtime(); }

rb_time rb__daemon_wall(void) { return (rb_time)time(NULL); }

static int64_t wall_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int32_t rb__daemon_tz(const rb__daemon *d) {
  return rb_rules_data_get(rb_engine_rules(d->engine))->tariff.tz_offset;
}

static const char *version_of(const rb__daemon *d) {
  return rb_rules_data_get(rb_engine_rules(d->engine))->version;
}

/* ------------------------------------------------------------------ */
/* The live sink: outputs go into the current job                     */
/* ------------------------------------------------------------------ */

static int take_json(rb__daemon *d) {
  if (d->scratch.len > 0 && d->scratch.data[d->scratch.len - 1] == '\n')
    d->scratch.data[--d->scratch.len] = '\0';
  return RB_OK;
}

static int live_bill(void *ctx, const rb_bill *b) {
  rb__daemon *d = ctx;
  rb__job *j = d->cur;
  if (j == NULL)
    return RB_ESTATE;
  d->scratch.len = 0;
  int rc = rb_bill_to_json(b, &d->scratch);
  if (rc != RB_OK)
    return rc;
  take_json(d);
  rc = rb__job_out(&j->bills, &j->nbills, &j->capbills, d->bill_seq + 1,
                   b->id, b->account, d->scratch.data, d->scratch.len);
  if (rc != RB_OK)
    return rc;
  d->bill_seq++;
  d->m.bills++;
  rb_money sum;
  if (rb_money_add(d->m.revenue, b->total, &sum) == RB_OK)
    d->m.revenue = sum;
  return RB_OK;
}

static int live_notice(void *ctx, const rb_notice *n) {
  rb__daemon *d = ctx;
  rb__job *j = d->cur;
  if (j == NULL)
    return RB_ESTATE;
  d->scratch.len = 0;
  int rc = rb_notice_to_json(n, rb__daemon_tz(d), &d->scratch);
  if (rc != RB_OK)
    return rc;
  take_json(d);
  rc = rb__job_out(&j->notices, &j->nnotices, &j->capnotices,
                   d->notice_seq + 1, rb_notice_type_name(n->type),
                   n->account, d->scratch.data, d->scratch.len);
  if (rc != RB_OK)
    return rc;
  d->notice_seq++;
  d->m.notices++;
  return RB_OK;
}

/* ------------------------------------------------------------------ */
/* Shutdown                                                           */
/* ------------------------------------------------------------------ */

static void answer_reload_waits(rb__daemon *d, int status, const char *body);

static void on_handle_closed(uv_handle_t *h) { (void)h; }

static void begin_shutdown(rb__daemon *d, int status) {
  if (status > d->exit_status)
    d->exit_status = status;
  if (d->stopping)
    return;
  d->stopping = true;
  fprintf(d->log, "rtcbill serve: shutting down\n");
  fflush(d->log);
  if (d->listening) {
    uv_close((uv_handle_t *)&d->server, on_handle_closed);
    d->listening = false;
  }
  uv_close((uv_handle_t *)&d->clock_timer, on_handle_closed);
  uv_close((uv_handle_t *)&d->sigterm, on_handle_closed);
  uv_close((uv_handle_t *)&d->sigint, on_handle_closed);
  if (d->reloader_on) {
    rb_lua_reloader_close(&d->reloader, NULL);
    d->reloader_on = false;
  }
  answer_reload_waits(d, 503, "{\"error\":\"unavailable\","
                              "\"message\":\"shutting down\"}\n");
  /* Connections waiting for a commit stay until it is answered (with
   * Connection: close); the others close now. */
  rb__http_close_all(d, false);
}

void rb__daemon_fatal(rb__daemon *d, const char *what) {
  fprintf(d->log, "rtcbill serve: fatal: %s\n", what);
  begin_shutdown(d, 1);
}

static void on_signal(uv_signal_t *s, int signum) {
  rb__daemon *d = s->data;
  fprintf(d->log, "rtcbill serve: signal %d\n", signum);
  begin_shutdown(d, 0);
}

/* ------------------------------------------------------------------ */
/* The writer: group commit in the thread pool                        */
/* ------------------------------------------------------------------ */

static void kick(rb__daemon *d);
static void arm_clock(rb__daemon *d);

static void commit_work(uv_work_t *w) {
  rb__daemon *d = w->data;
  d->commit_rc =
      rb__store_commit(&d->store, d->inflight, d->commit_err,
                       sizeof d->commit_err);
}

/* The same keyed request, posted again while j waited for its commit,
 * gets j's answer (idem.c). */
static void answer_replays(rb__job *j, bool ok) {
  rb__reload_wait *w = j->replays;
  j->replays = NULL;
  while (w != NULL) {
    rb__reload_wait *next = w->next;
    if (ok)
      rb__http_respond(w->conn, j->status, "application/json",
                       j->body.data, j->body.len,
                       j->status == 503 ? "Idempotent-Replayed: true\r\n"
                                          "Retry-After: 1\r\n"
                                        : "Idempotent-Replayed: true\r\n");
    else
      rb__http_error(w->conn, 503, "store_failed",
                     "the store could not commit; retry after the restart");
    rb__http_release(w->conn);
    free(w);
    w = next;
  }
}

static void finish_reply(rb__daemon *d, rb__job *j, bool ok) {
  answer_replays(j, ok);
  if (j->waits != NULL) {
    rb__reload_wait *w = j->waits;
    j->waits = NULL;
    rb__reload_wait *saved = d->reload_waits;
    d->reload_waits = w;
    answer_reload_waits(d, ok ? j->status : 503,
                        ok ? j->body.data
                           : "{\"error\":\"store_failed\",\"message\":"
                             "\"the store could not commit\"}\n");
    d->reload_waits = saved;
  }
  if (j->conn == NULL)
    return;
  if (ok) {
    rb__http_respond(j->conn, j->status, "application/json", j->body.data,
                     j->body.len,
                     j->status == 503 ? "Retry-After: 1\r\n" : NULL);
    if (j->is_batch) {
      d->m.batches++;
      rb__metrics_latency(&d->m, (rb__now_ns() - j->t0_ns) / 1000u);
    }
  } else {
    rb__http_error(j->conn, 503, "store_failed",
                   "the store could not commit; retry after the restart");
  }
  rb__http_release(j->conn);
  j->conn = NULL;
}

static void commit_done(uv_work_t *w, int status) {
  rb__daemon *d = w->data;
  rb__job *list = d->inflight;
  d->inflight = NULL;
  bool ok = status == 0 && d->commit_rc == 0;
  d->m.commits++;
  if (!ok) {
    fprintf(d->log, "rtcbill serve: commit failed: %s\n",
            status != 0 ? uv_strerror(status) : d->commit_err);
    /* Later jobs build on the lost ones: none of them can be stored. */
    rb__job **tail = &list;
    while (*tail != NULL)
      tail = &(*tail)->next;
    *tail = d->pending;
    d->pending = NULL;
    d->pending_tail = &d->pending;
    d->npending = 0;
  }
  while (list != NULL) {
    rb__job *j = list;
    list = j->next;
    if (ok)
      d->journal_rows += (int64_t)j->nrows;
    finish_reply(d, j, ok);
    rb__job_free(j);
  }
  if (!ok)
    begin_shutdown(d, 1);
  else
    kick(d);
}

static void kick(rb__daemon *d) {
  if (d->inflight != NULL || d->pending == NULL)
    return;
  d->inflight = d->pending;
  d->pending = NULL;
  d->pending_tail = &d->pending;
  d->npending = 0;
  d->work.data = d;
  int rc = uv_queue_work(&d->loop, &d->work, commit_work, commit_done);
  if (rc != 0) {
    d->commit_rc = -1;
    snprintf(d->commit_err, sizeof d->commit_err, "%s", uv_strerror(rc));
    commit_done(&d->work, 0);
  }
}

static rb__job *begin_job(rb__daemon *d) {
  rb__job *j = rb__job_new();
  d->cur = j;
  return j;
}

void rb__daemon_submit(rb__daemon *d, rb__job *j) {
  d->cur = NULL;
  j->digest = rb_engine_digest(d->engine);
  j->now = rb_engine_now(d->engine);
  snprintf(j->version, sizeof j->version, "%s", version_of(d));
  j->next = NULL;
  *d->pending_tail = j;
  d->pending_tail = &j->next;
  d->npending++;
  kick(d);
  arm_clock(d);
}

/* Drops a job whose work failed before it changed the engine. */
static void drop_job(rb__daemon *d, rb__job *j) {
  d->cur = NULL;
  if (j->conn != NULL)
    rb__http_release(j->conn);
  rb__job_free(j);
}

/* ------------------------------------------------------------------ */
/* Clock                                                              */
/* ------------------------------------------------------------------ */

/* Advances the engine to t inside job j and journals it. */
static int advance_in(rb__daemon *d, rb__job *j, rb_time t) {
  rb_time now = rb_engine_now(d->engine);
  if (now != RB_TIME_NONE && t <= now)
    return RB_OK;
  int rc = rb_engine_advance(d->engine, t);
  if (rc == RB_ENOMEM)
    rc = rb_engine_advance(d->engine, t);
  if (rc == RB_OK)
    rc = rb__job_row(j, RB__J_ADVANCE, t, 0, NULL, 0);
  return rc;
}

static void engine_failed(rb__daemon *d, rb__job *j, int rc) {
  char msg[512];
  snprintf(msg, sizeof msg, "engine: %s",
           rc == RB_EPOLICY && rb_engine_last_error(d->engine) != NULL
               ? rb_engine_last_error(d->engine)
               : rb_strerror(rc));
  if (j != NULL && j->conn != NULL)
    rb__http_error(j->conn, 500, "engine_failed", msg);
  if (j != NULL)
    drop_job(d, j);
  rb__daemon_fatal(d, msg);
}

static void on_clock(uv_timer_t *t) {
  rb__daemon *d = t->data;
  if (d->stopping)
    return;
  rb_time next = rb_engine_next_timer(d->engine);
  int64_t ms = wall_ms();
  rb_time now = (rb_time)(ms / 1000);
  if (next == RB_TIME_NONE || next > now) {
    arm_clock(d);
    return;
  }
  d->m.timer_lag_ms = ms - next * 1000 > 0 ? ms - next * 1000 : 0;
  d->m.timer_firings++;
  rb__job *j = begin_job(d);
  int rc = advance_in(d, j, now);
  if (rc != RB_OK) {
    engine_failed(d, j, rc);
    return;
  }
  rb__daemon_submit(d, j);
}

static void arm_clock(rb__daemon *d) {
  if (d->cfg->test_clock || d->stopping || d->engine == NULL)
    return;
  rb_time next = rb_engine_next_timer(d->engine);
  if (next == RB_TIME_NONE) {
    uv_timer_stop(&d->clock_timer);
    return;
  }
  int64_t now = wall_ms(), due = next * 1000;
  uint64_t delay = due > now ? (uint64_t)(due - now) : 0;
  uv_timer_start(&d->clock_timer, on_clock, delay, 0);
}

int rb__daemon_clock(rb__daemon *d, rb__conn *c, rb_time to, bool settle,
                     const char *idem_digest) {
  rb__job *j = begin_job(d);
  if (j == NULL || (idem_digest != NULL &&
                    rb__idem_record(j, c, idem_digest) != RB_OK)) {
    d->cur = NULL;
    rb__job_free(j);
    rb__http_error(c, 503, "unavailable", "out of memory");
    return 0;
  }
  j->conn = c;
  c->refs++;
  rb_time now = rb_engine_now(d->engine);
  int rc = RB_OK;
  if (settle) {
    /* Like the end of `rtcbill simulate`: on until every period with
     * usage is billed (settling can make another period due). */
    for (;;) {
      rb_time target = rb_engine_now(d->engine);
      rb_time h = rb_engine_settle_horizon(d->engine);
      if (h == RB_TIME_NONE || (target != RB_TIME_NONE && h <= target))
        break;
      if ((rc = advance_in(d, j, h)) != RB_OK)
        break;
    }
  } else if (now != RB_TIME_NONE && to < now) {
    drop_job(d, j);
    rb__http_error(c, 409, "clock_backwards",
                   "the clock cannot go back");
    return 0;
  } else {
    rc = advance_in(d, j, to);
  }
  if (rc != RB_OK) {
    engine_failed(d, j, rc);
    return 0;
  }
  char buf[RB_TIME_STRLEN] = "null";
  now = rb_engine_now(d->engine);
  if (now != RB_TIME_NONE)
    rb_time_format(now, rb__daemon_tz(d), buf, sizeof buf);
  j->status = 200;
  rb_buf_printf(&j->body, "{\"now\":\"%s\"}\n", buf);
  rb__daemon_submit(d, j);
  return 0;
}

/* ------------------------------------------------------------------ */
/* Rules                                                              */
/* ------------------------------------------------------------------ */

static void answer_reload_waits(rb__daemon *d, int status, const char *body) {
  rb__reload_wait *w = d->reload_waits;
  d->reload_waits = NULL;
  while (w != NULL) {
    rb__reload_wait *next = w->next;
    rb__http_respond(w->conn, status, "application/json", body,
                     strlen(body), NULL);
    rb__http_release(w->conn);
    free(w);
    w = next;
  }
}

static void reload_failed(rb__daemon *d, int status, const char *code,
                          const char *msg) {
  d->m.reloads_failed++;
  fprintf(d->log, "rtcbill serve: rules reload failed, old rules kept: %s\n",
          msg);
  rb_buf b = {0};
  rb_buf_printf(&b, "{\"error\":\"%s\",\"message\":", code);
  rb_buf_json_string(&b, msg);
  rb_buf_printf(&b, ",\"version\":\"%s\"}\n", version_of(d));
  answer_reload_waits(d, status, b.data != NULL ? b.data : "{}\n");
  rb_buf_free(&b);
}

static void on_reload(rb_lua_reloader *r, int status, rb_rules *rules,
                      const char *error) {
  rb__daemon *d = r->data;
  if (d->stopping) {
    if (rules != NULL)
      rb_rules_unref(rules);
    return;
  }
  if (status != RB_OK) {
    reload_failed(d, 422, "rules_invalid", error ? error : "load failed");
    return;
  }
  /* A copy: the rules may be freed before the version is used. */
  char version[RB_VERSION_MAX];
  snprintf(version, sizeof version, "%s", rb_rules_data_get(rules)->version);
  rb__rules_src *src = calloc(1, sizeof *src);
  char err[512];
  if (src == NULL ||
      rb__rules_src_read(d->cfg->rules, src, err, sizeof err) != 0) {
    free(src);
    rb_rules_unref(rules);
    reload_failed(d, 422, "rules_invalid", err);
    return;
  }
  if (strcmp(src->version, version) != 0) {
    /* The folder changed after the load: load what is there now. */
    rb__rules_src_free(src);
    free(src);
    rb_rules_unref(rules);
    rb_lua_reloader_request(&d->reloader);
    return;
  }
  if (strcmp(version, version_of(d)) == 0) {
    rb__rules_src_free(src);
    free(src);
    rb_rules_unref(rules);
    char body[128];
    snprintf(body, sizeof body, "{\"version\":\"%s\",\"changed\":false}\n",
             version);
    answer_reload_waits(d, 200, body);
    return;
  }
  rb__job *j = begin_job(d);
  int rc = rb_engine_set_rules(d->engine, rules, err, sizeof err);
  rb_rules_unref(rules);
  if (rc == RB_EINVAL) {
    drop_job(d, j);
    rb__rules_src_free(src);
    free(src);
    reload_failed(d, 409, "rules_incompatible", err);
    return;
  }
  j->rules = src;
  if (rc != RB_OK ||
      (rc = rb__job_row(j, RB__J_RULES, rb_engine_now(d->engine), 0,
                        version, strlen(version))) != RB_OK) {
    engine_failed(d, j, rc);
    return;
  }
  d->m.reloads_ok++;
  rb_time_format(rb__daemon_wall(), rb__daemon_tz(d), d->rules_loaded_at,
                 sizeof d->rules_loaded_at);
  fprintf(d->log, "rtcbill serve: rules %s in force\n", version);
  j->status = 200;
  rb_buf_printf(&j->body, "{\"version\":\"%s\",\"changed\":true}\n",
                version);
  j->waits = d->reload_waits;
  d->reload_waits = NULL;
  rb__daemon_submit(d, j);
}

void rb__daemon_reload(rb__daemon *d, rb__conn *c) {
  if (!d->reloader_on) {
    rb__http_error(c, 409, "no_rules_dir",
                   "the daemon was started without a rules folder");
    return;
  }
  rb__reload_wait *w = calloc(1, sizeof *w);
  if (w == NULL) {
    rb__http_error(c, 503, "unavailable", "out of memory");
    return;
  }
  w->conn = c;
  c->refs++;
  w->next = d->reload_waits;
  d->reload_waits = w;
  rb_lua_reloader_request(&d->reloader);
}

/* ------------------------------------------------------------------ */
/* Start-up: open, replay, catch up, listen                           */
/* ------------------------------------------------------------------ */

/* A new store: the rules folder's set is the journal's first row. */
static int start_fresh(rb__daemon *d, char *err, size_t cap) {
  if (d->cfg->rules == NULL) {
    snprintf(err, cap, "a new store needs a rules folder (rules = DIR)");
    return -1;
  }
  rb__rules_src *src = calloc(1, sizeof *src);
  if (src == NULL ||
      rb__rules_src_read(d->cfg->rules, src, err, cap) != 0) {
    free(src);
    return -1;
  }
  rb_rules *rules = NULL;
  if (rb__rules_src_load(src, &rules, err, cap) != 0) {
    rb__rules_src_free(src);
    free(src);
    return -1;
  }
  rb_sink sink = rb__router_sink(&d->router);
  int rc = rb_engine_new(rules, &sink, &d->engine);
  rb_rules_unref(rules);
  rb__job *j = rb__job_new();
  if (rc != RB_OK || j == NULL) {
    rb__rules_src_free(src);
    free(src);
    rb__job_free(j);
    snprintf(err, cap, "engine: %s", rb_strerror(rc ? rc : RB_ENOMEM));
    return -1;
  }
  j->rules = src;
  rc = rb__job_row(j, RB__J_RULES, RB_TIME_NONE, 0, src->version,
                   strlen(src->version));
  j->digest = rb_engine_digest(d->engine);
  snprintf(j->version, sizeof j->version, "%s", src->version);
  if (rc != RB_OK || rb__store_commit(&d->store, j, err, cap) != 0) {
    if (rc != RB_OK)
      snprintf(err, cap, "out of memory");
    rb__job_free(j);
    return -1;
  }
  d->journal_rows = 1;
  rb__job_free(j);
  fprintf(d->log, "rtcbill serve: new store with rules %s\n",
          version_of(d));
  return 0;
}

static int start_replay(rb__daemon *d, char *err, size_t cap) {
  rb__state st;
  if (rb__store_state(d->rdb, &st, err, cap) != 0)
    return -1;
  rb__replay_stats rs;
  uint64_t t0 = rb__now_ns();
  if (rb__replay(d->rdb, false, NULL, &d->router, &d->engine, &rs, err,
                 cap) != 0)
    return -1;
  if (d->engine == NULL) {
    snprintf(err, cap, "the store's journal has no rules");
    return -1;
  }
  uint64_t digest = rb_engine_digest(d->engine);
  if (!st.present || digest != st.digest || rs.bills != st.bills ||
      rs.notices != st.notices) {
    snprintf(err, cap,
             "the journal does not reproduce the stored state (digest "
             "%016" PRIx64 " against %016" PRIx64 ", %" PRId64
             " bills against %" PRId64 "): run rtcbill verify",
             digest, st.digest, rs.bills, st.bills);
    return -1;
  }
  d->journal_rows = rs.rows;
  d->bill_seq = rb__store_count(d->rdb, "SELECT coalesce(max(seq),0) "
                                        "FROM bills");
  d->notice_seq = rb__store_count(d->rdb, "SELECT coalesce(max(seq),0) "
                                          "FROM notices");
  fprintf(d->log,
          "rtcbill serve: replayed %" PRId64 " journal rows (%" PRId64
          " events, %" PRId64 " advances, %" PRId64 " rules) in %" PRIu64
          " ms, rules %s\n",
          rs.rows, rs.events, rs.advances, rs.rules_changes,
          (rb__now_ns() - t0) / 1000000u, version_of(d));
  return 0;
}

/* The timers missed while the daemon was down fire now, in order, each
 * once: the advance is journaled like any other. */
static int catch_up(rb__daemon *d) {
  rb_time wall = rb__daemon_wall();
  rb_time now = rb_engine_now(d->engine);
  if (now != RB_TIME_NONE && wall <= now)
    return 0;
  uint64_t bills = d->m.bills;
  rb__job *j = begin_job(d);
  int rc = advance_in(d, j, wall);
  if (rc != RB_OK) {
    engine_failed(d, j, rc);
    return -1;
  }
  if (now != RB_TIME_NONE)
    fprintf(d->log, "rtcbill serve: caught up %" PRId64 " s, %" PRIu64
            " bills issued\n", wall - now, d->m.bills - bills);
  rb__daemon_submit(d, j);
  return 0;
}

static void close_walk(uv_handle_t *h, void *arg) {
  (void)arg;
  if (!uv_is_closing(h))
    uv_close(h, NULL);
}

static int setup(rb__daemon *d, char *err, size_t cap) {
  const rb_daemon_config *c = d->cfg;
  if (c->db == NULL) {
    snprintf(err, cap, "no store: set db = FILE (or --db FILE)");
    return 2;
  }
  if (c->ntokens == 0) {
    snprintf(err, cap, "no tokens: set token.read, token.ingest and "
             "token.operator in the configuration file");
    return 2;
  }
  if (rb__store_open(&d->store, c->db, err, cap) != 0 ||
      rb__store_open_read(c->db, &d->rdb, err, cap) != 0)
    return 1;
  d->store.idem_retention = (int64_t)c->idempotency_retention_hours * 3600;
  d->store.delay_ms = c->test_commit_delay_ms;
  int64_t rows = rb__store_count(d->rdb, "SELECT count(*) FROM journal");
  if (rows < 0) {
    snprintf(err, cap, "%s: %s", c->db, sqlite3_errmsg(d->rdb));
    return 1;
  }
  if ((rows == 0 ? start_fresh(d, err, cap) : start_replay(d, err, cap)) != 0)
    return 1;
  d->router.ctx = d;
  d->router.bill = live_bill;
  d->router.notice = live_notice;
  rb_time_format(rb__daemon_wall(), rb__daemon_tz(d), d->rules_loaded_at,
                 sizeof d->rules_loaded_at);

  uv_timer_init(&d->loop, &d->clock_timer);
  d->clock_timer.data = d;
  uv_signal_init(&d->loop, &d->sigterm);
  uv_signal_init(&d->loop, &d->sigint);
  d->sigterm.data = d->sigint.data = d;
  uv_signal_start(&d->sigterm, on_signal, SIGTERM);
  uv_signal_start(&d->sigint, on_signal, SIGINT);
  if (c->rules != NULL) {
    unsigned flags = RB_LUA_RELOAD_SIGHUP |
                     (c->watch_rules ? RB_LUA_RELOAD_WATCH : 0u);
    if (rb_lua_reloader_init(&d->loop, &d->reloader, c->rules, flags,
                             on_reload) != RB_OK) {
      snprintf(err, cap, "%s: cannot watch the rules folder", c->rules);
      return 1;
    }
    /* Set after init, which clears the struct. */
    d->reloader.data = d;
    d->reloader_on = true;
  }
  if (!c->test_clock && catch_up(d) != 0) {
    snprintf(err, cap, "catch-up failed");
    return 1;
  }
  if (rb__http_listen(d, err, cap) != 0)
    return 1;
  /* The rules folder is what should be in force: if it changed while
   * the daemon was down, load it now (a rules change like any other). */
  if (d->reloader_on && rows > 0)
    rb_lua_reloader_request(&d->reloader);
  arm_clock(d);
  return 0;
}

int rb_daemon_run(const rb_daemon_config *c, FILE *log) {
  rb__daemon *d = calloc(1, sizeof *d);
  if (d == NULL) {
    fprintf(log, "rtcbill serve: out of memory\n");
    return 1;
  }
  d->cfg = c;
  d->log = log;
  d->pending_tail = &d->pending;
  signal(SIGPIPE, SIG_IGN);
  if (uv_loop_init(&d->loop) != 0) {
    fprintf(log, "rtcbill serve: cannot start the event loop\n");
    free(d);
    return 1;
  }
  char err[1024] = "";
  int status = setup(d, err, sizeof err);
  if (status != 0) {
    fprintf(log, "rtcbill serve: %s\n", err);
    d->exit_status = status;
    if (!d->stopping) {
      d->stopping = true;
      if (d->reloader_on)
        rb_lua_reloader_close(&d->reloader, NULL);
      uv_walk(&d->loop, close_walk, NULL);
    }
  }
  uv_run(&d->loop, UV_RUN_DEFAULT);
  /* Anything left open (a failed start) is closed here. */
  uv_walk(&d->loop, close_walk, NULL);
  uv_run(&d->loop, UV_RUN_DEFAULT);
  uv_loop_close(&d->loop);
  while (d->pending != NULL) {
    rb__job *j = d->pending;
    d->pending = j->next;
    rb__job_free(j);
  }
  rb_engine_free(d->engine);
  rb__store_close(&d->store);
  if (d->rdb != NULL)
    sqlite3_close(d->rdb);
  rb_buf_free(&d->scratch);
  status = d->exit_status;
  if (status == 0)
    fprintf(log, "rtcbill serve: stopped\n");
  free(d);
  return status;
}

/* ------------------------------------------------------------------ */
/* verify                                                             */
/* ------------------------------------------------------------------ */

int rb_daemon_verify(const char *db, FILE *out) {
  sqlite3 *rdb = NULL;
  char err[1024];
  if (rb__store_open_read(db, &rdb, err, sizeof err) != 0) {
    fprintf(out, "verify: %s\n", err);
    return 2;
  }
  rb__state st;
  if (rb__store_state(rdb, &st, err, sizeof err) != 0 || !st.present) {
    fprintf(out, "verify: %s: %s\n", db, st.present ? err : "no state row");
    sqlite3_close(rdb);
    return 2;
  }
  rb__router router = {0};
  rb_engine *e = NULL;
  rb__replay_stats rs;
  if (rb__replay(rdb, true, out, &router, &e, &rs, err, sizeof err) != 0) {
    fprintf(out, "verify: %s\n", err);
    sqlite3_close(rdb);
    return 1;
  }
  uint64_t digest = e != NULL ? rb_engine_digest(e) : 0;
  int64_t usage = rb__store_count(rdb, "SELECT count(*) FROM usage_ids");
  int64_t seq = rb__store_count(rdb, "SELECT coalesce(max(seq),0) "
                                     "FROM journal");
  bool ok = rs.mismatches == 0 && digest == st.digest &&
            seq == st.journal_seq && rs.bills == st.bills &&
            rs.notices == st.notices;
  if (digest != st.digest)
    fprintf(out, "state digest differs: stored %016" PRIx64
            ", replayed %016" PRIx64 "\n", st.digest, digest);
  if (seq != st.journal_seq)
    fprintf(out, "state row names journal row %" PRId64 ", the journal "
            "ends at %" PRId64 "\n", st.journal_seq, seq);
  fprintf(out,
          "journal: %" PRId64 " rows: %" PRId64 " events (%" PRId64
          " accepted, %" PRId64 " duplicates), %" PRId64
          " clock advances, %" PRId64 " rules changes\n"
          "usage ids: %" PRId64 "\n"
          "bills: %" PRId64 ", notices: %" PRId64 "\n"
          "digest: %016" PRIx64 "\n"
          "verify: %s\n",
          rs.rows, rs.events, rs.events - rs.duplicates, rs.duplicates,
          rs.advances, rs.rules_changes, usage, rs.bills, rs.notices,
          digest, ok ? "ok" : "FAILED");
  rb_engine_free(e);
  sqlite3_close(rdb);
  return ok ? 0 : 1;
}
