/* store.c: the daemon's durable store on SQLite, and its commit jobs.
 *
 * One database file in WAL mode with synchronous=FULL holds the journal
 * (every accepted or duplicate input event with the engine time it was
 * applied at, every clock advance, every rules change), the rule sources
 * by version, and the materialized outputs: bills, notices (their seq is
 * the paging cursor), the usage ids seen and one state row (the engine's
 * digest after the last commit). A commit writes a list of jobs in one
 * transaction, so a crash leaves either all of a group or none of it.
 * A usage id inserted twice as "accepted" fails the transaction: the
 * uniqueness check lives in the same transaction as the charge. The
 * idempotency keys (idem.c) are written with their job's rows and, in
 * each commit, those older than the retention by the engine's clock are
 * deleted; the replay never reads them.
 * Depends on: daemon_int.h, SQLite 3.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon_int.h"

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT);"
    "CREATE TABLE IF NOT EXISTS rules(version TEXT PRIMARY KEY,"
    " tariff TEXT, settlement TEXT, packages TEXT, exhaustion TEXT,"
    " arrears TEXT);"
    "CREATE TABLE IF NOT EXISTS journal(seq INTEGER PRIMARY KEY,"
    " kind INTEGER NOT NULL, at INTEGER, outcome INTEGER NOT NULL,"
    " data TEXT);"
    "CREATE TABLE IF NOT EXISTS usage_ids(id TEXT PRIMARY KEY)"
    " WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS bills(seq INTEGER PRIMARY KEY,"
    " id TEXT NOT NULL, account TEXT NOT NULL, json TEXT NOT NULL);"
    "CREATE INDEX IF NOT EXISTS bills_account ON bills(account, seq);"
    "CREATE INDEX IF NOT EXISTS bills_id ON bills(id);"
    "CREATE TABLE IF NOT EXISTS notices(seq INTEGER PRIMARY KEY,"
    " type TEXT NOT NULL, account TEXT, json TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS state(id INTEGER PRIMARY KEY CHECK(id = 1),"
    " journal_seq INTEGER, digest TEXT, now INTEGER, rules TEXT,"
    " bills INTEGER, notices INTEGER);"
    "CREATE TABLE IF NOT EXISTS idempotency(key TEXT PRIMARY KEY,"
    " digest TEXT NOT NULL, status INTEGER NOT NULL, body TEXT NOT NULL,"
    " at INTEGER) WITHOUT ROWID;"
    "CREATE INDEX IF NOT EXISTS idempotency_at ON idempotency(at);"
    "INSERT OR IGNORE INTO meta VALUES('schema', '1');";

/* ------------------------------------------------------------------ */
/* Jobs                                                               */
/* ------------------------------------------------------------------ */

static bool grow(void **v, size_t *cap, size_t n, size_t size) {
  if (n < *cap)
    return true;
  size_t nc = *cap == 0 ? 16 : *cap * 2;
  void *p = realloc(*v, nc * size);
  if (p == NULL)
    return false;
  *v = p;
  *cap = nc;
  return true;
}

static char *dup_n(const char *s, size_t n) {
  char *p = malloc(n + 1);
  if (p != NULL) {
    memcpy(p, s, n);
    p[n] = '\0';
  }
  return p;
}

rb__job *rb__job_new(void) {
  rb__job *j = calloc(1, sizeof *j);
  if (j != NULL)
    j->now = RB_TIME_NONE;
  return j;
}

void rb__job_free(rb__job *j) {
  if (j == NULL)
    return;
  for (size_t i = 0; i < j->nrows; i++)
    free(j->rows[i].data);
  free(j->rows);
  rb__out *lists[2] = {j->bills, j->notices};
  size_t ns[2] = {j->nbills, j->nnotices};
  for (int l = 0; l < 2; l++) {
    for (size_t i = 0; i < ns[l]; i++) {
      free(lists[l][i].key);
      free(lists[l][i].account);
      free(lists[l][i].json);
    }
    free(lists[l]);
  }
  for (size_t i = 0; i < j->nusage; i++)
    free(j->usage[i]);
  free(j->usage);
  free(j->idem_key);
  /* Waits are answered (and emptied) before a job is freed; what is left
   * here is a job dropped at exit, whose connections are gone. */
  rb__reload_wait *waits[2] = {j->waits, j->replays};
  for (int l = 0; l < 2; l++)
    while (waits[l] != NULL) {
      rb__reload_wait *next = waits[l]->next;
      free(waits[l]);
      waits[l] = next;
    }
  if (j->rules != NULL) {
    rb__rules_src_free(j->rules);
    free(j->rules);
  }
  rb_buf_free(&j->body);
  free(j);
}

int rb__job_row(rb__job *j, int kind, int64_t at, int outcome,
                const char *data, size_t len) {
  if (!grow((void **)&j->rows, &j->caprows, j->nrows, sizeof *j->rows))
    return RB_ENOMEM;
  char *copy = NULL;
  if (data != NULL && (copy = dup_n(data, len)) == NULL)
    return RB_ENOMEM;
  j->rows[j->nrows++] = (rb__jrow){kind, at, outcome, copy};
  return RB_OK;
}

int rb__job_usage(rb__job *j, const char *id) {
  if (!grow((void **)&j->usage, &j->capusage, j->nusage, sizeof *j->usage))
    return RB_ENOMEM;
  char *copy = dup_n(id, strlen(id));
  if (copy == NULL)
    return RB_ENOMEM;
  j->usage[j->nusage++] = copy;
  return RB_OK;
}

int rb__job_out(rb__out **v, size_t *n, size_t *cap, int64_t seq,
                const char *key, const char *account, const char *json,
                size_t len) {
  if (!grow((void **)v, cap, *n, sizeof **v))
    return RB_ENOMEM;
  rb__out o = {seq, dup_n(key, strlen(key)),
               dup_n(account ? account : "", account ? strlen(account) : 0),
               dup_n(json, len)};
  if (o.key == NULL || o.account == NULL || o.json == NULL) {
    free(o.key);
    free(o.account);
    free(o.json);
    return RB_ENOMEM;
  }
  (*v)[(*n)++] = o;
  return RB_OK;
}

/* ------------------------------------------------------------------ */
/* Writer connection                                                  */
/* ------------------------------------------------------------------ */

static int fail(sqlite3 *db, char *err, size_t cap, const char *what) {
  snprintf(err, cap, "%s: %s", what, db ? sqlite3_errmsg(db) : "no memory");
  return -1;
}

int rb__store_open(rb__store *s, const char *path, char *err, size_t cap) {
  memset(s, 0, sizeof *s);
  int rc = sqlite3_open_v2(path, &s->db,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                               SQLITE_OPEN_FULLMUTEX,
                           NULL);
  if (rc != SQLITE_OK) {
    fail(s->db, err, cap, path);
    rb__store_close(s);
    return -1;
  }
  sqlite3_busy_timeout(s->db, 5000);
  char *msg = NULL;
  if (sqlite3_exec(s->db,
                   "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;",
                   NULL, NULL, &msg) != SQLITE_OK ||
      sqlite3_exec(s->db, schema, NULL, NULL, &msg) != SQLITE_OK) {
    snprintf(err, cap, "%s: %s", path, msg ? msg : "cannot set up");
    sqlite3_free(msg);
    rb__store_close(s);
    return -1;
  }
  struct {
    sqlite3_stmt **st;
    const char *sql;
  } stmts[] = {
      {&s->ins_journal,
       "INSERT INTO journal(kind, at, outcome, data) VALUES(?,?,?,?)"},
      {&s->ins_usage, "INSERT OR IGNORE INTO usage_ids(id) VALUES(?)"},
      {&s->ins_bill, "INSERT INTO bills(seq, id, account, json) "
                     "VALUES(?,?,?,?)"},
      {&s->ins_notice, "INSERT INTO notices(seq, type, account, json) "
                       "VALUES(?,?,?,?)"},
      {&s->ins_rules, "INSERT OR IGNORE INTO rules VALUES(?,?,?,?,?,?)"},
      {&s->upd_state,
       "INSERT OR REPLACE INTO state VALUES(1, (SELECT max(seq) FROM "
       "journal), ?, ?, ?, (SELECT count(*) FROM bills), "
       "(SELECT count(*) FROM notices))"},
      {&s->ins_idem, "INSERT OR REPLACE INTO idempotency(key, digest, "
                     "status, body, at) VALUES(?,?,?,?,?)"},
      {&s->del_idem, "DELETE FROM idempotency WHERE at < ?"},
  };
  for (size_t i = 0; i < sizeof stmts / sizeof stmts[0]; i++)
    if (sqlite3_prepare_v2(s->db, stmts[i].sql, -1, stmts[i].st, NULL) !=
        SQLITE_OK) {
      fail(s->db, err, cap, path);
      rb__store_close(s);
      return -1;
    }
  return 0;
}

void rb__store_close(rb__store *s) {
  sqlite3_stmt *all[] = {s->ins_journal, s->ins_usage, s->ins_bill,
                         s->ins_notice, s->ins_rules, s->upd_state,
                         s->ins_idem,   s->del_idem};
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
    sqlite3_finalize(all[i]);
  if (s->db != NULL)
    sqlite3_close(s->db);
  memset(s, 0, sizeof *s);
}

static int step_reset(sqlite3_stmt *st) {
  int rc = sqlite3_step(st);
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
  return rc == SQLITE_DONE ? 0 : -1;
}

static void bind_time(sqlite3_stmt *st, int i, int64_t t) {
  if (t == RB_TIME_NONE)
    sqlite3_bind_null(st, i);
  else
    sqlite3_bind_int64(st, i, t);
}

static int write_outs(sqlite3_stmt *st, const rb__out *v, size_t n) {
  for (size_t i = 0; i < n; i++) {
    sqlite3_bind_int64(st, 1, v[i].seq);
    sqlite3_bind_text(st, 2, v[i].key, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, v[i].account, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, v[i].json, -1, SQLITE_STATIC);
    if (step_reset(st) != 0)
      return -1;
  }
  return 0;
}

static int write_job(rb__store *s, const rb__job *j) {
  if (j->rules != NULL) {
    sqlite3_bind_text(s->ins_rules, 1, j->rules->version, -1, SQLITE_STATIC);
    for (int f = 0; f < RB__RULE_FILES; f++)
      sqlite3_bind_text(s->ins_rules, 2 + f, j->rules->src[f],
                        (int)j->rules->len[f], SQLITE_STATIC);
    if (step_reset(s->ins_rules) != 0)
      return -1;
  }
  for (size_t i = 0; i < j->nrows; i++) {
    const rb__jrow *r = &j->rows[i];
    sqlite3_bind_int(s->ins_journal, 1, r->kind);
    bind_time(s->ins_journal, 2, r->at);
    sqlite3_bind_int(s->ins_journal, 3, r->outcome);
    if (r->data != NULL)
      sqlite3_bind_text(s->ins_journal, 4, r->data, -1, SQLITE_STATIC);
    if (step_reset(s->ins_journal) != 0)
      return -1;
  }
  for (size_t i = 0; i < j->nusage; i++) {
    sqlite3_bind_text(s->ins_usage, 1, j->usage[i], -1, SQLITE_STATIC);
    if (step_reset(s->ins_usage) != 0)
      return -1;
    /* An id the engine accepted as new must be new to the store too. */
    if (sqlite3_changes(s->db) != 1)
      return -2;
  }
  if (write_outs(s->ins_bill, j->bills, j->nbills) != 0 ||
      write_outs(s->ins_notice, j->notices, j->nnotices) != 0)
    return -1;
  if (j->idem_key != NULL) {
    sqlite3_bind_text(s->ins_idem, 1, j->idem_key, -1, SQLITE_STATIC);
    sqlite3_bind_text(s->ins_idem, 2, j->idem_digest, -1, SQLITE_STATIC);
    sqlite3_bind_int(s->ins_idem, 3, j->status);
    sqlite3_bind_text(s->ins_idem, 4, j->body.data ? j->body.data : "",
                      (int)j->body.len, SQLITE_STATIC);
    bind_time(s->ins_idem, 5, j->now);
    if (step_reset(s->ins_idem) != 0)
      return -1;
  }
  return 0;
}

int rb__store_commit(rb__store *s, rb__job *list, char *err, size_t cap) {
  char *msg = NULL;
  if (s->delay_ms > 0)
    uv_sleep((unsigned)s->delay_ms);
  if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, &msg) != SQLITE_OK) {
    snprintf(err, cap, "BEGIN: %s", msg ? msg : "failed");
    sqlite3_free(msg);
    return -1;
  }
  const rb__job *last = NULL;
  for (rb__job *j = list; j != NULL; j = j->next) {
    int rc = write_job(s, j);
    if (rc != 0) {
      if (rc == -2)
        snprintf(err, cap, "a usage id accepted as new is already stored");
      else
        fail(s->db, err, cap, "commit");
      sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
      return -1;
    }
    last = j;
  }
  if (last != NULL) {
    char digest[17];
    snprintf(digest, sizeof digest, "%016" PRIx64, last->digest);
    sqlite3_bind_text(s->upd_state, 1, digest, -1, SQLITE_TRANSIENT);
    bind_time(s->upd_state, 2, last->now);
    sqlite3_bind_text(s->upd_state, 3, last->version, -1, SQLITE_STATIC);
    if (step_reset(s->upd_state) != 0) {
      fail(s->db, err, cap, "commit");
      sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
      return -1;
    }
    /* Keys past the retention go; the index on `at` keeps this cheap. */
    if (s->idem_retention > 0 && last->now != RB_TIME_NONE &&
        last->now > INT64_MIN + s->idem_retention) {
      sqlite3_bind_int64(s->del_idem, 1, last->now - s->idem_retention);
      if (step_reset(s->del_idem) != 0) {
        fail(s->db, err, cap, "commit");
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        return -1;
      }
    }
  }
  if (sqlite3_exec(s->db, "COMMIT", NULL, NULL, &msg) != SQLITE_OK) {
    snprintf(err, cap, "COMMIT: %s", msg ? msg : "failed");
    sqlite3_free(msg);
    sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    return -1;
  }
  return 0;
}

/* ------------------------------------------------------------------ */
/* Reading                                                            */
/* ------------------------------------------------------------------ */

int rb__store_open_read(const char *path, sqlite3 **out, char *err,
                        size_t cap) {
  *out = NULL;
  int rc = sqlite3_open_v2(path, out, SQLITE_OPEN_READONLY, NULL);
  if (rc != SQLITE_OK) {
    fail(*out, err, cap, path);
    sqlite3_close(*out);
    *out = NULL;
    return -1;
  }
  sqlite3_busy_timeout(*out, 5000);
  return 0;
}

int64_t rb__store_count(sqlite3 *db, const char *sql) {
  sqlite3_stmt *st = NULL;
  int64_t n = -1;
  if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
      sqlite3_step(st) == SQLITE_ROW)
    n = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  return n;
}

int rb__store_state(sqlite3 *db, rb__state *out, char *err, size_t cap) {
  memset(out, 0, sizeof *out);
  out->now = RB_TIME_NONE;
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(db,
                         "SELECT journal_seq, digest, now, rules, bills, "
                         "notices FROM state WHERE id = 1",
                         -1, &st, NULL) != SQLITE_OK)
    return fail(db, err, cap, "state");
  int rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) {
    out->present = true;
    out->journal_seq = sqlite3_column_int64(st, 0);
    const char *dg = (const char *)sqlite3_column_text(st, 1);
    out->digest = dg ? strtoull(dg, NULL, 16) : 0;
    if (sqlite3_column_type(st, 2) != SQLITE_NULL)
      out->now = sqlite3_column_int64(st, 2);
    const char *v = (const char *)sqlite3_column_text(st, 3);
    snprintf(out->rules, sizeof out->rules, "%s", v ? v : "");
    out->bills = sqlite3_column_int64(st, 4);
    out->notices = sqlite3_column_int64(st, 5);
  }
  sqlite3_finalize(st);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    return fail(db, err, cap, "state");
  return 0;
}

int rb__store_rules_src(sqlite3 *db, const char *version, rb__rules_src *out,
                        char *err, size_t cap) {
  memset(out, 0, sizeof *out);
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(db, "SELECT * FROM rules WHERE version = ?", -1,
                         &st, NULL) != SQLITE_OK)
    return fail(db, err, cap, "rules");
  sqlite3_bind_text(st, 1, version, -1, SQLITE_STATIC);
  if (sqlite3_step(st) != SQLITE_ROW) {
    sqlite3_finalize(st);
    snprintf(err, cap, "rules %s: not in the store", version);
    return -1;
  }
  snprintf(out->version, sizeof out->version, "%s", version);
  for (int f = 0; f < RB__RULE_FILES; f++) {
    const char *t = (const char *)sqlite3_column_text(st, 1 + f);
    size_t n = (size_t)sqlite3_column_bytes(st, 1 + f);
    out->src[f] = dup_n(t ? t : "", t ? n : 0);
    out->len[f] = t ? n : 0;
    if (out->src[f] == NULL) {
      sqlite3_finalize(st);
      rb__rules_src_free(out);
      snprintf(err, cap, "rules: out of memory");
      return -1;
    }
  }
  sqlite3_finalize(st);
  return 0;
}

int rb__store_idem_get(sqlite3 *db, const char *key, int64_t not_before,
                       bool *found, char digest[RB__IDEM_DIGEST_LEN],
                       int *status, rb_buf *out) {
  sqlite3_stmt *st = NULL;
  *found = false;
  /* A key stored without an engine time (none had passed yet) is the
   * oldest there is, but the retention counts from the engine's clock,
   * which then had not started: such a key is kept. */
  if (sqlite3_prepare_v2(db,
                         "SELECT digest, status, body FROM idempotency "
                         "WHERE key = ? AND (at IS NULL OR at >= ?)",
                         -1, &st, NULL) != SQLITE_OK)
    return RB_EIO;
  sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 2, not_before);
  int rc = RB_OK, step = sqlite3_step(st);
  if (step == SQLITE_ROW) {
    const char *dg = (const char *)sqlite3_column_text(st, 0);
    snprintf(digest, RB__IDEM_DIGEST_LEN, "%s", dg ? dg : "");
    *status = sqlite3_column_int(st, 1);
    const char *b = (const char *)sqlite3_column_text(st, 2);
    rc = rb_buf_append(out, b ? b : "",
                       b ? (size_t)sqlite3_column_bytes(st, 2) : 0);
    *found = rc == RB_OK;
  } else if (step != SQLITE_DONE) {
    rc = RB_EIO;
  }
  sqlite3_finalize(st);
  return rc;
}

int rb__store_bills_json(sqlite3 *db, const char *account, const char *id,
                         rb_buf *out, bool *found) {
  sqlite3_stmt *st = NULL;
  const char *sql = account != NULL
                        ? "SELECT json FROM bills WHERE account = ? "
                          "ORDER BY seq"
                        : "SELECT json FROM bills WHERE id = ? "
                          "ORDER BY seq DESC LIMIT 1";
  *found = false;
  if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
    return RB_EIO;
  sqlite3_bind_text(st, 1, account ? account : id, -1, SQLITE_STATIC);
  int rc = RB_OK, step;
  if (account != NULL)
    rc = rb_buf_append(out, "[", 1);
  while (rc == RB_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
    if (*found && account != NULL)
      rc = rb_buf_append(out, ",", 1);
    if (rc == RB_OK)
      rc = rb_buf_append(out, (const char *)sqlite3_column_text(st, 0),
                         (size_t)sqlite3_column_bytes(st, 0));
    *found = true;
  }
  if (rc == RB_OK && account != NULL)
    rc = rb_buf_append(out, "]", 1);
  sqlite3_finalize(st);
  return rc;
}

int rb__store_notices_json(sqlite3 *db, int64_t after, int64_t limit,
                           rb_buf *out) {
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(db,
                         "SELECT seq, json FROM notices WHERE seq > ? "
                         "ORDER BY seq LIMIT ?",
                         -1, &st, NULL) != SQLITE_OK)
    return RB_EIO;
  sqlite3_bind_int64(st, 1, after);
  sqlite3_bind_int64(st, 2, limit + 1);
  int rc = rb_buf_append(out, "{\"notices\":[", 12);
  int64_t n = 0, next = after;
  bool more = false;
  while (rc == RB_OK && sqlite3_step(st) == SQLITE_ROW) {
    if (n == limit) {
      more = true;
      break;
    }
    next = sqlite3_column_int64(st, 0);
    rc = rb_buf_printf(out, "%s{\"cursor\":%" PRId64 ",\"notice\":",
                       n > 0 ? "," : "", next);
    if (rc == RB_OK)
      rc = rb_buf_append(out, (const char *)sqlite3_column_text(st, 1),
                         (size_t)sqlite3_column_bytes(st, 1));
    if (rc == RB_OK)
      rc = rb_buf_append(out, "}", 1);
    n++;
  }
  if (rc == RB_OK)
    rc = rb_buf_printf(out, "],\"next\":%" PRId64 ",\"more\":%s}", next,
                       more ? "true" : "false");
  sqlite3_finalize(st);
  return rc;
}
