/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A small blocking RESP2 client for shardoracle's live subcommands (audit now, migrate next):
 * connect with a timeout, send commands as argv of binary-safe strings (pipelined if wanted), read
 * each reply into a tree.  One connection is used by one thread.
 *
 * Every function that can fail returns -1 (or NULL) and writes one lowercase line into the
 * caller's err[errlen] without the server's name ("connection refused", "timed out after 5000 ms
 * waiting for a reply", "protocol error: bulk length 9999999999 is over 536870912 bytes"): the
 * caller knows the pool and the server and adds them.  After an I/O or protocol error the
 * connection is unusable (the stream is out of step): every later call fails with the first
 * error.  A Redis error reply (-ERR ...) is not a failure: it is a reply of type SP_RC_ERROR.
 *
 * Reads are bounded: lengths are checked before anything is allocated, arrays grow as their
 * elements arrive (a "*1000000" header alone allocates little), nesting is limited.
 */
#ifndef SP_ORACLE_RESP_CLIENT_H
#define SP_ORACLE_RESP_CLIENT_H

#include <stddef.h>

/* Limits of one reply (Redis's proto-max-bulk-len is 512 MiB). */
#define SP_RC_MAX_BULK (512u * 1024u * 1024u)   /* bytes of one bulk string */
#define SP_RC_MAX_LINE (1024u * 1024u)          /* bytes of a + - : line */
#define SP_RC_MAX_ELEMS (1u << 24)              /* elements of one array */
#define SP_RC_MAX_DEPTH 16                      /* arrays inside arrays */

enum sp_rc_type {
    SP_RC_STATUS,   /* +OK */
    SP_RC_ERROR,    /* -ERR ... (str holds the text after '-') */
    SP_RC_INTEGER,  /* :42 */
    SP_RC_BULK,     /* $3 foo */
    SP_RC_NIL,      /* $-1 or *-1 */
    SP_RC_ARRAY,    /* *2 ... */
};

/* One reply, a tree for arrays.  Owned by the caller of sp_rc_read; freed by sp_rc_reply_free. */
struct sp_rc_reply {
    enum sp_rc_type type;
    long long integer;           /* SP_RC_INTEGER */
    char *str;                   /* STATUS, ERROR, BULK: len bytes plus a NUL (bulks may hold
                                    NULs of their own); NULL otherwise */
    size_t len;
    struct sp_rc_reply *elem;    /* SP_RC_ARRAY: nelem elements */
    size_t nelem;
};

struct sp_rc;

/*
 * Connects to host:port over TCP (any address getaddrinfo gives, tried in order), or to the unix
 * socket at path `host` when port is 0.  `timeout_ms` bounds the connect and, afterwards, each
 * wait for the server to accept or send bytes (not a whole reply); -1 waits forever.  Returns
 * NULL with err set.
 */
struct sp_rc *sp_rc_connect(const char *host, int port, int timeout_ms, char *err, size_t errlen);

/* Changes the per-wait timeout (e.g. for one slow command). */
void sp_rc_set_timeout(struct sp_rc *c, int timeout_ms);

/*
 * Queues one command (argc arguments; argvlen[i] bytes of argv[i], or strlen when argvlen is
 * NULL) without sending it: sp_rc_read sends what is queued first, so several sends then as many
 * reads are a pipeline.  Returns 0, or -1 with err set (out of memory, connection failed).
 */
int sp_rc_send(struct sp_rc *c, size_t argc, const char *const *argv, const size_t *argvlen,
               char *err, size_t errlen);

/*
 * Sends whatever is queued, then reads the next reply into *reply.  Returns 0, or -1 with err
 * set and *reply NULL (I/O error, timeout, closed connection, protocol error, a limit exceeded).
 */
int sp_rc_read(struct sp_rc *c, struct sp_rc_reply **reply, char *err, size_t errlen);

/* sp_rc_send then sp_rc_read: one command, its reply. */
int sp_rc_command(struct sp_rc *c, size_t argc, const char *const *argv, const size_t *argvlen,
                  struct sp_rc_reply **reply, char *err, size_t errlen);

/*
 * Runs a command whose only good answer is a status (AUTH, SELECT): 0, or -1 with err set to the
 * transport failure or to the server's error text (e.g. "WRONGPASS invalid username-password
 * pair") or "unexpected reply".
 */
int sp_rc_expect_status(struct sp_rc *c, size_t argc, const char *const *argv, char *err,
                        size_t errlen);

/* Frees a reply tree; NULL is a no-op. */
void sp_rc_reply_free(struct sp_rc_reply *reply);

/* Closes the connection and frees it; NULL is a no-op. */
void sp_rc_close(struct sp_rc *c);

#endif
