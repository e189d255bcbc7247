/* SPDX-License-Identifier: Apache-2.0 */
/* Loader test: ABI major from the future. */
#include "config.h"

#include "broken.h"

BROKEN_HASH_BODY
BROKEN_PLUGIN(.abi_major = SP_ABI_MAJOR + 1, .name = "wrong_major");
