/* http.c: the daemon's HTTP/1.1 server on libuv with http-parser.
 *
 * Each connection parses requests with Joyent/Node's http_parser and
 * answers them in order: when a request is complete the parser is
 * paused and reading stops until its response has been written, so a
 * pipelining client gets its answers in order and one connection never
 * has two batches in flight. Limits: the URL (8 KiB), the Authorization
 * header, the body (max_body_bytes: 413), the time to receive a whole
 * request (request_timeout_ms: 408) and the idle time of a keep-alive
 * connection (idle_timeout_ms); the headers read are Authorization,
 * Expect and Idempotency-Key; past max_connections a new connection
 * gets a 503. Malformed requests get a 400 and the connection is
 * closed; nothing reaches the API. A connection waiting for a commit is
 * kept alive by a reference even if its client goes away.
 * Depends on: daemon_int.h, libuv, http-parser.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon_int.h"

#define URL_MAX 8192
#define LINGER_MS 2000

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf);
static void on_alloc(uv_handle_t *h, size_t size, uv_buf_t *buf);
static void feed(rb__conn *c, const char *data, size_t len);

static const char *reason(int status) {
  switch (status) {
  case 100: return "Continue";
  case 200: return "OK";
  case 400: return "Bad Request";
  case 401: return "Unauthorized";
  case 403: return "Forbidden";
  case 404: return "Not Found";
  case 405: return "Method Not Allowed";
  case 408: return "Request Timeout";
  case 409: return "Conflict";
  case 411: return "Length Required";
  case 413: return "Content Too Large";
  case 414: return "URI Too Long";
  case 415: return "Unsupported Media Type";
  case 422: return "Unprocessable Content";
  case 431: return "Request Header Fields Too Large";
  case 500: return "Internal Server Error";
  case 505: return "HTTP Version Not Supported";
  case 503: return "Service Unavailable";
  default: return "Unknown";
  }
}

static void maybe_free(rb__conn *c) {
  if (c->handles == 0 && c->refs == 0) {
    rb_buf_free(&c->url);
    rb_buf_free(&c->body);
    free(c->rest);
    free(c);
  }
}

static void on_close(uv_handle_t *h) {
  rb__conn *c = h->data;
  c->handles--;
  maybe_free(c);
}

static void conn_close(rb__conn *c) {
  if (c->closing)
    return;
  c->closing = true;
  rb__daemon *d = c->d;
  if (c->prev != NULL)
    c->prev->next = c->next;
  else
    d->conns = c->next;
  if (c->next != NULL)
    c->next->prev = c->prev;
  d->nconns--;
  uv_close((uv_handle_t *)&c->tcp, on_close);
  uv_close((uv_handle_t *)&c->timer, on_close);
}

void rb__http_release(rb__conn *c) {
  c->refs--;
  if (c->closing)
    maybe_free(c);
}

void rb__http_close_all(rb__daemon *d, bool idle_only) {
  rb__conn *c = d->conns;
  while (c != NULL) {
    rb__conn *next = c->next;
    if (!c->busy && (!idle_only || !c->started))
      conn_close(c);
    c = next;
  }
}

static void on_linger_timeout(uv_timer_t *t) { conn_close(t->data); }

static void on_shutdown(uv_shutdown_t *req, int status) {
  (void)req;
  (void)status;
}

/* Closes after an answer the client may not have waited for (an error
 * before its body was read, the connection limit): half-closes, then
 * reads and drops whatever still comes for a moment, so that the kernel
 * does not reset the connection over unread bytes before the client has
 * read the answer. */
static void conn_linger(rb__conn *c) {
  if (c->closing || c->lingering)
    return;
  c->lingering = true;
  if (uv_shutdown(&c->shutdown, (uv_stream_t *)&c->tcp, on_shutdown) != 0 ||
      uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) != 0) {
    conn_close(c);
    return;
  }
  uv_timer_start(&c->timer, on_linger_timeout, LINGER_MS, 0);
}

static void on_timer(uv_timer_t *t) {
  rb__conn *c = t->data;
  if (c->busy || c->closing)
    return;
  if (c->started) {
    c->busy = true;
    c->keep_alive = false;
    uv_read_stop((uv_stream_t *)&c->tcp);
    rb__http_error(c, 408, "timeout", "the request was not received in time");
  } else {
    conn_close(c);
  }
}

typedef struct wreq {
  uv_write_t req;
  rb__conn *c;
  bool keep;
  bool interim; /* a 100 Continue: the request goes on */
  char data[];
} wreq;

static void next_request(rb__conn *c) {
  c->busy = false;
  c->started = false;
  http_parser_pause(&c->parser, 0);
  uv_timer_start(&c->timer, on_timer, c->d->cfg->idle_timeout_ms, 0);
  if (c->rest != NULL) {
    char *rest = c->rest;
    size_t n = c->rest_len;
    c->rest = NULL;
    c->rest_len = 0;
    feed(c, rest, n);
    free(rest);
    if (c->closing || c->busy)
      return;
  }
  uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
}

static void on_written(uv_write_t *req, int status) {
  wreq *w = (wreq *)req;
  rb__conn *c = w->c;
  bool keep = w->keep, interim = w->interim;
  free(w);
  c->refs--;
  if (c->closing) {
    maybe_free(c);
    return;
  }
  if (interim)
    return;
  if (status < 0) {
    conn_close(c);
    return;
  }
  if (!keep) {
    conn_linger(c);
    return;
  }
  next_request(c);
}

static void write_raw(rb__conn *c, const char *head, size_t hlen,
                      const char *body, size_t blen, bool keep,
                      bool interim) {
  wreq *w = malloc(sizeof *w + hlen + blen);
  if (w == NULL) {
    conn_close(c);
    return;
  }
  memcpy(w->data, head, hlen);
  if (blen > 0)
    memcpy(w->data + hlen, body, blen);
  w->c = c;
  w->keep = keep;
  w->interim = interim;
  uv_buf_t b = uv_buf_init(w->data, (unsigned)(hlen + blen));
  c->refs++;
  if (uv_write(&w->req, (uv_stream_t *)&c->tcp, &b, 1, on_written) != 0) {
    c->refs--;
    free(w);
    conn_close(c);
  }
}

void rb__http_respond(rb__conn *c, int status, const char *ctype,
                      const char *body, size_t len, const char *extra) {
  if (c->closing)
    return;
  rb__daemon *d = c->d;
  d->m.http_requests++;
  if (status >= 500)
    d->m.http_errors_5xx++;
  else if (status >= 400)
    d->m.http_errors_4xx++;
  bool keep = c->keep_alive && !d->stopping;
  char head[1024];
  int n = snprintf(head, sizeof head,
                   "HTTP/1.1 %d %s\r\n"
                   "Content-Type: %s\r\n"
                   "Content-Length: %zu\r\n"
                   "Cache-Control: no-store\r\n"
                   "%s%s\r\n",
                   status, reason(status),
                   ctype ? ctype : "application/json", len,
                   keep ? "" : "Connection: close\r\n", extra ? extra : "");
  if (n < 0 || (size_t)n >= sizeof head) {
    conn_close(c);
    return;
  }
  write_raw(c, head, (size_t)n, body, body ? len : 0, keep, false);
}

void rb__http_error(rb__conn *c, int status, const char *code,
                    const char *message) {
  rb_buf b = {0};
  rb_buf_printf(&b, "{\"error\":");
  rb_buf_json_string(&b, code);
  rb_buf_printf(&b, ",\"message\":");
  rb_buf_json_string(&b, message);
  if (rb_buf_append(&b, "}\n", 2) != RB_OK) {
    rb_buf_free(&b);
    conn_close(c);
    return;
  }
  const char *extra = NULL;
  if (status == 401)
    extra = "WWW-Authenticate: Bearer realm=\"rtcbill\"\r\n";
  else if (status == 503)
    extra = "Retry-After: 1\r\n";
  rb__http_respond(c, status, "application/json", b.data, b.len, extra);
  rb_buf_free(&b);
}

/* ------------------------------------------------------------------ */
/* Parser callbacks                                                   */
/* ------------------------------------------------------------------ */

static int fail_parse(rb__conn *c, int status) {
  c->err_status = status;
  return -1;
}

static int cb_begin(http_parser *p) {
  rb__conn *c = p->data;
  c->started = true;
  c->url.len = 0;
  c->body.len = 0;
  c->field_len = 0;
  c->auth_len = 0;
  c->auth[0] = '\0';
  c->idem_len = 0;
  c->idem[0] = '\0';
  c->idem_seen = c->idem_bad = false;
  c->in_value = c->auth_overflow = c->field_overflow = false;
  c->t0_ns = rb__now_ns();
  uv_timer_start(&c->timer, on_timer, c->d->cfg->request_timeout_ms, 0);
  return 0;
}

static int cb_url(http_parser *p, const char *at, size_t n) {
  rb__conn *c = p->data;
  if (c->url.len + n > URL_MAX)
    return fail_parse(c, 414);
  return rb_buf_append(&c->url, at, n) == RB_OK ? 0 : fail_parse(c, 503);
}

/* The field name is kept lower-case and only as long as the names the
 * daemon reads; `in_value` (reused for Expect) marks the value it wants. */
static int cb_field(http_parser *p, const char *at, size_t n) {
  rb__conn *c = p->data;
  if (c->in_value || c->field_len == SIZE_MAX) {
    c->field_len = 0;
    c->field_overflow = false;
    c->in_value = false;
  }
  for (size_t i = 0; i < n; i++) {
    if (c->field_len + 1 >= sizeof c->field) {
      c->field_overflow = true;
      break;
    }
    char ch = at[i];
    c->field[c->field_len++] =
        (char)(ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch);
  }
  c->field[c->field_len] = '\0';
  return 0;
}

static int cb_value(http_parser *p, const char *at, size_t n) {
  rb__conn *c = p->data;
  if (!c->in_value) {
    /* The first piece of this value: decide whether it is wanted. */
    c->in_value = true;
    c->want = c->field_overflow ? 0
              : strcmp(c->field, "authorization") == 0 ? 1
              : strcmp(c->field, "expect") == 0 ? 2
              : strcmp(c->field, "idempotency-key") == 0 ? 3
                                                  : 0;
    if (c->want == 1)
      c->auth_len = 0;
    if (c->want == 3) {
      /* Two keys in one request are ambiguous: refused by the API. */
      c->idem_bad = c->idem_bad || c->idem_seen;
      c->idem_seen = true;
      c->idem_len = 0;
    }
  }
  if (c->want == 1) {
    if (c->auth_len + n >= sizeof c->auth) {
      c->auth_overflow = true;
      return 0;
    }
    memcpy(c->auth + c->auth_len, at, n);
    c->auth_len += n;
    c->auth[c->auth_len] = '\0';
  } else if (c->want == 2) {
    c->expect_continue = n >= 3 && memcmp(at, "100", 3) == 0;
  } else if (c->want == 3) {
    /* Blanks past the longest key may be the value's trailing ones,
     * which the API trims; anything else there makes the key too long. */
    for (size_t i = 0; i < n; i++) {
      if (c->idem_len < RB__IDEM_KEY_MAX)
        c->idem[c->idem_len++] = at[i];
      else if (at[i] != ' ' && at[i] != '\t')
        c->idem_bad = true;
    }
    c->idem[c->idem_len] = '\0';
  }
  return 0;
}

static int cb_headers(http_parser *p) {
  rb__conn *c = p->data;
  if (c->auth_overflow)
    return fail_parse(c, 431);
  if (p->http_major != 1 || p->http_minor > 1)
    return fail_parse(c, 505);
  if (p->content_length != ULLONG_MAX &&
      p->content_length > c->d->cfg->max_body)
    return fail_parse(c, 413);
  if (c->expect_continue) {
    static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
    c->expect_continue = false;
    write_raw(c, cont, sizeof cont - 1, NULL, 0, true, true);
  }
  return 0;
}

static int cb_body(http_parser *p, const char *at, size_t n) {
  rb__conn *c = p->data;
  if (c->body.len + n > c->d->cfg->max_body)
    return fail_parse(c, 413);
  return rb_buf_append(&c->body, at, n) == RB_OK ? 0 : fail_parse(c, 503);
}

static int cb_complete(http_parser *p) {
  rb__conn *c = p->data;
  c->busy = true;
  c->keep_alive = http_should_keep_alive(p) != 0;
  uv_timer_stop(&c->timer);
  http_parser_pause(p, 1);
  return 0;
}

static const http_parser_settings settings = {
    .on_message_begin = cb_begin,
    .on_url = cb_url,
    .on_header_field = cb_field,
    .on_header_value = cb_value,
    .on_headers_complete = cb_headers,
    .on_body = cb_body,
    .on_message_complete = cb_complete,
};

static void parse_error(rb__conn *c, int status) {
  c->busy = true;
  c->keep_alive = false;
  uv_read_stop((uv_stream_t *)&c->tcp);
  uv_timer_stop(&c->timer);
  switch (status) {
  case 413:
    rb__http_error(c, 413, "too_large", "the request body is too large");
    break;
  case 414:
    rb__http_error(c, 414, "uri_too_long", "the request target is too long");
    break;
  case 431:
    rb__http_error(c, 431, "header_too_large", "a header is too large");
    break;
  case 503:
    rb__http_error(c, 503, "unavailable", "out of memory");
    break;
  case 505:
    rb__http_error(c, 505, "bad_version", "only HTTP/1.0 and 1.1");
    break;
  default:
    rb__http_error(c, 400, "bad_request", "malformed HTTP request");
  }
}

static void feed(rb__conn *c, const char *data, size_t len) {
  size_t n = http_parser_execute(&c->parser, &settings, data, len);
  enum http_errno e = HTTP_PARSER_ERRNO(&c->parser);
  if (c->err_status != 0) {
    parse_error(c, c->err_status);
    return;
  }
  if (e == HPE_PAUSED) {
    if (n < len) {
      c->rest = malloc(len - n);
      if (c->rest == NULL) {
        conn_close(c);
        return;
      }
      memcpy(c->rest, data + n, len - n);
      c->rest_len = len - n;
    }
    uv_read_stop((uv_stream_t *)&c->tcp);
    rb__api_dispatch(c->d, c);
    return;
  }
  if (e != HPE_OK || c->parser.upgrade) {
    parse_error(c, 400);
    return;
  }
}

static void on_alloc(uv_handle_t *h, size_t size, uv_buf_t *buf) {
  (void)h;
  if (size > 65536)
    size = 65536;
  buf->base = malloc(size);
  buf->len = buf->base != NULL ? size : 0;
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf) {
  rb__conn *c = s->data;
  if (c->lingering) {
    free(buf->base);
    if (nread < 0)
      conn_close(c);
    return;
  }
  if (nread < 0) {
    free(buf->base);
    if (!c->busy)
      conn_close(c);
    else
      uv_read_stop(s);
    return;
  }
  if (nread > 0 && !c->busy && !c->closing)
    feed(c, buf->base, (size_t)nread);
  free(buf->base);
}

static void on_connection(uv_stream_t *server, int status) {
  rb__daemon *d = server->data;
  if (status < 0)
    return;
  rb__conn *c = calloc(1, sizeof *c);
  if (c == NULL)
    return;
  c->d = d;
  c->tcp.data = c;
  c->timer.data = c;
  uv_tcp_init(&d->loop, &c->tcp);
  uv_timer_init(&d->loop, &c->timer);
  c->handles = 2;
  c->next = d->conns;
  if (d->conns != NULL)
    d->conns->prev = c;
  d->conns = c;
  d->nconns++;
  if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0) {
    conn_close(c);
    return;
  }
  uv_tcp_nodelay(&c->tcp, 1);
  http_parser_init(&c->parser, HTTP_REQUEST);
  c->parser.data = c;
  if (d->nconns > d->cfg->max_conns || d->stopping) {
    c->busy = true;
    c->keep_alive = false;
    d->m.backpressure++;
    rb__http_error(c, 503, "unavailable",
                   d->stopping ? "shutting down" : "too many connections");
    return;
  }
  uv_timer_start(&c->timer, on_timer, d->cfg->idle_timeout_ms, 0);
  uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
}

int rb__http_listen(rb__daemon *d, char *err, size_t cap) {
  const rb_daemon_config *cfg = d->cfg;
  struct sockaddr_storage ss;
  const char *host = cfg->host != NULL ? cfg->host : "127.0.0.1";
  int rc = strchr(host, ':') != NULL
               ? uv_ip6_addr(host, cfg->port, (struct sockaddr_in6 *)&ss)
               : uv_ip4_addr(host, cfg->port, (struct sockaddr_in *)&ss);
  if (rc == 0)
    rc = uv_tcp_init(&d->loop, &d->server);
  if (rc != 0) {
    snprintf(err, cap, "listen %s:%d: %s", host, cfg->port, uv_strerror(rc));
    return -1;
  }
  d->server.data = d;
  d->listening = true;
  rc = uv_tcp_bind(&d->server, (const struct sockaddr *)&ss, 0);
  if (rc == 0)
    rc = uv_listen((uv_stream_t *)&d->server, 128, on_connection);
  if (rc != 0) {
    snprintf(err, cap, "listen %s:%d: %s", host, cfg->port, uv_strerror(rc));
    return -1;
  }
  struct sockaddr_storage bound;
  int len = sizeof bound;
  int port = cfg->port;
  if (uv_tcp_getsockname(&d->server, (struct sockaddr *)&bound, &len) == 0)
    port = ntohs(bound.ss_family == AF_INET6
                     ? ((struct sockaddr_in6 *)&bound)->sin6_port
                     : ((struct sockaddr_in *)&bound)->sin_port);
  snprintf(d->port_str, sizeof d->port_str, "%d", port);
  fprintf(d->log, "rtcbill serve: listening on %s:%d\n", host, port);
  fflush(d->log);
  if (cfg->port_file != NULL) {
    FILE *f = fopen(cfg->port_file, "w");
    if (f == NULL || fprintf(f, "%d\n", port) < 0 || fclose(f) != 0) {
      snprintf(err, cap, "%s: cannot write the port", cfg->port_file);
      return -1;
    }
  }
  return 0;
}
