/* host.h: private interface shared by the files of the rules host.
 *
 * host.c owns the Lua state and the one protected caller; sandbox.c
 * builds the environments and enforces the limits;
 * compile.c turns the rule tables into rb_rules_data; policy.c
 * implements rb_policy on top of the protected caller.
 *
 * Depends on: rtcbill.h and Lua 5.4.
 */
#ifndef RTCBILL_LUA_HOST_H
#define RTCBILL_LUA_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <lua.h>

#include "rtcbill.h"

/* The rule files, in the fixed order the version id is computed in. */
enum {
  RB__F_TARIFF,
  RB__F_SETTLEMENT,
  RB__F_PACKAGES,
  RB__F_EXHAUSTION,
  RB__F_ARREARS,
  RB__F_COUNT
};
extern const char *const rb__lua_files[RB__F_COUNT];

/* Sandbox limits. A rule that needs more than this is a mistake. */
#define RB__LUA_STEP_LIMIT UINT64_C(50000000) /* VM instructions per call */
#define RB__LUA_MEM_LIMIT ((size_t)64 << 20)  /* bytes for the whole state */
#define RB__LUA_ERROR_MAX 512
/* The count hook runs every this many instructions: often enough to stop
 * a runaway loop promptly, rarely enough to cost nothing measurable. */
#define RB__LUA_HOOK_STEP 1000
/* The worst-case steps a pattern function may take on its subject
 * (sandbox.c: rb__lua_pattern_cost); about a tenth of a second. */
#define RB__LUA_PATTERN_BUDGET UINT64_C(20000000)

typedef struct rb__lua_host {
  lua_State *L;
  /* Memory accounting of the custom allocator. */
  size_t mem_used;
  size_t mem_limit;
  bool sys_oom;        /* the C allocator failed (not the cap) */
  bool mem_hit;        /* the cap refused an allocation in this call */
  char mem_where[128]; /* "file.lua:LINE" of the first refusal, or "" */
  /* Instruction counting by the count hook. */
  uint64_t steps;
  uint64_t step_limit;
  bool steps_hit;
  /* The coroutine being resumed, NULL for the main thread. */
  lua_State *running;
  /* The time of the decision being taken (clock.now()), or RB_TIME_NONE
   * while loading. */
  rb_time now;
  /* "DIR/" as the author wrote it: prefixed to the file names. */
  char *prefix;
  char *src[RB__F_COUNT];
  size_t srclen[RB__F_COUNT];
  int env[RB__F_COUNT]; /* registry references to each file's _ENV */
  int32_t tz_offset;    /* the compiled billing time zone */
  char error[RB__LUA_ERROR_MAX];
} rb__lua_host;

/* sandbox.c: the allow-list and the limits. */
rb__lua_host *rb__lua_host_of(lua_State *L); /* the allocator's data */
void *rb__lua_alloc(void *ud, void *ptr, size_t osize, size_t nsize);
void rb__lua_count_hook(lua_State *L, lua_Debug *ar);
/* Raises the error a caught memory failure stands for. */
int rb__lua_raise_memory(lua_State *L);
/* A lua_CFunction: opens the allowed libraries into the state's own
 * globals (which rules never see) and installs the guards. */
int rb__lua_open_libs(lua_State *L);
/* Pushes a fresh environment copied from those globals. */
void rb__lua_push_env(lua_State *L);
/* An upper bound on the steps of matching pattern p on ls bytes. */
uint64_t rb__lua_pattern_cost(const char *p, size_t lp, size_t ls,
                              bool may_anchor);

/* Calls the function below its nargs arguments on top of h->L through
 * the traceback handler, with fresh instruction and memory budgets.
 * `file` (an RB__F_* index) names the rule file a message without a
 * position is attributed to. On failure h->error holds one line
 * "DIR/file.lua:LINE: message" and RB_EPOLICY (the rule failed) or
 * RB_ENOMEM (the process ran out of memory) is returned; the stack is
 * then as if the function and arguments had been popped. */
int rb__lua_pcall(rb__lua_host *h, int nargs, int nres, int file);

/* Writes "DIR/<file>: <message>" into h->error. */
/* Raises the Lua error "<file>.lua:LINE: message" ("<file>.lua: message"
 * when line is 0) on L; never returns. For compile-time data errors. */
int rb__lua_raise(lua_State *L, int file, int line, const char *msg);

void rb__lua_set_error(rb__lua_host *h, int file, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* The line (1-based) of the first line at or after `from` whose code
 * (the text before any "--") assigns `key` ("key =" or "key="), or 0.
 * Stops before line `to` when to > 0. Used to point data errors at a
 * line, as a courtesy: Lua keeps no positions for table fields. */
int rb__lua_find_key(const char *src, const char *key, int from, int to);
/* The first line at or after `from` whose code holds the string literal
 * "text" (double or single quotes), or 0. */
int rb__lua_find_literal(const char *src, const char *text, int from);

/* A lua_CFunction run through rb__lua_pcall with one argument, a light
 * userdata pointing to the rb_rules_data to fill (zeroed by the caller);
 * the host is the state's allocator data. Raises "file.lua:LINE:
 * message" (or "file.lua: message") for the first invalid field. */
int rb__lua_compile(lua_State *L);

/* Fills *p with the rb_policy calling into h. */
void rb__lua_policy_init(rb__lua_host *h, rb_policy *p);

/* Closes the state and frees everything h owns, and h. NULL is fine. */
void rb__lua_host_free(rb__lua_host *h);

#endif /* RTCBILL_LUA_HOST_H */
