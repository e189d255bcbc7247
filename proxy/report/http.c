/* SPDX-License-Identifier: Apache-2.0 */
/*
 * HTTP request heads on the stats port.  A request line is "METHOD SP TARGET SP HTTP/d.d" then
 * CRLF (a bare LF is tolerated); headers follow up to an empty line.  The first byte that cannot
 * belong to such a line decides "not HTTP", so a plain reader that sends anything else is
 * answered at once.
 */
#include "config.h"

#include "http.h"

#include <string.h>

/* The end of the line starting at `from` (the index of its LF), or len when none yet. */
static size_t line_end(const char *buf, size_t len, size_t from)
{
    const char *lf = memchr(buf + from, '\n', len - from);
    return lf ? (size_t)(lf - buf) : len;
}

/*
 * Checks the request line in buf[0..end) (end: its LF, or len when incomplete) and copies the
 * method and the path.  Returns OK (complete and valid), AGAIN (a valid prefix) or ERROR.
 */
static enum sp_parse request_line(const char *buf, size_t end, bool complete,
                                  struct sp_http_request *req)
{
    static const char version[] = "HTTP/";
    size_t i = 0, n;

    for (n = 0; i < end && buf[i] >= 'A' && buf[i] <= 'Z'; i++, n++)
        if (n + 1 >= sizeof req->method)
            return SP_PARSE_ERROR;
    if (i == end)
        return complete ? SP_PARSE_ERROR : SP_PARSE_AGAIN;
    if (n == 0 || buf[i] != ' ')
        return SP_PARSE_ERROR;
    memcpy(req->method, buf, n);
    req->method[n] = '\0';
    size_t target = ++i;
    while (i < end && buf[i] != ' ' && buf[i] != '\r' && (unsigned char)buf[i] > ' ')
        i++;
    if (i == end)
        return complete ? SP_PARSE_ERROR : SP_PARSE_AGAIN;
    if (buf[i] != ' ' || i == target || buf[target] != '/')
        return SP_PARSE_ERROR;
    size_t path_len = strcspn(buf + target, "? ");
    if (path_len >= sizeof req->path)
        path_len = sizeof req->path - 1; /* longer paths are none we serve: 404 either way */
    memcpy(req->path, buf + target, path_len);
    req->path[path_len] = '\0';
    i++;
    /* "HTTP/d.d", then optionally CR, then the end. */
    for (size_t k = 0; k < 8; k++, i++) {
        if (i == end)
            return complete ? SP_PARSE_ERROR : SP_PARSE_AGAIN;
        bool ok = k < 5 ? buf[i] == version[k] : k == 6 ? buf[i] == '.'
                                                       : buf[i] >= '0' && buf[i] <= '9';
        if (!ok)
            return SP_PARSE_ERROR;
    }
    if (i < end && buf[i] == '\r')
        i++;
    if (i != end)
        return SP_PARSE_ERROR;
    return complete ? SP_PARSE_OK : SP_PARSE_AGAIN;
}

enum sp_parse sp_http_parse(const char *buf, size_t len, struct sp_http_request *req)
{
    memset(req, 0, sizeof *req);
    size_t end = line_end(buf, len, 0);
    enum sp_parse rc = request_line(buf, end, end < len, req);
    if (rc == SP_PARSE_ERROR)
        return SP_PARSE_ERROR;
    req->is_http = true;
    if (rc == SP_PARSE_AGAIN) {
        if (len < SP_HTTP_HEAD_MAX)
            return SP_PARSE_AGAIN;
        req->problem = "request line too long";
        return SP_PARSE_ERROR;
    }
    /* Headers are not needed: skip lines up to the first empty one. */
    for (size_t from = end + 1; from < len;) {
        size_t stop = line_end(buf, len, from);
        if (stop == len)
            break;
        if (stop == from || (stop == from + 1 && buf[from] == '\r')) {
            req->head_len = stop + 1;
            return SP_PARSE_OK;
        }
        from = stop + 1;
    }
    if (len < SP_HTTP_HEAD_MAX)
        return SP_PARSE_AGAIN;
    req->problem = "request head too large";
    return SP_PARSE_ERROR;
}
