/* SPDX-License-Identifier: Apache-2.0 */
/* Plugin loader: every way a plugin can be wrong gets refused with a message naming file and reason. */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "registry.h"
#include "testutil.h"

/* Path of a test plugin built in tests/plugins; caller frees. */
static char *bad_plugin(const char *name)
{
    const char *dir = getenv("SP_TEST_BAD_PLUGINS");
    ck_assert_msg(dir != NULL, "SP_TEST_BAD_PLUGINS is not set (run with make check)");
    size_t n = strlen(dir) + strlen(name) + 8;
    char *path = malloc(n);
    snprintf(path, n, "%s/%s.so", dir, name);
    return path;
}

/* Loading `name` must fail, leave the registry empty, and mention the file and `reason`. */
static void expect_refused(const char *name, const char *reason)
{
    struct sp_registry *reg = sp_registry_new();
    char *path = bad_plugin(name);
    char err[512] = "";
    ck_assert_int_eq(sp_registry_load_file(reg, path, err, sizeof err), -1);
    ck_assert_msg(strstr(err, path) != NULL, "message does not name the file: %s", err);
    ck_assert_msg(strstr(err, reason) != NULL, "expected '%s' in: %s", reason, err);
    ck_assert_uint_eq(sp_registry_count(reg), 0);
    free(path);
    sp_registry_free(reg);
}

START_TEST(refuses_missing_file)
{
    expect_refused("does_not_exist", "No such file or directory");
}
END_TEST

START_TEST(refuses_not_a_plugin)
{
    expect_refused("not_a_plugin", "not a shardproxy plugin (no 'shardproxy_plugin' symbol");
}
END_TEST

START_TEST(refuses_wrong_major)
{
    expect_refused("wrong_major", "plugin ABI major version 2, this program needs 1");
}
END_TEST

START_TEST(refuses_newer_minor)
{
    expect_refused("newer_minor", "plugin ABI version 1.2 is newer than this program's 1.1");
}
END_TEST

START_TEST(refuses_short_struct)
{
    expect_refused("short_struct", "descriptor size 8 is smaller than ABI 1.0's");
}
END_TEST

START_TEST(refuses_wrong_kind)
{
    expect_refused("wrong_kind", "unknown plugin kind 7");
}
END_TEST

START_TEST(refuses_bad_names)
{
    expect_refused("bad_name", "not a lowercase identifier");
    expect_refused("no_name", "plugin name missing");
}
END_TEST

START_TEST(refuses_missing_functions)
{
    expect_refused("no_hash_fn", "hash plugin without a hash function");
    expect_refused("no_dist_fns", "distribution plugin without build, select and destroy");
    expect_refused("bad_bits", "declares 16 hash bits (expected 32 or 64)");
}
END_TEST

START_TEST(refuses_garbage_file)
{
    char path[] = "/tmp/sp-garbage-XXXXXX.so";
    int fd = mkstemps(path, 3);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, "not an ELF file\n", 16), 16);
    close(fd);
    struct sp_registry *reg = sp_registry_new();
    char err[512] = "";
    ck_assert_int_eq(sp_registry_load_file(reg, path, err, sizeof err), -1);
    ck_assert_msg(strstr(err, path) && strstr(err, "cannot load plugin"), "%s", err);
    unlink(path);
    sp_registry_free(reg);
}
END_TEST

START_TEST(refuses_duplicate_name)
{
    struct sp_registry *reg = sp_registry_new();
    char *a = bad_plugin("dup_a"), *b = bad_plugin("dup_b");
    char err[512] = "";
    ck_assert_int_eq(sp_registry_load_file(reg, a, err, sizeof err), 0);
    ck_assert_int_eq(sp_registry_load_file(reg, b, err, sizeof err), -1);
    ck_assert_msg(strstr(err, b) && strstr(err, "duplicate hash plugin 'dupname'") &&
                  strstr(err, a), "%s", err);
    ck_assert_uint_eq(sp_registry_count(reg), 1);
    ck_assert_str_eq(sp_registry_find(reg, SP_PLUGIN_HASH, "dupname")->summary, "dup_a");
    free(a);
    free(b);
    sp_registry_free(reg);
}
END_TEST

/* Makes a temporary directory holding symlinks to the named test plugins. */
static char *dir_with(const char *const *names)
{
    char tmpl[] = "/tmp/sp-plugdir-XXXXXX";
    char *dir = strdup(mkdtemp(tmpl));
    for (; *names; names++) {
        char *target = bad_plugin(*names), link[512];
        snprintf(link, sizeof link, "%s/%s.so", dir, *names);
        ck_assert_int_eq(symlink(target, link), 0);
        free(target);
    }
    return dir;
}

static void remove_dir(char *dir, const char *const *names)
{
    for (; *names; names++) {
        char link[512];
        snprintf(link, sizeof link, "%s/%s.so", dir, *names);
        unlink(link);
    }
    rmdir(dir);
    free(dir);
}

START_TEST(duplicate_in_one_directory_is_an_error)
{
    static const char *const both[] = {"dup_a", "dup_b", NULL};
    char *dir = dir_with(both);
    struct sp_registry *reg = sp_registry_new();
    char err[512] = "";
    ck_assert_int_eq(sp_registry_load_dir(reg, dir, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "dup_b.so") && strstr(err, "duplicate"), "%s", err);
    sp_registry_free(reg);
    remove_dir(dir, both);
}
END_TEST

START_TEST(earlier_directory_shadows_later)
{
    static const char *const a[] = {"dup_a", NULL}, *const b[] = {"dup_b", "hash_djb2", NULL};
    char *first = dir_with(a), *second = dir_with(b);
    struct sp_registry *reg = sp_registry_new();
    char err[512] = "";
    ck_assert_msg(sp_registry_load_dir(reg, first, err, sizeof err) == 0, "%s", err);
    ck_assert_msg(sp_registry_load_dir(reg, second, err, sizeof err) == 0, "%s", err);
    ck_assert_uint_eq(sp_registry_count(reg), 2); /* dupname from `first`, djb2 */
    const char *from = sp_registry_path(reg, 0);
    ck_assert_msg(strstr(from, first) != NULL, "dupname came from %s", from);
    sp_registry_free(reg);
    remove_dir(first, a);
    remove_dir(second, b);
}
END_TEST

START_TEST(example_plugin_loads_and_hashes)
{
    struct sp_registry *reg = sp_registry_new();
    char *path = bad_plugin("hash_djb2");
    char err[512] = "";
    ck_assert_msg(sp_registry_load_file(reg, path, err, sizeof err) == 0, "%s", err);
    const struct sp_plugin *p = sp_registry_find(reg, SP_PLUGIN_HASH, "djb2");
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_eq(p->abi_major, SP_ABI_MAJOR);
    ck_assert_uint_eq(p->hash("", 0), 5381);
    ck_assert_uint_eq(p->hash("a", 1), 5381u * 33 + 'a');
    ck_assert_ptr_null(sp_registry_find(reg, SP_PLUGIN_DIST, "djb2"));
    free(path);
    sp_registry_free(reg);
}
END_TEST

/* An ABI 1.0 descriptor (shorter: no `shape`) loads; the field it does not have reads NULL,
   whatever lies in memory after its end (here a bogus value the copy must not take). */
START_TEST(older_minor_loads_without_later_fields)
{
    struct sp_registry *reg = sp_registry_new();
    char *path = bad_plugin("abi_1_0");
    char err[512] = "";

    ck_assert_msg(sp_registry_load_file(reg, path, err, sizeof err) == 0, "%s", err);
    const struct sp_plugin *p = sp_registry_find(reg, SP_PLUGIN_DIST, "abi_1_0");
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_eq(p->abi_minor, 0);
    ck_assert_ptr_null(p->shape);
    ck_assert_ptr_nonnull(p->build);
    free(path);
    sp_registry_free(reg);
}
END_TEST

START_TEST(default_path_finds_every_builtin_plugin)
{
    static const char *const hashes[] = {"crc16", "crc32", "crc32a", "fnv1_32", "fnv1_64",
        "fnv1a_32", "fnv1a_64", "hsieh", "jenkins", "md5", "murmur", "one_at_a_time", "xxhash",
        NULL};
    static const char *const dists[] = {"ketama", "modula", "random", NULL};
    struct sp_registry *reg = tu_registry();
    const char *names[64];
    size_t n = sp_registry_names(reg, SP_PLUGIN_HASH, names, 64);
    ck_assert_uint_eq(n, 13);
    for (size_t i = 0; hashes[i]; i++)
        ck_assert_str_eq(names[i], hashes[i]);
    n = sp_registry_names(reg, SP_PLUGIN_DIST, names, 64);
    ck_assert_uint_ge(n, 3);
    for (size_t i = 0; dists[i]; i++)
        ck_assert_msg(sp_registry_find(reg, SP_PLUGIN_DIST, dists[i]), "no %s", dists[i]);
    ck_assert_ptr_null(sp_registry_find(reg, SP_PLUGIN_DIST, "fnv1a_64"));
    sp_registry_free(reg);
}
END_TEST

static int keep_fnv1a_64_and_ketama(const struct sp_plugin *p, void *ctx)
{
    (void)ctx;
    return strcmp(p->name, "fnv1a_64") == 0 || strcmp(p->name, "ketama") == 0;
}

START_TEST(retain_unloads_the_others)
{
    struct sp_registry *reg = tu_registry();
    size_t before = sp_registry_count(reg);
    const struct sp_plugin *kept = sp_registry_find(reg, SP_PLUGIN_HASH, "fnv1a_64");
    ck_assert_ptr_nonnull(kept);
    ck_assert_uint_eq(sp_registry_retain(reg, keep_fnv1a_64_and_ketama, NULL), before - 2);
    ck_assert_uint_eq(sp_registry_count(reg), 2);
    ck_assert_ptr_eq(sp_registry_find(reg, SP_PLUGIN_HASH, "fnv1a_64"), kept);
    /* still loaded: nutcracker's fnv1a_64 of one byte, truncated to 32 bits */
    ck_assert_uint_eq(kept->hash("a", 1), (uint32_t)((0x84222325u ^ 'a') * 0x1b3u));
    ck_assert_ptr_nonnull(sp_registry_find(reg, SP_PLUGIN_DIST, "ketama"));
    ck_assert_ptr_null(sp_registry_find(reg, SP_PLUGIN_HASH, "md5"));
    sp_registry_free(reg);
}
END_TEST

START_TEST(missing_cli_directory_is_named)
{
    struct sp_registry *reg = sp_registry_new();
    char err[512] = "";
    ck_assert_int_eq(sp_registry_load_default(reg, "/nonexistent/plugins", err, sizeof err), -1);
    ck_assert_msg(strstr(err, "/nonexistent/plugins: plugin directory (from the command line) "
                              "does not exist"), "%s", err);
    sp_registry_free(reg);
}
END_TEST

static Suite *registry_suite(void)
{
    Suite *s = suite_create("registry");
    TCase *tc = tcase_create("loader");
    tcase_add_test(tc, refuses_missing_file);
    tcase_add_test(tc, refuses_not_a_plugin);
    tcase_add_test(tc, refuses_wrong_major);
    tcase_add_test(tc, refuses_newer_minor);
    tcase_add_test(tc, older_minor_loads_without_later_fields);
    tcase_add_test(tc, refuses_short_struct);
    tcase_add_test(tc, refuses_wrong_kind);
    tcase_add_test(tc, refuses_bad_names);
    tcase_add_test(tc, refuses_missing_functions);
    tcase_add_test(tc, refuses_garbage_file);
    tcase_add_test(tc, refuses_duplicate_name);
    tcase_add_test(tc, duplicate_in_one_directory_is_an_error);
    tcase_add_test(tc, earlier_directory_shadows_later);
    tcase_add_test(tc, example_plugin_loads_and_hashes);
    tcase_add_test(tc, default_path_finds_every_builtin_plugin);
    tcase_add_test(tc, retain_unloads_the_others);
    tcase_add_test(tc, missing_cli_directory_is_named);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(registry_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
