/* api.c: the daemon's HTTP API: routing, authorization and the read
 * endpoints.
 *
 *   GET  /healthz                      no token
 *   GET  /metrics                      read, operator
 *   POST /v1/events                    ingest (usage only), operator
 *   GET  /v1/accounts/{id}             read, operator
 *   GET  /v1/accounts/{id}/bills       read, operator
 *   GET  /v1/bills/{id}                read, operator (id may hold '/')
 *   GET  /v1/notices?after=N&limit=M   read, operator
 *   GET  /v1/rules                     read, operator
 *   POST /v1/rules/reload              operator
 *   GET  /v1/clock, POST /v1/clock     read / operator (POST: test clock)
 * A missing or unknown token is 401, a token without the role 403. Both
 * POSTs that change state take an Idempotency-Key (idem.c). The
 * account view comes from the engine; bills and notices from the store,
 * through the loop thread's own read connection (indexed reads in WAL
 * mode never wait for the writer). Depends on: daemon_int.h.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon_int.h"

#define READERS (RB_ROLE_READ | RB_ROLE_OPERATOR)

#define NOTICES_LIMIT_MAX 1000

static const char *version_of_engine(const rb__daemon *d) {
  return rb_rules_data_get(rb_engine_rules(d->engine))->version;
}

static void respond_buf(rb__conn *c, int status, rb_buf *b) {
  if (b->data == NULL && b->len == 0) {
    rb__http_error(c, 503, "unavailable", "out of memory");
    return;
  }
  rb__http_respond(c, status, "application/json", b->data, b->len, NULL);
}

/* Percent-decodes s[0..n) into out; false on a bad escape or a NUL. */
static bool pct_decode(const char *s, size_t n, char *out, size_t cap) {
  size_t o = 0;
  for (size_t i = 0; i < n; i++) {
    int ch = (unsigned char)s[i];
    if (ch == '%') {
      if (i + 2 >= n)
        return false;
      char hex[3] = {s[i + 1], s[i + 2], 0};
      char *end;
      long v = strtol(hex, &end, 16);
      if (*end != '\0' || v <= 0 || hex[0] == '+' || hex[0] == '-')
        return false;
      ch = (int)v;
      i += 2;
    }
    if (o + 1 >= cap)
      return false;
    out[o++] = (char)ch;
  }
  out[o] = '\0';
  return o > 0;
}

static void time_json(rb_buf *b, const char *key, rb_time t, int32_t tz) {
  char buf[RB_TIME_STRLEN];
  if (t == RB_TIME_NONE || rb_time_format(t, tz, buf, sizeof buf) < 0)
    rb_buf_printf(b, ",\"%s\":null", key);
  else
    rb_buf_printf(b, ",\"%s\":\"%s\"", key, buf);
}

static void money_json(rb_buf *b, const char *key, rb_money v) {
  char buf[RB_MONEY_STRLEN];
  if (rb_money_format_min(v, 2, buf, sizeof buf) < 0)
    snprintf(buf, sizeof buf, "?");
  rb_buf_printf(b, ",\"%s\":\"%s\"", key, buf);
}

static void account(rb__daemon *d, rb__conn *c, const char *id) {
  rb_account_info a;
  int rc = rb_engine_account(d->engine, id, &a);
  if (rc == RB_ENOENT) {
    rb__http_error(c, 404, "not_found", "no such account");
    return;
  }
  if (rc != RB_OK) {
    rb__http_error(c, 503, "unavailable", rb_strerror(rc));
    return;
  }
  int32_t tz = rb__daemon_tz(d);
  rb_buf b = {0};
  rb_buf_append(&b, "{\"account\":", 11);
  rb_buf_json_string(&b, a.id);
  money_json(&b, "balance", a.balance);
  time_json(&b, "created", a.created, tz);
  if (a.has_cycle)
    rb_buf_printf(&b, ",\"cycle\":\"%s\"", rb_cycle_name(a.cycle));
  else
    rb_buf_printf(&b, ",\"cycle\":null");
  time_json(&b, "daily_from", a.daily_from, tz);
  rb_buf_printf(&b,
                ",\"in_arrears\":%s,\"stopped_for_arrears\":%s,"
                "\"reclaimed\":%s,\"open_periods\":%zu,\"apps\":[",
                a.in_arrears ? "true" : "false",
                a.stopped_for_arrears ? "true" : "false",
                a.reclaimed ? "true" : "false", a.open_periods);
  for (size_t i = 0; i < a.napps; i++) {
    const rb_app_info *p = &a.apps[i];
    rb_buf_printf(&b, "%s{\"app\":%" PRId64, i ? "," : "", p->app);
    time_json(&b, "created", p->created, tz);
    rb_buf_printf(&b, ",\"postpaid\":%s,\"service\":\"%s\",\"stop_reasons\":[",
                  p->postpaid ? "true" : "false",
                  p->stops ? "stopped" : "running");
    int k = 0;
    for (int r = 0; r < RB_STOP__COUNT; r++)
      if (p->stops & (1u << r))
        rb_buf_printf(&b, "%s\"%s\"", k++ ? "," : "",
                      rb_stop_reason_name((rb_stop_reason)r));
    rb_buf_append(&b, "]}", 2);
  }
  rb_buf_append(&b, "],\"packages\":[", 14);
  for (size_t i = 0; i < a.npackages; i++) {
    const rb_package_info *p = &a.packages[i];
    rb_buf_printf(&b, "%s{\"package\":", i ? "," : "");
    rb_buf_json_string(&b, p->id);
    rb_buf_printf(&b, ",\"kind\":");
    rb_buf_json_string(&b, p->kind);
    rb_buf_printf(&b,
                  ",\"state\":\"%s\",\"minutes\":%" PRId64
                  ",\"remaining\":%" PRId64,
                  p->state, p->minutes, p->remaining);
    money_json(&b, "price", p->price);
    time_json(&b, "purchased", p->purchased, tz);
    time_json(&b, "activates", p->activates, tz);
    time_json(&b, "expires", p->expires, tz);
    rb_buf_append(&b, "}", 1);
  }
  rb_buf_append(&b, "]}\n", 3);
  respond_buf(c, 200, &b);
  rb_buf_free(&b);
}

static void bills(rb__daemon *d, rb__conn *c, const char *account,
                  const char *id) {
  rb_buf b = {0};
  bool found = false;
  if (account != NULL)
    rb_buf_append(&b, "{\"bills\":", 9);
  int rc = rb__store_bills_json(d->rdb, account, id, &b, &found);
  if (rc == RB_OK && account != NULL)
    rc = rb_buf_append(&b, "}", 1);
  if (rc == RB_OK)
    rc = rb_buf_append(&b, "\n", 1);
  if (rc != RB_OK)
    rb__http_error(c, 503, "unavailable", rb_strerror(rc));
  else if (account == NULL && !found)
    rb__http_error(c, 404, "not_found", "no such bill");
  else if (account != NULL && !found &&
           rb_engine_account(d->engine, account, &(rb_account_info){0}) ==
               RB_ENOENT)
    rb__http_error(c, 404, "not_found", "no such account");
  else
    respond_buf(c, 200, &b);
  rb_buf_free(&b);
}

/* The value of key in a query string, as an integer. */
static bool query_int(const char *q, size_t n, const char *key, int64_t *out) {
  size_t klen = strlen(key);
  size_t i = 0;
  while (i < n) {
    const char *amp = memchr(q + i, '&', n - i);
    size_t end = amp ? (size_t)(amp - q) : n;
    if (end - i > klen && strncmp(q + i, key, klen) == 0 &&
        q[i + klen] == '=') {
      const char *v = q + i + klen + 1;
      size_t vl = end - i - klen - 1;
      if (vl == 0 || vl > 18)
        return false;
      int64_t x = 0;
      for (size_t k = 0; k < vl; k++) {
        if (v[k] < '0' || v[k] > '9')
          return false;
        x = x * 10 + (v[k] - '0');
      }
      *out = x;
      return true;
    }
    i = end + 1;
  }
  return true;
}

static void notices(rb__daemon *d, rb__conn *c, const char *q, size_t n) {
  int64_t after = 0, limit = 100;
  if (!query_int(q, n, "after", &after) || !query_int(q, n, "limit", &limit) ||
      limit < 1 || limit > NOTICES_LIMIT_MAX) {
    rb__http_error(c, 400, "bad_query",
                   "after is a cursor (>= 0), limit 1 to 1000");
    return;
  }
  rb_buf b = {0};
  int rc = rb__store_notices_json(d->rdb, after, limit, &b);
  if (rc == RB_OK)
    rc = rb_buf_append(&b, "\n", 1);
  if (rc != RB_OK)
    rb__http_error(c, 503, "unavailable", rb_strerror(rc));
  else
    respond_buf(c, 200, &b);
  rb_buf_free(&b);
}

static void rules_info(rb__daemon *d, rb__conn *c) {
  const rb_rules_data *rd = rb_rules_data_get(rb_engine_rules(d->engine));
  rb_buf b = {0};
  rb_buf_printf(&b, "{\"version\":\"%s\",\"loaded_at\":\"%s\",\"dir\":",
                rd->version, d->rules_loaded_at);
  if (d->cfg->rules != NULL)
    rb_buf_json_string(&b, d->cfg->rules);
  else
    rb_buf_append(&b, "null", 4);
  rb_buf_printf(&b, ",\"currency\":\"%s\",\"reloads\":%" PRIu64
                ",\"failed_reloads\":%" PRIu64 "}\n",
                rd->tariff.currency, d->m.reloads_ok, d->m.reloads_failed);
  respond_buf(c, 200, &b);
  rb_buf_free(&b);
}

static void clock_get(rb__daemon *d, rb__conn *c) {
  rb_buf b = {0};
  rb_buf_printf(&b, "{\"mode\":\"%s\"",
                d->cfg->test_clock ? "test" : "real");
  time_json(&b, "now", rb_engine_now(d->engine), rb__daemon_tz(d));
  time_json(&b, "next_timer", rb_engine_next_timer(d->engine),
            rb__daemon_tz(d));
  rb_buf_append(&b, "}\n", 2);
  respond_buf(c, 200, &b);
  rb_buf_free(&b);
}

/* POST /v1/clock: {"now":"RFC 3339"} or {"settle":true}. */
static void clock_post(rb__daemon *d, rb__conn *c) {
  if (!d->cfg->test_clock) {
    rb__http_error(c, 409, "real_clock",
                   "the clock is the wall clock; set clock = \"test\"");
    return;
  }
  bool keyed;
  char digest[RB__IDEM_DIGEST_LEN];
  if (rb__idem_start(c, "POST /v1/clock", &keyed, digest) != 0 ||
      (keyed && rb__idem_lookup(d, c, digest) != 0))
    return;
  if (d->npending >= d->cfg->max_pending) {
    d->m.backpressure++;
    rb__http_error(c, 503, "busy", "too many batches waiting for the store");
    return;
  }
  const char *idem = keyed ? digest : NULL;
  const char *s = c->body.data != NULL ? c->body.data : "";
  size_t n = c->body.len;
  if (n < 200 && strstr(s, "\"settle\"") != NULL &&
      strstr(s, "true") != NULL) {
    rb__daemon_clock(d, c, RB_TIME_NONE, true, idem);
    return;
  }
  const char *k = n < 200 ? strstr(s, "\"now\"") : NULL;
  const char *q1 = k ? strchr(k + 5, '"') : NULL;
  const char *q2 = q1 ? strchr(q1 + 1, '"') : NULL;
  rb_time t;
  if (q2 == NULL ||
      rb_time_parse(q1 + 1, (size_t)(q2 - q1 - 1), &t, NULL) != RB_OK) {
    rb__http_error(c, 400, "bad_request",
                   "expected {\"now\":\"RFC 3339 time\"} or "
                   "{\"settle\":true}");
    return;
  }
  rb__daemon_clock(d, c, t, false, idem);
}

static void health(rb__daemon *d, rb__conn *c) {
  rb_buf b = {0};
  rb_buf_printf(&b, "{\"status\":\"%s\",\"rules\":\"%s\"",
                d->stopping ? "stopping" : "ok", version_of_engine(d));
  time_json(&b, "now", rb_engine_now(d->engine), rb__daemon_tz(d));
  rb_buf_printf(&b, ",\"pending\":%zu}\n", d->npending);
  respond_buf(c, d->stopping ? 503 : 200, &b);
  rb_buf_free(&b);
}

static void metrics(rb__daemon *d, rb__conn *c) {
  rb_buf b = {0};
  if (rb__metrics_text(&d->m, version_of_engine(d), d->journal_rows,
                       d->npending, &b) != RB_OK) {
    rb_buf_free(&b);
    rb__http_error(c, 503, "unavailable", "out of memory");
    return;
  }
  rb__http_respond(c, 200, "text/plain; version=0.0.4", b.data, b.len, NULL);
  rb_buf_free(&b);
}

typedef enum {
  R_HEALTH, R_METRICS, R_EVENTS, R_ACCOUNT, R_ACCOUNT_BILLS, R_BILL,
  R_NOTICES, R_RULES, R_RELOAD, R_CLOCK
} route;

/* Finds the route of path; *arg receives the decoded {id}. -1: none. */
static int match(const char *path, size_t n, char *arg, size_t cap) {
  static const struct {
    const char *path;
    route r;
  } exact[] = {{"/healthz", R_HEALTH},     {"/metrics", R_METRICS},
               {"/v1/events", R_EVENTS},   {"/v1/notices", R_NOTICES},
               {"/v1/rules", R_RULES},     {"/v1/rules/reload", R_RELOAD},
               {"/v1/clock", R_CLOCK}};
  for (size_t i = 0; i < sizeof exact / sizeof exact[0]; i++)
    if (strlen(exact[i].path) == n && memcmp(path, exact[i].path, n) == 0)
      return (int)exact[i].r;
  static const char acc[] = "/v1/accounts/", bill[] = "/v1/bills/",
                    tail[] = "/bills";
  size_t al = sizeof acc - 1, bl = sizeof bill - 1, tl = sizeof tail - 1;
  if (n > bl && memcmp(path, bill, bl) == 0)
    return pct_decode(path + bl, n - bl, arg, cap) ? (int)R_BILL : -1;
  if (n > al && memcmp(path, acc, al) == 0) {
    const char *id = path + al;
    size_t idl = n - al;
    if (idl > tl && memcmp(id + idl - tl, tail, tl) == 0)
      return pct_decode(id, idl - tl, arg, cap) ? (int)R_ACCOUNT_BILLS : -1;
    if (memchr(id, '/', idl) != NULL)
      return -1;
    return pct_decode(id, idl, arg, cap) ? (int)R_ACCOUNT : -1;
  }
  return -1;
}

void rb__api_dispatch(rb__daemon *d, rb__conn *c) {
  struct http_parser_url u;
  http_parser_url_init(&u);
  const char *url = c->url.data != NULL ? c->url.data : "";
  if (http_parser_parse_url(url, c->url.len, 0, &u) != 0 ||
      !(u.field_set & (1 << UF_PATH))) {
    rb__http_error(c, 400, "bad_request", "malformed request target");
    return;
  }
  const char *path = url + u.field_data[UF_PATH].off;
  size_t plen = u.field_data[UF_PATH].len;
  const char *query = "";
  size_t qlen = 0;
  if (u.field_set & (1 << UF_QUERY)) {
    query = url + u.field_data[UF_QUERY].off;
    qlen = u.field_data[UF_QUERY].len;
  }
  char arg[RB_ID_MAX + 32];
  int r = match(path, plen, arg, sizeof arg);
  if (r < 0) {
    rb__http_error(c, 404, "not_found", "no such endpoint");
    return;
  }
  int m = c->parser.method;
  bool post = r == R_EVENTS || r == R_RELOAD;
  bool ok_method = r == R_CLOCK ? (m == HTTP_GET || m == HTTP_POST)
                   : post       ? m == HTTP_POST
                                : m == HTTP_GET;
  if (!ok_method) {
    static const char body[] = "{\"error\":\"method_not_allowed\","
                               "\"message\":\"method not allowed\"}\n";
    rb__http_respond(c, 405, "application/json", body, sizeof body - 1,
                     post ? "Allow: POST\r\n"
                         : r == R_CLOCK ? "Allow: GET, POST\r\n"
                                        : "Allow: GET\r\n");
    return;
  }
  if (r == R_HEALTH) {
    health(d, c);
    return;
  }
  unsigned need = READERS;
  if (r == R_EVENTS)
    need = RB_ROLE_INGEST | RB_ROLE_OPERATOR;
  else if (r == R_RELOAD || (r == R_CLOCK && m == HTTP_POST))
    need = RB_ROLE_OPERATOR;
  unsigned roles = rb__auth_roles(d->cfg, c->auth_len ? c->auth : NULL);
  if (roles == 0) {
    rb__http_error(c, 401, "unauthorized",
                   "a valid bearer token is required");
    return;
  }
  if ((roles & need) == 0) {
    rb__http_error(c, 403, "forbidden", "this token's role may not do that");
    return;
  }
  switch ((route)r) {
  case R_METRICS: metrics(d, c); break;
  case R_EVENTS: rb__daemon_batch(d, c, roles); break;
  case R_ACCOUNT: account(d, c, arg); break;
  case R_ACCOUNT_BILLS: bills(d, c, arg, NULL); break;
  case R_BILL: bills(d, c, NULL, arg); break;
  case R_NOTICES: notices(d, c, query, qlen); break;
  case R_RULES: rules_info(d, c); break;
  case R_RELOAD: rb__daemon_reload(d, c); break;
  case R_CLOCK:
    if (m == HTTP_POST)
      clock_post(d, c);
    else
      clock_get(d, c);
    break;
  case R_HEALTH: break;
  }
}
