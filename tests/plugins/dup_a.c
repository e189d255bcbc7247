/* SPDX-License-Identifier: Apache-2.0 */
/* Loader test: first of two plugins claiming one name. */
#include "config.h"

#include "broken.h"

BROKEN_HASH_BODY
BROKEN_PLUGIN(.name = "dupname", .summary = "dup_a");
