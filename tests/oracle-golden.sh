#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# shardoracle against nutcracker's observed figures: every column of hash.tsv and every placement
# case, byte for byte.
. "$(dirname "$0")/oracle-lib.sh"
checked=0

# Hashes: the key column through `hash --hex` must reproduce each hash column.
tail -n +2 "$data/hash.tsv" | cut -f1 > "$tmp/keys"
rows=$(wc -l < "$tmp/keys")
[ "$rows" -ge 345 ] || { echo "FAIL: hash.tsv has only $rows rows"; fail=1; }
col=2
for name in $(head -n 1 "$data/hash.tsv" | cut -f2-); do
    tail -n +2 "$data/hash.tsv" | cut -f$col > "$tmp/want"
    if ! "$oracle" hash --hash "$name" --hex "$tmp/keys" > "$tmp/got"; then
        echo "FAIL: shardoracle hash --hash $name exited non-zero"; fail=1
    elif ! cmp -s "$tmp/want" "$tmp/got"; then
        echo "FAIL: hash $name differs from nutcracker:"; diff "$tmp/want" "$tmp/got" | head -5; fail=1
    fi
    checked=$((checked + 1))
    col=$((col + 1))
done
[ "$checked" -eq 12 ] || { echo "FAIL: expected 12 hash columns, saw $checked"; fail=1; }

# Placement: `place --hex` prints key_hex<TAB>server[<TAB>name], the golden files' row format.
# check_cases DIR KEYS ROWS: every case of DIR/cases.tsv, ROWS keys each; sets $cases.
check_cases() {
    cases=0
    for c in $(tail -n +2 "$1/cases.tsv" | cut -f1); do
        tail -n +2 "$1/$c.tsv" > "$tmp/want"
        if ! "$oracle" place -c "$1/$c.yml" --hex "$2" > "$tmp/got"; then
            echo "FAIL: place $1/$c exited non-zero"; fail=1
        elif ! cmp -s "$tmp/want" "$tmp/got"; then
            echo "FAIL: placement $1/$c differs from nutcracker ($(diff "$tmp/want" "$tmp/got" | grep -c '^>') keys)"
            fail=1
        fi
        [ "$(wc -l < "$tmp/want")" -eq "$3" ] || { echo "FAIL: $c.tsv has not $3 rows"; fail=1; }
        cases=$((cases + 1))
    done
}
check_cases "$data/placement" "$data/placement_keys.hex" 500
pcases=$cases
[ "$pcases" -eq 105 ] || { echo "FAIL: expected 105 placement cases, saw $pcases"; fail=1; }
# memcached pools (redis: false), observed through nutcracker with memcached backends.
check_cases "$data/memcache" "$data/memcache/keys.hex" 300
mcases=$cases
[ "$mcases" -eq 38 ] || { echo "FAIL: expected 38 memcache placement cases, saw $mcases"; fail=1; }
echo "hash columns: $checked, placement cases: $pcases, memcache placement cases: $mcases"
exit $fail
