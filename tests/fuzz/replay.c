/*
 * Drives the fuzz target without libFuzzer, so `make check` exercises it: each file named on the
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

#include "fuzz_resp.h"

#define MAX_INPUT 4096

static const char *const seeds[] = {
    "*1\r\n$4\r\nPING\r\n", "*2\r\n$3\r\nGET\r\n$3\r\nfoo\r\n", "GET foo bar\r\n", "PING\n",
    "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nv\r\n\r\n\r\n", "*0\r\n*-1\r\n\r\n",
    "*3\r\n$4\r\nMGET\r\n$1\r\na\r\n$1\r\nb\r\n", "+OK\r\n", "-ERR x\r\n", ":-12\r\n",
    "$3\r\nfoo\r\n$-1\r\n$0\r\n\r\n", "*2\r\n*1\r\n:1\r\n*-1\r\n", "*0\r\n",
    "*3\r\n$1\r\na\r\n*2\r\n+x\r\n-y\r\n:5\r\n", "*1\r\n*1\r\n*1\r\n$2\r\nhi\r\n",
};

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
    static const char alphabet[] = "*$:+-\r\n0123456789 -1aZ\0";
    size_t at = n ? next(rng) % n : 0;

    switch (next(rng) % 5) {
    case 0:                                         /* replace */
        if (n)
            buf[at] = (uint8_t)alphabet[next(rng) % (sizeof(alphabet) - 1)];
        return n;
    case 1:                                         /* insert */
        if (n + 1 > MAX_INPUT)
            return n;
        memmove(buf + at + 1, buf + at, n - at);
        buf[at] = (uint8_t)alphabet[next(rng) % (sizeof(alphabet) - 1)];
        return n + 1;
    case 2:                                         /* delete */
        if (n == 0)
            return n;
        memmove(buf + at, buf + at + 1, n - at - 1);
        return n - 1;
    case 3: {                                       /* append a seed */
        const char *s = seeds[next(rng) % (sizeof(seeds) / sizeof(seeds[0]))];
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
        const char *s = seeds[next(&rng) % (sizeof(seeds) / sizeof(seeds[0]))];
        size_t n = 2 + strlen(s);
        int edits = (int)(next(&rng) % 8);

        buf[0] = (uint8_t)next(&rng);
        buf[1] = (uint8_t)next(&rng);
        memcpy(buf + 2, s, n - 2);
        for (int e = 0; e < edits; e++)
            n = 2 + mutate(buf + 2, n - 2, &rng);
        LLVMFuzzerTestOneInput(buf, n);
    }
    printf("fuzz replay: %ld inputs, no disagreement\n", rounds);
    return 0;
}
