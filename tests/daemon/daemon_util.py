"""daemon_util.py: helpers shared by the daemon's end-to-end tests.

Starts `rtcbill serve` on a free loopback port (the daemon writes the
port it bound to a file) with a temporary store and configuration, talks
HTTP/1.1 to it over keep-alive connections (http.client) or raw sockets,
and reads event files with their effective times, sorted the way
`rtcbill simulate` sorts them. Network traffic goes to 127.0.0.1 only.
Depends on: Python 3 standard library, an rtcbill binary.
"""
import datetime
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import tempfile
import time

TOKENS = {
    "read": "read-token-0123456789abcdef",
    "ingest": "ingest-token-0123456789abcdef",
    "operator": "operator-token-0123456789abcdef",
}

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))

_TIME = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.0+)?"
    r"([Zz]|[+-]\d{2}:\d{2})$")


def parse_time(s):
    """RFC 3339 text to epoch seconds, or None."""
    if not isinstance(s, str):
        return None
    m = _TIME.match(s)
    if not m:
        return None
    try:
        y, mo, d, h, mi, se = (int(m.group(i)) for i in range(1, 7))
        off = m.group(8)
        secs = 0
        if off not in ("Z", "z"):
            secs = (int(off[1:3]) * 3600 + int(off[4:6]) * 60) * \
                (1 if off[0] == "+" else -1)
        t = datetime.datetime(y, mo, d, h, mi, se,
                              tzinfo=datetime.timezone.utc)
        return int(t.timestamp()) - secs
    except ValueError:
        return None


def effective_time(line):
    """SPEC 1.9: usage takes effect at max(start + seconds, received),
    other events at `at`. None when the line cannot tell (it will be
    rejected by both sides; such lines go last)."""
    try:
        ev = json.loads(line)
    except ValueError:
        return None
    if not isinstance(ev, dict):
        return None
    if ev.get("type") == "usage":
        start = parse_time(ev.get("start"))
        secs = ev.get("seconds")
        if start is None or not isinstance(secs, int):
            return None
        at = start + secs
        rec = parse_time(ev.get("received"))
        return max(at, rec) if rec is not None else at
    return parse_time(ev.get("at"))


def sorted_lines(files):
    """Every non-blank line of the files in simulate's order: effective
    time, then file, then line."""
    out = []
    for fi, path in enumerate(files):
        with open(path, "rb") as f:
            for li, raw in enumerate(f.read().split(b"\n"), 1):
                line = raw.rstrip(b"\r")
                if not line.strip():
                    continue
                text = line.decode("utf-8", "replace")
                at = effective_time(text)
                key = (0 if at is not None else 1, at or 0, fi, li)
                out.append((key, line))
    out.sort(key=lambda x: x[0])
    return [line for _, line in out]


class Daemon:
    """One `rtcbill serve` process with its own folder."""

    def __init__(self, binary, rules=None, clock="test", extra=None,
                 workdir=None, db=None):
        self.binary = binary
        self.dir = workdir or tempfile.mkdtemp(prefix="rtcbill-daemon-")
        os.makedirs(self.dir, exist_ok=True)
        self.db = db or os.path.join(self.dir, "store.db")
        self.rules = rules or os.path.join(REPO, "rules")
        self.conf = os.path.join(self.dir, "rtcbill.conf")
        self.port_file = os.path.join(self.dir, "port")
        self.log_path = os.path.join(self.dir, "serve.log")
        with open(self.conf, "w") as f:
            for role, tok in TOKENS.items():
                f.write("token.%s = %s\n" % (role, tok))
            f.write('clock = "%s"\n' % clock)
            f.write("watch_rules = false\n")
            for k, v in (extra or {}).items():
                f.write("%s = %s\n" % (k, v))
        self.proc = None
        self.port = None

    def start(self, timeout=20.0):
        if os.path.exists(self.port_file):
            os.unlink(self.port_file)
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [self.binary, "serve", "--config", self.conf, "--db", self.db,
             "--rules", self.rules, "--listen", "127.0.0.1:0",
             "--port-file", self.port_file],
            stdout=self.log, stderr=self.log, stdin=subprocess.DEVNULL)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("daemon exited with %s:\n%s" %
                                   (self.proc.returncode, self.log_text()))
            try:
                with open(self.port_file) as f:
                    txt = f.read().strip()
                if txt:
                    self.port = int(txt)
                    return self
            except (OSError, ValueError):
                pass
            time.sleep(0.01)
        self.kill()
        raise RuntimeError("daemon did not start:\n" + self.log_text())

    def log_text(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def stop(self, sig=signal.SIGTERM, timeout=30.0):
        """Sends sig and returns the exit status."""
        if self.proc is None:
            return None
        self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
            raise RuntimeError("daemon did not stop on signal %d" % sig)
        finally:
            self.log.close()
        self.proc = None
        return rc

    def kill(self):
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.log.close()
            self.proc = None

    def client(self, role="operator"):
        return Client(self.port, TOKENS.get(role, role) if role else None)


class Client:
    """A keep-alive HTTP/1.1 connection with a bearer token."""

    def __init__(self, port, token, timeout=60):
        self.port = port
        self.token = token
        self.timeout = timeout
        self.conn = None

    def request(self, method, path, body=None, headers=None):
        h = {"Accept": "application/json"}
        if self.token:
            h["Authorization"] = "Bearer " + self.token
        if headers:
            h.update(headers)
        for attempt in range(2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(
                    "127.0.0.1", self.port, timeout=self.timeout)
            try:
                self.conn.request(method, path, body=body, headers=h)
                r = self.conn.getresponse()
                data = r.read()
                if r.getheader("Connection", "").lower() == "close":
                    self.close()
                return r.status, data, dict(r.getheaders())
            except (http.client.RemoteDisconnected, BrokenPipeError,
                    ConnectionResetError):
                # A keep-alive connection the server closed while idle.
                self.close()
                if attempt == 1 or method == "POST":
                    raise
        raise RuntimeError("unreachable")

    def json(self, method, path, body=None, expect=200):
        status, data, _ = self.request(method, path, body)
        if status != expect:
            raise AssertionError("%s %s: %d, wanted %d: %s" %
                                 (method, path, status, expect, data[:500]))
        return json.loads(data)

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def raw_request(port, data, timeout=5.0, shut=True):
    """Sends bytes on a new connection; returns everything the server
    sent until it closed the connection (or the timeout)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        s.sendall(data)
        if shut:
            s.shutdown(socket.SHUT_WR)
        out = b""
        while True:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            if not chunk:
                break
            out += chunk
        return out
    finally:
        s.close()


def all_notices(client):
    out, after = [], 0
    while True:
        page = client.json("GET", "/v1/notices?after=%d&limit=1000" % after)
        out.extend(n["notice"] for n in page["notices"])
        after = page["next"]
        if not page["more"]:
            return out


def read_jsonl(path):
    out = []
    if not os.path.exists(path):
        return out
    with open(path, "rb") as f:
        for line in f:
            if line.strip():
                out.append(json.loads(line))
    return out
