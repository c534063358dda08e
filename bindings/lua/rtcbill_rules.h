/* rtcbill_rules.h: the public API of the rules host.
 *
 * The rules host loads a directory of Lua 5.4 rule files into a
 * sandboxed Lua state, compiles their tables into the core's
 * rb_rules_data and implements the core's rb_policy by calling the rule
 * functions that remain (the settlement cycle, the exhaustion decision).
 * docs/rules.md is the rule author's reference.
 *
 * Depends on: rtcbill.h (the core's public API) and Lua 5.4.
 */
#ifndef RTCBILL_RULES_H
#define RTCBILL_RULES_H

#include <stddef.h>

#include "rtcbill.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Loads DIR/tariff.lua, settlement.lua, packages.lua, exhaustion.lua and
 * arrears.lua, each in a fresh sandbox, validates and compiles them and
 * computes their version id (FNV-1a 64 over the five files).
 *
 * On success *out is a new rule set (reference count 1, free it with
 * rb_rules_unref) whose policy calls back into the Lua state it keeps;
 * the state is closed when the last reference goes. A rule set must be
 * used by one thread at a time.
 *
 * On failure *out is untouched, nothing is leaked, and err (if cap > 0)
 * receives one line naming the file and, where there is one, the line:
 * "rules/tariff.lua:12: message" or "rules/x.lua: cannot open (...)".
 * The file is named as DIR followed by the file name. Returns
 * RB_EINVAL (a rule is wrong), RB_EIO (a file cannot be read) or
 * RB_ENOMEM. */
int rb_lua_rules_load(const char *dir, rb_rules **out, char *err, size_t cap);

/* Runs `rtcbill check` on dir: loads the set in the sandbox (which
 * validates every field), asks cycle() and decide() sample questions
 * (every answer must be valid), and runs the fixtures in DIR/selftest/
 * if there are any. *report receives the text to print, one line per
 * finding ("DIR/file.lua:LINE: message", "selftest NAME: ...") or, when
 * the set passed, "ok: rules VERSION (DIR)", a summary of the set and
 * the self-tests run; malloc'd, free it with free(); NULL if memory ran
 * out. Returns RB_OK (the set passed), RB_EINVAL (it did not), RB_EIO
 * (the check itself failed; *report says why) or RB_ENOMEM. */
int rb_lua_rules_check(const char *dir, char **report);

/* ------------------------------------------------------------------ */
/* Hot reload                                                         */
/* ------------------------------------------------------------------ */

/* A reloader loads a rules directory again, off the loop thread, when
 * asked: by SIGHUP, by a change in the directory (a libuv watch on the
 * directory itself, since editors replace files by renaming; changes to
 * *.lua names are debounced for RB_LUA_RELOAD_DEBOUNCE_MS), or by
 * rb_lua_reloader_request. The new set is loaded and validated
 * completely in the libuv thread pool; then, on the loop thread, the
 * callback gets either the new rule set or the reason it failed. The
 * caller swaps a new set into its engine(s) with rb_engine_set_rules
 * between two events; on failure it keeps the rules it has, which stay
 * live. Requests during a load are coalesced into one more load.
 *
 * The caller allocates the reloader (like a uv handle), keeps it at the
 * same address until the close callback has run, and uses it from the
 * loop thread only. */
#define RB_LUA_RELOAD_DEBOUNCE_MS 200
#define RB_LUA_RELOAD_SIGHUP 1u /* reload on SIGHUP */
#define RB_LUA_RELOAD_WATCH 2u  /* reload when the directory changes */

typedef struct rb_lua_reloader rb_lua_reloader;

/* status RB_OK: `rules` is a new rule set whose reference now belongs to
 * the callee (rb_rules_unref it once swapped in). Otherwise rules is
 * NULL, status is the rb_lua_rules_load error and `error` the one-line
 * message ("DIR/file.lua:LINE: message"), valid during the call. */
typedef void (*rb_lua_reload_cb)(rb_lua_reloader *r, int status,
                                 rb_rules *rules, const char *error);
typedef void (*rb_lua_reloader_close_cb)(rb_lua_reloader *r);

struct rb_lua_reloader {
  void *data; /* the caller's */
  /* Private. */
  uv_loop_t *loop;
  uv_signal_t signal;
  uv_fs_event_t watch;
  uv_timer_t debounce;
  uv_work_t work;
  char *dir;
  rb_lua_reload_cb cb;
  rb_lua_reloader_close_cb close_cb;
  uint64_t debounce_ms;
  int open;      /* handles not yet closed */
  unsigned flags;
  int busy;      /* a load is in the thread pool */
  int again;     /* a request came during the load */
  int closing;
  int status;    /* the load's result */
  rb_rules *result;
  char error[512];
};

/* Starts a reloader of dir (copied) on loop with RB_LUA_RELOAD_* flags.
 * It loads nothing until asked. Returns 0, RB_EINVAL (no callback),
 * RB_ENOENT (dir is not a directory), RB_ENOMEM, or RB_EIO when libuv
 * refuses a handle; on failure the handles already opened are being
 * closed and r must stay valid until the loop has run once more. */
int rb_lua_reloader_init(uv_loop_t *loop, rb_lua_reloader *r, const char *dir,
                         unsigned flags, rb_lua_reload_cb cb);

/* Asks for a reload now. Returns 0 or RB_ESTATE when closing. */
int rb_lua_reloader_request(rb_lua_reloader *r);

/* Stops watching and closes the handles. A load in progress is finished
 * and its result dropped (the callback is not called again). cb (may be
 * NULL) runs once everything is closed; then r may be freed. */
void rb_lua_reloader_close(rb_lua_reloader *r, rb_lua_reloader_close_cb cb);

#ifdef __cplusplus
}
#endif

#endif /* RTCBILL_RULES_H */
