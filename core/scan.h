/* scan.h: the reader's fast path (internal).
 *
 * rb__event_scan reads one input line in a single pass, without building
 * a tree or formatting anything, and accepts it only when it is sure the
 * precise reader (reader.c) would accept it with the same event. Anything
 * unusual (an escape in a string, an unknown or null key, a float, a
 * value out of range, a malformed byte) makes it give up, and the
 * precise reader then decides, producing the exact rejection when there
 * is one. So the fast path changes no outcome, only the cost of the
 * common case.
 *
 * Depends on: rtcbill.h.
 */
#ifndef RTCBILL_SCAN_H
#define RTCBILL_SCAN_H

#include <stddef.h>

#include "rtcbill.h"

/* rb__event_scan's "not sure: ask the precise reader". */
#define RB__SCAN_UNSURE 1

/* Parses line[0..len) into *ev (cleared first, as rb_event_parse does).
 * Returns RB_OK with the event's strings and segments copied into the
 * arena (one allocation), RB__SCAN_UNSURE with the arena untouched, or
 * RB_ENOMEM. */
int rb__event_scan(rb_arena *a, const char *line, size_t len, rb_event *ev);

/* The precise reader alone (reader.c), for tests that compare the two
 * paths; rb_event_parse tries rb__event_scan first. */
int rb__event_parse_precise(rb_arena *a, const char *line, size_t len,
                            rb_event *ev, rb_reject *rej);

#endif /* RTCBILL_SCAN_H */
