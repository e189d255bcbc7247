/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Multi-key retrieval (get, gets, gat, gats) across servers: the fragments' request lines and
 * the merge of their replies in the client's key order (mc_multiget.c).  Internal to the
 * memcached adapter.
 */
#ifndef SP_MC_MULTIGET_H
#define SP_MC_MULTIGET_H

#include <stddef.h>
#include <stdint.h>

#include <event2/buffer.h>

#include "core/proto.h"
#include "mc.h"

/*
 * Appends to out[f] fragment f's request, "<cmd>[ <exptime>] <key>...\r\n" with the keys of
 * fragment f (frag_of_key) in request order, for every f < nfrags; `line` holds the request's
 * line.  Appends the keys in request order to `memo` (each a length byte and the key) for the
 * merge.  Returns 0, or -1 when out of memory.
 */
int sp_mc_split_lines(const struct sp_mc_request *r, const unsigned char *line,
                      const uint32_t *frag_of_key, size_t nfrags, struct evbuffer *const *out,
                      struct evbuffer *memo);

/*
 * Appends to `out` the client's reply to a split retrieval: every VALUE item in request-key
 * order (memcached answers only hits, so items are matched to the keys `memo` holds; a key
 * asked twice is answered twice, as memcached does) and one END.  With `parts` (every key of
 * every fragment answered) the items are moved by their bounds, only their keys checked.  A
 * fragment that failed makes its error the answer (the first in key order); a fragment reply
 * that does not answer its keys gives SERVER_ERROR.
 */
void sp_mc_merge_values(const uint32_t *frag_of_key, size_t nkeys, const struct sp_part *parts,
                        struct evbuffer *const *rep, size_t nfrags, struct evbuffer *memo,
                        struct evbuffer *out);

#endif /* SP_MC_MULTIGET_H */
