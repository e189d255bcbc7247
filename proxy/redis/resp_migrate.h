/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Redis' side of online resharding: the requests that name a connection, list a server's
 * connections and move a key, and reading their replies (the proto.h operations of the same
 * names, which say what each does).
 */
#ifndef SP_RESP_MIGRATE_H
#define SP_RESP_MIGRATE_H

#include <stddef.h>

#include <event2/buffer.h>

#include "conf.h"
#include "core/proto.h"

void sp_resp_name_request(struct evbuffer *out, const char *name);
void sp_resp_take_request(struct evbuffer *out, const void *key, size_t keylen,
                          const char *token, int lock_ms);
enum sp_take_result sp_resp_take_result(struct evbuffer *reply, struct evbuffer *dump,
                                        long long *pttl);
void sp_resp_restore_request(struct evbuffer *out, const void *key, size_t keylen,
                             long long pttl, struct evbuffer *dump);
void sp_resp_settle_request(struct evbuffer *out, const void *key, size_t keylen,
                            const char *token, enum sp_settle how);
enum sp_move_result sp_resp_move_result(struct evbuffer *reply, char *why, size_t whylen);
void sp_resp_survey_request(struct evbuffer *out);
int sp_resp_survey_names(struct evbuffer *reply,
                         void (*fn)(void *ctx, const char *name, size_t nlen, const char *addr,
                                    size_t alen),
                         void *ctx);

#endif /* SP_RESP_MIGRATE_H */
