/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What every fuzz target here provides: the libFuzzer entry point, and for the replay driver
 * (replay.c, which runs a target without libFuzzer under `make check`) the seeds it mutates, the
 * bytes its mutations favour, and how many leading control bytes the target reads.
 */
#ifndef SP_FUZZ_H
#define SP_FUZZ_H

#include <stddef.h>
#include <stdint.h>

/* Runs one input; aborts (with a line naming the broken property) when a check fails.  Returns 0. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

extern const char *const sp_fuzz_seeds[];
extern const size_t sp_fuzz_nseeds;
extern const char sp_fuzz_alphabet[];  /* NUL-terminated; a NUL byte is always added too */
extern const size_t sp_fuzz_prefix;    /* random control bytes before the seed */

#define SP_FUZZ_CHECK(name, cond) \
    do { \
        if (!(cond)) { \
            fprintf(stderr, "%s: %s:%d: %s\n", name, __FILE__, __LINE__, #cond); \
            abort(); \
        } \
    } while (0)

#endif /* SP_FUZZ_H */
