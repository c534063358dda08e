/* input.c: reads JSON Lines input one physical line at a time.
 *
 * Input files can be far larger than memory, and a single line can be
 * absurdly long (a corrupt file with no newlines). The reader therefore
 * reads large blocks and hands out each line in place, inside the block
 * (its newline overwritten with a NUL), so that an ordinary line is
 * never copied; a line cut by the block's end is moved to the front
 * with the next read. Only a line longer than a whole block takes the
 * slow path, which keeps at most RB_LINE_MAX + 1 of its bytes: anything
 * longer is reported as too long with its length, never held whole.
 * Empty and all-white-space lines are skipped but keep their numbers, so
 * that a reported line number is what an editor shows. A reader may
 * cover a byte range of a file (cli_reader_open_range), so that threads
 * can read one file in parts.
 * Depends on: cli.h, the C standard library and POSIX fseeko.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "cli.h"

/* Larger than the longest accepted line, so that every line that can be
 * accepted is read in place. */
#define BLOCK ((size_t)4 << 20)
/* A line's content plus the '\r' of a CRLF ending. */
#define KEEP ((size_t)RB_LINE_MAX + 1)

static int open_file(cli_reader *r, const char *path) {
  memset(r, 0, sizeof *r);
  r->end = UINT64_MAX;
  if (strcmp(path, "-") == 0) {
    r->f = stdin;
  } else {
    r->f = fopen(path, "rb");
    if (r->f == NULL)
      return errno != 0 ? errno : EIO;
    r->owned = true;
  }
  /* One spare byte for the NUL after a last line without a newline. */
  r->block = malloc(BLOCK + 1);
  if (r->block == NULL) {
    cli_reader_close(r);
    return ENOMEM;
  }
  return 0;
}

int cli_reader_open(cli_reader *r, const char *path) {
  return open_file(r, path);
}

int cli_reader_open_range(cli_reader *r, const char *path, uint64_t begin,
                          uint64_t end) {
  int rc = open_file(r, path);
  if (rc != 0)
    return rc;
  r->end = end;
  if (begin > 0) {
    /* The line that holds byte begin - 1 belongs to the range before:
     * start after its newline. */
    if (fseeko(r->f, (off_t)(begin - 1), SEEK_SET) != 0) {
      rc = errno != 0 ? errno : EIO;
      cli_reader_close(r);
      return rc;
    }
    r->base = begin - 1;
    r->skip = true;
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

/* Reads more bytes after the block's content. Returns 0, or -1 on a
 * read error (errno set); sets eof when the file is done. */
static int fill(cli_reader *r) {
  size_t got = fread(r->block + r->blen, 1, BLOCK - r->blen, r->f);
  if (got == 0) {
    if (ferror(r->f)) {
      if (errno == 0)
        errno = EIO;
      return -1;
    }
    r->eof = true;
  }
  r->blen += got;
  return 0;
}

/* Moves the unread tail to the front of the block, then fills it. */
static int refill(cli_reader *r) {
  size_t tail = r->blen - r->bpos;
  memmove(r->block, r->block + r->bpos, tail);
  r->base += r->bpos;
  r->bpos = 0;
  r->blen = tail;
  return fill(r);
}

/* Reads a fresh block when the current one is used up. */
static int next_block(cli_reader *r) {
  r->base += r->blen;
  r->bpos = r->blen = 0;
  return fill(r);
}

/* The slow path, for a line longer than a block: streams through it,
 * keeping its first KEEP bytes in r->line. Returns 1 with the line's
 * kept bytes and total length, 0 at the end, -1 on an error. */
static int long_line(cli_reader *r, size_t *kept, uint64_t *total,
                     bool *blank) {
  size_t n = 0;
  bool ended = false;
  *total = 0;
  *blank = true;
  if (r->line == NULL && (r->line = malloc(KEEP + 1)) == NULL) {
    errno = ENOMEM;
    return -1;
  }
  for (;;) {
    if (r->bpos == r->blen) {
      if (r->eof)
        break;
      if (next_block(r) != 0)
        return -1;
      if (r->blen == 0)
        break;
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
    for (size_t i = 0; *blank && i < take; i++)
      *blank = is_space(start[i]);
    *total += take;
    r->bpos += take + (nl != NULL);
    if (nl != NULL) {
      ended = true;
      break;
    }
  }
  *kept = n;
  return ended || *total > 0 ? 1 : 0;
}

/* Skips through the first newline (the end of the previous range's
 * last line). Returns 0 or -1 on a read error. */
static int skip_partial(cli_reader *r) {
  for (;;) {
    if (r->bpos == r->blen) {
      if (r->eof)
        return 0;
      if (next_block(r) != 0)
        return -1;
      continue;
    }
    const char *start = r->block + r->bpos;
    const char *nl = memchr(start, '\n', r->blen - r->bpos);
    if (nl != NULL) {
      r->bpos += (size_t)(nl - start) + 1;
      return 0;
    }
    r->bpos = r->blen;
  }
}

int cli_reader_next(cli_reader *r, cli_line *out) {
  if (r->f == NULL || r->block == NULL) {
    errno = EBADF;
    return -1;
  }
  if (r->skip) {
    r->skip = false;
    if (skip_partial(r) != 0)
      return -1;
  }
  for (;;) {
    if (r->base + r->bpos >= r->end)
      return 0; /* the next line starts in the next range */
    char *start = r->block + r->bpos;
    size_t avail = r->blen - r->bpos;
    char *nl = avail > 0 ? memchr(start, '\n', avail) : NULL;
    char *line;
    size_t n;
    uint64_t total;
    bool blank = true;
    if (nl == NULL && !r->eof) {
      /* The line goes on past the block: bring it to the front and read
       * more, unless it already fills a whole block. */
      if (r->bpos > 0 || r->blen < BLOCK) {
        if (refill(r) != 0)
          return -1;
        continue;
      }
      int rc = long_line(r, &n, &total, &blank);
      if (rc <= 0)
        return rc;
      line = r->line;
    } else {
      if (nl == NULL && avail == 0)
        return 0; /* the end of the file */
      n = nl != NULL ? (size_t)(nl - start) : avail;
      total = n;
      line = start;
      r->bpos += n + (nl != NULL);
      /* Stops at the first visible byte, so this costs nothing on
       * ordinary lines. */
      for (size_t i = 0; blank && i < n; i++)
        blank = is_space(start[i]);
    }
    r->lineno++;
    if (blank)
      continue;
    memset(out, 0, sizeof *out);
    out->number = r->lineno;
    if (total <= KEEP && n > 0 && line[n - 1] == '\r') {
      n--;
      total--;
    }
    out->length = total;
    if (total > RB_LINE_MAX) {
      out->too_long = true;
      return 1;
    }
    line[n] = '\0';
    out->data = line;
    out->len = n;
    return 1;
  }
}
