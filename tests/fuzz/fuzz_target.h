/*
 * What a fuzz target under tests/fuzz provides: the libFuzzer entry point, and the seeds and the
 * byte alphabet the replay driver (replay.c, in `make check` without libFuzzer) mutates.
 */
#ifndef SP_FUZZ_TARGET_H
#define SP_FUZZ_TARGET_H

#include <stddef.h>
#include <stdint.h>

/* Runs one input (byte 0: parser and chain mode, byte 1: split seed, rest: the stream); aborts
   when the parsers disagree with themselves or break their contract.  Returns 0. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The target's name: its corpus is tests/fuzz/corpus/<name>/. */
extern const char sp_fuzz_name[];

/* Protocol streams to start mutations from (NUL-terminated), and how many. */
extern const char *const sp_fuzz_seeds[];
extern const size_t sp_fuzz_nseeds;

/* Bytes a mutation inserts or replaces with (protocol bytes, so mutants stay near the grammar),
   and how many (the alphabet may hold a NUL). */
extern const char sp_fuzz_alphabet[];
extern const size_t sp_fuzz_alphabet_len;

#endif /* SP_FUZZ_TARGET_H */
