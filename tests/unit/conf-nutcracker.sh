#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Cross-check of the config fixtures against the real nutcracker 0.5.0 (`nutcracker -t`): it must
# accept every good fixture and sample config, and refuse every bad fixture except the few that
# shardproxy refuses on purpose (docs/configuration.md, "Where shardproxy differs").  Files using
# shardproxy's own keys (Sentinel: *sentinel*.yml; resharding: *migrate*.yml) are refused by
# nutcracker, as they must be.
NUTCRACKER=${NUTCRACKER:-/usr/sbin/nutcracker}
: "${SP_TEST_DATA:?SP_TEST_DATA is not set (run with make check)}"
: "${SP_SRCDIR:?SP_SRCDIR is not set (run with make check)}"

# Accepted by nutcracker 0.5.0, refused by shardproxy: wrapped weight, non-octal permissions,
# empty host, bracketed IPv6, empty server name.
STRICTER="bad_weight_big.yml bad_listen_perm_bad.yml bad_server_empty_host.yml
bad_server_brackets.yml bad_server_empty_name.yml"

if [ ! -x "$NUTCRACKER" ]; then
    # Not packaged for CentOS/RHEL: there this cross-check cannot run (exit 77: SKIP).
    echo "SKIP: $NUTCRACKER is not installed (Debian: apt-get install nutcracker; not packaged for RHEL), so the fixtures are not cross-checked against nutcracker"
    exit 77
fi
if ! "$NUTCRACKER" -V 2>&1 | grep -q 'nutcracker-0\.5\.0'; then
    echo "FAIL: $NUTCRACKER is not nutcracker 0.5.0 (install Debian's nutcracker or set NUTCRACKER)"
    exit 1
fi

fail=0
checked=0
for f in "$SP_TEST_DATA"/conf/good_*.yml "$SP_SRCDIR"/conf/*.yml; do
    checked=$((checked + 1))
    case "$(basename "$f")" in
    *sentinel*|*migrate*)
        if "$NUTCRACKER" -t -c "$f" >/dev/null 2>&1; then
            echo "FAIL: nutcracker accepts $f, which uses shardproxy's own keys"
            fail=1
        fi
        continue;;
    esac
    if ! "$NUTCRACKER" -t -c "$f" >/dev/null 2>&1; then
        echo "FAIL: nutcracker refuses $f, which shardproxy accepts"
        fail=1
    fi
done
for f in "$SP_TEST_DATA"/conf/bad_*.yml; do
    checked=$((checked + 1))
    name=$(basename "$f")
    want=refuse
    for s in $STRICTER; do
        [ "$s" = "$name" ] && want=accept
    done
    if "$NUTCRACKER" -t -c "$f" >/dev/null 2>&1; then got=accept; else got=refuse; fi
    if [ "$got" != "$want" ]; then
        echo "FAIL: nutcracker should $want $name but does not (update STRICTER and the docs?)"
        fail=1
    fi
done
[ "$checked" -gt 60 ] || { echo "FAIL: only $checked fixtures found"; fail=1; }
[ "$fail" = 0 ] && echo "ok: $checked configs agree with $NUTCRACKER"
exit $fail
