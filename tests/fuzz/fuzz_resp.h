/* The libFuzzer entry point of tests/fuzz/fuzz_resp.c, also called by the replay driver. */
#ifndef SP_FUZZ_RESP_H
#define SP_FUZZ_RESP_H

#include <stddef.h>
#include <stdint.h>

/* Runs one input (byte 0: parser and chain mode, byte 1: split seed, rest: the stream); aborts
   when the parsers disagree with themselves or break their contract.  Returns 0. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif /* SP_FUZZ_RESP_H */
