/* jobs.c: the accounts in shares, one engine each (simulate and compare
 * by default, --shares N, --jobs N), and simulate's outputs merged into
 * exactly the files one engine writes.
 *
 * Accounts never touch each other's state, so each engine holds the
 * accounts whose id hashes to its share, with their apps and the events
 * of those (usage goes where its app's account is). Small engines keep
 * their state in the caches, and shares run on as many threads as asked
 * (share k on thread k % N, one after another). What is global has to be
 * checked before (cli_shares_plan): an app created under two accounts, a
 * package id or a usage id used in two shares. Any of these and the run
 * is left to one engine (the caller runs it), which is exact by
 * definition.
 *
 * Merging: every output record is stamped with the key of the action
 * that produced it, in the order one engine would have taken them: an
 * event by (time, then its rank in the sorted input), a timer by (due
 * time, before events, kind, number), the engines numbering timers by
 * rank (rb_engine_set_position). Each engine's records are in that
 * order already, so a merge of the streams gives one engine's files
 * byte for byte; tests/cli/test_jobs.lua checks it. The events go in
 * windows: after each, every engine's clock is brought to just before
 * the next window's first event, so that the records up to then are
 * final and are merged and written while the run goes on.
 *
 * The end of the run is the single engine's too: every engine is first
 * brought to the latest clock of all (one engine would have got there
 * with the last event, firing every timer due before), then all go on
 * together until no period with usage is left unbilled.
 *
 * Depends on: cli.h, rtcbill.h (engine), rtcbill_rules.h (one rule set
 * per thread: the Lua states are not shared), POSIX threads.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "rtcbill_rules.h"

/* The key of the action that produced a record: compared field by
 * field. cls 0 is a timer (timers fire before input at one instant). */
typedef struct job_key {
  rb_time t;
  uint32_t cls, kind;
  uint64_t seq;
} job_key;

typedef struct job_rec {
  job_key key;
  size_t off, len;
} job_rec;

/* One engine's bills or notices not yet merged, in its emission order:
 * v[at..n) are waiting; `taken` counts those merged before. */
typedef struct job_stream {
  rb_buf text;
  job_rec *v;
  size_t n, cap;
  size_t at;
  uint64_t taken;
} job_stream;

/* A share's event: its rank in the sorted input (its position, for
 * ordering the outputs) and its place in the input array (so that
 * reading it takes no second look-up). */
typedef struct job_event {
  uint32_t rank, index;
} job_event;

/* The accounts cut into shares: each share's events in time order. */
struct cli_shares {
  const cli_events *in;
  size_t count;
  job_event **events; /* per share */
  size_t *n;          /* per share */
};

typedef struct job_part {
  const cli_events *in;
  const job_event *events; /* the plan's list for this share */
  size_t n;
  size_t next; /* the first event not yet applied */
  size_t base; /* the current window's first event */
  rb_rules *rules;
  rb_engine *engine;
  job_key event_key; /* the event being applied */
  job_stream bills, notices;
  cli_out tally; /* counts and briefs of this share's bills (no files) */
  int32_t tz;
  cli_counts counts;
  cli_rejects rejects;
  rb_time last;   /* the latest accepted event */
  rb_time target; /* phase 4: advance to this */
  int rc;
  char error[256];
} job_part;

static int key_cmp(const job_key *a, const job_key *b) {
  if (a->t != b->t)
    return a->t < b->t ? -1 : 1;
  if (a->cls != b->cls)
    return a->cls < b->cls ? -1 : 1;
  if (a->kind != b->kind)
    return a->kind < b->kind ? -1 : 1;
  return (a->seq > b->seq) - (a->seq < b->seq);
}

/* ------------------------------------------------------------------ */
/* Running N things at once                                            */
/* ------------------------------------------------------------------ */

typedef struct job_call {
  void (*fn)(void *ctx, size_t k);
  void *ctx;
  size_t k;
} job_call;

static void *job_thread(void *arg) {
  job_call *c = arg;
  c->fn(c->ctx, c->k);
  return NULL;
}

/* Calls fn(ctx, k) for k in [0, n), on n threads (the caller's being
 * one); a thread that cannot start has its call made here. */
static void run_all(size_t n, void (*fn)(void *ctx, size_t k), void *ctx) {
  pthread_t th[CLI_JOBS_MAX];
  job_call calls[CLI_JOBS_MAX];
  bool started[CLI_JOBS_MAX] = {false};
  for (size_t k = 1; k < n; k++) {
    calls[k] = (job_call){fn, ctx, k};
    started[k] = pthread_create(&th[k], NULL, job_thread, &calls[k]) == 0;
  }
  fn(ctx, 0);
  for (size_t k = 1; k < n; k++) {
    if (started[k])
      pthread_join(th[k], NULL);
    else
      fn(ctx, k);
  }
}

/* ------------------------------------------------------------------ */
/* Sharing out                                                         */
/* ------------------------------------------------------------------ */

/* 8 bytes at a time, each word mixed in by a multiply and a shift, then
 * a final avalanche (splitmix64's): ids are hashed a million times. */
static uint64_t hash_bytes(const char *s, size_t n) {
  uint64_t h = 0x9E3779B97F4A7C15u ^ n;
  for (; n >= 8; n -= 8, s += 8) {
    uint64_t w;
    memcpy(&w, s, 8);
    h = (h ^ w) * 0xBF58476D1CE4E5B9u;
    h ^= h >> 31;
  }
  if (n > 0) {
    uint64_t w = 0;
    memcpy(&w, s, n);
    h = (h ^ w) * 0xBF58476D1CE4E5B9u;
    h ^= h >> 31;
  }
  h = (h ^ (h >> 30)) * 0xBF58476D1CE4E5B9u;
  h = (h ^ (h >> 27)) * 0x94D049BB133111EBu;
  return h ^ (h >> 31);
}

static uint64_t hash_str(const char *s) { return hash_bytes(s, strlen(s)); }

/* An open-addressing table from 64-bit keys to a value and a string
 * (apps to their account, ids to their share). */
typedef struct job_table {
  uint64_t *keys;
  const char **strs;
  uint32_t *vals;
  size_t mask;
} job_table;

static bool table_new(job_table *t, size_t n, bool strs) {
  size_t cap = 64;
  while (cap < 2 * n + 2)
    cap *= 2;
  t->keys = calloc(cap, sizeof *t->keys);
  t->strs = strs ? calloc(cap, sizeof *t->strs) : NULL;
  t->vals = calloc(cap, sizeof *t->vals);
  t->mask = cap - 1;
  return t->keys != NULL && (!strs || t->strs != NULL) && t->vals != NULL;
}

static void table_free(job_table *t) {
  free(t->keys);
  free(t->strs);
  free(t->vals);
}

/* The slot of key (0 is stored as 1: 0 marks an empty slot): its own
 * (*found) or the free one it would take. Read-only, so that threads
 * may look up at once. */
static size_t table_find(const job_table *t, uint64_t key, bool *found) {
  key = key != 0 ? key : 1;
  size_t i = (size_t)(key ^ (key >> 32)) & t->mask;
  while (t->keys[i] != 0 && t->keys[i] != key)
    i = (i + 1) & t->mask;
  *found = t->keys[i] != 0;
  return i;
}

/* The slot of key, taken if it was free. */
static size_t table_put(job_table *t, uint64_t key, bool *found) {
  size_t i = table_find(t, key, found);
  t->keys[i] = key != 0 ? key : 1;
  return i;
}

/* The share of an event is kept in a byte, and in the low bits of its
 * usage id's hash. */
#define SHARE_BITS 8

typedef struct job_plan {
  const cli_events *in;
  size_t threads, shares;
  job_table apps; /* app id -> the account (string) of its app event */
  uint8_t *share; /* per event (input order) */
  uint64_t *idh;  /* per event: a usage id's hash | share, else 0 */
  bool clash[CLI_JOBS_MAX]; /* per thread */
  cli_shares *out;
} job_plan;

static uint32_t share_of_account(const job_plan *p, const char *account) {
  return (uint32_t)(hash_str(account) % p->shares);
}

/* The share of the event at rank r. Events of apps nobody created go to
 * share 0, where they are rejected as they would be anywhere. */
static uint32_t share_of(const job_plan *p, const cli_event *ev) {
  switch (ev->type) {
  case RB_EV_ENABLE_POSTPAID:
  case RB_EV_DISABLE_POSTPAID:
  case RB_EV_USAGE: {
    bool found;
    size_t i = table_find(&p->apps, (uint64_t)ev->app, &found);
    return found ? p->apps.vals[i] : 0;
  }
  default:
    return share_of_account(p, cli_event_account(ev));
  }
}

/* Phase 1, per thread k of N: the shares of events [n*k/N, n*(k+1)/N)
 * in input order (memory order), and the usage ids' hashes, each with
 * its share in the low SHARE_BITS bits. */
static void plan_range(void *ctx, size_t k) {
  job_plan *p = ctx;
  size_t n = p->in->n, from = n * k / p->threads, to = n * (k + 1) / p->threads;
  const uint64_t low = ((uint64_t)1 << SHARE_BITS) - 1;
  for (size_t i = from; i < to; i++) {
    const cli_event *ev = &p->in->v[i];
    uint32_t s = share_of(p, ev);
    p->share[i] = (uint8_t)s;
    p->idh[i] = ev->type == RB_EV_USAGE
                    ? (hash_bytes(cli_event_id(ev), ev->id_len) & ~low) | s
                    : 0;
  }
}

/* Sorts v[0..n) on bits SHARE_BITS and up, the hash without the share
 * (LSD radix, four 14-bit digits, tmp as scratch): equal hashes end up
 * side by side, whatever their shares. */
#define DIGIT_BITS 14
_Static_assert(64 - SHARE_BITS == 4 * DIGIT_BITS, "four digits");

static void sort_hashes(uint64_t *v, uint64_t *tmp, size_t n) {
  size_t count[1 << DIGIT_BITS]; /* 128 KiB of stack */
  const uint64_t mask = ((uint64_t)1 << DIGIT_BITS) - 1;
  for (unsigned shift = SHARE_BITS; shift < 64; shift += DIGIT_BITS) {
    memset(count, 0, sizeof count);
    for (size_t i = 0; i < n; i++)
      count[(v[i] >> shift) & mask]++;
    size_t sum = 0;
    for (size_t d = 0; d <= mask; d++) {
      size_t c = count[d];
      count[d] = sum;
      sum += c;
    }
    for (size_t i = 0; i < n; i++)
      tmp[count[(v[i] >> shift) & mask]++] = v[i];
    uint64_t *swap = v;
    v = tmp;
    tmp = swap;
  }
  /* Four passes: the result is back in the caller's v. */
}

/* Phase 2, per thread k of N: the usage ids whose hash falls to k must
 * each be in one share only: sorted, equal hashes sit side by side
 * (equal hashes of different ids count as a clash too: at worst the run
 * goes to one engine for nothing). Then the ranks of the shares the
 * thread runs: k, k + N, k + 2N, ... */
static void plan_ids(void *ctx, size_t k) {
  job_plan *p = ctx;
  size_t n = p->in->n, count = 0, nt = p->threads;
  for (size_t i = 0; i < n; i++)
    count += p->idh[i] != 0 && (p->idh[i] >> SHARE_BITS) % nt == k;
  uint64_t *v = malloc((2 * count + 1) * sizeof *v);
  if (v == NULL) {
    p->clash[k] = true;
    return;
  }
  size_t m = 0;
  for (size_t i = 0; i < n; i++)
    if (p->idh[i] != 0 && (p->idh[i] >> SHARE_BITS) % nt == k)
      v[m++] = p->idh[i];
  sort_hashes(v, v + m, m);
  for (size_t i = 1; i < m; i++)
    if (v[i] >> SHARE_BITS == v[i - 1] >> SHARE_BITS && v[i] != v[i - 1])
      p->clash[k] = true;
  free(v);
  cli_shares *o = p->out;
  for (size_t s = k; s < p->shares; s += nt)
    o->n[s] = 0;
  for (size_t i = 0; i < n; i++)
    if (p->share[i] % nt == k)
      o->n[p->share[i]]++;
  for (size_t s = k; s < p->shares; s += nt) {
    o->events[s] = malloc((o->n[s] + 1) * sizeof *o->events[s]);
    if (o->events[s] == NULL) {
      p->clash[k] = true;
      return;
    }
    o->n[s] = 0;
  }
  for (size_t r = 0; r < n; r++) {
    size_t i = p->in->order != NULL ? p->in->order[r] : r;
    if (p->share[i] % nt == k) {
      uint8_t s = p->share[i];
      o->events[s][o->n[s]++] = (job_event){(uint32_t)r, (uint32_t)i};
    }
  }
}

/* The serial checks and tables: apps to accounts, package ids. Returns
 * false when the input cannot be shared out (or memory is short). */
static bool plan_tables(job_plan *p) {
  const cli_events *in = p->in;
  size_t napps = 0, npkgs = 0;
  for (size_t i = 0; i < in->n; i++) {
    napps += in->v[i].type == RB_EV_APP;
    npkgs += in->v[i].type == RB_EV_PACKAGE;
  }
  job_table pk = {0};
  if (!table_new(&p->apps, napps, true) || !table_new(&pk, npkgs, false)) {
    table_free(&pk);
    return false;
  }
  bool ok = true;
  /* In memory order: any order finds the same clashes. */
  for (size_t r = 0; r < in->n && ok; r++) {
    const rb_event *ev = cli_event_full(&in->v[r]);
    bool found;
    if (ev == NULL) {
      continue;
    } else if (ev->type == RB_EV_APP) {
      size_t i = table_put(&p->apps, (uint64_t)ev->app, &found);
      if (!found) {
        p->apps.strs[i] = ev->account;
        p->apps.vals[i] = share_of_account(p, ev->account);
      } else if (strcmp(p->apps.strs[i], ev->account) != 0)
        ok = false; /* one app id under two accounts */
    } else if (ev->type == RB_EV_PACKAGE) {
      uint32_t s = share_of_account(p, ev->account);
      size_t i = table_put(&pk, hash_str(ev->package), &found);
      if (!found)
        pk.vals[i] = s;
      else if (pk.vals[i] != s)
        ok = false; /* one package id (or hash) in two shares */
      /* A bought package named like another account's trial. */
      size_t len = strlen(ev->package);
      if (len > 6 && strcmp(ev->package + len - 6, "/trial") == 0 &&
          (uint32_t)(hash_bytes(ev->package, len - 6) % p->shares) != s)
        ok = false;
    }
  }
  table_free(&pk);
  return ok;
}

/* ------------------------------------------------------------------ */
/* The engines                                                         */
/* ------------------------------------------------------------------ */

static int stream_add(job_stream *s, const job_key *k, size_t off) {
  if (s->n == s->cap) {
    size_t cap = s->cap ? 2 * s->cap : 1024;
    job_rec *v = realloc(s->v, cap * sizeof *v);
    if (v == NULL)
      return RB_ENOMEM;
    s->v = v;
    s->cap = cap;
  }
  s->v[s->n++] = (job_rec){*k, off, s->text.len - off};
  return RB_OK;
}

static void current_key(const job_part *p, job_key *k) {
  rb_timer t;
  if (rb_engine_firing(p->engine, &t))
    *k = (job_key){t.due, 0, t.kind, t.seq};
  else
    *k = p->event_key;
}

static int part_bill(void *ctx, const rb_bill *b) {
  job_part *p = ctx;
  job_key k;
  current_key(p, &k);
  size_t off = p->bills.text.len;
  int rc = rb_bill_to_json(b, &p->bills.text);
  if (rc == RB_OK)
    rc = stream_add(&p->bills, &k, off);
  if (rc == RB_OK)
    rc = cli_out_tally(&p->tally, b);
  return rc;
}

static int part_notice(void *ctx, const rb_notice *n) {
  job_part *p = ctx;
  job_key k;
  current_key(p, &k);
  size_t off = p->notices.text.len;
  int rc = rb_notice_to_json(n, p->tz, &p->notices.text);
  return rc == RB_OK ? stream_add(&p->notices, &k, off) : rc;
}

static void part_fail(job_part *p, int rc) {
  p->rc = rc;
  const char *msg = rc == RB_EPOLICY && p->engine != NULL
                        ? rb_engine_last_error(p->engine)
                        : rb_strerror(rc);
  snprintf(p->error, sizeof p->error, "%s", msg ? msg : rb_strerror(rc));
}

typedef struct job_run {
  job_part *parts;
  size_t threads, shares;
  bool has_until;
  rb_time until;
  /* The sink every engine writes to; without one (ctx NULL), each
   * share's own streams, merged afterwards. */
  rb_sink sink;
  /* The window being run: the events of ranks [from, to); then every
   * engine's clock goes to `upto` (RB_TIME_NONE: stays), after which
   * all records up to that time are final. */
  uint32_t from, to;
  rb_time upto;
} job_run;

/* The i-th event of the share's current window, for cli_feed. */
static const cli_event *part_event(const void *ctx, size_t i) {
  const job_part *p = ctx;
  return &p->in->v[p->events[p->base + i].index];
}

/* Phase 3: share p's events of ranks [run->from, run->to) on its engine
 * (created with the first window), then its clock to just before the
 * next window's first event, so that every record it will still write
 * comes after those of the window. */
static void run_share(job_run *run, job_part *p) {
  if (p->rc != RB_OK)
    return;
  int rc;
  if (p->engine == NULL) {
    rb_sink sink = run->sink;
    if (sink.ctx == NULL)
      sink = (rb_sink){.ctx = p, .bill = part_bill, .notice = part_notice};
    p->last = RB_TIME_NONE;
    if ((rc = rb_engine_new(p->rules, &sink, &p->engine)) != RB_OK) {
      p->engine = NULL;
      part_fail(p, rc);
      return;
    }
  }
  size_t end = p->next;
  while (end < p->n && p->events[end].rank < run->to)
    end++;
  p->base = p->next;
  cli_feed feed;
  cli_feed_start(&feed, p->engine, end - p->next, part_event, p);
  for (size_t k = 0; p->next < end; k++, p->next++) {
    uint32_t r = p->events[p->next].rank;
    const rb_event *ev = cli_feed_event(&feed, k);
    if (run->has_until && ev->at > run->until) {
      p->counts.pending++;
      continue;
    }
    rb_reject rej;
    memset(&rej, 0, sizeof rej);
    rb_engine_set_position(p->engine, r);
    p->event_key = (job_key){ev->at, 1, 0, r};
    rc = rb_engine_apply(p->engine, ev, &rej);
    if (rc == RB_OK) {
      p->counts.accepted++;
      if (p->last == RB_TIME_NONE || ev->at > p->last)
        p->last = ev->at;
    } else if (rc == RB_DUPLICATE) {
      p->counts.duplicates++;
    } else if (rc == RB_EREJECT) {
      const cli_event *ce = part_event(p, k);
      if (!cli_rejects_add(&p->rejects, ce->file, ce->line, &rej)) {
        part_fail(p, RB_ENOMEM);
        return;
      }
    } else {
      part_fail(p, rc < 0 ? rc : RB_EINVAL);
      return;
    }
  }
  rb_time now = rb_engine_now(p->engine);
  if (run->upto != RB_TIME_NONE && (now == RB_TIME_NONE || now < run->upto) &&
      (rc = rb_engine_advance(p->engine, run->upto)) != RB_OK)
    part_fail(p, rc);
}

/* Phase 3, per thread k: its shares one after the other. */
static void run_events(void *ctx, size_t k) {
  job_run *run = ctx;
  for (size_t s = k; s < run->shares; s += run->threads)
    run_share(run, &run->parts[s]);
}

/* Phase 4: share p's clock to the common target. */
static void advance_share(job_part *p) {
  if (p->rc != RB_OK || p->target == RB_TIME_NONE)
    return;
  rb_time now = rb_engine_now(p->engine);
  if (now != RB_TIME_NONE && now >= p->target)
    return;
  int rc = rb_engine_advance(p->engine, p->target);
  if (rc != RB_OK)
    part_fail(p, rc);
}

static void run_advance(void *ctx, size_t k) {
  job_run *run = ctx;
  for (size_t s = k; s < run->shares; s += run->threads)
    advance_share(&run->parts[s]);
}

static rb_time later(rb_time a, rb_time b) {
  if (a == RB_TIME_NONE)
    return b;
  if (b == RB_TIME_NONE)
    return a;
  return a > b ? a : b;
}

static bool failed(const job_part *parts, size_t n) {
  for (size_t k = 0; k < n; k++)
    if (parts[k].rc != RB_OK)
      return true;
  return false;
}

/* Every engine to `target` together. */
static void advance_all(job_run *run, rb_time target) {
  for (size_t k = 0; k < run->shares; k++)
    run->parts[k].target = target;
  run_all(run->threads, run_advance, run);
}

/* The end of the run, as cli_engine_finish (or --until) does it on one
 * engine. */
static void finish(job_run *run) {
  size_t n = run->shares;
  rb_time now = RB_TIME_NONE, last = RB_TIME_NONE;
  for (size_t k = 0; k < n; k++) {
    now = later(now, rb_engine_now(run->parts[k].engine));
    last = later(last, run->parts[k].last);
  }
  if (run->has_until) {
    if (now == RB_TIME_NONE || now <= run->until)
      advance_all(run, run->until);
    return;
  }
  advance_all(run, now);
  rb_time target = last;
  while (!failed(run->parts, n)) {
    for (size_t k = 0; k < n; k++)
      target = later(target, rb_engine_settle_horizon(run->parts[k].engine));
    if (target == RB_TIME_NONE || (now != RB_TIME_NONE && target <= now))
      return;
    advance_all(run, target);
    now = target;
  }
}

/* ------------------------------------------------------------------ */
/* Merging                                                             */
/* ------------------------------------------------------------------ */

/* Writes the N streams of bills (or notices) in key order; for bills,
 * the first ones' briefs go to out's summary in that order too. */
static job_stream *stream_of(job_part *p, bool bills) {
  return bills ? &p->bills : &p->notices;
}

/* The head record of stream k, for the heap below. */
static const job_key *head_key(job_part *parts, bool bills, uint32_t k) {
  const job_stream *s = stream_of(&parts[k], bills);
  return &s->v[s->at].key;
}

/* True when stream k has a record waiting that is final: up to `upto`
 * (RB_TIME_NONE: every record is). */
static bool has_final(job_part *parts, bool bills, uint32_t k, rb_time upto) {
  const job_stream *s = stream_of(&parts[k], bills);
  return s->at < s->n && (upto == RB_TIME_NONE || s->v[s->at].key.t <= upto);
}

/* Restores the min-heap of streams (by head record) below slot i. */
static void heap_down(uint32_t *heap, size_t len, size_t i, job_part *parts,
                      bool bills) {
  for (;;) {
    size_t l = 2 * i + 1, m = i;
    if (l < len && key_cmp(head_key(parts, bills, heap[l]),
                           head_key(parts, bills, heap[m])) < 0)
      m = l;
    if (l + 1 < len && key_cmp(head_key(parts, bills, heap[l + 1]),
                               head_key(parts, bills, heap[m])) < 0)
      m = l + 1;
    if (m == i)
      return;
    uint32_t x = heap[i];
    heap[i] = heap[m];
    heap[m] = x;
    i = m;
  }
}

/* Drops the records a stream has had merged, keeping the rest at the
 * front of its buffers for the next window. */
static void stream_compact(job_stream *s) {
  if (s->at == 0)
    return;
  size_t cut = s->at < s->n ? s->v[s->at].off : s->text.len;
  memmove(s->text.data, s->text.data + cut, s->text.len - cut + 1);
  s->text.len -= cut;
  for (size_t i = s->at; i < s->n; i++)
    s->v[i].off -= cut;
  memmove(s->v, s->v + s->at, (s->n - s->at) * sizeof *s->v);
  s->n -= s->at;
  s->taken += s->at;
  s->at = 0;
}

/* Writes the streams' final records (up to `upto`) of bills or notices
 * in key order, the order one engine writes them in; the first bills'
 * briefs go to out's summary in that order too (*written counts the
 * records written so far). */
static int merge(job_part *parts, size_t n, bool bills, rb_time upto,
                 cli_out *out, uint64_t *written) {
  uint32_t heap[CLI_SHARES_MAX];
  size_t len = 0;
  int rc = RB_OK;
  for (size_t k = 0; k < n; k++)
    if (has_final(parts, bills, (uint32_t)k, upto))
      heap[len++] = (uint32_t)k;
  for (size_t i = len; i-- > 0;)
    heap_down(heap, len, i, parts, bills);
  while (len > 0 && rc == RB_OK) {
    uint32_t best = heap[0];
    job_stream *s = stream_of(&parts[best], bills);
    const job_rec *rec = &s->v[s->at];
    uint64_t index = s->taken + s->at; /* among the share's records */
    if (bills && *written < CLI_BRIEF_BILLS && index < CLI_BRIEF_BILLS)
      out->brief[*written] = parts[best].tally.brief[index];
    s->at++;
    (*written)++;
    rc = cli_out_write(out, bills, s->text.data + rec->off, rec->len);
    if (!has_final(parts, bills, best, upto))
      heap[0] = heap[--len];
    heap_down(heap, len, 0, parts, bills);
  }
  for (size_t k = 0; k < n; k++)
    stream_compact(stream_of(&parts[k], bills));
  return rc;
}

/* The shares' tallies into out (briefs come with the merge). */
static int sum_tallies(job_part *parts, size_t n, cli_out *out) {
  for (size_t k = 0; k < n; k++) {
    const cli_out *t = &parts[k].tally;
    out->nbills += t->nbills;
    if (t->revenue_overflow ||
        rb_money_add(out->revenue, t->revenue, &out->revenue) != RB_OK)
      out->revenue_overflow = true;
    for (int i = 0; i < RB_MAX_TIERS; i++) {
      cli_tier_minutes *m = &out->minutes[i];
      const cli_tier_minutes *x = &t->minutes[i];
      if (rb_money_add(m->billable, x->billable, &m->billable) != RB_OK ||
          rb_money_add(m->covered, x->covered, &m->covered) != RB_OK ||
          rb_money_add(m->postpaid, x->postpaid, &m->postpaid) != RB_OK ||
          rb_money_add(m->unbilled, x->unbilled, &m->unbilled) != RB_OK)
        return RB_EOVERFLOW;
    }
  }
  return RB_OK;
}

/* ------------------------------------------------------------------ */
/* The run                                                             */
/* ------------------------------------------------------------------ */

/* Frees the shares and the rule sets the threads after the first
 * loaded (each share refers to its thread's). */
static void parts_free(job_part *parts, size_t n, size_t threads) {
  for (size_t k = 0; k < n; k++) {
    job_part *p = &parts[k];
    if (p->engine != NULL)
      rb_engine_free(p->engine);
    if (k > 0 && k < threads && p->rules != NULL)
      rb_rules_unref(p->rules);
    rb_buf_free(&p->bills.text);
    rb_buf_free(&p->notices.text);
    free(p->bills.v);
    free(p->notices.v);
    cli_rejects_free(&p->rejects);
  }
  free(parts);
}

size_t cli_jobs_shares(size_t events, size_t threads) {
  size_t shares = events / CLI_SHARE_EVENTS;
  if (shares > CLI_SHARES_MAX)
    shares = CLI_SHARES_MAX;
  /* A whole number of shares per thread. */
  shares = (shares + threads - 1) / threads * threads;
  if (shares < threads)
    shares = threads;
  return shares <= CLI_SHARES_MAX ? shares : shares - threads;
}

void cli_shares_free(cli_shares *sh) {
  if (sh == NULL)
    return;
  for (size_t k = 0; k < sh->count; k++)
    free(sh->events[k]);
  free(sh->events);
  free(sh->n);
  free(sh);
}

int cli_shares_plan(const cli_events *in, size_t threads, size_t shares,
                    cli_shares **out) {
  *out = NULL;
  if (threads < 1 || threads > CLI_JOBS_MAX || shares < 2 ||
      shares > CLI_SHARES_MAX || in->n < shares || in->n > UINT32_MAX)
    return 1;
  cli_shares *sh = calloc(1, sizeof *sh);
  job_plan plan = {.in = in, .threads = threads, .shares = shares, .out = sh};
  plan.share = malloc(in->n);
  plan.idh = malloc(in->n * sizeof *plan.idh);
  int status = -1;
  if (sh != NULL) {
    sh->in = in;
    sh->count = shares;
    sh->events = calloc(shares, sizeof *sh->events);
    sh->n = calloc(shares, sizeof *sh->n);
  }
  if (sh == NULL || sh->events == NULL || sh->n == NULL || plan.share == NULL ||
      plan.idh == NULL)
    goto done;
  status = 1;
  if (!plan_tables(&plan))
    goto done;
  run_all(threads, plan_range, &plan);
  run_all(threads, plan_ids, &plan);
  for (size_t k = 0; k < threads; k++)
    if (plan.clash[k])
      goto done;
  status = 0;
  *out = sh;
  sh = NULL;
done:
  table_free(&plan.apps);
  free(plan.share);
  free(plan.idh);
  cli_shares_free(sh);
  return status;
}

/* The shares' run state over the plan: each refers to its list. */
static job_part *parts_new(const cli_shares *sh) {
  job_part *parts = calloc(sh->count, sizeof *parts);
  if (parts == NULL)
    return NULL;
  for (size_t k = 0; k < sh->count; k++) {
    parts[k].in = sh->in;
    parts[k].events = sh->events[k];
    parts[k].n = sh->n[k];
  }
  return parts;
}

/* The window size for n events (see CLI_WINDOW_MIN). */
static size_t window_of(size_t n) {
  size_t window = (n + 15) / 16;
  return window < CLI_WINDOW_MIN   ? CLI_WINDOW_MIN
         : window > CLI_WINDOW_MAX ? CLI_WINDOW_MAX
                                   : window;
}

/* Sets up window [from, from + window) of run; false past the end. */
static bool window_next(job_run *run, const cli_events *in, size_t from,
                        size_t window) {
  if (from >= in->n)
    return false;
  size_t to = in->n - from > window ? from + window : in->n;
  run->from = (uint32_t)from;
  run->to = (uint32_t)to;
  run->upto = RB_TIME_NONE;
  if (to < in->n) {
    run->upto = cli_events_at(in, to)->at - 1;
    if (run->has_until && run->upto > run->until)
      run->upto = run->until;
  }
  return true;
}

/* Runs every window on run's threads, calling after(run, ctx) (if not
 * NULL) once each window but the last has made its records final, then
 * the end of the run. Returns RB_OK or after's failure; a share's own
 * failure is left in the share. */
static int run_windows(job_run *run, const cli_events *in,
                       int (*after)(job_run *run, void *ctx), void *ctx) {
  size_t window = window_of(in->n);
  int rc = RB_OK;
  for (size_t from = 0; rc == RB_OK && window_next(run, in, from, window);
       from += window) {
    run_all(run->threads, run_events, run);
    if (failed(run->parts, run->shares) || run->upto == RB_TIME_NONE)
      break;
    if (after != NULL)
      rc = after(run, ctx);
  }
  if (rc == RB_OK && !failed(run->parts, run->shares))
    finish(run);
  return rc;
}

/* The first share's failure (its message in err), or RB_OK. */
static int first_failure(const job_part *parts, size_t n, char *err,
                         size_t cap) {
  for (size_t k = 0; k < n; k++) {
    if (parts[k].rc != RB_OK) {
      snprintf(err, cap, "%s", parts[k].error);
      return parts[k].rc;
    }
  }
  return RB_OK;
}

/* Adds the shares' counts and rejects to *counts and *rejects. */
static int collect(const job_part *parts, size_t n, cli_counts *counts,
                   cli_rejects *rejects) {
  for (size_t k = 0; k < n; k++) {
    const job_part *p = &parts[k];
    counts->accepted += p->counts.accepted;
    counts->duplicates += p->counts.duplicates;
    counts->pending += p->counts.pending;
    for (size_t i = 0; i < p->rejects.n; i++)
      if (!cli_rejects_add(rejects, p->rejects.v[i].file, p->rejects.v[i].line,
                           &p->rejects.v[i].rej))
        return RB_ENOMEM;
  }
  return RB_OK;
}

int cli_shares_rate(const cli_shares *sh, rb_rules *rules, const rb_sink *sink,
                    bool has_until, rb_time until, cli_counts *counts,
                    cli_rejects *rejects, char *err, size_t cap) {
  job_part *parts = parts_new(sh);
  if (parts == NULL)
    return RB_ENOMEM;
  for (size_t k = 0; k < sh->count; k++)
    parts[k].rules = rules;
  job_run run = {.parts = parts,
                 .threads = 1,
                 .shares = sh->count,
                 .has_until = has_until,
                 .until = until,
                 .sink = *sink};
  run_windows(&run, sh->in, NULL, NULL);
  int rc = first_failure(parts, sh->count, err, cap);
  if (rc == RB_OK && (rc = collect(parts, sh->count, counts, rejects)) != RB_OK)
    snprintf(err, cap, "%s", rb_strerror(rc));
  parts_free(parts, sh->count, 1);
  return rc;
}

/* What simulate does after each window: the records made final, merged
 * and written (ctx: the output and the counts written so far). */
typedef struct job_merge {
  cli_out *out;
  uint64_t bills, notices;
} job_merge;

static int merge_window(job_run *run, void *ctx) {
  job_merge *m = ctx;
  int rc = merge(run->parts, run->shares, true, run->upto, m->out, &m->bills);
  if (rc == RB_OK)
    rc = merge(run->parts, run->shares, false, run->upto, m->out, &m->notices);
  return rc;
}

int cli_jobs_run(const cli_shares *sh, rb_rules *rules, const char *rules_dir,
                 size_t threads, bool has_until, rb_time until, cli_out *out,
                 cli_jobs_result *res) {
  memset(res, 0, sizeof *res);
  const cli_events *in = sh->in;
  size_t shares = sh->count;
  if (threads < 1 || threads > CLI_JOBS_MAX || threads > shares) {
    snprintf(res->error, sizeof res->error, "%s", rb_strerror(RB_EINVAL));
    return -1;
  }
  int status = -1;
  job_part *parts = parts_new(sh);
  if (parts == NULL) {
    snprintf(res->error, sizeof res->error, "%s", rb_strerror(RB_ENOMEM));
    return -1;
  }
  /* The shares a thread runs one after the other use its rule set (Lua
   * states are not shared between threads). */
  const rb_rules_data *data = rb_rules_data_get(rules);
  for (size_t k = 0; k < shares; k++) {
    job_part *p = &parts[k];
    p->tz = data->tariff.tz_offset;
    p->tally.ntiers = data->tariff.ntiers;
    if (k == 0) {
      p->rules = rules;
    } else if (k >= threads) {
      p->rules = parts[k % threads].rules;
    } else {
      char err[512] = "";
      int rc = rb_lua_rules_load(rules_dir, &p->rules, err, sizeof err);
      if (rc != RB_OK) {
        snprintf(res->error, sizeof res->error, "%s",
                 err[0] ? err : rb_strerror(rc));
        goto done;
      }
    }
  }
  /* The events go in windows (see CLI_WINDOW_MIN): after each,
   * every engine's clock is brought to just before the next window's
   * first event (the timers due by then would have fired before it on
   * one engine too), so that the records up to that time are final and
   * can be merged and written, and the shares' buffers stay small. */
  job_run run = {.parts = parts,
                 .threads = threads,
                 .shares = shares,
                 .has_until = has_until,
                 .until = until};
  job_merge merged = {.out = out};
  int rc = run_windows(&run, in, merge_window, &merged);
  int frc = first_failure(parts, shares, res->error, sizeof res->error);
  if (frc != RB_OK) {
    res->rc = frc;
    goto done;
  }
  if (rc == RB_OK)
    rc = sum_tallies(parts, shares, out);
  run.upto = RB_TIME_NONE; /* everything is final now */
  if (rc == RB_OK)
    rc = merge_window(&run, &merged);
  if (rc == RB_OK)
    rc = collect(parts, shares, &res->counts, &res->rejects);
  for (size_t k = 0; k < shares && rc == RB_OK; k++) {
    const job_part *p = &parts[k];
    rb_engine_stats st;
    rb_engine_stats_get(p->engine, &st);
    res->stats.usage_ids += st.usage_ids;
    res->stats.usage_bytes += st.usage_bytes;
    res->stats.accs_live += st.accs_live;
    res->stats.accs_peak += st.accs_peak;
    res->stats.acc_bytes += st.acc_bytes;
  }
  if (rc != RB_OK) {
    res->rc = rc;
    snprintf(res->error, sizeof res->error, "%s",
             rc == RB_EIO && out->io_errno ? strerror(out->io_errno)
                                           : rb_strerror(rc));
    goto done;
  }
  status = 0;
done:
  parts_free(parts, shares, threads);
  return status;
}
