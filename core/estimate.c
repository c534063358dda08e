/* estimate.c: the price calculator behind `rtcbill estimate`.
 *
 * A month of identical interactive live rooms becomes minutes per tier
 * (the same metering model as billing, applied to a room's shape instead
 * of usage records), the consumption of the catalogue's package kind by
 * that kind's factors, the postpaid cost at the tariff's list prices,
 * and the cheapest single package of the rules' catalogue. Every price
 * comes from the rule set, so a rule change moves estimates exactly as
 * it moves bills. Integer arithmetic only: products in 128 bits, checked
 * against int64 before they are kept. docs/estimate.md states the model.
 *
 * Depends on: rtcbill.h (rules, money, tiers) and the C standard library.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "rtcbill.h"

__extension__ typedef __int128 rb__i128;

const char *rb_cheaper_name(rb_cheaper c) {
  switch (c) {
  case RB_CHEAPER_POSTPAID:
    return "postpaid";
  case RB_CHEAPER_PREPAID:
    return "prepaid";
  default:
    return "same";
  }
}

static int fail(rb_estimate_result *out, int code, const char *field,
                const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;
static int fail(rb_estimate_result *out, int code, const char *field,
                const char *fmt, ...) {
  va_list ap;
  snprintf(out->field, sizeof out->field, "%s", field);
  va_start(ap, fmt);
  vsnprintf(out->message, sizeof out->message, fmt, ap);
  va_end(ap);
  return code;
}

/* *out = a * b for a, b >= 0; false when the product passes INT64_MAX. */
static bool mul(int64_t a, int64_t b, int64_t *out) {
  rb__i128 p = (rb__i128)a * b;
  if (p > INT64_MAX)
    return false;
  *out = (int64_t)p;
  return true;
}

static bool add(int64_t a, int64_t b, int64_t *out) {
  if (a > INT64_MAX - b)
    return false;
  *out = a + b;
  return true;
}

/* The tier a user is charged in when receiving k >= 1 streams of `tier`.
 * Per stream, each stream counts in its own tier, so the caller counts k
 * stream-minutes there. Aggregated, the areas are summed and the user
 * counts once: a stream of a tier is taken at the tier's bound (its
 * nominal resolution, 1280x720 for HD); the last tier takes any sum. */
static int aggregate_tier(const rb_tariff *t, int tier, int64_t k) {
  int64_t area = t->tiers[tier].max_pixels;
  if (area == INT64_MAX || area > INT64_MAX / k)
    return t->ntiers - 1;
  return rb_tariff_tier_for_pixels(t, area * k);
}

static int check_count(rb_estimate_result *out, const char *field, int64_t v,
                       int64_t lo, int64_t hi, const char *why) {
  if (v < lo)
    return fail(out, RB_EINVAL, field, "%s must be %lld or more, not %lld",
                field, (long long)lo, (long long)v);
  if (v > hi)
    return fail(out, RB_ERANGE, field, "%s must be at most %lld%s, not %lld",
                field, (long long)hi, why, (long long)v);
  return RB_OK;
}

static int check_input(const rb_rules_data *d, const rb_estimate_input *in,
                       rb_estimate_result *out) {
  int st;
  if ((st = check_count(out, "rooms", in->rooms, 1, INT64_MAX, "")) != 0 ||
      (st = check_count(out, "hosts", in->hosts, 1, INT64_MAX, "")) != 0 ||
      (st = check_count(out, "audience", in->audience, 0, INT64_MAX, "")) !=
          0 ||
      (st = check_count(out, "minutes", in->minutes, 1, RB_ESTIMATE_MINUTES_MAX,
                        " (a session lies within one day)")) != 0 ||
      (st = check_count(out, "days", in->days, 1, RB_ESTIMATE_DAYS_MAX,
                        " (the days of one month)")) != 0)
    return st;
  out->tier = -1;
  for (int i = 0; in->tier != NULL && i < d->tariff.ntiers; i++)
    if (strcmp(d->tariff.tiers[i].name, in->tier) == 0)
      out->tier = i;
  if (out->tier < 0) {
    char names[RB_MAX_TIERS * (RB_NAME_MAX + 2)] = "";
    size_t n = 0;
    for (int i = 0; i < d->tariff.ntiers; i++)
      n += (size_t)snprintf(names + n, sizeof names - n, "%s%s",
                            i > 0 ? ", " : "", d->tariff.tiers[i].name);
    return fail(out, RB_ENOENT, "tier",
                "tier \"%.40s\" is not a tier of the rules (%s)",
                in->tier != NULL ? in->tier : "", names);
  }
  return RB_OK;
}

/* One room for one day, per tier. */
static int room_minutes(const rb_tariff *t, const rb_estimate_input *in,
                        int tier, rb_estimate_result *out) {
  int64_t *room = out->room_minutes;
  int64_t m = in->minutes, h = in->hosts, a = in->audience, v;
  bool per_stream = t->video_mode == RB_VIDEO_PER_STREAM;
  const char *big = "a room's daily minutes exceed 64 bits";

  if (tier == 0) {
    /* An audio room: nobody receives video, everyone is audio. */
    if (!add(h, a, &v) || !mul(v, m, &room[0]))
      return fail(out, RB_EOVERFLOW, "audience", "%s", big);
    return RB_OK;
  }
  if (h == 1) {
    /* A lone host receives no video: audio. */
    room[0] = m;
  } else if (per_stream) {
    if (!mul(h, h - 1, &v) || !mul(v, m, &v))
      return fail(out, RB_EOVERFLOW, "hosts", "%s", big);
    room[tier] = v;
  } else {
    if (!mul(h, m, &v))
      return fail(out, RB_EOVERFLOW, "hosts", "%s", big);
    room[aggregate_tier(t, tier, h - 1)] = v;
  }
  if (a > 0) {
    int at = per_stream ? tier : aggregate_tier(t, tier, h);
    if (!mul(a, per_stream ? h : 1, &v) || !mul(v, m, &v) ||
        !add(room[at], v, &room[at]))
      return fail(out, RB_EOVERFLOW, "audience", "%s", big);
  }
  return RB_OK;
}

static int month_minutes(const rb_rules_data *d, const rb_estimate_input *in,
                         rb_estimate_result *out) {
  const rb_tariff *t = &d->tariff;
  const rb_package_kind *k = &d->kinds[out->kind];
  int64_t v;
  for (int i = 0; i < t->ntiers; i++) {
    if (!mul(out->room_minutes[i], in->rooms, &v))
      return fail(out, RB_EOVERFLOW, "rooms",
                  "the daily minutes of all rooms exceed 64 bits");
    if (!mul(v, in->days, &out->minutes[i]) ||
        !add(out->total_minutes, out->minutes[i], &out->total_minutes))
      return fail(out, RB_EOVERFLOW, "days",
                  "the month's minutes exceed 64 bits");
    if (!mul(out->minutes[i], k->factors[i], &v) ||
        !add(out->package_minutes, v, &out->package_minutes))
      return fail(out, RB_EOVERFLOW, "package_minutes",
                  "the month's package consumption exceeds 64 bits");
    if (rb_money_muldiv(out->minutes[i], t->tiers[i].price_per_1000, 1000,
                        &out->amounts[i]) != RB_OK ||
        rb_money_add(out->postpaid, out->amounts[i], &out->postpaid) != RB_OK)
      return fail(out, RB_EOVERFLOW, "postpaid",
                  "the postpaid cost exceeds the largest amount");
  }
  if (rb_money_round(out->postpaid, t->total_unit, &out->postpaid) != RB_OK)
    return fail(out, RB_EOVERFLOW, "postpaid",
                "the postpaid cost exceeds the largest amount");
  /* Whole thousands, rounded up: a package of fewer would not cover. */
  out->need_thousands =
      out->package_minutes / 1000 + (out->package_minutes % 1000 != 0);
  return RB_OK;
}

/* A custom package of `thousands` in band b, priced like a bill total. */
static int custom(const rb_rules_data *d, const rb_catalogue_band *b,
                  int64_t thousands, rb_offer *o, rb_estimate_result *out) {
  rb_money v;
  o->type = RB_OFFER_CUSTOM;
  o->thousands = thousands;
  o->per_thousand = b->per_thousand;
  if (rb_money_muldiv(thousands, b->per_thousand, 1, &v) != RB_OK ||
      rb_money_round(v, d->tariff.total_unit, &o->price) != RB_OK)
    return fail(out, RB_EOVERFLOW, "prepaid",
                "a custom package of %lld thousand minutes costs more than "
                "the largest amount",
                (long long)thousands);
  return RB_OK;
}

/* The cheaper offer; on equal prices the larger one (more minutes for the
 * same money), then a custom one (the catalogue's own arithmetic). */
static bool better(const rb_offer *a, const rb_offer *b) {
  if (b->type == RB_OFFER_NONE)
    return true;
  if (a->price != b->price)
    return a->price < b->price;
  if (a->thousands != b->thousands)
    return a->thousands > b->thousands;
  return a->type == RB_OFFER_CUSTOM && b->type != RB_OFFER_CUSTOM;
}

static int choose(const rb_rules_data *d, rb_estimate_result *out) {
  const rb_catalogue *c = &d->catalogue;
  int64_t need = out->need_thousands;
  rb_offer o;
  int st;
  for (int i = 0; i < c->nbands; i++) {
    const rb_catalogue_band *b = &c->bands[i];
    if (need >= b->from && need <= b->to) {
      if ((st = custom(d, b, need, &out->exact, out)) != RB_OK)
        return st;
      out->prepaid = out->exact;
    } else if (b->from > need) {
      /* A larger size at a band boundary can cost less than the need at
       * the dearer unit price of a lower band. */
      if ((st = custom(d, b, b->from, &o, out)) != RB_OK)
        return st;
      if (better(&o, &out->prepaid))
        out->prepaid = o;
    }
  }
  for (int i = 0; i < c->nfixed; i++) {
    if (c->fixed[i].thousands < need)
      continue;
    o.type = RB_OFFER_FIXED;
    o.thousands = c->fixed[i].thousands;
    o.per_thousand = 0;
    o.price = c->fixed[i].price;
    if (better(&o, &out->prepaid))
      out->prepaid = o;
  }
  return RB_OK;
}

int rb_estimate(const rb_rules *r, const rb_estimate_input *in,
                rb_estimate_result *out) {
  if (out == NULL)
    return RB_EINVAL;
  memset(out, 0, sizeof *out);
  if (r == NULL || in == NULL)
    return fail(out, RB_EINVAL, "", "no rules or no input");
  const rb_rules_data *d = rb_rules_data_get(r);
  int st;
  if ((st = check_input(d, in, out)) != RB_OK)
    return st;
  /* The catalogue's kind, else the first kind that is bought. */
  out->kind = -1;
  if (d->catalogue.nfixed > 0 || d->catalogue.nbands > 0)
    out->kind = d->catalogue.kind;
  for (int i = 0; out->kind < 0 && i < d->nkinds; i++)
    if (!d->kinds[i].granted)
      out->kind = i;
  if (out->kind < 0)
    return fail(out, RB_ENOENT, "kind",
                "the rules have no package kind that can be bought");
  if ((st = room_minutes(&d->tariff, in, out->tier, out)) != RB_OK ||
      (st = month_minutes(d, in, out)) != RB_OK ||
      (st = choose(d, out)) != RB_OK)
    return st;
  out->cheaper = RB_CHEAPER_POSTPAID;
  if (out->prepaid.type != RB_OFFER_NONE) {
    if (out->prepaid.price < out->postpaid) {
      out->cheaper = RB_CHEAPER_PREPAID;
      out->saving = out->postpaid - out->prepaid.price;
    } else if (out->prepaid.price > out->postpaid) {
      out->saving = out->prepaid.price - out->postpaid;
    } else {
      out->cheaper = RB_CHEAPER_SAME;
    }
  }
  return RB_OK;
}
