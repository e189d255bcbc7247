/* SPDX-License-Identifier: Apache-2.0 */
/* Loader test: a hash plugin without its function. */
#include "config.h"

#include "broken.h"

BROKEN_HASH_BODY
BROKEN_PLUGIN(.hash = NULL, .name = "no_hash_fn");
