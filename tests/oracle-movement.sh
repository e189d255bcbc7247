#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# shardoracle diff/whatif against what nutcracker actually did, and against the arithmetic of the
# least movement: moved sets equal nutcracker's (a_* -> e_*, every hash x distribution), whatif
# edits equal the edited YAML, ejection equals nutcracker's observed placement, and the minimum,
# the excess flags and the failover trap come out as they must.
. "$(dirname "$0")/oracle-lib.sh"

# 1. a (3 servers) -> e (4 servers): the moved set is exactly the keys whose server differs in
# nutcracker's observations, for every hash x distribution; and the count in the report agrees.
pairs=0
for a in "$data"/placement/a_*.yml; do
    c=$(basename "$a" .yml); e="$data/placement/e_${c#a_}.yml"
    "$oracle" diff -c "$a" --to "$e" --list --hex "$keys" | sort > "$tmp/got"
    paste "$data/placement/$c.tsv" "$data/placement/e_${c#a_}.tsv" | tail -n +2 |
        awk -F'\t' '$2 != $4 { print $1 "\t" $2 "\t" $4 }' | sort > "$tmp/want"
    if ! cmp -s "$tmp/got" "$tmp/want"; then
        echo "FAIL: diff $c -> e: moved keys differ from nutcracker's:"; diff "$tmp/want" "$tmp/got" | head -3
        fail=1
    fi
    "$oracle" diff -c "$a" --to "$e" --json --hex "$keys" > "$tmp/j"
    check "diff $c moved count" "$(json "$tmp/j" 'd["moved"]')" "$(wc -l < "$tmp/want" | tr -d ' ')"
    # The same change as an edit: whatif --add must give the same plan as the edited file.
    "$oracle" whatif -c "$a" --add 127.0.0.1:27004:1 --list --hex "$keys" | sort > "$tmp/got2"
    cmp -s "$tmp/got2" "$tmp/want" || { echo "FAIL: whatif --add on $c differs from e_"; fail=1; }
    pairs=$((pairs + 1))
done
check "a/e pairs" "$pairs" 24

# Modula moves about n/(n+1), ketama about the minimum (nutcracker's own figures on the public
# keys: 300-400 of 500 for modula; ketama with md5 131).
check "modula a->e flagged" "$("$oracle" diff -c "$data/placement/a_md5_modula.yml" \
    --to "$data/placement/e_md5_modula.yml" --hex --json "$keys" | /usr/bin/python3 -c \
    'import json,sys; d=json.load(sys.stdin); print(d["excess"], [c["cause"] for c in d["causes"]])')" \
    "True ['modula']"

# 2. Edits use the loader's naming and sorting: port 11211 names a server "host", which sorts
# first and so shifts every modula slot.  whatif must equal a hand-edited YAML.
sed 's/^  servers:$/  servers:\n   - 127.0.0.1:11211:1/' "$data/placement/a_fnv1a_64_modula.yml" > "$tmp/g.yml"
grep -q 11211 "$tmp/g.yml" || { echo "FAIL: could not build the 11211 config"; fail=1; }
"$oracle" diff -c "$data/placement/a_fnv1a_64_modula.yml" --to "$tmp/g.yml" --list --hex "$keys" > "$tmp/want"
"$oracle" whatif -c "$data/placement/a_fnv1a_64_modula.yml" --add 127.0.0.1:11211:1 --list --hex "$keys" > "$tmp/got"
cmp -s "$tmp/got" "$tmp/want" || { echo "FAIL: whatif --add 11211 differs from the edited YAML"; fail=1; }
[ -s "$tmp/want" ] || { echo "FAIL: adding 127.0.0.1:11211 moved nothing"; fail=1; }
# Renaming in a named pool re-sorts (c's order is beta, alpha, delta, gamma): same as the YAML.
sed 's/ alpha$/ zeta/' "$data/placement/c_md5_modula.yml" > "$tmp/c.yml"
"$oracle" diff -c "$data/placement/c_md5_modula.yml" --to "$tmp/c.yml" --list --hex "$keys" > "$tmp/want"
"$oracle" whatif -c "$data/placement/c_md5_modula.yml" --rename alpha=zeta --list --hex "$keys" > "$tmp/got"
cmp -s "$tmp/got" "$tmp/want" || { echo "FAIL: whatif --rename differs from the edited YAML"; fail=1; }
# --remove is the way back from e to a.
paste "$data/placement/e_md5_ketama.tsv" "$data/placement/a_md5_ketama.tsv" | tail -n +2 |
    awk -F'\t' '$2 != $4 { print $1 "\t" $2 "\t" $4 }' | sort > "$tmp/want"
"$oracle" whatif -c "$data/placement/e_md5_ketama.yml" --remove 127.0.0.1:27004 --list --hex "$keys" | sort > "$tmp/got"
cmp -s "$tmp/got" "$tmp/want" || { echo "FAIL: whatif --remove on e_md5_ketama differs from a_"; fail=1; }

# 3. Ejection equals nutcracker's observed placement with the server down (eject/*.tsv): the
# all-up placement, with each moved key taken to its new server.
for y in "$data"/eject/x_*.yml; do
    c=$(basename "$y" .yml)
    name=$(awk -F'\t' '{ print (NF > 1 ? $2 : $1) }' "$data/eject/$c.ejected")
    "$oracle" place -c "$y" --hex "$keys" | cut -f1,2 > "$tmp/up"
    "$oracle" whatif -c "$y" --eject "$name" --list --hex "$keys" > "$tmp/moved"
    awk -F'\t' 'NR == FNR { to[$1] = $3; next } { print $1 "\t" (($1 in to) ? to[$1] : $2) }' \
        "$tmp/moved" "$tmp/up" > "$tmp/got"
    tail -n +2 "$data/eject/$c.tsv" | cut -f1,2 > "$tmp/want"
    cmp -s "$tmp/got" "$tmp/want" || { echo "FAIL: whatif --eject $name on $c differs from nutcracker"; fail=1; }
    [ -s "$tmp/moved" ] || { echo "FAIL: ejecting $name moved nothing"; fail=1; }
done

# 4. The minimum (total variation distance of the weight shares), exact for equal weights.
mk() { # mk FILE N [DIST] [NAMED]: N servers of weight 1
    { printf 'p:\n  listen: 127.0.0.1:1\n  distribution: %s\n  servers:\n' "${3:-ketama}"
      i=1; while [ $i -le "$2" ]; do
          printf '   - 10.0.0.%d:6379:1%s\n' $i "${4:+ s$i}"; i=$((i + 1)); done; } > "$1"
}
mk "$tmp/n3.yml" 3; mk "$tmp/n4.yml" 4; mk "$tmp/n5.yml" 5; mk "$tmp/n10.yml" 10
minimum() { "$oracle" "$@" --json --synthetic 20000 > "$tmp/m.json" && json "$tmp/m.json" 'round(d["minimum_fraction"], 6)'; }
check "add 1 to 3 (1/4)" "$(minimum diff -c "$tmp/n3.yml" --to "$tmp/n4.yml")" 0.25
check "add 2 to 3 (2/5)" "$(minimum diff -c "$tmp/n3.yml" --to "$tmp/n5.yml")" 0.4
check "add 2 to 3 by whatif" "$(minimum whatif -c "$tmp/n3.yml" --add 10.0.0.9:6379:1 --add 10.0.0.8:6379:1)" 0.4
check "remove 1 of 10 (1/10)" "$(minimum whatif -c "$tmp/n10.yml" --remove 10.0.0.7:6379)" 0.1
check "remove 1 of 4 (1/4)" "$(minimum diff -c "$tmp/n4.yml" --to "$tmp/n3.yml")" 0.25
check "eject 1 of 4 (1/4)" "$(minimum whatif -c "$tmp/n4.yml" --eject 10.0.0.2:6379)" 0.25
check "weight 1 -> 3 of 4 (1/4)" "$(minimum whatif -c "$tmp/n4.yml" --weight 10.0.0.1:6379=3)" 0.25
check "remove 2 of 4, weight 1 -> 3 (1/2)" "$(minimum whatif -c "$tmp/n4.yml" --remove 10.0.0.3:6379 --remove 10.0.0.4:6379 --weight 10.0.0.2:6379=3)" 0.5
# ketama moves about the minimum: within the flag's tolerance, and in the right range.
"$oracle" diff -c "$tmp/n3.yml" --to "$tmp/n4.yml" --json --synthetic 50000 > "$tmp/k.json"
check "ketama 3->4 not flagged" "$(json "$tmp/k.json" 'd["excess"]')" False
check "ketama 3->4 moves 20-30%" "$(json "$tmp/k.json" '0.2 < d["moved_fraction"] < 0.3')" True

# 5. Failover: the same logical server at a new address.  Named: nothing moves.  Unnamed (the
# trap): its name is its address, keys move, the report says why and recommends names.
mk "$tmp/named.yml" 4 ketama named
"$oracle" whatif -c "$tmp/named.yml" --failover s2=10.0.1.2:6379 --json --synthetic 20000 > "$tmp/f.json"
check "named failover minimum" "$(json "$tmp/f.json" 'd["minimum_fraction"]')" 0
check "named failover moved" "$(json "$tmp/f.json" 'd["moved"]')" 0
check "named failover excess" "$(json "$tmp/f.json" 'd["excess"]')" False
"$oracle" whatif -c "$tmp/n4.yml" --failover 10.0.0.2:6379=10.0.1.2:6379 --json --synthetic 20000 > "$tmp/f.json"
check "unnamed failover minimum" "$(json "$tmp/f.json" 'd["minimum_fraction"]')" 0
check "unnamed failover moves keys" "$(json "$tmp/f.json" 'd["moved_fraction"] > 0.2')" True
check "unnamed failover flagged" "$(json "$tmp/f.json" '[c["cause"] for c in d["causes"]]')" "['renamed']"
check "unnamed failover note" "$(json "$tmp/f.json" '"TRAP" in d["notes"][0] and "explicit name" in d["notes"][0]')" True
check "failover matched by identity" "$(json "$tmp/f.json" '[s.get("new") for s in d["servers"] if s["old"] == "10.0.0.2:6379"]')" "['10.0.1.2:6379']"
# The same failover already written into a second config: diff matches the named server by name.
sed 's/10.0.0.2:6379:1 s2/10.0.1.2:6379:1 s2/' "$tmp/named.yml" > "$tmp/named2.yml"
"$oracle" diff -c "$tmp/named.yml" --to "$tmp/named2.yml" --json --synthetic 20000 > "$tmp/f.json"
check "diff named failover" "$(json "$tmp/f.json" 'd["minimum_fraction"], d["moved"], len(d["notes"])')" "0 0 1"
"$oracle" whatif -c "$data/placement/a_md5_ketama.yml" --failover 127.0.0.1:27001=127.0.0.1:27101 --hex "$keys" > "$tmp/trap.txt"
grep -q "failover TRAP" "$tmp/trap.txt" || { echo "FAIL: no trap note in the text report"; fail=1; }

# 6. Causes: in a weighted ketama pool an added server renormalises every server's points (keys
# move between servers that stay); a changed hash re-hashes everything.
mk "$tmp/w.yml" 4
sed -i 's/10.0.0.1:6379:1/10.0.0.1:6379:5/; s/^  distribution:/  hash: md5\n  distribution:/' "$tmp/w.yml"
"$oracle" whatif -c "$tmp/w.yml" --add 10.0.0.9:6379:1 --json --synthetic 50000 > "$tmp/c.json"
check "weight change cause" "$(json "$tmp/c.json" '[c["cause"] for c in d["causes"]]')" "['weights']"
"$oracle" whatif -c "$tmp/n4.yml" --hash murmur --json --synthetic 20000 > "$tmp/c.json"
check "hash change cause" "$(json "$tmp/c.json" '[c["cause"] for c in d["causes"]]')" "['hash']"
"$oracle" whatif -c "$tmp/n4.yml" --distribution modula --json --synthetic 20000 > "$tmp/c.json"
check "distribution change cause" "$(json "$tmp/c.json" '"distribution" in [c["cause"] for c in d["causes"]]')" True

# 7. --max-moved: 1 above the threshold, 0 at or below; the report still printed.
"$oracle" whatif -c "$tmp/n3.yml" --add 10.0.0.9:6379:1 --synthetic 20000 --max-moved 10 > "$tmp/out" 2> "$tmp/err"
check "--max-moved 10 exit" $? 1
grep -q "more than --max-moved 10%" "$tmp/err" || { echo "FAIL: --max-moved message: $(cat "$tmp/err")"; fail=1; }
grep -q "^  moved " "$tmp/out" || { echo "FAIL: --max-moved suppressed the report"; fail=1; }
"$oracle" whatif -c "$tmp/n3.yml" --add 10.0.0.9:6379:1 --synthetic 20000 --max-moved 40 > /dev/null
check "--max-moved 40 exit" $? 0
"$oracle" diff -c "$tmp/n3.yml" --to "$tmp/n3.yml" --synthetic 1000 --max-moved 0 > /dev/null
check "no change, --max-moved 0" $? 0

# 8. Keys from stdin, and --list=FILE with the report on stdout.
awk 'NF' "$keys" | head -100 > "$tmp/k100"
"$oracle" diff -c "$data/placement/a_md5_ketama.yml" --to "$data/placement/e_md5_ketama.yml" --hex \
    --list="$tmp/plan" < "$tmp/k100" > "$tmp/report"
check "--list=FILE lines = moved" "$(wc -l < "$tmp/plan" | tr -d ' ')" \
    "$(sed -n 's/^  moved  *\([0-9]*\) keys.*/\1/p' "$tmp/report")"
echo "a/e pairs: $pairs"
exit $fail
