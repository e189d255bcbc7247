#!/bin/sh
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
cases=0
for c in $(tail -n +2 "$data/placement/cases.tsv" | cut -f1); do
    tail -n +2 "$data/placement/$c.tsv" > "$tmp/want"
    if ! "$oracle" place -c "$data/placement/$c.yml" --hex "$data/placement_keys.hex" > "$tmp/got"; then
        echo "FAIL: place $c exited non-zero"; fail=1
    elif ! cmp -s "$tmp/want" "$tmp/got"; then
        echo "FAIL: placement $c differs from nutcracker ($(diff "$tmp/want" "$tmp/got" | grep -c '^>') keys)"
        fail=1
    fi
    [ "$(wc -l < "$tmp/want")" -eq 500 ] || { echo "FAIL: $c.tsv has not 500 rows"; fail=1; }
    cases=$((cases + 1))
done
[ "$cases" -eq 105 ] || { echo "FAIL: expected 105 placement cases, saw $cases"; fail=1; }
echo "hash columns: $checked, placement cases: $cases"
exit $fail
