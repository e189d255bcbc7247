/* SPDX-License-Identifier: Apache-2.0 */
/*
 * MD5 (RFC 1321), one-shot.  Shared by the md5 hash plugin and the ketama distribution (which
 * derives its continuum points from MD5 of "name-i"); both must agree with nutcracker bit for bit.
 *
 * Linked statically into each plugin through libspalgo.la; built with -fvisibility=hidden and the
 * plugins export only their descriptor, so this symbol never leaks into the host's namespace.
 */
#ifndef SP_MD5_H
#define SP_MD5_H

#include <stddef.h>

#define SP_MD5_DIGEST_LEN 16

/*
 * Writes the 16-byte MD5 digest of data[0..len-1] into digest (the RFC 1321 byte order, i.e. the
 * order a hex dump of the digest prints).  Cannot fail; allocates nothing; `data` may be NULL
 * when len is 0 and may have any alignment.  Thread-safe (no state outside the call).
 */
void sp_md5(const void *data, size_t len, unsigned char digest[SP_MD5_DIGEST_LEN]);

#endif /* SP_MD5_H */
