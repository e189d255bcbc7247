/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Aligned text tables for the readable reports: cells are collected, then each column is padded
 * to its widest cell (the first column left-aligned, numbers right-aligned).
 */
#include "config.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "table.h"

void sp_table_init(struct sp_table *t, size_t ncols, const char *align)
{
    memset(t, 0, sizeof(*t));
    t->ncols = ncols;
    t->align = align;
    t->nalign = align ? strlen(align) : 0;
}

void sp_table_cell(struct sp_table *t, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (t->ncells == t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 64;
        char **grown = realloc(t->cells, cap * sizeof(*grown));
        if (!grown)
            return;   /* out of memory: the table loses cells, the program goes on */
        t->cells = grown;
        t->cap = cap;
    }
    t->cells[t->ncells++] = strdup(buf);
}

void sp_table_print(struct sp_table *t, FILE *out, const char *indent)
{
    size_t *width = calloc(t->ncols, sizeof(*width));
    if (!width)
        return;
    for (size_t k = 0; k < t->ncells; k++) {
        size_t n = t->cells[k] ? strlen(t->cells[k]) : 0;
        if (n > width[k % t->ncols])
            width[k % t->ncols] = n;
    }
    for (size_t k = 0; k < t->ncells; k++) {
        size_t col = k % t->ncols;
        const char *s = t->cells[k] ? t->cells[k] : "";
        bool left = col < t->nalign && t->align[col] == 'l';
        bool last = col == t->ncols - 1 || k == t->ncells - 1;
        if (col == 0)
            fputs(indent, out);
        else
            fputs("  ", out);
        if (left && last)
            fputs(s, out);
        else
            fprintf(out, left ? "%-*s" : "%*s", (int)width[col], s);
        if (last)
            fputc('\n', out);
    }
    free(width);
}

void sp_table_free(struct sp_table *t)
{
    for (size_t k = 0; k < t->ncells; k++)
        free(t->cells[k]);
    free(t->cells);
    memset(t, 0, sizeof(*t));
}
