/* serve.c: `rtcbill serve`, the billing daemon (bindings/daemon).
 *
 * Reads the configuration file, applies the command-line overrides and
 * runs the daemon until SIGTERM or SIGINT. docs/operations.md is the
 * operator's guide. Depends on: cli.h, rtcbill_daemon.h.
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
          "usage: " CLI_NAME " serve [--config FILE] [--db FILE] "
          "[--rules DIR] [--listen HOST:PORT]\n"
          "                     [--clock real|test] [--port-file FILE]\n"
          "\n"
          "Runs the billing daemon: an HTTP/1.1 JSON API (POST /v1/events,\n"
          "GET /v1/accounts/ID, /v1/bills/ID, /v1/notices, /metrics, ...),\n"
          "a durable SQLite store, real-time timers (bills at 10:00 in the\n"
          "billing time zone) and hot reload of the rules (SIGHUP, a change\n"
          "in the rules folder, POST /v1/rules/reload). SIGTERM or SIGINT\n"
          "stop it gracefully. See docs/operations.md.\n"
          "\n"
          "Options (each overrides the configuration file's key):\n"
          "  --config FILE     key = value settings, bearer tokens\n"
          "  --db FILE         the SQLite store (db)\n"
          "  --rules DIR       the rules folder (rules; default: %s)\n"
          "  --listen H:P      the address (listen; default 127.0.0.1:8080)\n"
          "  --clock MODE      real (default) or test: time moves only by\n"
          "                    POST /v1/clock\n"
          "  --port-file FILE  write the bound port there (for --listen\n"
          "                    127.0.0.1:0)\n"
          "  -h, --help        show this help\n"
          "\n"
          "Exit status: 0 after a graceful shutdown, 1 when the store or the\n"
          "engine failed (restart it: the journal is replayed), 2 usage or\n"
          "configuration error.\n",
          cli_default_rules_dir());
}

int cli_serve(int argc, char **argv) {
  static const char *const names[] = {"--config", "--db", "--rules",
                                      "--listen", "--clock", "--port-file"};
  static const char *const keys[] = {NULL, "db", "rules", "listen", "clock",
                                     "port_file"};
  const char *values[6] = {NULL};
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      help(stdout);
      return CLI_EXIT_OK;
    }
    int hit = 0;
    for (size_t k = 0; k < 6 && hit == 0; k++) {
      hit = cli_option_value(argc, argv, &i, names[k], &values[k]);
      if (hit < 0) {
        fprintf(stderr, CLI_NAME " serve: option '%s' needs a value\n",
                names[k]);
        return CLI_EXIT_USAGE;
      }
    }
    if (hit == 0) {
      fprintf(stderr,
              CLI_NAME " serve: unknown argument '%s'\n"
              "Try '" CLI_NAME " serve --help'.\n",
              argv[i]);
      return CLI_EXIT_USAGE;
    }
  }
  rb_daemon_config cfg;
  rb_daemon_config_init(&cfg);
  char err[512];
  if (values[0] != NULL &&
      rb_daemon_config_load(&cfg, values[0], err, sizeof err) != 0) {
    fprintf(stderr, CLI_NAME " serve: %s\n", err);
    rb_daemon_config_free(&cfg);
    return CLI_EXIT_USAGE;
  }
  for (size_t k = 1; k < 6; k++)
    if (values[k] != NULL &&
        rb_daemon_config_set(&cfg, keys[k], values[k], err, sizeof err) !=
            0) {
      fprintf(stderr, CLI_NAME " serve: %s: %s\n", names[k], err);
      rb_daemon_config_free(&cfg);
      return CLI_EXIT_USAGE;
    }
  if (cfg.rules == NULL &&
      rb_daemon_config_set(&cfg, "rules", cli_default_rules_dir(), err,
                           sizeof err) != 0) {
    fprintf(stderr, CLI_NAME " serve: %s\n", err);
    rb_daemon_config_free(&cfg);
    return CLI_EXIT_INVALID;
  }
  int status = rb_daemon_run(&cfg, stderr);
  rb_daemon_config_free(&cfg);
  return status;
}
