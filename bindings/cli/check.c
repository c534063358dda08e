/* check.c: `rtcbill check [--rules DIR]`, the rule author's pre-flight.
 *
 * Loads the rule set in the sandbox, asks its policy functions sample
 * questions and runs its self-test fixtures (DIR/selftest/), all through
 * rb_lua_rules_check; prints "ok: rules VERSION (DIR)" and a summary of
 * the set, or every problem as "DIR/file.lua:LINE: message" on stderr.
 * Exit 0 when the set passed, 1 when it did not, 2 on a usage error.
 * Depends on: cli.h and rtcbill_rules.h.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "rtcbill_rules.h"

static void help(FILE *f) {
  fprintf(f,
          "usage: " CLI_NAME " check [--rules DIR]\n"
          "\n"
          "Loads the rule scripts in the sandbox and validates them: every\n"
          "field (tiers ordered and non-overlapping, prices non-negative\n"
          "decimal strings, factors positive whole numbers), the policy\n"
          "functions on sample questions (cycle() on several dates,\n"
          "decide() for every trigger, trial state and purchase), and the\n"
          "set's own self-tests: each DIR/selftest/NAME/ with events.jsonl\n"
          "and expect.json is simulated and compared. Problems are printed\n"
          "as DIR/file.lua:LINE: message.\n"
          "\n"
          "Options:\n"
          "  --rules DIR    the rule scripts (default: %s)\n"
          "  -h, --help     show this help\n"
          "\n"
          "Exit status: 0 the rules passed, 1 they did not, 2 usage "
          "error.\n",
          cli_default_rules_dir());
}

int cli_check(int argc, char **argv) {
  const char *dir = NULL;
  const cli_opt opts[] = {{"--rules", &dir, NULL}, {NULL, NULL, NULL}};
  int status = cli_parse_args(argc, argv, "check", opts, help, NULL);
  if (status >= 0)
    return status;
  if (dir == NULL)
    dir = cli_default_rules_dir();
  char *report = NULL;
  int rc = rb_lua_rules_check(dir, &report);
  FILE *out = rc == RB_OK ? stdout : stderr;
  if (report != NULL)
    fputs(report, out);
  else
    fprintf(stderr, CLI_NAME " check: %s\n", rb_strerror(rc));
  free(report);
  if (rc == RB_OK)
    return CLI_EXIT_OK;
  return CLI_EXIT_INVALID;
}
