#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Oracle throughput: keys per second for `shardoracle place` (fnv1a_64 + ketama, 8 servers, keys
# from a file), for the capacity-planning commands `balance`, `diff` and `whatif` (from the file and
# from --synthetic keys), and for `shardoracle hash` with every hash plugin.  CPU seconds are
# user+sys of the oracle alone, so the figure is per core; max RSS (/usr/bin/time %M) shows that
# memory stays constant whatever the key count.  Not a test: prints a table.
#   bench/oracle.sh [BUILD_DIR] [NKEYS]     (defaults: build, 10000000)
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/build}
n=${2:-10000000}
oracle="$build/oracle/shardoracle"
export SHARDPROXY_PLUGIN_PATH="$build/plugins/hash/.libs:$build/plugins/dist/.libs"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

awk -v n="$n" 'BEGIN { for (i = 0; i < n; i++) printf "user:%d:session\n", i * 7919 }' > "$tmp/keys"
cat > "$tmp/pool.yml" <<YAML
bench:
  listen: 127.0.0.1:22121
  hash: fnv1a_64
  distribution: ketama
  servers:
YAML
for i in 1 2 3 4 5 6 7 8; do echo "   - 10.0.0.$i:6379:1" >> "$tmp/pool.yml"; done
{ cat "$tmp/pool.yml"; echo "   - 10.0.0.9:6379:1"; } > "$tmp/pool9.yml"

# cpu_seconds CMD...: runs CMD with output to /dev/null, prints user+sys CPU seconds; the max RSS
# in KB is left in $tmp/rss.
cpu_seconds() {
    /usr/bin/time -f '%U %S %M' -o "$tmp/time" "$@" > /dev/null
    awk '{ printf "%.3f", $1 + $2 }' "$tmp/time"
    awk '{ print $3 }' "$tmp/time" > "$tmp/rss"
}
rate() { awk -v n="$n" -v s="$1" 'BEGIN { printf "%.2fM", (s > 0 ? n / s : 0) / 1e6 }'; }
row() { # row LABEL CMD...
    label=$1; shift
    s=$(cpu_seconds "$@")
    printf '%-34s %8s %12s %10s\n' "$label" "$s" "$(rate "$s")" "$(cat "$tmp/rss")"
}

cat "$tmp/keys" > /dev/null   # warm the page cache
printf '%-34s %8s %12s %10s\n' "what ($n keys)" "cpu s" "keys/s/core" "max RSS KB"
row "place fnv1a_64+ketama x8" "$oracle" place -c "$tmp/pool.yml" "$tmp/keys"
row "balance (file)" "$oracle" balance -c "$tmp/pool.yml" "$tmp/keys"
row "balance (synthetic)" "$oracle" balance -c "$tmp/pool.yml" --synthetic "$n" --pattern 'user:%d:session'
row "diff 8 -> 9 (file)" "$oracle" diff -c "$tmp/pool.yml" --to "$tmp/pool9.yml" "$tmp/keys"
row "diff 8 -> 9 (synthetic)" "$oracle" diff -c "$tmp/pool.yml" --to "$tmp/pool9.yml" --synthetic "$n" --pattern 'user:%d:session'
row "whatif --add (synthetic)" "$oracle" whatif -c "$tmp/pool.yml" --add 10.0.0.9:6379:1 --synthetic "$n" --pattern 'user:%d:session'
row "diff --list (file, to /dev/null)" "$oracle" diff -c "$tmp/pool.yml" --to "$tmp/pool9.yml" --list "$tmp/keys"
for h in $("$oracle" plugins | awk '$1 == "hash" { print $2 }'); do
    row "hash $h" "$oracle" hash --hash "$h" "$tmp/keys"
done
