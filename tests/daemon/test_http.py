#!/usr/bin/env python3
"""test_http.py: the daemon's HTTP surface: auth, limits, malformed
requests, keep-alive, reload, the real clock, catch-up and shutdown.

  auth       every endpoint with no token, an unknown token and each role:
             401 / 403 / 2xx as docs/operations.md's table says, with a
             JSON error body; an ingest token posting an operator event
             is refused whole (403) and changes nothing
  malformed  garbage, a bad header, Content-Length and chunked bodies
             past max_body_bytes (413), too many events (413), a long URL
             (414), a long Authorization header (431), a request that
             never ends (408), an empty batch (400), bad clock bodies:
             each answered 4xx, and the journal is unchanged after all
  http       pipelined requests answered in order; Expect: 100-continue;
             connections past max_connections get 503 + Retry-After
  reload     POST /v1/rules/reload with a changed, a broken and an
             unchanged folder; SIGHUP; a restart replays the rules
             changes (verify passes)
  clock      real clock: events dated in the past apply now, far future
             ones are rejected `in_future`; a store written with the test
             clock in 2020 is caught up on a real-clock start (missed
             bills issued once, not again on the next start)
  shutdown   SIGTERM while a batch is in flight: it is answered, exit 0

usage: test_http.py BINARY
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import daemon_util as du  # noqa: E402

FAILS = []
CHECKS = [0]


def check(cond, what):
    CHECKS[0] += 1
    if not cond:
        FAILS.append(what)
        print("FAIL " + what)


ACCOUNT = b'{"type":"account","account":"A1","at":"2020-10-01T09:00:00+08:00","balance":"100.00"}'
APP = b'{"type":"app","app":1400000001,"account":"A1","at":"2020-10-01T09:05:00+08:00","postpaid":true}'


def usage(i, start="2020-10-06T20:00:00+08:00"):
    return ('{"type":"usage","id":"u-%d","app":1400000001,"user":"u",'
            '"room":"r","start":"%s","seconds":600}' % (i, start)).encode()


def metric(c, name):
    status, data, _ = c.request("GET", "/metrics")
    for line in data.decode().splitlines():
        if line.startswith(name + " "):
            return int(line.split()[1])
    return None


def test_auth(binary):
    d = du.Daemon(binary).start()
    try:
        op = d.client("operator")
        op.json("POST", "/v1/events", ACCOUNT + b"\n" + APP + b"\n")
        # (method, path, body, roles allowed)
        eps = [
            ("GET", "/metrics", None, {"read", "operator"}),
            ("POST", "/v1/events", usage(1), {"ingest", "operator"}),
            ("GET", "/v1/accounts/A1", None, {"read", "operator"}),
            ("GET", "/v1/accounts/A1/bills", None, {"read", "operator"}),
            ("GET", "/v1/bills/A1%2F2020-10", None, {"read", "operator"}),
            ("GET", "/v1/notices?after=0", None, {"read", "operator"}),
            ("GET", "/v1/rules", None, {"read", "operator"}),
            ("POST", "/v1/rules/reload", b"", {"operator"}),
            ("GET", "/v1/clock", None, {"read", "operator"}),
            ("POST", "/v1/clock", b'{"now":"2020-10-06T21:00:00+08:00"}',
             {"operator"}),
        ]
        for method, path, body, allowed in eps:
            for role in (None, "not-a-token-0123456789", "read", "ingest",
                         "operator"):
                c = du.Client(d.port, du.TOKENS.get(role, role))
                status, data, headers = c.request(method, path, body)
                c.close()
                name = role if role in du.TOKENS else (
                    "no token" if role is None else "unknown token")
                if role not in du.TOKENS:
                    want = 401
                elif role in allowed:
                    want = 200 if path != "/v1/bills/A1%2F2020-10" else 404
                else:
                    want = 403
                check(status == want, "auth: %s %s with %s: %d, wanted %d"
                      % (method, path, name, status, want))
                if status >= 400:
                    try:
                        err = json.loads(data)
                        check("error" in err and "message" in err,
                              "auth: %s %s: error body %s" % (method, path,
                                                              data))
                    except ValueError:
                        check(False, "auth: %s %s: not JSON: %r" %
                              (method, path, data[:100]))
                if status == 401:
                    check(headers.get("WWW-Authenticate", "").startswith(
                        "Bearer"), "auth: 401 without WWW-Authenticate")
        c = du.Client(d.port, None)
        check(c.request("GET", "/healthz")[0] == 200, "healthz needs no token")
        c.close()
        # A token in a different case, or without "Bearer", is unknown.
        c = du.Client(d.port, None)
        st = c.request("GET", "/v1/rules", headers={
            "Authorization": du.TOKENS["read"]})[0]
        check(st == 401, "auth: a token without the Bearer scheme: %d" % st)
        st = c.request("GET", "/v1/rules", headers={
            "Authorization": "Bearer " + du.TOKENS["read"].upper()})[0]
        check(st == 401, "auth: a token in another case: %d" % st)
        c.close()
        # ingest may not post operator events, not even mixed with usage.
        ing = d.client("ingest")
        rows = metric(op, "rtcbill_journal_rows")
        topup = b'{"type":"topup","account":"A1","at":"2020-10-06T21:00:00+08:00","amount":"5.00"}'
        st, data, _ = ing.request("POST", "/v1/events",
                                  usage(2) + b"\n" + topup + b"\n")
        check(st == 403, "auth: ingest posting a topup: %d" % st)
        check(metric(op, "rtcbill_journal_rows") == rows,
              "auth: a refused batch changed the journal")
        bal = op.json("GET", "/v1/accounts/A1")["balance"]
        st, data, _ = op.request("POST", "/v1/events", topup + b"\n")
        check(st == 200 and op.json("GET", "/v1/accounts/A1")["balance"] !=
              bal, "auth: operator topup applies")
        # Every event type but usage is the operator's.
        for line in (ACCOUNT, APP, topup):
            st = ing.request("POST", "/v1/events", line)[0]
            check(st == 403, "auth: ingest posting %s: %d" % (line[:20], st))
        ing.close()
        op.close()
        check(d.stop() == 0, "auth: SIGTERM exit status")
    finally:
        d.kill()


def test_malformed(binary):
    d = du.Daemon(binary, extra={"max_body_bytes": 65536,
                                 "max_batch_events": 50,
                                 "request_timeout_ms": 300}).start()
    try:
        op = d.client("operator")
        op.json("POST", "/v1/events", ACCOUNT + b"\n" + APP + b"\n" +
                usage(1) + b"\n")
        before = metric(op, "rtcbill_journal_rows")
        view = op.json("GET", "/v1/accounts/A1")
        auth = ("Authorization: Bearer %s\r\n" %
                du.TOKENS["operator"]).encode()
        cases = [
            ("garbage", b"\x00\x01\x02 hello\r\n\r\n", 400),
            ("bad request line", b"GET\r\n\r\n", 400),
            ("bad header", b"POST /v1/events HTTP/1.1\r\nHost x\r\n\r\n",
             400),
            ("bad version", b"GET /healthz HTTP/9.9\r\n\r\n", 505),
            ("bad chunk", b"POST /v1/events HTTP/1.1\r\n" + auth +
             b"Transfer-Encoding: chunked\r\n\r\nzz\r\n", 400),
            ("content-length too large", b"POST /v1/events HTTP/1.1\r\n" +
             auth + b"Content-Length: 10000000\r\n\r\n" + usage(9), 413),
            ("chunked too large", b"POST /v1/events HTTP/1.1\r\n" + auth +
             b"Transfer-Encoding: chunked\r\n\r\n" +
             (b"8000\r\n" + b" " * 0x8000 + b"\r\n") * 3 + b"0\r\n\r\n",
             413),
            ("long url", b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\n\r\n", 414),
            ("long authorization", b"GET /v1/rules HTTP/1.1\r\n"
             b"Authorization: Bearer " + b"x" * 5000 + b"\r\n\r\n", 431),
            ("conflicting lengths", b"POST /v1/events HTTP/1.1\r\n" + auth +
             b"Content-Length: 5\r\nContent-Length: 6\r\n\r\nabcdef", 400),
        ]
        for name, data, want in cases:
            out = du.raw_request(d.port, data)
            status = int(out.split(b" ")[1]) if out.startswith(
                b"HTTP/1.1 ") else None
            check(status == want, "malformed: %s: %r, wanted %d" %
                  (name, out[:60], want))
            check(b"Connection: close" in out,
                  "malformed: %s: connection kept open" % name)
        # A request that never completes: 408 after request_timeout_ms.
        t0 = time.time()
        out = du.raw_request(d.port, b"POST /v1/events HTTP/1.1\r\n" + auth +
                             b"Content-Length: 100\r\n\r\n" + usage(8)[:40],
                             shut=False)
        check(out.startswith(b"HTTP/1.1 408"), "malformed: slow request: %r"
              % out[:40])
        check(time.time() - t0 < 3, "malformed: 408 took too long")
        # API-level refusals on a well-formed connection.
        too_many = b"\n".join(usage(100 + i) for i in range(51))
        for name, method, path, body, want in [
                ("too many events", "POST", "/v1/events", too_many, 413),
                ("empty batch", "POST", "/v1/events", b"\n \n", 400),
                ("unknown path", "GET", "/v2/nothing", None, 404),
                ("wrong method", "DELETE", "/v1/events", None, 405),
                ("bad account escape", "GET", "/v1/accounts/%zz", None, 404),
                ("bad cursor", "GET", "/v1/notices?after=x", None, 400),
                ("bad limit", "GET", "/v1/notices?limit=5000", None, 400),
                ("clock body", "POST", "/v1/clock", b"{}", 400),
                ("clock backwards", "POST", "/v1/clock",
                 b'{"now":"2019-01-01T00:00:00Z"}', 409),
                ("unknown account", "GET", "/v1/accounts/NOPE", None, 404)]:
            st, data, _ = op.request(method, path, body)
            check(st == want, "api: %s: %d, wanted %d" % (name, st, want))
        # Bad lines inside a good batch: rejected one by one, the rest in.
        st, data, _ = op.request("POST", "/v1/events",
                                 b"{not json\n" + usage(1) + b"\n" +
                                 b'{"type":"usage","id":"u-1"}\n')
        res = json.loads(data)
        check(st == 200 and [r["result"] for r in res["results"]] ==
              ["rejected", "duplicate", "rejected"] and
              res["results"][0]["error"] == "bad_json",
              "api: per-line results: %s" % data[:300])
        before += 1  # the duplicate is journaled
        check(metric(op, "rtcbill_journal_rows") == before,
              "malformed requests changed the journal")
        view2 = op.json("GET", "/v1/accounts/A1")
        check(view == view2, "malformed requests changed the account")
        op.close()
        check(d.stop() == 0, "malformed: SIGTERM exit status")
    finally:
        d.kill()


def test_http(binary):
    d = du.Daemon(binary, extra={"max_connections": 3}).start()
    try:
        auth = ("Authorization: Bearer %s\r\n" % du.TOKENS["read"]).encode()
        two = (b"GET /v1/rules HTTP/1.1\r\n" + auth + b"\r\n" +
               b"GET /v1/clock HTTP/1.1\r\n" + auth +
               b"Connection: close\r\n\r\n")
        out = du.raw_request(d.port, two, shut=False)
        parts = out.split(b"HTTP/1.1 200 OK")
        check(len(parts) == 3 and b'"version"' in parts[1] and
              b'"mode"' in parts[2], "pipelining: %r" % out[:400])
        # Expect: 100-continue (curl sends it for bodies over 1 KiB).
        op = ("Authorization: Bearer %s\r\n" % du.TOKENS["operator"]).encode()
        body = ACCOUNT + b"\n"
        req = (b"POST /v1/events HTTP/1.1\r\n" + op +
               b"Expect: 100-continue\r\nContent-Length: %d\r\n"
               b"Connection: close\r\n\r\n" % len(body))
        s = socket.create_connection(("127.0.0.1", d.port), timeout=5)
        s.sendall(req)
        first = s.recv(100)
        s.sendall(body)
        rest = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            rest += chunk
        s.close()
        check(first.startswith(b"HTTP/1.1 100 Continue") and
              b'"accepted":1' in first + rest, "expect-continue: %r %r" %
              (first, rest[:200]))
        # max_connections = 3: the fourth gets 503 with Retry-After.
        socks = [socket.create_connection(("127.0.0.1", d.port), timeout=5)
                 for _ in range(3)]
        time.sleep(0.1)
        out = du.raw_request(d.port, b"GET /healthz HTTP/1.1\r\n\r\n")
        check(out.startswith(b"HTTP/1.1 503") and b"Retry-After:" in out,
              "backpressure: %r" % out[:80])
        for s in socks:
            s.close()
        time.sleep(0.1)
        out = du.raw_request(d.port, b"GET /healthz HTTP/1.1\r\n"
                             b"Connection: close\r\n\r\n")
        check(out.startswith(b"HTTP/1.1 200"), "connections freed: %r" %
              out[:40])
        check(d.stop() == 0, "http: SIGTERM exit status")
    finally:
        d.kill()


def test_reload(binary):
    tmp = tempfile.mkdtemp(prefix="rtcbill-reload-")
    rules = os.path.join(tmp, "rules")
    shutil.copytree(os.path.join(du.REPO, "rules"), rules)
    d = du.Daemon(binary, rules=rules, workdir=os.path.join(tmp, "d"))
    d.start()
    try:
        op = d.client("operator")
        op.json("POST", "/v1/events", ACCOUNT + b"\n" + APP + b"\n" +
                usage(1) + b"\n")
        v0 = op.json("GET", "/v1/rules")["version"]
        r = op.json("POST", "/v1/rules/reload", b"")
        check(r == {"version": v0, "changed": False}, "reload: unchanged %s"
              % r)
        tariff = os.path.join(rules, "tariff.lua")
        with open(tariff) as f:
            text = f.read()
        with open(tariff, "w") as f:
            f.write(text.replace('price = "7.00"', 'price = "8.00"'))
        r = op.json("POST", "/v1/rules/reload", b"")
        v1 = op.json("GET", "/v1/rules")["version"]
        check(r["changed"] and v1 != v0 and r["version"] == v1,
              "reload: changed %s" % r)
        notices = du.all_notices(op)
        check(any(n["type"] == "rules_reloaded" and n.get("rules") == v1
                  for n in notices), "reload: no rules_reloaded notice")
        with open(tariff, "w") as f:
            f.write("return {")
        st, data, _ = op.request("POST", "/v1/rules/reload", b"")
        check(st == 422 and op.json("GET", "/v1/rules")["version"] == v1,
              "reload: a broken file: %d %s" % (st, data[:200]))
        check(metric(op, 'rtcbill_rules_reloads_total{result="failed"}') ==
              1, "reload: failed reloads counted")
        # SIGHUP: the folder's set comes back.
        with open(tariff, "w") as f:
            f.write(text)
        d.proc.send_signal(signal.SIGHUP)
        deadline = time.time() + 10
        while time.time() < deadline and \
                op.json("GET", "/v1/rules")["version"] != v0:
            time.sleep(0.05)
        check(op.json("GET", "/v1/rules")["version"] == v0,
              "reload: SIGHUP did not bring back %s" % v0)
        op.json("POST", "/v1/clock", b'{"settle":true}')
        bills = op.json("GET", "/v1/accounts/A1/bills")["bills"]
        check(len(bills) == 1 and bills[0]["rules"] == v0,
              "reload: the bill names the rules in force: %s" % bills)
        op.close()
        check(d.stop() == 0, "reload: SIGTERM exit status")
        v = subprocess.run([binary, "verify", "--db", d.db],
                           capture_output=True, text=True)
        check(v.returncode == 0 and "3 rules changes" in v.stdout,
              "reload: verify after rules changes: %s" % v.stdout)
        d.start()
        c = d.client("read")
        check(c.json("GET", "/v1/rules")["version"] == v0 and
              c.json("GET", "/v1/accounts/A1/bills")["bills"] == bills,
              "reload: a restart replays the rules changes")
        c.close()
        check(d.stop() == 0, "reload: second SIGTERM")
    finally:
        d.kill()
        shutil.rmtree(tmp, ignore_errors=True)


def test_clock(binary):
    tmp = tempfile.mkdtemp(prefix="rtcbill-clock-")
    d = du.Daemon(binary, workdir=os.path.join(tmp, "t"))
    d.start()
    try:
        op = d.client("operator")
        op.json("POST", "/v1/events", ACCOUNT + b"\n" + APP + b"\n" +
                usage(1) + b"\n")
        # A1 is a daily account (its first app came after 2020-09-01): the
        # bill of the 6th is due on the 7th at 10:00.
        op.json("POST", "/v1/clock", b'{"now":"2020-10-07T09:59:59+08:00"}')
        check(op.json("GET", "/v1/accounts/A1/bills")["bills"] == [],
              "clock: no bill before 10:00")
        op.close()
        check(d.stop() == 0, "clock: SIGTERM")
        # The same store under the real clock: the October bill (and
        # every later timer) was missed and fires on start-up, once.
        real = du.Daemon(binary, clock="real", workdir=os.path.join(tmp, "r"),
                         db=d.db)
        real.start()
        c = real.client("operator")
        deadline = time.time() + 10
        bills = []
        while time.time() < deadline and not bills:
            bills = c.json("GET", "/v1/accounts/A1/bills")["bills"]
            time.sleep(0.05)
        check([b["bill"] for b in bills] == ["A1/2020-10-06"],
              "catch-up: %s" % [b["bill"] for b in bills])
        now = c.json("GET", "/v1/clock")
        check(now["mode"] == "real", "clock: real mode")
        # Past events apply now; a far future one is rejected.
        res = c.json("POST", "/v1/events", usage(2) + b"\n" +
                     usage(3, "2999-01-01T00:00:00Z") + b"\n")
        check([r["result"] for r in res["results"]] ==
              ["accepted", "rejected"] and
              res["results"][1]["error"] == "in_future",
              "real clock: %s" % res)
        c.close()
        check(real.stop() == 0, "real clock: SIGTERM")
        real.start()
        c = real.client("read")
        again = c.json("GET", "/v1/accounts/A1/bills")["bills"]
        check(again == bills, "catch-up: bills issued twice: %s" %
              [b["bill"] for b in again])
        c.close()
        check(real.stop() == 0, "real clock: second SIGTERM")
        v = subprocess.run([binary, "verify", "--db", d.db],
                           capture_output=True, text=True)
        check(v.returncode == 0, "clock: verify: %s" % v.stdout)
    finally:
        d.kill()
        shutil.rmtree(tmp, ignore_errors=True)


def test_shutdown(binary):
    d = du.Daemon(binary).start()
    try:
        op = d.client("operator")
        op.json("POST", "/v1/events", ACCOUNT + b"\n" + APP + b"\n")
        body = b"\n".join(usage(1000 + i) for i in range(3000)) + b"\n"
        result = {}

        def post():
            c = d.client("operator")
            try:
                result["r"] = c.request("POST", "/v1/events", body)
            except Exception as e:  # noqa: BLE001
                result["e"] = e
            c.close()

        t = threading.Thread(target=post)
        t.start()
        time.sleep(0.02)
        rc = d.stop()
        t.join(30)
        check(rc == 0, "shutdown: exit %s" % rc)
        r = result.get("r")
        # Either the batch was taken before the signal (answered 200 and
        # durable) or the connection came too late (refused); never lost
        # after a 200.
        if r is not None and r[0] == 200:
            acc = json.loads(r[1])["accepted"]
            v = subprocess.run([binary, "verify", "--db", d.db],
                               capture_output=True, text=True)
            check(v.returncode == 0 and "usage ids: %d" % acc in v.stdout,
                  "shutdown: an answered batch is durable: %s" % v.stdout)
        else:
            check("e" in result or r[0] == 503,
                  "shutdown: unexpected answer %s" % (r,))
        op.close()
    finally:
        d.kill()


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    binary = os.path.abspath(sys.argv[1])
    for t in (test_auth, test_malformed, test_http, test_reload, test_clock,
              test_shutdown):
        n = len(FAILS)
        try:
            t(binary)
        except Exception as e:  # noqa: BLE001
            FAILS.append("%s: %s: %s" % (t.__name__, type(e).__name__, e))
            print("FAIL " + FAILS[-1])
        print("%s %s" % ("ok  " if len(FAILS) == n else "FAIL", t.__name__))
    print("%d checks, %d failed" % (CHECKS[0], len(FAILS)))
    return 1 if FAILS else 0


if __name__ == "__main__":
    sys.exit(main())
