#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Moving a nutcracker pool with unnamed servers to a Sentinel pool moves no key: each server keeps
# its address as its ring name and sentinel_masters maps that name to the Sentinel master name
# (docs/operations.md, "Moving to a Sentinel pool").  For every hash, with ketama and modula, the
# converted config must place every golden key where nutcracker placed it (shardoracle place ==
# the observed .tsv), `shardoracle diff` must move 0 keys, and a failover must move none either.
# The control: naming the servers after their masters instead moves keys under ketama.
. "$(dirname "$0")/oracle-lib.sh"

# to_sentinel SEED OUT MAPPED: the seed's pool with three Sentinels; MAPPED=yes keeps each
# address as the server's name and maps it to master g<port>, MAPPED=no names servers g<port>.
to_sentinel() {
    awk -v mapped="$3" '
        /^  servers:$/ {
            print "  sentinels:"; print "   - 127.0.0.1:26379"; print "   - 127.0.0.1:26380"
            print "   - 127.0.0.1:26381"
            if (mapped == "yes") print "  sentinel_masters:"
            in_servers = 1; n = 0; next
        }
        in_servers && /^   - / {
            entry = substr($0, 6); addr = entry; sub(/:[0-9]+$/, "", addr)
            port = addr; sub(/.*:/, "", port)
            if (mapped == "yes") { maps[n] = "    " addr ": g" port; lines[n] = "   - " entry " " addr }
            else lines[n] = "   - " entry " g" port
            n++; next
        }
        { print }
        END {
            if (mapped == "yes") for (i = 0; i < n; i++) print maps[i]
            print "  servers:"
            for (i = 0; i < n; i++) print lines[i]
        }' "$1" > "$2"
}

pairs=0
for seed in "$data"/placement/a_*_ketama.yml "$data"/placement/a_*_modula.yml; do
    c=$(basename "$seed" .yml)
    to_sentinel "$seed" "$tmp/$c.yml" yes
    grep -q '^  sentinel_masters:$' "$tmp/$c.yml" || { echo "FAIL: $c: conversion failed"; fail=1; }
    # Placement equals what nutcracker did with the seed, key for key.
    if ! "$oracle" place -c "$tmp/$c.yml" --hex "$keys" > "$tmp/placed"; then
        echo "FAIL: place on the Sentinel version of $c exited non-zero"; cat "$tmp/$c.yml"; fail=1
    fi
    cut -f1,2 "$tmp/placed" > "$tmp/got"
    tail -n +2 "$data/placement/$c.tsv" | cut -f1,2 > "$tmp/want"
    cmp -s "$tmp/got" "$tmp/want" ||
        { echo "FAIL: $c: the Sentinel version places $(diff "$tmp/want" "$tmp/got" | grep -c '^>') keys elsewhere"; fail=1; }
    "$oracle" diff -c "$seed" --to "$tmp/$c.yml" --json --hex "$keys" > "$tmp/j"
    check "$c: keys moved by the conversion" "$(json "$tmp/j" 'd["moved"]')" 0
    check "$c: keys counted" "$(json "$tmp/j" 'd["keys"]')" 500
    # A failover of the first server (its address changes, its name does not) moves nothing.
    first=$(awk '/^  servers:$/ { getline; print $3; exit }' "$tmp/$c.yml")
    "$oracle" whatif -c "$tmp/$c.yml" --failover "$first=127.0.0.1:27099" --json --hex "$keys" > "$tmp/j"
    check "$c: keys moved by a failover of $first" "$(json "$tmp/j" 'd["moved"]')" 0
    pairs=$((pairs + 1))
done
check "seed configs converted" "$pairs" 24

# The control: servers named after their masters hash differently under ketama.
to_sentinel "$data/placement/a_fnv1a_64_ketama.yml" "$tmp/renamed.yml" no
"$oracle" diff -c "$data/placement/a_fnv1a_64_ketama.yml" --to "$tmp/renamed.yml" --json --hex "$keys" > "$tmp/j"
[ "$(json "$tmp/j" 'd["moved"]')" -gt 100 ] ||
    { echo "FAIL: renaming servers to their masters should move keys under ketama: $(json "$tmp/j" 'd["moved"]')"; fail=1; }

[ "$fail" = 0 ] && echo "ok: $pairs seed configs move 0 keys to their Sentinel versions"
exit $fail
