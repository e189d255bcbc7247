# Shipping: the install layout and an out-of-tree plugin built against it, the man pages, the
# RPM built from `make dist`'s tarball, and the SPDX header of every source file.
SHIP_TESTS = tests/install.sh tests/man-pages.sh
TESTS += $(SHIP_TESTS)
EXTRA_DIST += $(SHIP_TESTS)
