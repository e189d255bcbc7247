/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The little HTTP the stats port speaks: telling an HTTP request from a plain nutcracker-style
 * reader, and framing the request head.  Nothing here does I/O.
 */
#ifndef SP_HTTP_H
#define SP_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "core/parse.h"

/* Longest request head accepted (request line and headers). */
#define SP_HTTP_HEAD_MAX 8192

struct sp_http_request {
    bool is_http;          /* the bytes so far begin an HTTP request line */
    char method[16];       /* "GET", NUL-terminated */
    char path[256];        /* the target without its query ("/metrics"), NUL-terminated */
    size_t head_len;       /* bytes of the whole head, with its final empty line */
    const char *problem;   /* SP_PARSE_ERROR of an HTTP request: why (static string) */
};

/*
 * Frames the request head at the start of buf[len] (all bytes received so far; call again with
 * more).  Returns
 *   SP_PARSE_OK     a complete head: method, path and head_len are set;
 *   SP_PARSE_AGAIN  the bytes so far may still be an HTTP request;
 *   SP_PARSE_ERROR  not HTTP (is_http false: a plain reader's bytes), or a bad or oversized HTTP
 *                   head (is_http true, `problem` says what).
 */
enum sp_parse sp_http_parse(const char *buf, size_t len, struct sp_http_request *req);

#endif /* SP_HTTP_H */
