/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Per-proxy caches of what a client needs only while it has work: its work state (struct
 * sp_client_busy) and a protocol parser block.  An idle client holds neither (client.c takes
 * them when bytes arrive and gives them back once nothing is in flight), so 10,000 idle clients
 * cost 10,000 connections, not 10,000 parsers and queues.  Each cache is bounded; beyond it,
 * blocks are freed.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "core.h"
#include "proto.h"

/* Cached work states and parser blocks per proxy; beyond these they are freed. */
#define CLIENT_BUSY_FREE_MAX 256
#define CLIENT_PARSER_FREE_MAX 16

/* A protocol parser block with the link that keeps it in the proxy's cache. */
struct sp_parser_block {
    struct sp_parser_block *next;
    const struct sp_proto *proto;
    max_align_t state[];
};

struct sp_client_busy *sp_busy_get(struct sp_proxy *proxy)
{
    struct sp_client_busy *b = TAILQ_FIRST(&proxy->free_busy);

    if (b != NULL) {
        TAILQ_REMOVE(&proxy->free_busy, b, wlink);
        proxy->nfree_busy--;
    } else if ((b = malloc(sizeof(*b))) == NULL) {
        return NULL;
    }
    memset(b, 0, sizeof(*b));
    TAILQ_INIT(&b->reqs);
    TAILQ_INIT(&b->stalled);
    return b;
}

void sp_busy_put(struct sp_proxy *proxy, struct sp_client_busy *b)
{
    if (proxy->nfree_busy >= CLIENT_BUSY_FREE_MAX) {
        free(b);
        return;
    }
    TAILQ_INSERT_HEAD(&proxy->free_busy, b, wlink);
    proxy->nfree_busy++;
}

void *sp_parser_lend(struct sp_proxy *proxy, const struct sp_proto *proto)
{
    struct sp_parser_block **link = &proxy->free_parsers;
    struct sp_parser_block *pb;

    for (; (pb = *link) != NULL; link = &pb->next) {
        if (pb->proto == proto) {
            *link = pb->next;
            proxy->nfree_parsers--;
            return pb->state;
        }
    }
    pb = calloc(1, sizeof(*pb) + proto->client_state_size);
    if (pb == NULL)
        return NULL;
    pb->proto = proto;
    proto->parser_init(pb->state);
    return pb->state;
}

static struct sp_parser_block *parser_block_of(void *state)
{
    return (struct sp_parser_block *)((char *)state - offsetof(struct sp_parser_block, state));
}

static void parser_block_free(struct sp_parser_block *pb)
{
    pb->proto->parser_fini(pb->state);
    free(pb);
}

void sp_parser_return(struct sp_proxy *proxy, void *state)
{
    struct sp_parser_block *pb = parser_block_of(state);

    if (!pb->proto->parser_idle(state) || proxy->nfree_parsers >= CLIENT_PARSER_FREE_MAX) {
        parser_block_free(pb);
        return;
    }
    pb->next = proxy->free_parsers;
    proxy->free_parsers = pb;
    proxy->nfree_parsers++;
}

void sp_client_cache_free(struct sp_proxy *proxy)
{
    struct sp_client_busy *b;
    struct sp_parser_block *pb;

    while ((b = TAILQ_FIRST(&proxy->free_busy)) != NULL) {
        TAILQ_REMOVE(&proxy->free_busy, b, wlink);
        free(b);
    }
    proxy->nfree_busy = 0;
    while ((pb = proxy->free_parsers) != NULL) {
        proxy->free_parsers = pb->next;
        parser_block_free(pb);
    }
    proxy->nfree_parsers = 0;
}
