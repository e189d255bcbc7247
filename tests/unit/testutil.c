/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hex.h"
#include "testutil.h"

char *tu_data_path(const char *relative)
{
    const char *dir = getenv("SP_TEST_DATA");
    ck_assert_msg(dir != NULL, "SP_TEST_DATA is not set (run the tests with make check)");
    size_t n = strlen(dir) + strlen(relative) + 2;
    char *path = malloc(n);
    ck_assert_ptr_nonnull(path);
    snprintf(path, n, "%s/%s", dir, relative);
    return path;
}

/* Splits one line (without its newline) at tabs into exactly `want` cells (0: as many as found). */
static char **split_tabs(char *line, size_t want, size_t *found)
{
    size_t cap = want ? want : 1;
    for (char *p = line; *p; p++)
        if (*p == '\t' && !want)
            cap++;
    char **cells = calloc(cap, sizeof *cells);
    ck_assert_ptr_nonnull(cells);
    size_t n = 0;
    char *p = line;
    for (;;) {
        char *tab = strchr(p, '\t');
        if (tab)
            *tab = '\0';
        if (n < cap)
            cells[n] = strdup(p);
        n++;
        if (!tab)
            break;
        p = tab + 1;
    }
    for (size_t i = n; i < cap; i++)
        cells[i] = strdup("");
    *found = n;
    return cells;
}

struct tu_table *tu_read_tsv(const char *path)
{
    FILE *f = fopen(path, "r");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    struct tu_table *t = calloc(1, sizeof *t);
    ck_assert_ptr_nonnull(t);
    char *line = NULL;
    size_t cap = 0, rows_cap = 0;
    ssize_t len;
    while ((len = getline(&line, &cap, f)) >= 0) {
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        size_t found;
        if (!t->header) {
            t->header = split_tabs(line, 0, &t->ncols);
            continue;
        }
        if (t->nrows == rows_cap) {
            rows_cap = rows_cap ? 2 * rows_cap : 64;
            t->rows = realloc(t->rows, rows_cap * sizeof *t->rows);
            ck_assert_ptr_nonnull(t->rows);
        }
        t->rows[t->nrows++] = split_tabs(line, t->ncols, &found);
        ck_assert_msg(found <= t->ncols, "%s: row %zu has %zu cells, header has %zu", path,
                      t->nrows, found, t->ncols);
    }
    free(line);
    fclose(f);
    ck_assert_msg(t->header != NULL, "%s is empty", path);
    return t;
}

static void free_cells(char **cells, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(cells[i]);
    free(cells);
}

void tu_table_free(struct tu_table *t)
{
    if (!t)
        return;
    for (size_t r = 0; r < t->nrows; r++)
        free_cells(t->rows[r], t->ncols);
    free(t->rows);
    free_cells(t->header, t->ncols);
    free(t);
}

size_t tu_col(const struct tu_table *t, const char *name)
{
    for (size_t c = 0; c < t->ncols; c++)
        if (strcmp(t->header[c], name) == 0)
            return c;
    ck_abort_msg("no column '%s'", name);
    return 0;
}

unsigned char *tu_unhex(const char *hex, size_t *len)
{
    size_t n = strlen(hex);
    unsigned char *out = malloc(n / 2 + 1);
    ck_assert_ptr_nonnull(out);
    size_t bad = 0;
    long got = sp_hex_decode(hex, n, out, &bad);
    ck_assert_msg(got >= 0, "bad hex '%s' at offset %zu", hex, bad);
    *len = (size_t)got;
    return out;
}

struct sp_registry *tu_registry(void)
{
    char err[512];
    struct sp_registry *reg = sp_registry_new();
    ck_assert_ptr_nonnull(reg);
    ck_assert_msg(sp_registry_load_default(reg, NULL, err, sizeof err) == 0, "%s", err);
    return reg;
}

uint64_t tu_seed(const char *test_name)
{
    const char *env = getenv("SP_TEST_SEED");
    uint64_t seed = env ? strtoull(env, NULL, 0) : (uint64_t)time(NULL) * 2654435761u;
    if (seed == 0)
        seed = 1;
    printf("%s: seed %llu (rerun with SP_TEST_SEED=%llu)\n", test_name, (unsigned long long)seed,
           (unsigned long long)seed);
    fflush(stdout);
    return seed;
}

uint64_t tu_rand(uint64_t *state)
{
    uint64_t x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 0x2545F4914F6CDD1DULL;
}
