/* SPDX-License-Identifier: Apache-2.0 */
/* Loader test: an ABI minor newer than the host's. */
#include "config.h"

#include "broken.h"

BROKEN_HASH_BODY
BROKEN_PLUGIN(.abi_minor = SP_ABI_MINOR + 1, .name = "newer_minor");
