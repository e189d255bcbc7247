#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Every source file carries an SPDX license line (scripts/spdx says which do not; files other
# branches add later are caught here).
if ! out=$("$SP_SRCDIR/scripts/spdx" 2>&1); then
    echo "$out"
    echo "FAIL: source files without an SPDX-License-Identifier line: run scripts/spdx --add"
    exit 1
fi
echo "every source file has an SPDX line"
