/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers shared by the Check unit tests: test data files, TSV tables, hex keys, plugins. */
#ifndef SP_TESTUTIL_H
#define SP_TESTUTIL_H

#include <stddef.h>
#include <stdint.h>

#include "registry.h"

/* A TSV file: the header row and the data rows (all cells NUL-terminated strings). */
struct tu_table {
    char **header;
    size_t ncols;
    char ***rows;      /* rows[r][c]; a short row is padded with "" */
    size_t nrows;
};

/* Path of a file under tests/data ($SP_TEST_DATA); caller frees. */
char *tu_data_path(const char *relative);

/* Reads a TSV file (fails the test when it cannot). */
struct tu_table *tu_read_tsv(const char *path);
void tu_table_free(struct tu_table *t);

/* Index of the header column `name`, failing the test when there is none. */
size_t tu_col(const struct tu_table *t, const char *name);

/* Decodes a hex string into a new buffer (caller frees); stores the length in *len. */
unsigned char *tu_unhex(const char *hex, size_t *len);

/* A registry holding the plugins on the standard search path (the build tree's, via env). */
struct sp_registry *tu_registry(void);

/* A seed for property tests: $SP_TEST_SEED if set, else derived from time; printed either way. */
uint64_t tu_seed(const char *test_name);

/* xorshift64* step, for property tests. */
uint64_t tu_rand(uint64_t *state);

#endif /* SP_TESTUTIL_H */
