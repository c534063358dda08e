/* args.c: the one command-line parser every subcommand uses, so that all
 * of them accept the same forms ("--name VALUE", "--name=VALUE", flags,
 * -h/--help, "--" before operands, "-" as an operand) and report usage
 * errors the same way ("rtcbill CMD: ..." then a pointer to --help, exit
 * status 2).
 *
 * Depends on: cli.h.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int cli_usage_error(const char *cmd, const char *fmt, ...) {
  va_list ap;
  fprintf(stderr, CLI_NAME " %s: ", cmd);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fprintf(stderr, "\nTry '" CLI_NAME " %s --help'.\n", cmd);
  return CLI_EXIT_USAGE;
}

/* The option of the table that argv[*i] names, or NULL. */
static const cli_opt *match(const cli_opt *opts, const char *a) {
  for (const cli_opt *o = opts; o->name != NULL; o++) {
    size_t n = strlen(o->name);
    if (strncmp(a, o->name, n) == 0 &&
        (a[n] == '\0' || (a[n] == '=' && o->value != NULL)))
      return o;
  }
  return NULL;
}

int cli_parse_args(int argc, char **argv, const char *cmd,
                   const cli_opt *opts, void (*help)(FILE *),
                   cli_operands *operands) {
  bool only_operands = false;
  if (operands != NULL) {
    operands->v = calloc((size_t)argc + 1, sizeof *operands->v);
    operands->n = 0;
    if (operands->v == NULL) {
      fprintf(stderr, CLI_NAME ": out of memory\n");
      return CLI_EXIT_INVALID;
    }
  }
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (only_operands || a[0] != '-' || strcmp(a, "-") == 0) {
      if (operands == NULL)
        return cli_usage_error(cmd, "unexpected argument '%s'", a);
      operands->v[operands->n++] = a;
      continue;
    }
    if (strcmp(a, "--") == 0) {
      only_operands = true;
      continue;
    }
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      help(stdout);
      return CLI_EXIT_OK;
    }
    const cli_opt *o = match(opts, a);
    if (o == NULL)
      return cli_usage_error(cmd, "unknown option '%s'", a);
    if (o->value == NULL) {
      *o->flag = true;
      continue;
    }
    if (*o->value != NULL)
      return cli_usage_error(cmd, "option '%s' is given twice", o->name);
    size_t n = strlen(o->name);
    if (a[n] == '=')
      *o->value = a + n + 1;
    else if (i + 1 < argc)
      *o->value = argv[++i];
    else
      return cli_usage_error(cmd, "option '%s' needs a value", o->name);
  }
  return -1;
}

bool cli_count_arg(const char *text, size_t max, size_t *out) {
  char *end = NULL;
  errno = 0;
  unsigned long n = strtoul(text, &end, 10);
  if (text[0] < '1' || text[0] > '9' || *end != '\0' || errno != 0 || n > max)
    return false;
  *out = (size_t)n;
  return true;
}

int cli_shares_option(const char *cmd, const char *text, size_t *out) {
  if (text == NULL || cli_count_arg(text, CLI_SHARES_MAX, out))
    return -1;
  return cli_usage_error(cmd,
                         "--shares '%s' is not a number of shares from 1 "
                         "to %d",
                         text, CLI_SHARES_MAX);
}

void cli_operands_free(cli_operands *ops) {
  free(ops->v);
  ops->v = NULL;
  ops->n = 0;
}
