#!/bin/sh
# `paodin promql parse|format`: output on good input, positioned error and non-zero exit on bad.
set -u
bin="$1"
fail=0
check() {
  if [ "$2" != "$3" ]; then
    echo "FAIL $1: got [$2], want [$3]"
    fail=1
  fi
}
check format "$("$bin" promql format 'sum(rate(foo{b="1",a="2"}[5m])) by (job)')" \
  'sum by (job) (rate(foo{a="2",b="1"}[5m]))'
check parse "$("$bin" promql parse 'foo + 1')" "$(printf 'Binary + :: instant vector @ 0-7\n  VectorSelector foo :: instant vector @ 0-3\n  NumberLiteral 1 :: scalar @ 6-7')"
check negative "$("$bin" promql format -- '-1')" '-1'
err="$("$bin" promql format 'sum by (a) (x) by (b)' 2>&1 >/dev/null)"
check error-text "$err" '1:16: parse error: unexpected <by>'
"$bin" promql parse 'foo{' >/dev/null 2>&1
check parse-exit "$?" 1
"$bin" promql format 'foo bar' >/dev/null 2>&1
check format-exit "$?" 1
if [ "$fail" -eq 0 ]; then
  echo "6 passed, 0 failed"
fi
exit "$fail"
