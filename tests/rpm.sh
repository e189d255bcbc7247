#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The RPM as a CentOS/RHEL operator gets it: `make dist`, then `rpmbuild -ta` on the tarball, then
# the packages' file lists, scriptlets and contents.  On Debian (rpm package) the RHEL
# BuildRequires (libevent-devel, libyaml-devel, xxhash-devel, systemd-rpm-macros) cannot be
# installed, so rpmbuild runs with --nodeps; the build itself is real.  Prints the file lists.
set -u
top="$SP_BUILDDIR"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
for tool in rpmbuild rpm2archive; do
    command -v $tool >/dev/null 2>&1 || {
        echo "FAIL: $tool is missing (Debian: apt-get install rpm; RHEL: dnf install rpm-build; or scripts/install-deps)"
        exit 1
    }
done
version=$(sed -n 's/^#define PACKAGE_VERSION "\(.*\)"/\1/p' "$top/config.h")
tarball="shardproxy-$version.tar.gz"
if ! make -s -C "$top" dist > "$tmp/dist.log" 2>&1; then
    echo "FAIL: make dist"; cat "$tmp/dist.log"; exit 1
fi
mv "$top/$tarball" "$tmp/"
if ! rpmbuild -ta --nodeps --define "_topdir $tmp/rpm" --define "debug_package %{nil}" \
        "$tmp/$tarball" > "$tmp/rpmbuild.log" 2>&1; then
    echo "FAIL: rpmbuild -ta --nodeps $tarball:"; tail -n 40 "$tmp/rpmbuild.log"; exit 1
fi
main=$(ls "$tmp"/rpm/RPMS/*/shardproxy-"$version"-*.rpm)
devel=$(ls "$tmp"/rpm/RPMS/*/shardproxy-devel-"$version"-*.rpm)
ls "$tmp"/rpm/SRPMS/shardproxy-"$version"-*.src.rpm > /dev/null || { echo "FAIL: no source RPM"; fail=1; }
echo "== $(basename "$main")"; rpm -qlp "$main" | grep -v '/\.build-id' | tee "$tmp/main.list"
echo "== $(basename "$devel")"; rpm -qlp "$devel" | tee "$tmp/devel.list"
libdir=$(rpm --eval '%{_libdir}')
for f in /usr/bin/shardproxy /usr/bin/shardoracle "$libdir/shardproxy/plugins/dist_ketama.so" \
         "$libdir/shardproxy/plugins/hash_fnv1a_64.so" '/usr/share/man/man8/shardproxy\.8(\.gz)?' \
         '/usr/share/man/man1/shardoracle\.1(\.gz)?' /usr/lib/systemd/system/shardproxy.service \
         /usr/lib/sysusers.d/shardproxy.conf /etc/logrotate.d/shardproxy \
         /etc/shardproxy/shardproxy.yml '/usr/share/licenses/shardproxy(-[0-9.]+)?/LICENSE' \
         /usr/share/doc/shardproxy/migration.md /usr/share/doc/shardproxy/examples/hash_djb2.c; do
    # (Man pages are compressed where brp-compress runs; older rpm puts the version in licensedir.)
    grep -qEx "$f" "$tmp/main.list" || { echo "FAIL: $f is not in $(basename "$main")"; fail=1; }
done
for f in /usr/include/shardproxy/plugin.h "$libdir/pkgconfig/shardproxy.pc"; do
    grep -qx "$f" "$tmp/devel.list" || { echo "FAIL: $f is not in $(basename "$devel")"; fail=1; }
done
! grep -q '\.la$' "$tmp/main.list" || { echo "FAIL: .la files packaged"; fail=1; }
rpm -qp --scripts "$main" > "$tmp/scripts"
grep -q "useradd -r -g shardproxy" "$tmp/scripts" || { echo "FAIL: no user created in %pre"; fail=1; }
rpm -qp --configfiles "$main" | grep -qx /etc/shardproxy/shardproxy.yml || { echo "FAIL: the config is not %config"; fail=1; }

# What is inside works: the packaged programs load the packaged plugins and accept the packaged
# config with the unit's own command line; systemd accepts the unit.
root="$tmp/root"
mkdir -p "$root"
rpm2archive - < "$main" | tar xzf - -C "$root"
export SHARDPROXY_SYSTEM_PLUGIN_DIR="$root$libdir/shardproxy/plugins"
unset SHARDPROXY_PLUGIN_PATH
n=$("$root/usr/bin/shardoracle" plugins | grep -c "$SHARDPROXY_SYSTEM_PLUGIN_DIR/")
[ "$n" -ge 16 ] || { echo "FAIL: the packaged shardoracle found $n packaged plugins"; fail=1; }
unit="$root/usr/lib/systemd/system/shardproxy.service"
start=$(sed -n 's/^ExecStart=//p' "$unit" | sed "s|/usr/bin/shardproxy|$root/usr/bin/shardproxy|; s|/etc/shardproxy|$root/etc/shardproxy|")
out=$($start -t 2>&1)
case "$out" in
*"syntax is ok"*) ;;
*) echo "FAIL: the unit's ExecStart with -t: $out"; fail=1 ;;
esac
grep -qx 'ExecReload=/bin/kill -USR1 $MAINPID' "$unit" || { echo "FAIL: ExecReload does not send SIGUSR1"; fail=1; }
if command -v systemd-analyze >/dev/null 2>&1; then
    sed "s|/usr/bin/shardproxy|$root/usr/bin/shardproxy|g" "$unit" > "$tmp/shardproxy.service"
    out=$(MANPATH="$root/usr/share/man" systemd-analyze verify "$tmp/shardproxy.service" 2>&1)
    [ -z "$out" ] || { echo "FAIL: systemd-analyze verify: $out"; fail=1; }
else
    echo "note: systemd-analyze is not installed here; the unit was not verified by systemd"
fi
exit $fail
