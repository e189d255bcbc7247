#!/bin/sh
# Oracle throughput: keys per second for `shardoracle place` (fnv1a_64 + ketama, 8 servers, keys
# from a file) and for `shardoracle hash` with every hash plugin.  CPU seconds are user+sys of the
# oracle alone, so the figure is per core.  Not a test: prints a table.
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

# cpu_seconds CMD...: runs CMD with output to /dev/null, prints user+sys CPU seconds.
cpu_seconds() {
    /usr/bin/time -f '%U %S' -o "$tmp/time" "$@" > /dev/null
    awk '{ printf "%.3f", $1 + $2 }' "$tmp/time"
}
rate() { awk -v n="$n" -v s="$1" 'BEGIN { printf "%.2fM", (s > 0 ? n / s : 0) / 1e6 }'; }

cat "$tmp/keys" > /dev/null   # warm the page cache
printf '%-28s %10s %12s\n' "what ($n keys)" "cpu s" "keys/s/core"
s=$(cpu_seconds "$oracle" place -c "$tmp/pool.yml" "$tmp/keys")
printf '%-28s %10s %12s\n' "place fnv1a_64+ketama x8" "$s" "$(rate "$s")"
for h in $("$oracle" plugins | awk '$1 == "hash" { print $2 }'); do
    s=$(cpu_seconds "$oracle" hash --hash "$h" "$tmp/keys")
    printf '%-28s %10s %12s\n' "hash $h" "$s" "$(rate "$s")"
done
