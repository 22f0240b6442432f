#!/usr/bin/env python3
"""Differential test of the PromQL front end against the real Prometheus 2.42.

Usage: parser_diff.py PAODIN_BINARY CORPUS [--verbose]

Starts /usr/bin/prometheus on 127.0.0.1 (free port, empty temp TSDB), sends every corpus
expression to /api/v1/query and runs `paodin promql format` on it. Checks:
  * acceptance: Prometheus accepts (HTTP 200, or an error that is not bad_data) iff we do;
  * messages: when both reject, our message equals Prometheus' (unless the line is marked
    @msgdiff);
  * canonical form: for every accepted expression our `format` output equals Prometheus'
    String() form, read back from /api/v1/rules after loading the expressions as recording
    rules (unless the line is marked @fmtdiff).
Corpus format: one expression per line; blank lines and lines starting with "## " are skipped;
prefixes "@esc " (decode \\n \\t \\r \\\\ \\xHH), "@msgdiff ", "@fmtdiff " may be combined.
Prints "N passed, M failed" and exits non-zero on any failure.
"""
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

PROMETHEUS = "/usr/bin/prometheus"


def decode_escapes(s):
    out = []
    i = 0
    while i < len(s):
        c = s[i]
        if c == "\\" and i + 1 < len(s):
            n = s[i + 1]
            if n == "n":
                out.append("\n")
            elif n == "t":
                out.append("\t")
            elif n == "r":
                out.append("\r")
            elif n == "\\":
                out.append("\\")
            elif n == "x" and i + 3 < len(s):
                out.append(chr(int(s[i + 2:i + 4], 16)))
                i += 2
            else:
                out.append(c + n)
            i += 2
            continue
        out.append(c)
        i += 1
    return "".join(out)


def read_corpus(path):
    cases = []
    with open(path, encoding="utf-8") as f:
        for lineno, raw in enumerate(f, 1):
            line = raw.rstrip("\n")
            if not line.strip() or line.startswith("## "):
                continue
            flags = set()
            while True:
                m = re.match(r"^@(esc|msgdiff|fmtdiff) ", line)
                if not m:
                    break
                flags.add(m.group(1))
                line = line[m.end():]
            expr = decode_escapes(line) if "esc" in flags else line
            cases.append({"line": lineno, "expr": expr, "flags": flags})
    return cases


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(url, data=None, method=None):
    req = urllib.request.Request(url, data=data, method=method)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def prom_query(base, expr):
    data = urllib.parse.urlencode({"query": expr, "time": "0"}).encode()
    status, body = http(base + "/api/v1/query", data)
    j = json.loads(body)
    if status == 200:
        return True, ""
    if j.get("errorType") != "bad_data":
        return True, ""  # parsed fine, failed later
    msg = j.get("error", "")
    prefix = 'invalid parameter "query": '
    if msg.startswith(prefix):
        msg = msg[len(prefix):]
    return False, msg


def ours(binary, expr):
    p = subprocess.run([binary, "promql", "format", "--", expr], capture_output=True,
                       timeout=30)
    if p.returncode == 0:
        return True, p.stdout.decode("utf-8", "replace").rstrip("\n"), ""
    return False, "", p.stderr.decode("utf-8", "replace").rstrip("\n")


def main():
    if len(sys.argv) < 3:
        print(__doc__)
        return 2
    binary, corpus = sys.argv[1], sys.argv[2]
    verbose = "--verbose" in sys.argv
    if not os.path.exists(PROMETHEUS):
        print("prometheus not installed; cannot run the differential test")
        return 1
    cases = read_corpus(corpus)
    tmp = tempfile.mkdtemp(prefix="paodin-parser-diff-")
    rules = os.path.join(tmp, "rules.yml")
    with open(rules, "w") as f:
        f.write("groups: []\n")
    config = os.path.join(tmp, "prometheus.yml")
    with open(config, "w") as f:
        f.write("global:\n  scrape_interval: 1h\n  evaluation_interval: 1h\n"
                "rule_files:\n  - %s\n" % rules)
    port = free_port()
    base = "http://127.0.0.1:%d" % port
    log = open(os.path.join(tmp, "prometheus.log"), "w")
    proc = subprocess.Popen(
        [PROMETHEUS, "--config.file=" + config, "--storage.tsdb.path=" + os.path.join(tmp, "data"),
         "--web.listen-address=127.0.0.1:%d" % port, "--web.enable-lifecycle"],
        stdout=log, stderr=subprocess.STDOUT)
    passed = failed = 0
    msg_compared = msg_matched = fmt_compared = fmt_matched = 0
    try:
        for _ in range(300):
            try:
                if http(base + "/-/ready")[0] == 200:
                    break
            except OSError:
                pass
            time.sleep(0.1)
        else:
            print("prometheus did not become ready")
            return 1
        accepted = []
        for c in cases:
            p_ok, p_msg = prom_query(base, c["expr"])
            o_ok, o_out, o_msg = ours(binary, c["expr"])
            c["ours_out"] = o_out
            problems = []
            if p_ok != o_ok:
                problems.append("acceptance: prometheus %s, paodin %s (%s)" % (
                    "accepts" if p_ok else "rejects: " + p_msg,
                    "accepts" if o_ok else "rejects", o_msg or o_out))
            elif not p_ok:
                msg_compared += 1
                if p_msg == o_msg:
                    msg_matched += 1
                elif "msgdiff" not in c["flags"]:
                    problems.append("message: prometheus %r, paodin %r" % (p_msg, o_msg))
            if p_ok and o_ok:
                accepted.append(c)
            c["problems"] = problems
        # Canonical forms via recording rules.
        with open(rules, "w") as f:
            f.write("groups:\n- name: corpus\n  rules:\n")
            for i, c in enumerate(accepted):
                f.write("  - record: r%d\n    expr: %s\n" % (i, json.dumps(c["expr"])))
        status, body = http(base + "/-/reload", b"", "POST")
        if status != 200:
            print("reloading the rules failed: %s" % body.decode("utf-8", "replace"))
            return 1
        j = json.loads(http(base + "/api/v1/rules")[1])
        forms = {}
        for g in j["data"]["groups"]:
            for r in g["rules"]:
                forms[int(r["name"][1:])] = r["query"]
        for i, c in enumerate(accepted):
            fmt_compared += 1
            if forms.get(i) == c["ours_out"]:
                fmt_matched += 1
            elif "fmtdiff" not in c["flags"]:
                c["problems"].append("format: prometheus %r, paodin %r" % (forms.get(i),
                                                                          c["ours_out"]))
        for c in cases:
            if c["problems"]:
                failed += 1
                print("FAIL line %d: %r" % (c["line"], c["expr"]))
                for p in c["problems"]:
                    print("    " + p)
            else:
                passed += 1
                if verbose:
                    print("ok   line %d: %r" % (c["line"], c["expr"]))
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
        shutil.rmtree(tmp, ignore_errors=True)
    print("corpus: %d expressions; messages compared %d, equal %d; forms compared %d, equal %d"
          % (len(cases), msg_compared, msg_matched, fmt_compared, fmt_matched))
    print("%d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
