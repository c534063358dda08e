/* auth.c: bearer tokens and their roles.
 *
 * The Authorization header's token is compared with every configured
 * token, always all of them and always over the longer length, so that
 * the time taken says nothing about how much of a token matched.
 * Depends on: daemon_int.h.
 */
#include <string.h>
#include <strings.h>

#include "daemon_int.h"

bool rb__ct_equal(const char *a, size_t alen, const char *b, size_t blen) {
  size_t n = alen > blen ? alen : blen;
  unsigned diff = alen != blen;
  for (size_t i = 0; i < n; i++) {
    unsigned char x = i < alen ? (unsigned char)a[i] : 0;
    unsigned char y = i < blen ? (unsigned char)b[i] : 0;
    diff |= (unsigned)(x ^ y);
  }
  return diff == 0;
}

unsigned rb__auth_roles(const rb_daemon_config *c, const char *header) {
  static const char prefix[] = "Bearer ";
  if (header == NULL)
    return 0;
  size_t plen = sizeof prefix - 1;
  if (strlen(header) <= plen || strncasecmp(header, prefix, plen) != 0)
    return 0;
  const char *tok = header + plen;
  size_t tlen = strlen(tok);
  unsigned roles = 0;
  for (size_t i = 0; i < c->ntokens; i++) {
    const rb_daemon_token *t = &c->tokens[i];
    if (rb__ct_equal(tok, tlen, t->token, strlen(t->token)))
      roles |= t->role;
  }
  return roles;
}
