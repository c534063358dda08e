/* fuzz.h: what every fuzz target in tests/fuzz provides, and the check
 * macro they share.
 *
 * Each target defines LLVMFuzzerTestOneInput (libFuzzer's entry point)
 * and may define LLVMFuzzerInitialize. The same sources are built two
 * ways: with clang's -fsanitize=fuzzer by tests/fuzz/run.sh, and with
 * the ordinary toolchain and replay.c's main, which feeds the checked-in
 * corpus through the target on every `make test`. A failed invariant
 * aborts: that is a finding, which both builds report.
 *
 * Depends on: the C11 standard library.
 */
#ifndef RTCBILL_FUZZ_H
#define RTCBILL_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* A broken invariant: say which, and stop the process so that the input
 * is saved (libFuzzer) or the replay test fails. */
#define FUZZ_CHECK(cond)                                                       \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__,     \
              #cond);                                                          \
      abort();                                                                 \
    }                                                                          \
  } while (0)

#endif /* RTCBILL_FUZZ_H */
