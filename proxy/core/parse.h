/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The one result of every resumable parser in the proxy (requests and replies, any protocol):
 * a whole message, more bytes needed, or framing lost.
 */
#ifndef SP_PARSE_H
#define SP_PARSE_H

enum sp_parse {
    SP_PARSE_OK = 0,    /* one message framed */
    SP_PARSE_AGAIN = 1, /* incomplete: call again after more bytes arrive (progress is kept) */
    SP_PARSE_ERROR = 2, /* framing lost: the message names the problem and the byte offset */
};

#endif /* SP_PARSE_H */
