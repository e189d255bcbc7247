/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The protocol vtable: everything the data path needs to know about a wire protocol.
 *
 * The core (pool, client, server, request, multikey) moves bytes, keeps queues, matches replies to
 * requests in order, times out, ejects, and never looks inside a message.  A protocol (RESP in
 * proto_redis.c, memcached in proto_memcache.c) frames requests and replies, names the keys to route by,
 * answers what the proxy answers itself, and splits / merges multi-key requests.
 *
 * Framing is resumable: parse functions look at the head of an input buffer, keep their progress
 * in a state block (a server connection's own; for clients, one lent while they parse, see
 * struct sp_proto_client) and never consume anything; the core removes `len` bytes once a
 * message is complete.  This keeps a 64 MiB value from being rescanned or copied while it
 * trickles in.
 */
#ifndef SP_PROTO_H
#define SP_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/buffer.h>

#include "conf.h"
#include "parse.h"
#include "reason.h"


/* What the core does with a parsed request. */
enum sp_msg_kind {
    SP_MSG_FORWARD = 0, /* send as is to the owner of keys[0] */
    SP_MSG_MULTI = 1,   /* each key routes on its own: split / merge when they span servers */
    SP_MSG_LOCAL = 2,   /* answered by the proxy: the reply is already in `local` */
    SP_MSG_ALL = 3,     /* sent to every server of the pool (no key): fragment f is server f
                           in the pool's order, even with one server, and the protocol's split
                           and merge see frag_of_key[f] = f, nkeys = nfrags = the servers */
};

/* Request flags. */
#define SP_MSG_CLOSE 0x1u   /* close the client after this request's reply (QUIT, lost framing) */
#define SP_MSG_NOREPLY 0x2u /* the server sends no reply (memcached noreply) */
#define SP_MSG_READONLY 0x4u /* reads only: a replica may answer it (failover_replica_reads) */

/* A key inside a request, as a byte range from the first byte of the request. */
struct sp_key_span {
    size_t off;
    size_t len;
};

/* One parsed request, valid until the next parse on the same state. */
struct sp_msg {
    size_t len;                /* bytes of the request at the head of the input */
    enum sp_msg_kind kind;
    unsigned flags;            /* SP_MSG_* */
    uint32_t cmd;              /* protocol's command id, handed back to split / merge */
    size_t nkeys;              /* FORWARD: >= 1; MULTI: >= 1; LOCAL, ALL: 0 */
    const struct sp_key_span *keys; /* owned by the parse state; offsets into `body` if set */
    struct evbuffer *body;     /* NULL: forward the msg->len bytes at the head of the input as
                                  they are.  Else the protocol rewrote the request (e.g. a Redis
                                  inline command as RESP): the core drops the len input bytes and
                                  forwards all of `body` (owned by the parse state) instead, so
                                  the server gets exactly what the proxy parsed and routed by */
    const void *priv;          /* the protocol's own view of the request (for split) */
};

/* The command id parse_reply is given for a reply no request awaits (connection setup). */
#define SP_CMD_NONE UINT32_MAX

/* A byte range inside a reply: `len` bytes from `off` bytes after its first byte. */
struct sp_part {
    size_t off;
    size_t len;
};

/* One parsed reply. */
struct sp_reply {
    size_t len;                 /* bytes of the reply at the head of the input */
    size_t extra;               /* bytes right after them that answer the proxy, not the client
                                   (memcached's MN behind a quiet request): consumed with the
                                   reply, never delivered */
    bool is_error;              /* an error reply (counts as a failed part of a multi-key
                                   request) */
    size_t nparts;              /* want_parts: the top-level elements of an aggregate reply */
    const struct sp_part *parts; /* owned by the parse state, valid until the next parse */
};

/* What the old server said to take_request. */
enum sp_take_result {
    SP_TAKE_GONE,      /* the key is not there: where it lives now is the new server */
    SP_TAKE_LOCKED,    /* another mover has it in flight: ask again shortly */
    SP_TAKE_TAKEN,     /* ours to carry: its value and TTL were read */
    SP_TAKE_ERROR,     /* the server refused (its words are lost: a move that failed) */
};

/* What the new server said to restore_request. */
enum sp_move_result {
    SP_MOVE_DONE,      /* it is there now */
    SP_MOVE_CONFLICT,  /* the new server had a copy of its own: that copy stands */
    SP_MOVE_FAILED,    /* not put there (the old server keeps it): why in the text */
};

/* How a move ends on the old server (settle_request). */
enum sp_settle {
    SP_SETTLE_DELETE,  /* it arrived: deleted here */
    SP_SETTLE_ASIDE,   /* the new server had its own: this copy is renamed aside, kept */
    SP_SETTLE_RELEASE, /* it failed: the key stays, the lock goes */
};

/* Room for the message of a server's error that refused the connection setup. */
#define SP_REFUSAL_TEXT_MAX 160

/* Why a server refused the connection setup, in its own words (see hello_refusal). */
struct sp_refusal {
    const char *step;                   /* the setup command it refused: "AUTH", "SELECT" */
    char code[SP_REASON_CODE_MAX + 1];  /* its error code (valid for sp_reason_coded) */
    char text[SP_REFUSAL_TEXT_MAX];     /* the rest of its error, printable, maybe cut */
};

/*
 * Per-client context handed to request parsing: the pool's settings and the client's.
 *
 * The parser state is not per client: idle clients are many and hold no partial request.  The
 * core lends a parser block (client_state_size bytes, set up by parser_init) to a client while
 * it parses; a block that holds part of a request (parser_idle false) stays with that client
 * until the request is complete.  So `consumed`, kept by the core, tells a block where in the
 * client's stream the next request starts (error messages give stream offsets).
 */
struct sp_proto_client {
    const struct sp_conf_pool *pool;
    void *state;               /* the lent parser block */
    uint64_t consumed;         /* request bytes removed from this client's stream so far */
    bool authenticated;        /* set by client_init, updated by the protocol (AUTH) */
};

struct sp_proto {
    const char *name;
    size_t client_state_size; /* a request parser block (lent to clients in turn, see above) */
    size_t server_state_size; /* reply parser state per server connection */

    /* A new client: sets cl->authenticated from the pool's settings. */
    void (*client_init)(struct sp_proto_client *cl);
    /* Prepare / release a zeroed request parser block. */
    void (*parser_init)(void *state);
    void (*parser_fini)(void *state);
    /* Does the block hold no part of a request (may it serve another client next)? */
    bool (*parser_idle)(const void *state);
    /* Prepare / release a zeroed reply parser state (per server connection). */
    void (*server_init)(void *state);
    void (*server_fini)(void *state);

    /*
     * Frames the request at the head of `in`.  OK: *msg describes it; when msg->kind is LOCAL the
     * reply has been appended to `local`.  AGAIN: incomplete, call again with more bytes.  ERROR:
     * framing is lost; a final error reply was appended to `local` and the client is closed after
     * it.  Never removes bytes from `in`.
     */
    enum sp_parse (*parse_request)(struct sp_proto_client *cl, struct evbuffer *in,
                                   struct sp_msg *msg, struct evbuffer *local);

    /*
     * Frames the reply at the head of `in` (same contract as parse_request, no side effects).
     * `cmd` is the command id (sp_msg.cmd) of the request it answers, or SP_CMD_NONE for a
     * connection setup reply: a protocol whose replies depend on the request (memcached's quiet
     * mode) frames by it.  With want_parts (the reply answers a fragment of a split request)
     * rep->parts also gives its elements' bounds, so a merge need not frame them again.  Neither
     * cmd nor want_parts changes while one reply is AGAIN.
     */
    enum sp_parse (*parse_reply)(void *state, struct evbuffer *in, uint32_t cmd,
                                 bool want_parts, struct sp_reply *rep);

    /*
     * Appends an error reply carrying `reason` (e.g. "Connection refused") to `out`.  A coded
     * reason (reason.h) keeps its code where the protocol's clients look for one; a plain one
     * gets the protocol's generic error.
     */
    void (*error_reply)(struct evbuffer *out, const char *reason);

    /*
     * Appends to `out` what a new server connection must send before any request (AUTH,
     * SELECT).  Returns the number of replies the core must swallow for it.
     */
    unsigned (*server_hello)(const struct sp_conf_pool *pool, struct evbuffer *out);

    /*
     * The setup reply `rep` at the head of `in` (not consumed) is an error: fills *why with the
     * refused step and the server's error code and message.  `left` is the number of setup
     * replies still due, this one included (server_hello's count when it is the first), which
     * tells the step.  NULL for a protocol whose server_hello never sends anything.
     */
    void (*hello_refusal)(const struct sp_conf_pool *pool, unsigned left, struct evbuffer *in,
                          const struct sp_reply *rep, struct sp_refusal *why);

    /*
     * Online resharding (migrate.c, survey.c; the protocol of lib/move.h); NULL in a protocol
     * that cannot move keys.
     * name_request appends a request naming the connection `name` (its reply is ignored).
     * take_request / take_result: on the key's old server, take it out under `token`'s lock for
     * lock_ms (take_result reads the whole reply: the key's serialised value appended to `dump`,
     * its TTL in *pttl, -1 for none).  restore_request puts it on the new server (never over
     * a copy there); move_result reads that reply, with the server's words in why[] when it
     * failed.  settle_request, on the old server again, ends the move as `how` says: the key
     * deleted (it arrived), set aside (the new server had its own copy), or left (it failed).
     * survey_request appends a request listing the server's client connections, and
     * survey_names calls fn(ctx, name, nlen, addr, alen) for each from the whole reply (-1
     * when the reply is not such a list).
     */
    void (*name_request)(struct evbuffer *out, const char *name);
    void (*take_request)(struct evbuffer *out, const void *key, size_t keylen,
                         const char *token, int lock_ms);
    enum sp_take_result (*take_result)(struct evbuffer *reply, struct evbuffer *dump,
                                       long long *pttl);
    void (*restore_request)(struct evbuffer *out, const void *key, size_t keylen,
                            long long pttl, struct evbuffer *dump);
    enum sp_move_result (*move_result)(struct evbuffer *reply, char *why, size_t whylen);
    void (*settle_request)(struct evbuffer *out, const void *key, size_t keylen,
                           const char *token, enum sp_settle how);
    void (*survey_request)(struct evbuffer *out);
    int (*survey_names)(struct evbuffer *reply,
                        void (*fn)(void *ctx, const char *name, size_t nlen, const char *addr,
                                   size_t alen),
                        void *ctx);

    /*
     * Splits the multi-key request at the head of `req` (msg->len bytes) into one request per
     * fragment: key i goes to fragment frag_of_key[i] < nfrags, and fragment f's request is
     * appended to out[f] (keys in their original order).  When `flat` is not NULL it points at
     * the request's bytes, contiguous (a small request): each fragment is then copied out of it
     * in one piece and `req` is left as it was.  Otherwise values are moved, not copied, and the
     * request is consumed from `req` (the caller drops what is left of it).  `memo` (empty) may
     * be given whatever the merge will need that the replies do not say (memcached's multi-get
     * keeps its keys there: servers answer only hits); the core hands it to the merge.
     * Returns 0, or -1 on failure (out of memory), with `req` in an unspecified state.
     */
    int (*split)(const struct sp_msg *msg, struct evbuffer *req, const void *flat,
                 const uint32_t *frag_of_key, size_t nfrags, struct evbuffer *const *out,
                 struct evbuffer *memo);

    /*
     * Appends the client's reply for a split request to `out`: rep[f] holds fragment f's whole
     * reply (drained); keys are in request order with key i answered by fragment frag_of_key[i].
     * Any error reply among the parts becomes the answer (the first in key order).  `parts`,
     * when not NULL, gives key i's element in rep[frag_of_key[i]] (as parse_reply's parts).
     * `memo` holds what split left there (it may be consumed).  rep[] may be left with bytes in
     * them.
     */
    void (*merge)(uint32_t cmd, const uint32_t *frag_of_key, size_t nkeys,
                  const struct sp_part *parts, struct evbuffer *const *rep, size_t nfrags,
                  struct evbuffer *memo, struct evbuffer *out);
};

/* The RESP protocol (proto_redis.c). */
extern const struct sp_proto sp_proto_redis;

/* The memcached text and meta protocols (memcache/proto_memcache.c). */
extern const struct sp_proto sp_proto_memcache;

#endif /* SP_PROTO_H */
