/* reader.c: rb_event_parse, one JSON Lines input event into an rb_event.
 *
 * The line goes through the strict scanner of json.c first, so any
 * malformed JSON anywhere in it is "bad_json" before a single field is
 * looked at. Then the fields of the event's type are checked in a fixed
 * order (the order of docs/formats.md) and the first failure is
 * reported. Integers are converted exactly from their text; money and
 * times go through rb_money_parse and rb_time_parse. Strings are copied
 * into the caller's arena only once the whole event has been accepted,
 * so a rejected line costs the arena nothing. The common, valid line
 * takes the single-pass fast path of scan.c first and only comes here
 * when that path is not sure.
 *
 * Depends on: json.h, scan.h, rtcbill.h (rb_money_parse, rb_time_parse,
 * rb_arena_*), the C11 standard library.
 */
/* uv.h, included by rtcbill.h, needs the POSIX thread types, which a
 * strict -std=c11 build hides unless POSIX is requested. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include "json.h"
#include "rtcbill.h"
#include "scan.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* A text taken from the line, copied into the arena at the end. */
typedef struct span {
  const char *s;
  size_t len;
} span;

typedef struct reader {
  const rb__json_doc *d;
  rb_reject *rej;
} reader;

/* ------------------------------------------------------------------ */
/* Messages                                                           */
/* ------------------------------------------------------------------ */

/* Writes s[0..len) as a double-quoted snippet that is safe to show:
 * quotes, backslashes and control characters (C0, DEL, C1) are escaped
 * and anything past `max` bytes of input is cut (at a character
 * boundary) and marked with "...". The output is valid UTF-8 when the
 * input is. */
static void quote(char *buf, size_t cap, const char *s, size_t len,
                  size_t max) {
  size_t o = 0, i = 0;
  if (cap < 8) {
    if (cap > 0)
      buf[0] = '\0';
    return;
  }
  buf[o++] = '"';
  while (i < len) {
    unsigned char c = (unsigned char)s[i];
    char tmp[8];
    size_t n = 1, tn;
    if (c < 0x20 || c == 0x7F) {
      snprintf(tmp, sizeof tmp, "\\u%04X", c);
    } else if (c == 0xC2 && i + 1 < len && (unsigned char)s[i + 1] >= 0x80 &&
               (unsigned char)s[i + 1] <= 0x9F) {
      snprintf(tmp, sizeof tmp, "\\u%04X", (unsigned char)s[i + 1]);
      n = 2;
    } else if (c == '"' || c == '\\') {
      tmp[0] = '\\';
      tmp[1] = (char)c;
      tmp[2] = '\0';
    } else {
      /* Copy a whole UTF-8 sequence so that a cut never splits one. */
      if (c >= 0xF0)
        n = 4;
      else if (c >= 0xE0)
        n = 3;
      else if (c >= 0xC0)
        n = 2;
      if (n > len - i)
        n = len - i;
      memcpy(tmp, s + i, n);
      tmp[n] = '\0';
    }
    tn = strlen(tmp);
    if (i + n > max || o + tn + 5 > cap) {
      memcpy(buf + o, "...", 3);
      o += 3;
      break;
    }
    memcpy(buf + o, tmp, tn);
    o += tn;
    i += n;
  }
  buf[o++] = '"';
  buf[o] = '\0';
}

/* The longest piece of user text quoted in a message. */
#define QUOTE_MAX 48

#if defined(__GNUC__)
__attribute__((format(printf, 4, 5)))
#endif
static int
reject(reader *r, const char *code, const char *field, const char *fmt, ...) {
  va_list ap;
  snprintf(r->rej->code, sizeof r->rej->code, "%s", code);
  snprintf(r->rej->field, sizeof r->rej->field, "%s", field);
  va_start(ap, fmt);
  vsnprintf(r->rej->message, sizeof r->rej->message, fmt, ap);
  va_end(ap);
  return RB_EREJECT;
}

/* A user-supplied key as a field name: control characters are replaced
 * and the cut falls on a character boundary. */
static void key_field(char *out, size_t cap, const char *key, size_t len) {
  size_t o = 0, i = 0;
  while (i < len) {
    unsigned char c = (unsigned char)key[i];
    size_t n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
    if (n > len - i)
      n = len - i;
    if (o + n + 1 > cap)
      break;
    if (c < 0x20 || c == 0x7F ||
        (c == 0xC2 && n == 2 && (unsigned char)key[i + 1] <= 0x9F)) {
      out[o++] = '?';
    } else {
      memcpy(out + o, key + i, n);
      o += n;
    }
    i += n;
  }
  out[o] = '\0';
}

static const char *type_name(const rb__json_node *n) {
  switch ((rb__json_type)n->type) {
  case RB__JSON_NULL:
    return "null";
  case RB__JSON_FALSE:
  case RB__JSON_TRUE:
    return "a boolean";
  case RB__JSON_NUMBER:
    return "a number";
  case RB__JSON_STRING:
    return "a string";
  case RB__JSON_ARRAY:
    return "an array";
  case RB__JSON_OBJECT:
    return "an object";
  }
  return "a value";
}

/* ------------------------------------------------------------------ */
/* Fields                                                             */
/* ------------------------------------------------------------------ */

/* A member of obj; an explicit null counts as absent. */
static const rb__json_node *member(const reader *r, const rb__json_node *obj,
                                   const char *key) {
  const rb__json_node *m = rb__json_get(r->d, obj, key);
  return m != NULL && m->type == RB__JSON_NULL ? NULL : m;
}

static int missing(reader *r, const char *field) {
  return reject(r, "missing_field", field, "missing required field \"%s\"",
                field);
}

/* Ids and names: a non-empty string of at most RB_ID_MAX bytes without
 * control characters (U+0000 would cut the C string short; the others
 * have no place in an identifier). */
static int take_id(reader *r, const rb__json_node *obj, const char *field,
                   span *out) {
  const rb__json_node *n = member(r, obj, field);
  size_t i;
  if (n == NULL)
    return missing(r, field);
  if (n->type != RB__JSON_STRING)
    return reject(r, "bad_field", field, "\"%s\" must be a string, got %s",
                  field, type_name(n));
  if (n->slen == 0)
    return reject(r, "bad_field", field, "\"%s\" must not be empty", field);
  if (n->slen > RB_ID_MAX)
    return reject(r, "out_of_range", field,
                  "\"%s\" is %" PRIu32 " bytes long, the limit is %d", field,
                  n->slen, RB_ID_MAX);
  for (i = 0; i < n->slen; i++) {
    unsigned char c = (unsigned char)n->s[i];
    if (c < 0x20 || c == 0x7F)
      return reject(r, "bad_field", field,
                    "\"%s\" must not contain control characters", field);
  }
  out->s = n->s;
  out->len = n->slen;
  return 0;
}

/* An integer written as a JSON integer, within [min, max]. */
static int take_int_node(reader *r, const rb__json_node *n, const char *field,
                         int64_t min, int64_t max, int64_t *out) {
  char snip[QUOTE_MAX + 16];
  int rc;
  if (n->type != RB__JSON_NUMBER)
    return reject(r, "bad_field", field, "\"%s\" must be an integer, got %s",
                  field, type_name(n));
  quote(snip, sizeof snip, n->s, n->slen, QUOTE_MAX);
  rc = rb__json_int64(n, out);
  if (rc == RB_ESYNTAX)
    return reject(r, "bad_field", field,
                  "\"%s\" must be an integer (no fraction or exponent), "
                  "got %s",
                  field, snip);
  if (rc == RB_EOVERFLOW)
    return reject(r, "out_of_range", field,
                  "\"%s\" does not fit in a 64-bit integer, got %s", field,
                  snip);
  if (*out < min)
    return reject(r, "out_of_range", field,
                  "\"%s\" must be >= %" PRId64 ", got %" PRId64, field, min,
                  *out);
  if (*out > max)
    return reject(r, "out_of_range", field,
                  "\"%s\" must be <= %" PRId64 ", got %" PRId64, field, max,
                  *out);
  return 0;
}

static int take_int(reader *r, const rb__json_node *obj, const char *key,
                    const char *field, int64_t min, int64_t max, int64_t *out) {
  const rb__json_node *n = member(r, obj, key);
  if (n == NULL)
    return missing(r, field);
  return take_int_node(r, n, field, min, max, out);
}

/* Money: a decimal string. `positive` demands > 0, otherwise >= 0. A
 * missing optional amount leaves *out untouched. */
static int take_money(reader *r, const rb__json_node *obj, const char *field,
                      bool required, bool positive, rb_money *out) {
  const rb__json_node *n = member(r, obj, field);
  char snip[QUOTE_MAX + 16];
  rb_money v;
  int rc;
  if (n == NULL)
    return required ? missing(r, field) : 0;
  if (n->type == RB__JSON_NUMBER) {
    /* Number text is plain ASCII: it can be shown as it is. */
    return reject(r, "bad_money", field,
                  "\"%s\" must be a decimal string such as \"168.00\", "
                  "not a JSON number (got %.*s%s)",
                  field, (int)(n->slen > QUOTE_MAX ? QUOTE_MAX : n->slen), n->s,
                  n->slen > QUOTE_MAX ? "..." : "");
  }
  if (n->type != RB__JSON_STRING)
    return reject(r, "bad_field", field,
                  "\"%s\" must be a decimal string, got %s", field,
                  type_name(n));
  quote(snip, sizeof snip, n->s, n->slen, QUOTE_MAX);
  rc = rb_money_parse(n->s, n->slen, &v);
  if (rc == RB_EOVERFLOW)
    return reject(r, "out_of_range", field,
                  "\"%s\" is too large an amount, got %s", field, snip);
  if (rc != 0)
    return reject(r, "bad_money", field,
                  "\"%s\" is not a decimal amount with at most %d "
                  "decimals, got %s",
                  field, RB_MONEY_PLACES, snip);
  if (positive ? v <= 0 : v < 0)
    return reject(r, "out_of_range", field, "\"%s\" must be %s, got %s", field,
                  positive ? "> 0" : ">= 0", snip);
  *out = v;
  return 0;
}

/* A time: an RFC 3339 string. A missing optional time is RB_TIME_NONE. */
static int take_time(reader *r, const rb__json_node *obj, const char *field,
                     bool required, rb_time *out) {
  const rb__json_node *n = member(r, obj, field);
  char snip[QUOTE_MAX + 16];
  if (n == NULL) {
    *out = RB_TIME_NONE;
    return required ? missing(r, field) : 0;
  }
  if (n->type != RB__JSON_STRING)
    return reject(r, "bad_field", field,
                  "\"%s\" must be an RFC 3339 time string, got %s", field,
                  type_name(n));
  if (rb_time_parse(n->s, n->slen, out, NULL) != 0) {
    quote(snip, sizeof snip, n->s, n->slen, QUOTE_MAX);
    return reject(r, "bad_time", field,
                  "\"%s\" is not a valid RFC 3339 time with an offset, got %s",
                  field, snip);
  }
  return 0;
}

static int take_bool(reader *r, const rb__json_node *obj, const char *field,
                     bool *out) {
  const rb__json_node *n = member(r, obj, field);
  if (n == NULL)
    return 0;
  if (n->type != RB__JSON_TRUE && n->type != RB__JSON_FALSE)
    return reject(r, "bad_field", field, "\"%s\" must be true or false, got %s",
                  field, type_name(n));
  *out = n->type == RB__JSON_TRUE;
  return 0;
}

static int take_cycle(reader *r, const rb__json_node *obj, rb_cycle *out) {
  const rb__json_node *n = member(r, obj, "cycle");
  char snip[QUOTE_MAX + 16];
  if (n == NULL)
    return missing(r, "cycle");
  if (n->type == RB__JSON_STRING) {
    if (n->slen == 5 && memcmp(n->s, "daily", 5) == 0) {
      *out = RB_CYCLE_DAILY;
      return 0;
    }
    if (n->slen == 7 && memcmp(n->s, "monthly", 7) == 0) {
      *out = RB_CYCLE_MONTHLY;
      return 0;
    }
    quote(snip, sizeof snip, n->s, n->slen, QUOTE_MAX);
    return reject(r, "bad_field", "cycle",
                  "\"cycle\" must be \"daily\" or \"monthly\", got %s", snip);
  }
  return reject(r, "bad_field", "cycle",
                "\"cycle\" must be \"daily\" or \"monthly\", got %s",
                type_name(n));
}

/* ------------------------------------------------------------------ */
/* Video segments                                                     */
/* ------------------------------------------------------------------ */

static const char *const seg_keys[4] = {"offset", "seconds", "width", "height"};

/* Checks one segment and fills *seg. Segments must lie inside the
 * presence [0, presence); the comparison is arranged so that it cannot
 * overflow whatever the int64 values. */
static int take_segment(reader *r, const rb__json_node *n, size_t i,
                        int64_t presence, rb_segment *seg) {
  static const int64_t mins[4] = {0, 1, 1, 1};
  const int64_t maxs[4] = {INT64_MAX, INT64_MAX, RB_PIXELS_SIDE_MAX,
                           RB_PIXELS_SIDE_MAX};
  int64_t v[4];
  char field[32];
  int k, rc;
  if (n->type != RB__JSON_OBJECT) {
    snprintf(field, sizeof field, "video[%zu]", i);
    return reject(r, "bad_field", field, "\"%s\" must be an object, got %s",
                  field, type_name(n));
  }
  for (k = 0; k < 4; k++) {
    snprintf(field, sizeof field, "video[%zu].%s", i, seg_keys[k]);
    rc = take_int(r, n, seg_keys[k], field, mins[k], maxs[k], &v[k]);
    if (rc != 0)
      return rc;
  }
  if (v[1] > presence || v[0] > presence - v[1]) {
    snprintf(field, sizeof field, "video[%zu]", i);
    return reject(r, "segment_outside", field,
                  "segment %s (offset %" PRId64 ", %" PRId64
                  " s) ends after the session's %" PRId64 " s of presence",
                  field, v[0], v[1], presence);
  }
  seg->offset = v[0];
  seg->seconds = v[1];
  seg->width = v[2];
  seg->height = v[3];
  return 0;
}

/* Validates the whole array first and allocates only then, so that a
 * rejected line leaves nothing behind in the arena. */
static int take_video(reader *r, rb_arena *a, const rb__json_node *obj,
                      int64_t presence, rb_event *ev) {
  const rb__json_node *n = member(r, obj, "video"), *e;
  rb_segment seg, *segs;
  size_t i;
  int rc;
  if (n == NULL)
    return 0;
  if (n->type != RB__JSON_ARRAY)
    return reject(r, "bad_field", "video",
                  "\"video\" must be an array of segments, got %s",
                  type_name(n));
  if (n->count > RB_SEGMENTS_MAX)
    return reject(r, "out_of_range", "video",
                  "\"video\" has %" PRIu32 " segments, the limit is %d",
                  n->count, RB_SEGMENTS_MAX);
  if (n->count == 0)
    return 0;
  for (i = 0, e = rb__json_first(r->d, n); e; e = rb__json_next(r->d, e), i++)
    if ((rc = take_segment(r, e, i, presence, &seg)) != 0)
      return rc;
  segs = rb_arena_alloc(a, n->count * sizeof *segs);
  if (segs == NULL)
    return RB_ENOMEM;
  for (i = 0, e = rb__json_first(r->d, n); e; e = rb__json_next(r->d, e), i++)
    take_segment(r, e, i, presence, &segs[i]);
  ev->video = segs;
  ev->nvideo = n->count;
  return 0;
}

/* ------------------------------------------------------------------ */
/* Events                                                             */
/* ------------------------------------------------------------------ */

static const struct {
  const char *name;
  rb_event_type type;
} types[] = {
    {"account", RB_EV_ACCOUNT},
    {"app", RB_EV_APP},
    {"package", RB_EV_PACKAGE},
    {"topup", RB_EV_TOPUP},
    {"enable_postpaid", RB_EV_ENABLE_POSTPAID},
    {"disable_postpaid", RB_EV_DISABLE_POSTPAID},
    {"change_cycle", RB_EV_CHANGE_CYCLE},
    {"usage", RB_EV_USAGE},
};

static int take_type(reader *r, const rb__json_node *obj, rb_event_type *out) {
  const rb__json_node *n = member(r, obj, "type");
  char snip[QUOTE_MAX + 16];
  size_t i;
  if (n == NULL)
    return missing(r, "type");
  if (n->type != RB__JSON_STRING)
    return reject(r, "bad_field", "type", "\"type\" must be a string, got %s",
                  type_name(n));
  for (i = 0; i < sizeof types / sizeof types[0]; i++) {
    if (strlen(types[i].name) == n->slen &&
        memcmp(types[i].name, n->s, n->slen) == 0) {
      *out = types[i].type;
      return 0;
    }
  }
  quote(snip, sizeof snip, n->s, n->slen, QUOTE_MAX);
  return reject(r, "unknown_type", "type", "unknown event type %s", snip);
}

static int take_app(reader *r, const rb__json_node *obj, int64_t *out) {
  return take_int(r, obj, "app", "app", 1, INT64_MAX, out);
}

/* Pulls the fields of ev->type out of obj, in the documented order. */
static int take_fields(reader *r, rb_arena *a, const rb__json_node *obj,
                       rb_event *ev, span *sp) {
  int rc = 0;
  /* sp: 0 account, 1 package, 2 kind, 3 id, 4 user, 5 room. */
#define TRY(x)                                                                 \
  do {                                                                         \
    if ((rc = (x)) != 0)                                                       \
      return rc;                                                               \
  } while (0)
  switch (ev->type) {
  case RB_EV_ACCOUNT:
    TRY(take_id(r, obj, "account", &sp[0]));
    TRY(take_time(r, obj, "at", true, &ev->at));
    TRY(take_money(r, obj, "balance", false, false, &ev->money));
    break;
  case RB_EV_APP:
    TRY(take_app(r, obj, &ev->app));
    TRY(take_id(r, obj, "account", &sp[0]));
    TRY(take_time(r, obj, "at", true, &ev->at));
    TRY(take_bool(r, obj, "postpaid", &ev->postpaid));
    break;
  case RB_EV_PACKAGE:
    TRY(take_id(r, obj, "package", &sp[1]));
    TRY(take_id(r, obj, "account", &sp[0]));
    TRY(take_time(r, obj, "at", true, &ev->at));
    TRY(take_id(r, obj, "kind", &sp[2]));
    TRY(take_int(r, obj, "minutes", "minutes", 1, RB_MINUTES_MAX,
                 &ev->minutes));
    TRY(take_money(r, obj, "price", true, false, &ev->money));
    break;
  case RB_EV_TOPUP:
    TRY(take_id(r, obj, "account", &sp[0]));
    TRY(take_time(r, obj, "at", true, &ev->at));
    TRY(take_money(r, obj, "amount", true, true, &ev->money));
    break;
  case RB_EV_ENABLE_POSTPAID:
  case RB_EV_DISABLE_POSTPAID:
    TRY(take_app(r, obj, &ev->app));
    TRY(take_time(r, obj, "at", true, &ev->at));
    break;
  case RB_EV_CHANGE_CYCLE:
    TRY(take_id(r, obj, "account", &sp[0]));
    TRY(take_time(r, obj, "at", true, &ev->at));
    TRY(take_cycle(r, obj, &ev->cycle));
    break;
  case RB_EV_USAGE: {
    rb_time end;
    TRY(take_id(r, obj, "id", &sp[3]));
    TRY(take_app(r, obj, &ev->app));
    TRY(take_id(r, obj, "user", &sp[4]));
    TRY(take_id(r, obj, "room", &sp[5]));
    TRY(take_time(r, obj, "start", true, &ev->start));
    TRY(take_int(r, obj, "seconds", "seconds", 0, RB_SESSION_SECONDS_MAX,
                 &ev->seconds));
    TRY(take_time(r, obj, "received", false, &ev->received));
    TRY(take_video(r, a, obj, ev->seconds, ev));
    /* rb_time_parse stops at year 9999, far from int64's end, so the
     * sum cannot overflow. A `received` earlier than the end counts as
     * the end (SPEC 1.10). */
    end = ev->start + ev->seconds;
    ev->at =
        ev->received != RB_TIME_NONE && ev->received > end ? ev->received : end;
    break;
  }
  }
#undef TRY
  return rc;
}

static void clear_event(rb_event *ev) {
  memset(ev, 0, sizeof *ev);
  ev->at = RB_TIME_NONE;
  ev->start = RB_TIME_NONE;
  ev->received = RB_TIME_NONE;
  ev->account = ev->package = ev->kind = NULL;
  ev->id = ev->user = ev->room = NULL;
  ev->video = NULL;
}

int rb__event_parse_precise(rb_arena *a, const char *line, size_t len,
                            rb_event *ev, rb_reject *rej) {
  rb__json_doc d;
  reader r;
  rb_reject scratch;
  const rb__json_node *root;
  span sp[6];
  const char **dst[6];
  char snip[48];
  size_t i;
  int rc;

  if (a == NULL || ev == NULL || (line == NULL && len > 0))
    return RB_EINVAL;
  if (rej == NULL)
    rej = &scratch;
  memset(rej, 0, sizeof *rej);
  clear_event(ev);
  r.rej = rej;
  r.d = &d;

  if (len > RB_LINE_MAX)
    return reject(&r, "line_too_long", "",
                  "the line is %zu bytes long, the limit is %u bytes", len,
                  RB_LINE_MAX);

  /* A blank line gets its own message: it is a common slip. */
  for (i = 0; i < len; i++)
    if (line[i] != ' ' && line[i] != '\t' && line[i] != '\r' && line[i] != '\n')
      break;
  if (i == len)
    return reject(&r, "bad_json", "", "the line is empty");

  rb__json_init(&d);
  rc = rb__json_parse(&d, line, len);
  if (rc == RB_ESYNTAX) {
    if (d.dup_key != NULL) {
      char field[sizeof rej->field];
      key_field(field, sizeof field, d.dup_key, d.dup_keylen);
      quote(snip, sizeof snip, d.dup_key, d.dup_keylen, 32);
      rc = reject(&r, "bad_json", field,
                  "malformed JSON at column %zu: duplicate key %s", d.err_col,
                  snip);
    } else {
      rc = reject(&r, "bad_json", "", "malformed JSON at column %zu: %s",
                  d.err_col, d.err_msg);
    }
    goto out;
  }
  if (rc != 0)
    goto out;

  root = rb__json_root(&d);
  if (root->type != RB__JSON_OBJECT) {
    rc = reject(&r, "bad_json", "", "the line must be a JSON object, not %s",
                type_name(root));
    goto out;
  }

  memset(sp, 0, sizeof sp);
  if ((rc = take_type(&r, root, &ev->type)) != 0)
    goto out;
  if ((rc = take_fields(&r, a, root, ev, sp)) != 0)
    goto out;

  /* Everything is valid: only now copy the strings out of the line. */
  dst[0] = &ev->account;
  dst[1] = &ev->package;
  dst[2] = &ev->kind;
  dst[3] = &ev->id;
  dst[4] = &ev->user;
  dst[5] = &ev->room;
  for (i = 0; i < 6; i++) {
    if (sp[i].s == NULL)
      continue;
    *dst[i] = rb_arena_strndup(a, sp[i].s, sp[i].len);
    if (*dst[i] == NULL) {
      rc = RB_ENOMEM;
      goto out;
    }
  }

out:
  rb__json_free(&d);
  return rc;
}

/* The fast path takes the lines it is sure of; the rest, and with them
 * every rejection, go through the precise reader above (scan.h). */
int rb_event_parse(rb_arena *a, const char *line, size_t len, rb_event *ev,
                   rb_reject *rej) {
  if (a != NULL && ev != NULL && line != NULL && len <= RB_LINE_MAX) {
    int rc = rb__event_scan(a, line, len, ev);
    if (rc != RB__SCAN_UNSURE) {
      /* Nothing to report: empty texts (cheaper than clearing the
       * whole record on every accepted line). */
      if (rej != NULL)
        rej->code[0] = rej->field[0] = rej->message[0] = '\0';
      return rc;
    }
  }
  return rb__event_parse_precise(a, line, len, ev, rej);
}
