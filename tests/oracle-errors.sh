#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Bad input to shardoracle: exit code 2 and one line naming the problem.
. "$(dirname "$0")/oracle-lib.sh"

# expect CODE PATTERN -- ARGS...: runs the oracle (stdin from $tmp/in) and checks exit code,
# that stderr is one line, and that it contains PATTERN.
expect() {
    code=$1; pattern=$2; shift 3
    "$oracle" "$@" < "$tmp/in" > "$tmp/out" 2> "$tmp/err"
    got=$?
    lines=$(wc -l < "$tmp/err")
    if [ "$got" -ne "$code" ]; then
        echo "FAIL: shardoracle $*: exit $got, want $code ($(cat "$tmp/err"))"; fail=1
    elif [ "$code" -ne 0 ] && [ "$lines" -ne 1 ]; then
        echo "FAIL: shardoracle $*: $lines lines on stderr:"; cat "$tmp/err"; fail=1
    elif ! grep -qF -- "$pattern" "$tmp/err" "$tmp/out"; then
        echo "FAIL: shardoracle $*: no '$pattern' in: $(cat "$tmp/err")"; fail=1
    fi
}

: > "$tmp/in"
expect 2 "unknown command 'frobnicate'" -- frobnicate
expect 2 "--hash NAME is required" -- hash
expect 2 "unknown hash 'fnv2' (known: crc16, crc32, crc32a" -- hash --hash fnv2
expect 2 "bad option '--bogus'" -- hash --hash md5 --bogus
expect 2 "/nonexistent/keys: cannot read keys: No such file or directory" -- hash --hash md5 /nonexistent/keys
printf '666f6f\n66z6\n' > "$tmp/in"
expect 2 "<stdin>:2: bad hex digit 0x7a ('z') at byte 2" -- hash --hash md5 --hex
printf '666\n' > "$tmp/in"
expect 2 "<stdin>:1: odd number of hex digits (3)" -- hash --hash md5 --hex
: > "$tmp/in"
expect 2 "-c CONF is required" -- place
expect 2 "/nonexistent.yml" -- place -c /nonexistent.yml
printf 'alpha:\n  listen: 127.0.0.1:1\n  hash: nope\n  servers:\n   - 127.0.0.1:2:1\n' > "$tmp/bad.yml"
expect 2 "unknown hash 'nope'" -- place -c "$tmp/bad.yml"
printf 'a:\n  listen: 127.0.0.1:1\n  servers:\n   - 127.0.0.1:2:1\nb:\n  listen: 127.0.0.1:3\n  servers:\n   - 127.0.0.1:4:1\n' > "$tmp/two.yml"
expect 2 "has 2 pools (a, b): choose one with --pool" -- place -c "$tmp/two.yml"
expect 2 "no pool 'c'" -- place -c "$tmp/two.yml" --pool c
expect 2 "audit: -c CONF is required" -- audit
expect 2 "no pool 'c'" -- audit -c "$tmp/two.yml" --pool c
expect 2 "audit: bad option '--bogus'" -- audit -c "$tmp/two.yml" --bogus
expect 2 "audit: --timeout 0 is out of range (expected 1..3600000)" -- audit -c "$tmp/two.yml" --timeout 0
expect 2 "pool 'a' is a memcached pool: the audit needs Redis" -- audit -c "$tmp/two.yml" --pool a
expect 2 "has no Redis pool (redis: true): nothing to audit" -- audit -c "$tmp/two.yml"
expect 2 "migrate: -c CONF and --pool P are required" -- migrate -c "$tmp/two.yml"
expect 2 "pool 'a' has no migrate_from: nothing to migrate" -- migrate -c "$tmp/two.yml" --pool a
expect 2 "no pool 'c'" -- migrate -c "$tmp/two.yml" --pool c
expect 2 "migrate: bad option '--fix'" -- migrate -c "$tmp/two.yml" --pool a --fix
expect 2 "migrate: --rate 0 is out of range (expected 1..4294967295)" -- migrate -c "$tmp/two.yml" --pool a --rate 0
expect 2 "migrate: --batch 'x' is not a whole number" -- migrate -c "$tmp/two.yml" --pool a --batch x
expect 2 "migrate: unexpected operand 'keys'" -- migrate -c "$tmp/two.yml" --pool a keys
expect 2 "diff: --migration needs -c CONF and --pool P" -- diff -c "$tmp/two.yml" --migration
expect 2 "diff: --migration compares two layouts of one pool" -- diff -c "$tmp/two.yml" --pool a --migration --to "$tmp/two.yml"
expect 2 "pool 'a' has no migrate_from: --migration has nothing to compare" -- diff -c "$tmp/two.yml" --pool a --migration
expect 2 "plugin directory (from the command line) does not exist" -- hash --hash md5 --plugin-dir /nonexistent

# And the good paths print what they should.
printf 'foo\n\nbar\n' > "$tmp/in"
expect 0 "" -- hash --hash fnv1a_64
printf '4275688823\n2216829733\n322520602\n' > "$tmp/want"   # the values nutcracker gives (hash.tsv)
if ! "$oracle" hash --hash fnv1a_64 < "$tmp/in" | cmp -s - "$tmp/want"; then
    echo "FAIL: hash of foo, empty, bar"; fail=1
fi
printf 'foo\n' > "$tmp/in"
"$oracle" place -c "$tmp/two.yml" --pool b < "$tmp/in" > "$tmp/out"
[ "$(cat "$tmp/out")" = "$(printf 'foo\t127.0.0.1:4')" ] || { echo "FAIL: one-server place: $(cat "$tmp/out")"; fail=1; }
exit $fail
