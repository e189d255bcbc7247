/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Commands for every server of a pool (version, flush_all, verbosity): the request each server
 * gets and the merge of their answers into memcached's one answer (mc_fanout.c).  Internal to
 * the memcached adapter; the core sends fragment f to server f (SP_MSG_ALL, proto.h).
 */
#ifndef SP_MC_FANOUT_H
#define SP_MC_FANOUT_H

#include <stddef.h>

#include <event2/buffer.h>

#include "mc.h"

/*
 * Appends to out[f], for every f < nfrags, the line each server gets for the fan-out request r
 * (`line` holds its bytes): the command and the number it carries ("flush_all 10",
 * "verbosity 1", "version"), never the client's noreply: every server answers, so each
 * fragment's reply is one line and the shared connection's framing cannot slip.  Returns 0, or
 * -1 when out of memory.
 */
int sp_mc_fanout_lines(const struct sp_mc_request *r, const unsigned char *line, size_t nfrags,
                       struct evbuffer *const *out);

/*
 * Appends to `out` the answer to version from the servers' replies rep[0 .. nfrags) (in the
 * pool's order): "VERSION <the lowest of their versions>" (sp_mc_version_cmp); servers that
 * failed or did not answer VERSION are left out.  When none answered, the first server's
 * failure (sp_mc_answer_failure).
 */
void sp_mc_merge_version(struct evbuffer *const *rep, size_t nfrags, struct evbuffer *out);

/*
 * Appends to `out` the answer to a command every server answers with OK (flush_all, verbosity;
 * `name` names it in errors): OK when all did, else the first other reply in the pool's order
 * (sp_mc_answer_failure).
 */
void sp_mc_merge_ok(const char *name, struct evbuffer *const *rep, size_t nfrags,
                    struct evbuffer *out);

/*
 * Appends to `out` the client's answer for a server that failed, given its reply `rep` (moved):
 * an error line (ERROR, CLIENT_ERROR, SERVER_ERROR, e.g. the proxy's "SERVER_ERROR Connection
 * refused") as it is; nothing: "SERVER_ERROR no reply from server"; anything else:
 * "SERVER_ERROR unexpected reply from server to <name>".
 */
void sp_mc_answer_failure(struct evbuffer *rep, const char *name, struct evbuffer *out);

/*
 * Orders two memcached version strings: <0, 0 or >0 as a is lower than, the same as or higher
 * than b.  The leading dot-separated numbers are compared numerically, component by component
 * (1.6.9 < 1.6.10; any length of digits); when one list is a prefix of the other, the shorter is
 * lower (1.6 < 1.6.0).  What follows the numbers (a suffix such as "-rc1" or a git describe's
 * "-14-gabc") compares only after them: none is lower than any (1.6.9 < 1.6.9-1), two compare
 * byte by byte.  A version with no leading number is lower than any with one.
 */
int sp_mc_version_cmp(const char *a, size_t alen, const char *b, size_t blen);

#endif /* SP_MC_FANOUT_H */
