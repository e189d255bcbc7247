/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hex.h"
#include "keys.h"

#define KEYS_CHUNK (1u << 20)

struct sp_keys {
    FILE *f;
    int close_f;
    int flags;
    const char *name;
    char *buf;              /* read window: [pos, end) not yet consumed */
    size_t cap, pos, end;
    int eof;
    unsigned char *decoded; /* hex-decoded key */
    size_t decoded_cap;
    uint64_t line;
    /* synthetic source: prefix + decimal counter + suffix */
    int synthetic;
    uint64_t count;
    char *prefix, *suffix;
    size_t prefix_len, suffix_len;
};

struct sp_keys *sp_keys_open(const char *path, int flags, char *err, size_t errlen)
{
    struct sp_keys *k = calloc(1, sizeof *k);
    if (!k) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    k->flags = flags;
    if (!path || strcmp(path, "-") == 0) {
        k->f = stdin;
        k->name = "<stdin>";
    } else {
        k->f = fopen(path, "rb");
        k->name = path;
        k->close_f = 1;
        if (!k->f) {
            snprintf(err, errlen, "%s: cannot read keys: %s", path, strerror(errno));
            free(k);
            return NULL;
        }
    }
    k->cap = KEYS_CHUNK;
    k->buf = malloc(k->cap);
    if (!k->buf) {
        snprintf(err, errlen, "out of memory");
        sp_keys_close(k);
        return NULL;
    }
    return k;
}

/* Splits a "%d" pattern into prefix and suffix, turning "%%" into "%". */
static int split_pattern(struct sp_keys *k, const char *pattern, char *err, size_t errlen)
{
    size_t n = strlen(pattern), out = 0;
    char *buf = malloc(n + 1);
    int holes = 0;
    if (!buf) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        if (pattern[i] == '%' && pattern[i + 1] == '%') {
            buf[out++] = '%';
            i++;
        } else if (pattern[i] == '%' && pattern[i + 1] == 'd') {
            if (holes++ == 0)
                k->prefix_len = out;
            i++;
        } else if (pattern[i] == '%') {
            snprintf(err, errlen, "--pattern '%s': only %%d and %%%% may follow %% (byte %zu)",
                     pattern, i);
            free(buf);
            return -1;
        } else {
            buf[out++] = pattern[i];
        }
    }
    if (holes != 1) {
        snprintf(err, errlen, "--pattern '%s': needs exactly one %%d (found %d)", pattern, holes);
        free(buf);
        return -1;
    }
    k->prefix = buf;
    k->suffix = buf + k->prefix_len;
    k->suffix_len = out - k->prefix_len;
    return 0;
}

struct sp_keys *sp_keys_synthetic(const char *pattern, uint64_t count, char *err, size_t errlen)
{
    struct sp_keys *k = calloc(1, sizeof *k);
    if (!k) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    k->synthetic = 1;
    k->count = count;
    k->name = "<synthetic>";
    if (split_pattern(k, pattern, err, errlen) < 0) {
        free(k);
        return NULL;
    }
    k->cap = k->prefix_len + k->suffix_len + 24;
    if (!(k->buf = malloc(k->cap))) {
        snprintf(err, errlen, "out of memory");
        sp_keys_close(k);
        return NULL;
    }
    memcpy(k->buf, k->prefix, k->prefix_len);
    return k;
}

/* Writes the next synthetic key into the buffer: prefix (already there), counter, suffix. */
static int next_synthetic(struct sp_keys *k, struct sp_key *key)
{
    if (k->line == k->count)
        return 0;
    char digits[24];
    int n = 0;
    uint64_t v = k->line;
    do {
        digits[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    char *p = k->buf + k->prefix_len;
    while (n)
        *p++ = digits[--n];
    memcpy(p, k->suffix, k->suffix_len);
    p += k->suffix_len;
    k->line++;
    key->text = k->buf;
    key->text_len = (size_t)(p - k->buf);
    key->bytes = (const unsigned char *)k->buf;
    key->len = key->text_len;
    key->size = 0;
    key->line = k->line;
    return 1;
}

void sp_keys_close(struct sp_keys *k)
{
    if (!k)
        return;
    free(k->prefix);
    if (k->close_f)
        fclose(k->f);
    free(k->buf);
    free(k->decoded);
    free(k);
}

/* Makes room and reads more input after the unconsumed bytes; returns bytes read, -1 on error. */
static long fill(struct sp_keys *k)
{
    if (k->pos > 0) {
        memmove(k->buf, k->buf + k->pos, k->end - k->pos);
        k->end -= k->pos;
        k->pos = 0;
    }
    if (k->end == k->cap) {
        /* A line longer than the window: grow (keys are small, but be correct for any). */
        char *grown = realloc(k->buf, 2 * k->cap);
        if (!grown)
            return -1;
        k->buf = grown;
        k->cap *= 2;
    }
    size_t got = fread(k->buf + k->end, 1, k->cap - k->end, k->f);
    if (got == 0) {
        if (ferror(k->f))
            return -1;
        k->eof = 1;
    }
    k->end += got;
    return (long)got;
}

/* Finds the next line; returns its start and length (without newline), or NULL at EOF. */
static char *next_line(struct sp_keys *k, size_t *len, char *err, size_t errlen)
{
    for (;;) {
        char *start = k->buf + k->pos;
        char *nl = memchr(start, '\n', k->end - k->pos);
        if (nl) {
            *len = (size_t)(nl - start);
            k->pos += *len + 1;
            return start;
        }
        if (k->eof) {
            if (k->pos == k->end)
                return NULL;
            *len = k->end - k->pos; /* last line without a newline */
            k->pos = k->end;
            return start;
        }
        if (fill(k) < 0) {
            snprintf(err, errlen, "%s: read error: %s", k->name, strerror(errno));
            *len = (size_t)-1;
            return NULL;
        }
    }
}

static int parse_size(const char *p, size_t n, uint64_t *out)
{
    uint64_t v = 0;
    if (n == 0 || n > 19)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return -1;
        v = v * 10 + (uint64_t)(p[i] - '0');
    }
    *out = v;
    return 0;
}

int sp_keys_next(struct sp_keys *k, struct sp_key *key, char *err, size_t errlen)
{
    if (k->synthetic)
        return next_synthetic(k, key);
    size_t len = 0;
    char *line = next_line(k, &len, err, errlen);
    if (!line)
        return len == (size_t)-1 ? -1 : 0;
    k->line++;
    if (len > 0 && line[len - 1] == '\r')
        len--;
    key->size = 0;
    key->line = k->line;
    if (k->flags & SP_KEYS_SIZES) {
        char *tab = memrchr(line, '\t', len);
        if (!tab || parse_size(tab + 1, len - (size_t)(tab + 1 - line), &key->size) < 0) {
            snprintf(err, errlen, "%s:%llu: expected KEY<TAB>SIZE (a decimal byte count)",
                     k->name, (unsigned long long)k->line);
            return -1;
        }
        len = (size_t)(tab - line);
    }
    key->text = line;
    key->text_len = len;
    if (!(k->flags & SP_KEYS_HEX)) {
        key->bytes = (const unsigned char *)line;
        key->len = len;
        return 1;
    }
    if (len / 2 + 1 > k->decoded_cap) {
        size_t cap = len / 2 + 64;
        unsigned char *grown = realloc(k->decoded, cap);
        if (!grown) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        k->decoded = grown;
        k->decoded_cap = cap;
    }
    size_t bad = 0;
    long n = sp_hex_decode(line, len, k->decoded, &bad);
    if (n < 0) {
        if (bad == len)
            snprintf(err, errlen, "%s:%llu: odd number of hex digits (%zu)", k->name,
                     (unsigned long long)k->line, len);
        else
            snprintf(err, errlen, "%s:%llu: bad hex digit 0x%02x ('%c') at byte %zu", k->name,
                     (unsigned long long)k->line, (unsigned char)line[bad],
                     isprint((unsigned char)line[bad]) ? line[bad] : '?', bad);
        return -1;
    }
    key->bytes = k->decoded;
    key->len = (size_t)n;
    return 1;
}

size_t sp_keys_escape(const unsigned char *key, size_t len, char *out)
{
    static const char digits[] = "0123456789abcdef";
    char *p = out;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = key[i];
        const char *named = c == '\\' ? "\\\\" : c == '\t' ? "\\t" : c == '\n' ? "\\n"
                          : c == '\r' ? "\\r" : NULL;
        if (named) {
            memcpy(p, named, 2);
            p += 2;
        } else if (c >= 0x20 && c < 0x7f) {
            *p++ = (char)c;
        } else {
            *p++ = '\\';
            *p++ = 'x';
            *p++ = digits[c >> 4];
            *p++ = digits[c & 15];
        }
    }
    *p = '\0';
    return (size_t)(p - out);
}
