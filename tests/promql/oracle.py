#!/usr/bin/env python3
"""Fills in the expected results of a PromQL test script from a real Prometheus 2.42.

Developer tool, not run by CI. Usage: oracle.py [--mark-failures] IN.test > OUT.test

The script must have all its `load` blocks before any eval and no `clear` (one Prometheus per
file). The samples are backfilled with `promtool tsdb create-blocks-from openmetrics`, a
Prometheus is started on 127.0.0.1 with that storage, and every `eval` is answered through the
HTTP API; the expected lines are replaced by Prometheus' answer. Stale markers cannot be
backfilled: lines with `stale` are rejected. `eval_fail` lines are kept when Prometheus fails
them and reported on stderr otherwise.
"""
import json
import math
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

# With --mark-failures, evals that Prometheus fails become eval_fail.
MARK_FAILURES = "--mark-failures" in sys.argv

UNITS = {"ms": 1, "s": 1000, "m": 60000, "h": 3600000, "d": 86400000, "w": 604800000,
         "y": 31536000000}


def parse_duration(s):
    total = 0
    for num, unit in re.findall(r"(\d+)(ms|s|m|h|d|w|y)", s):
        total += int(num) * UNITS[unit]
    if s == "0":
        return 0
    return total


def parse_number(t):
    low = t.lower()
    sign = -1.0 if low.startswith("-") else 1.0
    body = low.lstrip("+-")
    if body == "inf":
        return sign * math.inf
    if body == "nan":
        return math.nan
    return float(t)


def expand(tokens):
    out = []
    for tok in tokens:
        if tok == "_":
            out.append(None)
            continue
        if tok == "stale":
            raise SystemExit("stale markers cannot be backfilled")
        m = re.fullmatch(r"(.+?)x(\d+)", tok)
        if m:
            head, n = m.group(1), int(m.group(2))
            if head == "_":
                out.extend([None] * n)
                continue
            m2 = re.fullmatch(r"([+-]?[^+-]+(?:[eE][+-]?\d+)?)([+-][^+-]+(?:[eE][+-]?\d+)?)", head)
            if m2:
                a, b = parse_number(m2.group(1)), parse_number(m2.group(2))
            else:
                a, b = parse_number(head), 0.0
            for _ in range(n + 1):
                out.append(a)
                a += b
            continue
        out.append(parse_number(tok))
    return out


def split_series(line):
    depth, i = 0, 0
    in_str = None
    while i < len(line):
        c = line[i]
        if in_str:
            if c == "\\":
                i += 1
            elif c == in_str:
                in_str = None
        elif c in "\"'`":
            in_str = c
        elif c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return line[: i + 1], line[i + 1 :].split()
        elif c in " \t" and depth == 0:
            return line[:i], line[i:].split()
        i += 1
    return line, []


def metric_parts(desc):
    m = re.fullmatch(r"([a-zA-Z_:][a-zA-Z0-9_:]*)?(\{.*\})?", desc.strip())
    name = m.group(1) or ""
    labels = []
    if m.group(2):
        for k, v in re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"', m.group(2)):
            if k == "__name__":
                name = v
            else:
                labels.append((k, v))
    return name, labels


def fmt_value(v):
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "+Inf" if v > 0 else "-Inf"
    return repr(v)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    lines = open(args[0]).read().split("\n")
    families = {}
    i = 0
    while i < len(lines):
        l = lines[i].strip()
        if l.startswith("load"):
            gap = parse_duration(l.split()[1])
            i += 1
            while i < len(lines) and lines[i].strip() and not lines[i].strip().startswith("#"):
                desc, toks = split_series(lines[i].strip())
                name, labels = metric_parts(desc)
                for j, v in enumerate(expand(toks)):
                    if v is None:
                        continue
                    families.setdefault(name, []).append((labels, j * gap, v))
                i += 1
        i += 1
    tmp = tempfile.mkdtemp(prefix="paodin-oracle-")
    try:
        om = os.path.join(tmp, "data.om")
        with open(om, "w") as f:
            for name, samples in families.items():
                f.write(f"# TYPE {name} gauge\n")
                by_series = {}
                for labels, t, v in samples:
                    by_series.setdefault(tuple(labels), []).append((t, v))
                for labels, pts in by_series.items():
                    ls = ",".join(f'{k}="{v}"' for k, v in labels)
                    for t, v in sorted(pts):
                        f.write(f"{name}{{{ls}}} {fmt_value(v)} {t / 1000:.3f}\n")
            f.write("# EOF\n")
        data = os.path.join(tmp, "data")
        subprocess.run(["promtool", "tsdb", "create-blocks-from", "openmetrics", "-q", om, data],
                       check=True, stdout=subprocess.DEVNULL)
        cfg = os.path.join(tmp, "prometheus.yml")
        open(cfg, "w").write("global:\n  evaluation_interval: 1m\n")
        port = free_port()
        proc = subprocess.Popen(
            ["prometheus", f"--config.file={cfg}", f"--storage.tsdb.path={data}",
             f"--web.listen-address=127.0.0.1:{port}", "--storage.tsdb.retention.time=100y"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            base = f"http://127.0.0.1:{port}"
            for _ in range(100):
                try:
                    urllib.request.urlopen(base + "/-/ready", timeout=1)
                    break
                except Exception:
                    time.sleep(0.2)
            out = []
            i = 0
            while i < len(lines):
                l = lines[i].strip()
                m = re.match(r"^eval(?:_(fail|ordered))?\s+instant\s+(?:at\s+(.+?))?\s+(.+)$", l)
                if not m:
                    out.append(lines[i])
                    i += 1
                    continue
                out.append(lines[i])
                i += 1
                while i < len(lines) and lines[i].strip() and not lines[i].strip().startswith("#"):
                    i += 1
                t = parse_duration(m.group(2)) / 1000
                q = urllib.parse.urlencode({"query": m.group(3), "time": f"{t:.3f}"})
                try:
                    body = json.load(urllib.request.urlopen(f"{base}/api/v1/query?{q}"))
                except urllib.error.HTTPError as e:
                    body = json.load(e)
                if body["status"] != "success":
                    if m.group(1) != "fail":
                        print(f"ERROR {l}: {body.get('error')}", file=sys.stderr)
                        if MARK_FAILURES:
                            out[-1] = re.sub(r"^(\s*)eval(_ordered)?", r"\1eval_fail", lines[i - 1]
                                             if False else out[-1])
                    continue
                if m.group(1) == "fail":
                    print(f"NOT FAILING {l}", file=sys.stderr)
                res = body["data"]
                if res["resultType"] == "scalar":
                    out.append("  " + res["result"][1])
                elif res["resultType"] == "vector":
                    for s in res["result"]:
                        name = s["metric"].pop("__name__", "")
                        ls = ", ".join(f'{k}={json.dumps(v)}' for k, v in sorted(s["metric"].items()))
                        out.append(f"  {name}{{{ls}}} {s['value'][1]}")
                else:
                    print(f"UNSUPPORTED {res['resultType']} {l}", file=sys.stderr)
            print("\n".join(out), end="")
        finally:
            proc.terminate()
            proc.wait()
    finally:
        shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
