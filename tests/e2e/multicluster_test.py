#!/usr/bin/env python3
"""End-to-end: real Prometheus 2.42 servers, one `paodin sidecar` each, `paodin query` over them.

All on 127.0.0.1 with free ports. Four Prometheus servers: cluster "host", cluster "member",
and an HA pair of cluster "ha" (replica "a" and "b"). Each scrapes real targets (every
Prometheus, every sidecar and the first query) once a second and also holds the same kind of
promtool-made block, with data that differs per cluster, for deterministic comparisons.

Checks:
  1. up{cluster=~"host|member"} and aggregations across clusters see every cluster;
  2. for a set of queries, the answer through the query for cluster="X" equals what Prometheus X
     answers directly (labels aside from cluster), instant and range;
  3. the HA pair gives one deduplicated series per target (two with dedup=false);
  4. stopping the member Prometheus: the query answers 200 for the rest; a query holding the
     member's sidecar as a strict endpoint (so it stays selected, as Thanos does) answers with a
     partial-response warning, and with an error under partial_response=false; restarting the
     Prometheus brings the member back without restarting anything else;
  5. a second query stacked on the first (--store=<first query's gRPC>) gives the same answers.

Python 3 standard library only; every process started is stopped, also on failure.
Usage: multicluster_test.py --paodin <path to the paodin binary> [--keep]
"""

import argparse
import json
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

PROMETHEUS = "/usr/bin/prometheus"
PROMTOOL = "/usr/bin/promtool"
STEP = 15  # seconds between block samples
POINTS = 240  # one hour of block data


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Proc:
    """A child process with its output in a log file."""

    def __init__(self, name, argv, log_path):
        self.name, self.argv, self.log_path = name, argv, log_path
        self.log = open(log_path, "ab")
        self.p = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT,
                                  stdin=subprocess.DEVNULL)

    def alive(self):
        return self.p.poll() is None

    def tail(self, n=25):
        try:
            with open(self.log_path, "r", errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""

    def stop(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        self.log.close()


def http_get(url, params=None, timeout=30):
    """(status, parsed JSON or raw text); never raises on HTTP errors."""
    if params:
        url += "?" + urllib.parse.urlencode(params, doseq=True)
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            status, body = r.status, r.read()
    except urllib.error.HTTPError as e:
        status, body = e.code, e.read()
    except (urllib.error.URLError, OSError) as e:
        return 0, str(e)
    try:
        return status, json.loads(body)
    except ValueError:
        return status, body.decode(errors="replace")


def eventually(what, fn, timeout=60, interval=0.5):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            ok, last = fn()
            if ok:
                return last
        except Exception as e:  # keep polling; report the last state
            last = repr(e)
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what}; last: {str(last)[:2000]}")


class Failures:
    def __init__(self):
        self.items = []
        self.checks = 0

    def check(self, cond, msg):
        self.checks += 1
        if not cond:
            self.items.append(msg)
            print("FAIL:", msg, flush=True)


def write_openmetrics(path, t0, factor, offset):
    """One hour of data: 4 gauges and 8 counters (one with a reset), scaled per cluster."""
    with open(path, "w") as f:
        f.write("# TYPE e2e_gauge gauge\n")
        for k in range(4):
            for i in range(POINTS):
                v = factor * ((k + 1) * 10 + (i * 7 + k) % 13) + offset
                f.write(f'e2e_gauge{{instance="i{k}",job="app"}} {v} {t0 + STEP * i}\n')
        f.write("# TYPE e2e_requests counter\n")
        for k in range(4):
            for code in ("200", "500"):
                total = 0.0
                for i in range(POINTS):
                    if k == 2 and code == "200" and i == POINTS // 2:
                        total = 0.0  # a counter reset
                    total += factor * (k + 1) * (1 if code == "200" else 0.25) + (i % 3)
                    f.write(f'e2e_requests_total{{code="{code}",instance="i{k}",job="app"}} '
                            f"{total} {t0 + STEP * i}\n")
        f.write("# EOF\n")


class Setup:
    def __init__(self, paodin, keep):
        self.paodin = paodin
        self.keep = keep
        self.dir = tempfile.mkdtemp(prefix="paodin_e2e_")
        self.procs = []
        now = int(time.time())
        self.t0 = (now - 3 * 3600) // 60 * 60
        # name -> (external labels, data factor, offset)
        self.proms = {
            "host": ({"cluster": "host"}, 1, 0),
            "member": ({"cluster": "member"}, 2, 1),
            "ha_a": ({"cluster": "ha", "replica": "a"}, 3, 0),
            "ha_b": ({"cluster": "ha", "replica": "b"}, 3, 0),
        }
        self.prom_port = {n: free_port() for n in self.proms}
        self.sidecar_grpc = {n: free_port() for n in self.proms}
        self.sidecar_http = {n: free_port() for n in self.proms}
        self.q1_http, self.q1_grpc = free_port(), free_port()
        self.prom_proc = {}

    def log(self, name):
        return os.path.join(self.dir, name + ".log")

    def start(self, name, argv):
        p = Proc(name, argv, self.log(name))
        self.procs.append(p)
        return p

    def make_blocks(self):
        for name, (_, factor, offset) in self.proms.items():
            om = os.path.join(self.dir, name + ".om")
            write_openmetrics(om, self.t0, factor, offset)
            tsdb = os.path.join(self.dir, name + "-tsdb")
            subprocess.run([PROMTOOL, "tsdb", "create-blocks-from", "openmetrics", "-q", om, tsdb],
                           check=True, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)

    def write_config(self, name):
        external, _, _ = self.proms[name]
        targets = {
            "prometheus": [f"127.0.0.1:{p}" for p in self.prom_port.values()],
            "sidecar": [f"127.0.0.1:{p}" for p in self.sidecar_http.values()],
            "query": [f"127.0.0.1:{self.q1_http}"],
        }
        lines = ["global:", "  scrape_interval: 1s", "  scrape_timeout: 1s",
                 "  external_labels:"]
        lines += [f"    {k}: {v}" for k, v in external.items()]
        lines.append("scrape_configs:")
        for job, ts in targets.items():
            lines += [f"  - job_name: {job}", "    static_configs:",
                      "      - targets: [" + ", ".join(f'"{t}"' for t in ts) + "]"]
        path = os.path.join(self.dir, name + ".yml")
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")
        return path

    def start_prometheus(self, name):
        cfg = os.path.join(self.dir, name + ".yml")
        if not os.path.exists(cfg):
            cfg = self.write_config(name)
        p = self.start("prometheus-" + name, [
            PROMETHEUS, f"--config.file={cfg}",
            f"--storage.tsdb.path={os.path.join(self.dir, name + '-tsdb')}",
            f"--web.listen-address=127.0.0.1:{self.prom_port[name]}",
            "--storage.tsdb.retention.time=100y", "--log.level=warn"])
        self.prom_proc[name] = p
        url = f"http://127.0.0.1:{self.prom_port[name]}"
        eventually(f"Prometheus {name} ready",
                   lambda: (p.alive() and http_get(url + "/-/ready")[0] == 200, p.tail()), 90)
        return p

    def start_sidecar(self, name):
        p = self.start("sidecar-" + name, [
            self.paodin, "sidecar", f"--prometheus.url=http://127.0.0.1:{self.prom_port[name]}",
            f"--grpc-address=127.0.0.1:{self.sidecar_grpc[name]}",
            f"--http-address=127.0.0.1:{self.sidecar_http[name]}",
            "--prometheus.get_config_interval=1s"])
        eventually(f"sidecar {name} serving",
                   lambda: (p.alive() and http_get(
                       f"http://127.0.0.1:{self.sidecar_http[name]}/-/ready")[0] == 200,
                            p.tail()), 60)
        return p

    def start_query(self, name, http_port, grpc_port, stores, extra=()):
        argv = [self.paodin, "query", f"--http-address=127.0.0.1:{http_port}",
                f"--grpc-address=127.0.0.1:{grpc_port}", "--query.replica-label=replica"]
        argv += [f"--store={s}" for s in stores] + list(extra)
        p = self.start(name, argv)
        url = f"http://127.0.0.1:{http_port}"
        eventually(f"{name} ready",
                   lambda: (p.alive() and http_get(url + "/-/ready")[0] == 200, p.tail()), 60)
        return url

    def close(self, failed):
        for p in reversed(self.procs):
            p.stop()
        if failed or self.keep:
            print(f"logs and data kept in {self.dir}", flush=True)
            for p in self.procs:
                print(f"--- {p.name} (last lines)\n{p.tail(8)}", flush=True)
        else:
            shutil.rmtree(self.dir, ignore_errors=True)


def query(url, q, t=None, extra=None):
    params = {"query": q}
    if t is not None:
        params["time"] = str(t)
    params.update(extra or {})
    return http_get(url + "/api/v1/query", params)


def query_range(url, q, start, end, step, extra=None):
    params = {"query": q, "start": str(start), "end": str(end), "step": str(step)}
    params.update(extra or {})
    return http_get(url + "/api/v1/query_range", params)


def canon(body, drop=("cluster",)):
    """A result as {label tuple: values} with the given labels removed."""
    data = body["data"]
    rt, result = data["resultType"], data["result"]
    if rt == "scalar":
        return {(): [(result[0], float(result[1]))]}
    out = {}
    for s in result:
        key = tuple(sorted((k, v) for k, v in s["metric"].items() if k not in drop))
        if "value" in s:
            vals = [(s["value"][0], float(s["value"][1]))]
        else:
            vals = [(t, float(v)) for t, v in s["values"]]
        out[key] = vals
    return out


def same(a, b):
    if a.keys() != b.keys():
        return False
    for k in a:
        if len(a[k]) != len(b[k]):
            return False
        for (ta, va), (tb, vb) in zip(a[k], b[k]):
            if ta != tb:
                return False
            if math.isnan(va) and math.isnan(vb):
                continue
            if va != vb and abs(va - vb) > 1e-9 * max(abs(va), abs(vb)):
                return False
    return True


QUERIES = [
    "e2e_gauge{SEL}",
    "rate(e2e_requests_total{SEL}[5m])",
    "sum by (code) (rate(e2e_requests_total{SEL}[5m]))",
    "max_over_time(e2e_gauge{SEL}[10m])",
    "avg(e2e_gauge{SEL})",
    "e2e_gauge{SEL} > 25",
    "increase(e2e_requests_total{SEL,code=\"200\"}[15m])",
    "count by (job) (e2e_requests_total{SEL})",
]


def sel(q, selector):
    q = q.replace("{SEL,", "{" + selector + "," if selector else "{")
    return q.replace("{SEL}", "{" + selector + "}" if selector else "")


def run(args):
    f = Failures()
    s = Setup(args.paodin, args.keep)
    failed = True
    try:
        s.make_blocks()
        for name in s.proms:
            s.start_prometheus(name)
        for name in s.proms:
            s.start_sidecar(name)
        stores = [f"127.0.0.1:{s.sidecar_grpc[n]}" for n in s.proms]
        q1 = s.start_query("query1", s.q1_http, s.q1_grpc, stores)
        q2 = s.start_query("query2", free_port(), free_port(), [f"127.0.0.1:{s.q1_grpc}"])
        # The member's sidecar as a strict endpoint: kept selected while it fails.
        q3 = s.start_query("query3", free_port(), free_port(),
                           [f"127.0.0.1:{s.sidecar_grpc['host']}"],
                           [f"--endpoint-strict=127.0.0.1:{s.sidecar_grpc['member']}"])
        prom = {n: f"http://127.0.0.1:{p}" for n, p in s.prom_port.items()}

        # 1. Every cluster through the query.
        def clusters_up():
            st, body = query(q1, 'count by (cluster) (up{cluster=~"host|member"})')
            got = sorted(r["metric"].get("cluster") for r in body["data"]["result"])
            return st == 200 and got == ["host", "member"], body
        eventually("up from host and member", clusters_up, 90)
        st, body = query(q1, "sum by (cluster) (e2e_gauge)", s.t0 + 1800)
        f.check(st == 200 and sorted(r["metric"]["cluster"] for r in body["data"]["result"]) ==
                ["ha", "host", "member"], f"sum by (cluster) across clusters: {body}")
        st, body = query(q1, 'up{cluster=~"host|member"}')
        f.check(st == 200 and {r["metric"]["cluster"] for r in body["data"]["result"]} ==
                {"host", "member"}, f"up over both clusters: {str(body)[:500]}")

        # Scraped data is compared at a settled moment in the past at which every Prometheus
        # has scraped every target.
        targets = len(s.prom_port) + len(s.sidecar_http) + 1

        def scraped_everywhere():
            t = int(time.time()) - 5
            counts = [query(u, "count(up)", t)[1] for u in prom.values()]
            ok = all(c["data"]["result"] and c["data"]["result"][0]["value"][1] == str(targets)
                     for c in counts)
            return ok, (t, counts)
        t_past = eventually("every target scraped by every Prometheus", scraped_everywhere, 90)[0]

        # 2. Through the query for cluster="X" equals Prometheus X directly.
        t_eval = s.t0 + 3000
        for name in ("host", "member"):
            for q in QUERIES:
                via = sel(q, f'cluster="{name}"')
                direct = sel(q, "")
                st1, b1 = query(q1, via, t_eval)
                st2, b2 = query(prom[name], direct, t_eval)
                f.check(st1 == 200 and st2 == 200 and same(canon(b1), canon(b2)),
                        f"instant {via} vs {name} {direct}: {str(b1)[:300]} / {str(b2)[:300]}")
                st1, b1 = query_range(q1, via, s.t0 + 600, s.t0 + 3300, 60)
                st2, b2 = query_range(prom[name], direct, s.t0 + 600, s.t0 + 3300, 60)
                f.check(st1 == 200 and st2 == 200 and canon(b1) and same(canon(b1), canon(b2)),
                        f"range {via} vs {name} {direct}: {str(b1)[:300]} / {str(b2)[:300]}")
            for q in ("up{SEL}", "prometheus_tsdb_head_series{SEL}", "sum by (job) (up{SEL})"):
                via, direct = sel(q, f'cluster="{name}"'), sel(q, "")
                st1, b1 = query(q1, via, t_past)
                st2, b2 = query(prom[name], direct, t_past)
                f.check(st1 == 200 and st2 == 200 and canon(b1) and same(canon(b1), canon(b2)),
                        f"scraped {via} vs {name}: {str(b1)[:300]} / {str(b2)[:300]}")

        # 3. The HA pair: one series per target after dedup, both replicas without.
        st, body = query(q1, 'up{cluster="ha"}', t_past)
        series = body["data"]["result"] if st == 200 else []
        f.check(len(series) == targets and all("replica" not in r["metric"] for r in series),
                f"ha dedup: want {targets} series without replica, got {str(body)[:500]}")
        st, body = query(q1, 'up{cluster="ha"}', t_past, {"dedup": "false"})
        replicas = sorted(r["metric"].get("replica") for r in body["data"]["result"])
        f.check(st == 200 and replicas == ["a"] * targets + ["b"] * targets,
                f"ha without dedup: {replicas}")
        st1, b1 = query(q1, 'e2e_gauge{cluster="ha"}', t_eval)
        st2, b2 = query(prom["ha_a"], "e2e_gauge", t_eval)
        f.check(st1 == 200 and same(canon(b1), canon(b2)), f"ha block data deduplicated: {b1}")

        # 5. A query stacked on the first answers the same.
        for q in QUERIES + ["sum by (cluster) (e2e_gauge)", 'count by (cluster, job) (up)']:
            qq = sel(q, 'cluster=~"host|member|ha"')
            t = t_eval if "e2e" in q else t_past
            st1, b1 = query(q1, qq, t)
            st2, b2 = query(q2, qq, t)
            f.check(st1 == 200 and st2 == 200 and
                    same(canon(b1, drop=()), canon(b2, drop=())),
                    f"stacked {qq}: {str(b1)[:300]} / {str(b2)[:300]}")
        st1, b1 = query_range(q1, "sum by (cluster) (rate(e2e_requests_total[5m]))",
                              s.t0 + 600, s.t0 + 3300, 60)
        st2, b2 = query_range(q2, "sum by (cluster) (rate(e2e_requests_total[5m]))",
                              s.t0 + 600, s.t0 + 3300, 60)
        f.check(st1 == 200 and st2 == 200 and same(canon(b1, ()), canon(b2, ())),
                "stacked range query")

        # How much each sidecar held back to keep its output sorted (see relabel.h): with clean
        # data a series waits only for the next one.
        for name, port in s.sidecar_http.items():
            st, text = http_get(f"http://127.0.0.1:{port}/metrics")
            held = [l for l in str(text).splitlines()
                    if l.startswith("paodin_sidecar_max_held_series ")]
            reads = [l for l in str(text).splitlines()
                     if l.startswith("paodin_sidecar_remote_reads ")]
            print(f"sidecar {name}: {held} {reads}", flush=True)
            f.check(st == 200 and held and float(held[0].split()[1]) <= 2,
                    f"sidecar {name} held back at most 2 series at once: {held}")

        # 4. Stop the member's Prometheus.
        s.prom_proc["member"].stop()

        def partial_warning():
            st, body = query(q3, "up", None, {"partial_response": "true"})
            return st == 200 and bool(body.get("warnings")), body
        body = eventually("partial-response warning from the strict endpoint", partial_warning, 30)
        f.check({r["metric"]["cluster"] for r in body["data"]["result"]} == {"host"},
                f"partial answer holds the host: {str(body)[:300]}")
        st, body = query(q3, "up", None, {"partial_response": "false"})
        f.check(st != 200 and isinstance(body, dict) and body.get("status") == "error",
                f"partial_response=false fails: {st} {str(body)[:300]}")

        def member_gone():
            st, body = query(q1, 'up{cluster=~"host|member"}')
            return (st == 200 and
                    {r["metric"]["cluster"] for r in body["data"]["result"]} == {"host"}), body
        eventually("query answers without the member", member_gone, 30)

        # Restart it: everything comes back without restarting anything else.
        s.start_prometheus("member")
        eventually("member back through the query", clusters_up, 90)

        def strict_recovered():
            st, body = query(q3, 'up{cluster="member"}', None, {"partial_response": "false"})
            return st == 200 and not body.get("warnings") and len(body["data"]["result"]) > 0, body
        eventually("strict endpoint recovered", strict_recovered, 60)
        st1, b1 = query(q1, 'e2e_gauge{cluster="member"}', t_eval)
        st2, b2 = query(prom["member"], "e2e_gauge", t_eval)
        f.check(st1 == 200 and same(canon(b1), canon(b2)), "member data after restart")
        failed = bool(f.items)
    finally:
        s.close(failed)
    print(f"{f.checks} checks, {len(f.items)} failed", flush=True)
    return 1 if f.items else 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--paodin", required=True)
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    for tool in (PROMETHEUS, PROMTOOL):
        if not os.access(tool, os.X_OK):
            print(f"skipping: {tool} not found")
            return 0
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
