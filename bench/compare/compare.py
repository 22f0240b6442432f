#!/usr/bin/env python3
"""Side-by-side benchmark: `paodin query` over two `paodin store`s against Prometheus 2.42.

1. Generates a synthetic data set (default 20,000 series over 6 h at 15 s: counters, gauges and
   histograms) for two clusters ("host", "member"), half the series each.
2. Writes it as OpenMetrics with a `cluster` label and makes TSDB blocks from it with promtool,
   then starts Prometheus 2.42 on that storage.
3. Starts two `paodin store`s generating the same data (cluster as external label) and a
   `paodin query` over them.
4. Checks that both answer every query of the set identically (label sets exact, values exact or,
   with --tolerance, within a relative tolerance), then times each query several times on each
   system, alternating, and reports the medians, their ratio and each server's peak memory
   (VmHWM; ours = query + stores).

Everything listens on 127.0.0.1. Python 3 standard library only.

  bench/compare/compare.py --paodin build/paodin                  # default size
  bench/compare/compare.py --paodin build/paodin --series 2000 --runs 3   # quick iteration
"""

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "query"))
import harness  # noqa: E402

RANGE_QUERIES = [
    ("rate sum by", "sum by (cluster) (rate(http_requests_total[5m]))"),
    ("rate 5xx by job", 'sum by (cluster, job) (rate(http_requests_total{code=~"5.."}[5m]))'),
    ("histogram_quantile",
     "histogram_quantile(0.99, sum by (cluster, le) (rate(http_request_duration_seconds_bucket[5m])))"),
    ("topk", "topk(5, sum by (job) (rate(process_cpu_seconds_total[5m])))"),
    ("avg_over_time",
     "avg by (cluster, namespace) (avg_over_time(process_resident_memory_bytes[10m]))"),
    ("join group_left",
     "sum by (cluster) (rate(process_cpu_seconds_total[5m]) "
     "* on (cluster, namespace, job, pod, instance) group_left up)"),
    ("max_over_time", "max by (cluster, job) (max_over_time(process_cpu_seconds_total[15m]))"),
    ("ratio", 'sum by (cluster) (rate(http_requests_total{code=~"5.."}[5m])) '
              "/ sum by (cluster) (rate(http_requests_total[5m]))"),
]
INSTANT_QUERIES = [
    ("instant rate sum by", "sum by (cluster) (rate(http_requests_total[5m]))"),
    ("instant histogram_quantile",
     "histogram_quantile(0.9, sum by (le) (rate(http_request_duration_seconds_bucket[5m])))"),
    ("instant topk", "topk(10, rate(http_requests_total[5m]))"),
    ("instant count by", "count by (cluster, job) (up)"),
]
LABEL_CALLS = [
    ("labels", "/api/v1/labels", {}),
    ("label values __name__", "/api/v1/label/__name__/values", {}),
    ("label values job (match[])", "/api/v1/label/job/values", {"match[]": "up"}),
    ("series", "/api/v1/series", {"match[]": 'up{namespace="ns-1"}'}),
]


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def run_cmd(argv, **kw):
    t0 = time.monotonic()
    subprocess.run(argv, check=True, **kw)
    return time.monotonic() - t0


def prepare_blocks(args, specs, tsdb):
    """OpenMetrics with a cluster label per series, backfilled by promtool."""
    stamp = os.path.join(tsdb, ".paodin-spec")
    want = json.dumps(specs, sort_keys=True)
    if os.path.exists(stamp) and open(stamp).read() == want:
        log(f"reusing TSDB blocks in {tsdb}")
        return
    subprocess.run(["rm", "-rf", tsdb], check=True)
    os.makedirs(tsdb)
    for cluster, spec in specs.items():
        om = os.path.join(args.workdir, f"{cluster}.om")
        t = run_cmd(f"{args.paodin} store --synthetic '{spec}' --synthetic.write-openmetrics "
                    f"/dev/stdout 2>/dev/null | sed -e '/^#/!s/{{/{{cluster=\"{cluster}\",/' > {om}",
                    shell=True)
        log(f"wrote {om} ({os.path.getsize(om) >> 20} MiB) in {t:.0f}s")
        t = run_cmd([harness.PROMTOOL, "tsdb", "create-blocks-from", "openmetrics", om, tsdb],
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        log(f"promtool made blocks for {cluster} in {t:.0f}s")
        os.remove(om)
    with open(stamp, "w") as f:
        f.write(want)


def values_equal(a, b, tol):
    if a == b:
        return True, False
    if tol <= 0:
        return False, False
    try:
        x, y = float(a), float(b)
    except ValueError:
        return False, False
    if math.isnan(x) and math.isnan(y):
        return True, True
    return abs(x - y) <= tol * max(abs(x), abs(y)), True


def compare_docs(ours, theirs, tol):
    """Returns (equal, n_inexact, first difference)."""
    inexact = 0

    def walk(a, b, path):
        nonlocal inexact
        if isinstance(a, dict) and isinstance(b, dict):
            if sorted(a) != sorted(b):
                return f"{path}: keys {sorted(a)} vs {sorted(b)}"
            for k in a:
                d = walk(a[k], b[k], f"{path}.{k}")
                if d:
                    return d
            return None
        if isinstance(a, list) and isinstance(b, list):
            if len(a) != len(b):
                return f"{path}: {len(a)} vs {len(b)} items"
            # A sample pair: [time, "value"].
            if len(a) == 2 and isinstance(a[0], (int, float)) and isinstance(a[1], str):
                if a[0] != b[0]:
                    return f"{path}: time {a[0]} vs {b[0]}"
                ok, approx = values_equal(a[1], b[1], tol)
                if not ok:
                    return f"{path}: value {a[1]} vs {b[1]}"
                inexact += approx
                return None
            for i, (x, y) in enumerate(zip(a, b)):
                d = walk(x, y, f"{path}[{i}]")
                if d:
                    return d
            return None
        return None if a == b else f"{path}: {a!r} vs {b!r}"

    diff = walk(ours, theirs, "")
    return diff is None, inexact, diff


def sort_vector(doc):
    """Instant vectors of aggregations have no defined order; sort them for comparison."""
    data = doc.get("data")
    if isinstance(data, dict) and data.get("resultType") == "vector":
        data["result"].sort(key=lambda r: json.dumps(r["metric"], sort_keys=True))
    return doc


def timed(method, url, params):
    t0 = time.perf_counter()
    status, _, body = harness.http(method, url, params, timeout=600)
    return time.perf_counter() - t0, status, body


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--paodin", default=os.path.join(HERE, "..", "..", "build", "paodin"))
    ap.add_argument("--series", type=int, default=20000, help="total series (split in two)")
    ap.add_argument("--duration", default="6h")
    ap.add_argument("--interval", default="15s")
    ap.add_argument("--step", type=int, default=60, help="range query step in seconds")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--start", type=int, default=1700000000)
    ap.add_argument("--workdir", default="/tmp/paodin-bench-compare")
    ap.add_argument("--tolerance", type=float, default=1e-9,
                    help="relative tolerance for sample values (0 = exact)")
    ap.add_argument("--json", help="also write the results here")
    args = ap.parse_args()
    args.paodin = os.path.abspath(args.paodin)
    os.makedirs(args.workdir, exist_ok=True)

    half = args.series // 2
    specs = {c: (f"series={half},duration={args.duration},interval={args.interval},"
                 f"seed={seed},start={args.start},gaps=0.005")
             for c, seed in (("host", 1), ("member", 2))}
    tsdb = os.path.join(args.workdir, "tsdb")
    prepare_blocks(args, specs, tsdb)

    results = {"config": vars(args), "queries": []}
    with harness.Cluster(args.paodin) as cl:
        prom, prom_proc = cl.start_prometheus(tsdb, ["--query.max-samples=500000000"])
        stores = []
        store_procs = []
        for cluster, spec in specs.items():
            addr, p = cl.start_store(f"store-{cluster}", spec, {"cluster": cluster})
            stores.append(addr)
            store_procs.append(p)
        ours, _, q_proc = cl.start_query("query", stores, ["--query.max-samples=500000000"])
        end_s = args.start + int(harness_duration_s(args.duration))
        start_s = args.start
        log(f"prometheus {prom}, paodin query {ours}; data {start_s}..{end_s}")

        cases = []
        for name, q in RANGE_QUERIES:
            cases.append(("range", name, "GET", "/api/v1/query_range",
                          {"query": q, "start": start_s, "end": end_s, "step": args.step}))
        for name, q in INSTANT_QUERIES:
            cases.append(("instant", name, "GET", "/api/v1/query", {"query": q, "time": end_s}))
        for name, path, params in LABEL_CALLS:
            p = dict(params)
            p.update({"start": start_s, "end": end_s})
            cases.append(("label", name, "GET", path, p))

        mismatches = 0
        for kind, name, method, path, params in cases:
            _, ws, wb = timed(method, prom + path, params)
            _, gs, gb = timed(method, ours + path, params)
            want = sort_vector(json.loads(wb))
            got = sort_vector(json.loads(gb))
            ok, inexact, diff = compare_docs(got, want, args.tolerance)
            ok = ok and ws == gs == 200
            if not ok:
                mismatches += 1
            note = "identical" if ok and not inexact else (
                f"equal within {args.tolerance:g} ({inexact} values differ in the last digits)"
                if ok else f"DIFFERENT: {diff}")
            log(f"check {name}: {note}")
            prom_t, our_t = [], []
            for _ in range(args.runs):
                t, s, _ = timed(method, prom + path, params)
                prom_t.append(t)
                t, s2, _ = timed(method, ours + path, params)
                our_t.append(t)
            pm, om = statistics.median(prom_t), statistics.median(our_t)
            results["queries"].append({
                "kind": kind, "name": name, "params": params, "check": note,
                "prometheus_ms": pm * 1000, "paodin_ms": om * 1000, "speedup": pm / om,
                "result_bytes": len(gb)})
            log(f"  {kind:8s} {name:28s} prometheus {pm * 1000:9.1f} ms  paodin {om * 1000:9.1f} ms"
                f"  x{pm / om:6.2f}")
        prom_kb = harness.peak_rss_kb(prom_proc.p.pid)
        our_kb = {p.name: harness.peak_rss_kb(p.p.pid) for p in [q_proc] + store_procs}
        results["memory_kb"] = {"prometheus": prom_kb, **our_kb}
        results["mismatches"] = mismatches

    print_report(results)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)
    return 1 if mismatches else 0


def harness_duration_s(d):
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    return int(d[:-1]) * units[d[-1]]


def print_report(r):
    c = r["config"]
    print(f"\nData: {c['series']} series ({c['series'] // 2} per cluster) over {c['duration']} "
          f"at {c['interval']}; range queries over the whole span at step {c['step']}s; "
          f"median of {c['runs']} runs, end to end over HTTP.\n")
    print("| kind | query | Prometheus 2.42 (ms) | paodin (ms) | speedup | answers |")
    print("| --- | --- | ---: | ---: | ---: | --- |")
    for q in r["queries"]:
        print(f"| {q['kind']} | {q['name']} | {q['prometheus_ms']:.1f} | {q['paodin_ms']:.1f} | "
              f"{q['speedup']:.2f}x | {q['check']} |")
    rng = [q["speedup"] for q in r["queries"] if q["kind"] == "range"]
    oth = [q["speedup"] for q in r["queries"] if q["kind"] != "range"]
    m = r["memory_kb"]
    ours = sum(v for k, v in m.items() if k != "prometheus")
    print(f"\nRange queries: min speedup {min(rng):.2f}x, median {statistics.median(rng):.2f}x "
          f"(targets: each >= 3x, median >= 5x).")
    print(f"Instant and label calls: min speedup {min(oth):.2f}x (target: >= 1x).")
    print(f"Peak memory (VmHWM): Prometheus {m['prometheus'] / 1024:.0f} MiB; paodin "
          f"{ours / 1024:.0f} MiB = " +
          " + ".join(f"{k} {v / 1024:.0f}" for k, v in m.items() if k != "prometheus") +
          " (target: ours below Prometheus).")


if __name__ == "__main__":
    sys.exit(main())
