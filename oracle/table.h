/* SPDX-License-Identifier: Apache-2.0 */
/* Aligned text tables for shardoracle's readable reports. */
#ifndef SP_ORACLE_TABLE_H
#define SP_ORACLE_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct sp_table {
    size_t ncols;
    const char *align;   /* 'l' or 'r' per column; missing ones (and NULL) right-aligned */
    size_t nalign;
    char **cells;        /* row-major */
    size_t ncells, cap;
};

/* An empty table of `ncols` columns. */
void sp_table_init(struct sp_table *t, size_t ncols, const char *align);

/* Appends one cell (rows fill left to right); a cell lost to out-of-memory prints empty. */
void sp_table_cell(struct sp_table *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prints the rows, each prefixed by `indent`, columns two spaces apart. */
void sp_table_print(struct sp_table *t, FILE *out, const char *indent);

/* Frees the cells; the table can be initialised again. */
void sp_table_free(struct sp_table *t);

#endif
