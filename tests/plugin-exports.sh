#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Every built plugin exports exactly one dynamic symbol: the descriptor.  Anything more leaks
# internals into the host's namespace and becomes ABI by accident.
set -u
status=0
count=0
for dir in $(echo "$SHARDPROXY_PLUGIN_PATH" | tr ':' ' '); do
    for so in "$dir"/*.so; do
        [ -e "$so" ] || continue
        count=$((count + 1))
        syms=$(nm -D --defined-only "$so" | awk '{print $NF}' | sort | tr '\n' ' ')
        if [ "$syms" != "shardproxy_plugin " ]; then
            echo "FAIL: $so exports: $syms"
            status=1
        fi
    done
done
if [ "$count" -lt 16 ]; then
    echo "FAIL: expected at least 16 plugins on $SHARDPROXY_PLUGIN_PATH, found $count"
    status=1
fi
echo "checked $count plugins"
exit $status
