/* sandbox.c: what a rule file may use, and the limits it runs under.
 *
 * The rules run in a fresh _ENV per file, built from an allow-list of
 * base functions and copies of the string, table, math, utf8 and
 * coroutine libraries, plus `clock`, a deterministic clock. Limits: a
 * count hook bounds the VM instructions of one call (on coroutine threads
 * too), a custom allocator bounds the memory of the whole state, and the
 * pattern functions refuse a pattern whose worst case on the subject at
 * hand is too costly (the matcher runs in C, where the hook cannot stop
 * it). pcall, xpcall and coroutine.resume/wrap never swallow a limit:
 * an exceeded budget ends the whole call.
 *
 * Depends on: host.h, rtcbill.h (rb_time_format, rb_date_format), Lua 5.4
 * and the C standard library.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "host.h"

rb__lua_host *rb__lua_host_of(lua_State *L) {
  void *ud = NULL;
  lua_getallocf(L, &ud);
  return ud;
}

/* ------------------------------------------------------------------ */
/* Memory and instructions                                            */
/* ------------------------------------------------------------------ */

/* Records where the latest refused allocation happened (Lua retries a
 * refused one once after a full collection), so the author learns which
 * line hoarded. Reading the call stack allocates nothing, so it is safe
 * from inside the allocator. The thread is the one running (a coroutine
 * when one is). */
static void note_memory_hit(rb__lua_host *h) {
  lua_Debug ar;
  lua_State *L = h->running != NULL ? h->running : h->L;
  h->mem_hit = true;
  h->mem_where[0] = '\0';
  if (L == NULL)
    return;
  for (int level = 0; lua_getstack(L, level, &ar); level++) {
    if (lua_getinfo(L, "Sl", &ar) && ar.currentline > 0) {
      snprintf(h->mem_where, sizeof h->mem_where, "%s:%d", ar.short_src,
               ar.currentline);
      return;
    }
  }
}

/* The allocator caps the bytes the state holds. Only growth can be
 * refused: Lua relies on shrinking and freeing never failing. */
void *rb__lua_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
  rb__lua_host *h = ud;
  size_t old = ptr != NULL ? osize : 0;
  if (nsize == 0) {
    free(ptr);
    h->mem_used -= old;
    return NULL;
  }
  if (nsize > old && nsize - old > h->mem_limit - h->mem_used) {
    note_memory_hit(h);
    return NULL;
  }
  void *p = realloc(ptr, nsize);
  if (p == NULL) {
    h->sys_oom = true;
    return NULL;
  }
  h->mem_used = h->mem_used - old + nsize;
  return p;
}

/* Once over the limit the hook raises at every firing, so a rule that
 * catches the error only gets to run RB__LUA_HOOK_STEP more instructions
 * before the next one; the sandbox's pcall rethrows it at once anyway. */
void rb__lua_count_hook(lua_State *L, lua_Debug *ar) {
  rb__lua_host *h = rb__lua_host_of(L);
  h->steps += RB__LUA_HOOK_STEP;
  if (h->steps < h->step_limit)
    return;
  h->steps_hit = true;
  if (lua_getinfo(L, "Sl", ar) && ar->currentline > 0)
    lua_pushfstring(L, "%s:%d: instruction limit exceeded", ar->short_src,
                    ar->currentline);
  else
    lua_pushliteral(L, "instruction limit exceeded");
  lua_error(L);
}

int rb__lua_raise_memory(lua_State *L) {
  rb__lua_host *h = rb__lua_host_of(L);
  if (h->sys_oom)
    lua_pushliteral(L, "not enough memory");
  else if (h->mem_where[0] != '\0')
    lua_pushfstring(L, "%s: memory limit exceeded", h->mem_where);
  else
    lua_pushliteral(L, "memory limit exceeded");
  return lua_error(L);
}

/* ------------------------------------------------------------------ */
/* Base functions                                                     */
/* ------------------------------------------------------------------ */

/* pcall and xpcall as in lbaselib.c, except that they never swallow a
 * limit. */
static int finish_pcall(lua_State *L, int status, int extra) {
  if (status == LUA_OK)
    return lua_gettop(L) - extra;
  if (rb__lua_host_of(L)->steps_hit)
    return lua_error(L);
  if (status == LUA_ERRMEM)
    return rb__lua_raise_memory(L);
  lua_pushboolean(L, 0);
  lua_pushvalue(L, -2);
  return 2;
}

static int sandbox_pcall(lua_State *L) {
  luaL_checkany(L, 1);
  lua_pushboolean(L, 1);
  lua_insert(L, 1);
  return finish_pcall(L, lua_pcall(L, lua_gettop(L) - 2, LUA_MULTRET, 0), 0);
}

static int sandbox_xpcall(lua_State *L) {
  int n = lua_gettop(L);
  luaL_checktype(L, 2, LUA_TFUNCTION);
  lua_pushboolean(L, 1);
  lua_pushvalue(L, 1);
  lua_rotate(L, 3, 2);
  return finish_pcall(L, lua_pcall(L, n - 2, LUA_MULTRET, 2), 2);
}

/* Finalizers would run at unpredictable times, outside any budget and
 * outside the protected caller, so rules cannot have them. */
static int sandbox_setmetatable(lua_State *L) {
  int t = lua_type(L, 2);
  luaL_checktype(L, 1, LUA_TTABLE);
  luaL_argexpected(L, t == LUA_TNIL || t == LUA_TTABLE, 2, "nil or table");
  if (t == LUA_TTABLE && lua_getfield(L, 2, "__gc") != LUA_TNIL)
    return luaL_error(L, "__gc metamethods are not available to rules");
  if (luaL_getmetafield(L, 1, "__metatable") != LUA_TNIL)
    return luaL_error(L, "cannot change a protected metatable");
  lua_settop(L, 2);
  lua_setmetatable(L, 1);
  return 1;
}

/* Only tables' metatables: the string metatable is shared by every file
 * and reaches the real string library. */
static int sandbox_getmetatable(lua_State *L) {
  luaL_checkany(L, 1);
  if (lua_type(L, 1) != LUA_TTABLE || !lua_getmetatable(L, 1)) {
    lua_pushnil(L);
    return 1;
  }
  luaL_getmetafield(L, 1, "__metatable");
  return 1;
}

/* ------------------------------------------------------------------ */
/* Coroutines                                                         */
/* ------------------------------------------------------------------ */

/* A new thread inherits its creator's hook in Lua 5.4; it is set here
 * all the same, so that the budget never depends on that detail. */
static int co_create(lua_State *L) {
  luaL_checktype(L, 1, LUA_TFUNCTION);
  lua_State *co = lua_newthread(L);
  lua_sethook(co, rb__lua_count_hook, LUA_MASKCOUNT, RB__LUA_HOOK_STEP);
  lua_pushvalue(L, 1);
  lua_xmove(L, co, 1);
  return 1;
}

/* lcorolib.c's auxresume, plus: a limit hit inside the coroutine is
 * raised again in the resumer, so that no loop of resumes can outlast
 * the budget. Returns the number of results moved to L, or -1 with the
 * error object on top of L. */
static int co_resume_in(lua_State *L, lua_State *co, int narg) {
  rb__lua_host *h = rb__lua_host_of(L);
  int status, nres;
  if (lua_status(co) == LUA_OK && lua_gettop(co) == 0) {
    lua_pushliteral(L, "cannot resume dead coroutine");
    return -1;
  }
  if (!lua_checkstack(co, narg)) {
    lua_pushliteral(L, "too many arguments to resume");
    return -1;
  }
  lua_xmove(L, co, narg);
  lua_State *saved = h->running;
  h->running = co;
  status = lua_resume(co, L, narg, &nres);
  h->running = saved;
  if (status == LUA_OK || status == LUA_YIELD) {
    if (!lua_checkstack(L, nres + 1)) {
      lua_pop(co, nres);
      lua_pushliteral(L, "too many results to resume");
      return -1;
    }
    lua_xmove(co, L, nres);
    return nres;
  }
  lua_xmove(co, L, 1);
  if (h->steps_hit)
    lua_error(L);
  if (status == LUA_ERRMEM)
    rb__lua_raise_memory(L);
  return -1;
}

static int co_resume(lua_State *L) {
  lua_State *co = lua_tothread(L, 1);
  luaL_argexpected(L, co != NULL, 1, "coroutine");
  int r = co_resume_in(L, co, lua_gettop(L) - 1);
  if (r < 0) {
    lua_pushboolean(L, 0);
    lua_insert(L, -2);
    return 2;
  }
  lua_pushboolean(L, 1);
  lua_insert(L, -(r + 1));
  return r + 1;
}

static int co_wrapped(lua_State *L) {
  lua_State *co = lua_tothread(L, lua_upvalueindex(1));
  int r = co_resume_in(L, co, lua_gettop(L));
  if (r < 0)
    return lua_error(L);
  return r;
}

static int co_wrap(lua_State *L) {
  co_create(L);
  lua_pushcclosure(L, co_wrapped, 1);
  return 1;
}

/* ------------------------------------------------------------------ */
/* The deterministic clock                                            */
/* ------------------------------------------------------------------ */

/* clock.now(): the time of the decision being taken (the engine's
 * virtual time), as RFC 3339 in the billing time zone; nil while the
 * files are loaded, when no decision is being taken. */
static int clock_now(lua_State *L) {
  rb__lua_host *h = rb__lua_host_of(L);
  char buf[RB_TIME_STRLEN];
  if (h->now == RB_TIME_NONE ||
      rb_time_format(h->now, h->tz_offset, buf, sizeof buf) < 0)
    lua_pushnil(L);
  else
    lua_pushstring(L, buf);
  return 1;
}

/* clock.today(): the local date "YYYY-MM-DD" of clock.now(), or nil. */
static int clock_today(lua_State *L) {
  rb__lua_host *h = rb__lua_host_of(L);
  char buf[RB_TIME_STRLEN];
  if (h->now == RB_TIME_NONE ||
      rb_date_format(h->now, h->tz_offset, true, buf, sizeof buf) < 0)
    lua_pushnil(L);
  else
    lua_pushstring(L, buf);
  return 1;
}

/* ------------------------------------------------------------------ */
/* Pattern guard                                                      */
/* ------------------------------------------------------------------ */

/* Multiplies *cost by f, saturating at the budget plus one. */
static void times(uint64_t *cost, uint64_t f) {
  if (f != 0 && *cost > (RB__LUA_PATTERN_BUDGET + 1) / f)
    *cost = RB__LUA_PATTERN_BUDGET + 1;
  else
    *cost *= f;
}

/* Skips a set "[...]" starting at p[i] == '[' as lstrlib.c's classEnd
 * does; returns the index after the ']', or lp if unterminated (the
 * matcher will then report the malformed pattern itself). */
static size_t skip_set(const char *p, size_t lp, size_t i) {
  i++;
  if (i < lp && p[i] == '^')
    i++;
  do {
    if (i >= lp)
      return lp;
    if (p[i++] == '%' && i < lp)
      i++;
  } while (i < lp && p[i] != ']');
  return i < lp ? i + 1 : lp;
}

/* An upper bound on the matcher's steps for pattern p on a subject of
 * ls bytes: each repetition (*, +, -), balance (%b) and back-reference
 * (%1-%9) can make the matcher go over the subject once more for every
 * position of the item before it, a '?' doubles the ways, and an
 * unanchored search starts at every position. The bound is crude but
 * safe: patterns that rules need (dates, ids) cost next to nothing. */
uint64_t rb__lua_pattern_cost(const char *p, size_t lp, size_t ls,
                              bool may_anchor) {
  uint64_t n = (uint64_t)ls + 1, cost = 1;
  size_t i = 0;
  if (may_anchor && lp > 0 && p[0] == '^')
    i = 1;
  else
    times(&cost, n);
  while (i < lp) {
    char c = p[i];
    if (c == '(' || c == ')') {
      i++;
      continue;
    }
    if (c == '$' && i + 1 == lp) {
      i++;
      continue;
    }
    if (c == '%' && i + 1 < lp) {
      char d = p[i + 1];
      if (d == 'b') {
        times(&cost, n);
        i += 4;
        continue;
      }
      if (d == 'f') {
        i = i + 2 < lp && p[i + 2] == '[' ? skip_set(p, lp, i + 2) : lp;
        continue;
      }
      if (d >= '1' && d <= '9') {
        times(&cost, n);
        i += 2;
        continue;
      }
      i += 2;
    } else if (c == '[') {
      i = skip_set(p, lp, i);
    } else {
      i++;
    }
    if (i < lp && (p[i] == '*' || p[i] == '+' || p[i] == '-')) {
      times(&cost, n);
      i++;
    } else if (i < lp && p[i] == '?') {
      times(&cost, 2);
      i++;
    }
  }
  return cost;
}

enum { PAT_FIND, PAT_MATCH, PAT_GMATCH, PAT_GSUB };

/* The guard around string.find, match, gmatch and gsub: upvalue 1 is
 * the library's function, upvalue 2 which one it is. */
static int pattern_guard(lua_State *L) {
  int which = (int)lua_tointeger(L, lua_upvalueindex(2));
  size_t ls, lp;
  luaL_checklstring(L, 1, &ls);
  const char *p = luaL_checklstring(L, 2, &lp);
  bool plain = which == PAT_FIND && lua_toboolean(L, 4);
  if (!plain) {
    uint64_t cost = rb__lua_pattern_cost(p, lp, ls, which != PAT_GMATCH);
    if (cost > RB__LUA_PATTERN_BUDGET)
      return luaL_error(L,
                        "pattern \"%s\" is too costly for a subject of %d "
                        "bytes (its worst case exceeds the pattern budget; "
                        "use fewer repetitions, anchor it with '^', or "
                        "match a shorter string)",
                        lp > 40 ? "(long)" : p, (int)ls);
  }
  int n = lua_gettop(L);
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, n, LUA_MULTRET);
  return lua_gettop(L);
}

/* Replaces the four pattern functions in the state's string table, so
 * that methods on strings ("x"):find(...) go through the guard too. */
static void guard_patterns(lua_State *L) {
  static const char *const names[] = {"find", "match", "gmatch", "gsub"};
  lua_getglobal(L, LUA_STRLIBNAME);
  for (int i = 0; i < 4; i++) {
    lua_getfield(L, -1, names[i]);
    lua_pushinteger(L, i);
    lua_pushcclosure(L, pattern_guard, 2);
    lua_setfield(L, -2, names[i]);
  }
  lua_pop(L, 1);
}

/* ------------------------------------------------------------------ */
/* Environments                                                       */
/* ------------------------------------------------------------------ */

static const char *const base_allowed[] = {
    "assert",   "error",    "ipairs", "next",     "pairs",
    "rawequal", "rawget",   "rawlen", "rawset",   "select",
    "tonumber", "tostring", "type",   "_VERSION", NULL};

static const luaL_Reg base_wrapped[] = {{"pcall", sandbox_pcall},
                                        {"xpcall", sandbox_xpcall},
                                        {"setmetatable", sandbox_setmetatable},
                                        {"getmetatable", sandbox_getmetatable},
                                        {NULL, NULL}};

/* Libraries copied into each environment, minus what could leave the
 * sandbox or make a rule non-deterministic. */
static const struct {
  const char *name;
  const char *denied[3];
} libs_allowed[] = {{LUA_STRLIBNAME, {"dump", NULL, NULL}},
                    {LUA_TABLIBNAME, {NULL, NULL, NULL}},
                    {LUA_MATHLIBNAME, {"random", "randomseed", NULL}},
                    {LUA_UTF8LIBNAME, {NULL, NULL, NULL}},
                    {LUA_COLIBNAME, {NULL, NULL, NULL}},
                    {"clock", {NULL, NULL, NULL}}};

static bool is_denied(const char *const *denied, const char *key) {
  for (int i = 0; i < 3 && denied[i] != NULL; i++)
    if (strcmp(denied[i], key) == 0)
      return true;
  return false;
}

void rb__lua_push_env(lua_State *L) {
  lua_newtable(L);
  for (int i = 0; base_allowed[i] != NULL; i++) {
    lua_getglobal(L, base_allowed[i]);
    lua_setfield(L, -2, base_allowed[i]);
  }
  luaL_setfuncs(L, base_wrapped, 0);
  for (size_t i = 0; i < sizeof libs_allowed / sizeof libs_allowed[0]; i++) {
    lua_newtable(L);
    lua_getglobal(L, libs_allowed[i].name);
    lua_pushnil(L);
    while (lua_next(L, -2)) {
      const char *key =
          lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : NULL;
      if (key != NULL && !is_denied(libs_allowed[i].denied, key)) {
        lua_pushvalue(L, -2);
        lua_insert(L, -2);
        lua_rawset(L, -5);
      } else {
        lua_pop(L, 1);
      }
    }
    lua_pop(L, 1);
    lua_setfield(L, -2, libs_allowed[i].name);
  }
}

int rb__lua_open_libs(lua_State *L) {
  static const luaL_Reg libs[] = {
      {LUA_GNAME, luaopen_base},         {LUA_STRLIBNAME, luaopen_string},
      {LUA_TABLIBNAME, luaopen_table},   {LUA_MATHLIBNAME, luaopen_math},
      {LUA_UTF8LIBNAME, luaopen_utf8},   {LUA_COLIBNAME, luaopen_coroutine},
      {NULL, NULL}};
  static const luaL_Reg co[] = {{"create", co_create},
                                {"resume", co_resume},
                                {"wrap", co_wrap},
                                {NULL, NULL}};
  static const luaL_Reg clock[] = {
      {"now", clock_now}, {"today", clock_today}, {NULL, NULL}};
  for (const luaL_Reg *l = libs; l->func != NULL; l++) {
    luaL_requiref(L, l->name, l->func, 1);
    lua_pop(L, 1);
  }
  /* string.dump also hides behind every string's metatable. */
  lua_getglobal(L, LUA_STRLIBNAME);
  lua_pushnil(L);
  lua_setfield(L, -2, "dump");
  lua_pop(L, 1);
  guard_patterns(L);
  lua_getglobal(L, LUA_COLIBNAME);
  luaL_setfuncs(L, co, 0);
  lua_pop(L, 1);
  luaL_newlib(L, clock);
  lua_setglobal(L, "clock");
  return 0;
}
