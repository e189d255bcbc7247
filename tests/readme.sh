#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# README stays true: every `shardoracle ...` line of its shardoracle block runs and exits 0, in a
# directory holding what the lines name (conf/nutcracker.yml from the tree; conf.yml, old.yml and
# new.yml a one-pool "alpha" config; keys.txt, keys.hex a few keys).  --synthetic counts are cut
# to 20000 so that the sanitizer build stays quick.  `audit` and `migrate` need live Redis
# servers: their lines are left to tests/integration/test_audit.py and test_migrate.py.
set -u
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/conf" "$tmp/bin"
cp "$SP_SRCDIR/conf/nutcracker.yml" "$tmp/conf/"
printf 'alpha:\n  listen: 127.0.0.1:22121\n  hash: fnv1a_64\n  distribution: ketama\n  servers:\n   - 10.0.0.1:6379:1\n   - 10.0.0.2:6379:1\n' > "$tmp/conf.yml"
cp "$tmp/conf.yml" "$tmp/old.yml"
sed 's/10.0.0.2:6379:1/10.0.0.2:6379:2/' "$tmp/conf.yml" > "$tmp/new.yml"
printf 'foo\nbar\nuser:1\n' > "$tmp/keys.txt"
printf '666f6f\n\n00ff\n' > "$tmp/keys.hex"
ln -s "$SP_BUILDDIR/oracle/shardoracle" "$tmp/bin/shardoracle"
sed -n '/^## shardoracle/,/^```$/p' "$SP_SRCDIR/README.md" | grep '^shardoracle ' | grep -v '^shardoracle \(audit\|migrate\) ' |
    sed 's/ *# .*//; s/--synthetic [0-9]*/--synthetic 20000/' > "$tmp/commands"
n=$(wc -l < "$tmp/commands")
[ "$n" -ge 5 ] || { echo "FAIL: found only $n shardoracle lines in README.md"; exit 1; }
fail=0
while read -r line; do
    if ! (cd "$tmp" && PATH="$tmp/bin:$PATH" eval "$line" > out 2> err); then
        echo "FAIL: README: $line"; cat "$tmp/err"; fail=1
    fi
done < "$tmp/commands"
echo "$n README commands run"
exit $fail
