/* tests/bench/bench_argon2.c: how long one argon2id verification takes in-process with the given
 * parameters (the floor under a password sign-in). Prints figures; asserts nothing.
 * usage: bench_argon2 MEMORY_KIB ITERATIONS PARALLELISM SECONDS */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "auth/pwhash.h"
#include "auth/str.h"

int
main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: bench_argon2 MEMORY_KIB ITERATIONS PARALLELISM SECONDS\n");
        return 2;
    }
    const char *e1, *e2, *e3, *e4;
    struct pwhash_params p = {(unsigned)str_to_num(argv[1], 8, 1 << 22, &e1),
                              (unsigned)str_to_num(argv[2], 1, 100, &e2),
                              (unsigned)str_to_num(argv[3], 1, 16, &e3)};
    double seconds = (double)str_to_num(argv[4], 1, 600, &e4);
    if (e1 || e2 || e3 || e4) {
        fprintf(stderr, "bench_argon2: bad number\n");
        return 2;
    }
    char hash[PWHASH_MAX];
    if (pwhash_hash(&p, "Correct-Horse-92", hash, sizeof hash) != 0)
        return 1;
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    long n = 0;
    double elapsed = 0;
    do {
        if (pwhash_verify(hash, "Correct-Horse-92") != 1)
            return 1;
        n++;
        clock_gettime(CLOCK_MONOTONIC, &b);
        elapsed = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
    } while (elapsed < seconds);
    printf("%.3f\n", elapsed * 1000.0 / (double)n);
    return 0;
}
