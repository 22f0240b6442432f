#!/bin/sh
# Checks that every subcommand answers --help with its flags and that unknown flags fail.
set -eu
bin=$1
fail() { echo "FAIL: $*" >&2; exit 1; }
"$bin" --help | grep -q 'query' || fail "top-level help lacks query"
for sub in query store sidecar promqltest demo version; do
  "$bin" "$sub" --help >/dev/null || fail "$sub --help"
done
"$bin" query --help | grep -q -- '--query.replica-label' || fail "query help lacks --query.replica-label"
"$bin" query --help | grep -q -- '--store.response-timeout' || fail "query help lacks --store.response-timeout"
"$bin" sidecar --help | grep -q -- '--prometheus.url' || fail "sidecar help lacks --prometheus.url"
if "$bin" query --no-such-flag 2>/dev/null; then fail "unknown flag accepted"; fi
"$bin" version | grep -q '^paodin, version ' || fail "version output"
echo "cmd help: all checks passed"
