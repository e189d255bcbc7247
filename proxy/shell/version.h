/* SPDX-License-Identifier: Apache-2.0 */
/* What the daemon reports as its version (-V, stats "version"). */
#ifndef SP_VERSION_H
#define SP_VERSION_H
#include "config.h"
#define SP_VERSION_STRING PACKAGE_VERSION
#endif
