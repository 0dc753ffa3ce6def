/* tests/fuzz/fuzz.h: what every fuzz target defines, and the helpers they share. A target is
 * built twice: with libFuzzer (build-fuzz/fuzz_<target>, `make fuzz`) and with replay.c as its
 * main (build-asan/fuzz/replay_<target>, run by `make test` over the committed corpus). */
#ifndef GH_TESTS_FUZZ_H
#define GH_TESTS_FUZZ_H

#include <stddef.h>
#include <stdint.h>

/* libFuzzer's entry point: one input; 0, or -1 to keep the input out of the corpus. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A copy of data[0..size) with a NUL after it (caller frees); aborts when out of memory. */
char *fuzz_strndup(const uint8_t *data, size_t size);

/* The path of a fixture under tests/fuzz/fixtures/ (a static buffer), from $GATEHOUSE_TOP or
 * the current directory. */
const char *fuzz_fixture(const char *name);

/* Reads a fixture whole (NUL-terminated, caller frees); aborts when it cannot: a target without
 * its fixtures must not pass quietly. */
char *fuzz_read_fixture(const char *name, size_t *len_out);

/* Stops the run with a message: an invariant of the code under test was broken. */
void fuzz_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
