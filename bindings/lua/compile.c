/* compile.c: turns the tables the rule files left in their environments
 * into the core's rb_rules_data.
 *
 * Everything the core needs per usage record (tiers, prices, factors,
 * schedule) becomes plain C data here, once per load; Lua is then only
 * called at transitions. The first invalid field stops the compilation
 * with "file.lua:LINE: message". Lua keeps no positions for table
 * fields, so the line is found in the file's text, as a courtesy: the
 * first line assigning the field (rb__lua_find_key). Tables are read raw:
 * a metatable on a rule table is ignored.
 *
 * Depends on: host.h, rtcbill.h (rb_money_parse, rb_days_from_civil,
 * rb_civil_from_days), Lua 5.4 and the C standard library.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>

#include "catalogue.h"
#include "host.h"

/* ------------------------------------------------------------------ */
/* Finding lines                                                      */
/* ------------------------------------------------------------------ */

/* The code part of the line starting at p: up to "--" or the newline.
 * A "--" inside a string ends it early; that only costs a line hint. */
static size_t code_len(const char *p) {
  size_t n = 0;
  while (p[n] != '\0' && p[n] != '\n' && !(p[n] == '-' && p[n + 1] == '-'))
    n++;
  return n;
}

static size_t line_len(const char *p) {
  size_t n = 0;
  while (p[n] != '\0' && p[n] != '\n')
    n++;
  return n;
}

static bool is_ident(char ch) {
  return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
         (ch >= '0' && ch <= '9') || ch == '_';
}

static bool assigns(const char *code, size_t n, const char *key) {
  size_t k = strlen(key);
  for (size_t i = 0; i + k <= n; i++) {
    if (memcmp(code + i, key, k) != 0)
      continue;
    if (i > 0 && (is_ident(code[i - 1]) || code[i - 1] == '.'))
      continue;
    size_t j = i + k;
    if (j < n && is_ident(code[j]))
      continue;
    while (j < n && code[j] == ' ')
      j++;
    if (j < n && code[j] == '=' && (j + 1 >= n || code[j + 1] != '='))
      return true;
  }
  return false;
}

static bool holds_literal(const char *code, size_t n, const char *text) {
  size_t k = strlen(text);
  for (size_t i = 0; i + k + 2 <= n; i++) {
    char q = code[i];
    if ((q == '"' || q == '\'') && memcmp(code + i + 1, text, k) == 0 &&
        code[i + 1 + k] == q)
      return true;
  }
  return false;
}

int rb__lua_find_key(const char *src, const char *key, int from, int to) {
  int line = 1;
  for (const char *p = src; *p != '\0'; line++) {
    if (to > 0 && line >= to)
      break;
    if (line >= from && assigns(p, code_len(p), key))
      return line;
    p += line_len(p);
    if (*p == '\n')
      p++;
  }
  return 0;
}

int rb__lua_find_literal(const char *src, const char *text, int from) {
  int line = 1;
  for (const char *p = src; *p != '\0'; line++) {
    if (line >= from && holds_literal(p, code_len(p), text))
      return line;
    p += line_len(p);
    if (*p == '\n')
      p++;
  }
  return 0;
}

/* ------------------------------------------------------------------ */
/* Reading fields                                                     */
/* ------------------------------------------------------------------ */

typedef struct compiler {
  lua_State *L;
  rb__lua_host *h;
  rb_rules_data *d;
  int file; /* the RB__F_* being compiled */
  int env;  /* stack index of its environment */
} compiler;

/* Raises "file.lua:LINE: message"; never returns. */
static int fail(compiler *c, int line, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
static int fail(compiler *c, int line, const char *fmt, ...) {
  char msg[400];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return rb__lua_raise(c->L, c->file, line, msg);
}

static const char *src(const compiler *c) { return c->h->src[c->file]; }

/* The line assigning key at or after line `from`, else `from`. */
static int line_of(const compiler *c, const char *key, int from) {
  int line = rb__lua_find_key(src(c), key, from > 0 ? from : 1, 0);
  return line > 0 ? line : from;
}

/* Pushes t[key] (raw) and returns its type. */
static int get(compiler *c, int t, const char *key) {
  lua_pushstring(c->L, key);
  return lua_rawget(c->L, t);
}

/* Describes the value on top for a message: a number or short string
 * is shown, anything else is named by its type. */
static const char *shown(compiler *c, char *buf, size_t cap) {
  lua_State *L = c->L;
  if (lua_type(L, -1) == LUA_TNUMBER)
    snprintf(buf, cap, "the number %s", lua_tostring(L, -1));
  else if (lua_type(L, -1) == LUA_TSTRING)
    snprintf(buf, cap, "\"%.40s\"", lua_tostring(L, -1));
  else if (lua_type(L, -1) == LUA_TNIL)
    snprintf(buf, cap, "nil");
  else
    snprintf(buf, cap, "a %s", luaL_typename(L, -1));
  return buf;
}

/* The string t[key] (kept alive by t), 1..maxlen bytes. */
static const char *need_string(compiler *c, int t, const char *key,
                               const char *label, int line, size_t maxlen) {
  char b[64];
  int type = get(c, t, key);
  if (type == LUA_TNIL)
    fail(c, line, "%s is missing", label);
  if (type != LUA_TSTRING)
    fail(c, line, "%s must be a string, not %s", label, shown(c, b, sizeof b));
  size_t n;
  const char *s = lua_tolstring(c->L, -1, &n);
  if (n == 0 || n > maxlen)
    fail(c, line, "%s must be 1 to %zu characters long", label, maxlen);
  for (size_t i = 0; i < n; i++)
    if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
      fail(c, line, "%s must not contain control characters", label);
  lua_pop(c->L, 1);
  return s;
}

/* The whole number t[key] in lo..hi. */
static int64_t need_int(compiler *c, int t, const char *key, const char *label,
                        int line, int64_t lo, int64_t hi) {
  char b[64];
  int type = get(c, t, key);
  if (type == LUA_TNIL)
    fail(c, line, "%s is missing", label);
  if (!lua_isinteger(c->L, -1))
    fail(c, line, "%s must be a whole number, not %s", label,
         shown(c, b, sizeof b));
  int64_t v = (int64_t)lua_tointeger(c->L, -1);
  lua_pop(c->L, 1);
  if (v < lo || v > hi)
    fail(c, line, "%s must be between %lld and %lld, not %lld", label,
         (long long)lo, (long long)hi, (long long)v);
  return v;
}

/* The decimal string t[key] as money >= min. */
static rb_money need_money(compiler *c, int t, const char *key,
                           const char *label, int line, rb_money min) {
  char b[64];
  rb_money v;
  int type = get(c, t, key);
  if (type == LUA_TNIL)
    fail(c, line, "%s is missing", label);
  if (type == LUA_TNUMBER)
    fail(c, line,
         "%s must be a decimal string such as \"14.00\", not %s: money is "
         "never a float",
         label, shown(c, b, sizeof b));
  if (type != LUA_TSTRING)
    fail(c, line, "%s must be a decimal string, not %s", label,
         shown(c, b, sizeof b));
  size_t n;
  const char *s = lua_tolstring(c->L, -1, &n);
  int st = rb_money_parse(s, n, &v);
  if (st == RB_EOVERFLOW)
    fail(c, line, "%s \"%.40s\" is too large", label, s);
  if (st != RB_OK)
    fail(c, line,
         "%s \"%.40s\" is not a decimal amount (digits, then optionally "
         "'.' and 1 to 8 digits)",
         label, s);
  if (v < min)
    fail(c, line, "%s \"%.40s\" must be %s", label, s,
         min > 0 ? "greater than zero" : "zero or more");
  lua_pop(c->L, 1);
  return v;
}

/* Pushes the table t[key] and returns its stack index. */
static int need_table(compiler *c, int t, const char *key, const char *label,
                      int line) {
  char b[64];
  int type = get(c, t, key);
  if (type == LUA_TNIL)
    fail(c, line, "%s is missing", label);
  if (type != LUA_TTABLE)
    fail(c, line, "%s must be a table, not %s", label, shown(c, b, sizeof b));
  return lua_gettop(c->L);
}

/* Length of the array t, 1..max, with every element a table. */
static int need_array(compiler *c, int t, const char *label, int line, int max,
                      bool of_tables) {
  char b[64];
  lua_Unsigned n = lua_rawlen(c->L, t);
  if (n < 1 || n > (lua_Unsigned)max)
    fail(c, line, "%s must list 1 to %d entries, not %llu", label, max,
         (unsigned long long)n);
  for (lua_Unsigned i = 1; i <= n; i++) {
    int type = lua_rawgeti(c->L, t, (lua_Integer)i);
    if (of_tables && type != LUA_TTABLE)
      fail(c, line, "%s[%llu] must be a table, not %s", label,
           (unsigned long long)i, shown(c, b, sizeof b));
    lua_pop(c->L, 1);
  }
  return (int)n;
}

static void need_function(compiler *c, const char *name, const char *usage) {
  char b[64];
  int type = get(c, c->env, name);
  if (type == LUA_TNIL)
    fail(c, 0, "function %s is missing", usage);
  if (type != LUA_TFUNCTION)
    fail(c, line_of(c, name, 1), "%s must be a function %s, not %s", name,
         usage, shown(c, b, sizeof b));
  lua_pop(c->L, 1);
}

static void begin(compiler *c, int file) {
  lua_settop(c->L, 1);
  c->file = file;
  lua_rawgeti(c->L, LUA_REGISTRYINDEX, c->h->env[file]);
  c->env = lua_gettop(c->L);
}

/* ------------------------------------------------------------------ */
/* Small parsers                                                      */
/* ------------------------------------------------------------------ */

static int digits(const char *s, int n) {
  int v = 0;
  for (int i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9')
      return -1;
    v = v * 10 + (s[i] - '0');
  }
  return v;
}

/* "+HH:MM" / "-HH:MM" / "Z" to seconds east of UTC, or false. */
static bool parse_offset(const char *s, int32_t *out) {
  if (strcmp(s, "Z") == 0) {
    *out = 0;
    return true;
  }
  if (strlen(s) != 6 || (s[0] != '+' && s[0] != '-') || s[3] != ':')
    return false;
  int hh = digits(s + 1, 2), mm = digits(s + 4, 2);
  if (hh < 0 || hh > 23 || mm < 0 || mm > 59)
    return false;
  *out = (int32_t)((hh * 3600 + mm * 60) * (s[0] == '-' ? -1 : 1));
  return true;
}

/* "HH:MM" or "HH:MM:SS" to seconds after midnight, or -1. */
static int64_t parse_clock(const char *s) {
  size_t n = strlen(s);
  if ((n != 5 && n != 8) || s[2] != ':' || (n == 8 && s[5] != ':'))
    return -1;
  int hh = digits(s, 2), mm = digits(s + 3, 2);
  int ss = n == 8 ? digits(s + 6, 2) : 0;
  if (hh < 0 || hh > 23 || mm < 0 || mm > 59 || ss < 0 || ss > 59)
    return -1;
  return hh * 3600 + mm * 60 + ss;
}

/* "YYYY-MM-DD" (a date that exists) to days since 1970-01-01. */
static bool parse_date(const char *s, int64_t *days) {
  int64_t y;
  unsigned m, d;
  if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
    return false;
  int yy = digits(s, 4), mm = digits(s + 5, 2), dd = digits(s + 8, 2);
  if (yy < 1 || mm < 1 || mm > 12 || dd < 1 || dd > 31)
    return false;
  *days = rb_days_from_civil(yy, (unsigned)mm, (unsigned)dd);
  rb_civil_from_days(*days, &y, &m, &d);
  return y == yy && m == (unsigned)mm && d == (unsigned)dd;
}

/* ------------------------------------------------------------------ */
/* The files                                                          */
/* ------------------------------------------------------------------ */

/* Tier i (0-based) of n, from the array at stack index t. */
/* The line of the element named name, searched after the previous
 * element's line *prev first (so that a repeated name points at the
 * repetition), then from it; `at` when the name is not found. */
static int element_line(compiler *c, const char *name, int *prev, int at) {
  int line = rb__lua_find_literal(src(c), name, *prev + 1);
  if (line == 0)
    line = rb__lua_find_literal(src(c), name, *prev);
  if (line == 0)
    line = at;
  *prev = line;
  return line;
}

static void compile_tier(compiler *c, int t, int i, int n, int at, int *prev) {
  rb_tariff *tf = &c->d->tariff;
  rb_tier *tier = &tf->tiers[i];
  char label[64];
  lua_rawgeti(c->L, t, i + 1);
  int e = lua_gettop(c->L);
  snprintf(label, sizeof label, "tiers[%d].name", i + 1);
  const char *name = need_string(c, e, "name", label, at, RB_NAME_MAX - 1);
  int line = element_line(c, name, prev, at);
  for (int j = 0; j < i; j++)
    if (strcmp(tf->tiers[j].name, name) == 0)
      fail(c, line, "tier \"%s\" is listed twice", name);
  snprintf(tier->name, sizeof tier->name, "%s", name);

  snprintf(label, sizeof label, "tier \"%s\": price", name);
  tier->price_per_1000 =
      need_money(c, e, "price", label, line_of(c, "price", line), 0);

  int pline = line_of(c, "max_pixels", line);
  int type = get(c, e, "max_pixels");
  lua_pop(c->L, 1);
  if (i == 0) {
    if (type != LUA_TNIL)
      fail(c, pline,
           "tier \"%s\" is the audio tier (no video received) and "
           "cannot have max_pixels",
           name);
    tier->max_pixels = 0;
  } else if (type == LUA_TNIL) {
    if (i != n - 1)
      fail(c, line,
           "tier \"%s\" has no max_pixels: only the last tier may be "
           "unbounded",
           name);
    tier->max_pixels = INT64_MAX;
  } else {
    snprintf(label, sizeof label, "tier \"%s\": max_pixels", name);
    tier->max_pixels = need_int(c, e, "max_pixels", label, pline, 1,
                                (int64_t)RB_PIXELS_SIDE_MAX *
                                    RB_PIXELS_SIDE_MAX * RB_SEGMENTS_MAX);
    if (i > 1 && tier->max_pixels <= tf->tiers[i - 1].max_pixels)
      fail(c, pline,
           "tiers must be in increasing order of max_pixels: \"%s\" "
           "(%lld) is not above \"%s\" (%lld)",
           name, (long long)tier->max_pixels, tf->tiers[i - 1].name,
           (long long)tf->tiers[i - 1].max_pixels);
  }
  lua_pop(c->L, 1);
}

static void compile_tiers(compiler *c) {
  int at = line_of(c, "tiers", 0);
  int t = need_table(c, c->env, "tiers", "tiers", at);
  int n = need_array(c, t, "tiers", at, RB_MAX_TIERS, true);
  int prev = at > 0 ? at - 1 : 0;
  for (int i = 0; i < n; i++)
    compile_tier(c, t, i, n, at, &prev);
  c->d->tariff.ntiers = n;
  lua_pop(c->L, 1);
}

static void compile_tariff(compiler *c) {
  rb_tariff *tf = &c->d->tariff;
  int line;
  begin(c, RB__F_TARIFF);

  line = line_of(c, "currency", 0);
  const char *s = need_string(c, c->env, "currency", "currency", line,
                              sizeof tf->currency - 1);
  snprintf(tf->currency, sizeof tf->currency, "%s", s);

  line = line_of(c, "timezone", 0);
  s = need_string(c, c->env, "timezone", "timezone", line, 16);
  if (!parse_offset(s, &tf->tz_offset))
    fail(c, line, "timezone \"%s\" must be an offset such as \"+08:00\"", s);

  line = line_of(c, "video_mode", 0);
  s = need_string(c, c->env, "video_mode", "video_mode", line, 16);
  if (strcmp(s, "per_stream") == 0)
    tf->video_mode = RB_VIDEO_PER_STREAM;
  else if (strcmp(s, "aggregate") == 0)
    tf->video_mode = RB_VIDEO_AGGREGATE;
  else
    fail(c, line, "video_mode \"%s\" must be \"per_stream\" or \"aggregate\"",
         s);

  line = line_of(c, "total_rounding", 0);
  tf->total_unit =
      need_money(c, c->env, "total_rounding", "total_rounding", line, 1);
  compile_tiers(c);
}

static int64_t issue_time(compiler *c, int t, const char *key, int line) {
  char label[32];
  snprintf(label, sizeof label, "issue.%s.at", key);
  const char *s = need_string(c, t, "at", label, line, 8);
  int64_t v = parse_clock(s);
  if (v < 0)
    fail(c, line, "%s \"%s\" must be a time of day such as \"10:00\"", label,
         s);
  return v;
}

static void compile_settlement(compiler *c) {
  begin(c, RB__F_SETTLEMENT);
  need_function(c, "cycle", "cycle(account)");
  int at = line_of(c, "issue", 0);
  int t = need_table(c, c->env, "issue", "issue", at);

  int dline = line_of(c, "daily", at);
  int daily = need_table(c, t, "daily", "issue.daily", dline);
  c->d->daily_issue_delay =
      issue_time(c, daily, "daily", line_of(c, "at", dline));

  int mline = line_of(c, "monthly", at);
  int monthly = need_table(c, t, "monthly", "issue.monthly", mline);
  int64_t day = need_int(c, monthly, "day", "issue.monthly.day",
                         line_of(c, "day", mline), 1, 5);
  c->d->monthly_issue_delay =
      (day - 1) * 86400 +
      issue_time(c, monthly, "monthly", line_of(c, "at", mline));
}

static void compile_factors(compiler *c, int kind, int e, int line) {
  const rb_tariff *tf = &c->d->tariff;
  rb_package_kind *k = &c->d->kinds[kind];
  char label[96];
  snprintf(label, sizeof label, "kind \"%s\": factors", k->name);
  int fline = line_of(c, "factors", line);
  int f = need_table(c, e, "factors", label, fline);
  for (int i = 0; i < tf->ntiers; i++) {
    const char *tier = tf->tiers[i].name;
    int tline = rb__lua_find_key(src(c), tier, fline, 0);
    if (tline == 0)
      tline = rb__lua_find_literal(src(c), tier, fline);
    snprintf(label, sizeof label, "kind \"%s\": factors[\"%s\"]", k->name,
             tier);
    if (get(c, f, tier) == LUA_TNIL)
      fail(c, fline,
           "kind \"%s\" has no factor for tier \"%s\": every tier of "
           "tariff.lua needs one",
           k->name, tier);
    lua_pop(c->L, 1);
    k->factors[i] = need_int(c, f, tier, label, tline > 0 ? tline : fline, 1,
                             INT64_C(1000000));
  }
  /* A factor for a tier the tariff lacks is most likely a typo. */
  lua_pushnil(c->L);
  while (lua_next(c->L, f)) {
    lua_pop(c->L, 1);
    const char *key =
        lua_type(c->L, -1) == LUA_TSTRING ? lua_tostring(c->L, -1) : NULL;
    bool known = false;
    for (int i = 0; key != NULL && i < tf->ntiers; i++)
      known = known || strcmp(tf->tiers[i].name, key) == 0;
    if (!known)
      fail(c, fline,
           "kind \"%s\": factors has a key %s%s%s that is no tier of "
           "tariff.lua",
           k->name, key != NULL ? "\"" : "",
           key != NULL ? key : "that is not a string", key != NULL ? "\"" : "");
  }
  lua_pop(c->L, 1);
}

static void compile_kinds(compiler *c) {
  rb_rules_data *d = c->d;
  char label[64];
  int at = line_of(c, "kinds", 0);
  int t = need_table(c, c->env, "kinds", "kinds", at);
  int n = need_array(c, t, "kinds", at, RB_MAX_KINDS, true);
  int prev = at > 0 ? at - 1 : 0;
  d->trial_kind = -1;
  for (int i = 0; i < n; i++) {
    rb_package_kind *k = &d->kinds[i];
    lua_rawgeti(c->L, t, i + 1);
    int e = lua_gettop(c->L);
    snprintf(label, sizeof label, "kinds[%d].name", i + 1);
    const char *name = need_string(c, e, "name", label, at, RB_NAME_MAX - 1);
    int line = element_line(c, name, &prev, at);
    for (int j = 0; j < i; j++)
      if (strcmp(d->kinds[j].name, name) == 0)
        fail(c, line, "kind \"%s\" is listed twice", name);
    snprintf(k->name, sizeof k->name, "%s", name);

    int type = get(c, e, "granted");
    if (type != LUA_TNIL && type != LUA_TBOOLEAN)
      fail(c, line_of(c, "granted", line),
           "kind \"%s\": granted must be true or false", name);
    k->granted = lua_toboolean(c->L, -1);
    lua_pop(c->L, 1);
    int mline = line_of(c, "minutes", line);
    if (k->granted) {
      if (d->trial_kind >= 0)
        fail(c, line,
             "kind \"%s\": only one kind can be granted (\"%s\" "
             "is)",
             name, d->kinds[d->trial_kind].name);
      d->trial_kind = i;
      snprintf(label, sizeof label, "kind \"%s\": minutes", name);
      d->trial_minutes =
          need_int(c, e, "minutes", label, mline, 1, RB_MINUTES_MAX);
    } else {
      if (get(c, e, "minutes") != LUA_TNIL)
        fail(c, mline,
             "kind \"%s\": minutes is only for a granted kind (a bought "
             "package carries its own size)",
             name);
      lua_pop(c->L, 1);
    }
    compile_factors(c, i, e, line);
    lua_pop(c->L, 1);
  }
  d->nkinds = n;
  lua_pop(c->L, 1);
}

static void compile_order(compiler *c) {
  static const char *const names[RB_ORDER__COUNT] = {
      "trial_first", "earliest_expiry", "earliest_purchase", "id"};
  char b[64];
  int at = line_of(c, "deduction_order", 0);
  int t = need_table(c, c->env, "deduction_order", "deduction_order", at);
  int n = need_array(c, t, "deduction_order", at, RB_ORDER__COUNT, false);
  for (int i = 0; i < n; i++) {
    int key = -1;
    if (lua_rawgeti(c->L, t, i + 1) == LUA_TSTRING)
      for (int k = 0; k < RB_ORDER__COUNT; k++)
        if (strcmp(lua_tostring(c->L, -1), names[k]) == 0)
          key = k;
    if (key < 0)
      fail(c, at,
           "deduction_order[%d] is %s; the keys are \"trial_first\", "
           "\"earliest_expiry\", \"earliest_purchase\" and \"id\"",
           i + 1, shown(c, b, sizeof b));
    for (int j = 0; j < i; j++)
      if (c->d->order[j] == (rb_order_key)key)
        fail(c, at, "deduction_order lists \"%s\" twice", names[key]);
    c->d->order[i] = (rb_order_key)key;
    lua_pop(c->L, 1);
  }
  c->d->norder = n;
  lua_pop(c->L, 1);
}

static void compile_packages(compiler *c) {
  rb_rules_data *d = c->d;
  int line;
  begin(c, RB__F_PACKAGES);
  compile_kinds(c);

  line = line_of(c, "trial_grant_from", 0);
  d->trial_grant_from = INT64_MAX;
  if (d->trial_kind >= 0 || get(c, c->env, "trial_grant_from") != LUA_TNIL) {
    int64_t days = 0;
    const char *s = need_string(c, c->env, "trial_grant_from",
                                "trial_grant_from", line, 10);
    if (!parse_date(s, &days))
      fail(c, line,
           "trial_grant_from \"%s\" must be a date such as "
           "\"2019-10-11\"",
           s);
    d->trial_grant_from = days * 86400 - d->tariff.tz_offset;
  }

  line = line_of(c, "activation_delay_minutes", 0);
  d->activation_delay =
      60 * need_int(c, c->env, "activation_delay_minutes",
                    "activation_delay_minutes", line, 0, 366 * 1440);
  line = line_of(c, "validity_months", 0);
  d->validity_months = (int)need_int(c, c->env, "validity_months",
                                     "validity_months", line, 1, 1200);
  compile_order(c);
  rb__lua_compile_catalogue(c->L, c->h, d, c->env);
}

static void compile_arrears(compiler *c) {
  begin(c, RB__F_ARREARS);
  c->d->grace_seconds =
      3600 * need_int(c, c->env, "grace_hours", "grace_hours",
                      line_of(c, "grace_hours", 0), 0, 24 * 3660);
  c->d->reclaim_seconds =
      86400 * need_int(c, c->env, "reclaim_days", "reclaim_days",
                       line_of(c, "reclaim_days", 0), 0, 3660);
}

int rb__lua_compile(lua_State *L) {
  void *ud = NULL;
  lua_getallocf(L, &ud);
  compiler c = {L, ud, lua_touserdata(L, 1), RB__F_TARIFF, 0};
  compile_tariff(&c);
  compile_settlement(&c);
  compile_packages(&c);
  begin(&c, RB__F_EXHAUSTION);
  need_function(&c, "decide", "decide(q)");
  compile_arrears(&c);
  return 0;
}
