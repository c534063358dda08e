#!/usr/bin/env python3
"""ingest.py: durable ingest throughput and acknowledgement latency of
`rtcbill serve`.

Starts the daemon (test clock, a fresh store in a temporary folder) on a
free loopback port, creates the accounts and apps, then posts BATCHES
batches of BATCH usage records (unique ids, one day of sessions) over
CONNECTIONS keep-alive connections at once. Every answer comes after the
batch's commit (SQLite WAL, synchronous=FULL), so the figures are of
durable ingest. Prints events/s and the p50/p99/max latency from a
batch's request to its answer, as seen by the client.

usage: bench/ingest.py [--binary build/rtcbill] [--batches 200]
                       [--batch 1000] [--connections 4] [--accounts 50]
Depends on: Python 3, tests/daemon/daemon_util.py.
"""
import argparse
import json
import os
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests", "daemon"))
import daemon_util as du  # noqa: E402


def body(k, batch, accounts):
    lines = []
    for i in range(batch):
        n = k * batch + i
        a = n % accounts
        start = 1604246400 + (n * 7) % 80000  # 2020-11-02 00:00 +08:00
        lines.append(json.dumps({
            "type": "usage", "id": "b-%d" % n, "app": 1400002000 + a,
            "user": "u%d" % (n % 97), "room": "r%d" % a,
            "start": time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                   time.gmtime(start)),
            "seconds": 60 + n % 3000,
            "video": [{"offset": 0, "seconds": 60, "width": 640,
                       "height": 360}]}, separators=(",", ":")))
    return ("\n".join(lines) + "\n").encode()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default=os.path.join(
        os.path.dirname(HERE), "build", "rtcbill"))
    ap.add_argument("--batches", type=int, default=200)
    ap.add_argument("--batch", type=int, default=1000)
    ap.add_argument("--connections", type=int, default=4)
    ap.add_argument("--accounts", type=int, default=50)
    args = ap.parse_args()
    d = du.Daemon(os.path.abspath(args.binary)).start()
    try:
        op = d.client("operator")
        setup = []
        for a in range(args.accounts):
            setup.append('{"type":"account","account":"B%d","at":'
                         '"2020-11-01T00:00:00Z","balance":"1000000.00"}' % a)
            setup.append('{"type":"app","app":%d,"account":"B%d","at":'
                         '"2020-11-01T00:00:01Z","postpaid":true}'
                         % (1400002000 + a, a))
        op.json("POST", "/v1/events", ("\n".join(setup) + "\n").encode())
        bodies = [body(k, args.batch, args.accounts)
                  for k in range(args.batches)]
        lat = []
        errors = []
        nexti = [0]
        lock = threading.Lock()

        def worker():
            c = d.client("ingest")
            while True:
                with lock:
                    k = nexti[0]
                    nexti[0] += 1
                if k >= len(bodies):
                    break
                t0 = time.perf_counter()
                st, data, _ = c.request("POST", "/v1/events", bodies[k])
                dt = time.perf_counter() - t0
                if st != 200 or json.loads(data)["accepted"] != args.batch:
                    errors.append((st, data[:200]))
                with lock:
                    lat.append(dt)
            c.close()

        threads = [threading.Thread(target=worker)
                   for _ in range(args.connections)]
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - t0
        metrics = op.request("GET", "/metrics")[1].decode()
        commits = [l for l in metrics.splitlines()
                   if l.startswith("rtcbill_commits_total ")]
        op.close()
        d.stop()
    finally:
        d.kill()
    lat.sort()
    n = args.batches * args.batch

    def pct(p):
        return lat[min(len(lat) - 1, int(p * len(lat)))] * 1000
    print("batches: %d x %d usage records over %d connections"
          % (args.batches, args.batch, args.connections))
    print("events:  %d in %.2f s = %d events/s (durable)" %
          (n, wall, n / wall))
    print("ack latency per batch: p50 %.1f ms, p99 %.1f ms, max %.1f ms" %
          (pct(0.50), pct(0.99), lat[-1] * 1000))
    if commits:
        print("store:   %s (group commit: batches per commit = %.2f)" %
              (commits[0], (args.batches + 1) / int(commits[0].split()[1])))
    if errors:
        print("errors: %d, e.g. %s" % (len(errors), errors[0]))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
