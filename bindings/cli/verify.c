/* verify.c: `rtcbill verify --db FILE`, the proof that a daemon's store
 * is consistent: its journal, replayed from scratch, reproduces every
 * stored bill and notice and the stored state exactly.
 * Depends on: cli.h, rtcbill_daemon.h.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "rtcbill_daemon.h"

static void help(FILE *f) {
  fprintf(f,
          "usage: " CLI_NAME " verify --db FILE\n"
          "\n"
          "Replays the journal of a store written by '" CLI_NAME " serve'\n"
          "into a fresh engine and compares every regenerated bill and\n"
          "notice, every event's outcome and the final state digest with\n"
          "what is stored. Prints a summary. The store may be in use.\n"
          "\n"
          "Exit status: 0 consistent, 1 a difference (described), 2 usage\n"
          "error or a store that cannot be read.\n");
}

int cli_verify(int argc, char **argv) {
  const char *db = NULL;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      help(stdout);
      return CLI_EXIT_OK;
    }
    int hit = cli_option_value(argc, argv, &i, "--db", &db);
    if (hit <= 0) {
      fprintf(stderr,
              CLI_NAME " verify: %s '%s'\nTry '" CLI_NAME
              " verify --help'.\n",
              hit < 0 ? "option needs a value:" : "unknown argument",
              argv[i]);
      return CLI_EXIT_USAGE;
    }
  }
  if (db == NULL) {
    fprintf(stderr, CLI_NAME " verify: missing --db FILE\n");
    return CLI_EXIT_USAGE;
  }
  return rb_daemon_verify(db, stdout);
}
