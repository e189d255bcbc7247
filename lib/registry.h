/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Plugin registry: loads hash and distribution plugins (shared objects) and finds them by name.
 * The loading rules are the ones include/shardproxy/plugin.h states for plugin authors.
 *
 * Search path, first match of a name wins: a directory given on the command line, then the
 * directories in $SHARDPROXY_PLUGIN_PATH (colon-separated), then the installed default
 * (SP_PLUGIN_DIR, under libdir; $SHARDPROXY_SYSTEM_PLUGIN_DIR replaces it, and set empty drops it,
 * which is how the test suite keeps an installed copy out of its way).  Within one directory two
 * plugins of the same kind and name are an error; across directories the earlier one shadows the
 * later.
 */
#ifndef SP_REGISTRY_H
#define SP_REGISTRY_H

#include <stddef.h>

#include <shardproxy/plugin.h>

#define SP_PLUGIN_PATH_ENV "SHARDPROXY_PLUGIN_PATH"
#define SP_SYSTEM_PLUGIN_DIR_ENV "SHARDPROXY_SYSTEM_PLUGIN_DIR"

struct sp_registry;

/* Returns an empty registry, or NULL when out of memory. */
struct sp_registry *sp_registry_new(void);

/* Unloads every plugin (dlclose) and frees the registry; NULL is a no-op. */
void sp_registry_free(struct sp_registry *reg);

/*
 * Loads one plugin file.  Checks, in order: the file opens (dlopen RTLD_NOW|RTLD_LOCAL), it exports
 * SP_PLUGIN_SYMBOL, the ABI major equals ours, its minor is not newer than ours, struct_size covers
 * ABI 1.0 and is not larger than ours... (see registry.c), a known kind, a valid name, the
 * functions its kind requires, and no plugin of the same kind and name is loaded already.
 * Returns 0, or -1 after unloading the file and writing "FILE: reason" into err[errlen].
 */
int sp_registry_load_file(struct sp_registry *reg, const char *path, char *err, size_t errlen);

/*
 * Loads every "*.so" in `dir`.  A file that is not a shardproxy plugin at all (the descriptor's
 * name appears nowhere in it) is not even opened: it is noted in sp_registry_skipped for the
 * caller to warn about.  Anything else must load: a broken plugin is an error.  Names already
 * loaded from an earlier directory are skipped (shadowed); a duplicate within `dir` is an error.
 * Returns 0 or -1 with err set.
 */
int sp_registry_load_dir(struct sp_registry *reg, const char *dir, char *err, size_t errlen);

/*
 * Loads the standard search path: `cli_dir` (may be NULL), then $SHARDPROXY_PLUGIN_PATH, then
 * SP_PLUGIN_DIR (or $SHARDPROXY_SYSTEM_PLUGIN_DIR).  A directory named on the command line or in
 * $SHARDPROXY_PLUGIN_PATH must exist; the installed default is skipped when missing.  Returns 0
 * or -1 with err set.
 */
int sp_registry_load_default(struct sp_registry *reg, const char *cli_dir, char *err,
                             size_t errlen);

/* The files directory scans passed over, as "FILE: reason" (for a warning each), in scan order. */
size_t sp_registry_skipped_count(const struct sp_registry *reg);
const char *sp_registry_skipped(const struct sp_registry *reg, size_t i);

/*
 * Unloads (dlclose) every plugin for which keep(plugin, ctx) returns 0, e.g. the ones no pool of
 * the configuration names: each loaded object keeps a few pages resident, and a directory holds
 * two dozen.  The kept plugins' pointers stay valid; indexes (sp_registry_get) shift.  Returns
 * the number unloaded.
 */
size_t sp_registry_retain(struct sp_registry *reg, int (*keep)(const struct sp_plugin *p, void *ctx),
                          void *ctx);

/* Returns the plugin of `kind` called `name`, or NULL. */
const struct sp_plugin *sp_registry_find(const struct sp_registry *reg, enum sp_plugin_kind kind,
                                         const char *name);

/* Number of loaded plugins, and the i-th (in load order). */
size_t sp_registry_count(const struct sp_registry *reg);
const struct sp_plugin *sp_registry_get(const struct sp_registry *reg, size_t i);

/* The file the i-th plugin came from. */
const char *sp_registry_path(const struct sp_registry *reg, size_t i);

/*
 * Fills names[cap] with the names of loaded plugins of `kind`, sorted, NULL-terminated (at most
 * cap-1 names).  Returns the number written.  The strings belong to the registry.
 */
size_t sp_registry_names(const struct sp_registry *reg, enum sp_plugin_kind kind,
                         const char **names, size_t cap);

/*
 * Writes the sorted names of the loaded plugins of `kind` into buf[len] as "a, b, c" (truncated
 * to fit, always NUL-terminated).  For messages such as "unknown hash 'x' (known: ...)".
 */
void sp_registry_join_names(const struct sp_registry *reg, enum sp_plugin_kind kind, char *buf,
                            size_t len);

#endif /* SP_REGISTRY_H */
