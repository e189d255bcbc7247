/* SPDX-License-Identifier: Apache-2.0 */
/*
 * shardoracle's capacity-planning model: per-server tallies of a key stream for one config (a
 * "side"), the balance figures derived from them, and the movement between two configs.
 *
 * Memory is O(servers) (the movement matrix O(servers^2)) whatever the number of keys: keys are
 * streamed once and only counted.  Counters are 64-bit.
 */
#ifndef SP_ORACLE_ANALYSIS_H
#define SP_ORACLE_ANALYSIS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "conf.h"
#include "keys.h"
#include "placement.h"
#include "registry.h"

/* Hash values sampled to measure each server's share of the hash space (a power of two). */
#define SP_ORACLE_DEFAULT_SAMPLES (1u << 20)

enum sp_oracle_format { SP_FORMAT_TEXT, SP_FORMAT_JSON, SP_FORMAT_CSV };

/* Options every analysing subcommand shares (key source, output, plugins). */
struct sp_oracle_opts {
    const char *plugin_dir;
    const char *keys_path;       /* NULL or "-": stdin */
    int key_flags;               /* SP_KEYS_HEX | SP_KEYS_SIZES */
    const char *pattern;         /* --pattern, with --synthetic */
    uint64_t synthetic;          /* --synthetic N */
    bool have_synthetic;
    enum sp_oracle_format format;
    const char *html_path;       /* --html FILE, or NULL */
    uint64_t samples;            /* hash-space samples */
};

/* What diff/whatif call "within the tolerance" (movement.c computes it; the reports say it). */
#define SP_ORACLE_TOLERANCE_RULE \
    "the minimum + a quarter of it (at least 2 points) + 3 binomial standard deviations"
/* What compare calls "moves too much" when one server is added (sp_oracle_moves_too_much). */
#define SP_ORACLE_TOO_MUCH_RULE "more than the minimum x 1.25 + 2 points"

/* Progress on stderr for long runs, only when stderr is a terminal. */
struct sp_oracle_progress {
    bool on;
    bool printed;
    double start;
    double last;
};

/* One config's view of the keys: its placer and what landed where. */
struct sp_oracle_side {
    const char *conf_path;
    const struct sp_conf_pool *pool;
    bool *live;                  /* per server; NULL: all live */
    struct sp_placer *placer;
    unsigned hash_bits;          /* of the pool's hash plugin: 32 or 64 */
    size_t n;                    /* pool->nservers */
    double *weight_share;        /* weight / total live weight (0 when not live) */
    double *space_share;         /* share of the sampled hash space */
    double space_unplaced;
    uint64_t *keys;              /* per server, and keys[n]: no live server */
    uint64_t *bytes;             /* the same for the --sizes column */
};

/* Balance of one side, derived from its tallies. */
struct sp_oracle_balance {
    uint64_t keys, bytes;        /* placed on a server */
    size_t nlive;
    size_t peak;                 /* index of the most loaded server relative to its weight */
    double peak_to_mean;         /* max over live servers of key share / weight share */
    double bytes_peak_to_mean;
    double stddev;               /* keys: RMS deviation from keys * weight share */
    double exp_peak_to_mean;     /* the same from the hash-space shares */
    double exp_stddev;           /* expected stddev: structural (space vs weight) + binomial */
    double binomial_stddev;      /* ideal: each key independently by weight share */
};

/* Why a change moved more keys than it needed to (bits of sp_oracle_diff.causes). */
enum {
    SP_CAUSE_HASH = 1,       /* hash or hash_tag changed: every key re-hashed */
    SP_CAUSE_DIST = 2,       /* distribution changed */
    SP_CAUSE_MODULA = 4,     /* modula re-deals keys when the slot list changes */
    SP_CAUSE_RENAMED = 8,    /* a server kept its identity but changed its name */
    SP_CAUSE_WEIGHTS = 16,   /* weight shares renormalised */
    SP_CAUSE_SKEW = 32,      /* the keys' hash values are not spread evenly */
    SP_CAUSE_UNKNOWN = 64,
};

#define SP_ORACLE_MAX_NOTES 16
#define SP_ORACLE_NOTE_LEN 640

/* Movement between two configs of one pool. */
struct sp_oracle_diff {
    struct sp_oracle_side old, new;
    int *match_new;              /* old index -> new index of the same server, or -1 */
    int *match_old;              /* new index -> old index, or -1 */
    uint64_t *matrix;            /* (old.n + 1) x (new.n + 1) keys; index n: no live server */
    bool *moved_cell;            /* the same shape: does a key in this cell count as moved */
    bool same_hash;              /* both sides hash alike: hash each key once */
    uint64_t keys, moved, bytes, moved_bytes, churn; /* churn: moved between kept servers */
    double min_fraction;         /* total variation distance of the weight shares */
    double space_moved;          /* expected moved fraction for uniformly spread hashes */
    double threshold;            /* moved fraction above which `excess` is set */
    bool excess;
    unsigned causes;
    char cause_text[7][SP_ORACLE_NOTE_LEN];
    size_t ncauses;
    char notes[SP_ORACLE_MAX_NOTES][SP_ORACLE_NOTE_LEN];
    size_t nnotes;
    const char *what;            /* "diff" or "whatif" */
    char changes[1024];          /* whatif: the edits, for the report header */
    FILE *list;                  /* --list: moved keys go here, or NULL */
};

/* One row of `compare`: a hash x distribution on the same servers and keys. */
struct sp_oracle_combo {
    const char *hash, *dist;
    unsigned bits;
    bool current;                /* the config's own choice */
    bool unstable;               /* the distribution does not place a key in a fixed place */
    struct sp_conf_pool *base_pool, *plus_pool; /* the pool with this hash x dist, plus one */
    struct sp_oracle_side base, plus;
    struct sp_oracle_balance balance;
    uint64_t moved;              /* keys that move when the server is added */
    double space_moved;
    char error[1024];            /* the distribution refused the servers ("" if fine) */
};

struct sp_oracle_compare {
    const char *conf_path;
    const struct sp_conf_pool *pool;
    char added[256];             /* the added server's entry */
    double min_fraction;
    uint64_t keys;
    struct sp_oracle_combo *rows;
    size_t nrows;
};

/* ---- side.c ---- */

/*
 * Builds a side for `pool` (which must outlive it) with `live` (NULL: all; copied), its placer and
 * zeroed tallies; weight shares are filled, space shares are not (see sp_oracle_sample).  Returns
 * 0, or -1 with err set.
 */
int sp_oracle_side_init(struct sp_oracle_side *s, const struct sp_registry *reg,
                        const char *conf_path, const struct sp_conf_pool *pool, const bool *live,
                        char *err, size_t errlen);

/* Frees what a side owns; a zeroed side is fine. */
void sp_oracle_side_release(struct sp_oracle_side *s);

/*
 * Measures the hash-space share of every server of `a` (and of `b` when not NULL) by placing
 * `samples` hash values, one pseudo-random value in each of `samples` equal slices of the range
 * 0 .. 2^hash_bits - 1 (stratified, so low bits vary too), through fresh placers.  With `b` and
 * `a_to_b` (a's index -> b's index of the same server, or -1), also returns the fraction of samples
 * whose server changes in *moved.  Returns 0, or -1 with err set.
 */
int sp_oracle_sample(const struct sp_registry *reg, struct sp_oracle_side *a,
                     struct sp_oracle_side *b, const int *a_to_b, uint64_t samples, double *moved,
                     char *err, size_t errlen);

/* Derives the balance figures from a side's tallies and shares. */
void sp_oracle_balance_of(const struct sp_oracle_side *s, struct sp_oracle_balance *b);

/* The server's display label: its name, plus " (host:port)" when the name differs from it. */
const char *sp_oracle_label(const struct sp_conf_server *srv, char *buf, size_t len);

/* ---- run.c: streaming the keys ---- */

/* Opens the key source the options describe.  NULL after reporting on stderr. */
struct sp_keys *sp_oracle_open_keys(const struct sp_oracle_opts *o);

/* Seconds on the monotonic clock (for rates and durations, never for placement). */
double sp_oracle_now(void);

/* Progress: start, tick (every few million keys), and finish (ends the line). */
void sp_oracle_progress_start(struct sp_oracle_progress *p);
void sp_oracle_progress_tick(struct sp_oracle_progress *p, uint64_t keys);
void sp_oracle_progress_end(struct sp_oracle_progress *p, uint64_t keys);

/*
 * Calls fn(ctx, key) for every key of the source the options describe, with progress on stderr.
 * Stores the number of keys in *count (may be NULL).  Returns 0, or SP_EXIT_BAD_INPUT after
 * reporting (bad key, unreadable input).  Keys with --sizes carry key->size, else 0.
 */
typedef void sp_oracle_key_fn(void *ctx, const struct sp_key *key);
int sp_oracle_each_key(const struct sp_oracle_opts *o, sp_oracle_key_fn *fn, void *ctx,
                       uint64_t *count);

/* Counts every key of the source into the side.  0, or SP_EXIT_BAD_INPUT after reporting. */
int sp_oracle_run_balance(struct sp_oracle_side *s, const struct sp_oracle_opts *o);

/*
 * Counts every key into both sides of `d` and its matrix, printing moved keys to d->list when set.
 * 0, or SP_EXIT_BAD_INPUT after reporting.
 */
int sp_oracle_run_diff(struct sp_oracle_diff *d, const struct sp_oracle_opts *o);

/* ---- movement.c ---- */

/*
 * Prepares a diff of two sides already initialised in d->old / d->new: allocates the matrix and
 * matches servers by address unless d->match_old was filled by the caller (identity known, e.g.
 * after a failover).  Returns 0, or -1 with err set.
 */
int sp_oracle_diff_prepare(struct sp_oracle_diff *d, const struct sp_registry *reg,
                           const struct sp_oracle_opts *o, char *err, size_t errlen);

/* After the keys were counted: totals, the minimum, the excess flag and its causes. */
void sp_oracle_diff_finish(struct sp_oracle_diff *d);

/* Appends a note (printed with the report). */
void sp_oracle_diff_note(struct sp_oracle_diff *d, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Frees what a diff owns (both sides too). */
void sp_oracle_diff_release(struct sp_oracle_diff *d);

/* Total variation distance between the weight shares of two sides, servers matched by a_to_b. */
double sp_oracle_min_movement(const struct sp_oracle_side *a, const struct sp_oracle_side *b,
                              const int *a_to_b);

/*
 * Fills cols[new.n] with the new servers in reading order for a matrix whose rows are the old
 * servers: each old server's successor in old order (so kept keys sit on the diagonal), then the
 * added servers.
 */
void sp_oracle_diff_columns(const struct sp_oracle_diff *d, size_t *cols);

/* Keys that left old server i (moved elsewhere), and keys that arrived at new server j. */
uint64_t sp_oracle_diff_lost(const struct sp_oracle_diff *d, size_t i);
uint64_t sp_oracle_diff_gained(const struct sp_oracle_diff *d, size_t j);

/* ---- output: text.c, json.c, csv.c, html.c ---- */

void sp_oracle_text_balance(FILE *out, const struct sp_oracle_side *s,
                            const struct sp_oracle_balance *b, bool sizes);
void sp_oracle_text_diff(FILE *out, const struct sp_oracle_diff *d, bool sizes);
void sp_oracle_text_compare(FILE *out, const struct sp_oracle_compare *c);

/* Whether row r moved more than SP_ORACLE_TOO_MUCH_RULE on the added server. */
bool sp_oracle_moves_too_much(const struct sp_oracle_compare *c, const struct sp_oracle_combo *r);

void sp_oracle_json_balance(FILE *out, const struct sp_oracle_side *s,
                            const struct sp_oracle_balance *b, bool sizes);
void sp_oracle_json_diff(FILE *out, const struct sp_oracle_diff *d, bool sizes);
void sp_oracle_json_compare(FILE *out, const struct sp_oracle_compare *c);

void sp_oracle_csv_balance(FILE *out, const struct sp_oracle_side *s, bool sizes);
void sp_oracle_csv_diff(FILE *out, const struct sp_oracle_diff *d, bool sizes);
void sp_oracle_csv_compare(FILE *out, const struct sp_oracle_compare *c);

/* Writes a self-contained HTML report to `path`.  0, or SP_EXIT_BAD_INPUT after reporting. */
int sp_oracle_html_balance(const char *path, const struct sp_oracle_side *s,
                           const struct sp_oracle_balance *b, bool sizes);
int sp_oracle_html_diff(const char *path, const struct sp_oracle_diff *d, bool sizes);
int sp_oracle_html_compare(const char *path, const struct sp_oracle_compare *c);

/* Emits the report for the chosen format, then the HTML file if asked.  Returns an exit code. */
int sp_oracle_emit_balance(const struct sp_oracle_opts *o, const struct sp_oracle_side *s);
int sp_oracle_emit_diff(const struct sp_oracle_opts *o, const struct sp_oracle_diff *d);
int sp_oracle_emit_compare(const struct sp_oracle_opts *o, const struct sp_oracle_compare *c);

#endif
