#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# What a plugin author does with an installed shardproxy: `make install` into a temporary prefix,
# then build examples/ out of tree with nothing but the installed pkg-config file, install the
# two example plugins where that file's plugindir says, and load them in shardoracle and in
# shardproxy (a config using the example hash and distribution must pass -t, and route).
# Also checks the install layout: header under include/shardproxy, no .la beside the plugins,
# man pages, docs and sample configs.
set -u
top="$SP_BUILDDIR"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
prefix="$tmp/prefix"
fail=0
check() { [ "$2" = "$3" ] || { echo "FAIL: $1: got '$2', want '$3'"; fail=1; }; }
has() { [ -e "$prefix/$1" ] || { echo "FAIL: not installed: $1"; fail=1; }; }

if ! make -s -C "$top" install prefix="$prefix" > "$tmp/install.log" 2>&1; then
    echo "FAIL: make install prefix=$prefix"; cat "$tmp/install.log"; exit 1
fi
for f in bin/shardproxy bin/shardoracle include/shardproxy/plugin.h lib/pkgconfig/shardproxy.pc \
         lib/shardproxy/plugins/hash_fnv1a_64.so lib/shardproxy/plugins/dist_ketama.so \
         share/man/man8/shardproxy.8 share/man/man1/shardoracle.1 share/doc/shardproxy/LICENSE \
         share/doc/shardproxy/migration.md share/doc/shardproxy/examples/nutcracker.yml \
         share/doc/shardproxy/examples/Makefile share/doc/shardproxy/examples/deploy/haproxy.cfg; do
    has "$f"
done
[ ! -e "$prefix/include/include" ] || { echo "FAIL: header installed under include/include"; fail=1; }
la=$(find "$prefix" -name '*.la')
check "no .la files installed" "$la" ""

# Out of tree, as the author would: a copy of the installed examples, pkg-config only.
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
check "pkg-config --cflags" "$(pkg-config --cflags shardproxy | tr -d ' ')" "-I$prefix/include"
plugindir=$(pkg-config --variable=plugindir shardproxy)
check "plugindir" "$plugindir" "$prefix/lib/shardproxy/plugins"
cp -r "$prefix/share/doc/shardproxy/examples" "$tmp/author"
if ! make -s -C "$tmp/author" CFLAGS="-O2 -Wall -Wextra -Werror" install > "$tmp/build.log" 2>&1; then
    echo "FAIL: building the examples against the installed prefix"; cat "$tmp/build.log"; exit 1
fi
for p in hash_djb2 dist_range; do
    [ -f "$plugindir/$p.so" ] || { echo "FAIL: examples' make install did not put $p.so in $plugindir"; fail=1; }
done

# The installed programs, on the installed plugins only (the build tree's are not in the way).
unset SHARDPROXY_PLUGIN_PATH
export SHARDPROXY_SYSTEM_PLUGIN_DIR="$plugindir"
listed=$("$prefix/bin/shardoracle" plugins)
for p in djb2 range ketama fnv1a_64; do
    echo "$listed" | grep -q "$p" || { echo "FAIL: shardoracle plugins does not list $p:"; echo "$listed"; fail=1; }
done
check "djb2 hash of 'foo'" "$(printf 'foo\n' | "$prefix/bin/shardoracle" hash --hash djb2)" 193491849
cat > "$tmp/example.yml" <<YAML
example:
  listen: 127.0.0.1:1
  hash: djb2
  distribution: range
  redis: true
  servers:
   - 127.0.0.1:7001:1 one
   - 127.0.0.1:7002:3 three
YAML
# range gives "one" the lower quarter of the 32-bit hash space: djb2('foo') = 193491849 < 2^30.
check "placed by the example plugins" "$(printf 'foo\n' | "$prefix/bin/shardoracle" place -c "$tmp/example.yml")" \
    "$(printf 'foo\t127.0.0.1:7001\tone')"
out=$("$prefix/bin/shardproxy" -t -c "$tmp/example.yml" 2>&1)
check "shardproxy -t with the example plugins" "$?:$out" "0:shardproxy: configuration file '$tmp/example.yml' syntax is ok"

# A stray library among the plugins is skipped with a warning, in both programs.
printf 'int stray(void);\nint stray(void) { return 1; }\n' > "$tmp/stray.c"
${CC:-cc} -shared -fPIC -o "$plugindir/libstray.so" "$tmp/stray.c" || { echo "FAIL: cc"; exit 1; }
out=$("$prefix/bin/shardproxy" -t -c "$tmp/example.yml" 2>&1)
case "$out" in
*"libstray.so: not a shardproxy plugin"*"syntax is ok"*) ;;
*) echo "FAIL: a stray .so should be skipped with a warning: $out"; fail=1 ;;
esac
"$prefix/bin/shardoracle" plugins 2>"$tmp/warn" >/dev/null
grep -q "warning: .*libstray.so: not a shardproxy plugin" "$tmp/warn" || { echo "FAIL: no warning from shardoracle"; fail=1; }

make -s -C "$top" uninstall prefix="$prefix" > "$tmp/uninstall.log" 2>&1 || { echo "FAIL: make uninstall"; fail=1; }
left=$(find "$prefix" -type f ! -path "$plugindir/*" | sed "s|$prefix/||")
check "uninstall leaves nothing of ours" "$left" ""
exit $fail
