/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A valid distribution built against ABI 1.0: abi_minor 0 and a descriptor that ends before the
 * 1.1 field `shape`.  The host must load it and read the absent field as NULL.
 */
#include <stddef.h>

#include "broken.h"

static void *one_build(const struct sp_server_spec *servers, size_t n, char *err, size_t errlen)
{
    static int selector;

    (void)servers;
    (void)n;
    (void)err;
    (void)errlen;
    return &selector;
}

static uint32_t one_select(void *selector, uint64_t hash)
{
    (void)selector;
    (void)hash;
    return 0;
}

static void one_destroy(void *selector)
{
    (void)selector;
}

BROKEN_HASH_BODY

BROKEN_PLUGIN(.abi_minor = 0, .struct_size = (uint32_t)offsetof(struct sp_plugin, shape),
              .kind = SP_PLUGIN_DIST, .name = "abi_1_0", .build = one_build,
              .select = one_select, .destroy = one_destroy, .shape = (sp_dist_shape_fn *)1);
