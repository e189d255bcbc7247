/* SPDX-License-Identifier: Apache-2.0 */
/* Loader test: no name at all. */
#include "config.h"

#include "broken.h"

BROKEN_HASH_BODY
BROKEN_PLUGIN(.name = NULL);
