/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the config loader: any bytes are either a valid config or one error line
 * that names the file; never a crash, a leak (under ASan) or a half-built config.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"

#define NAME "fuzz.yml"

#define CHECK(cond) \
    do { \
        if (!(cond)) { \
            fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, #cond); \
            abort(); \
        } \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const hashes[] = { "fnv1a_64", "md5", "murmur", "crc32a", NULL };
    static const char *const dists[] = { "ketama", "modula", "random", NULL };
    struct sp_conf *conf = (struct sp_conf *)&conf; /* must be reset either way */
    char err[1024] = "";

    if (sp_conf_load_string((const char *)data, size, NAME, hashes, dists, &conf, err,
                            sizeof(err)) == 0) {
        CHECK(conf != NULL);
        for (size_t p = 0; p < conf->npools; p++)
            CHECK(conf->pools[p].nservers > 0);
        sp_conf_free(conf);
        return 0;
    }
    CHECK(conf == NULL);
    CHECK(strncmp(err, NAME, strlen(NAME)) == 0);
    CHECK(strchr(err, '\n') == NULL);
    return 0;
}
