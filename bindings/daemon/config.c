/* config.c: the daemon's configuration file.
 *
 * One `key = value` per line; `#` starts a comment; a value may be in
 * double quotes. Keys (docs/operations.md): listen, db, rules, clock,
 * watch_rules, max_body_bytes, max_batch_events, max_pending_batches,
 * max_connections, request_timeout_ms, idle_timeout_ms,
 * future_tolerance_seconds, idempotency_retention_hours,
 * test_commit_delay_ms (for tests only), and token.read / token.ingest /
 * token.operator, each of which may be given several times.
 * Depends on: daemon_int.h, the C library.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon_int.h"

void rb_daemon_config_init(rb_daemon_config *c) {
  memset(c, 0, sizeof *c);
  c->port = 8080;
  c->watch_rules = true;
  c->max_body = 16u << 20;
  c->max_batch = 10000;
  c->max_pending = 64;
  c->max_conns = 256;
  c->request_timeout_ms = 10000;
  c->idle_timeout_ms = 60000;
  c->future_tolerance = 300;
  c->idempotency_retention_hours = 168;
}

void rb_daemon_config_free(rb_daemon_config *c) {
  free(c->host);
  free(c->db);
  free(c->rules);
  free(c->port_file);
  memset(c, 0, sizeof *c);
}

static int set_str(char **slot, const char *v) {
  char *p = malloc(strlen(v) + 1);
  if (p == NULL)
    return -1;
  strcpy(p, v);
  free(*slot);
  *slot = p;
  return 0;
}

static bool parse_u64(const char *v, uint64_t min, uint64_t max,
                      uint64_t *out) {
  if (!isdigit((unsigned char)v[0]))
    return false;
  errno = 0;
  char *end;
  unsigned long long x = strtoull(v, &end, 10);
  if (errno != 0 || *end != '\0' || x < min || x > max)
    return false;
  *out = x;
  return true;
}

static int set_listen(rb_daemon_config *c, const char *v, char *err,
                      size_t cap) {
  const char *colon = strrchr(v, ':');
  uint64_t port;
  if (colon == NULL || colon == v || !parse_u64(colon + 1, 0, 65535, &port)) {
    snprintf(err, cap, "listen: expected HOST:PORT, e.g. 127.0.0.1:8080");
    return -1;
  }
  char host[256];
  size_t n = (size_t)(colon - v);
  if (n >= sizeof host) {
    snprintf(err, cap, "listen: host too long");
    return -1;
  }
  memcpy(host, v, n);
  host[n] = '\0';
  c->port = (int)port;
  return set_str(&c->host, host);
}

int rb_daemon_config_set(rb_daemon_config *c, const char *key,
                         const char *v, char *err, size_t cap) {
  static const struct {
    const char *name;
    unsigned role;
  } roles[] = {{"token.read", RB_ROLE_READ},
               {"token.ingest", RB_ROLE_INGEST},
               {"token.operator", RB_ROLE_OPERATOR}};
  for (size_t i = 0; i < 3; i++) {
    if (strcmp(key, roles[i].name) != 0)
      continue;
    size_t n = strlen(v);
    if (n < 16 || n >= RB_DAEMON_TOKEN_MAX) {
      snprintf(err, cap, "%s: a token has 16 to %d characters", key,
               RB_DAEMON_TOKEN_MAX - 1);
      return -1;
    }
    for (size_t k = 0; k < n; k++)
      if (!isgraph((unsigned char)v[k])) {
        snprintf(err, cap, "%s: a token has no spaces or control "
                 "characters", key);
        return -1;
      }
    if (c->ntokens == RB_DAEMON_TOKENS_MAX) {
      snprintf(err, cap, "%s: at most %d tokens", key, RB_DAEMON_TOKENS_MAX);
      return -1;
    }
    c->tokens[c->ntokens].role = roles[i].role;
    memcpy(c->tokens[c->ntokens].token, v, n + 1);
    c->ntokens++;
    return 0;
  }
  static const struct {
    const char *name;
    uint64_t min, max;
    size_t off;
    int kind; /* 0 size_t, 1 uint64_t, 2 int64_t */
  } nums[] = {
      {"max_body_bytes", 1024, 1u << 30, offsetof(rb_daemon_config, max_body),
       0},
      {"max_batch_events", 1, 1000000,
       offsetof(rb_daemon_config, max_batch), 0},
      {"max_pending_batches", 1, 100000,
       offsetof(rb_daemon_config, max_pending), 0},
      {"max_connections", 1, 100000, offsetof(rb_daemon_config, max_conns),
       0},
      {"request_timeout_ms", 10, 3600000,
       offsetof(rb_daemon_config, request_timeout_ms), 1},
      {"idle_timeout_ms", 10, 86400000,
       offsetof(rb_daemon_config, idle_timeout_ms), 1},
      {"future_tolerance_seconds", 0, 86400,
       offsetof(rb_daemon_config, future_tolerance), 2},
      {"idempotency_retention_hours", 0, 87600,
       offsetof(rb_daemon_config, idempotency_retention_hours), 1},
      {"test_commit_delay_ms", 0, 60000,
       offsetof(rb_daemon_config, test_commit_delay_ms), 1},
  };
  for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++) {
    if (strcmp(key, nums[i].name) != 0)
      continue;
    uint64_t x;
    if (!parse_u64(v, nums[i].min, nums[i].max, &x)) {
      snprintf(err, cap, "%s: expected an integer from %" PRIu64 " to %" PRIu64,
               key, nums[i].min, nums[i].max);
      return -1;
    }
    char *p = (char *)c + nums[i].off;
    if (nums[i].kind == 0)
      *(size_t *)(void *)p = (size_t)x;
    else if (nums[i].kind == 1)
      *(uint64_t *)(void *)p = x;
    else
      *(int64_t *)(void *)p = (int64_t)x;
    return 0;
  }
  if (strcmp(key, "listen") == 0)
    return set_listen(c, v, err, cap);
  if (strcmp(key, "db") == 0 || strcmp(key, "rules") == 0 ||
      strcmp(key, "port_file") == 0) {
    char **slot = key[0] == 'd' ? &c->db : key[0] == 'r' ? &c->rules
                                                         : &c->port_file;
    if (set_str(slot, v) != 0) {
      snprintf(err, cap, "out of memory");
      return -1;
    }
    return 0;
  }
  if (strcmp(key, "clock") == 0) {
    if (strcmp(v, "real") != 0 && strcmp(v, "test") != 0) {
      snprintf(err, cap, "clock: expected \"real\" or \"test\"");
      return -1;
    }
    c->test_clock = strcmp(v, "test") == 0;
    return 0;
  }
  if (strcmp(key, "watch_rules") == 0) {
    if (strcmp(v, "true") != 0 && strcmp(v, "false") != 0) {
      snprintf(err, cap, "watch_rules: expected true or false");
      return -1;
    }
    c->watch_rules = strcmp(v, "true") == 0;
    return 0;
  }
  snprintf(err, cap, "unknown key '%s'", key);
  return -1;
}

static char *trim(char *s) {
  while (isspace((unsigned char)*s))
    s++;
  size_t n = strlen(s);
  while (n > 0 && isspace((unsigned char)s[n - 1]))
    s[--n] = '\0';
  return s;
}

int rb_daemon_config_load(rb_daemon_config *c, const char *path, char *err,
                          size_t cap) {
  FILE *f = fopen(path, "r");
  if (f == NULL) {
    snprintf(err, cap, "%s: %s", path, strerror(errno));
    return -1;
  }
  char line[1024], why[256];
  unsigned lineno = 0;
  int rc = 0;
  while (rc == 0 && fgets(line, sizeof line, f) != NULL) {
    lineno++;
    if (strchr(line, '\n') == NULL && !feof(f)) {
      snprintf(err, cap, "%s:%u: line too long", path, lineno);
      rc = -1;
      break;
    }
    char *s = trim(line);
    if (s[0] == '#' || s[0] == '\0')
      continue;
    char *eq = strchr(s, '=');
    if (eq == NULL) {
      snprintf(err, cap, "%s:%u: expected key = value", path, lineno);
      rc = -1;
      break;
    }
    *eq = '\0';
    char *key = trim(s), *val = trim(eq + 1);
    size_t n = strlen(val);
    if (n >= 2 && val[0] == '"' && val[n - 1] == '"') {
      val[n - 1] = '\0';
      val++;
    } else {
      char *hash = strchr(val, '#');
      if (hash != NULL) {
        *hash = '\0';
        val = trim(val);
      }
    }
    if (rb_daemon_config_set(c, key, val, why, sizeof why) != 0) {
      snprintf(err, cap, "%s:%u: %s", path, lineno, why);
      rc = -1;
    }
  }
  fclose(f);
  return rc;
}
