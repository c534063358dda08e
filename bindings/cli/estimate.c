/* estimate.c: `rtcbill estimate`, the price calculator (TRTC 价格计算器).
 *
 * Turns the shape of a month of live rooms (rooms a day, hosts and
 * audience per room, session minutes, video tier, days) into minutes per
 * tier, the general package's consumption, the postpaid cost and the
 * cheapest prepaid package, by rb_estimate under the loaded rules: no
 * price lives here. Prints a readable table, or one JSON object with
 * --json (money as decimal strings, minutes as integers).
 *
 * Depends on: cli.h, rtcbill.h (rb_estimate, money formatting, rb_buf),
 * rtcbill_rules.h (loading the Lua rules) and the C standard library.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "rtcbill_rules.h"

#define CMD CLI_NAME " estimate"

/* The options that take a value, in the order of the help. */
enum { O_ROOMS, O_HOSTS, O_AUDIENCE, O_MINUTES, O_TIER, O_DAYS, O_RULES, NOPT };
static const char *const option_names[NOPT] = {
    "--rooms", "--hosts", "--audience", "--minutes",
    "--tier",  "--days",  "--rules"};

static void help(FILE *f) {
  fprintf(f,
          "usage: " CMD " --rooms N --hosts N --audience N --minutes N\n"
          "                        --tier TIER [--days N] [--rules DIR] "
          "[--json]\n"
          "\n"
          "Estimates a month of interactive live rooms under the rules'\n"
          "tariff and package catalogue: minutes per tier, the general\n"
          "package's consumption, the postpaid cost at list price, the\n"
          "cheapest single prepaid package, and which is cheaper.\n"
          "Each host receives every other host's video, each audience\n"
          "member every host's; a lone host, or everyone in an audio room,\n"
          "is charged audio.\n"
          "\n"
          "Options:\n"
          "  --rooms N      live sessions a day (1 or more)\n"
          "  --hosts N      hosts per room (1 or more)\n"
          "  --audience N   audience per room (0 or more)\n"
          "  --minutes N    minutes per session (1 to %d)\n"
          "  --tier TIER    the video tier, a tier name of the rules\n"
          "                 (default rules: audio, SD, HD, HD+)\n"
          "  --days N       days in the month (1 to %d; default 30)\n"
          "  --rules DIR    the rule scripts (default: %s)\n"
          "  --json         print one JSON object instead of the table\n"
          "  -h, --help     show this help\n"
          "\n"
          "Exit status: 0 success, 1 invalid value or rules, 2 usage "
          "error.\n",
          RB_ESTIMATE_MINUTES_MAX, RB_ESTIMATE_DAYS_MAX,
          cli_default_rules_dir());
}

/* A whole number in decimal ('-' allowed, so that the core can say why
 * a negative count is wrong). Returns 0, or prints why and returns 1. */
static int parse_count(const char *opt, const char *s, int64_t *out) {
  const char *p = s + (s[0] == '-');
  if (*p == '\0' || strspn(p, "0123456789") != strlen(p)) {
    fprintf(stderr, CMD ": %s '%s' is not a whole number\n", opt, s);
    return 1;
  }
  errno = 0;
  long long v = strtoll(s, NULL, 10);
  if (errno == ERANGE) {
    fprintf(stderr, CMD ": %s '%s' is too large\n", opt, s);
    return 1;
  }
  *out = (int64_t)v;
  return 0;
}

/* Digits of v grouped by thousands with spaces: 1836000 -> "1 836 000".
 * s holds a formatted number (optional '-', digits, optional fraction). */
static const char *grouped(const char *s, char *buf, size_t cap) {
  size_t neg = s[0] == '-', ndig = strspn(s + neg, "0123456789"), o = 0;
  if (neg && o + 1 < cap)
    buf[o++] = '-';
  for (size_t i = 0; i < ndig && o + 2 < cap; i++) {
    if (i > 0 && (ndig - i) % 3 == 0)
      buf[o++] = ' ';
    buf[o++] = s[neg + i];
  }
  snprintf(buf + o, cap - o, "%s", s + neg + ndig);
  return buf;
}

static const char *num(int64_t v, char *buf, size_t cap) {
  char raw[32];
  snprintf(raw, sizeof raw, "%lld", (long long)v);
  return grouped(raw, buf, cap);
}

/* Money with at least `places` decimals, exact. */
static const char *money(rb_money v, int places, char *buf, size_t cap) {
  char raw[RB_MONEY_STRLEN];
  if (rb_money_format_min(v, places, raw, sizeof raw) < 0)
    snprintf(raw, sizeof raw, "?");
  snprintf(buf, cap, "%s", raw);
  return buf;
}

static const char *money_grouped(rb_money v, int places, char *buf,
                                 size_t cap) {
  char raw[RB_MONEY_STRLEN];
  return grouped(money(v, places, raw, sizeof raw), buf, cap);
}

/* "custom 7 344 thousand x 5.630" or "fixed 250 thousand". */
static const char *offer_text(const rb_offer *o, char *buf, size_t cap) {
  char a[40], b[40];
  if (o->type == RB_OFFER_CUSTOM)
    snprintf(buf, cap, "custom %s thousand x %s",
             num(o->thousands, a, sizeof a),
             money(o->per_thousand, 3, b, sizeof b));
  else if (o->type == RB_OFFER_FIXED)
    snprintf(buf, cap, "fixed %s thousand", num(o->thousands, a, sizeof a));
  else
    snprintf(buf, cap, "none");
  return buf;
}

static void print_table(FILE *f, const rb_rules_data *d,
                        const rb_estimate_input *in,
                        const rb_estimate_result *e) {
  const rb_tariff *t = &d->tariff;
  const rb_package_kind *k = &d->kinds[e->kind];
  char a[48], b[48], c[128], d1[48], d2[48], d3[48];

  fprintf(f, "%s room%s a day x %s day%s: %s host%s + %s audience, %s min, ",
          num(in->rooms, a, sizeof a), in->rooms == 1 ? "" : "s",
          num(in->days, b, sizeof b), in->days == 1 ? "" : "s",
          num(in->hosts, d1, sizeof d1), in->hosts == 1 ? "" : "s",
          num(in->audience, d2, sizeof d2), num(in->minutes, d3, sizeof d3));
  fprintf(f, "%s (rules %s)\n\n", t->tiers[e->tier].name, d->version);

  fprintf(f, "%-26s %16s %16s\n", "minutes", "per room a day", "per month");
  for (int i = 0; i < t->ntiers; i++)
    fprintf(f, "  %-24s %16s %16s\n", t->tiers[i].name,
            num(e->room_minutes[i], a, sizeof a),
            num(e->minutes[i], b, sizeof b));
  int64_t room_total = 0;
  for (int i = 0; i < t->ntiers; i++)
    room_total += e->room_minutes[i]; /* <= total_minutes: no overflow */
  fprintf(f, "  %-24s %16s %16s\n\n", "total", num(room_total, a, sizeof a),
          num(e->total_minutes, b, sizeof b));

  fprintf(f, "postpaid at list price (%s)\n", t->currency);
  for (int i = 0; i < t->ntiers; i++) {
    if (e->minutes[i] == 0)
      continue;
    char label[192];
    snprintf(label, sizeof label, "%s x %s / 1000", t->tiers[i].name,
             money(t->tiers[i].price_per_1000, 2, c, sizeof c));
    fprintf(f, "  %-41s %16s\n", label,
            money_grouped(e->amounts[i], 2, a, sizeof a));
  }
  fprintf(f, "  %-41s %16s\n\n", "total",
          money_grouped(e->postpaid, 2, a, sizeof a));

  fprintf(f, "prepaid, \"%s\" package (", k->name);
  for (int i = 0; i < t->ntiers; i++)
    fprintf(f, "%s%lld", i > 0 ? ":" : "", (long long)k->factors[i]);
  fprintf(f, ")\n");
  fprintf(f, "  %-41s %16s\n", "package minutes",
          num(e->package_minutes, a, sizeof a));
  fprintf(f, "  %-41s %16s\n", "need, in whole thousands",
          num(e->need_thousands, a, sizeof a));
  if (e->exact.type != RB_OFFER_NONE)
    fprintf(f, "  %-41s %16s\n", offer_text(&e->exact, c, sizeof c),
            money_grouped(e->exact.price, 2, a, sizeof a));
  if (e->prepaid.type != RB_OFFER_NONE) {
    char label[160];
    snprintf(label, sizeof label, "cheapest: %s",
             offer_text(&e->prepaid, c, sizeof c));
    fprintf(f, "  %-41s %16s\n\n", label,
            money_grouped(e->prepaid.price, 2, a, sizeof a));
  } else {
    fprintf(f, "  no single package of the catalogue covers the need\n\n");
  }

  if (e->cheaper == RB_CHEAPER_PREPAID)
    fprintf(f, "prepaid is cheaper by %s %s\n",
            money_grouped(e->saving, 2, a, sizeof a), t->currency);
  else if (e->cheaper == RB_CHEAPER_SAME)
    fprintf(f, "prepaid and postpaid cost the same\n");
  else if (e->prepaid.type != RB_OFFER_NONE)
    fprintf(f, "postpaid is cheaper by %s %s\n",
            money_grouped(e->saving, 2, a, sizeof a), t->currency);
  else
    fprintf(f, "postpaid is the only option\n");
}

static int json_money(rb_buf *b, rb_money v, int places) {
  char s[RB_MONEY_STRLEN];
  return rb_buf_json_string(b, money(v, places, s, sizeof s));
}

static int json_tiers(rb_buf *b, const rb_tariff *t, const int64_t *v) {
  int st = rb_buf_append(b, "{", 1);
  for (int i = 0; st == RB_OK && i < t->ntiers; i++) {
    if (i > 0)
      st = rb_buf_append(b, ",", 1);
    if (st == RB_OK)
      st = rb_buf_json_string(b, t->tiers[i].name);
    if (st == RB_OK)
      st = rb_buf_printf(b, ":%lld", (long long)v[i]);
  }
  return st == RB_OK ? rb_buf_append(b, "}", 1) : st;
}

static int json_offer(rb_buf *b, const rb_offer *o) {
  int st;
  if (o->type == RB_OFFER_NONE)
    return rb_buf_append(b, "null", 4);
  st = rb_buf_printf(b, "{\"type\":\"%s\",\"thousands\":%lld",
                     o->type == RB_OFFER_FIXED ? "fixed" : "custom",
                     (long long)o->thousands);
  if (st == RB_OK && o->type == RB_OFFER_CUSTOM) {
    st = rb_buf_append(b, ",\"per_thousand\":", 16);
    if (st == RB_OK)
      st = json_money(b, o->per_thousand, 3);
  }
  if (st == RB_OK)
    st = rb_buf_append(b, ",\"price\":", 9);
  if (st == RB_OK)
    st = json_money(b, o->price, 2);
  return st == RB_OK ? rb_buf_append(b, "}", 1) : st;
}

static int to_json(rb_buf *b, const rb_rules_data *d,
                   const rb_estimate_input *in, const rb_estimate_result *e) {
  const rb_tariff *t = &d->tariff;
  const rb_package_kind *k = &d->kinds[e->kind];
  int st = rb_buf_append(b, "{\"rules\":", 9);
  if (st == RB_OK)
    st = rb_buf_json_string(b, d->version);
  if (st == RB_OK)
    st = rb_buf_append(b, ",\"currency\":", 12);
  if (st == RB_OK)
    st = rb_buf_json_string(b, t->currency);
  if (st == RB_OK)
    st = rb_buf_printf(b,
                       ",\"input\":{\"rooms\":%lld,\"hosts\":%lld,"
                       "\"audience\":%lld,\"minutes\":%lld,\"days\":%lld,"
                       "\"tier\":",
                       (long long)in->rooms, (long long)in->hosts,
                       (long long)in->audience, (long long)in->minutes,
                       (long long)in->days);
  if (st == RB_OK)
    st = rb_buf_json_string(b, t->tiers[e->tier].name);
  if (st == RB_OK)
    st = rb_buf_append(b, "},\"room_minutes\":", 17);
  if (st == RB_OK)
    st = json_tiers(b, t, e->room_minutes);
  if (st == RB_OK)
    st = rb_buf_append(b, ",\"minutes\":", 11);
  if (st == RB_OK)
    st = json_tiers(b, t, e->minutes);
  if (st == RB_OK)
    st = rb_buf_printf(b, ",\"total_minutes\":%lld,\"package\":{\"kind\":",
                       (long long)e->total_minutes);
  if (st == RB_OK)
    st = rb_buf_json_string(b, k->name);
  if (st == RB_OK)
    st = rb_buf_append(b, ",\"factors\":", 11);
  if (st == RB_OK)
    st = json_tiers(b, t, k->factors);
  if (st == RB_OK)
    st = rb_buf_printf(b,
                       ",\"minutes\":%lld,\"thousands\":%lld},"
                       "\"postpaid\":{\"amounts\":{",
                       (long long)e->package_minutes,
                       (long long)e->need_thousands);
  for (int i = 0; st == RB_OK && i < t->ntiers; i++) {
    if (i > 0)
      st = rb_buf_append(b, ",", 1);
    if (st == RB_OK)
      st = rb_buf_json_string(b, t->tiers[i].name);
    if (st == RB_OK)
      st = rb_buf_append(b, ":", 1);
    if (st == RB_OK)
      st = json_money(b, e->amounts[i], 2);
  }
  if (st == RB_OK)
    st = rb_buf_append(b, "},\"total\":", 10);
  if (st == RB_OK)
    st = json_money(b, e->postpaid, 2);
  if (st == RB_OK)
    st = rb_buf_append(b, "},\"exact\":", 10);
  if (st == RB_OK)
    st = json_offer(b, &e->exact);
  if (st == RB_OK)
    st = rb_buf_append(b, ",\"prepaid\":", 11);
  if (st == RB_OK)
    st = json_offer(b, &e->prepaid);
  if (st == RB_OK)
    st = rb_buf_printf(
        b, ",\"cheaper\":\"%s\",\"saving\":", rb_cheaper_name(e->cheaper));
  if (st == RB_OK)
    st = json_money(b, e->saving, 2);
  return st == RB_OK ? rb_buf_append(b, "}\n", 2) : st;
}

/* Returns -1 to go on, or the exit status to return now. */
static int parse_args(int argc, char **argv, const char **v, bool *json) {
  cli_opt opts[NOPT + 2];
  for (int k = 0; k < NOPT; k++)
    opts[k] = (cli_opt){option_names[k], &v[k], NULL};
  opts[NOPT] = (cli_opt){"--json", NULL, json};
  opts[NOPT + 1] = (cli_opt){NULL, NULL, NULL};
  int status = cli_parse_args(argc, argv, "estimate", opts, help, NULL);
  if (status >= 0)
    return status;
  for (int k = 0; k <= O_TIER; k++)
    if (v[k] == NULL)
      return cli_usage_error("estimate", "missing %s", option_names[k]);
  return -1;
}

int cli_estimate(int argc, char **argv) {
  const char *v[NOPT] = {NULL};
  bool json = false;
  int rc = parse_args(argc, argv, v, &json);
  if (rc >= 0)
    return rc;

  rb_estimate_input in = {.days = 30, .tier = v[O_TIER]};
  int64_t *slots[] = {&in.rooms, &in.hosts, &in.audience, &in.minutes};
  for (int k = 0; k < 4; k++)
    if (parse_count(option_names[k], v[k], slots[k]) != 0)
      return CLI_EXIT_INVALID;
  if (v[O_DAYS] != NULL && parse_count("--days", v[O_DAYS], &in.days) != 0)
    return CLI_EXIT_INVALID;

  const char *dir = v[O_RULES] != NULL ? v[O_RULES] : cli_default_rules_dir();
  rb_rules *rules = NULL;
  char err[512] = "";
  rc = rb_lua_rules_load(dir, &rules, err, sizeof err);
  if (rc != RB_OK) {
    if (err[0] != '\0')
      fprintf(stderr, "%s\n", err);
    else
      fprintf(stderr, CMD ": %s: %s\n", dir, rb_strerror(rc));
    return CLI_EXIT_INVALID;
  }

  rb_estimate_result e;
  rc = rb_estimate(rules, &in, &e);
  if (rc != RB_OK) {
    /* The field is an option's name for the inputs (for an overflow,
     * the one whose multiplication went past 64 bits). */
    int opt = -1;
    for (int k = 0; k < O_RULES && opt < 0; k++)
      if (strcmp(option_names[k] + 2, e.field) == 0)
        opt = k;
    if (rc == RB_EOVERFLOW && opt >= 0)
      fprintf(stderr, CMD ": %s %s is too large: %s\n", option_names[opt],
              v[opt] != NULL ? v[opt] : "30", e.message);
    else if (rc == RB_EOVERFLOW)
      fprintf(stderr, CMD ": too large: %s\n", e.message);
    else
      fprintf(stderr, CMD ": %s%s\n", opt >= 0 ? "--" : "", e.message);
    rb_rules_unref(rules);
    return CLI_EXIT_INVALID;
  }

  const rb_rules_data *d = rb_rules_data_get(rules);
  rc = CLI_EXIT_OK;
  if (json) {
    rb_buf b = {0};
    if (to_json(&b, d, &in, &e) != RB_OK) {
      fprintf(stderr, CMD ": out of memory\n");
      rc = CLI_EXIT_INVALID;
    } else {
      fwrite(b.data, 1, b.len, stdout);
    }
    rb_buf_free(&b);
  } else {
    print_table(stdout, d, &in, &e);
  }
  if (fflush(stdout) != 0 || ferror(stdout)) {
    fprintf(stderr, CMD ": cannot write the output: %s\n", strerror(errno));
    rc = CLI_EXIT_INVALID;
  }
  rb_rules_unref(rules);
  return rc;
}
