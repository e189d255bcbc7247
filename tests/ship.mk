# SPDX-License-Identifier: Apache-2.0
# Shipping: the install layout and an out-of-tree plugin built against it, the man pages, the
# RPM built from `make dist`'s tarball, and the SPDX header of every source file.
SHIP_TESTS = tests/install.sh tests/man-pages.sh tests/readme.sh
TESTS += $(SHIP_TESTS)
EXTRA_DIST += $(SHIP_TESTS)

# The RPM build takes a configure and a build of its own: once, in the normal build only.
EXTRA_DIST += tests/rpm.sh
if !SANITIZERS
TESTS += tests/rpm.sh
endif

# The SPDX line of every source file (scripts/spdx lists them; --add writes the missing ones).
EXTRA_DIST += tests/spdx.sh
TESTS += tests/spdx.sh
