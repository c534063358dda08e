/* reload.c: hot reload of a rules directory, driven by libuv.
 *
 * SIGHUP, a change in the watched directory (debounced) or an explicit
 * request start one load in the libuv thread pool: rb_lua_rules_load
 * builds and validates the whole new set in a Lua state of its own, far
 * from the loop thread and the engines using the live set. The result
 * reaches the caller's callback on the loop thread, where swapping it in
 * is a pointer change between two events. A failed load leaves nothing
 * behind, so the live rules simply stay.
 *
 * Depends on: rtcbill_rules.h, rtcbill.h, libuv and the C library.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "rtcbill_rules.h"

static void start_load(rb_lua_reloader *r);

/* ------------------------------------------------------------------ */
/* Loading in the thread pool                                         */
/* ------------------------------------------------------------------ */

/* Runs in a pool thread: touches only r->dir (read-only while busy) and
 * the result fields, which the loop thread reads after completion. */
static void do_load(uv_work_t *w) {
  rb_lua_reloader *r = w->data;
  r->result = NULL;
  r->error[0] = '\0';
  r->status = rb_lua_rules_load(r->dir, &r->result, r->error, sizeof r->error);
}

static void maybe_closed(rb_lua_reloader *r) {
  if (r->closing && r->open == 0 && !r->busy) {
    free(r->dir);
    r->dir = NULL;
    if (r->close_cb != NULL)
      r->close_cb(r);
  }
}

static void after_load(uv_work_t *w, int status) {
  rb_lua_reloader *r = w->data;
  rb_rules *rules = r->result;
  r->result = NULL;
  r->busy = 0;
  if (r->closing || status == UV_ECANCELED) {
    if (rules != NULL)
      rb_rules_unref(rules);
    maybe_closed(r);
    return;
  }
  if (r->status == RB_OK)
    r->cb(r, RB_OK, rules, NULL);
  else
    r->cb(r, r->status, NULL, r->error[0] ? r->error : rb_strerror(r->status));
  if (r->again && !r->closing) {
    r->again = 0;
    start_load(r);
  }
}

static void start_load(rb_lua_reloader *r) {
  r->work.data = r;
  r->busy = 1;
  if (uv_queue_work(r->loop, &r->work, do_load, after_load) != 0) {
    /* uv_queue_work fails only for a missing callback; say so anyway. */
    r->busy = 0;
    r->cb(r, RB_EIO, NULL, "cannot queue the reload in the thread pool");
  }
}

int rb_lua_reloader_request(rb_lua_reloader *r) {
  if (r == NULL || r->closing)
    return RB_ESTATE;
  if (r->busy)
    r->again = 1;
  else
    start_load(r);
  return RB_OK;
}

/* ------------------------------------------------------------------ */
/* Triggers                                                           */
/* ------------------------------------------------------------------ */

static void on_signal(uv_signal_t *h, int signum) {
  (void)signum;
  rb_lua_reloader_request(h->data);
}

static void on_debounce(uv_timer_t *h) { rb_lua_reloader_request(h->data); }

/* Only rule files matter; editors' temporary files (".x.swp", "x~",
 * "x.lua.tmp") do not end in ".lua". A NULL name means "something in
 * the directory", which counts. */
static int is_rule_name(const char *name) {
  if (name == NULL)
    return 1;
  size_t n = strlen(name);
  return n > 4 && name[0] != '.' && strcmp(name + n - 4, ".lua") == 0;
}

static void on_change(uv_fs_event_t *h, const char *name, int events,
                      int status) {
  rb_lua_reloader *r = h->data;
  (void)events;
  if (r->closing || (status == 0 && !is_rule_name(name)))
    return;
  /* An editor's save is several events (write, rename, chmod): wait for
   * quiet, then load once. */
  uv_timer_start(&r->debounce, on_debounce, r->debounce_ms, 0);
}

/* ------------------------------------------------------------------ */
/* Life cycle                                                         */
/* ------------------------------------------------------------------ */

static void on_closed(uv_handle_t *h) {
  rb_lua_reloader *r = h->data;
  r->open--;
  maybe_closed(r);
}

static void close_handles(rb_lua_reloader *r) {
  uv_handle_t *hs[3] = {(uv_handle_t *)&r->signal, (uv_handle_t *)&r->watch,
                        (uv_handle_t *)&r->debounce};
  for (int i = 0; i < 3; i++)
    if (hs[i]->loop != NULL && !uv_is_closing(hs[i]))
      uv_close(hs[i], on_closed);
}

static int init_failed(rb_lua_reloader *r, int rc) {
  r->closing = 1;
  r->close_cb = NULL;
  close_handles(r);
  if (r->open == 0) {
    free(r->dir);
    r->dir = NULL;
  }
  return rc;
}

int rb_lua_reloader_init(uv_loop_t *loop, rb_lua_reloader *r, const char *dir,
                         unsigned flags, rb_lua_reload_cb cb) {
  struct stat st;
  if (loop == NULL || r == NULL || dir == NULL || cb == NULL)
    return RB_EINVAL;
  memset(r, 0, sizeof *r);
  if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
    return RB_ENOENT;
  r->dir = malloc(strlen(dir) + 1);
  if (r->dir == NULL)
    return RB_ENOMEM;
  strcpy(r->dir, dir);
  r->loop = loop;
  r->cb = cb;
  r->flags = flags;
  r->debounce_ms = RB_LUA_RELOAD_DEBOUNCE_MS;
  r->signal.data = r->watch.data = r->debounce.data = r;

  if (uv_timer_init(loop, &r->debounce) != 0)
    return init_failed(r, RB_EIO);
  r->open++;
  if (flags & RB_LUA_RELOAD_SIGHUP) {
    if (uv_signal_init(loop, &r->signal) != 0)
      return init_failed(r, RB_EIO);
    r->open++;
    if (uv_signal_start(&r->signal, on_signal, SIGHUP) != 0)
      return init_failed(r, RB_EIO);
  }
  if (flags & RB_LUA_RELOAD_WATCH) {
    if (uv_fs_event_init(loop, &r->watch) != 0)
      return init_failed(r, RB_EIO);
    r->open++;
    if (uv_fs_event_start(&r->watch, on_change, dir, 0) != 0)
      return init_failed(r, RB_EIO);
  }
  return RB_OK;
}

void rb_lua_reloader_close(rb_lua_reloader *r, rb_lua_reloader_close_cb cb) {
  if (r == NULL || r->closing)
    return;
  r->closing = 1;
  r->close_cb = cb;
  if (r->busy)
    uv_cancel((uv_req_t *)&r->work);
  close_handles(r);
  maybe_closed(r);
}
