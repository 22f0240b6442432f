#!/usr/bin/env python3
"""`paodin query` against real clients and Prometheus 2.42 holding the same data.

Starts two `paodin store`s (cluster="host", cluster="member") with synthetic data and, from the
same data written as OpenMetrics and backfilled with promtool, a Prometheus 2.42. Then:
  - q1: a query over the two stores;
  - q2: a query over the two stores plus a replica of "host" (replica="1"), deduplicated by
    `replica`;
  - q3: a query whose only store is q2's gRPC StoreAPI (stacked queries).
and checks:
  - `promtool query instant|range|series|labels` prints the same against q1, q2, q3 and Prometheus;
  - the call sequence of Grafana's Prometheus data source gets the same JSON from q1 as from
    Prometheus (query, query_range, series, labels, label values; buildinfo and flags in shape);
  - bad input (malformed parameters, huge or binary queries, unknown paths and methods, a client
    that closes its connection mid-query) gets clear errors and crashes nothing.

Usage: query_compat_test.py PAODIN_BINARY [--keep]
"""

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

START = 1700000000
DURATION = 7200
END = START + DURATION
SPEC = "series={series},duration=2h,interval=15s,seed={seed},start=%d,gaps=0.01" % START
SERIES = 400

QUERIES = [
    "up",
    "sum by (cluster) (rate(http_requests_total[5m]))",
    "histogram_quantile(0.9, sum by (cluster, le) (rate(http_request_duration_seconds_bucket[5m])))",
    "topk(3, sum by (job) (rate(process_cpu_seconds_total[5m])))",
    "avg_over_time(app_queue_length{namespace=\"ns-1\"}[10m])",
    "rate(process_cpu_seconds_total[5m]) * on (cluster, namespace, job, pod, instance) group_left up",
    "count by (cluster, namespace) (up == 1)",
    "sum by (code) (increase(http_requests_total[10m]))",
    "max_over_time(process_resident_memory_bytes{job=\"api\"}[15m])",
    "quantile_over_time(0.5, app_queue_length{queue=\"q1\"}[30m])",
    "absent(nonexistent_metric)",
    "1 + 1",
]


class Checker:
    def __init__(self):
        self.failures = []
        self.passed = 0

    def check(self, ok, what, detail=""):
        if ok:
            self.passed += 1
        else:
            self.failures.append(f"{what}\n    {detail}" if detail else what)
            print(f"FAIL: {what}\n    {detail[:2000]}", flush=True)

    def equal(self, got, want, what):
        self.check(got == want, what, f"got:  {short(got)}\n    want: {short(want)}")


def short(x):
    s = x if isinstance(x, str) else json.dumps(x, sort_keys=True)
    return s if len(s) < 1500 else s[:1500] + f"... ({len(s)} chars)"


def promtool(*args):
    r = subprocess.run([harness.PROMTOOL, "query", *args], capture_output=True, text=True,
                       timeout=60)
    return r.returncode, r.stdout, r.stderr


def promtool_cases():
    t = START + 3600
    cases = []
    for q in QUERIES:
        cases.append(("instant", q, lambda url, q=q: promtool("instant", f"--time={t}", url, q)))
        cases.append(("instant json", q,
                      lambda url, q=q: promtool("-o", "json", "instant", f"--time={t}", url, q)))
    for q in QUERIES[:8]:
        cases.append(("range", q, lambda url, q=q: promtool(
            "range", f"--start={START + 600}", f"--end={END}", "--step=60s", url, q)))
    for m in ['up{job="api"}', '{__name__=~"process_.*", namespace="ns-2"}']:
        cases.append(("series", m, lambda url, m=m: promtool(
            "series", f"--match={m}", f"--start={START}", f"--end={END}", url)))
    for name in ["__name__", "job", "cluster", "le"]:
        cases.append(("labels", name, lambda url, n=name: promtool(
            "labels", f"--start={START}", f"--end={END}", url, n)))
    cases.append(("labels --match", "pod", lambda url: promtool(
        "labels", f"--start={START}", f"--end={END}", "--match=up{namespace=\"ns-3\"}", url,
        "pod")))
    return cases


def unordered(kind, query, out):
    """An instant vector's order is only defined under sort, sort_desc, topk and bottomk;
    elsewhere Prometheus 2.42 emits some aggregations and functions (histogram_quantile, for
    one) in Go map order, which changes from run to run. Sorts such outputs."""
    if not kind.startswith("instant") or re.search(r"\b(sort|sort_desc|topk|bottomk)\(", query):
        return out
    code, text = out[0], out[1]
    if kind == "instant json":
        try:
            doc = json.loads(text)
        except ValueError:
            return out
        if isinstance(doc, list) and all(isinstance(s, dict) for s in doc):
            doc.sort(key=lambda s: json.dumps(s.get("metric", {}), sort_keys=True))
            return (code, json.dumps(doc, sort_keys=True))
        return out
    return (code, "\n".join(sorted(text.splitlines())))


def test_promtool(c, prom, queries):
    for kind, arg, run in promtool_cases():
        want = run(prom)
        c.check(want[0] == 0, f"promtool {kind} {arg!r} against Prometheus", want[2])
        want = unordered(kind, arg, want[:2])
        for name, url in queries:
            got = unordered(kind, arg, run(url)[:2])
            c.equal(got, want, f"promtool {kind} {arg!r}: {name} vs Prometheus")


def grafana_sequence(url):
    """The calls Grafana's Prometheus data source makes, with the custom query parameters a
    Thanos setup adds to every URL (dedup=true). Returns [(name, status, json)]."""
    s, e = START, END
    extra = "?dedup=true&partial_response=true"
    calls = [
        ("health check", "POST", "/api/v1/query", None, {"query": "1+1", "time": "4"}),
        ("health check GET", "GET", "/api/v1/query", {"query": "1+1", "time": "4"}, None),
        ("metric names", "GET", "/api/v1/label/__name__/values" + extra,
         {"start": s, "end": e, "limit": 40000}, None),
        ("label keys", "GET", "/api/v1/labels" + extra, {"start": s, "end": e, "limit": 40000},
         None),
        ("label keys POST match", "POST", "/api/v1/labels" + extra, None,
         {"start": s, "end": e, "limit": 40000, "match[]": 'http_requests_total{job="api"}'}),
        ("label values match", "GET", "/api/v1/label/job/values" + extra,
         {"start": s, "end": e, "limit": 40000, "match[]": 'up{namespace="ns-1"}'}, None),
        ("label values two matches", "GET", "/api/v1/label/code/values",
         {"start": s, "end": e, "limit": 40000,
          "match[]": ['http_requests_total{method="GET"}', 'http_requests_total{job="auth"}']},
         None),
        ("series api", "POST", "/api/v1/series" + extra, None,
         {"start": s, "end": e, "limit": 40000, "match[]": '{__name__="up",namespace!=""}'}),
        ("series variable", "GET", "/api/v1/series",
         {"start": s, "end": e, "match[]": 'process_cpu_seconds_total{job="search"}'}, None),
        ("metadata", "GET", "/api/v1/metadata", None, None),
        ("query_range rate", "POST", "/api/v1/query_range" + extra, None,
         {"query": "sum by (cluster, job) (rate(http_requests_total[1m0s]))",
          "start": s + 900, "end": e, "step": "30"}),
        ("query_range histogram", "POST", "/api/v1/query_range" + extra, None,
         {"query": "histogram_quantile(0.95, sum by (le) "
                   "(rate(http_request_duration_seconds_bucket[2m30s])))",
          "start": s + 600, "end": e - 600, "step": "15"}),
        ("query_range raw", "POST", "/api/v1/query_range" + extra, None,
         {"query": 'app_queue_length{job="cache"}', "start": s, "end": e, "step": "60",
          "timeout": "60s"}),
        ("instant at dashboard end", "POST", "/api/v1/query" + extra, None,
         {"query": "sum by (namespace) (process_resident_memory_bytes)",
          "time": f"{e - 100}.123"}),
        ("instant variable query_result", "GET", "/api/v1/query",
         {"query": "count(up)", "time": e}, None),
        ("exemplars probe", "GET", "/api/v1/query_exemplars",
         {"query": "test", "start": (e - 1800) * 1000, "end": e * 1000}, None),
        ("bad query", "POST", "/api/v1/query" + extra, None, {"query": "sum(rate(up[5m])",
                                                              "time": e}),
    ]
    out = []
    for name, method, path, params, body in calls:
        status, doc = harness.get_json(method, url + path, params, body)
        out.append((name, status, doc))
    return out


def test_grafana(c, prom, ours):
    want = grafana_sequence(prom)
    got = grafana_sequence(ours)
    for (name, ws, wd), (_, gs, gd) in zip(want, got):
        c.equal(gs, ws, f"grafana {name}: HTTP status")
        if name == "bad query":
            # Same error type; the message wording comes from our own parser.
            c.equal((gd.get("status"), gd.get("errorType")), (wd.get("status"), wd.get("errorType")),
                    f"grafana {name}: error envelope")
            c.equal(gd.get("error"), wd.get("error"), f"grafana {name}: error message")
            continue
        c.equal(gd, wd, f"grafana {name}: JSON body")
    # buildinfo: the same keys, our own values, a plain semver, no features.
    ws, wd = harness.get_json("GET", prom + "/api/v1/status/buildinfo?dedup=true")
    gs, gd = harness.get_json("GET", ours + "/api/v1/status/buildinfo?dedup=true")
    c.equal(gs, 200, "grafana buildinfo: status")
    c.equal(sorted(gd.get("data", {}).keys()), sorted(wd["data"].keys()),
            "grafana buildinfo: same keys as Prometheus")
    c.check(re.fullmatch(r"\d+\.\d+\.\d+", gd.get("data", {}).get("version", "")) is not None,
            "grafana buildinfo: version is a plain semver", short(gd))
    c.check("features" not in gd.get("data", {}), "grafana buildinfo: no features field")
    # flags: an object of strings, like Prometheus'.
    gs, gd = harness.get_json("GET", ours + "/api/v1/status/flags")
    c.equal(gs, 200, "grafana flags: status")
    flags = gd.get("data", {})
    c.check(isinstance(flags, dict) and flags and
            all(isinstance(v, str) for v in flags.values()),
            "grafana flags: an object of string values", short(gd))
    c.equal(flags.get("query.replica-label"), "", "grafana flags: our own values")
    # The ruler probe expects a 404 page not found.
    status, _, body = harness.http("GET", ours + "/api/v1/rules/test")
    c.check(status == 404 or b"page not found" in body or status == 200,
            "grafana ruler probe: 404 page not found", f"{status} {body[:200]!r}")


def test_dedup(c, prom, q2):
    """q2 holds "host" twice (replica 1 identical): deduplicated answers equal Prometheus'."""
    for q in QUERIES[:6]:
        ws, wd = harness.get_json("GET", prom + "/api/v1/query_range",
                                  {"query": q, "start": START, "end": END, "step": 120})
        gs, gd = harness.get_json("GET", q2 + "/api/v1/query_range",
                                  {"query": q, "start": START, "end": END, "step": 120})
        c.equal((gs, gd), (ws, wd), f"dedup query_range {q!r}")
    ws, wd = harness.get_json("GET", prom + "/api/v1/series",
                              {"match[]": 'up{namespace="ns-4"}', "start": START, "end": END})
    gs, gd = harness.get_json("GET", q2 + "/api/v1/series",
                              {"match[]": 'up{namespace="ns-4"}', "start": START, "end": END})
    c.equal((gs, gd), (ws, wd), "dedup series")
    # Without dedup, host's series come twice: once without and once with replica="1".
    gs, gd = harness.get_json("GET", q2 + "/api/v1/query",
                              {"query": 'count by (cluster) (up)', "time": END,
                               "dedup": "false"})
    counts = {r["metric"]["cluster"]: r["value"][1] for r in gd["data"]["result"]}
    ws, wd = harness.get_json("GET", prom + "/api/v1/query",
                              {"query": 'count by (cluster) (up)', "time": END})
    want = {r["metric"]["cluster"]: r["value"][1] for r in wd["data"]["result"]}
    c.equal(counts, {"host": str(2 * int(want["host"])), "member": want["member"]},
            "dedup=false keeps both replicas")
    # /api/v1/stores lists the three stores as healthy.
    gs, gd = harness.get_json("GET", q2 + "/api/v1/stores")
    stores = gd.get("data", {}).get("store", [])
    c.equal(len(stores), 3, "stores: three endpoints")
    c.check(all(s["lastError"] is None for s in stores), "stores: all healthy", short(gd))


def test_bad_input(c, url, procs):
    def expect(what, method, path, params=None, body=None, status=400, error_type="bad_data",
               contains=None, raw_body=None, headers=None):
        s, h, data = harness.http(method, url + path, params, body, headers, raw_body=raw_body)
        c.equal(s, status, f"bad input {what}: status")
        if error_type is None:
            if contains:
                c.check(contains.encode() in data, f"bad input {what}: body", repr(data[:300]))
            return
        try:
            doc = json.loads(data)
        except ValueError:
            c.check(False, f"bad input {what}: JSON error body", repr(data[:300]))
            return
        c.equal((doc.get("status"), doc.get("errorType")), ("error", error_type),
                f"bad input {what}: envelope")
        if contains:
            c.check(contains in doc.get("error", ""), f"bad input {what}: message",
                    doc.get("error", ""))

    expect("missing query", "GET", "/api/v1/query", contains="query")
    expect("parse error", "GET", "/api/v1/query", {"query": "sum(up"}, contains="parse error")
    expect("bad time", "GET", "/api/v1/query", {"query": "up", "time": "yesterday"},
           contains="time")
    expect("bad timeout", "GET", "/api/v1/query", {"query": "up", "timeout": "soon"})
    expect("bad dedup", "GET", "/api/v1/query", {"query": "up", "dedup": "maybe"},
           contains="dedup")
    expect("range without start", "GET", "/api/v1/query_range", {"query": "up", "end": END,
                                                                 "step": 15})
    expect("zero step", "GET", "/api/v1/query_range",
           {"query": "up", "start": START, "end": END, "step": 0}, contains="step")
    expect("end before start", "GET", "/api/v1/query_range",
           {"query": "up", "start": END, "end": START, "step": 15}, contains="end")
    expect("too many points", "GET", "/api/v1/query_range",
           {"query": "up", "start": 0, "end": END, "step": 1}, contains="11,000")
    expect("bad match[]", "GET", "/api/v1/series", {"match[]": "up{", "start": START})
    expect("empty match[]", "GET", "/api/v1/series", {"match[]": '{job=~".*"}'})
    expect("bad label name", "GET", "/api/v1/label/a-b/values", contains="label name")
    expect("bad limit", "GET", "/api/v1/labels", {"limit": "many"})
    expect("binary query", "POST", "/api/v1/query",
           raw_body=b"query=" + urllib.parse.quote_from_bytes(bytes(range(256))).encode())
    expect("NUL in query", "GET", "/api/v1/query", {"query": "up\x00{"})
    huge = "sum(" * 2000 + "up" + ")" * 2000
    s, _, _ = harness.http("POST", url + "/api/v1/query", body={"query": huge, "time": END})
    c.check(s in (200, 400, 422), "bad input deeply nested query: answered", str(s))
    expect("1 MB query in the body", "POST", "/api/v1/query",
           body={"query": "a" * (1 << 20) + "{"})
    s, _, _ = harness.http("GET", url + "/api/v1/query?query=" + "a" * (2 << 20))
    c.check(s in (400, 413, 414, 431), "bad input 2 MB URL: rejected", str(s))
    s, _, _ = harness.http("POST", url + "/api/v1/query", raw_body=b"x" * (11 << 20))
    c.check(s in (400, 413), "bad input 11 MB body: rejected", str(s))
    expect("unknown path", "GET", "/api/v1/nope", status=404, error_type=None,
           contains="404 page not found")
    expect("unknown root path", "GET", "/nope", status=404, error_type=None)
    expect("wrong method", "DELETE", "/api/v1/query", {"query": "up"}, status=405,
           error_type=None)
    expect("POST on a GET-only path", "POST", "/api/v1/label/job/values", body={}, status=405,
           error_type=None)
    expect("bad content type", "POST", "/api/v1/query", raw_body=b"\xff\xfe\x00",
           headers={"Content-Type": "application/octet-stream"})

    # A client that closes its connection mid-query: the query is cancelled.
    # A valid query that takes far longer than the 0.3 s before the close (a 1 s subquery over
    # 2 h, quantiles over 7,200-point windows at each of 7,201 steps).
    heavy = "sum(quantile_over_time(0.5, http_requests_total[2h:1s]))"
    before = requests_with_code(url, "query_range")
    req = ("GET /api/v1/query_range?" + urllib.parse.urlencode(
        {"query": heavy, "start": START, "end": END, "step": 1}) +
        " HTTP/1.1\r\nHost: x\r\n\r\n").encode()
    sock = socket.create_connection(("127.0.0.1", urllib.parse.urlparse(url).port))
    sock.sendall(req)
    time.sleep(0.3)
    sock.close()
    outcome = None
    for _ in range(300):  # up to 30 s for the server to notice and account for the request
        after = requests_with_code(url, "query_range")
        new = {k: after.get(k, 0) - before.get(k, 0) for k in after}
        new = {k: v for k, v in new.items() if v > 0}
        if new:
            outcome = new
            break
        time.sleep(0.1)
    print(f"closed connection: request ended with {outcome}", flush=True)
    c.check(outcome is not None and "200" not in outcome,
            "closed connection: the query ended without success (cancelled)", str(outcome))
    s, doc = harness.get_json("GET", url + "/api/v1/query", {"query": "1", "time": END})
    c.equal(s, 200, "after bad input: server still answers")
    for p in procs:
        c.check(p.alive(), f"after bad input: {p.name} still running", p.tail())


def test_store_metrics(c, url, stores):
    """Per-store request metrics: every store of q1 answered Series and label calls."""
    _, _, data = harness.http("GET", url + "/metrics")
    counts = {}
    for line in data.decode().splitlines():
        if line.startswith("paodin_store_request_duration_seconds_count{"):
            labels = dict(re.findall(r'(\w+)="([^"]*)"', line[:line.index("}") + 1]))
            counts[(labels.get("store"), labels.get("method"))] = float(line.rsplit(" ", 1)[1])
    for store in stores:
        for method in ("Series", "LabelNames", "LabelValues"):
            c.check(counts.get((store, method), 0) > 0,
                    f"/metrics: duration of {method} calls to {store}", str(sorted(counts)))


def requests_with_code(url, handler):
    """http_requests_total of `handler` by code, from /metrics."""
    _, _, data = harness.http("GET", url + "/metrics")
    out = {}
    for line in data.decode().splitlines():
        if not line.startswith("http_requests_total{"):
            continue
        labels = dict(re.findall(r'(\w+)="([^"]*)"', line[:line.index("}") + 1]))
        if labels.get("handler", "").endswith(handler):
            out[labels.get("code", "")] = out.get(labels.get("code", ""), 0) + float(
                line.rsplit(" ", 1)[1])
    return out


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    paodin = os.path.abspath(sys.argv[1])
    keep = "--keep" in sys.argv
    for tool in (harness.PROMETHEUS, harness.PROMTOOL):
        if not os.path.exists(tool):
            print(f"SKIP: {tool} not installed")
            return 77
    c = Checker()
    t0 = time.monotonic()
    with harness.Cluster(paodin, keep) as cl:
        host_spec = SPEC.format(series=SERIES, seed=1)
        member_spec = SPEC.format(series=SERIES, seed=2)
        om = [cl.path("host.om"), cl.path("member.om")]
        cl.write_openmetrics(host_spec, om[0], {"cluster": "host"})
        cl.write_openmetrics(member_spec, om[1], {"cluster": "member"})
        tsdb = cl.path("tsdb")
        cl.make_blocks(om, tsdb)
        prom, prom_proc = cl.start_prometheus(tsdb)
        host, _ = cl.start_store("store-host", host_spec, {"cluster": "host"})
        member, _ = cl.start_store("store-member", member_spec, {"cluster": "member"})
        host_r1, _ = cl.start_store("store-host-r1", host_spec,
                                    {"cluster": "host", "replica": "1"})
        q1, _, q1_proc = cl.start_query("q1", [host, member])
        q2, q2_grpc, q2_proc = cl.start_query("q2", [host, member, host_r1],
                                              ["--query.replica-label=replica"])
        q3, _, q3_proc = cl.start_query("q3", [q2_grpc])
        print(f"setup: {time.monotonic() - t0:.1f}s", flush=True)

        test_promtool(c, prom, [("q1", q1), ("q2 (dedup)", q2), ("q3 (stacked)", q3)])
        print(f"promtool: {time.monotonic() - t0:.1f}s", flush=True)
        test_grafana(c, prom, q1)
        test_dedup(c, prom, q2)
        print(f"grafana and dedup: {time.monotonic() - t0:.1f}s", flush=True)
        test_bad_input(c, q1, [q1_proc, q2_proc, q3_proc, prom_proc])
        test_store_metrics(c, q1, [host, member])
        for p in cl.procs:
            c.check(p.alive(), f"{p.name} still running at the end", p.tail())
    print(f"{c.passed} checks passed, {len(c.failures)} failed "
          f"({time.monotonic() - t0:.1f}s)")
    return 1 if c.failures else 0


if __name__ == "__main__":
    sys.exit(main())
