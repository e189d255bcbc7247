/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Hash plugins: bit-identical to nutcracker 0.5.0 on the golden vectors (tests/data/hash.tsv,
 * every row and every column), their descriptors, the quirks that make them differ from the
 * textbook algorithms, alignment independence, XXH3 against xxHash's published values, and
 * MD5 (plugins/common) against the RFC 1321 test suite.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <shardproxy/plugin.h>

#include "hex.h"
#include "md5.h"
#include "registry.h"
#include "testutil.h"

/* hash.tsv has 345 keys; fewer rows means a truncated or damaged file, which must not pass. */
#define HASH_TSV_ROWS 345

/* Every hash nutcracker 0.5.0 accepts (the columns of hash.tsv), then ours. */
static const char *const nc_hashes[] = {
    "one_at_a_time", "md5", "crc16", "crc32", "crc32a", "fnv1_64",
    "fnv1a_64", "fnv1_32", "fnv1a_32", "hsieh", "murmur", "jenkins",
};
#define N_NC_HASHES (sizeof nc_hashes / sizeof nc_hashes[0])

static const struct {
    const char *name;
    uint32_t bits;
} all_hashes[] = {
    {"one_at_a_time", 32}, {"md5", 32},      {"crc16", 32},   {"crc32", 32},  {"crc32a", 32},
    {"fnv1_64", 32},       {"fnv1a_64", 32}, {"fnv1_32", 32}, {"fnv1a_32", 32}, {"hsieh", 32},
    {"murmur", 32},        {"jenkins", 32},  {"xxhash", 64},
};
#define N_ALL_HASHES (sizeof all_hashes / sizeof all_hashes[0])

/* The hash function of plugin `name`, failing the test when it is not loaded. */
static sp_hash_fn *hash_fn(const struct sp_registry *reg, const char *name)
{
    const struct sp_plugin *p = sp_registry_find(reg, SP_PLUGIN_HASH, name);
    ck_assert_msg(p != NULL, "hash plugin '%s' is not loaded (plugin path: %s)", name,
                  getenv(SP_PLUGIN_PATH_ENV) ? getenv(SP_PLUGIN_PATH_ENV) : "(unset)");
    ck_assert_msg(p->hash != NULL, "hash plugin '%s' has no hash function", name);
    return p->hash;
}

/* A decimal uint32 cell of hash.tsv; anything else fails the test (never silently 0). */
static uint32_t parse_u32_cell(const char *cell, size_t row, const char *col)
{
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(cell, &end, 10);
    ck_assert_msg(cell[0] >= '0' && cell[0] <= '9' && *end == '\0' && errno == 0 &&
                      v <= UINT32_MAX,
                  "hash.tsv row %zu column %s: '%s' is not a uint32", row + 1, col, cell);
    return (uint32_t)v;
}

/* Hex of a key for failure messages (truncated after 64 bytes); caller frees. */
static char *key_hex(const unsigned char *key, size_t len)
{
    size_t shown = len > 64 ? 64 : len;
    char *out = malloc(2 * shown + 32);
    ck_assert_ptr_nonnull(out);
    sp_hex_encode(key, shown, out);
    if (shown < len)
        snprintf(out + 2 * shown, 32, "...(%zu bytes)", len);
    return out;
}

/* ---- descriptors ---- */

START_TEST(descriptors)
{
    struct sp_registry *reg = tu_registry();
    for (size_t i = 0; i < N_ALL_HASHES; i++) {
        const char *name = all_hashes[i].name;
        const struct sp_plugin *p = sp_registry_find(reg, SP_PLUGIN_HASH, name);
        ck_assert_msg(p != NULL, "hash plugin '%s' is not loaded", name);
        ck_assert_str_eq(p->name, name);
        ck_assert_uint_eq(p->kind, SP_PLUGIN_HASH);
        ck_assert_msg(p->hash_bits == all_hashes[i].bits, "%s: hash_bits %u, want %u", name,
                      (unsigned)p->hash_bits, (unsigned)all_hashes[i].bits);
        ck_assert_uint_eq(p->abi_major, SP_ABI_MAJOR);
        ck_assert_uint_eq(p->abi_minor, SP_ABI_MINOR);
        ck_assert_uint_eq(p->struct_size, sizeof(struct sp_plugin));
        ck_assert_ptr_nonnull(p->hash);
        ck_assert_msg(p->summary != NULL && p->summary[0] != '\0', "%s: no summary", name);
        ck_assert_msg(p->build == NULL && p->select == NULL && p->destroy == NULL,
                      "%s: a hash plugin must not carry distribution functions", name);
    }
    sp_registry_free(reg);
}
END_TEST

/* ---- golden vectors ---- */

START_TEST(golden_vectors_every_row_and_column)
{
    struct sp_registry *reg = tu_registry();
    char *path = tu_data_path("hash.tsv");
    struct tu_table *t = tu_read_tsv(path);

    ck_assert_msg(t->nrows >= HASH_TSV_ROWS, "%s: %zu rows, expected at least %d (truncated?)",
                  path, t->nrows, HASH_TSV_ROWS);
    ck_assert_msg(t->ncols == 1 + N_NC_HASHES, "%s: %zu columns, expected %zu", path, t->ncols,
                  1 + N_NC_HASHES);
    size_t key_col = tu_col(t, "key_hex");
    size_t cols[N_NC_HASHES];
    sp_hash_fn *fns[N_NC_HASHES];
    for (size_t h = 0; h < N_NC_HASHES; h++) {
        cols[h] = tu_col(t, nc_hashes[h]);
        fns[h] = hash_fn(reg, nc_hashes[h]);
    }

    size_t checked = 0, failures = 0;
    for (size_t r = 0; r < t->nrows; r++) {
        size_t len;
        unsigned char *key = tu_unhex(t->rows[r][key_col], &len);
        for (size_t h = 0; h < N_NC_HASHES; h++) {
            uint32_t want = parse_u32_cell(t->rows[r][cols[h]], r, nc_hashes[h]);
            uint64_t got = fns[h](key, len);
            checked++;
            if (got != want) {
                failures++;
                char *hex = key_hex(key, len);
                fprintf(stderr, "hash.tsv row %zu key '%s' (%zu bytes) %s: expected %" PRIu32
                                ", got %" PRIu64 "\n",
                        r + 1, hex, len, nc_hashes[h], want, got);
                free(hex);
            }
        }
        free(key);
    }
    printf("hash.tsv: %zu rows x %zu hashes = %zu values checked, %zu wrong\n", t->nrows,
           N_NC_HASHES, checked, failures);
    ck_assert_msg(failures == 0, "%zu of %zu golden hash values differ (listed on stderr)",
                  failures, checked);
    ck_assert_uint_eq(checked, t->nrows * N_NC_HASHES);

    tu_table_free(t);
    free(path);
    sp_registry_free(reg);
}
END_TEST

/* ---- sign extension, documented on single bytes >= 0x80 ---- */

/* Closed forms of each affected hash on a one-byte key whose byte has been widened to `x`. */
static uint32_t one_byte_oaat(uint32_t x)
{
    uint32_t h = x;
    h += h << 10;
    h ^= h >> 6;
    h += h << 3;
    h ^= h >> 11;
    h += h << 15;
    return h;
}
static uint32_t one_byte_fnv1_32(uint32_t x) { return (2166136261u * 16777619u) ^ x; }
static uint32_t one_byte_fnv1a_32(uint32_t x) { return (2166136261u ^ x) * 16777619u; }
static uint32_t one_byte_fnv1_64(uint32_t x) { return (0x84222325u * 0x1b3u) ^ x; }
static uint32_t one_byte_fnv1a_64(uint32_t x) { return (0x84222325u ^ x) * 0x1b3u; }

static const struct {
    const char *name;
    uint32_t (*one_byte)(uint32_t widened);
} sign_extending[] = {
    {"one_at_a_time", one_byte_oaat},   {"fnv1_32", one_byte_fnv1_32},
    {"fnv1a_32", one_byte_fnv1a_32},    {"fnv1_64", one_byte_fnv1_64},
    {"fnv1a_64", one_byte_fnv1a_64},
};

/*
 * nutcracker widens `char`, signed on x86_64: byte 0x80 enters as 0xFFFFFF80.  For every byte
 * >= 0x80 the plugin must give the sign-extended value (not the textbook, unsigned one), and the
 * golden single-byte row must agree, which shows the vectors really carry this behaviour.
 */
START_TEST(high_bytes_are_sign_extended)
{
    struct sp_registry *reg = tu_registry();
    char *path = tu_data_path("hash.tsv");
    struct tu_table *t = tu_read_tsv(path);
    size_t key_col = tu_col(t, "key_hex");

    for (size_t i = 0; i < sizeof sign_extending / sizeof sign_extending[0]; i++) {
        const char *name = sign_extending[i].name;
        sp_hash_fn *fn = hash_fn(reg, name);
        size_t col = tu_col(t, name);
        size_t rows_seen = 0;
        for (unsigned b = 0x80; b <= 0xff; b++) {
            unsigned char key = (unsigned char)b;
            uint32_t sext = (uint32_t)b | 0xffffff00u;
            uint32_t want = sign_extending[i].one_byte(sext);
            uint32_t textbook = sign_extending[i].one_byte(b);
            uint64_t got = fn(&key, 1);
            ck_assert_msg(got == want, "%s(%02x): got %" PRIu64 ", sign-extended form %" PRIu32,
                          name, b, got, want);
            ck_assert_msg(got != textbook, "%s(%02x) equals the unsigned-byte value", name, b);
            char hex[3];
            sp_hex_encode(&key, 1, hex);
            for (size_t r = 0; r < t->nrows; r++) {
                if (strcmp(t->rows[r][key_col], hex) != 0)
                    continue;
                ck_assert_msg(parse_u32_cell(t->rows[r][col], r, name) == want,
                              "hash.tsv row %zu (%s) %s is not the sign-extended value", r + 1,
                              hex, name);
                rows_seen++;
            }
        }
        ck_assert_msg(rows_seen == 128, "%s: %zu single-byte rows >= 0x80 in hash.tsv, want 128",
                      name, rows_seen);
    }
    tu_table_free(t);
    free(path);
    sp_registry_free(reg);
}
END_TEST

/* hsieh sign-extends only the third byte of a 3-byte tail; key {0, 0, b} isolates that step. */
static uint32_t hsieh_zero_zero_b(uint32_t widened)
{
    uint32_t h = 0;             /* h += le16(0, 0); h ^= h << 16: still 0 */
    h ^= widened << 18;
    h += h >> 11;
    h ^= h << 3;
    h += h >> 5;
    h ^= h << 4;
    h += h >> 17;
    h ^= h << 25;
    h += h >> 6;
    return h;
}

START_TEST(hsieh_tail_byte_is_sign_extended)
{
    struct sp_registry *reg = tu_registry();
    sp_hash_fn *fn = hash_fn(reg, "hsieh");
    for (unsigned b = 0; b <= 0xff; b++) {
        unsigned char key[3] = {0, 0, (unsigned char)b};
        uint32_t widened = b >= 0x80 ? (uint32_t)b | 0xffffff00u : b;
        uint64_t got = fn(key, 3);
        ck_assert_msg(got == hsieh_zero_zero_b(widened), "hsieh(0000%02x) = %" PRIu64, b, got);
        if (b >= 0x80)
            ck_assert_msg(got != hsieh_zero_zero_b(b), "hsieh(0000%02x): unsigned value", b);
    }
    sp_registry_free(reg);
}
END_TEST

/* The masked CRCs are not affected: crc32a of "\x80" is the zlib value. */
START_TEST(crc_high_bytes_are_not_sign_extended)
{
    struct sp_registry *reg = tu_registry();
    unsigned char key = 0x80;
    ck_assert_uint_eq(hash_fn(reg, "crc32a")(&key, 1), 0x3fba6cadu);   /* zlib.crc32(b'\x80') */
    sp_registry_free(reg);
}
END_TEST

/* ---- other quirks, as properties over random keys ---- */

/* A random key of 0..max_len bytes (all byte values, so high bytes occur often). */
static size_t random_key(uint64_t *rng, unsigned char *buf, size_t max_len)
{
    size_t len = (size_t)(tu_rand(rng) % (max_len + 1));
    for (size_t i = 0; i < len; i++)
        buf[i] = (unsigned char)tu_rand(rng);
    return len;
}

/* fnv1_64 / fnv1a_64 = the low 32 bits of real 64-bit FNV over sign-extended 64-bit bytes. */
START_TEST(fnv_64_is_truncated_64_bit_fnv)
{
    struct sp_registry *reg = tu_registry();
    sp_hash_fn *fnv1 = hash_fn(reg, "fnv1_64"), *fnv1a = hash_fn(reg, "fnv1a_64");
    uint64_t rng = tu_seed("fnv_64_is_truncated_64_bit_fnv");
    unsigned char key[80];
    for (int iter = 0; iter < 2000; iter++) {
        size_t len = random_key(&rng, key, sizeof key);
        uint64_t h1 = 0xcbf29ce484222325u, h1a = 0xcbf29ce484222325u;
        for (size_t i = 0; i < len; i++) {
            uint64_t x = (uint64_t)(int64_t)(int8_t)key[i];
            h1 = (h1 * 0x100000001b3u) ^ x;
            h1a = (h1a ^ x) * 0x100000001b3u;
        }
        char *hex = key_hex(key, len);
        uint64_t got1 = fnv1(key, len), got1a = fnv1a(key, len);
        ck_assert_msg(got1 == (uint32_t)h1, "fnv1_64 key %s: %" PRIu64 ", want %" PRIu32, hex,
                      got1, (uint32_t)h1);
        ck_assert_msg(got1a == (uint32_t)h1a, "fnv1a_64 key %s: %" PRIu64 ", want %" PRIu32, hex,
                      got1a, (uint32_t)h1a);
        free(hex);
    }
    sp_registry_free(reg);
}
END_TEST

/* crc32 keeps bits 16..30 of the real CRC-32 (crc32a): 0..32767 only. */
START_TEST(crc32_is_15_bits_of_crc32a)
{
    struct sp_registry *reg = tu_registry();
    sp_hash_fn *crc32 = hash_fn(reg, "crc32"), *crc32a = hash_fn(reg, "crc32a");
    ck_assert_uint_eq(crc32a("123456789", 9), 0xcbf43926u);   /* the CRC-32 check value */
    ck_assert_uint_eq(crc32("123456789", 9), (0xcbf43926u >> 16) & 0x7fffu);
    uint64_t rng = tu_seed("crc32_is_15_bits_of_crc32a");
    unsigned char key[80];
    for (int iter = 0; iter < 2000; iter++) {
        size_t len = random_key(&rng, key, sizeof key);
        uint64_t v = crc32(key, len);
        ck_assert_msg(v <= 0x7fffu && v == ((crc32a(key, len) >> 16) & 0x7fffu),
                      "crc32 of a %zu-byte key: %" PRIu64, len, v);
    }
    sp_registry_free(reg);
}
END_TEST

/* crc16: the low 16 bits are CRC-16/XMODEM, the upper bits are kept (not truncated). */
START_TEST(crc16_is_untruncated_xmodem)
{
    struct sp_registry *reg = tu_registry();
    uint64_t v = hash_fn(reg, "crc16")("123456789", 9);
    ck_assert_uint_eq(v & 0xffffu, 0x31c3u);   /* the CRC-16/XMODEM check value */
    ck_assert_msg(v > 0xffffu, "crc16 was cut to 16 bits: %" PRIu64, v);
    sp_registry_free(reg);
}
END_TEST

/* The empty key, as the README of the vectors lists it (also a row of hash.tsv). */
START_TEST(empty_key_values)
{
    struct sp_registry *reg = tu_registry();
    ck_assert_uint_eq(hash_fn(reg, "jenkins")("", 0), 0xdeadbefcu);   /* 0xdeadbeef + 0 + 13 */
    ck_assert_uint_eq(hash_fn(reg, "murmur")("", 0), 0);               /* seed 0xdeadbeef * 0 */
    ck_assert_uint_eq(hash_fn(reg, "hsieh")("", 0), 0);                /* initial state 0 */
    ck_assert_uint_eq(hash_fn(reg, "fnv1a_64")("", 0), 0x84222325u);   /* truncated offset */
    /* Every plugin accepts a NULL key of length 0 and treats it as "". */
    for (size_t i = 0; i < N_ALL_HASHES; i++) {
        sp_hash_fn *fn = hash_fn(reg, all_hashes[i].name);
        ck_assert_msg(fn(NULL, 0) == fn("", 0), "%s(NULL, 0) != %s(\"\", 0)",
                      all_hashes[i].name, all_hashes[i].name);
    }
    sp_registry_free(reg);
}
END_TEST

/* 32-bit hashes never set the upper half, and every hash is deterministic. */
START_TEST(values_fit_hash_bits)
{
    struct sp_registry *reg = tu_registry();
    uint64_t rng = tu_seed("values_fit_hash_bits");
    unsigned char key[300];
    for (size_t i = 0; i < N_ALL_HASHES; i++) {
        sp_hash_fn *fn = hash_fn(reg, all_hashes[i].name);
        int upper_seen = 0;
        for (int iter = 0; iter < 500; iter++) {
            size_t len = random_key(&rng, key, sizeof key);
            uint64_t v = fn(key, len);
            ck_assert_msg(v == fn(key, len), "%s is not deterministic", all_hashes[i].name);
            if (all_hashes[i].bits == 32)
                ck_assert_msg(v <= UINT32_MAX, "%s: %" PRIu64 " has more than 32 bits",
                              all_hashes[i].name, v);
            upper_seen |= v > UINT32_MAX;
        }
        if (all_hashes[i].bits == 64)
            ck_assert_msg(upper_seen, "%s: no value above 32 bits in 500 keys",
                          all_hashes[i].name);
    }
    sp_registry_free(reg);
}
END_TEST

/* ---- alignment ---- */

/*
 * Each hash gives the same value for a key at offsets 0..7 from an aligned allocation.  The key
 * always ends exactly at the end of its allocation, so AddressSanitizer catches any read past
 * the key (nutcracker's jenkins reads whole words; ours must not).
 */
START_TEST(same_value_at_every_alignment)
{
    struct sp_registry *reg = tu_registry();
    uint64_t rng = tu_seed("same_value_at_every_alignment");
    static const size_t lengths[] = {0,  1,  2,  3,  4,  5,  6,  7,  8,   9,   10,  11,   12,
                                     13, 14, 15, 16, 17, 23, 24, 25, 31,  32,  33,  55,   56,
                                     63, 64, 65, 67, 97, 128, 129, 240, 241, 250, 256, 1000};
    for (size_t l = 0; l < sizeof lengths / sizeof lengths[0]; l++) {
        size_t len = lengths[l];
        unsigned char ref[1000];
        for (size_t i = 0; i < len; i++)
            ref[i] = (unsigned char)tu_rand(&rng);
        for (size_t h = 0; h < N_ALL_HASHES; h++) {
            sp_hash_fn *fn = hash_fn(reg, all_hashes[h].name);
            uint64_t want = fn(ref, len);
            for (size_t off = 0; off < 8; off++) {
                /* malloc is 16-byte aligned, so copy is at `off` mod 8 and ends where the
                 * allocation ends (size 1 only for the empty key: malloc(0) may be NULL). */
                size_t size = off + len > 0 ? off + len : 1;
                unsigned char *buf = malloc(size);
                ck_assert_ptr_nonnull(buf);
                unsigned char *copy = buf + off;
                if (len > 0)
                    memcpy(copy, ref, len);
                uint64_t got = fn(copy, len);
                ck_assert_msg(got == want,
                              "%s: %zu-byte key at offset %zu: %" PRIu64
                              ", reference copy: %" PRIu64,
                              all_hashes[h].name, len, off, got, want);
                free(buf);
            }
        }
    }
    sp_registry_free(reg);
}
END_TEST

/* ---- xxhash ---- */

/*
 * xxHash's sanity buffer (tests/sanity_test_vectors.h, cli/xsum_sanity_check.c): byte i is the
 * top byte of PRIME32 * PRIME64^i (mod 2^64).
 */
static void xxh_sanity_buffer(unsigned char *buf, size_t len)
{
    uint64_t gen = 2654435761u;
    for (size_t i = 0; i < len; i++) {
        buf[i] = (unsigned char)(gen >> 56);
        gen *= 11400714785074694797u;
    }
}

START_TEST(xxhash_published_values)
{
    struct sp_registry *reg = tu_registry();
    sp_hash_fn *fn = hash_fn(reg, "xxhash");
    ck_assert_uint_eq(fn("", 0), 0x2d06800538d394c2u);   /* XXH3_64bits of the empty input */

    /* XXH3_64bits, seed 0, on prefixes of the sanity buffer: xxHash's own test vectors, one per
     * length class of the algorithm. */
    static const struct {
        size_t len;
        uint64_t want;
    } v[] = {
        {1, 0xc44bdff4074eecdbu},  {6, 0x27b56a84cd2d7325u},  {12, 0xa713daf0dfbb77e7u},
        {24, 0xa3fe70bf9d3510ebu}, {48, 0x397da259ecba1f11u}, {80, 0xbcdefbbb2c47c90au},
        {195, 0xcd94217ee362ec3au},
    };
    unsigned char buf[195];
    xxh_sanity_buffer(buf, sizeof buf);
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        uint64_t got = fn(buf, v[i].len);
        ck_assert_msg(got == v[i].want, "XXH3_64bits(sanity[0..%zu)) = %016" PRIx64
                                        ", want %016" PRIx64,
                      v[i].len, got, v[i].want);
    }
    sp_registry_free(reg);
}
END_TEST

/* ---- MD5 (plugins/common) ---- */

static void check_md5(const void *data, size_t len, const char *want_hex, const char *what)
{
    unsigned char d[SP_MD5_DIGEST_LEN];
    char hex[2 * SP_MD5_DIGEST_LEN + 1];
    sp_md5(data, len, d);
    sp_hex_encode(d, sizeof d, hex);
    ck_assert_msg(strcmp(hex, want_hex) == 0, "MD5(%s) = %s, want %s", what, hex, want_hex);
}

/* The test suite of RFC 1321, appendix A.5. */
START_TEST(md5_rfc1321_suite)
{
    static const struct {
        const char *msg, *digest;
    } suite[] = {
        {"", "d41d8cd98f00b204e9800998ecf8427e"},
        {"a", "0cc175b9c0f1b6a831c399e269772661"},
        {"abc", "900150983cd24fb0d6963f7d28e17f72"},
        {"message digest", "f96b697d7cb7938d525a2f31aaf161d0"},
        {"abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b"},
        {"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
         "d174ab98d277d9f5a5611c2c9f419d9f"},
        {"1234567890123456789012345678901234567890123456789012345678901234567890123456789"
         "0",
         "57edf4a22be3c955ac49da2e2107b67a"},
    };
    for (size_t i = 0; i < sizeof suite / sizeof suite[0]; i++)
        check_md5(suite[i].msg, strlen(suite[i].msg), suite[i].digest, suite[i].msg);
}
END_TEST

/* Padding edges (55/56 bytes: one or two final blocks; 64: exact block) and a long input. */
START_TEST(md5_block_boundaries)
{
    static const struct {
        size_t n;
        const char *digest;
    } as[] = {
        {55, "ef1772b6dff9a122358552954ad0df65"}, {56, "3b0c8ac703f828b04c6c197006d17218"},
        {63, "b06521f39153d618550606be297466d5"}, {64, "014842d480b571495a4a0363793f7367"},
        {65, "c743a45e0d2e6a95cb859adae0248435"},
        {1000000, "7707d6ae4e027c70eea2a935c2296f21"},
    };
    for (size_t i = 0; i < sizeof as / sizeof as[0]; i++) {
        char *buf = malloc(as[i].n);
        ck_assert_ptr_nonnull(buf);
        memset(buf, 'a', as[i].n);
        char what[32];
        snprintf(what, sizeof what, "'a' x %zu", as[i].n);
        check_md5(buf, as[i].n, as[i].digest, what);
        free(buf);
    }
    check_md5(NULL, 0, "d41d8cd98f00b204e9800998ecf8427e", "NULL, 0");
}
END_TEST

static Suite *hash_suite(void)
{
    Suite *s = suite_create("hash");
    TCase *tc = tcase_create("plugins");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, descriptors);
    tcase_add_test(tc, golden_vectors_every_row_and_column);
    tcase_add_test(tc, high_bytes_are_sign_extended);
    tcase_add_test(tc, hsieh_tail_byte_is_sign_extended);
    tcase_add_test(tc, crc_high_bytes_are_not_sign_extended);
    tcase_add_test(tc, fnv_64_is_truncated_64_bit_fnv);
    tcase_add_test(tc, crc32_is_15_bits_of_crc32a);
    tcase_add_test(tc, crc16_is_untruncated_xmodem);
    tcase_add_test(tc, empty_key_values);
    tcase_add_test(tc, values_fit_hash_bits);
    tcase_add_test(tc, same_value_at_every_alignment);
    tcase_add_test(tc, xxhash_published_values);
    suite_add_tcase(s, tc);

    TCase *md5 = tcase_create("md5");
    tcase_add_test(md5, md5_rfc1321_suite);
    tcase_add_test(md5, md5_block_boundaries);
    suite_add_tcase(s, md5);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(hash_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
