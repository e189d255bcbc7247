/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Drives a fuzz target (fuzz.h) without libFuzzer, so `make check` exercises it: each file named on the
 * command line is one input; with no arguments, a seeded run of mutated built-in seeds (the seed
 * is printed; SP_TEST_SEED reproduces it, SP_FUZZ_ROUNDS sets the count).  Exits non-zero only
 * through the target's abort().
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fuzz.h"

#define MAX_INPUT 4096


static uint64_t next(uint64_t *s)
{
    uint64_t x = *s;

    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545F4914F6CDD1DULL;
}

/* One random edit biased towards protocol bytes, so mutants stay near the grammar. */
static size_t mutate(uint8_t *buf, size_t n, uint64_t *rng)
{
    size_t nalpha = strlen(sp_fuzz_alphabet) + 1; /* and the NUL */
    size_t at = n ? next(rng) % n : 0;

    switch (next(rng) % 5) {
    case 0:                                         /* replace */
        if (n)
            buf[at] = (uint8_t)sp_fuzz_alphabet[next(rng) % nalpha];
        return n;
    case 1:                                         /* insert */
        if (n + 1 > MAX_INPUT)
            return n;
        memmove(buf + at + 1, buf + at, n - at);
        buf[at] = (uint8_t)sp_fuzz_alphabet[next(rng) % nalpha];
        return n + 1;
    case 2:                                         /* delete */
        if (n == 0)
            return n;
        memmove(buf + at, buf + at + 1, n - at - 1);
        return n - 1;
    case 3: {                                       /* append a seed */
        const char *s = sp_fuzz_seeds[next(rng) % sp_fuzz_nseeds];
        size_t k = strlen(s);

        if (n + k > MAX_INPUT)
            return n;
        memcpy(buf + n, s, k);
        return n + k;
    }
    default:                                        /* random byte */
        if (n)
            buf[at] = (uint8_t)next(rng);
        return n;
    }
}

static int run_file(const char *path)
{
    static uint8_t buf[1 << 20];
    FILE *f = fopen(path, "rb");
    size_t n;

    if (f == NULL) {
        perror(path);
        return 1;
    }
    n = fread(buf, 1, sizeof(buf), f);
    fclose(f);
    LLVMFuzzerTestOneInput(buf, n);
    return 0;
}

int main(int argc, char **argv)
{
    const char *env = getenv("SP_TEST_SEED"), *rounds_env = getenv("SP_FUZZ_ROUNDS");
    uint64_t seed = env ? strtoull(env, NULL, 0) : (uint64_t)time(NULL) * 2654435761u;
    long rounds = rounds_env ? atol(rounds_env) : 200000;
    uint64_t rng;
    static uint8_t buf[MAX_INPUT];

    if (argc > 1) {
        int bad = 0;

        for (int i = 1; i < argc; i++)
            bad |= run_file(argv[i]);
        return bad;
    }
    if (seed == 0)
        seed = 1;
    rng = seed;
    printf("fuzz replay: seed %llu (rerun with SP_TEST_SEED=%llu), %ld rounds\n",
           (unsigned long long)seed, (unsigned long long)seed, rounds);
    fflush(stdout);
    for (long r = 0; r < rounds; r++) {
        const char *s = sp_fuzz_seeds[next(&rng) % sp_fuzz_nseeds];
        size_t pre = sp_fuzz_prefix;
        size_t n = pre + strlen(s);
        int edits = (int)(next(&rng) % 8);

        for (size_t i = 0; i < pre; i++)
            buf[i] = (uint8_t)next(&rng);
        memcpy(buf + pre, s, n - pre);
        for (int e = 0; e < edits; e++)
            n = pre + mutate(buf + pre, n - pre, &rng);
        LLVMFuzzerTestOneInput(buf, n);
    }
    printf("fuzz replay: %ld inputs, no disagreement\n", rounds);
    return 0;
}
