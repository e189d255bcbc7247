# SPDX-License-Identifier: Apache-2.0
# Sourced by the tests/oracle-*.sh scripts: the oracle under test, the golden data, a scratch
# directory removed at exit, and the checks that record a failure in $fail.
set -u
oracle="$SP_BUILDDIR/oracle/shardoracle"
data="$SP_TEST_DATA"
keys="$data/placement_keys.hex"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0

# json FILE EXPR: prints a Python expression over the JSON document `d` in FILE.
json() { /usr/bin/python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"; }

# check WHAT GOT WANT: a failure line unless GOT = WANT.
check() { [ "$2" = "$3" ] || { echo "FAIL: $1: got '$2', want '$3'"; fail=1; }; }
