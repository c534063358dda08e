/* catalogue.h: compiling packages.lua's `catalogue` (SPEC 1.4), the
 * price estimator's list of packages, into rb_rules_data.catalogue.
 *
 * Depends on: host.h (the rules host's private interface) and Lua 5.4.
 */
#ifndef RTCBILL_LUA_CATALOGUE_H
#define RTCBILL_LUA_CATALOGUE_H

#include "host.h"

/* Reads `catalogue` from the environment of packages.lua at stack index
 * env into d->catalogue; the kinds must be compiled already. An absent
 * catalogue leaves it empty. Raises "packages.lua:LINE: message" for the
 * first invalid field; leaves the stack as it found it otherwise. */
void rb__lua_compile_catalogue(lua_State *L, rb__lua_host *h, rb_rules_data *d,
                               int env);

#endif /* RTCBILL_LUA_CATALOGUE_H */
