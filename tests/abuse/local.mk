# SPDX-License-Identifier: Apache-2.0
# The hostile-client and bad-backend suite (run by make check like the integration tests): every
# test asserts that the proxy lives, that other clients get right answers in bounded time, and
# that memory stays bounded.
ABUSE_TESTS = \
	tests/abuse/test_inline.py \
	tests/abuse/test_floods.py \
	tests/abuse/test_slow_readers.py \
	tests/abuse/test_backends.py \
	tests/abuse/test_limits.py \
	tests/abuse/test_memory.py \
	tests/abuse/test_huge_multikey.py
TESTS += $(ABUSE_TESTS)
EXTRA_DIST += $(ABUSE_TESTS) tests/abuse/fakes.py
