/* host.h: private interface shared by the files of the rules host.
 *
 * host.c owns the Lua state, the sandbox and the one protected caller;
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
  /* "DIR/" as the author wrote it: prefixed to the file names. */
  char *prefix;
  char *src[RB__F_COUNT];
  size_t srclen[RB__F_COUNT];
  int env[RB__F_COUNT]; /* registry references to each file's _ENV */
  int32_t tz_offset;    /* the compiled billing time zone */
  char error[RB__LUA_ERROR_MAX];
} rb__lua_host;

/* Calls the function below its nargs arguments on top of h->L through
 * the traceback handler, with fresh instruction and memory budgets.
 * `file` (an RB__F_* index) names the rule file a message without a
 * position is attributed to. On failure h->error holds one line
 * "DIR/file.lua:LINE: message" and RB_EPOLICY (the rule failed) or
 * RB_ENOMEM (the process ran out of memory) is returned; the stack is
 * then as if the function and arguments had been popped. */
int rb__lua_pcall(rb__lua_host *h, int nargs, int nres, int file);

/* Writes "DIR/<file>: <message>" into h->error. */
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
