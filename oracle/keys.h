/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Key sources for the oracle: a file or stdin with one key per line (plain, or hex-encoded with
 * --hex; optionally a trailing TAB-separated size column), streamed in constant memory.
 */
#ifndef SP_ORACLE_KEYS_H
#define SP_ORACLE_KEYS_H

#include <stddef.h>
#include <stdint.h>

enum {
    SP_KEYS_HEX = 1,    /* lines are hex-encoded bytes */
    SP_KEYS_SIZES = 2,  /* each line ends in TAB and a decimal value size in bytes */
};

struct sp_key {
    const char *text;        /* the key as written in the input (without size column, newline) */
    size_t text_len;
    const unsigned char *bytes; /* the key itself (== text unless hex) */
    size_t len;
    uint64_t size;           /* the size column, or 0 */
    uint64_t line;           /* 1-based line number */
};

struct sp_keys;

/*
 * Opens `path` ("-" or NULL: stdin).  Returns NULL with err set ("PATH: reason") when it cannot.
 */
struct sp_keys *sp_keys_open(const char *path, int flags, char *err, size_t errlen);

/*
 * Reads the next key into *key; its pointers stay valid until the next call.  Returns 1 for a key,
 * 0 at end of input, -1 on bad input with err set to "PATH:LINE: reason (byte N)".  A line ending
 * in CR LF has the CR removed (use --hex for keys that end in CR).
 */
int sp_keys_next(struct sp_keys *keys, struct sp_key *key, char *err, size_t errlen);

/*
 * A synthetic source: `count` keys made from `pattern` by replacing its one "%d" with 0, 1, 2...
 * (e.g. "user:%d").  Returns NULL with err set when the pattern has no or several "%d" (write
 * "%%" for a literal percent sign).
 */
struct sp_keys *sp_keys_synthetic(const char *pattern, uint64_t count, char *err, size_t errlen);

/*
 * Writes key[len] as text that fits on one line: printable ASCII as is, a backslash doubled,
 * tab, newline and CR as backslash t, n, r, any other byte as backslash x HH (so a key reads back
 * unambiguously).  out needs room for 4 * len + 1 bytes; returns the length written (without the
 * NUL).
 */
size_t sp_keys_escape(const unsigned char *key, size_t len, char *out);

/* Closes the source (not stdin itself); NULL is a no-op. */
void sp_keys_close(struct sp_keys *keys);

#endif
