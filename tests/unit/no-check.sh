#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Stands in for the unit tests when configure did not find Check: reported as SKIP, with how to
# get it.
echo "SKIP: the unit tests need the Check framework (>= 0.11), which configure did not find."
echo "Install it - Debian/Ubuntu: apt-get install check; CentOS/RHEL: dnf install check-devel"
echo "(EPEL, with CRB/PowerTools enabled) - or run scripts/install-deps, then re-run configure."
exit 77
