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

#ifdef __cplusplus
}
#endif

#endif /* RTCBILL_RULES_H */
