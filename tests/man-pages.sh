#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The man pages stay true: groff formats them without a warning, shardproxy(8) describes every
# option `shardproxy --help` lists, and shardoracle(1) every command of `shardoracle --help`.
set -u
man8="$SP_SRCDIR/man/shardproxy.8"
man1="$SP_SRCDIR/man/shardoracle.1"
fail=0
if ! command -v groff >/dev/null 2>&1; then
    echo "groff is missing (Debian: groff-base, RHEL: groff-base; scripts/install-deps installs it)"
    exit 1
fi
for m in "$man8" "$man1"; do
    warnings=$(LC_ALL=C groff -man -ww -z "$m" 2>&1)
    [ -z "$warnings" ] || { echo "FAIL: groff warns about $m:"; echo "$warnings"; fail=1; }
done
# Long options as the man source spells them (\- for each dash).
for opt in $("$SP_BUILDDIR/proxy/shardproxy" --help 2>&1 | sed -n 's/^ *\(-[a-zA-Z]\), \(--[a-z-]*\).*/\1 \2/p; s/^ *\(--[a-z-]*\)=.*/\1/p'); do
    roff=$(printf '%s' "$opt" | sed 's/-/\\\\-/g')
    grep -q -- "$roff" "$man8" || { echo "FAIL: shardproxy.8 does not describe $opt"; fail=1; }
done
for cmd in $("$SP_BUILDDIR/oracle/shardoracle" --help | sed -n 's/^  shardoracle \([a-z]*\).*/\1/p'); do
    grep -q "^\.B $cmd\b" "$man1" || { echo "FAIL: shardoracle.1 does not describe '$cmd'"; fail=1; }
done
exit $fail
