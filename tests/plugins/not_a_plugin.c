/* SPDX-License-Identifier: Apache-2.0 */
/* Loader test: a shared object that exports no descriptor. */
#include "config.h"

#include <shardproxy/plugin.h>

SP_PLUGIN_EXTERN SP_PLUGIN_EXPORT int something_else(void);

int something_else(void)
{
    return 42;
}
