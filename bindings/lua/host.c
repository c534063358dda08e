/* host.c: the sandboxed Lua state that runs the rules, and the loader.
 *
 * Each rule file runs in a fresh _ENV (sandbox.c builds it and sets the
 * limits), loaded as text only. Every call into Lua goes through
 * rb__lua_pcall, whose handler gives each error the position of the rule
 * line that caused it.
 * rb_lua_rules_load reads the five files, computes the version id, runs
 * them, has compile.c compile them and wraps the result in an rb_rules.
 *
 * Depends on: host.h, rtcbill_rules.h, rtcbill.h, Lua 5.4 (lua.h,
 * lauxlib.h, lualib.h) and the C standard library.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "host.h"
#include "rtcbill_rules.h"

const char *const rb__lua_files[RB__F_COUNT] = {
    "tariff.lua", "settlement.lua", "packages.lua", "exhaustion.lua",
    "arrears.lua"};

/* Rule files are documents of a few kilobytes; anything far larger is a
 * mistake, and reading it whole must stay cheap. */
#define FILE_MAX ((size_t)4 << 20)

/* Runs rule file number (argument 1) in a new environment and keeps the
 * environment in the registry. */
static int run_file(lua_State *L) {
  rb__lua_host *h = rb__lua_host_of(L);
  int f = (int)lua_tointeger(L, 1);
  char chunk[64];
  rb__lua_push_env(L);
  snprintf(chunk, sizeof chunk, "@%s", rb__lua_files[f]);
  int st = luaL_loadbufferx(L, h->src[f], h->srclen[f], chunk, "t");
  if (st == LUA_ERRMEM)
    return rb__lua_raise_memory(L);
  if (st != LUA_OK)
    return lua_error(L);
  lua_pushvalue(L, -2);
  lua_setupvalue(L, -2, 1);
  lua_call(L, 0, 0);
  h->env[f] = luaL_ref(L, LUA_REGISTRYINDEX);
  return 0;
}

/* ------------------------------------------------------------------ */
/* The protected caller                                               */
/* ------------------------------------------------------------------ */

/* "x.lua:12: ..." -- the message already says where. */
static bool has_position(const char *msg) {
  const char *p = strstr(msg, ".lua:");
  if (p == NULL || p == msg)
    return false;
  for (const char *q = msg; q < p; q++)
    if (*q == ' ' || *q == '\n')
      return false;
  p += 5;
  if (*p < '0' || *p > '9')
    return false;
  while (*p >= '0' && *p <= '9')
    p++;
  return *p == ':';
}

/* The message handler. It walks the stack while it is still there: an
 * error raised without a position (error("x", 0), a non-string error
 * object, a check in C) gets the line of the innermost rule frame. */
static int on_error(lua_State *L) {
  const char *msg = NULL;
  lua_Debug ar;
  if (lua_type(L, 1) == LUA_TSTRING || lua_type(L, 1) == LUA_TNUMBER)
    msg = lua_tostring(L, 1);
  else if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING)
    msg = lua_tostring(L, -1);
  else
    msg = lua_pushfstring(L, "error object is a %s value", luaL_typename(L, 1));
  if (!has_position(msg)) {
    for (int level = 1; lua_getstack(L, level, &ar); level++) {
      if (lua_getinfo(L, "Sl", &ar) && ar.currentline > 0) {
        msg =
            lua_pushfstring(L, "%s:%d: %s", ar.short_src, ar.currentline, msg);
        break;
      }
    }
  }
  lua_pushstring(L, msg);
  return 1;
}

/* Writes msg into h->error as one line, with the rule directory in
 * front of the file name Lua knows the chunk by. */
static void store_error(rb__lua_host *h, int file, const char *msg) {
  const char *name = rb__lua_files[file];
  bool named = false;
  for (int f = 0; f < RB__F_COUNT && !named; f++) {
    size_t n = strlen(rb__lua_files[f]);
    named = strncmp(msg, rb__lua_files[f], n) == 0 && msg[n] == ':';
  }
  if (named)
    snprintf(h->error, sizeof h->error, "%s%s", h->prefix, msg);
  else
    snprintf(h->error, sizeof h->error, "%s%s: %s", h->prefix, name, msg);
  for (char *p = h->error; *p != '\0'; p++)
    if (*p == '\n' || *p == '\r' || *p == '\t')
      *p = ' ';
}

int rb__lua_raise(lua_State *L, int file, int line, const char *msg) {
  if (line > 0)
    lua_pushfstring(L, "%s:%d: %s", rb__lua_files[file], line, msg);
  else
    lua_pushfstring(L, "%s: %s", rb__lua_files[file], msg);
  return lua_error(L);
}

void rb__lua_set_error(rb__lua_host *h, int file, const char *fmt, ...) {
  char msg[RB__LUA_ERROR_MAX / 4 * 3];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  snprintf(h->error, sizeof h->error, "%s%s: %s", h->prefix,
           rb__lua_files[file], msg);
}

int rb__lua_pcall(rb__lua_host *h, int nargs, int nres, int file) {
  lua_State *L = h->L;
  int base = lua_gettop(L) - nargs;
  h->steps = 0;
  h->steps_hit = false;
  h->sys_oom = false;
  h->mem_hit = false;
  h->mem_where[0] = '\0';
  h->running = NULL;
  lua_pushcfunction(L, on_error);
  lua_insert(L, base);
  int st = lua_pcall(L, nargs, nres, base);
  lua_remove(L, base);
  if (st == LUA_OK)
    return RB_OK;
  if (h->sys_oom) {
    lua_pop(L, 1);
    rb__lua_set_error(h, file, "out of memory");
    return RB_ENOMEM;
  }
  if (st == LUA_ERRMEM) {
    if (h->mem_where[0] != '\0') {
      char where[sizeof h->mem_where + 32];
      snprintf(where, sizeof where, "%s: memory limit exceeded", h->mem_where);
      store_error(h, file, where);
    } else {
      store_error(h, file, "memory limit exceeded");
    }
  } else {
    const char *msg = lua_tostring(L, -1);
    store_error(h, file, msg != NULL ? msg : "error in the error handler");
  }
  lua_pop(L, 1);
  return RB_EPOLICY;
}

/* ------------------------------------------------------------------ */
/* Loading                                                            */
/* ------------------------------------------------------------------ */

static void set_err(char *err, size_t cap, const char *msg) {
  if (cap > 0)
    snprintf(err, cap, "%s", msg);
}

/* Reads path whole, NUL-terminated (the line finder relies on it). */
static int read_whole(rb__lua_host *h, int f, const char *path) {
  FILE *fp = fopen(path, "rb");
  size_t len = 0, cap = 4096;
  char *buf;
  if (fp == NULL) {
    rb__lua_set_error(h, f, "cannot open (%s)", strerror(errno));
    return RB_EIO;
  }
  buf = malloc(cap);
  for (;;) {
    if (buf == NULL) {
      fclose(fp);
      rb__lua_set_error(h, f, "out of memory");
      return RB_ENOMEM;
    }
    len += fread(buf + len, 1, cap - 1 - len, fp);
    if (len < cap - 1)
      break;
    if (cap > FILE_MAX) {
      free(buf);
      fclose(fp);
      rb__lua_set_error(h, f, "larger than %zu bytes: not a rule file",
                        FILE_MAX);
      return RB_EINVAL;
    }
    char *more = realloc(buf, cap * 2);
    if (more == NULL)
      free(buf);
    buf = more;
    cap *= 2;
  }
  if (ferror(fp)) {
    int e = errno;
    free(buf);
    fclose(fp);
    rb__lua_set_error(h, f, "cannot read (%s)", strerror(e));
    return RB_EIO;
  }
  fclose(fp);
  buf[len] = '\0';
  h->src[f] = buf;
  h->srclen[f] = len;
  return RB_OK;
}

/* FNV-1a 64 over each file's name, a NUL, its content and a NUL: any
 * edit to any file, or a file swapped for another, changes the id. */
static void version_id(const rb__lua_host *h, char *out, size_t cap) {
  uint64_t x = UINT64_C(0xcbf29ce484222325);
  for (int f = 0; f < RB__F_COUNT; f++) {
    const unsigned char *parts[2] = {(const unsigned char *)rb__lua_files[f],
                                     (const unsigned char *)h->src[f]};
    size_t lens[2] = {strlen(rb__lua_files[f]), h->srclen[f]};
    for (int p = 0; p < 2; p++) {
      for (size_t i = 0; i <= lens[p]; i++) {
        x ^= i < lens[p] ? parts[p][i] : 0;
        x *= UINT64_C(0x100000001b3);
      }
    }
  }
  snprintf(out, cap, "%016" PRIx64, x);
}

void rb__lua_host_free(rb__lua_host *h) {
  if (h == NULL)
    return;
  if (h->L != NULL)
    lua_close(h->L);
  for (int f = 0; f < RB__F_COUNT; f++)
    free(h->src[f]);
  free(h->prefix);
  free(h);
}

static rb__lua_host *host_new(const char *dir) {
  size_t n = strlen(dir);
  bool slash = n > 0 && dir[n - 1] != '/';
  rb__lua_host *h = calloc(1, sizeof *h);
  if (h == NULL)
    return NULL;
  h->prefix = malloc(n + 2);
  if (h->prefix == NULL) {
    free(h);
    return NULL;
  }
  snprintf(h->prefix, n + 2, "%s%s", dir, slash ? "/" : "");
  for (int f = 0; f < RB__F_COUNT; f++)
    h->env[f] = LUA_NOREF;
  h->mem_limit = RB__LUA_MEM_LIMIT;
  h->step_limit = RB__LUA_STEP_LIMIT;
  h->now = RB_TIME_NONE;
  return h;
}

/* Reads, runs and compiles the files into *data; h->error on failure. */
static int load_into(rb__lua_host *h, rb_rules_data *data) {
  int st;
  for (int f = 0; f < RB__F_COUNT; f++) {
    size_t n = strlen(h->prefix) + strlen(rb__lua_files[f]) + 1;
    char *path = malloc(n);
    if (path == NULL)
      return RB_ENOMEM;
    snprintf(path, n, "%s%s", h->prefix, rb__lua_files[f]);
    st = read_whole(h, f, path);
    free(path);
    if (st != RB_OK)
      return st;
  }
  memset(data, 0, sizeof *data);
  version_id(h, data->version, sizeof data->version);

  h->L = lua_newstate(rb__lua_alloc, h);
  if (h->L == NULL)
    return RB_ENOMEM;
  lua_sethook(h->L, rb__lua_count_hook, LUA_MASKCOUNT, RB__LUA_HOOK_STEP);
  lua_pushcfunction(h->L, rb__lua_open_libs);
  if ((st = rb__lua_pcall(h, 0, 0, RB__F_TARIFF)) != RB_OK)
    return st;
  for (int f = 0; f < RB__F_COUNT; f++) {
    lua_pushcfunction(h->L, run_file);
    lua_pushinteger(h->L, f);
    if ((st = rb__lua_pcall(h, 1, 0, f)) != RB_OK)
      return st;
  }
  lua_pushcfunction(h->L, rb__lua_compile);
  lua_pushlightuserdata(h->L, data);
  if ((st = rb__lua_pcall(h, 1, 0, RB__F_TARIFF)) != RB_OK)
    return st;
  h->tz_offset = data->tariff.tz_offset;
  return RB_OK;
}

int rb_lua_rules_load(const char *dir, rb_rules **out, char *err, size_t cap) {
  rb_rules_data data;
  rb_policy policy;
  rb__lua_host *h;
  int st;
  if (dir == NULL || out == NULL) {
    set_err(err, cap, "rb_lua_rules_load: no rules directory");
    return RB_EINVAL;
  }
  if ((h = host_new(dir)) == NULL) {
    set_err(err, cap, "out of memory");
    return RB_ENOMEM;
  }
  st = load_into(h, &data);
  if (st != RB_OK) {
    if (st == RB_ENOMEM && h->error[0] == '\0')
      set_err(err, cap, "out of memory");
    else
      set_err(err, cap, h->error);
    rb__lua_host_free(h);
    return st == RB_EPOLICY ? RB_EINVAL : st;
  }
  rb__lua_policy_init(h, &policy);
  st = rb_rules_new(&data, &policy, out, err, cap);
  if (st != RB_OK)
    rb__lua_host_free(h);
  return st;
}
