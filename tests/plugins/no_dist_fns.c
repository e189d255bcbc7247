/* SPDX-License-Identifier: Apache-2.0 */
/* Loader test: a distribution without build/select/destroy. */
#include "config.h"

#include "broken.h"

BROKEN_HASH_BODY
BROKEN_PLUGIN(.kind = SP_PLUGIN_DIST, .name = "no_dist_fns");
