/* fuzz_event.c: fuzz target for the event-line reader (rb_event_parse).
 *
 * The input is one line. Whatever it holds, the reader must return
 * RB_OK or RB_EREJECT, never crash, and:
 *  - on success, the event is within the limits docs/formats.md
 *    documents (ids 1..RB_ID_MAX bytes without control characters,
 *    integer ranges, segments inside the presence, the effective time);
 *  - on rejection, the code is one of the reader's documented codes,
 *    the message and field are NUL-terminated, valid UTF-8 without
 *    control characters, and the arena has not grown (a refused line
 *    costs nothing).
 * Depends on: fuzz.h, rtcbill.h (reader, arena, money, time).
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include <stdbool.h>
#include <string.h>

#include "fuzz.h"
#include "rtcbill.h"

/* The codes rb_event_parse may use (docs/formats.md, section 3: those
 * raised by the reader). */
static const char *const reader_codes[] = {
    "line_too_long", "bad_json",     "missing_field",
    "unknown_type",  "bad_field",    "bad_time",
    "bad_money",     "out_of_range", "segment_outside"};

static bool terminated(const char *s, size_t cap) {
  return memchr(s, '\0', cap) != NULL;
}

/* Valid UTF-8 (RFC 3629) with no C0, DEL or C1 control character. */
static bool clean_text(const char *s) {
  const unsigned char *p = (const unsigned char *)s;
  while (*p != '\0') {
    unsigned char c = *p;
    size_t n, i;
    if (c < 0x20 || c == 0x7F)
      return false;
    if (c < 0x80) {
      p++;
      continue;
    }
    if (c >= 0xC2 && c <= 0xDF)
      n = 2;
    else if (c >= 0xE0 && c <= 0xEF)
      n = 3;
    else if (c >= 0xF0 && c <= 0xF4)
      n = 4;
    else
      return false;
    for (i = 1; i < n; i++)
      if (p[i] < 0x80 || p[i] > 0xBF)
        return false;
    if (c == 0xC2 && p[1] <= 0x9F)
      return false; /* U+0080..U+009F, the C1 controls */
    if ((c == 0xE0 && p[1] < 0xA0) || (c == 0xED && p[1] > 0x9F) ||
        (c == 0xF0 && p[1] < 0x90) || (c == 0xF4 && p[1] > 0x8F))
      return false;
    p += n;
  }
  return true;
}

/* An id as the reader promises it: 1..RB_ID_MAX bytes, no C0 or DEL. */
static void check_id(const char *s) {
  size_t n, i;
  FUZZ_CHECK(s != NULL);
  n = strlen(s);
  FUZZ_CHECK(n >= 1 && n <= RB_ID_MAX);
  for (i = 0; i < n; i++)
    FUZZ_CHECK((unsigned char)s[i] >= 0x20 && (unsigned char)s[i] != 0x7F);
}

static void check_time(rb_time t) {
  /* 0001-01-01T00:00:00+23:59 .. 9999-12-31T23:59:59-23:59. */
  FUZZ_CHECK(t >= INT64_C(-62135596800) - 86400);
  FUZZ_CHECK(t <= INT64_C(253402300799) + 86400);
}

static void check_accepted(const rb_event *ev) {
  switch (ev->type) {
  case RB_EV_ACCOUNT:
    check_id(ev->account);
    FUZZ_CHECK(ev->money >= 0);
    break;
  case RB_EV_APP:
    check_id(ev->account);
    FUZZ_CHECK(ev->app >= 1);
    break;
  case RB_EV_PACKAGE:
    check_id(ev->package);
    check_id(ev->account);
    check_id(ev->kind);
    FUZZ_CHECK(ev->minutes >= 1 && ev->minutes <= RB_MINUTES_MAX);
    FUZZ_CHECK(ev->money >= 0);
    break;
  case RB_EV_TOPUP:
    check_id(ev->account);
    FUZZ_CHECK(ev->money > 0);
    break;
  case RB_EV_ENABLE_POSTPAID:
  case RB_EV_DISABLE_POSTPAID:
    FUZZ_CHECK(ev->app >= 1);
    break;
  case RB_EV_CHANGE_CYCLE:
    check_id(ev->account);
    FUZZ_CHECK(ev->cycle == RB_CYCLE_DAILY || ev->cycle == RB_CYCLE_MONTHLY);
    break;
  case RB_EV_USAGE: {
    rb_time end;
    size_t i;
    check_id(ev->id);
    check_id(ev->user);
    check_id(ev->room);
    FUZZ_CHECK(ev->app >= 1);
    check_time(ev->start);
    FUZZ_CHECK(ev->seconds >= 0 && ev->seconds <= RB_SESSION_SECONDS_MAX);
    end = ev->start + ev->seconds;
    if (ev->received != RB_TIME_NONE) {
      check_time(ev->received);
      FUZZ_CHECK(ev->at == (ev->received > end ? ev->received : end));
    } else {
      FUZZ_CHECK(ev->at == end);
    }
    FUZZ_CHECK(ev->nvideo <= RB_SEGMENTS_MAX);
    FUZZ_CHECK(ev->nvideo == 0 || ev->video != NULL);
    for (i = 0; i < ev->nvideo; i++) {
      const rb_segment *s = &ev->video[i];
      FUZZ_CHECK(s->offset >= 0 && s->seconds >= 1);
      FUZZ_CHECK(s->seconds <= ev->seconds);
      FUZZ_CHECK(s->offset <= ev->seconds - s->seconds);
      FUZZ_CHECK(s->width >= 1 && s->width <= RB_PIXELS_SIDE_MAX);
      FUZZ_CHECK(s->height >= 1 && s->height <= RB_PIXELS_SIDE_MAX);
    }
    return; /* usage has `start`, checked above */
  }
  default:
    FUZZ_CHECK(!"unknown event type");
  }
  check_time(ev->at);
}

static void check_rejected(const rb_reject *rej) {
  size_t i;
  bool known = false;
  FUZZ_CHECK(terminated(rej->code, sizeof rej->code));
  FUZZ_CHECK(terminated(rej->field, sizeof rej->field));
  FUZZ_CHECK(terminated(rej->message, sizeof rej->message));
  for (i = 0; i < sizeof reader_codes / sizeof reader_codes[0]; i++)
    if (strcmp(rej->code, reader_codes[i]) == 0)
      known = true;
  if (!known)
    fprintf(stderr, "undocumented code \"%s\"\n", rej->code);
  FUZZ_CHECK(known);
  FUZZ_CHECK(rej->message[0] != '\0');
  FUZZ_CHECK(clean_text(rej->message));
  FUZZ_CHECK(clean_text(rej->field));
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  rb_arena *a = rb_arena_new();
  rb_event ev;
  rb_reject rej;
  size_t before;
  int rc;
  if (a == NULL)
    return 0;
  /* Something already in the arena, so that "did not grow" is tested
   * against a used arena, as in a real run. */
  FUZZ_CHECK(rb_arena_strndup(a, "seed", 4) != NULL);
  before = rb_arena_used(a);
  memset(&rej, 0xAB, sizeof rej); /* the reader must overwrite it */
  rc = rb_event_parse(a, (const char *)data, size, &ev, &rej);
  FUZZ_CHECK(rc == RB_OK || rc == RB_EREJECT);
  if (rc == RB_OK) {
    check_accepted(&ev);
  } else {
    check_rejected(&rej);
    FUZZ_CHECK(rb_arena_used(a) == before);
  }
  /* The same line parses the same way again. */
  {
    rb_reject rej2;
    rb_event ev2;
    int rc2 = rb_event_parse(a, (const char *)data, size, &ev2, &rej2);
    FUZZ_CHECK(rc2 == rc);
    if (rc == RB_EREJECT) {
      FUZZ_CHECK(strcmp(rej.code, rej2.code) == 0);
      FUZZ_CHECK(strcmp(rej.field, rej2.field) == 0);
      FUZZ_CHECK(strcmp(rej.message, rej2.message) == 0);
    } else {
      FUZZ_CHECK(ev2.type == ev.type && ev2.at == ev.at &&
                 ev2.money == ev.money && ev2.app == ev.app &&
                 ev2.nvideo == ev.nvideo);
    }
  }
  rb_arena_free(a);
  return 0;
}
