# SPDX-License-Identifier: Apache-2.0
# shardoracle as users run it: golden data from nutcracker, movement and capacity planning
# (diff/whatif against nutcracker's observed resharding and ejection), reports, bad input, and the
# move to a Sentinel pool (0 keys).
ORACLE_TESTS = tests/oracle-golden.sh tests/oracle-errors.sh tests/oracle-movement.sh \
	tests/oracle-sentinel.sh \
	tests/oracle-report.sh
TESTS += $(ORACLE_TESTS)
EXTRA_DIST += $(ORACLE_TESTS) tests/oracle-lib.sh bench/oracle.sh
