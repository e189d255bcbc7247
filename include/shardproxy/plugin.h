/* SPDX-License-Identifier: Apache-2.0 */
/*
 * shardproxy plugin ABI: hash functions and key distributions loaded at run time.
 *
 * A plugin is a shared object that exports exactly one symbol, SP_PLUGIN_SYMBOL, a constant
 * `struct sp_plugin`.  Authors never fill it by hand: they write one SP_HASH_PLUGIN(...) or
 * SP_DIST_PLUGIN(...) line, which stamps the version fields from this header.
 *
 * Contracts that make placement reproducible (the proxy and the offline oracle call the same code):
 *   - a hash is a pure function of the key bytes;
 *   - a distribution builds a selector from an explicit, ordered list of {name, weight} servers and
 *     maps a hash value to an index into that list.  No clock, no globals, no I/O, no live pool.
 *     When a server is ejected the host builds a new selector from the survivors.
 *
 * Building: `cc -shared -fPIC -fvisibility=hidden $(pkg-config --cflags shardproxy) -o
 * hash_NAME.so hash_NAME.c`; install into `pkg-config --variable=plugindir shardproxy`.  Nothing
 * else is needed: the ABI is this header, and a plugin links against no shardproxy library.
 *
 * Loading rules (shardproxy and shardoracle alike):
 *   - Search order, first match of a (kind, name) wins: the directory given with --plugin-dir,
 *     then each directory of $SHARDPROXY_PLUGIN_PATH (colon-separated), then the installed
 *     directory (plugindir above; $SHARDPROXY_SYSTEM_PLUGIN_DIR names another one, or, set empty,
 *     none).  A later directory's plugin of the same kind and name is shadowed, silently; two in
 *     one directory are an error.
 *   - A directory given with --plugin-dir or in $SHARDPROXY_PLUGIN_PATH must exist (an error
 *     otherwise); a missing installed directory is simply not searched.
 *   - In a directory, every file whose name ends in ".so" is considered, in name order.  A file
 *     that does not contain the name SP_PLUGIN_SYMBOL_NAME at all is not a shardproxy plugin: it
 *     is skipped with a warning, without being opened (its constructors never run).
 *   - Any other file is a shardproxy plugin and must load: dlopen(RTLD_NOW | RTLD_LOCAL) succeeds
 *     (every symbol it needs resolves), it exports SP_PLUGIN_SYMBOL, and the descriptor passes
 *     the checks below (version fields, kind, name [a-z0-9_]{1,64}, the functions of its kind).
 *     A broken plugin is an error that names the file and the reason: the proxy does not start.
 *   - Each plugin is loaded once per process and used from one thread.
 *
 * Versioning policy (the fields come first because they protect the rest):
 *   - SP_ABI_MAJOR changes when an existing field changes meaning, type or position, or when a
 *     contract above changes.  The host refuses a plugin whose major differs from its own.
 *   - SP_ABI_MINOR changes when fields are appended at the end of struct sp_plugin.  The host
 *     refuses a plugin built against a newer minor than its own (it could not honour the new
 *     fields); it accepts older minors and reads only the first `struct_size` bytes, treating
 *     absent trailing fields as NULL/0.
 *   - `struct_size` is sizeof(struct sp_plugin) as the plugin saw it; it must cover at least the
 *     fields of minor 0.
 */
#ifndef SHARDPROXY_PLUGIN_H
#define SHARDPROXY_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SP_ABI_MAJOR 1
#define SP_ABI_MINOR 1

/* The one symbol a plugin exports; the loader looks it up with dlsym. */
#define SP_PLUGIN_SYMBOL shardproxy_plugin
#define SP_PLUGIN_SYMBOL_NAME "shardproxy_plugin"

enum sp_plugin_kind {
    SP_PLUGIN_HASH = 1,
    SP_PLUGIN_DIST = 2,
};

/* One server as a distribution sees it.  `name` is not NUL-terminated necessarily; use name_len.
 * For nutcracker compatibility the name is the explicit server name, else "host:port", else
 * "host" when the port is 11211.  Weights are >= 1. */
struct sp_server_spec {
    const char *name;
    size_t name_len;
    uint32_t weight;
};

/*
 * Hash function: pure, thread-safe, defined for every byte string including the empty one.
 * Returns a value of at most `hash_bits` bits (32 or 64).
 */
typedef uint64_t sp_hash_fn(const void *key, size_t len);

/*
 * Distribution, three functions:
 *   build:   makes a selector for `n` (>= 1) servers given in the host's order.  On bad input
 *            (e.g. a weight it cannot honour) returns NULL and writes a one-line reason into
 *            err[errlen] (NUL-terminated, truncated if needed).  Also NULL on allocation failure.
 *   select:  returns the index (0 .. n-1) of the server that owns `hash`.  Must not fail.  It may
 *            update private state inside the selector (only `random` does), so one selector must
 *            not be used by two threads at once.
 *   destroy: frees the selector; NULL is a no-op.
 */
typedef void *sp_dist_build_fn(const struct sp_server_spec *servers, size_t n, char *err,
                               size_t errlen);
typedef uint32_t sp_dist_select_fn(void *selector, uint64_t hash);
typedef void sp_dist_destroy_fn(void *selector);

/*
 * Optional, ABI 1.1: the shape of a selector, so a host can compute exactly which share of the
 * hash space each server owns and how much a change moves (shardoracle, the proxy's reload log)
 * instead of sampling.  A selector has a shape when its answer depends on `hash % period` only,
 * and over [0, period) is constant on each range (cuts[i-1], cuts[i]] and on the wrap-around
 * range (cuts[n-1], period) + [0, cuts[0]]; select(cuts[i]) then names each range's owner.
 * Writes the period (2^32 for a 32-bit ring, the total weight for modula) into *period and the
 * first min(n, cap) of the n sorted cuts into cuts[], and returns n (>= 1).  Returns 0 (and
 * nothing is read) when the selector has no such shape.  Pure; may be NULL in the descriptor.
 */
typedef size_t sp_dist_shape_fn(const void *selector, uint64_t *cuts, size_t cap,
                                uint64_t *period);

struct sp_plugin {
    /* ---- ABI 1.0: version fields first ---- */
    uint32_t abi_major;
    uint32_t abi_minor;
    uint32_t struct_size;
    uint32_t kind;            /* enum sp_plugin_kind */
    const char *name;         /* as written in the config: [a-z0-9_], unique per kind */
    const char *summary;      /* one line for listings */
    /* kind == SP_PLUGIN_HASH */
    uint32_t hash_bits;       /* 32 or 64 */
    sp_hash_fn *hash;
    /* kind == SP_PLUGIN_DIST */
    sp_dist_build_fn *build;
    sp_dist_select_fn *select;
    sp_dist_destroy_fn *destroy;
    /* ---- ABI 1.1 ---- */
    sp_dist_shape_fn *shape;  /* kind == SP_PLUGIN_DIST, optional (NULL: none) */
    /* ---- append new fields below this line and bump SP_ABI_MINOR ---- */
};

#if defined(__GNUC__)
#define SP_PLUGIN_EXPORT __attribute__((visibility("default")))
#else
#define SP_PLUGIN_EXPORT
#endif

#ifdef __cplusplus
#define SP_PLUGIN_EXTERN extern "C"
#else
#define SP_PLUGIN_EXTERN extern
#endif

/* Register a hash plugin: SP_HASH_PLUGIN("fnv1a_64", "FNV-1a as nutcracker", 32, my_hash); */
#define SP_HASH_PLUGIN(NAME, SUMMARY, BITS, HASH_FN)                                             \
    SP_PLUGIN_EXTERN SP_PLUGIN_EXPORT const struct sp_plugin SP_PLUGIN_SYMBOL;                    \
    const struct sp_plugin SP_PLUGIN_SYMBOL = {                                                  \
        .abi_major = SP_ABI_MAJOR,                                                               \
        .abi_minor = SP_ABI_MINOR,                                                               \
        .struct_size = (uint32_t)sizeof(struct sp_plugin),                                       \
        .kind = SP_PLUGIN_HASH,                                                                  \
        .name = (NAME),                                                                          \
        .summary = (SUMMARY),                                                                    \
        .hash_bits = (BITS),                                                                     \
        .hash = (HASH_FN),                                                                       \
    }

/* A distribution that also describes its shape (see sp_dist_shape_fn). */
#define SP_DIST_PLUGIN_SHAPED(NAME, SUMMARY, BUILD_FN, SELECT_FN, DESTROY_FN, SHAPE_FN)          \
    SP_PLUGIN_EXTERN SP_PLUGIN_EXPORT const struct sp_plugin SP_PLUGIN_SYMBOL;                    \
    const struct sp_plugin SP_PLUGIN_SYMBOL = {                                                  \
        .abi_major = SP_ABI_MAJOR,                                                               \
        .abi_minor = SP_ABI_MINOR,                                                               \
        .struct_size = (uint32_t)sizeof(struct sp_plugin),                                       \
        .kind = SP_PLUGIN_DIST,                                                                  \
        .name = (NAME),                                                                          \
        .summary = (SUMMARY),                                                                    \
        .build = (BUILD_FN),                                                                     \
        .select = (SELECT_FN),                                                                   \
        .destroy = (DESTROY_FN),                                                                 \
        .shape = (SHAPE_FN),                                                                     \
    }

/* Register a distribution plugin: SP_DIST_PLUGIN("ketama", "...", build, select, destroy); */
#define SP_DIST_PLUGIN(NAME, SUMMARY, BUILD_FN, SELECT_FN, DESTROY_FN)                           \
    SP_DIST_PLUGIN_SHAPED(NAME, SUMMARY, BUILD_FN, SELECT_FN, DESTROY_FN, NULL)

#ifdef __cplusplus
}
#endif

#endif /* SHARDPROXY_PLUGIN_H */
