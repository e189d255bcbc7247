/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The oracle's blocking RESP2 client (oracle/resp_client.c) against a scripted server on a unix
 * socket: every reply type, nested arrays and binary bulks delivered split at every byte, and
 * every way a reply can be refused (absurd lengths, bad type byte, closed stream, silence).
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <check.h>

#include "resp_client.h"

/* A server that accepts one client, reads its command, then sends `reply` in `split`-byte
 * pieces (each its own write, so the client sees them arrive apart) and closes, or with
 * hold set keeps the connection open and silent until the client is done. */
struct script {
    char path[108];
    int listener;
    const char *reply;
    size_t len, split;
    int hold;
    pthread_t thread;
};

static void *serve(void *arg)
{
    struct script *s = arg;
    char buf[256];
    int fd = accept(s->listener, NULL, NULL);
    if (fd < 0)
        return NULL;
    if (read(fd, buf, sizeof buf) <= 0) {
        close(fd);
        return NULL;
    }
    for (size_t off = 0; off < s->len; off += s->split) {
        size_t n = s->len - off < s->split ? s->len - off : s->split;
        if (send(fd, s->reply + off, n, MSG_NOSIGNAL) != (ssize_t)n)
            break;
        usleep(50);
    }
    if (s->hold)
        while (read(fd, buf, sizeof buf) > 0)
            ;
    close(fd);
    return NULL;
}

static void script_start(struct script *s, const char *reply, size_t len, size_t split)
{
    struct sockaddr_un sun = { .sun_family = AF_UNIX };
    s->reply = reply;
    s->len = len;
    s->split = split ? split : 1;
    snprintf(s->path, sizeof s->path, "/tmp/sp-rc-%d.sock", (int)getpid());
    unlink(s->path);
    memcpy(sun.sun_path, s->path, strlen(s->path) + 1);
    s->listener = socket(AF_UNIX, SOCK_STREAM, 0);
    ck_assert_int_ge(s->listener, 0);
    ck_assert_int_eq(bind(s->listener, (struct sockaddr *)&sun, sizeof sun), 0);
    ck_assert_int_eq(listen(s->listener, 1), 0);
    ck_assert_int_eq(pthread_create(&s->thread, NULL, serve, s), 0);
}

static void script_end(struct script *s)
{
    pthread_join(s->thread, NULL);
    close(s->listener);
    unlink(s->path);
}

/* Runs PING against a server answering `reply` in `split`-byte pieces; returns the reply (or
 * NULL with err set). */
static struct sp_rc_reply *ask(const char *reply, size_t len, size_t split, int timeout_ms,
                               char *err, size_t errlen)
{
    struct script s = { .hold = timeout_ms > 0 };
    struct sp_rc_reply *r = NULL;
    const char *argv[] = {"PING"};
    script_start(&s, reply, len, split);
    struct sp_rc *c = sp_rc_connect(s.path, 0, timeout_ms > 0 ? timeout_ms : 5000, err, errlen);
    ck_assert_msg(c != NULL, "connect: %s", err);
    if (sp_rc_command(c, 1, argv, NULL, &r, err, errlen) < 0)
        ck_assert_ptr_null(r);
    sp_rc_close(c);
    script_end(&s);
    return r;
}

static const char NESTED[] = "*4\r\n$3\r\nfoo\r\n*3\r\n:-42\r\n$-1\r\n*0\r\n+OK\r\n"
                             "$6\r\na\0\r\nb\r\r\n";

START_TEST(test_nested_split_everywhere)
{
    size_t len = sizeof NESTED - 1;
    char err[256];
    for (size_t split = 1; split <= len; split++) {
        struct sp_rc_reply *r = ask(NESTED, len, split, 0, err, sizeof err);
        ck_assert_msg(r != NULL, "split %zu: %s", split, err);
        ck_assert_int_eq(r->type, SP_RC_ARRAY);
        ck_assert_uint_eq(r->nelem, 4);
        ck_assert_int_eq(r->elem[0].type, SP_RC_BULK);
        ck_assert_mem_eq(r->elem[0].str, "foo", 4);
        const struct sp_rc_reply *inner = &r->elem[1];
        ck_assert_int_eq(inner->type, SP_RC_ARRAY);
        ck_assert_uint_eq(inner->nelem, 3);
        ck_assert_int_eq(inner->elem[0].type, SP_RC_INTEGER);
        ck_assert_int_eq(inner->elem[0].integer, -42);
        ck_assert_int_eq(inner->elem[1].type, SP_RC_NIL);
        ck_assert_int_eq(inner->elem[2].type, SP_RC_ARRAY);
        ck_assert_uint_eq(inner->elem[2].nelem, 0);
        ck_assert_int_eq(r->elem[2].type, SP_RC_STATUS);
        ck_assert_str_eq(r->elem[2].str, "OK");
        ck_assert_int_eq(r->elem[3].type, SP_RC_BULK);
        ck_assert_uint_eq(r->elem[3].len, 6);
        ck_assert_mem_eq(r->elem[3].str, "a\0\r\nb\r", 6);
        sp_rc_reply_free(r);
    }
}
END_TEST

START_TEST(test_error_reply_is_a_reply)
{
    char err[256];
    static const char reply[] = "-BUSYKEY Target key name already exists.\r\n";
    struct sp_rc_reply *r = ask(reply, sizeof reply - 1, 3, 0, err, sizeof err);
    ck_assert_ptr_nonnull(r);
    ck_assert_int_eq(r->type, SP_RC_ERROR);
    ck_assert_str_eq(r->str, "BUSYKEY Target key name already exists.");
    sp_rc_reply_free(r);
}
END_TEST

/* Each refused stream, and the words its message must hold. */
static const struct {
    const char *reply;
    const char *message;
} refused[] = {
    {"$9999999999\r\n", "bulk length 9999999999 is not 0..536870912"},
    {"*99999999999\r\n", "array length 99999999999 is not 0..16777216"},
    {"$-2\r\n", "bulk length -2"},
    {":12x\r\n", "bad number after ':'"},
    {":99999999999999999999\r\n", "bad number after ':'"},
    {"?what\r\n", "unexpected reply type byte 0x3f"},
    {"$3\r\nabcde", "not followed by CRLF"},
    {"$10\r\nabc", "connection closed by the server"},
    {"+OK", "connection closed by the server"},
    {"*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n"
     "*1\r\n*1\r\n:1\r\n", "nested deeper than 16"},
};

START_TEST(test_refused)
{
    char err[256] = "";
    const char *reply = refused[_i].reply;
    struct sp_rc_reply *r = ask(reply, strlen(reply), 2, 0, err, sizeof err);
    ck_assert_msg(r == NULL, "accepted '%s'", reply);
    ck_assert_msg(strstr(err, refused[_i].message), "'%s': got '%s', want '%s'", reply, err,
                  refused[_i].message);
}
END_TEST

START_TEST(test_silent_server_times_out)
{
    char err[256] = "";
    struct sp_rc_reply *r = ask("", 0, 1, 100, err, sizeof err);
    ck_assert_ptr_null(r);
    ck_assert_str_eq(err, "timed out after 100 ms waiting for a reply");
}
END_TEST

START_TEST(test_connect_errors)
{
    char err[256] = "";
    ck_assert_ptr_null(sp_rc_connect("/nonexistent/sp.sock", 0, 1000, err, sizeof err));
    ck_assert_str_eq(err, "no such file or directory");
    ck_assert_ptr_null(sp_rc_connect("host.invalid", 6379, 1000, err, sizeof err));
    ck_assert_msg(strstr(err, "cannot resolve 'host.invalid'"), "%s", err);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("resp_client");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_nested_split_everywhere);
    tcase_add_test(tc, test_error_reply_is_a_reply);
    tcase_add_loop_test(tc, test_refused, 0, sizeof refused / sizeof refused[0]);
    tcase_add_test(tc, test_silent_server_times_out);
    tcase_add_test(tc, test_connect_errors);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
