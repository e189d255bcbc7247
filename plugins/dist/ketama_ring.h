/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The ketama continuum exactly as nutcracker 0.5.0 builds and searches it, as a pure function of an
 * ordered {name, weight} list.  The ketama plugin wraps it; tests link it directly to check point
 * counts.
 *
 * nutcracker's rules reproduced here:
 *   - points per server: floor(weight/total * 160/4 * n) * 4, evaluated step by step in single
 *     precision with a 1e-10 nudge added in double (so e.g. weights 1,1,5,9,9 give the weight-1
 *     servers 28 points, not 32, and 25 equal servers get 156 points each, not 160);
 *   - for i in 0 .. points/4 - 1 the string "NAME-i" (decimal i, no NUL) is hashed with MD5 and
 *     each 4-byte group of the digest, read little-endian, is one point;
 *   - the string is cut to its first 272 bytes (nutcracker formats it into a 273-byte buffer and,
 *     as the 0.5.0 binary shows, logs "forced to truncate" and hashes 272 bytes), so servers
 *     whose names share their first 272 bytes get identical points; a name is printed with
 *     "%.*s", so it ends at a NUL byte;
 *   - a key goes to the first point >= its hash, wrapping to the first point.
 *
 * Choices where nutcracker is unspecified or narrower:
 *   - equal point values: nutcracker's qsort leaves their order unspecified; here points are sorted
 *     by (value, server index), so the server listed first owns a shared value.  This only matters
 *     for MD5 collisions of 32-bit groups (none in the golden cases) and for names that agree in
 *     their first 272 bytes (the first of them takes every shared point);
 *   - 64-bit hashes (e.g. xxhash): only the low 32 bits are compared with the 32-bit points.  For a
 *     32-bit hash that is the value itself (nutcracker's behaviour, without the plugin having to
 *     know the hash width), it is what nutcracker itself does with its "64-bit" FNV variants
 *     (truncation to the low half), and the low half of a good 64-bit hash is uniform.
 */
#ifndef SP_KETAMA_RING_H
#define SP_KETAMA_RING_H

#include <stddef.h>
#include <stdint.h>

#include <shardproxy/plugin.h>

#define SP_KETAMA_POINTS_PER_SERVER 160 /* for equal weights */
#define SP_KETAMA_POINTS_PER_HASH 4     /* one MD5 digest gives four 32-bit points */
#define SP_KETAMA_HOST_MAX 272          /* point strings are cut to this many bytes */

/* Caps the server count so that the continuum (about 160 points per server) indexes in 32 bits. */
#define SP_KETAMA_MAX_SERVERS 1000000u

struct sp_ketama_ring;

/*
 * Number of continuum points of a server of `weight` in a list of `nservers` servers whose weights
 * sum to `total_weight` (nutcracker's single-precision formula).  Returns a multiple of 4, possibly
 * 0.  Requires 1 <= weight <= total_weight and nservers >= 1.
 */
uint32_t sp_ketama_points(uint32_t weight, uint32_t total_weight, uint32_t nservers);

/*
 * Builds the continuum of `servers[n]`.  Returns NULL with a one-line reason in err[errlen] for no
 * servers, a weight of 0, a total weight above UINT32_MAX, more than SP_KETAMA_MAX_SERVERS servers,
 * or when out of memory.
 */
struct sp_ketama_ring *sp_ketama_ring_new(const struct sp_server_spec *servers, size_t n,
                                          char *err, size_t errlen);

/* Frees a ring; NULL is a no-op. */
void sp_ketama_ring_free(struct sp_ketama_ring *ring);

/* Index of the server owning `hash` (low 32 bits compared, see above).  Never fails. */
uint32_t sp_ketama_ring_select(const struct sp_ketama_ring *ring, uint64_t hash);

/* Points server `server` holds on the ring (0 for an index out of range). */
uint32_t sp_ketama_ring_server_points(const struct sp_ketama_ring *ring, size_t server);

/*
 * The ring's distinct point values, ascending: writes the first min(n, cap) into cuts and returns
 * n (equal values are one cut: the first owner in ring order holds it).
 */
size_t sp_ketama_ring_cuts(const struct sp_ketama_ring *ring, uint64_t *cuts, size_t cap);

/* Total number of points on the ring. */
uint32_t sp_ketama_ring_size(const struct sp_ketama_ring *ring);

#endif /* SP_KETAMA_RING_H */
