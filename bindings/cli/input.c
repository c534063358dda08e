/* input.c: reads JSON Lines input one physical line at a time.
 *
 * Input files can be far larger than memory, and a single line can be
 * absurdly long (a corrupt file with no newlines). The reader therefore
 * reads fixed blocks and keeps at most RB_LINE_MAX + 1 bytes of a line:
 * anything longer is reported as too long with its length, never held
 * whole. Empty and all-white-space lines are skipped but keep their
 * numbers, so that a reported line number is what an editor shows.
 * Depends on: cli.h and the C standard library.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define BLOCK ((size_t)64 * 1024)
/* A line's content plus the '\r' of a CRLF ending. */
#define KEEP ((size_t)RB_LINE_MAX + 1)

int cli_reader_open(cli_reader *r, const char *path) {
  memset(r, 0, sizeof *r);
  if (strcmp(path, "-") == 0) {
    r->f = stdin;
  } else {
    r->f = fopen(path, "rb");
    if (r->f == NULL)
      return errno != 0 ? errno : EIO;
    r->owned = true;
  }
  r->block = malloc(BLOCK);
  r->line = malloc(KEEP + 1);
  if (r->block == NULL || r->line == NULL) {
    cli_reader_close(r);
    return ENOMEM;
  }
  return 0;
}

void cli_reader_close(cli_reader *r) {
  if (r->owned && r->f != NULL)
    fclose(r->f);
  r->f = NULL;
  free(r->block);
  free(r->line);
  r->block = NULL;
  r->line = NULL;
}

static bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

int cli_reader_next(cli_reader *r, cli_line *out) {
  if (r->f == NULL || r->block == NULL) {
    errno = EBADF;
    return -1;
  }
  for (;;) {
    size_t n = 0;       /* bytes kept in r->line */
    uint64_t total = 0; /* bytes in the line */
    bool blank = true, ended = false;
    for (;;) {
      if (r->bpos == r->blen) {
        if (r->eof)
          break;
        size_t got = fread(r->block, 1, BLOCK, r->f);
        if (got == 0) {
          if (ferror(r->f)) {
            if (errno == 0)
              errno = EIO;
            return -1;
          }
          r->eof = true;
          break;
        }
        r->blen = got;
        r->bpos = 0;
      }
      const char *start = r->block + r->bpos;
      size_t avail = r->blen - r->bpos;
      const char *nl = memchr(start, '\n', avail);
      size_t take = nl != NULL ? (size_t)(nl - start) : avail;
      if (n < KEEP) {
        size_t c = take < KEEP - n ? take : KEEP - n;
        memcpy(r->line + n, start, c);
        n += c;
      }
      /* Stops at the first visible byte, so this costs nothing on
       * ordinary lines. */
      for (size_t i = 0; blank && i < take; i++)
        blank = is_space(start[i]);
      total += take;
      r->bpos += take + (nl != NULL);
      if (nl != NULL) {
        ended = true;
        break;
      }
    }
    if (!ended && total == 0)
      return 0;
    r->lineno++;
    if (blank)
      continue;
    memset(out, 0, sizeof *out);
    out->number = r->lineno;
    if (total <= KEEP && n > 0 && r->line[n - 1] == '\r') {
      n--;
      total--;
    }
    out->length = total;
    if (total > RB_LINE_MAX) {
      out->too_long = true;
      return 1;
    }
    r->line[n] = '\0';
    out->data = r->line;
    out->len = n;
    return 1;
  }
}
