#!/usr/bin/env python3
"""Regenerates the golden XOR chunk fixtures in tests/golden/chunks/ from real Prometheus 2.42.

How the fixtures are made (Python 3 standard library only):
  1. Deterministic synthetic series (fixed random seed) are written as an OpenMetrics file:
     counters with resets (exact 15 s and jittered scrapes), a constant gauge, a random-walk
     gauge, irregular timestamps with gaps of 1 ms .. 15 min (all delta-of-delta buckets,
     including the 64-bit one), NaN / +Inf / -Inf / -0, and random bit patterns whose XORs need
     64-bit windows.
  2. `promtool tsdb create-blocks-from openmetrics` turns the file into TSDB blocks; the chunks
     are therefore cut and encoded by Prometheus' own head appender.
  3. /usr/bin/prometheus is started on 127.0.0.1 on a free port over those blocks, and every
     series is read back twice with POST /api/v1/read (snappy-compressed protobuf request):
     once as STREAMED_XOR_CHUNKS (the raw chunk bytes, as in the block files) and once as
     SAMPLES (the samples decoded by Prometheus itself). Prometheus is then stopped.
  4. The samples are checked against the generated input (NaN compared as NaN) and written,
     chunk by chunk, next to the raw chunk bytes:
       tests/golden/chunks/prometheus-2.42.txt   the fixture (format below)
       tests/golden/chunks/corpus/*.bin          a few raw chunks: the fuzz seed corpus
     Fixture format, one record per line:
       series <labels>                 starts a series, e.g. fx_gauge{case="walk"}
       chunk <min_ms> <max_ms> <hex>   one XOR chunk's data bytes (remote-read Chunk.data)
       s <t_ms> <16 hex digits>        a sample of the preceding chunk: time, value bits
     Lines starting with '#' are comments.
     Value bits come from Prometheus' SAMPLES response (so NaN is Prometheus' NaN,
     0x7ff8000000000001), except -0.0: proto3 drops a double equal to 0, so that response
     cannot carry the sign and the input's -0.0 is recorded instead.
Staleness markers cannot be written in OpenMetrics input; the C++ tests cover them with
encode/decode round trips.

Usage: scripts/make-chunk-fixtures.py [--out tests/golden/chunks]
"""

import argparse
import math
import os
import random
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.request

START_MS = 1680004800000  # 2023-03-28T12:00:00Z, on a 2h block boundary


# --------------------------------------------------------------------------------------------
# Data generation.

def fbits(v):
    return struct.unpack(">Q", struct.pack(">d", v))[0]


def bits_to_float(b):
    return struct.unpack(">d", struct.pack(">Q", b))[0]


def gen_series():
    """Returns {labels_text: [(t_ms, value), ...]} with strictly increasing times."""
    rnd = random.Random(20230328)
    series = {}

    # Counter, exact 15 s scrapes, integer increments 0..49, a few resets.
    t, v, out = START_MS, 1000.0, []
    for i in range(700):
        if i in (170, 433):
            v = float(rnd.randint(0, 5))
        else:
            v += rnd.randint(0, 49)
        out.append((t, v))
        t += 15000
    series['fx_counter_total{case="regular"}'] = out

    # Counter with millisecond scrape jitter (14-bit dod bucket) and fractional increments.
    t, v, out = START_MS + 7, 0.0, []
    for i in range(600):
        if i == 300:
            v = 0.0
        else:
            v += rnd.choice([0.0, 0.25, 1.5, 3.0, 12.125])
        out.append((t, v))
        t += 15000 + rnd.randint(-50, 50)
    series['fx_counter_total{case="jitter"}'] = out

    # Constant gauge.
    series['fx_gauge{case="const"}'] = [(START_MS + 15000 * i, 42.0) for i in range(500)]

    # Random-walk gauge at 30 s with jitter.
    t, v, out = START_MS + 123, 50.0, []
    for _ in range(400):
        v += rnd.gauss(0.0, 2.5)
        out.append((t, v))
        t += 30000 + rnd.randint(-2000, 2000)
    series['fx_gauge{case="walk"}'] = out

    # Irregular timestamps: gaps from 1 ms to 15 min, so delta-of-deltas land in every bucket
    # (0, 14, 17, 20 and 64 bits), both signs.
    gaps = [1, 2, 250, 1000, 5000, 9000, 15000, 70000, 100000, 300000, 600000, 900000]
    t, g, out = START_MS + 1, 1000, []
    for i in range(160):
        out.append((t, float(rnd.randint(-1000, 1000)) / 8.0))
        if i % 4 != 3:  # every fourth gap repeats the previous one: dod 0
            g = rnd.choice(gaps)
        t += g
    series['fx_irregular{case="gaps"}'] = out

    # Special values mixed with ordinary ones.
    specials = [math.nan, math.inf, -math.inf, 0.0, -0.0, 1.0, -1.0, 5e-324, 1.7976931348623157e308,
                2.2250738585072014e-308, 0.1, -0.1]
    t, out = START_MS, []
    for i in range(300):
        if i % 5 == 0:
            v = rnd.choice(specials)
        elif i % 5 == 1:
            v = out[-1][1]  # repeated value: XOR zero (NaN repeats too)
        else:
            v = rnd.uniform(-1e6, 1e6)
        out.append((t, v))
        t += 10000
    series['fx_special{case="mixed"}'] = out

    # Random bit patterns (finite only) and sign flips: XOR windows up to 64 bits wide.
    t, out = START_MS, []
    for i in range(300):
        while True:
            v = bits_to_float(rnd.getrandbits(64))
            if math.isfinite(v):
                break
        if i % 3 == 0 and out:
            v = -out[-1][1]
            if fbits(v) & 1 == fbits(out[-1][1]) & 1:
                v = bits_to_float(fbits(v) ^ 1)
        out.append((t, v))
        t += 15000
    series['fx_bits{case="random"}'] = out

    # Slowly increasing float gauge, regular 60 s scrape (reused XOR windows).
    t, v, out = START_MS, 1.0e9, []
    for _ in range(200):
        v += rnd.random()
        out.append((t, v))
        t += 60000
    series['fx_gauge{case="slow"}'] = out
    return series


def ts_text(t_ms):
    """Seconds text that Prometheus' OpenMetrics parser turns back into exactly t_ms."""
    for text in ("%d.%03d" % divmod(t_ms, 1000), "%d.%03d5" % divmod(t_ms, 1000)):
        if int(float(text) * 1000) == t_ms:
            return text
    raise ValueError("cannot express timestamp %d" % t_ms)


def value_text(v):
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "+Inf" if v > 0 else "-Inf"
    return repr(v)


def write_openmetrics(path, series):
    with open(path, "w") as f:
        for labels, samples in series.items():
            for t, v in samples:
                f.write("%s %s %s\n" % (labels, value_text(v), ts_text(t)))
        f.write("# EOF\n")


# --------------------------------------------------------------------------------------------
# Minimal protobuf, snappy and CRC-32C.

def uvarint(n):
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def pb_field(num, wire, payload):
    return uvarint(num << 3 | wire) + payload


def pb_bytes(num, data):
    return pb_field(num, 2, uvarint(len(data)) + data)


def pb_int(num, n):
    return pb_field(num, 0, uvarint(n & 0xFFFFFFFFFFFFFFFF))


def pb_parse(buf):
    """Yields (field number, wire type, value) for one message."""
    i = 0
    while i < len(buf):
        key, i = read_uvarint(buf, i)
        num, wire = key >> 3, key & 7
        if wire == 0:
            val, i = read_uvarint(buf, i)
        elif wire == 1:
            val, i = buf[i:i + 8], i + 8
        elif wire == 2:
            n, i = read_uvarint(buf, i)
            val, i = buf[i:i + n], i + n
        elif wire == 5:
            val, i = buf[i:i + 4], i + 4
        else:
            raise ValueError("unsupported wire type %d" % wire)
        yield num, wire, val


def read_uvarint(buf, i):
    shift = result = 0
    while True:
        b = buf[i]
        i += 1
        result |= (b & 0x7F) << shift
        if b < 0x80:
            return result, i
        shift += 7


def to_int64(u):
    return u - (1 << 64) if u >= 1 << 63 else u


def snappy_compress_literal(data):
    """Snappy block format using only literal elements (valid, just not compressed)."""
    out = bytearray(uvarint(len(data)))
    for i in range(0, len(data), 65536):
        piece = data[i:i + 65536]
        n = len(piece) - 1
        if n < 60:
            out.append(n << 2)
        elif n < 256:
            out += bytes([60 << 2, n])
        else:
            out += bytes([61 << 2]) + struct.pack("<H", n)
        out += piece
    return bytes(out)


def snappy_decompress(data):
    n, i = read_uvarint(data, 0)
    out = bytearray()
    while i < len(data):
        tag = data[i]
        i += 1
        kind = tag & 3
        if kind == 0:
            length = tag >> 2
            if length >= 60:
                nb = length - 59
                length = int.from_bytes(data[i:i + nb], "little")
                i += nb
            length += 1
            out += data[i:i + length]
            i += length
            continue
        if kind == 1:
            length = 4 + ((tag >> 2) & 7)
            offset = ((tag >> 5) << 8) | data[i]
            i += 1
        elif kind == 2:
            length = (tag >> 2) + 1
            offset = int.from_bytes(data[i:i + 2], "little")
            i += 2
        else:
            length = (tag >> 2) + 1
            offset = int.from_bytes(data[i:i + 4], "little")
            i += 4
        for _ in range(length):
            out.append(out[-offset])
    if len(out) != n:
        raise ValueError("snappy: length mismatch")
    return bytes(out)


def _crc32c_table():
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


CRC32C_TABLE = _crc32c_table()


def crc32c(data):
    c = 0xFFFFFFFF
    for b in data:
        c = CRC32C_TABLE[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


# --------------------------------------------------------------------------------------------
# Remote read.

def read_request(start_ms, end_ms, response_type):
    matcher = pb_int(1, 2) + pb_bytes(2, b"__name__") + pb_bytes(3, b"fx_.*")  # RE
    query = pb_int(1, start_ms) + pb_int(2, end_ms) + pb_bytes(3, matcher)
    return pb_bytes(1, query) + pb_int(2, response_type)


def post_read(port, body):
    req = urllib.request.Request(
        "http://127.0.0.1:%d/api/v1/read" % port, data=snappy_compress_literal(body),
        headers={"Content-Type": "application/x-protobuf", "Content-Encoding": "snappy",
                 "X-Prometheus-Remote-Read-Version": "0.1.0"}, method="POST")
    with urllib.request.urlopen(req, timeout=60) as resp:
        return resp.headers.get("Content-Type", ""), resp.read()


def parse_labels(buf_list):
    labels = []
    for raw in buf_list:
        fields = {num: val for num, _, val in pb_parse(raw)}
        labels.append((fields.get(1, b"").decode(), fields.get(2, b"").decode()))
    name = dict(labels).get("__name__", "")
    rest = ",".join('%s="%s"' % (k, v) for k, v in sorted(labels) if k != "__name__")
    return "%s{%s}" % (name, rest)


def read_chunks(port, start_ms, end_ms):
    ctype, body = post_read(port, read_request(start_ms, end_ms, 1))
    if "x-streamed-protobuf" not in ctype:
        raise RuntimeError("unexpected content type %r" % ctype)
    out = {}  # labels -> [(min, max, data)]
    i = 0
    while i < len(body):
        size, i = read_uvarint(body, i)
        crc = struct.unpack(">I", body[i:i + 4])[0]
        msg = body[i + 4:i + 4 + size]
        i += 4 + size
        if crc32c(msg) != crc:
            raise RuntimeError("frame CRC mismatch")
        for num, _, series_raw in pb_parse(msg):
            if num != 1:
                continue
            label_raw, chunks = [], []
            for fnum, _, val in pb_parse(series_raw):
                if fnum == 1:
                    label_raw.append(val)
                elif fnum == 2:
                    c = {n: v for n, _, v in pb_parse(val)}
                    if c.get(3, 0) != 1:
                        raise RuntimeError("non-XOR chunk encoding %r" % c.get(3))
                    chunks.append((to_int64(c.get(1, 0)), to_int64(c.get(2, 0)), c.get(4, b"")))
            out.setdefault(parse_labels(label_raw), []).extend(chunks)
    return out


def read_samples(port, start_ms, end_ms):
    _, body = post_read(port, read_request(start_ms, end_ms, 0))
    msg = snappy_decompress(body)
    out = {}
    for num, _, result in pb_parse(msg):
        for rnum, _, ts_raw in pb_parse(result):
            label_raw, samples = [], []
            for fnum, _, val in pb_parse(ts_raw):
                if fnum == 1:
                    label_raw.append(val)
                elif fnum == 2:
                    s = {n: v for n, _, v in pb_parse(val)}
                    vbits = struct.unpack("<Q", s.get(1, b"\0" * 8))[0]
                    samples.append((to_int64(s.get(2, 0)), vbits))
            out[parse_labels(label_raw)] = samples
    return out


# --------------------------------------------------------------------------------------------

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(port, proc, deadline_s=60):
    end = time.time() + deadline_s
    while time.time() < end:
        if proc.poll() is not None:
            raise RuntimeError("prometheus exited with %d" % proc.returncode)
        try:
            with urllib.request.urlopen("http://127.0.0.1:%d/-/ready" % port, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise RuntimeError("prometheus not ready")


def same_value(want, got_bits):
    if math.isnan(want):
        return math.isnan(bits_to_float(got_bits))
    if fbits(want) == 0x8000000000000000:
        return got_bits in (0, 0x8000000000000000)  # proto3 omits -0.0 as a zero value
    return fbits(want) == got_bits


def truth_bits(want, got_bits):
    """Fixture value bits: Prometheus' own, except -0.0 that the SAMPLES response flattens."""
    return fbits(want) if fbits(want) == 0x8000000000000000 else got_bits


def dod_buckets(samples):
    seen = set()
    for k in range(2, len(samples)):
        dod = (samples[k][0] - samples[k - 1][0]) - (samples[k - 1][0] - samples[k - 2][0])
        for n in (0, 14, 17, 20, 64):
            if n == 0 and dod == 0 or n == 64 or (n and -(2 ** (n - 1) - 1) <= dod <= 2 ** (n - 1)):
                seen.add(n)
                break
    return seen


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "tests",
                                                  "golden", "chunks"))
    ap.add_argument("--prometheus", default="/usr/bin/prometheus")
    ap.add_argument("--promtool", default="/usr/bin/promtool")
    args = ap.parse_args()

    series = gen_series()
    tmp = tempfile.mkdtemp(prefix="chunk-fixtures-")
    proc = None
    try:
        om = os.path.join(tmp, "input.om")
        data_dir = os.path.join(tmp, "data")
        write_openmetrics(om, series)
        subprocess.run([args.promtool, "tsdb", "create-blocks-from", "openmetrics", "-q", om,
                        data_dir], check=True)
        cfg = os.path.join(tmp, "prometheus.yml")
        with open(cfg, "w") as f:
            f.write("global:\n  scrape_interval: 1h\n")
        port = free_port()
        proc = subprocess.Popen(
            [args.prometheus, "--config.file=" + cfg, "--storage.tsdb.path=" + data_dir,
             "--storage.tsdb.retention.time=100y", "--web.listen-address=127.0.0.1:%d" % port],
            stdout=subprocess.DEVNULL, stderr=open(os.path.join(tmp, "prometheus.log"), "w"))
        wait_ready(port, proc)
        start_ms = min(s[0][0] for s in series.values()) - 1
        end_ms = max(s[-1][0] for s in series.values()) + 1
        chunks = read_chunks(port, start_ms, end_ms)
        samples = read_samples(port, start_ms, end_ms)
    finally:
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        shutil.rmtree(tmp, ignore_errors=True)

    if set(chunks) != set(series) or set(samples) != set(series):
        raise SystemExit("series mismatch: %s vs %s" % (sorted(chunks), sorted(series)))
    lines = ["# XOR chunks read from Prometheus 2.42 via remote read; made by",
             "# scripts/make-chunk-fixtures.py (see its docstring). Do not edit by hand."]
    corpus = []
    buckets = set()
    for labels in sorted(series):
        want = series[labels]
        got = samples[labels]
        if len(want) != len(got) or any(w[0] != g[0] or not same_value(w[1], g[1])
                                         for w, g in zip(want, got)):
            raise SystemExit("samples of %s differ from the input" % labels)
        got = [(g[0], truth_bits(w[1], g[1])) for w, g in zip(want, got)]
        lines.append("series " + labels)
        total = 0
        for idx, (mint, maxt, data) in enumerate(sorted(chunks[labels])):
            in_chunk = [s for s in got if mint <= s[0] <= maxt]
            count = int.from_bytes(data[:2], "big")
            if count != len(in_chunk):
                raise SystemExit("%s chunk %d: header %d, samples %d" % (labels, idx, count,
                                                                          len(in_chunk)))
            total += count
            buckets |= dod_buckets(in_chunk)
            lines.append("chunk %d %d %s" % (mint, maxt, data.hex()))
            lines.extend("s %d %016x" % s for s in in_chunk)
            if idx < 2:
                corpus.append(("%s_%d" % (labels.split("{")[0] + "_" +
                                          labels.split('"')[1], idx), data))
        if total != len(got):
            raise SystemExit("%s: chunks hold %d samples, series has %d" % (labels, total,
                                                                            len(got)))
    if buckets != {0, 14, 17, 20, 64}:
        raise SystemExit("dod buckets covered: %s" % sorted(buckets))

    os.makedirs(os.path.join(args.out, "corpus"), exist_ok=True)
    with open(os.path.join(args.out, "prometheus-2.42.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")
    for name, data in corpus:
        with open(os.path.join(args.out, "corpus", name + ".bin"), "wb") as f:
            f.write(data)
    n_chunks = sum(len(c) for c in chunks.values())
    print("wrote %d series, %d chunks, %d samples to %s" % (
        len(series), n_chunks, sum(len(s) for s in series.values()), args.out))


if __name__ == "__main__":
    sys.exit(main())
