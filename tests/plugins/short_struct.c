/* SPDX-License-Identifier: Apache-2.0 */
/* Loader test: a struct_size too small to hold ABI 1.0. */
#include "config.h"

#include "broken.h"

BROKEN_HASH_BODY
BROKEN_PLUGIN(.struct_size = 8, .name = "short_struct");
