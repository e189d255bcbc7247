/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Config addresses to socket addresses.  Name resolution blocks (getaddrinfo): it happens while a
 * config is being put into service, never per request.
 */
#include "config.h"

#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/un.h>

#include "addr.h"
#include "conf.h"

int sp_addr_resolve(const struct sp_conf_addr *addr, struct sockaddr_storage *ss, socklen_t *len,
                   char *err, size_t errlen)
{
    struct addrinfo hints, *res = NULL;
    char port[16];
    int rc;

    memset(ss, 0, sizeof(*ss));
    if (addr->is_unix) {
        struct sockaddr_un *un = (struct sockaddr_un *)ss;

        if (strlen(addr->host) >= sizeof(un->sun_path)) {
            snprintf(err, errlen, "%s: unix socket path too long", addr->text);
            return -1;
        }
        un->sun_family = AF_UNIX;
        strcpy(un->sun_path, addr->host);
        *len = (socklen_t)sizeof(*un);
        return 0;
    }
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    snprintf(port, sizeof(port), "%d", addr->port);
    rc = getaddrinfo(addr->host, port, &hints, &res);
    if (rc != 0 || res == NULL) {
        snprintf(err, errlen, "%s: cannot resolve '%s': %s", addr->text, addr->host,
                 gai_strerror(rc));
        if (res != NULL)
            freeaddrinfo(res);
        return -1;
    }
    memcpy(ss, res->ai_addr, res->ai_addrlen);
    *len = res->ai_addrlen;
    freeaddrinfo(res);
    return 0;
}
