/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Plugin registry: dlopen, check, index by kind and name.
 *
 * Every check that fails unloads the file again and says which file and why, so a broken plugin
 * can never leave half-registered state behind.  Checks follow the order of the descriptor's
 * fields: version fields first, because they tell us whether the rest may be read at all.
 */
#include "config.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "registry.h"

/* The size of the descriptor as ABI 1.0 defined it: every plugin must cover at least this. */
#define SP_PLUGIN_MIN_SIZE offsetof(struct sp_plugin, destroy) + sizeof(sp_dist_destroy_fn *)

#define SP_PLUGIN_NAME_MAX 64

struct sp_registry_entry {
    void *handle;
    char *path;
    const struct sp_plugin *plugin;  /* points into the loaded object */
    struct sp_plugin copy;           /* normalised copy: fields the plugin lacks are zero */
    unsigned dir_generation;         /* which load_dir call brought it in (0: a single file) */
};

struct sp_registry {
    struct sp_registry_entry **entries; /* each entry allocated once: plugin pointers stay valid */
    size_t n, cap;
    unsigned generation;
    char **skipped;                     /* "FILE: why" of each file a directory scan passed over */
    size_t nskipped;
};

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

struct sp_registry *sp_registry_new(void)
{
    return calloc(1, sizeof(struct sp_registry));
}

void sp_registry_free(struct sp_registry *reg)
{
    if (!reg)
        return;
    for (size_t i = 0; i < reg->n; i++) {
        dlclose(reg->entries[i]->handle);
        free(reg->entries[i]->path);
        free(reg->entries[i]);
    }
    free(reg->entries);
    for (size_t i = 0; i < reg->nskipped; i++)
        free(reg->skipped[i]);
    free(reg->skipped);
    free(reg);
}

static const char *kind_name(uint32_t kind)
{
    switch (kind) {
    case SP_PLUGIN_HASH:
        return "hash";
    case SP_PLUGIN_DIST:
        return "distribution";
    default:
        return "unknown";
    }
}

/* Names are what users write in YAML: short, lowercase identifiers. */
static int valid_name(const char *name)
{
    size_t n = 0;
    for (const char *p = name; *p; p++, n++) {
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
            return 0;
    }
    return n > 0 && n <= SP_PLUGIN_NAME_MAX;
}

static const struct sp_registry_entry *find_entry(const struct sp_registry *reg, uint32_t kind,
                                                  const char *name)
{
    for (size_t i = 0; i < reg->n; i++) {
        const struct sp_plugin *p = &reg->entries[i]->copy;
        if (p->kind == kind && strcmp(p->name, name) == 0)
            return reg->entries[i];
    }
    return NULL;
}

/*
 * Validates a descriptor and builds the normalised copy.  Returns NULL on success, else the
 * reason (a static string or one written into buf).
 */
static const char *check_descriptor(const struct sp_plugin *d, struct sp_plugin *copy, char *buf,
                                    size_t buflen)
{
    if (d->abi_major != SP_ABI_MAJOR) {
        snprintf(buf, buflen, "plugin ABI major version %u, this program needs %u (rebuild the "
                 "plugin against this version's shardproxy/plugin.h)", d->abi_major, SP_ABI_MAJOR);
        return buf;
    }
    if (d->abi_minor > SP_ABI_MINOR) {
        snprintf(buf, buflen, "plugin ABI version %u.%u is newer than this program's %u.%u "
                 "(upgrade shardproxy or rebuild the plugin)", d->abi_major, d->abi_minor,
                 SP_ABI_MAJOR, SP_ABI_MINOR);
        return buf;
    }
    if (d->struct_size < SP_PLUGIN_MIN_SIZE) {
        snprintf(buf, buflen, "descriptor size %u is smaller than ABI %u.0's %zu", d->struct_size,
                 SP_ABI_MAJOR, (size_t)SP_PLUGIN_MIN_SIZE);
        return buf;
    }
    /* Older minors may be shorter than our struct: copy what they have, zero the rest. */
    memset(copy, 0, sizeof *copy);
    memcpy(copy, d, d->struct_size < sizeof *copy ? d->struct_size : sizeof *copy);
    if (copy->kind != SP_PLUGIN_HASH && copy->kind != SP_PLUGIN_DIST) {
        snprintf(buf, buflen, "unknown plugin kind %u (expected %d: hash or %d: distribution)",
                 copy->kind, SP_PLUGIN_HASH, SP_PLUGIN_DIST);
        return buf;
    }
    if (!copy->name || !valid_name(copy->name))
        return "plugin name missing or not a lowercase identifier [a-z0-9_]{1,64}";
    if (copy->kind == SP_PLUGIN_HASH) {
        if (!copy->hash)
            return "hash plugin without a hash function";
        if (copy->hash_bits != 32 && copy->hash_bits != 64) {
            snprintf(buf, buflen, "hash plugin '%s' declares %u hash bits (expected 32 or 64)",
                     copy->name, copy->hash_bits);
            return buf;
        }
    } else if (!copy->build || !copy->select || !copy->destroy) {
        return "distribution plugin without build, select and destroy functions";
    }
    if (!copy->summary)
        copy->summary = "";
    return NULL;
}

static int append_entry(struct sp_registry *reg, void *handle, const char *path,
                        const struct sp_plugin *plugin, const struct sp_plugin *copy)
{
    if (reg->n == reg->cap) {
        size_t cap = reg->cap ? 2 * reg->cap : 16;
        struct sp_registry_entry **grown = realloc(reg->entries, cap * sizeof *grown);
        if (!grown)
            return -1;
        reg->entries = grown;
        reg->cap = cap;
    }
    struct sp_registry_entry *e = malloc(sizeof *e);
    char *path_copy = strdup(path);
    if (!e || !path_copy) {
        free(e);
        free(path_copy);
        return -1;
    }
    reg->entries[reg->n++] = e;
    e->handle = handle;
    e->path = path_copy;
    e->plugin = plugin;
    e->copy = *copy;
    e->dir_generation = reg->generation;
    return 0;
}

/*
 * Whether the file could be a shardproxy plugin at all: every plugin's dynamic string table holds
 * the descriptor's name.  Read before dlopen, so a stray library in a plugin directory is never
 * loaded (its constructors never run).  Returns 1 yes, 0 no, -1 unreadable (errno set).
 */
static int mentions_descriptor(const char *path)
{
    static const char want[] = SP_PLUGIN_SYMBOL_NAME;
    const size_t wlen = sizeof want - 1;
    char buf[65536];
    size_t keep = 0, got;
    int found = 0;
    FILE *f = fopen(path, "rb");

    if (!f)
        return -1;
    /* Chunks overlap by the name's length, so a name across a chunk boundary is found. */
    while (!found && (got = fread(buf + keep, 1, sizeof buf - keep, f)) > 0) {
        size_t have = keep + got;
        found = memmem(buf, have, want, wlen) != NULL;
        keep = have < wlen ? have : wlen - 1;
        memmove(buf, buf + have - keep, keep);
    }
    int failed = ferror(f);
    fclose(f);
    if (failed && !found) {
        errno = EIO;
        return -1;
    }
    return found;
}

/* Notes a file a directory scan passed over (the caller reports it); 0, or -1 out of memory. */
static int note_skipped(struct sp_registry *reg, const char *path, const char *why)
{
    char **grown = realloc(reg->skipped, (reg->nskipped + 1) * sizeof *grown);
    if (!grown)
        return -1;
    reg->skipped = grown;
    size_t len = strlen(path) + strlen(why) + 3;
    if (!(reg->skipped[reg->nskipped] = malloc(len)))
        return -1;
    snprintf(reg->skipped[reg->nskipped++], len, "%s: %s", path, why);
    return 0;
}

/*
 * Loads `path`; `shadow_ok` makes a name already loaded by an earlier directory a silent skip
 * (returns 1) instead of an error.
 */
static int load_file(struct sp_registry *reg, const char *path, int shadow_ok, char *err,
                     size_t errlen)
{
    dlerror();
    void *handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
        const char *why = dlerror();
        set_err(err, errlen, "%s: cannot load plugin: %s", path, why ? why : "unknown error");
        return -1;
    }
    const struct sp_plugin *d = dlsym(handle, SP_PLUGIN_SYMBOL_NAME);
    if (!d) {
        set_err(err, errlen, "%s: not a shardproxy plugin (no '%s' symbol; declare it with "
                "SP_HASH_PLUGIN or SP_DIST_PLUGIN)", path, SP_PLUGIN_SYMBOL_NAME);
        goto fail;
    }
    char reason[256];
    struct sp_plugin copy;
    const char *why = check_descriptor(d, &copy, reason, sizeof reason);
    if (why) {
        set_err(err, errlen, "%s: %s", path, why);
        goto fail;
    }
    const struct sp_registry_entry *dup = find_entry(reg, copy.kind, copy.name);
    if (dup) {
        if (shadow_ok && dup->dir_generation != reg->generation) {
            dlclose(handle);
            return 1;
        }
        set_err(err, errlen, "%s: duplicate %s plugin '%s' (already loaded from %s)", path,
                kind_name(copy.kind), copy.name, dup->path);
        goto fail;
    }
    if (append_entry(reg, handle, path, d, &copy) < 0) {
        set_err(err, errlen, "%s: out of memory", path);
        goto fail;
    }
    return 0;
fail:
    dlclose(handle);
    return -1;
}

int sp_registry_load_file(struct sp_registry *reg, const char *path, char *err, size_t errlen)
{
    struct stat st;
    if (stat(path, &st) < 0) {
        set_err(err, errlen, "%s: cannot load plugin: %s", path, strerror(errno));
        return -1;
    }
    /* dlopen of a relative name would search the library path; make it mean the file. */
    if (!strchr(path, '/')) {
        char local[4096];
        snprintf(local, sizeof local, "./%s", path);
        return load_file(reg, local, 0, err, errlen) < 0 ? -1 : 0;
    }
    return load_file(reg, path, 0, err, errlen) < 0 ? -1 : 0;
}

static int has_so_suffix(const char *name)
{
    size_t n = strlen(name);
    return n > 3 && strcmp(name + n - 3, ".so") == 0;
}

static int compare_strings(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Lists the "*.so" names in dir, sorted so load order (and error messages) are reproducible. */
static char **list_plugins(DIR *d, size_t *count)
{
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *ent;
    while ((ent = readdir(d)) != NULL) {
        if (!has_so_suffix(ent->d_name))
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 32;
            char **grown = realloc(names, cap * sizeof *names);
            if (!grown)
                goto oom;
            names = grown;
        }
        if (!(names[n] = strdup(ent->d_name)))
            goto oom;
        n++;
    }
    if (n)
        qsort(names, n, sizeof *names, compare_strings);
    *count = n;
    return names ? names : calloc(1, sizeof *names);
oom:
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return NULL;
}

/* One "*.so" of a directory: a file that is no shardproxy plugin at all is passed over (and
 * noted), anything else must load.  Returns 0 or -1 with err set. */
static int load_dir_entry(struct sp_registry *reg, const char *path, char *err, size_t errlen)
{
    int maybe = mentions_descriptor(path);
    if (maybe < 0) {
        set_err(err, errlen, "%s: cannot load plugin: %s", path, strerror(errno));
        return -1;
    }
    if (maybe == 0) {
        if (note_skipped(reg, path, "not a shardproxy plugin (no '" SP_PLUGIN_SYMBOL_NAME
                                    "' symbol), skipped") == 0)
            return 0;
        set_err(err, errlen, "%s: out of memory", path);
        return -1;
    }
    return load_file(reg, path, 1, err, errlen) < 0 ? -1 : 0;
}

int sp_registry_load_dir(struct sp_registry *reg, const char *dir, char *err, size_t errlen)
{
    DIR *d = opendir(dir);
    if (!d) {
        set_err(err, errlen, "%s: cannot open plugin directory: %s", dir, strerror(errno));
        return -1;
    }
    size_t n = 0;
    char **names = list_plugins(d, &n);
    closedir(d);
    if (!names) {
        set_err(err, errlen, "%s: out of memory listing plugins", dir);
        return -1;
    }
    reg->generation++;
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        char path[4096];
        int len = snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        if (len < 0 || (size_t)len >= sizeof path) {
            set_err(err, errlen, "%s/%s: path too long", dir, names[i]);
            rc = -1;
        } else if (rc == 0) {
            rc = load_dir_entry(reg, path, err, errlen);
        }
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return rc;
}

static int is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Loads each directory of a colon-separated list; empty elements are ignored. */
static int load_path_list(struct sp_registry *reg, const char *list, const char *origin, char *err,
                          size_t errlen)
{
    char *copy = strdup(list);
    if (!copy) {
        set_err(err, errlen, "out of memory");
        return -1;
    }
    int rc = 0;
    char *save = NULL;
    for (char *dir = strtok_r(copy, ":", &save); dir && rc == 0;
         dir = strtok_r(NULL, ":", &save)) {
        if (!is_dir(dir)) {
            set_err(err, errlen, "%s: plugin directory (from %s) does not exist", dir, origin);
            rc = -1;
        } else {
            rc = sp_registry_load_dir(reg, dir, err, errlen);
        }
    }
    free(copy);
    return rc;
}

int sp_registry_load_default(struct sp_registry *reg, const char *cli_dir, char *err,
                             size_t errlen)
{
    if (cli_dir && load_path_list(reg, cli_dir, "the command line", err, errlen) < 0)
        return -1;
    const char *env = getenv(SP_PLUGIN_PATH_ENV);
    if (env && *env && load_path_list(reg, env, "$" SP_PLUGIN_PATH_ENV, err, errlen) < 0)
        return -1;
    /* The installed directory, unless the environment names another one (or, empty, none). */
    const char *sys = getenv(SP_SYSTEM_PLUGIN_DIR_ENV);
    if (!sys)
        sys = SP_PLUGIN_DIR;
    if (*sys && is_dir(sys) && sp_registry_load_dir(reg, sys, err, errlen) < 0)
        return -1;
    if (reg->n == 0) {
        set_err(err, errlen, "no plugins found (searched %s%s%s%s%s); set --plugin-dir or $%s",
                cli_dir ? cli_dir : "", cli_dir ? ", " : "", env && *env ? env : "",
                env && *env ? ", " : "", *sys ? sys : "no installed directory",
                SP_PLUGIN_PATH_ENV);
        return -1;
    }
    return 0;
}

size_t sp_registry_skipped_count(const struct sp_registry *reg)
{
    return reg->nskipped;
}

const char *sp_registry_skipped(const struct sp_registry *reg, size_t i)
{
    return i < reg->nskipped ? reg->skipped[i] : NULL;
}

size_t sp_registry_retain(struct sp_registry *reg, int (*keep)(const struct sp_plugin *p, void *ctx),
                          void *ctx)
{
    size_t kept = 0, dropped = 0;

    for (size_t i = 0; i < reg->n; i++) {
        struct sp_registry_entry *e = reg->entries[i];

        if (keep(&e->copy, ctx)) {
            reg->entries[kept++] = e; /* entries move, the plugin copies inside them do not */
            continue;
        }
        dlclose(e->handle);
        free(e->path);
        free(e);
        dropped++;
    }
    reg->n = kept;
    return dropped;
}

const struct sp_plugin *sp_registry_find(const struct sp_registry *reg, enum sp_plugin_kind kind,
                                         const char *name)
{
    const struct sp_registry_entry *e = find_entry(reg, (uint32_t)kind, name);
    return e ? &e->copy : NULL;
}

size_t sp_registry_count(const struct sp_registry *reg)
{
    return reg->n;
}

const struct sp_plugin *sp_registry_get(const struct sp_registry *reg, size_t i)
{
    return i < reg->n ? &reg->entries[i]->copy : NULL;
}

const char *sp_registry_path(const struct sp_registry *reg, size_t i)
{
    return i < reg->n ? reg->entries[i]->path : NULL;
}

size_t sp_registry_names(const struct sp_registry *reg, enum sp_plugin_kind kind,
                         const char **names, size_t cap)
{
    if (cap == 0)
        return 0;
    size_t n = 0;
    for (size_t i = 0; i < reg->n && n + 1 < cap; i++)
        if (reg->entries[i]->copy.kind == (uint32_t)kind)
            names[n++] = reg->entries[i]->copy.name;
    qsort(names, n, sizeof *names, compare_strings);
    names[n] = NULL;
    return n;
}

void sp_registry_join_names(const struct sp_registry *reg, enum sp_plugin_kind kind, char *buf,
                            size_t len)
{
    const char *names[256];
    size_t n = sp_registry_names(reg, kind, names, 256), used = 0;
    if (len == 0)
        return;
    buf[0] = '\0';
    for (size_t i = 0; i < n && used < len; i++) {
        int w = snprintf(buf + used, len - used, "%s%s", i ? ", " : "", names[i]);
        if (w < 0)
            break;
        used += (size_t)w;
    }
}
