/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Config addresses to socket addresses (addr.c), for the data path and the Sentinel client.
 */
#ifndef SP_ADDR_H
#define SP_ADDR_H

#include <stddef.h>
#include <sys/socket.h>

#include "conf.h"

/*
 * Resolves a config address (TCP host:port, or a unix socket path) into `ss`.  Returns 0, or -1
 * with err naming the address.  Blocking (getaddrinfo): only while a config is put in service.
 */
int sp_addr_resolve(const struct sp_conf_addr *addr, struct sockaddr_storage *ss, socklen_t *len,
                    char *err, size_t errlen);

#endif /* SP_ADDR_H */
