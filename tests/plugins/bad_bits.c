/* SPDX-License-Identifier: Apache-2.0 */
/* Loader test: a hash width other than 32 or 64. */
#include "config.h"

#include "broken.h"

BROKEN_HASH_BODY
BROKEN_PLUGIN(.hash_bits = 16, .name = "bad_bits");
