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
for flag in --http-address --grpc-address --store --endpoint --store.sd-files --store.sd-interval \
    --store.response-timeout --store.unhealthy-timeout --query.replica-label --deduplication.func \
    --query.timeout --query.max-concurrent --query.lookback-delta --query.partial-response \
    --no-query.partial-response --query.default-step --query.default-evaluation-interval \
    --query.max-samples --query.label-cache-ttl --selector-label --web.route-prefix --web.external-prefix \
    --web.disable-cors --log.level --log.format --grpc-client-tls-secure --grpc-client-tls-cert \
    --grpc-client-tls-key --grpc-client-tls-ca --grpc-client-server-name \
    --grpc-client-tls-skip-verify --grpc-server-tls-cert --grpc-server-tls-key \
    --grpc-server-tls-client-ca; do
  "$bin" query --help | grep -q -- "$flag" || fail "query help lacks $flag"
done
for sub in store sidecar; do
  for flag in --grpc-address --grpc-server-tls-cert --grpc-server-tls-key --grpc-server-tls-client-ca; do
    "$bin" "$sub" --help | grep -q -- "$flag" || fail "$sub help lacks $flag"
  done
done
for flag in --http-address --grpc-address --series; do
  "$bin" demo --help | grep -q -- "$flag" || fail "demo help lacks $flag"
done
if "$bin" query --no-such-flag 2>/dev/null; then fail "unknown flag accepted"; fi
msg=$("$bin" query --no-such-flag 2>&1 || true)
echo "$msg" | grep -q -- '--no-such-flag' || fail "unknown flag message does not name the flag: $msg"
msg=$("$bin" query --query.timeout=soon 2>&1 || true)
echo "$msg" | grep -q -- 'invalid --query.timeout' || fail "bad duration message: $msg"
msg=$("$bin" query --grpc-client-tls-secure --grpc-client-tls-cert=/nonexistent/c.pem 2>&1 || true)
echo "$msg" | grep -q -- '--grpc-client-tls-key' || fail "client cert without key message: $msg"
msg=$("$bin" query --grpc-server-tls-cert=/nonexistent/s.pem --grpc-server-tls-key=/nonexistent/s.key 2>&1 || true)
echo "$msg" | grep -q -- '/nonexistent/s.pem' || fail "unreadable server cert message: $msg"
"$bin" version | grep -q '^paodin, version ' || fail "version output"
echo "cmd help: all checks passed"
