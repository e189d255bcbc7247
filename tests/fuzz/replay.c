/*
 * Drives a fuzz target without libFuzzer, so `make check` exercises it: each file named on the
 * command line is one input; with no arguments, a seeded run of mutated built-in seeds (the seed
 * is printed; SP_TEST_SEED reproduces it, SP_FUZZ_ROUNDS sets the count), then every file of
 * the target's committed corpus, $SP_SRCDIR/tests/fuzz/corpus/<name>/, when SP_SRCDIR is set
 * (make check sets it).  Exits non-zero only through the target's abort(), or when a named file
 * cannot be read.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <dirent.h>

#include "fuzz_target.h"

#define REPLAY_MAX_INPUT 4096

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
    size_t at = n ? next(rng) % n : 0;

    switch (next(rng) % 5) {
    case 0:                                         /* replace */
        if (n)
            buf[at] = (uint8_t)sp_fuzz_alphabet[next(rng) % sp_fuzz_alphabet_len];
        return n;
    case 1:                                         /* insert */
        if (n + 1 > REPLAY_MAX_INPUT)
            return n;
        memmove(buf + at + 1, buf + at, n - at);
        buf[at] = (uint8_t)sp_fuzz_alphabet[next(rng) % sp_fuzz_alphabet_len];
        return n + 1;
    case 2:                                         /* delete */
        if (n == 0)
            return n;
        memmove(buf + at, buf + at + 1, n - at - 1);
        return n - 1;
    case 3: {                                       /* append a seed */
        const char *s = sp_fuzz_seeds[next(rng) % sp_fuzz_nseeds];
        size_t k = strlen(s);

        if (n + k > REPLAY_MAX_INPUT)
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

/* Runs every regular file of the target's corpus directory; returns how many. */
static long run_corpus(const char *srcdir)
{
    char dir[4096], path[8192];
    struct dirent *e;
    long n = 0;
    DIR *d;

    snprintf(dir, sizeof(dir), "%s/tests/fuzz/corpus/%s", srcdir, sp_fuzz_name);
    d = opendir(dir);
    if (d == NULL)
        return 0;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        if (run_file(path) == 0)
            n++;
    }
    closedir(d);
    return n;
}

int main(int argc, char **argv)
{
    const char *env = getenv("SP_TEST_SEED"), *rounds_env = getenv("SP_FUZZ_ROUNDS");
    uint64_t seed = env ? strtoull(env, NULL, 0) : (uint64_t)time(NULL) * 2654435761u;
    long rounds = rounds_env ? atol(rounds_env) : 200000;
    uint64_t rng;
    static uint8_t buf[REPLAY_MAX_INPUT];

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
        size_t n = 2 + strlen(s);
        int edits = (int)(next(&rng) % 8);

        buf[0] = (uint8_t)next(&rng);
        buf[1] = (uint8_t)next(&rng);
        memcpy(buf + 2, s, n - 2);
        for (int e = 0; e < edits; e++)
            n = 2 + mutate(buf + 2, n - 2, &rng);
        LLVMFuzzerTestOneInput(buf, n);
    }
    if (getenv("SP_SRCDIR") != NULL) {
        long n = run_corpus(getenv("SP_SRCDIR"));

        printf("fuzz replay: %ld corpus inputs of tests/fuzz/corpus/%s\n", n, sp_fuzz_name);
    }
    printf("fuzz replay: %ld inputs, no disagreement\n", rounds);
    return 0;
}
