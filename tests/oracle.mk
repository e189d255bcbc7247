# shardoracle as users run it: golden data from nutcracker, and bad input.
TESTS += tests/oracle-golden.sh tests/oracle-errors.sh
EXTRA_DIST += tests/oracle-golden.sh tests/oracle-errors.sh
