/* metrics.c: the daemon's counters in the Prometheus text format.
 *
 * Everything is an integer; the few values Prometheus wants in seconds
 * or currency units (latency buckets, revenue) are written as decimal
 * text from integer micro-seconds and 1e-8 units, never through a float.
 * Depends on: daemon_int.h, rtcbill.h (money formatting).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "daemon_int.h"

/* Upper bounds of the ingest latency buckets, in micro-seconds. */
static const uint64_t bucket_us[RB__LAT_BUCKETS] = {
    500,    1000,   2500,   5000,    10000,   25000,
    50000,  100000, 250000, 500000, 1000000, 2500000};

void rb__metrics_latency(rb__metrics *m, uint64_t us) {
  m->lat_count++;
  m->lat_sum_us += us;
  int b = 0;
  while (b < RB__LAT_BUCKETS && us > bucket_us[b])
    b++;
  m->lat_buckets[b]++;
}

/* Micro-seconds as seconds: 2500 -> "0.0025". */
static void seconds(uint64_t us, char *buf, size_t cap) {
  uint64_t frac = us % 1000000u;
  if (frac == 0) {
    snprintf(buf, cap, "%" PRIu64, us / 1000000u);
    return;
  }
  snprintf(buf, cap, "%" PRIu64 ".%06" PRIu64, us / 1000000u, frac);
  size_t n = strlen(buf);
  while (buf[n - 1] == '0')
    buf[--n] = '\0';
}

int rb__metrics_text(const rb__metrics *m, const char *rules_version,
                     int64_t journal, size_t pending, rb_buf *out) {
  char s[48];
  int rc = rb_buf_printf(
      out,
      "# HELP rtcbill_events_total Input events by outcome.\n"
      "# TYPE rtcbill_events_total counter\n"
      "rtcbill_events_total{outcome=\"accepted\"} %" PRIu64 "\n"
      "rtcbill_events_total{outcome=\"duplicate\"} %" PRIu64 "\n"
      "rtcbill_events_total{outcome=\"rejected\"} %" PRIu64 "\n"
      "# HELP rtcbill_batches_total Event batches acknowledged.\n"
      "# TYPE rtcbill_batches_total counter\n"
      "rtcbill_batches_total %" PRIu64 "\n"
      "# HELP rtcbill_http_requests_total HTTP requests answered.\n"
      "# TYPE rtcbill_http_requests_total counter\n"
      "rtcbill_http_requests_total %" PRIu64 "\n"
      "rtcbill_http_responses_4xx_total %" PRIu64 "\n"
      "rtcbill_http_responses_5xx_total %" PRIu64 "\n"
      "# HELP rtcbill_backpressure_total Requests refused with 503.\n"
      "# TYPE rtcbill_backpressure_total counter\n"
      "rtcbill_backpressure_total %" PRIu64 "\n"
      "# HELP rtcbill_idempotency_total Requests with a known "
      "Idempotency-Key: answered again, or refused for another body.\n"
      "# TYPE rtcbill_idempotency_total counter\n"
      "rtcbill_idempotency_total{result=\"replayed\"} %" PRIu64 "\n"
      "rtcbill_idempotency_total{result=\"conflict\"} %" PRIu64 "\n",
      m->events_accepted, m->events_duplicate, m->events_rejected, m->batches,
      m->http_requests, m->http_errors_4xx, m->http_errors_5xx,
      m->backpressure, m->idem_replayed, m->idem_conflicts);
  if (rc != RB_OK)
    return rc;
  rc = rb_buf_printf(out,
                     "# HELP rtcbill_ingest_latency_seconds From a batch's "
                     "last byte to its durable acknowledgement.\n"
                     "# TYPE rtcbill_ingest_latency_seconds histogram\n");
  uint64_t cum = 0;
  for (int b = 0; b < RB__LAT_BUCKETS && rc == RB_OK; b++) {
    cum += m->lat_buckets[b];
    seconds(bucket_us[b], s, sizeof s);
    rc = rb_buf_printf(out,
                       "rtcbill_ingest_latency_seconds_bucket{le=\"%s\"} "
                       "%" PRIu64 "\n",
                       s, cum);
  }
  if (rc != RB_OK)
    return rc;
  seconds(m->lat_sum_us, s, sizeof s);
  rc = rb_buf_printf(out,
                     "rtcbill_ingest_latency_seconds_bucket{le=\"+Inf\"} "
                     "%" PRIu64 "\n"
                     "rtcbill_ingest_latency_seconds_sum %s\n"
                     "rtcbill_ingest_latency_seconds_count %" PRIu64 "\n",
                     m->lat_count, s, m->lat_count);
  if (rc != RB_OK)
    return rc;
  char rev[RB_MONEY_STRLEN];
  if (rb_money_format_min(m->revenue, 2, rev, sizeof rev) < 0)
    snprintf(rev, sizeof rev, "0");
  return rb_buf_printf(
      out,
      "# HELP rtcbill_bills_issued_total Bills issued since start.\n"
      "# TYPE rtcbill_bills_issued_total counter\n"
      "rtcbill_bills_issued_total %" PRIu64 "\n"
      "# HELP rtcbill_notices_total Notices emitted since start.\n"
      "# TYPE rtcbill_notices_total counter\n"
      "rtcbill_notices_total %" PRIu64 "\n"
      "# HELP rtcbill_revenue Sum of the totals of the bills issued since "
      "start, in the tariff's currency.\n"
      "# TYPE rtcbill_revenue counter\n"
      "rtcbill_revenue %s\n"
      "# HELP rtcbill_rules_info The rule set in force.\n"
      "# TYPE rtcbill_rules_info gauge\n"
      "rtcbill_rules_info{version=\"%s\"} 1\n"
      "# HELP rtcbill_rules_reloads_total Rule reloads by result.\n"
      "# TYPE rtcbill_rules_reloads_total counter\n"
      "rtcbill_rules_reloads_total{result=\"ok\"} %" PRIu64 "\n"
      "rtcbill_rules_reloads_total{result=\"failed\"} %" PRIu64 "\n"
      "# HELP rtcbill_timer_lag_seconds How late the last real-time timer "
      "fired.\n"
      "# TYPE rtcbill_timer_lag_seconds gauge\n"
      "rtcbill_timer_lag_seconds %" PRId64 ".%03" PRId64 "\n"
      "rtcbill_timer_firings_total %" PRIu64 "\n"
      "# HELP rtcbill_commits_total Store transactions (group commits).\n"
      "# TYPE rtcbill_commits_total counter\n"
      "rtcbill_commits_total %" PRIu64 "\n"
      "# HELP rtcbill_journal_rows Rows in the store's journal.\n"
      "# TYPE rtcbill_journal_rows gauge\n"
      "rtcbill_journal_rows %" PRId64 "\n"
      "# HELP rtcbill_pending_batches Work waiting for its commit.\n"
      "# TYPE rtcbill_pending_batches gauge\n"
      "rtcbill_pending_batches %zu\n",
      m->bills, m->notices, rev, rules_version, m->reloads_ok,
      m->reloads_failed, m->timer_lag_ms / 1000, m->timer_lag_ms % 1000,
      m->timer_firings, m->commits, journal, pending);
}
