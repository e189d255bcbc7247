/* SPDX-License-Identifier: Apache-2.0 */
/* Loader test: a name users could not write in YAML. */
#include "config.h"

#include "broken.h"

BROKEN_HASH_BODY
BROKEN_PLUGIN(.name = "Bad Name!");
