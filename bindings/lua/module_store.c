/* module_store.c: the "rtcbill.store" userdata of the Lua module: a
 * read-only view of a daemon's store (`rtcbill serve`'s SQLite file), so
 * that operations tooling can follow bills and notices from Lua.
 *
 *   local s = assert(rtcbill.open_store("store.db"))
 *   s:state()            -> {journal_seq=, digest=, now=, rules=,
 *                            bills=, notices=}  (now: seconds, UTC)
 *   s:bills([account])   -> { "<bill JSON line>", ... } in issue order
 *   s:notices([after [, limit]]) -> { {seq=, json=}, ... } after a cursor
 *   s:close()
 * Bills and notices are the exact JSON lines the daemon stored (decode
 * them with any JSON library; money in them is decimal strings).
 *
 * Depends on: module.h, SQLite 3.
 */
#include <string.h>

#include <lauxlib.h>
#include <sqlite3.h>

#include "module.h"

#define STORE_MT "rtcbill.store"

typedef struct store {
  sqlite3 *db;
} store;

static store *check_store(lua_State *L, int idx) {
  store *s = luaL_checkudata(L, idx, STORE_MT);
  luaL_argcheck(L, s->db != NULL, idx, "the store is closed");
  return s;
}

static int sql_fail(lua_State *L, sqlite3 *db) {
  return rb__mod_fail(L, RB_EIO, sqlite3_errmsg(db));
}

/* Runs sql with up to two bound arguments (text, integers) and pushes a
 * list built by row(L, stmt) for each row. */
typedef void (*row_fn)(lua_State *L, sqlite3_stmt *st);

static int query(lua_State *L, store *s, const char *sql, const char *text,
                 const int64_t *ints, int nints, row_fn row) {
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
    return sql_fail(L, s->db);
  int at = 1;
  if (text != NULL)
    sqlite3_bind_text(st, at++, text, -1, SQLITE_TRANSIENT);
  for (int i = 0; i < nints; i++)
    sqlite3_bind_int64(st, at++, ints[i]);
  lua_newtable(L);
  lua_Integer n = 0;
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    row(L, st);
    lua_rawseti(L, -2, ++n);
  }
  sqlite3_finalize(st);
  if (rc != SQLITE_DONE) {
    lua_pop(L, 1);
    return sql_fail(L, s->db);
  }
  return 1;
}

static void bill_row(lua_State *L, sqlite3_stmt *st) {
  lua_pushstring(L, (const char *)sqlite3_column_text(st, 0));
}

static void notice_row(lua_State *L, sqlite3_stmt *st) {
  lua_createtable(L, 0, 2);
  rb__mod_set_int(L, "seq", sqlite3_column_int64(st, 0));
  rb__mod_set_str(L, "json", (const char *)sqlite3_column_text(st, 1));
}

static int s_bills(lua_State *L) {
  store *s = check_store(L, 1);
  const char *account = luaL_optstring(L, 2, NULL);
  if (account == NULL)
    return query(L, s, "SELECT json FROM bills ORDER BY seq", NULL, NULL, 0,
                 bill_row);
  return query(L, s, "SELECT json FROM bills WHERE account = ? ORDER BY seq",
               account, NULL, 0, bill_row);
}

static int s_notices(lua_State *L) {
  store *s = check_store(L, 1);
  int64_t args[2] = {luaL_optinteger(L, 2, 0), luaL_optinteger(L, 3, 1000)};
  luaL_argcheck(L, args[1] > 0, 3, "limit must be positive");
  return query(L, s,
               "SELECT seq, json FROM notices WHERE seq > ? ORDER BY seq "
               "LIMIT ?",
               NULL, args, 2, notice_row);
}

static int s_state(lua_State *L) {
  store *s = check_store(L, 1);
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(s->db,
                         "SELECT journal_seq, digest, now, rules, bills, "
                         "notices FROM state WHERE id = 1",
                         -1, &st, NULL) != SQLITE_OK)
    return sql_fail(L, s->db);
  int rc = sqlite3_step(st);
  if (rc != SQLITE_ROW) {
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? rb__mod_fail(L, RB_ENOENT, "the store is empty")
                             : sql_fail(L, s->db);
  }
  lua_createtable(L, 0, 6);
  rb__mod_set_int(L, "journal_seq", sqlite3_column_int64(st, 0));
  rb__mod_set_str(L, "digest", (const char *)sqlite3_column_text(st, 1));
  rb__mod_set_int(L, "now", sqlite3_column_int64(st, 2));
  rb__mod_set_str(L, "rules", (const char *)sqlite3_column_text(st, 3));
  rb__mod_set_int(L, "bills", sqlite3_column_int64(st, 4));
  rb__mod_set_int(L, "notices", sqlite3_column_int64(st, 5));
  sqlite3_finalize(st);
  return 1;
}

static int s_close(lua_State *L) {
  store *s = luaL_checkudata(L, 1, STORE_MT);
  if (s->db != NULL) {
    sqlite3_close(s->db);
    s->db = NULL;
  }
  return 0;
}

int rb__mod_open_store(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  store *s = lua_newuserdatauv(L, sizeof *s, 0);
  s->db = NULL;
  luaL_setmetatable(L, STORE_MT);
  /* Read-only: tooling must never write into a live daemon's store. */
  if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
    const char *msg = s->db ? sqlite3_errmsg(s->db) : "cannot open";
    lua_pushfstring(L, "%s: %s", path, msg);
    s_close(L);
    return rb__mod_fail(L, RB_EIO, lua_tostring(L, -1));
  }
  sqlite3_busy_timeout(s->db, 1000);
  return 1;
}

void rb__mod_open_store_type(lua_State *L) {
  static const luaL_Reg methods[] = {{"bills", s_bills},
                                     {"notices", s_notices},
                                     {"state", s_state},
                                     {"close", s_close},
                                     {NULL, NULL}};
  if (luaL_newmetatable(L, STORE_MT)) {
    luaL_newlib(L, methods);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, s_close);
    lua_setfield(L, -2, "__gc");
  }
  lua_pop(L, 1);
}
