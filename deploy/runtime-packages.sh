#!/bin/sh
# Prints the Debian packages that hold the shared libraries a binary loads, one per line,
# sorted, without the architecture suffix. Used by the Dockerfile to install only what the
# runtime image needs; fails when a library belongs to no package, so nothing is missed.
# Usage: runtime-packages.sh BINARY
set -eu
bin=${1:?usage: runtime-packages.sh BINARY}
libs=$(ldd "$bin" | awk '/=> \// { print $3 } /^[[:space:]]*\/[^ ]+ \(/ { print $1 }')
if [ -z "$libs" ]; then
  echo "runtime-packages.sh: ldd lists no libraries for $bin" >&2
  exit 1
fi
owner() {
  dpkg-query -S "$1" 2>/dev/null | grep -v '^diversion' | head -n 1 | cut -d: -f1 | cut -d, -f1
}
packages=""
status=0
for lib in $libs; do
  real=$(readlink -f "$lib")
  pkg=""
  # Debian 12 merges /lib into /usr/lib, but dpkg records each file under the path its
  # package ships, so try the path ldd printed, its target, and both with /usr toggled.
  for candidate in "$lib" "$real" "/usr$lib" "/usr$real" "${lib#/usr}" "${real#/usr}"; do
    pkg=$(owner "$candidate")
    if [ -n "$pkg" ]; then break; fi
  done
  if [ -z "$pkg" ]; then
    echo "runtime-packages.sh: no Debian package owns $lib" >&2
    status=1
  else
    packages="$packages $pkg"
  fi
done
printf '%s\n' $packages | sort -u
exit $status
