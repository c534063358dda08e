/* rules.c: the rule set the engine rates with.
 *
 * A rule set is compiled data (tiers, prices, package kinds, schedule)
 * plus the policy interface for the decisions that stay rules. It is
 * validated once here, whoever built it (the Lua rules host, a C test),
 * so that the rest of the core can trust every field, and it is
 * reference counted so that a reload can swap rule sets while decisions
 * taken under the old one finish with it. The count is not atomic: a
 * rule set belongs to one thread at a time, like the engine.
 *
 * Depends on: rtcbill.h and the C standard library.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "rtcbill.h"

struct rb_rules {
  int refs;
  rb_rules_data data;
  rb_policy policy;
};

static int invalid(char *err, size_t cap, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
static int invalid(char *err, size_t cap, const char *fmt, ...) {
  va_list ap;
  if (err != NULL && cap > 0) {
    va_start(ap, fmt);
    vsnprintf(err, cap, fmt, ap);
    va_end(ap);
  }
  return RB_EINVAL;
}

/* A name is 1..RB_NAME_MAX-1 printable bytes, NUL-terminated inside its
 * array (the data may come from C code that filled it carelessly). */
static bool good_name(const char *name) {
  size_t n = strnlen(name, RB_NAME_MAX);
  if (n == 0 || n == RB_NAME_MAX)
    return false;
  for (size_t i = 0; i < n; i++)
    if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f)
      return false;
  return true;
}

static int check_tariff(const rb_tariff *t, char *err, size_t cap) {
  size_t clen = strnlen(t->currency, sizeof t->currency);
  if (clen == 0 || clen == sizeof t->currency)
    return invalid(err, cap, "tariff: currency must be 1 to %zu characters",
                   sizeof t->currency - 1);
  if (t->tz_offset <= -86400 || t->tz_offset >= 86400)
    return invalid(err, cap,
                   "tariff: time zone offset %ld is not within "
                   "a day",
                   (long)t->tz_offset);
  if (t->video_mode != RB_VIDEO_PER_STREAM &&
      t->video_mode != RB_VIDEO_AGGREGATE)
    return invalid(err, cap, "tariff: unknown video mode %d",
                   (int)t->video_mode);
  if (t->total_unit <= 0)
    return invalid(err, cap,
                   "tariff: the total rounding unit must be "
                   "greater than zero");
  if (t->ntiers < 1 || t->ntiers > RB_MAX_TIERS)
    return invalid(err, cap, "tariff: %d tiers (1 to %d allowed)", t->ntiers,
                   RB_MAX_TIERS);
  for (int i = 0; i < t->ntiers; i++) {
    const rb_tier *tier = &t->tiers[i];
    if (!good_name(tier->name))
      return invalid(err, cap, "tariff: tier %d has no valid name", i);
    for (int j = 0; j < i; j++)
      if (strcmp(t->tiers[j].name, tier->name) == 0)
        return invalid(err, cap, "tariff: tier \"%s\" is listed twice",
                       tier->name);
    if (tier->price_per_1000 < 0)
      return invalid(err, cap, "tariff: tier \"%s\" has a negative price",
                     tier->name);
    if (i == 0 && tier->max_pixels != 0)
      return invalid(err, cap,
                     "tariff: the first tier \"%s\" is the audio "
                     "tier and must have max_pixels 0",
                     tier->name);
    if (i > 0 && tier->max_pixels <= 0)
      return invalid(err, cap,
                     "tariff: tier \"%s\" must have max_pixels "
                     "above 0",
                     tier->name);
    if (i > 1 && tier->max_pixels <= t->tiers[i - 1].max_pixels)
      return invalid(err, cap,
                     "tariff: tier \"%s\" is not above tier "
                     "\"%s\": max_pixels must increase",
                     tier->name, t->tiers[i - 1].name);
  }
  return RB_OK;
}

static int check_kinds(const rb_rules_data *d, char *err, size_t cap) {
  int granted = 0;
  if (d->nkinds < 1 || d->nkinds > RB_MAX_KINDS)
    return invalid(err, cap, "packages: %d kinds (1 to %d allowed)", d->nkinds,
                   RB_MAX_KINDS);
  for (int i = 0; i < d->nkinds; i++) {
    const rb_package_kind *k = &d->kinds[i];
    if (!good_name(k->name))
      return invalid(err, cap, "packages: kind %d has no valid name", i);
    for (int j = 0; j < i; j++)
      if (strcmp(d->kinds[j].name, k->name) == 0)
        return invalid(err, cap, "packages: kind \"%s\" is listed twice",
                       k->name);
    for (int t = 0; t < d->tariff.ntiers; t++)
      if (k->factors[t] < 1)
        return invalid(err, cap,
                       "packages: kind \"%s\" has factor %lld "
                       "for tier \"%s\" (must be 1 or more)",
                       k->name, (long long)k->factors[t],
                       d->tariff.tiers[t].name);
    granted += k->granted;
  }
  if (d->trial_kind < -1 || d->trial_kind >= d->nkinds)
    return invalid(err, cap, "packages: trial kind %d does not exist",
                   d->trial_kind);
  if (d->trial_kind >= 0 && !d->kinds[d->trial_kind].granted)
    return invalid(err, cap,
                   "packages: the trial kind \"%s\" is not a "
                   "granted kind",
                   d->kinds[d->trial_kind].name);
  /* A granted kind other than the trial could be neither granted nor
   * bought: it is a mistake, not a choice. */
  if (granted != (d->trial_kind >= 0 ? 1 : 0))
    return invalid(err, cap,
                   "packages: exactly the trial kind may be "
                   "granted (%d granted kinds)",
                   granted);
  if (d->trial_kind >= 0 &&
      (d->trial_minutes < 1 || d->trial_minutes > RB_MINUTES_MAX))
    return invalid(err, cap,
                   "packages: the trial's minutes %lld must be "
                   "1 to %lld",
                   (long long)d->trial_minutes, (long long)RB_MINUTES_MAX);
  return RB_OK;
}

static int check_schedule(const rb_rules_data *d, char *err, size_t cap) {
  if (d->norder < 1 || d->norder > RB_ORDER__COUNT)
    return invalid(err, cap,
                   "packages: the deduction order has %d keys "
                   "(1 to %d allowed)",
                   d->norder, RB_ORDER__COUNT);
  for (int i = 0; i < d->norder; i++) {
    if ((int)d->order[i] < 0 || d->order[i] >= RB_ORDER__COUNT)
      return invalid(err, cap, "packages: unknown deduction order key %d",
                     (int)d->order[i]);
    for (int j = 0; j < i; j++)
      if (d->order[j] == d->order[i])
        return invalid(err, cap,
                       "packages: deduction order key %d is "
                       "repeated",
                       (int)d->order[i]);
  }
  if (d->activation_delay < 0)
    return invalid(err, cap, "packages: negative activation delay");
  if (d->validity_months < 1)
    return invalid(err, cap, "packages: validity_months must be 1 or more");
  if (d->daily_issue_delay < 0 || d->monthly_issue_delay < 0)
    return invalid(err, cap, "settlement: negative issue delay");
  if (d->grace_seconds < 0 || d->reclaim_seconds < 0)
    return invalid(err, cap, "arrears: negative grace or reclaim delay");
  if (strnlen(d->version, RB_VERSION_MAX) == RB_VERSION_MAX)
    return invalid(err, cap, "rules: the version id is not terminated");
  return RB_OK;
}

/* The estimator's catalogue (SPEC 1.4): empty, or sizes within the
 * package limit, prices >= 0, bands contiguous from 0 or 1 with only the
 * last one open, sold as a kind that can be bought. */
static int check_catalogue(const rb_rules_data *d, char *err, size_t cap) {
  const rb_catalogue *c = &d->catalogue;
  const int64_t max = RB_MINUTES_MAX / 1000;
  if (c->nfixed < 0 || c->nfixed > RB_CATALOGUE_MAX || c->nbands < 0 ||
      c->nbands > RB_CATALOGUE_MAX)
    return invalid(err, cap,
                   "catalogue: %d fixed packages and %d bands (0 to %d "
                   "each allowed)",
                   c->nfixed, c->nbands, RB_CATALOGUE_MAX);
  if (c->nfixed == 0 && c->nbands == 0)
    return RB_OK;
  if (c->kind < 0 || c->kind >= d->nkinds || d->kinds[c->kind].granted)
    return invalid(err, cap, "catalogue: kind %d is not a kind that can be "
                   "bought", c->kind);
  for (int i = 0; i < c->nfixed; i++)
    if (c->fixed[i].thousands < 1 || c->fixed[i].thousands > max ||
        c->fixed[i].price < 0)
      return invalid(err, cap,
                     "catalogue: fixed package %d needs a size of 1 to "
                     "%lld thousand and a price >= 0",
                     i, (long long)max);
  for (int i = 0; i < c->nbands; i++) {
    const rb_catalogue_band *b = &c->bands[i];
    bool open = b->to == INT64_MAX;
    if (i == 0 ? (b->from != 0 && b->from != 1)
               : b->from != c->bands[i - 1].to + 1)
      return invalid(err, cap,
                     "catalogue: band %d must start at %s", i,
                     i == 0 ? "0 or 1" : "the previous band's end + 1");
    if (b->from > max || b->to < b->from || (open && i != c->nbands - 1) ||
        (!open && b->to > max) || b->per_thousand < 0)
      return invalid(err, cap,
                     "catalogue: band %d must end at or after its start "
                     "(at most %lld thousand; only the last band may be "
                     "open) and have a price >= 0",
                     i, (long long)max);
  }
  return RB_OK;
}

int rb_rules_new(const rb_rules_data *data, const rb_policy *policy,
                 rb_rules **out, char *err, size_t cap) {
  int st;
  if (data == NULL || out == NULL)
    return invalid(err, cap, "rules: no data");
  if (policy == NULL || policy->cycle == NULL || policy->exhaustion == NULL ||
      policy->last_error == NULL)
    return invalid(err, cap, "rules: the policy lacks a function");
  if ((st = check_tariff(&data->tariff, err, cap)) != RB_OK ||
      (st = check_kinds(data, err, cap)) != RB_OK ||
      (st = check_schedule(data, err, cap)) != RB_OK ||
      (st = check_catalogue(data, err, cap)) != RB_OK)
    return st;
  rb_rules *r = rb__malloc(sizeof *r);
  if (r == NULL) {
    if (err != NULL && cap > 0)
      snprintf(err, cap, "out of memory");
    return RB_ENOMEM;
  }
  r->refs = 1;
  r->data = *data;
  r->policy = *policy;
  *out = r;
  return RB_OK;
}

rb_rules *rb_rules_ref(rb_rules *r) {
  if (r != NULL)
    r->refs++;
  return r;
}

void rb_rules_unref(rb_rules *r) {
  if (r == NULL || --r->refs > 0)
    return;
  if (r->policy.release != NULL)
    r->policy.release(r->policy.ctx);
  rb__free(r);
}

const rb_rules_data *rb_rules_data_get(const rb_rules *r) { return &r->data; }

const rb_policy *rb_rules_policy(const rb_rules *r) { return &r->policy; }

int rb_rules_tier_index(const rb_rules *r, const char *name) {
  if (r == NULL || name == NULL)
    return -1;
  for (int i = 0; i < r->data.tariff.ntiers; i++)
    if (strcmp(r->data.tariff.tiers[i].name, name) == 0)
      return i;
  return -1;
}

int rb_rules_kind_index(const rb_rules *r, const char *name) {
  if (r == NULL || name == NULL)
    return -1;
  for (int i = 0; i < r->data.nkinds; i++)
    if (strcmp(r->data.kinds[i].name, name) == 0)
      return i;
  return -1;
}
