/* SPDX-License-Identifier: Apache-2.0 */
/* Loader test: a kind that is neither hash nor distribution. */
#include "config.h"

#include "broken.h"

BROKEN_HASH_BODY
BROKEN_PLUGIN(.kind = 7, .name = "wrong_kind");
