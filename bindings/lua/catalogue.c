/* catalogue.c: compiles packages.lua's `catalogue` into the core's
 * rb_catalogue, the data behind `rtcbill estimate` (SPEC 1.4).
 *
 * The table is optional; when present it must be right: fixed packages
 * with a whole size in thousands and a money price, custom bands
 * contiguous from 0 or 1 with a unit price per thousand (only the last
 * band open-ended), and optionally the kind it sells (by default the
 * first kind that is not granted). Like compile.c, the first invalid
 * field raises "packages.lua:LINE: message", the line found in the
 * file's text as a courtesy.
 *
 * Depends on: catalogue.h, host.h, rtcbill.h (rb_money_parse), Lua 5.4
 * and the C standard library.
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

typedef struct cat {
  lua_State *L;
  const char *src; /* packages.lua's text */
  rb_rules_data *d;
} cat;

static int fail(cat *c, int line, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
static int fail(cat *c, int line, const char *fmt, ...) {
  char msg[400];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return rb__lua_raise(c->L, RB__F_PACKAGES, line, msg);
}

/* The line of the n-th (1-based) assignment of key at or after `from`,
 * else `from`: entries of an array are told apart by counting. */
static int nth_line(const cat *c, const char *key, int from, int n) {
  int line = from > 0 ? from - 1 : 0;
  for (int i = 0; i < n; i++) {
    int next = rb__lua_find_key(c->src, key, line + 1, 0);
    if (next == 0)
      return from;
    line = next;
  }
  return line;
}

/* Describes the value on top for a message (a copy is converted, so
 * the value itself keeps its type). */
static const char *shown(cat *c, char *buf, size_t cap) {
  int type = lua_type(c->L, -1);
  if (type == LUA_TNUMBER || type == LUA_TSTRING) {
    lua_pushvalue(c->L, -1);
    snprintf(buf, cap, "%s%.40s%s", type == LUA_TSTRING ? "\"" : "the number ",
             lua_tostring(c->L, -1), type == LUA_TSTRING ? "\"" : "");
    lua_pop(c->L, 1);
  } else {
    snprintf(buf, cap, "%s",
             type == LUA_TNIL ? "nil" : luaL_typename(c->L, -1));
  }
  return buf;
}

/* t[key] as a whole number in lo..hi. */
static int64_t need_int(cat *c, int t, const char *key, const char *label,
                        int line, int64_t lo, int64_t hi) {
  char b[64];
  lua_pushstring(c->L, key);
  if (lua_rawget(c->L, t) == LUA_TNIL)
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

/* t[key] as a money string >= 0. */
static rb_money need_money(cat *c, int t, const char *key, const char *label,
                           int line) {
  char b[64];
  rb_money v;
  lua_pushstring(c->L, key);
  int type = lua_rawget(c->L, t);
  if (type == LUA_TNIL)
    fail(c, line, "%s is missing", label);
  if (type != LUA_TSTRING)
    fail(c, line,
         "%s must be a decimal string such as \"6.720\", not %s: money is "
         "never a float",
         label, shown(c, b, sizeof b));
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
  if (v < 0)
    fail(c, line, "%s \"%.40s\" must be zero or more", label, s);
  lua_pop(c->L, 1);
  return v;
}

/* Pushes t[key] if it is a table (returning its index) or nothing when
 * it is nil (returning 0). */
static int opt_table(cat *c, int t, const char *key, const char *label,
                     int line) {
  char b[64];
  lua_pushstring(c->L, key);
  int type = lua_rawget(c->L, t);
  if (type == LUA_TNIL) {
    lua_pop(c->L, 1);
    return 0;
  }
  if (type != LUA_TTABLE)
    fail(c, line, "%s must be a table, not %s", label, shown(c, b, sizeof b));
  return lua_gettop(c->L);
}

/* The number of entries of the array t (0..RB_CATALOGUE_MAX), all
 * tables. */
static int entries(cat *c, int t, const char *label, int line) {
  char b[64];
  lua_Unsigned n = lua_rawlen(c->L, t);
  if (n > RB_CATALOGUE_MAX)
    fail(c, line, "%s must list at most %d entries, not %llu", label,
         RB_CATALOGUE_MAX, (unsigned long long)n);
  for (lua_Unsigned i = 1; i <= n; i++) {
    if (lua_rawgeti(c->L, t, (lua_Integer)i) != LUA_TTABLE)
      fail(c, line, "%s[%llu] must be a table, not %s", label,
           (unsigned long long)i, shown(c, b, sizeof b));
    lua_pop(c->L, 1);
  }
  return (int)n;
}

static void compile_kind(cat *c, int t, int at) {
  rb_rules_data *d = c->d;
  int line = nth_line(c, "kind", at, 1);
  lua_pushstring(c->L, "kind");
  int type = lua_rawget(c->L, t);
  d->catalogue.kind = -1;
  if (type == LUA_TNIL) {
    for (int i = 0; d->catalogue.kind < 0 && i < d->nkinds; i++)
      if (!d->kinds[i].granted)
        d->catalogue.kind = i;
    if (d->catalogue.kind < 0)
      fail(c, at,
           "catalogue: no kind can be bought, so there is nothing "
           "to sell");
  } else {
    char b[64];
    const char *name = type == LUA_TSTRING ? lua_tostring(c->L, -1) : NULL;
    for (int i = 0; name != NULL && i < d->nkinds; i++)
      if (strcmp(d->kinds[i].name, name) == 0)
        d->catalogue.kind = i;
    if (d->catalogue.kind < 0)
      fail(c, line, "catalogue.kind is %s, which is no kind of `kinds`",
           shown(c, b, sizeof b));
    if (d->kinds[d->catalogue.kind].granted)
      fail(c, line,
           "catalogue.kind \"%s\" is granted, never bought: the catalogue "
           "sells a kind that can be bought",
           name);
  }
  lua_pop(c->L, 1);
}

static void compile_fixed(cat *c, int t, int at) {
  const int64_t max = RB_MINUTES_MAX / 1000;
  char label[64];
  int ft = opt_table(c, t, "fixed", "catalogue.fixed", at);
  if (ft == 0)
    return;
  int fline = nth_line(c, "fixed", at, 1);
  int n = entries(c, ft, "catalogue.fixed", fline);
  for (int i = 0; i < n; i++) {
    rb_catalogue_fixed *f = &c->d->catalogue.fixed[i];
    int line = nth_line(c, "thousands", fline, i + 1);
    lua_rawgeti(c->L, ft, i + 1);
    int e = lua_gettop(c->L);
    snprintf(label, sizeof label, "catalogue.fixed[%d].thousands", i + 1);
    f->thousands = need_int(c, e, "thousands", label, line, 1, max);
    snprintf(label, sizeof label, "catalogue.fixed[%d].price", i + 1);
    f->price = need_money(c, e, "price", label, line);
    lua_pop(c->L, 1);
  }
  c->d->catalogue.nfixed = n;
  lua_pop(c->L, 1);
}

static void compile_custom(cat *c, int t, int at) {
  const int64_t max = RB_MINUTES_MAX / 1000;
  rb_catalogue *k = &c->d->catalogue;
  char label[64];
  int bt = opt_table(c, t, "custom", "catalogue.custom", at);
  if (bt == 0)
    return;
  int cline = nth_line(c, "custom", at, 1);
  int n = entries(c, bt, "catalogue.custom", cline);
  for (int i = 0; i < n; i++) {
    rb_catalogue_band *b = &k->bands[i];
    int line = nth_line(c, "from", cline, i + 1);
    lua_rawgeti(c->L, bt, i + 1);
    int e = lua_gettop(c->L);
    snprintf(label, sizeof label, "catalogue.custom[%d].from", i + 1);
    b->from = need_int(c, e, "from", label, line, 0, max);
    if (i == 0 && b->from > 1)
      fail(c, line,
           "catalogue.custom[1].from is %lld: the bands must start at 1 "
           "(or 0) so that every size has a price",
           (long long)b->from);
    if (i > 0 && b->from != k->bands[i - 1].to + 1)
      fail(c, line,
           "catalogue.custom[%d].from is %lld but the band before ends at "
           "%lld: bands must be contiguous and in increasing order (from "
           "= %lld)",
           i + 1, (long long)b->from, (long long)k->bands[i - 1].to,
           (long long)k->bands[i - 1].to + 1);
    lua_pushstring(c->L, "to");
    int type = lua_rawget(c->L, e);
    lua_pop(c->L, 1);
    if (type == LUA_TNIL) {
      if (i != n - 1)
        fail(c, line,
             "catalogue.custom[%d] has no `to`: only the last band may be "
             "open-ended",
             i + 1);
      b->to = INT64_MAX;
    } else {
      snprintf(label, sizeof label, "catalogue.custom[%d].to", i + 1);
      b->to = need_int(c, e, "to", label, line, b->from, max);
    }
    snprintf(label, sizeof label, "catalogue.custom[%d].per_thousand", i + 1);
    b->per_thousand = need_money(c, e, "per_thousand", label, line);
    lua_pop(c->L, 1);
  }
  k->nbands = n;
  lua_pop(c->L, 1);
}

void rb__lua_compile_catalogue(lua_State *L, rb__lua_host *h, rb_rules_data *d,
                               int env) {
  char b[64];
  cat c = {L, h->src[RB__F_PACKAGES], d};
  int top = lua_gettop(L);
  memset(&d->catalogue, 0, sizeof d->catalogue);
  int at = rb__lua_find_key(c.src, "catalogue", 1, 0);
  lua_pushstring(L, "catalogue");
  int type = lua_rawget(L, env);
  if (type == LUA_TNIL) {
    lua_settop(L, top);
    return;
  }
  if (type != LUA_TTABLE)
    fail(&c, at, "catalogue must be a table, not %s", shown(&c, b, sizeof b));
  int t = lua_gettop(L);
  compile_kind(&c, t, at);
  compile_fixed(&c, t, at);
  compile_custom(&c, t, at);
  if (d->catalogue.nfixed == 0 && d->catalogue.nbands == 0)
    fail(&c, at,
         "catalogue lists no package: give `fixed` or `custom` entries, or "
         "leave the catalogue out");
  lua_settop(L, top);
}
