/* ingest.c: POST /v1/events, a batch of input events.
 *
 * The body is JSON Lines (SPEC 3.2). Every line is parsed first, so a
 * token that may post usage only is refused (403) before anything
 * changes when the batch holds another type. Then, in the order
 * received, each event is applied at max(its effective time, the
 * engine's clock): the engine needs time to move forward, and a record
 * that arrives after its time takes effect when received (SPEC 1.9).
 * With the real clock, the engine is first advanced to the wall clock
 * (firing due timers), and an event dated more than
 * future_tolerance_seconds ahead is rejected as `in_future`; with the
 * test clock such an event moves the clock to itself, as in simulate.
 * Accepted and duplicate events are journaled with the time they were
 * applied at; rejected ones change nothing and are not journaled. A
 * batch with an Idempotency-Key that was already answered gets that
 * answer again without being applied (idem.c); the lookup comes after
 * the role check, so a key never shows a token an answer it could not
 * have had, and before the queue check, since it needs no commit.
 * Depends on: daemon_int.h, rtcbill.h.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon_int.h"

typedef struct item {
  const char *line;
  size_t len;
  uint64_t lineno;
  int status; /* 0 parsed, else RB_EREJECT with rej */
  rb_event ev;
  rb_reject rej;
} item;

static void set_reject(rb_reject *r, const char *code, const char *msg) {
  memset(r, 0, sizeof *r);
  snprintf(r->code, sizeof r->code, "%s", code);
  snprintf(r->message, sizeof r->message, "%s", msg);
}

/* Splits the body into non-blank lines. Returns the count, or -1 past
 * max. */
static int64_t split(char *body, size_t len, item *v, size_t max) {
  size_t n = 0, pos = 0;
  uint64_t lineno = 0;
  while (pos < len) {
    char *nl = memchr(body + pos, '\n', len - pos);
    size_t end = nl != NULL ? (size_t)(nl - body) : len;
    size_t l = end - pos;
    lineno++;
    if (l > 0 && body[pos + l - 1] == '\r')
      l--;
    bool blank = true;
    for (size_t i = 0; i < l && blank; i++)
      blank = body[pos + i] == ' ' || body[pos + i] == '\t';
    if (!blank) {
      if (n == max)
        return -1;
      if (v != NULL) {
        body[pos + l] = '\0';
        v[n].line = body + pos;
        v[n].len = l;
        v[n].lineno = lineno;
      }
      n++;
    }
    pos = end + 1;
  }
  return (int64_t)n;
}

static int result_json(rb_buf *b, const item *it, const char *result) {
  int rc = rb_buf_printf(b, "{\"line\":%" PRIu64 ",\"result\":\"%s\"",
                         it->lineno, result);
  if (rc == RB_OK && it->status == 0 && it->ev.type == RB_EV_USAGE) {
    rc = rb_buf_append(b, ",\"id\":", 6);
    if (rc == RB_OK)
      rc = rb_buf_json_string(b, it->ev.id);
  }
  if (rc == RB_OK && strcmp(result, "rejected") == 0) {
    rc = rb_buf_printf(b, ",\"error\":\"%s\",\"field\":", it->rej.code);
    if (rc == RB_OK)
      rc = rb_buf_json_string(b, it->rej.field);
    if (rc == RB_OK)
      rc = rb_buf_append(b, ",\"message\":", 11);
    if (rc == RB_OK)
      rc = rb_buf_json_string(b, it->rej.message);
  }
  return rc == RB_OK ? rb_buf_append(b, "}", 1) : rc;
}

int rb__daemon_batch(rb__daemon *d, rb__conn *c, unsigned roles) {
  const rb_daemon_config *cfg = d->cfg;
  if (d->stopping) {
    rb__http_error(c, 503, "unavailable", "shutting down");
    return 0;
  }
  bool keyed;
  char digest[RB__IDEM_DIGEST_LEN];
  if (rb__idem_start(c, "POST /v1/events", &keyed, digest) != 0)
    return 0;
  if (!keyed && d->npending >= cfg->max_pending) {
    d->m.backpressure++;
    rb__http_error(c, 503, "busy", "too many batches waiting for the store");
    return 0;
  }
  /* A final newline makes every line end in a byte that split() may
   * overwrite with the NUL the reader wants. */
  if (rb_buf_append(&c->body, "\n", 1) != RB_OK) {
    rb__http_error(c, 503, "unavailable", "out of memory");
    return 0;
  }
  int64_t n = split(c->body.data, c->body.len, NULL, cfg->max_batch);
  if (n < 0) {
    char msg[128];
    snprintf(msg, sizeof msg, "a batch holds at most %zu events",
             cfg->max_batch);
    rb__http_error(c, 413, "too_many_events", msg);
    return 0;
  }
  if (n == 0) {
    rb__http_error(c, 400, "empty_batch", "the body holds no event");
    return 0;
  }
  item *v = calloc((size_t)n, sizeof *v);
  rb_arena *arena = rb_arena_new();
  rb_buf *out = NULL;
  if (v == NULL || arena == NULL) {
    free(v);
    rb_arena_free(arena);
    rb__http_error(c, 503, "unavailable", "out of memory");
    return 0;
  }
  split(c->body.data, c->body.len, v, cfg->max_batch);
  bool operator_needed = false;
  for (int64_t i = 0; i < n; i++) {
    item *it = &v[i];
    it->status = rb_event_parse(arena, it->line, it->len, &it->ev, &it->rej);
    if (it->status == RB_ENOMEM) {
      free(v);
      rb_arena_free(arena);
      rb__http_error(c, 503, "unavailable", "out of memory");
      return 0;
    }
    if (it->status == 0 && it->ev.type != RB_EV_USAGE)
      operator_needed = true;
  }
  if (operator_needed && (roles & RB_ROLE_OPERATOR) == 0) {
    free(v);
    rb_arena_free(arena);
    rb__http_error(c, 403, "forbidden",
                   "this token may post usage records only; account, app, "
                   "package, topup, postpaid and cycle events need the "
                   "operator role");
    return 0;
  }
  if (keyed) {
    int answered = rb__idem_lookup(d, c, digest);
    if (!answered && d->npending >= cfg->max_pending) {
      d->m.backpressure++;
      rb__http_error(c, 503, "busy",
                     "too many batches waiting for the store");
      answered = 1;
    }
    if (answered) {
      free(v);
      rb_arena_free(arena);
      return 0;
    }
  }

  rb__job *j = rb__job_new();
  if (j == NULL || (keyed && rb__idem_record(j, c, digest) != RB_OK)) {
    rb__job_free(j);
    free(v);
    rb_arena_free(arena);
    rb__http_error(c, 503, "unavailable", "out of memory");
    return 0;
  }
  d->cur = j;
  j->conn = c;
  c->refs++;
  j->is_batch = true;
  j->t0_ns = c->t0_ns;
  j->status = 200;
  out = &j->body;
  int rc = RB_OK;
  rb_time wall = rb__daemon_wall();
  if (!cfg->test_clock) {
    rb_time now = rb_engine_now(d->engine);
    if (now == RB_TIME_NONE || wall > now) {
      rc = rb_engine_advance(d->engine, wall);
      if (rc == RB_OK)
        rc = rb__job_row(j, RB__J_ADVANCE, wall, 0, NULL, 0);
    }
  }
  uint64_t acc = 0, dup = 0, rej = 0;
  bool out_of_memory = false;
  if (rc == RB_OK)
    rc = rb_buf_append(out, "{\"results\":[", 12);
  for (int64_t i = 0; i < n && rc == RB_OK; i++) {
    item *it = &v[i];
    const char *result = "rejected";
    if (i > 0)
      rc = rb_buf_append(out, ",", 1);
    if (it->status != 0) {
      rej++;
    } else if (out_of_memory) {
      set_reject(&it->rej, "unavailable",
                 "out of memory before this event; post it again");
      rej++;
    } else if (!cfg->test_clock &&
               it->ev.at > wall + cfg->future_tolerance) {
      set_reject(&it->rej, "in_future",
                 "the event takes effect later than the daemon's clock "
                 "allows (future_tolerance_seconds)");
      rej++;
    } else {
      rb_time now = rb_engine_now(d->engine);
      if (now != RB_TIME_NONE && it->ev.at < now)
        it->ev.at = now;
      memset(&it->rej, 0, sizeof it->rej);
      int ar = rb_engine_apply(d->engine, &it->ev, &it->rej);
      if (ar == RB_ENOMEM)
        ar = rb_engine_apply(d->engine, &it->ev, &it->rej);
      if (ar == RB_OK || ar == RB_DUPLICATE) {
        bool fresh = ar == RB_OK;
        result = fresh ? "accepted" : "duplicate";
        if (fresh)
          acc++;
        else
          dup++;
        rc = rb__job_row(j, RB__J_EVENT, it->ev.at,
                         fresh ? RB__OUT_ACCEPTED : RB__OUT_DUPLICATE,
                         it->line, it->len);
        if (rc == RB_OK && fresh && it->ev.type == RB_EV_USAGE)
          rc = rb__job_usage(j, it->ev.id);
      } else if (ar == RB_EREJECT) {
        rej++;
      } else if (ar == RB_ENOMEM) {
        out_of_memory = true;
        set_reject(&it->rej, "unavailable",
                   "out of memory; post this event again");
        rej++;
      } else {
        rc = ar;
        break;
      }
    }
    if (rc == RB_OK)
      rc = result_json(out, it, result);
  }
  free(v);
  rb_arena_free(arena);
  if (rc != RB_OK) {
    /* The engine may have changed without its journal: only a restart,
     * which replays what was committed, is safe now. */
    char msg[512];
    snprintf(msg, sizeof msg, "batch: %s",
             rc == RB_EPOLICY && rb_engine_last_error(d->engine) != NULL
                 ? rb_engine_last_error(d->engine)
                 : rb_strerror(rc));
    d->cur = NULL;
    rb__http_error(c, 500, "engine_failed", msg);
    rb__http_release(c);
    j->conn = NULL;
    rb__job_free(j);
    rb__daemon_fatal(d, msg);
    return 0;
  }
  rb_buf_printf(out,
                "],\"accepted\":%" PRIu64 ",\"duplicates\":%" PRIu64
                ",\"rejected\":%" PRIu64 "}\n",
                acc, dup, rej);
  if (out_of_memory)
    j->status = 503;
  d->m.events_accepted += acc;
  d->m.events_duplicate += dup;
  d->m.events_rejected += rej;
  j->events = acc + dup;
  rb__daemon_submit(d, j);
  return 0;
}
