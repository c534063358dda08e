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
  idempotency
             a top-up posted twice with one Idempotency-Key (its answer
             "lost") is applied once and answered twice byte for byte;
             the key with another body or endpoint is 409; malformed keys
             are 400; the role check comes first; POST /v1/clock takes
             keys too; keys survive a restart (verify passes) and expire
             after idempotency_retention_hours of engine time
  backpressure
             max_pending_batches = 1 and test_commit_delay_ms hold the
             queue full: a third batch gets 503 + Retry-After + a JSON
             error and changes nothing (balance, journal, its key), and
             succeeds when posted again; a keyed batch posted again while
             its first copy waits for the store is answered with it and
             applied once

usage: test_http.py BINARY
"""
import decimal
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


def topup(amount, at="2020-10-06T21:00:00+08:00", account="A1"):
    return ('{"type":"topup","account":"%s","at":"%s","amount":"%s"}\n' %
            (account, at, amount)).encode()


def balance(c, account="A1"):
    return decimal.Decimal(c.json("GET", "/v1/accounts/" + account)
                           ["balance"])


def keyed(c, key, body, path="/v1/events"):
    return c.request("POST", path, body, headers={"Idempotency-Key": key})


def test_idempotency(binary):
    tmp = tempfile.mkdtemp(prefix="rtcbill-idem-")
    d = du.Daemon(binary, workdir=tmp,
                  extra={"idempotency_retention_hours": 48})
    d.start()
    D = decimal.Decimal
    try:
        op = d.client("operator")
        op.json("POST", "/v1/events", ACCOUNT + b"\n" + APP + b"\n")
        b0 = balance(op)
        rows = metric(op, "rtcbill_journal_rows")
        body = topup("5.00")
        st, first, h1 = keyed(op, "k-1", body)
        check(st == 200 and json.loads(first)["accepted"] == 1 and
              "Idempotent-Replayed" not in h1,
              "idem: first post: %d %s" % (st, first[:200]))
        check(balance(op) == b0 + D("5.00"), "idem: the top-up applies")
        # The answer was "lost": the client posts the same batch again.
        for _ in range(2):
            st, again, h2 = keyed(op, "k-1", body)
            check(st == 200 and again == first and
                  h2.get("Idempotent-Replayed") == "true",
                  "idem: a retry gets the stored answer: %d %s %s" %
                  (st, again[:200], h2))
        check(balance(op) == b0 + D("5.00"),
              "idem: a retry applied the top-up again: %s" % balance(op))
        check(metric(op, "rtcbill_journal_rows") == rows + 1,
              "idem: a retry changed the journal")
        check(metric(op, 'rtcbill_idempotency_total{result="replayed"}') ==
              2, "idem: replays counted")
        # The same key for another body, or another endpoint: 409.
        for path, other in (("/v1/events", topup("6.00")),
                            ("/v1/events", body + b"\n"),
                            ("/v1/clock",
                             b'{"now":"2020-10-06T22:00:00+08:00"}')):
            st, data, _ = keyed(op, "k-1", other, path)
            err = json.loads(data)
            check(st == 409 and err["error"] == "idempotency_key_reused" and
                  "message" in err, "idem: key reused on %s: %d %s" %
                  (path, st, data[:200]))
        check(balance(op) == b0 + D("5.00") and
              op.json("GET", "/v1/clock")["now"] ==
              "2020-10-06T21:00:00+08:00",
              "idem: a conflicting request changed the state")
        # Without a key the same body is a new top-up.
        op.json("POST", "/v1/events", body)
        check(balance(op) == b0 + D("10.00"), "idem: unkeyed top-up")
        # Malformed keys: 400 and nothing applied.
        rows = metric(op, "rtcbill_journal_rows")
        for name, key in (("empty", ""), ("too long", "k" * 256),
                          ("space", "a b"), ("control", "a\x01b"),
                          ("non-ASCII", "cl\u00e9")):
            hdr = ("Authorization: Bearer %s\r\nIdempotency-Key: " %
                   du.TOKENS["operator"]).encode() + key.encode() + b"\r\n"
            req = (b"POST /v1/events HTTP/1.1\r\n" + hdr +
                   b"Content-Length: %d\r\nConnection: close\r\n\r\n" %
                   len(body) + body)
            out = du.raw_request(d.port, req)
            # A control character is already malformed HTTP (http-parser).
            check(out.startswith(b"HTTP/1.1 400") and
                  (b'"bad_idempotency_key"' in out or name == "control"),
                  "idem: %s key: %r" % (name, out[:120]))
        hdr = ("Authorization: Bearer %s\r\n" % du.TOKENS["operator"]).encode()
        out = du.raw_request(d.port, b"POST /v1/events HTTP/1.1\r\n" + hdr +
                             b"Idempotency-Key: k-a\r\nIdempotency-Key: "
                             b"k-b\r\nContent-Length: %d\r\n"
                             b"Connection: close\r\n\r\n" % len(body) +
                             body)
        check(out.startswith(b"HTTP/1.1 400"), "idem: two keys: %r" %
              out[:80])
        check(balance(op) == b0 + D("10.00") and
              metric(op, "rtcbill_journal_rows") == rows,
              "idem: a malformed key changed the state")
        # The longest key; a key is trimmed of trailing blanks.
        long_key = "L" * 255
        st, data, _ = keyed(op, long_key, topup("1.00"))
        check(st == 200 and json.loads(data)["accepted"] == 1,
              "idem: a 255-character key: %d" % st)
        out = du.raw_request(d.port, b"POST /v1/events HTTP/1.1\r\n" + hdr +
                             b"Idempotency-Key: " + long_key.encode() +
                             b"  \r\nContent-Length: %d\r\n"
                             b"Connection: close\r\n\r\n" %
                             len(topup("1.00")) + topup("1.00"))
        check(out.startswith(b"HTTP/1.1 200") and
              b"Idempotent-Replayed: true" in out,
              "idem: a key with trailing blanks: %r" % out[:200])
        check(balance(op) == b0 + D("11.00"), "idem: long key applied once")
        # The role check comes before the key: an ingest token replaying
        # the operator's top-up is refused, not answered.
        ing = d.client("ingest")
        st, data, _ = keyed(ing, "k-1", body)
        check(st == 403, "idem: ingest token with an operator key: %d" % st)
        st, u1, _ = keyed(ing, "u-batch", usage(1) + b"\n")
        st2, u2, _ = keyed(ing, "u-batch", usage(1) + b"\n")
        check(st == st2 == 200 and u1 == u2 and
              json.loads(u1)["accepted"] == 1,
              "idem: a keyed usage batch: %s %s" % (u1[:100], u2[:100]))
        ing.close()
        # POST /v1/clock takes a key as well.
        tick = b'{"now":"2020-10-07T08:00:00+08:00"}'
        st, c1, _ = keyed(op, "c-1", tick, "/v1/clock")
        st2, c2, h = keyed(op, "c-1", tick, "/v1/clock")
        check(st == st2 == 200 and c1 == c2 and
              h.get("Idempotent-Replayed") == "true",
              "idem: clock with a key: %s %s" % (c1, c2))
        # k-2 is applied a day and a half after k-1.
        body2 = topup("2.00", at="2020-10-08T09:00:00+08:00")
        st, second, _ = keyed(op, "k-2", body2)
        check(st == 200 and balance(op) == b0 + D("13.00"), "idem: k-2")
        op.close()
        check(d.stop() == 0, "idem: SIGTERM")
        v = subprocess.run([binary, "verify", "--db", d.db],
                           capture_output=True, text=True)
        check(v.returncode == 0, "idem: verify: %s" % v.stdout)
        # Keys survive a restart.
        d.start()
        op = d.client("operator")
        check(balance(op) == b0 + D("13.00"), "idem: restart balance")
        st, again, _ = keyed(op, "k-1", body)
        check(st == 200 and again == first,
              "idem: after a restart the stored answer: %d %s" %
              (st, again[:200]))
        st, _, _ = keyed(op, "k-1", topup("6.00"))
        check(st == 409, "idem: after a restart another body: %d" % st)
        check(balance(op) == b0 + D("13.00"),
              "idem: a retry after the restart applied again")
        # Retention: 48 hours of engine time. At 10-09 10:00, k-1 (10-06
        # 21:00) is gone and k-2 (10-08 09:00) is kept.
        op.json("POST", "/v1/clock", b'{"now":"2020-10-09T10:00:00+08:00"}')
        st, again, _ = keyed(op, "k-2", body2)
        check(st == 200 and again == second and
              balance(op) == b0 + D("13.00"),
              "idem: k-2 kept within the retention: %d" % st)
        st, data, h = keyed(op, "k-1", body)
        check(st == 200 and "Idempotent-Replayed" not in h and
              balance(op) == b0 + D("18.00"),
              "idem: k-1 expired, applied anew: %d %s %s" %
              (st, data[:100], balance(op)))
        op.close()
        check(d.stop() == 0, "idem: second SIGTERM")
        v = subprocess.run([binary, "verify", "--db", d.db],
                           capture_output=True, text=True)
        check(v.returncode == 0, "idem: verify at the end: %s" % v.stdout)
    finally:
        d.kill()
        shutil.rmtree(tmp, ignore_errors=True)


def wait_for(cond, what, timeout=10.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if cond():
            return True
        time.sleep(0.005)
    check(False, "timed out waiting for " + what)
    return False


def test_backpressure(binary):
    tmp = tempfile.mkdtemp(prefix="rtcbill-bp-")
    d = du.Daemon(binary, workdir=tmp,
                  extra={"max_pending_batches": 1,
                         "test_commit_delay_ms": 1500})
    d.start()
    D = decimal.Decimal
    results = {}

    def post(name, body, key=None):
        c = d.client("operator")
        try:
            h = {"Idempotency-Key": key} if key else None
            results[name] = c.request("POST", "/v1/events", body, headers=h)
        except Exception as e:  # noqa: BLE001
            results[name] = e
        c.close()

    def start(name, body, key=None):
        t = threading.Thread(target=post, args=(name, body, key))
        t.start()
        return t

    try:
        op = d.client("operator")
        op.json("POST", "/v1/events", ACCOUNT + b"\n" + APP + b"\n")
        b0 = balance(op)
        rows = metric(op, "rtcbill_journal_rows")
        # A is applied and its commit held; B waits behind it: the queue
        # (one batch) is full.
        ta = start("A", topup("1.00"))
        wait_for(lambda: balance(op) == b0 + D("1.00"), "A applied")
        tb = start("B", topup("2.00"))
        wait_for(lambda: op.json("GET", "/healthz")["pending"] == 1,
                 "B queued")
        # C (with a key) and D (without) are refused at once.
        c_body = topup("4.00")
        st, data, h = keyed(op, "bp-c", c_body)
        st2, data2, h2 = op.request("POST", "/v1/events", topup("8.00"))
        check("A" not in results and "B" not in results,
              "backpressure: the refusals came after the commits")
        for name, s_, dat, hd in (("keyed", st, data, h),
                                  ("unkeyed", st2, data2, h2)):
            check(s_ == 503 and hd.get("Retry-After") == "1",
                  "backpressure: %s: %d %s" % (name, s_, hd))
            try:
                err = json.loads(dat)
            except ValueError:
                err = {}
            check(err.get("error") == "busy" and "message" in err,
                  "backpressure: %s: JSON error %r" % (name, dat[:200]))
        check(balance(op) == b0 + D("3.00"),
              "backpressure: a refused batch changed the balance: %s" %
              balance(op))
        ta.join(30)
        tb.join(30)
        for name in ("A", "B"):
            r = results.get(name)
            check(not isinstance(r, Exception) and r is not None and
                  r[0] == 200 and json.loads(r[1])["accepted"] == 1,
                  "backpressure: %s answered: %s" % (name, r))
        check(metric(op, "rtcbill_journal_rows") == rows + 2,
              "backpressure: the journal holds A and B only")
        check(metric(op, "rtcbill_backpressure_total") == 2,
              "backpressure: refusals counted")
        # Later the refused batch goes through, under the same key.
        st, data, h = keyed(op, "bp-c", c_body)
        check(st == 200 and json.loads(data)["accepted"] == 1 and
              "Idempotent-Replayed" not in h and
              balance(op) == b0 + D("7.00"),
              "backpressure: the retry succeeds: %d %s" % (st, data[:200]))
        # A keyed batch posted again while its first copy waits for the
        # store: answered with the first one's answer, applied once.
        rows = metric(op, "rtcbill_journal_rows")
        e_body = topup("16.00")
        te = start("E", e_body, "bp-e")
        wait_for(lambda: balance(op) == b0 + D("23.00"), "E applied")
        t0 = time.time()
        tr = start("E2", e_body, "bp-e")
        st, data, _ = keyed(op, "bp-e", topup("32.00"))
        check(st == 409 and time.time() - t0 < 1.0,
              "backpressure: another body under a waiting key: %d" % st)
        te.join(30)
        tr.join(30)
        e1, e2 = results.get("E"), results.get("E2")
        check(not isinstance(e1, Exception) and not isinstance(e2, Exception)
              and e1[0] == e2[0] == 200 and e1[1] == e2[1] and
              e2[2].get("Idempotent-Replayed") == "true",
              "backpressure: a repeat while waiting: %s %s" % (e1, e2))
        check(balance(op) == b0 + D("23.00") and
              metric(op, "rtcbill_journal_rows") == rows + 1,
              "backpressure: the repeat applied again")
        op.close()
        check(d.stop() == 0, "backpressure: SIGTERM")
        v = subprocess.run([binary, "verify", "--db", d.db],
                           capture_output=True, text=True)
        check(v.returncode == 0, "backpressure: verify: %s" % v.stdout)
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
              test_idempotency, test_backpressure, test_shutdown):
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
