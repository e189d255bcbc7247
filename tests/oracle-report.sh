#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# shardoracle balance / compare and the report formats: counts agree with `place`, JSON parses,
# CSV rows have the header's column count, the HTML report is self-contained, and bad input exits 2
# with one line naming the problem.
. "$(dirname "$0")/oracle-lib.sh"

# 1. balance counts = what `place` says, server by server (weighted pool b, a named pool c).
for c in b_md5_ketama c_fnv1a_64_modula; do
    "$oracle" place -c "$data/placement/$c.yml" --hex "$keys" | cut -f2 | sort | uniq -c |
        awk '{ print $2 "\t" $1 }' | sort > "$tmp/want"
    "$oracle" balance -c "$data/placement/$c.yml" --hex --json "$keys" > "$tmp/b.json"
    /usr/bin/python3 -c 'import json,sys
d = json.load(open(sys.argv[1]))
for s in d["servers"]:
    if s["keys"]: print("%s\t%d" % (s["address"], s["keys"]))' "$tmp/b.json" | sort > "$tmp/got"
    cmp -s "$tmp/got" "$tmp/want" || { echo "FAIL: balance $c differs from place"; diff "$tmp/want" "$tmp/got"; fail=1; }
    check "balance $c total" "$(json "$tmp/b.json" 'd["keys"]')" 500
done
# Expected figures: hash-space shares sum to 1; weights 1,2,1,3,1 give ketama ~ their weight share.
check "space shares sum" "$(json "$tmp/b.json" 'round(sum(s["space_share"] for s in d["servers"]), 6)')" 1.0
"$oracle" balance -c "$data/placement/b_md5_ketama.yml" --json --synthetic 100000 > "$tmp/b.json"
check "ketama space ~ weight" "$(json "$tmp/b.json" 'all(abs(s["space_share"] - s["weight_share"]) < 0.03 for s in d["servers"])')" True
check "binomial stddev" "$(json "$tmp/b.json" 'round(d["binomial_stddev"], 3)')" \
    "$(/usr/bin/python3 -c 'import math; w=[1/8,2/8,1/8,3/8,1/8]; print(round(math.sqrt(sum(100000*x*(1-x) for x in w)/5), 3))')"
check "peak-to-mean >= 1" "$(json "$tmp/b.json" 'd["peak_to_mean"] >= 1 and d["expected_peak_to_mean"] >= 1')" True
# modula with weights: the hash space is exactly the weight share (slots), within sampling error.
"$oracle" balance -c "$data/placement/b_md5_modula.yml" --json --synthetic 1000 > "$tmp/b.json"
check "modula space = weight" "$(json "$tmp/b.json" 'all(abs(s["space_share"] - s["weight_share"]) < 0.005 for s in d["servers"])')" True

# Sizes: bytes per server add up; keys from stdin.
printf 'alpha\t100\nbeta\t2000\ngamma\t30\n\t7\n' > "$tmp/sized"
"$oracle" balance -c "$data/placement/b_md5_ketama.yml" --sizes --json < "$tmp/sized" > "$tmp/s.json"
check "bytes total" "$(json "$tmp/s.json" 'd["bytes"], sum(s["bytes"] for s in d["servers"])')" "2137 2137"
check "sized keys" "$(json "$tmp/s.json" 'd["keys"]')" 4

# 2. JSON parses for every command (python's json.tool is the judge).
"$oracle" balance -c "$data/placement/c_md5_ketama.yml" --hex --json "$keys" > "$tmp/1.json"
"$oracle" diff -c "$data/placement/a_md5_ketama.yml" --to "$data/placement/e_md5_ketama.yml" --hex --json --sizes /dev/null > "$tmp/2.json"
"$oracle" whatif -c "$data/placement/c_md5_ketama.yml" --failover alpha=10.9.9.9:1 --hex --json "$keys" > "$tmp/3.json"
"$oracle" compare -c "$data/placement/a_md5_ketama.yml" --hex --json --samples 4096 "$keys" > "$tmp/4.json"
for f in 1 2 3 4; do
    /usr/bin/python3 -m json.tool "$tmp/$f.json" > /dev/null || { echo "FAIL: JSON $f does not parse"; fail=1; }
done
check "empty diff" "$(json "$tmp/2.json" 'd["keys"], d["moved"]')" "0 0"

# 3. compare: one row per installed hash x distribution, the config's own marked once; ketama
# moves about the minimum on +1, modula about n/(n+1).
nh=$("$oracle" plugins | awk '$1 == "hash"' | wc -l)
nd=$("$oracle" plugins | awk '$1 == "distribution"' | wc -l)
check "compare rows" "$(json "$tmp/4.json" 'len(d["rows"])')" $((nh * nd))
check "compare current" "$(json "$tmp/4.json" '[(r["hash"], r["distribution"]) for r in d["rows"] if r["current"]]')" "[('md5', 'ketama')]"
check "compare minimum" "$(json "$tmp/4.json" 'd["minimum_fraction"]')" 0.25
check "compare md5 ketama +1" "$(json "$tmp/4.json" '[r["moved_plus_one"] for r in d["rows"] if r["current"]][0]')" \
    "$("$oracle" whatif -c "$data/placement/a_md5_ketama.yml" --add 203.0.113.1:6379:1 --hex --json "$keys" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["moved"])')"
check "compare modula moves more" "$(json "$tmp/4.json" 'min(r["moved_fraction_plus_one"] for r in d["rows"] if r["distribution"] == "modula") > 0.6')" True

# 4. CSV: every row has the header's column count (no field here contains a comma).
"$oracle" balance -c "$data/placement/b_md5_ketama.yml" --hex --csv --sizes /dev/null > "$tmp/1.csv"
"$oracle" diff -c "$data/placement/a_md5_ketama.yml" --to "$data/placement/e_md5_ketama.yml" --hex --csv "$keys" > "$tmp/2.csv"
"$oracle" whatif -c "$data/placement/c_md5_ketama.yml" --remove gamma --add 10.0.0.1:1:2 --hex --csv --sizes /dev/null > "$tmp/3.csv"
"$oracle" compare -c "$data/placement/a_md5_ketama.yml" --hex --csv --samples 4096 "$keys" > "$tmp/4.csv"
for f in 1 2 3 4; do
    bad=$(tr -d '\r' < "$tmp/$f.csv" | awk -F, 'NR == 1 { n = NF } NF != n { print NR ": " NF " columns, header " n }')
    [ -z "$bad" ] || { echo "FAIL: CSV $f: $bad"; fail=1; }
    [ "$(wc -l < "$tmp/$f.csv")" -ge 2 ] || { echo "FAIL: CSV $f has no rows"; fail=1; }
done
check "diff CSV rows" "$(wc -l < "$tmp/2.csv" | tr -d ' ')" 5
check "whatif CSV rows" "$(wc -l < "$tmp/3.csv" | tr -d ' ')" 6

# 5. HTML: written, charts inline, nothing fetched from anywhere.
"$oracle" whatif -c "$data/placement/a_md5_ketama.yml" --add 127.0.0.1:27004:1 --hex --html "$tmp/d.html" "$keys" > /dev/null
"$oracle" balance -c "$data/placement/b_md5_ketama.yml" --hex --html "$tmp/b.html" "$keys" > /dev/null
"$oracle" compare -c "$data/placement/a_md5_ketama.yml" --hex --samples 4096 --html "$tmp/c.html" "$keys" > /dev/null
for f in d b c; do
    [ -s "$tmp/$f.html" ] || { echo "FAIL: no HTML $f"; fail=1; continue; }
    grep -q '<svg' "$tmp/$f.html" || { echo "FAIL: HTML $f has no chart"; fail=1; }
    ! grep -qiE 'https?://|<script|<link|src=' "$tmp/$f.html" || { echo "FAIL: HTML $f is not self-contained"; fail=1; }
    grep -q '</html>' "$tmp/$f.html" || { echo "FAIL: HTML $f is cut short"; fail=1; }
done
grep -q '25.00%' "$tmp/d.html" || { echo "FAIL: HTML diff lacks the minimum"; fail=1; }

# 6. Synthetic keys: the pattern, and counts.
"$oracle" balance -c "$data/placement/a_md5_ketama.yml" --synthetic 1000 --pattern 'user:%d:x' --json > "$tmp/y.json"
check "synthetic count" "$(json "$tmp/y.json" 'd["keys"]')" 1000
printf 'user:0:x\nuser:999:x\n' > "$tmp/two"
check "synthetic keys are the pattern" "$("$oracle" diff -c "$data/placement/a_md5_ketama.yml" \
    --to "$data/placement/e_md5_ketama.yml" --list --synthetic 1000 --pattern 'user:%d:x' | cut -f1 | grep -c '^user:[0-9]*:x$')" \
    "$("$oracle" diff -c "$data/placement/a_md5_ketama.yml" --to "$data/placement/e_md5_ketama.yml" --json --synthetic 1000 --pattern 'user:%d:x' | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["moved"])')"

# Edge cases: a one-server pool (never hashed), and every server ejected (no live server).
printf 'one:\n  listen: 127.0.0.1:1\n  servers:\n   - 127.0.0.1:2:1\n' > "$tmp/one.yml"
"$oracle" whatif -c "$tmp/one.yml" --eject 127.0.0.1:2 --synthetic 100 --json > "$tmp/e.json"
check "all ejected" "$(json "$tmp/e.json" 'd["moved"], d["new"]["unplaced_keys"]')" "100 100"
"$oracle" whatif -c "$tmp/one.yml" --add 127.0.0.1:3:1 --synthetic 1000 --json > "$tmp/e.json"
check "one -> two servers minimum" "$(json "$tmp/e.json" 'd["minimum_fraction"]')" 0.5

# 7. Bad input: exit 2, one line on stderr, naming the problem.
: > "$tmp/in"
expect() { # expect CODE PATTERN -- ARGS...
    code=$1; pattern=$2; shift 3
    "$oracle" "$@" < "$tmp/in" > "$tmp/out" 2> "$tmp/err"
    got=$?
    if [ "$got" -ne "$code" ]; then
        echo "FAIL: shardoracle $*: exit $got, want $code ($(cat "$tmp/err"))"; fail=1
    elif [ "$(wc -l < "$tmp/err")" -ne 1 ]; then
        echo "FAIL: shardoracle $*: not one line on stderr:"; cat "$tmp/err"; fail=1
    elif ! grep -qF -- "$pattern" "$tmp/err"; then
        echo "FAIL: shardoracle $*: no '$pattern' in: $(cat "$tmp/err")"; fail=1
    fi
}
a="$data/placement/a_md5_ketama.yml"; c="$data/placement/c_md5_ketama.yml"
expect 2 "whatif: --remove 'nosuch': no server named 'nosuch' in pool 'alpha' (names: 127.0.0.1:27001, 127.0.0.1:27002, 127.0.0.1:27003)" -- whatif -c "$a" --remove nosuch
expect 2 "--add:1:17: pool 'alpha': key 'servers': invalid weight 'x'" -- whatif -c "$a" --add 127.0.0.1:27009:x
expect 2 "has no weight" -- whatif -c "$a" --add 127.0.0.1
expect 2 "has more than one space" -- whatif -c "$a" --add "127.0.0.1:1:1 a b"
expect 2 "duplicate server name '127.0.0.1:27002'" -- whatif -c "$a" --add 127.0.0.1:27002:1
expect 2 "duplicate server name 'beta'" -- whatif -c "$c" --rename alpha=beta
expect 2 "--hash: pool 'alpha': key 'hash': unknown hash 'nope' (expected one of: crc16" -- whatif -c "$a" --hash nope
expect 2 "unknown distribution 'nope'" -- whatif -c "$a" --distribution nope
expect 2 "--weight: pool 'alpha': key 'servers': invalid weight '0'" -- whatif -c "$a" --weight 127.0.0.1:27001=0
expect 2 "--weight '127.0.0.1:27001': expected NAME=WEIGHT" -- whatif -c "$a" --weight 127.0.0.1:27001
expect 2 "--failover 'zeta=1.2.3.4:5': no server named 'zeta'" -- whatif -c "$c" --failover zeta=1.2.3.4:5
expect 2 "127.0.0.1:27002 is already the address of server 'beta'" -- whatif -c "$c" --failover alpha=127.0.0.1:27002
expect 2 "--eject 'nosuch': no server named 'nosuch'" -- whatif -c "$a" --eject nosuch
expect 2 "nothing to change" -- whatif -c "$a"
expect 2 "--max-moved 'lots' is not a percentage (expected a number 0..100)" -- diff -c "$a" --to "$a" --max-moved lots
expect 2 "--max-moved '120' is not a percentage" -- whatif -c "$a" --eject 127.0.0.1:27001 --max-moved 120
expect 2 "-c OLD and --to NEW are required" -- diff -c "$a"
expect 2 "has no pool 'alpha' (as in the old config): choose one with --to-pool" -- diff -c "$a" --to "$SP_SRCDIR/conf/demo.yml"
expect 2 "--synthetic '1e6' is not a whole number" -- balance -c "$a" --synthetic 1e6
expect 2 "--pattern 'user': needs exactly one %d" -- balance -c "$a" --synthetic 5 --pattern user
expect 2 "--synthetic and a key file" -- balance -c "$a" --synthetic 5 /dev/null
expect 2 "option '--pool' needs a value" -- balance -c "$a" --pool
expect 2 "bad option '--frob'" -- compare -c "$a" --frob
expect 2 "/nonexistent/keys: cannot read keys" -- balance -c "$a" /nonexistent/keys
expect 2 "--html /nonexistent/dir/x.html: cannot write" -- balance -c "$a" --html /nonexistent/dir/x.html
printf 'one:\n  listen: 127.0.0.1:1\n  servers:\n   - 127.0.0.1:2:1\n' > "$tmp/one.yml"
expect 2 "--remove '127.0.0.1:2': it is the last server of pool 'one'" -- whatif -c "$tmp/one.yml" --remove 127.0.0.1:2
printf 'foo\t12\nbar\n' > "$tmp/in"
expect 2 "<stdin>:2: expected KEY<TAB>SIZE" -- balance -c "$a" --sizes
printf '66\n6g\n' > "$tmp/in"
expect 2 "<stdin>:2: bad hex digit 0x67 ('g') at byte 1" -- diff -c "$a" --to "$a" --hex
# 8. The fixes of issue #10.  place: a bad line leaves no partial answer on stdout, piped or in a
# file (appended to: what was there stays).
printf '66\n6f6f\n6g\n' > "$tmp/in"
"$oracle" place -c "$a" --hex < "$tmp/in" 2>/dev/null | cat > "$tmp/piped"
check "place: nothing piped after a bad line" "$(wc -c < "$tmp/piped" | tr -d ' ')" 0
echo before > "$tmp/file"
"$oracle" place -c "$a" --hex < "$tmp/in" >> "$tmp/file" 2>/dev/null
check "place: a file keeps only what it had" "$(cat "$tmp/file")" before
# compare: a refusal in full (below the table, once per reason), empty CSV figures for it, the
# "moves too much" rule and diff's tolerance spelt out.
b="$data/placement/b_md5_ketama.yml"
"$oracle" compare -c "$b" --synthetic 500 --samples 1024 > "$tmp/c.txt"
grep -q "jump  *- .*refused \[1\]$" "$tmp/c.txt" || { echo "FAIL: compare: no refusal note in the table"; fail=1; }
grep -q "^  \[1\] jump: .*cannot honour unequal weights (use rendezvous)$" "$tmp/c.txt" || { echo "FAIL: compare: the refusal is not given in full"; cat "$tmp/c.txt"; fail=1; }
check "compare: one note per reason" "$(grep -c '^  \[[0-9]*\] ' "$tmp/c.txt")" 1
grep -q "moves too much: more than the minimum x 1.25 + 2 points" "$tmp/c.txt" || { echo "FAIL: compare: rule not labelled"; fail=1; }
"$oracle" compare -c "$b" --synthetic 500 --samples 1024 --csv > "$tmp/c.csv"
check "compare CSV: refused rows have no figures" "$(grep '^md5,jump,' "$tmp/c.csv" | cut -d, -f6-11)" ",,,,,"
"$oracle" compare -c "$b" --synthetic 500 --samples 1024 --html "$tmp/c2.html" > /dev/null
grep -q 'translate(0,18)' "$tmp/c2.html" || { echo "FAIL: compare HTML: no room above the plot"; fail=1; }
"$oracle" whatif -c "$a" --add 127.0.0.1:9:1 --synthetic 2000 > "$tmp/w.txt"
grep -q "^  tolerance  *[0-9.]*% = the minimum + a quarter of it" "$tmp/w.txt" || { echo "FAIL: whatif: tolerance not labelled"; cat "$tmp/w.txt"; fail=1; }
# compare shows progress on a terminal (script(1) gives it one) once it runs past a second.
if command -v script >/dev/null 2>&1; then
    script -qec "'$oracle' compare -c '$a' --synthetic 1000000 --samples 1024" /dev/null > "$tmp/tty" 2>&1
    grep -aq "keys/s" "$tmp/tty" || { echo "FAIL: compare showed no progress on a terminal"; fail=1; }
else
    echo "note: script(1) is missing (util-linux): compare's progress on a terminal not checked"
fi
exit $fail
