#!/usr/bin/env python3
"""test_same_bills.py: same events -> same bills, daemon and simulate.

For every scenario folder (tests/scenarios/*, the public acceptance cases
in ../shared/acceptance/cases/* when present) and the example event
files, runs `rtcbill simulate` on the events, then feeds the same events
to a fresh `rtcbill serve` with the test clock: in simulate's order
(effective time, file, line), in batches of a few lines over one
keep-alive connection, then POST /v1/clock {"settle":true} (what
simulate does after the last event). The daemon's notices (all pages of
GET /v1/notices) must equal notices.jsonl one for one and in order; its
bills (GET /v1/accounts/ID/bills) must equal bills.jsonl; the event
counts must equal summary.json's. Then the daemon is stopped with
SIGTERM (exit 0), `rtcbill verify` must pass on its store, and a
restarted daemon (which replays the journal) must serve the same bills,
notices and account views.
Scenarios with --until are skipped (the daemon has no "stop here").

usage: test_same_bills.py BINARY
"""
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import daemon_util as du  # noqa: E402

BATCH = 7  # small and odd, so that batches cut scenarios anywhere


def cases():
    out = []
    dirs = sorted(glob.glob(os.path.join(du.REPO, "tests/scenarios/*/")))
    shared = os.path.join(os.path.dirname(du.REPO), "shared/acceptance/cases")
    dirs += sorted(glob.glob(os.path.join(shared, "*/")))
    for d in dirs:
        exp_path = os.path.join(d, "expect.json")
        if not os.path.exists(exp_path):
            continue
        with open(exp_path) as f:
            exp = json.load(f)
        if "until" in exp:
            continue
        files = [os.path.join(d, x) for x in exp.get("files",
                                                     ["events.jsonl"])]
        rules = None
        if isinstance(exp.get("rules"), str):
            rules = os.path.join(d, exp["rules"])
        out.append((os.path.basename(os.path.normpath(d)), files, rules))
    for name in ("trtc-examples.jsonl", "year.jsonl"):
        p = os.path.join(du.REPO, "examples/events", name)
        if os.path.exists(p):
            out.append(("examples/" + name, [p], None))
    return out


def by_account(bills):
    acc = {}
    for b in bills:
        acc.setdefault(b["account"], []).append(b)
    return acc


def daemon_bills(client, accounts):
    out = {}
    for a in sorted(accounts):
        out[a] = client.json("GET", "/v1/accounts/%s/bills" %
                             a.replace("%", "%25").replace("/", "%2F"))[
                                 "bills"]
    return out


def cents(s):
    units, frac = s.split(".")
    v = abs(int(units)) * 100 + int(frac)
    return -v if s.startswith("-") else v


def ops_report(binary, db, sim_bills):
    """examples/ops/report.lua reads the store through the Lua module; its
    revenue total must be simulate's."""
    env = dict(os.environ, RTCBILL_LUA_CPATH=os.path.join(
        os.path.dirname(os.path.abspath(binary)), "?.so"))
    if "ASAN_OPTIONS" in env:
        # A sanitizer build's module needs the sanitizer runtimes loaded
        # first into the (uninstrumented) lua5.4; the interpreter's own
        # exit-time allocations are not ours to report.
        runtimes = [subprocess.run(["gcc", "-print-file-name=" + lib],
                                   capture_output=True, text=True)
                    .stdout.strip() for lib in ("libasan.so", "libubsan.so")]
        env["LD_PRELOAD"] = " ".join(runtimes)
        env["ASAN_OPTIONS"] = env["ASAN_OPTIONS"] + ":detect_leaks=0"
    r = subprocess.run(["lua5.4", "examples/ops/report.lua", db],
                       capture_output=True, text=True, env=env)
    if r.returncode != 0:
        return ["report.lua: exit %d: %s" % (r.returncode, r.stderr[-500:])]
    total = sum(cents(b["total"]) for b in sim_bills)
    want = "%s%d.%02d" % ("-" if total < 0 else "", abs(total) // 100,
                          abs(total) % 100)
    line = [l for l in r.stdout.splitlines() if l.startswith("total ")]
    if not line or line[0].split()[-1] != want:
        return ["report.lua total %s, simulate %s" % (line, want)]
    return []


def run_case(binary, name, files, rules, tmp):
    problems = []
    sim_out = os.path.join(tmp, "sim")
    cmd = [binary, "simulate", "--out", sim_out] + files
    if rules:
        cmd[2:2] = ["--rules", rules]
    r = subprocess.run(cmd, capture_output=True)
    if r.returncode not in (0, 1):
        return ["simulate exited %d: %s" % (r.returncode, r.stderr[:300])]
    sim_bills = du.read_jsonl(os.path.join(sim_out, "bills.jsonl"))
    sim_notices = du.read_jsonl(os.path.join(sim_out, "notices.jsonl"))
    with open(os.path.join(sim_out, "summary.json")) as f:
        summary = json.load(f)

    d = du.Daemon(binary, rules=rules, workdir=os.path.join(tmp, "d"))
    d.start()
    try:
        c = d.client("operator")
        lines = du.sorted_lines(files)
        counts = {"accepted": 0, "duplicates": 0, "rejected": 0}
        for i in range(0, len(lines), BATCH):
            body = b"\n".join(lines[i:i + BATCH]) + b"\n"
            res = c.json("POST", "/v1/events", body)
            for k in counts:
                counts[k] += res[k]
            if len(res["results"]) != len(lines[i:i + BATCH]):
                problems.append("batch %d: %d results for %d lines" %
                                (i // BATCH, len(res["results"]),
                                 len(lines[i:i + BATCH])))
        c.json("POST", "/v1/clock", b'{"settle":true}')
        ev = summary["events"]
        want = {"accepted": ev["accepted"], "duplicates": ev["duplicates"],
                "rejected": ev["rejected"]}
        if counts != want:
            problems.append("counts %s, simulate %s" % (counts, want))
        notices = du.all_notices(c)
        if notices != sim_notices:
            problems.append("notices differ: daemon %d, simulate %d" %
                            (len(notices), len(sim_notices)))
            for k, (a, b) in enumerate(zip(notices, sim_notices)):
                if a != b:
                    problems.append("  first difference at %d:\n  daemon   %s"
                                    "\n  simulate %s" % (k, a, b))
                    break
        want_bills = by_account(sim_bills)
        accounts = set(want_bills) | {n["account"] for n in notices
                                      if n["type"] == "bill_issued"}
        got_bills = daemon_bills(c, accounts)
        if got_bills != {a: want_bills.get(a, []) for a in accounts}:
            problems.append("bills differ")
        views = {a: c.json("GET", "/v1/accounts/%s" % a.replace(
            "%", "%25").replace("/", "%2F")) for a in sorted(accounts)}
        c.close()
        rc = d.stop()
        if rc != 0:
            problems.append("SIGTERM: exit %s" % rc)
        v = subprocess.run([binary, "verify", "--db", d.db],
                           capture_output=True, text=True)
        if v.returncode != 0 or "verify: ok" not in v.stdout:
            problems.append("verify: exit %d\n%s" % (v.returncode,
                                                     v.stdout[-2000:]))
        problems += ops_report(binary, d.db, sim_bills)
        d.start()
        c = d.client("read")
        if du.all_notices(c) != notices:
            problems.append("notices differ after a restart")
        if daemon_bills(c, accounts) != got_bills:
            problems.append("bills differ after a restart")
        views2 = {a: c.json("GET", "/v1/accounts/%s" % a.replace(
            "%", "%25").replace("/", "%2F")) for a in sorted(accounts)}
        if views2 != views:
            problems.append("account views differ after a restart")
        c.close()
        if d.stop() != 0:
            problems.append("second SIGTERM: non-zero exit")
        if not problems and not sim_bills and not notices and \
                counts["accepted"] == 0:
            problems.append("nothing was compared (no events accepted)")
    finally:
        d.kill()
        if problems:
            problems.append("daemon log:\n" + d.log_text()[-1500:])
    return problems


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    binary = os.path.abspath(sys.argv[1])
    failed = passed = 0
    for name, files, rules in cases():
        tmp = tempfile.mkdtemp(prefix="rtcbill-same-")
        try:
            problems = run_case(binary, name, files, rules, tmp)
        except Exception as e:  # a crash of the test is a failure
            problems = ["%s: %s" % (type(e).__name__, e)]
        if problems:
            failed += 1
            print("FAIL %s" % name)
            for p in problems:
                print("     " + p)
        else:
            passed += 1
            print("ok   %s" % name)
        shutil.rmtree(tmp, ignore_errors=True)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed or passed == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
