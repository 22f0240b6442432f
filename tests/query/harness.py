"""Shared process harness for the `paodin query` integration tests and the comparison benchmark.

Starts `paodin store`, `paodin query` and Prometheus 2.42 on 127.0.0.1 (free ports), makes TSDB
blocks with promtool from synthetic OpenMetrics data, and always stops what it started.
Python 3 standard library only.
"""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

PROMETHEUS = "/usr/bin/prometheus"
PROMTOOL = "/usr/bin/promtool"


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Proc:
    """A child process whose stderr goes to a log file."""

    def __init__(self, name, argv, log_path):
        self.name = name
        self.argv = argv
        self.log_path = log_path
        self.log = open(log_path, "wb")
        self.p = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT,
                                  stdin=subprocess.DEVNULL)

    def wait_log(self, pattern, timeout=60):
        """Waits for a log line matching `pattern` and returns the match."""
        deadline = time.monotonic() + timeout
        rx = re.compile(pattern)
        while time.monotonic() < deadline:
            with open(self.log_path, "r", errors="replace") as f:
                m = rx.search(f.read())
            if m:
                return m
            if self.p.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.p.returncode}:\n{self.tail()}")
            time.sleep(0.05)
        raise RuntimeError(f"{self.name}: no log line matching {pattern!r}:\n{self.tail()}")

    def alive(self):
        return self.p.poll() is None

    def tail(self, n=30):
        try:
            with open(self.log_path, "r", errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""

    def stop(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        self.log.close()


class Cluster:
    """Everything one test run starts; use as a context manager."""

    def __init__(self, paodin, keep=False):
        self.paodin = paodin
        self.dir = tempfile.mkdtemp(prefix="paodin_query_test_")
        self.procs = []
        self.keep = keep

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        for p in reversed(self.procs):
            p.stop()
        if not self.keep:
            shutil.rmtree(self.dir, ignore_errors=True)

    def path(self, name):
        return os.path.join(self.dir, name)

    def start(self, name, argv):
        p = Proc(name, argv, self.path(name + ".log"))
        self.procs.append(p)
        return p

    # --- data ---------------------------------------------------------------------------------

    def write_openmetrics(self, spec, path, extra_labels):
        """Writes the synthetic data of `spec` as OpenMetrics with `extra_labels` on every series
        (what a store adds as external labels)."""
        raw = path + ".raw"
        subprocess.run([self.paodin, "store", "--synthetic", spec,
                        "--synthetic.write-openmetrics", raw], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        add = ",".join(f'{k}="{v}"' for k, v in extra_labels.items())
        with open(raw, "r") as src, open(path, "w") as dst:
            for line in src:
                if line.startswith("#") or not add:
                    dst.write(line)
                    continue
                brace = line.find("{")
                space = line.find(" ")
                if brace != -1 and brace < space:
                    close = line.find("}", brace)
                    inner = line[brace + 1:close]
                    sep = "," if inner else ""
                    dst.write(line[:brace + 1] + add + sep + line[brace + 1:])
                else:
                    dst.write(line[:space] + "{" + add + "}" + line[space:])
        os.remove(raw)

    def make_blocks(self, openmetrics_files, tsdb_dir):
        os.makedirs(tsdb_dir, exist_ok=True)
        for f in openmetrics_files:
            subprocess.run([PROMTOOL, "tsdb", "create-blocks-from", "openmetrics",
                            f, tsdb_dir], check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    # --- processes ----------------------------------------------------------------------------

    def start_prometheus(self, tsdb_dir, extra=()):
        port = free_port()
        cfg = self.path("prometheus.yml")
        with open(cfg, "w") as f:
            f.write("global:\n  scrape_interval: 15s\nscrape_configs: []\n")
        p = self.start("prometheus", [
            PROMETHEUS, f"--config.file={cfg}", f"--storage.tsdb.path={tsdb_dir}",
            f"--web.listen-address=127.0.0.1:{port}", "--storage.tsdb.retention.time=100y",
            "--log.level=warn", *extra])
        url = f"http://127.0.0.1:{port}"
        wait_ready(url, p)
        return url, p

    def start_store(self, name, spec, labels, extra=()):
        argv = [self.paodin, "store", "--synthetic", spec, "--grpc-address", "127.0.0.1:0",
                "--http-address", "127.0.0.1:0"]
        for k, v in labels.items():
            argv += ["--label", f'{k}="{v}"']
        p = self.start(name, argv + list(extra))
        m = p.wait_log(r'msg="serving StoreAPI" grpc_address=(\S+)')
        return m.group(1), p

    def start_query(self, name, stores, extra=()):
        argv = [self.paodin, "query", "--http-address", "127.0.0.1:0", "--grpc-address",
                "127.0.0.1:0"]
        for s in stores:
            argv += ["--store", s]
        p = self.start(name, argv + list(extra))
        m = p.wait_log(r"msg=started http_port=(\d+) grpc_address=(\S+)")
        url = f"http://127.0.0.1:{m.group(1)}"
        wait_ready(url, p)
        return url, m.group(2), p


def wait_ready(url, proc, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not proc.alive():
            raise RuntimeError(f"{proc.name} exited:\n{proc.tail()}")
        try:
            with urllib.request.urlopen(url + "/-/ready", timeout=2) as r:
                if r.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{proc.name} not ready at {url}:\n{proc.tail()}")


def http(method, url, params=None, body=None, headers=None, timeout=60, raw_body=None):
    """Returns (status, headers, body bytes); never raises on HTTP errors."""
    if params:
        url += ("&" if "?" in url else "?") + urllib.parse.urlencode(params, doseq=True)
    data = None
    hdrs = dict(headers or {})
    if raw_body is not None:
        body = raw_body
    if body is not None:
        data = body if isinstance(body, bytes) else urllib.parse.urlencode(body, doseq=True).encode()
        hdrs.setdefault("Content-Type", "application/x-www-form-urlencoded")
    req = urllib.request.Request(url, data=data, method=method, headers=hdrs)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def get_json(method, url, params=None, body=None):
    status, _, data = http(method, url, params, body)
    try:
        return status, json.loads(data)
    except ValueError:
        return status, {"_raw": data.decode(errors="replace")}


def peak_rss_kb(pid):
    """VmHWM of a running process, in kB."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0
