/* main.c: the `rtcbill` command's entry point.
 *
 * Dispatches to a subcommand and answers --help and --version. Only the
 * subcommands that are implemented are listed, so that the help never
 * promises what the binary cannot do. Depends on: cli.h.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"

/* Where the build put the rules: the install prefix's folder and the
 * source tree's. A build without them looks in ./rules. */
#ifndef RTCBILL_INSTALL_RULES_DIR
#define RTCBILL_INSTALL_RULES_DIR ""
#endif
#ifndef RTCBILL_SOURCE_RULES_DIR
#define RTCBILL_SOURCE_RULES_DIR "rules"
#endif

const char *cli_default_rules_dir(void) {
  /* An installed binary must not depend on the tree it was built from,
   * but a binary run from the build tree has no installed rules yet
   * (SPEC 1.10): tariff.lua marks a usable rules folder. */
  static const char install[] = RTCBILL_INSTALL_RULES_DIR;
  struct stat st;
  if (install[0] != '\0' &&
      stat(RTCBILL_INSTALL_RULES_DIR "/tariff.lua", &st) == 0 &&
      S_ISREG(st.st_mode))
    return install;
  return RTCBILL_SOURCE_RULES_DIR;
}

typedef struct command {
  const char *name;
  const char *summary;
  int (*run)(int argc, char **argv);
} command;

static const command commands[] = {
    {"simulate", "replay usage events on a virtual clock and write bills",
     cli_simulate},
    {"estimate", "price a month of live rooms: postpaid or a package",
     cli_estimate},
    {"compare", "rate the same events under two rule sets, with a report",
     cli_compare},
    {"explain", "show how a bill line came to be", cli_explain},
    {"check", "validate a rules folder and run its self-tests", cli_check},
    {"serve", "run the billing daemon: HTTP API, durable store, timers",
     cli_serve},
    {"verify", "replay a daemon's store and prove it consistent",
     cli_verify},
};

#define NCOMMANDS (sizeof commands / sizeof commands[0])

static void help(FILE *f) {
  fprintf(f, "usage: " CLI_NAME " <command> [options] [arguments]\n"
             "       " CLI_NAME " --help | --version\n"
             "\n"
             "Rates real-time audio/video usage and issues bills under the\n"
             "tariff and policies of Lua rule scripts.\n"
             "\n"
             "Commands:\n");
  for (size_t i = 0; i < NCOMMANDS; i++)
    fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
  fprintf(f, "\n"
             "Run '" CLI_NAME " <command> --help' for a command's options.\n"
             "Exit status: 0 success, 1 invalid input, 2 usage error.\n");
}

int main(int argc, char **argv) {
  if (argc < 2) {
    help(stderr);
    return CLI_EXIT_USAGE;
  }
  const char *arg = argv[1];
  if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
    help(stdout);
    return CLI_EXIT_OK;
  }
  if (strcmp(arg, "--version") == 0) {
    printf(CLI_NAME " %s\n", RTCBILL_VERSION);
    return CLI_EXIT_OK;
  }
  for (size_t i = 0; i < NCOMMANDS; i++)
    if (strcmp(arg, commands[i].name) == 0)
      return commands[i].run(argc - 1, argv + 1);
  if (arg[0] == '-')
    fprintf(stderr, CLI_NAME ": unknown option '%s'\n", arg);
  else
    fprintf(stderr, CLI_NAME ": unknown command '%s'\n", arg);
  fprintf(stderr, "Try '" CLI_NAME " --help'.\n");
  return CLI_EXIT_USAGE;
}
