#!/usr/bin/env python3
"""test_crash.py: the daemon killed with SIGKILL during ingest and during
settlement loses nothing it acknowledged and counts nothing twice.

A generated month of daily accounts (so that bills are issued all along)
is fed to `rtcbill serve` (test clock) in batches of 25 usage records,
with a clock advance every few batches (each to the next batch's first
effective time, so that bills are issued inside the advance exactly as
`rtcbill simulate` issues them). Each round starts the daemon, lets a
client post batches from where the acknowledged ones end, and kills the
daemon with SIGKILL: at a random moment (even rounds) or a few
milliseconds after the client sent a clock advance (odd rounds:
settlement in flight). After each kill:
  - `rtcbill verify` passes on the store;
  - every usage id of every acknowledged batch is in the store;
  - no usage id was journaled as accepted twice.
At the end the rest is posted, every acknowledged batch is posted again
(every usage record must come back `duplicate`), the clock is settled,
and the bills must equal simulate's on the whole file, the notices too
(less the duplicate_usage notices of the re-posts).

usage: test_crash.py BINARY [--kills N] [--seed S] [--accounts N]
       [--days N]
(ctest runs 50 kills; docs/operations.md names a longer run.)
"""
import argparse
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import daemon_util as du  # noqa: E402

BATCH = 25
CLOCK_EVERY = 4


def generate(rng, accounts, days, per_day):
    """Account and app lines, and usage lines sorted by effective time."""
    setup, usage = [], []
    base = du.parse_time("2020-11-01T00:00:00+08:00")
    for a in range(accounts):
        setup.append({"type": "account", "account": "C%02d" % a,
                      "at": "2020-10-31T08:00:00+08:00",
                      "balance": "%d.00" % rng.choice([1, 50, 1000])})
        setup.append({"type": "app", "app": 1400001000 + a,
                      "account": "C%02d" % a,
                      "at": "2020-10-31T09:00:00+08:00",
                      "postpaid": a % 3 != 0})
    n = 0
    for day in range(days):
        for _ in range(per_day):
            a = rng.randrange(accounts)
            start = base + day * 86400 + rng.randrange(0, 86400 - 7200)
            secs = rng.randrange(60, 5400)
            ev = {"type": "usage", "id": "k-%d" % n, "app": 1400001000 + a,
                  "user": "u%d" % rng.randrange(50), "room": "r%d" % a,
                  "start": time.strftime("%Y-%m-%dT%H:%M:%S+00:00",
                                         time.gmtime(start)),
                  "seconds": secs}
            if rng.random() < 0.5:
                off = rng.randrange(0, secs)
                ev["video"] = [{"offset": off,
                                "seconds": rng.randrange(1, secs - off + 1),
                                "width": rng.choice([320, 640, 1280, 1920]),
                                "height": rng.choice([240, 360, 720, 1080])}]
            usage.append((start + secs, n, json.dumps(ev,
                                                      separators=(",", ":"))))
            n += 1
            if rng.random() < 0.02:  # the same record sent again
                usage.append((start + secs, n, usage[-1][2]))
                n += 1
    usage.sort()
    return [json.dumps(x, separators=(",", ":")) for x in setup], usage


def plan(setup, usage):
    """Work items: ("events", body, ids, first_time) or ("clock", t)."""
    items = [("events", "\n".join(setup) + "\n", [], None)]
    for k, i in enumerate(range(0, len(usage), BATCH)):
        chunk = usage[i:i + BATCH]
        if k > 0 and k % CLOCK_EVERY == 0:
            items.append(("clock", chunk[0][0]))
        ids = [json.loads(line)["id"] for _, _, line in chunk]
        items.append(("events", "\n".join(l for _, _, l in chunk) + "\n",
                      ids, chunk[0][0]))
    return items


def rfc3339(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


class Runner:
    def __init__(self, d, items):
        self.d = d
        self.items = items
        self.next = 0
        self.acked = set()
        self.clock_sent = threading.Event()

    def post(self, k, c):
        it = self.items[k]
        if it[0] == "clock":
            self.clock_sent.set()
            st, data, _ = c.request("POST", "/v1/clock", json.dumps(
                {"now": rfc3339(it[1])}).encode())
            return st in (200, 409)  # 409: the clock is already past it
        st, data, _ = c.request("POST", "/v1/events", it[1].encode())
        if st != 200:
            return False
        res = json.loads(data)
        # The setup batch posted again after a kill that came between its
        # commit and its answer: its accounts and apps exist already.
        return all(r["result"] != "rejected" or
                   r["error"] in ("duplicate_account", "duplicate_app")
                   for r in res["results"])

    def client(self):
        c = self.d.client("operator")
        try:
            while self.next < len(self.items):
                if not self.post(self.next, c):
                    raise RuntimeError("batch %d refused" % self.next)
                self.acked.add(self.next)
                self.next += 1
        except Exception:  # noqa: BLE001 - the kill ends the client
            pass
        finally:
            c.close()


def check_store(db, runner, problems, binary, rnd):
    v = subprocess.run([binary, "verify", "--db", db], capture_output=True,
                       text=True)
    if v.returncode != 0:
        problems.append("round %d: verify failed:\n%s" % (rnd, v.stdout))
    con = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
    try:
        stored = {r[0] for r in con.execute("SELECT id FROM usage_ids")}
        accepted = {}
        for (line,) in con.execute("SELECT data FROM journal WHERE kind = 1"
                                   " AND outcome = 0"):
            ev = json.loads(line)
            if ev.get("type") == "usage":
                accepted[ev["id"]] = accepted.get(ev["id"], 0) + 1
    finally:
        con.close()
    twice = [i for i, n in accepted.items() if n > 1]
    if twice:
        problems.append("round %d: accepted twice: %s" % (rnd, twice[:5]))
    missing = [i for k in runner.acked if runner.items[k][0] == "events"
               for i in runner.items[k][2] if i not in stored]
    if missing:
        problems.append("round %d: %d acknowledged ids missing, e.g. %s" %
                        (rnd, len(missing), missing[:3]))
    return len(stored)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--kills", type=int, default=50)
    ap.add_argument("--seed", type=int, default=20201101)
    ap.add_argument("--accounts", type=int, default=24)
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--per-day", type=int, default=700)
    args = ap.parse_args()
    binary = os.path.abspath(args.binary)
    rng = random.Random(args.seed)
    tmp = tempfile.mkdtemp(prefix="rtcbill-crash-")
    problems = []
    try:
        setup, usage = generate(rng, args.accounts, args.days, args.per_day)
        events = os.path.join(tmp, "events.jsonl")
        with open(events, "w") as f:
            f.write("\n".join(setup + [l for _, _, l in usage]) + "\n")
        sim = os.path.join(tmp, "sim")
        r = subprocess.run([binary, "simulate", "--out", sim, events],
                           capture_output=True, text=True)
        if r.returncode != 0:
            print("simulate failed: " + r.stderr)
            return 1
        items = plan(setup, usage)
        d = du.Daemon(binary, workdir=os.path.join(tmp, "d"))
        runner = Runner(d, items)
        random_kills = settle_kills = busy_kills = 0
        for rnd in range(args.kills):
            busy = runner.next < len(items)
            d.start()
            runner.clock_sent.clear()
            t = threading.Thread(target=runner.client)
            t.start()
            if rnd % 2 == 1 and runner.clock_sent.wait(3.0):
                time.sleep(rng.uniform(0, 0.004))
                settle_kills += 1
            else:
                time.sleep(rng.uniform(0.003, 0.05))
                random_kills += 1
            d.proc.send_signal(signal.SIGKILL)
            d.proc.wait()
            d.log.close()
            d.proc = None
            t.join(30)
            busy_kills += busy
            n = check_store(d.db, runner, problems, binary, rnd)
            print("round %2d: %3d of %d items acknowledged, %6d usage ids "
                  "stored" % (rnd, len(runner.acked), len(items), n))
            if problems:
                break
        # The end: the rest, every acknowledged batch again, settle.
        d.start()
        c = d.client("operator")
        while runner.next < len(items):
            if not runner.post(runner.next, c):
                problems.append("final: item %d refused" % runner.next)
                break
            runner.next += 1
        dup_problems = 0
        for k in sorted(runner.acked):
            it = items[k]
            if it[0] != "events" or not it[2]:
                continue
            res = c.json("POST", "/v1/events", it[1].encode())
            if any(x["result"] != "duplicate" for x in res["results"]):
                dup_problems += 1
        if dup_problems:
            problems.append("%d acknowledged batches were not all duplicates "
                            "when posted again" % dup_problems)
        c.json("POST", "/v1/clock", b'{"settle":true}')
        notices = [n for n in du.all_notices(c)
                   if n["type"] != "duplicate_usage"]
        want_notices = [n for n in du.read_jsonl(os.path.join(
            sim, "notices.jsonl")) if n["type"] != "duplicate_usage"]
        want_bills = du.read_jsonl(os.path.join(sim, "bills.jsonl"))
        got_bills = []
        for a in range(args.accounts):
            got_bills += c.json("GET", "/v1/accounts/C%02d/bills" % a)["bills"]
        key = lambda b: (b["account"], b["period_start"], b["issued_at"])  # noqa
        if sorted(got_bills, key=key) != sorted(want_bills, key=key):
            problems.append("final bills differ from simulate (%d, %d)" %
                            (len(got_bills), len(want_bills)))
        if notices != want_notices:
            problems.append("final notices differ from simulate (%d, %d)" %
                            (len(notices), len(want_notices)))
        c.close()
        if d.stop() != 0:
            problems.append("final SIGTERM: non-zero exit")
        v = subprocess.run([binary, "verify", "--db", d.db],
                           capture_output=True, text=True)
        if v.returncode != 0:
            problems.append("final verify failed:\n" + v.stdout)
        print("kills: %d (%d at random, %d during a clock advance; %d "
              "while work was left); %d usage records, %d bills, %d "
              "notices compared" %
              (random_kills + settle_kills, random_kills, settle_kills,
               busy_kills, len(usage), len(want_bills), len(want_notices)))
        print(v.stdout.strip())
    finally:
        if problems:
            print("daemon log (end):\n" + d.log_text()[-2000:])
        d.kill()
        shutil.rmtree(tmp, ignore_errors=True)
    for p in problems:
        print("FAIL " + p)
    print("crash test: %s" % ("FAILED" if problems else "ok"))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
