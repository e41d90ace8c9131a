/* fuzz_experiment.c — libFuzzer target: experiment files (what `hoclab sweep FILE` and
 * `hoclab sweep --dry-run FILE` read).
 *
 * The bytes are parsed as an experiment file; a file that parses has its points walked
 * as the sweep does (configuration, file path, cost). Besides the sanitizers' checks,
 * the target aborts when a promise of experiment.h is broken: a failure without a
 * message naming the file, a grid beyond HL_EXP_MAX_POINTS, a valid point without a
 * path inside OUTPUT/points/, or two points sharing one file (the sweep would take one
 * for the other). */
#include "hoclab/error.h"
#include "hoclab/experiment.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int fuzz_experiment_input(const uint8_t *data, size_t size);

/* Points walked per input: all of a small grid, else the first and the last ones (a
 * million validations per input would stall the fuzzer). */
enum { WALK = 256, PATH_SIZE = 1100 };

static void check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_experiment: broken promise: %s\n", what);
        abort();
    }
}

static int compare_paths(const void *a, const void *b)
{
    return strcmp((const char *)a, (const char *)b);
}

/* Point i as the sweep uses it; its path (if valid) goes to path. 1 if valid. */
static int walk_point(const hl_experiment *e, long i, char *path)
{
    hl_train_config c;
    char name[4096];
    int rc = hl_experiment_point(e, i, &c, name, sizeof name);
    check(rc == HL_OK || *hl_error_message(), "an invalid point without a message");
    int rp = hl_experiment_point_path(e, i, path, PATH_SIZE);
    check((rc == HL_OK) == (rp == HL_OK), "point and point_path disagree");
    double cost = hl_experiment_point_cost(e, i);
    check(isfinite(cost) && cost >= 0, "a cost that is not a finite number >= 0");
    if (rc)
        return 0;
    size_t n = strlen(e->output);
    check(strncmp(path, e->output, n) == 0 && strncmp(path + n, "/points/", 8) == 0 &&
              !strchr(path + n + 8, '/'),
          "a point file outside OUTPUT/points/");
    check(strstr(name, "seed=") != NULL, "a point name without its seed");
    return 1;
}

int fuzz_experiment_input(const uint8_t *data, size_t size)
{
    hl_experiment e;
    if (hl_experiment_parse((const char *)data, size, "fuzz.yaml", &e)) {
        check(strncmp(hl_error_message(), "fuzz.yaml", 9) == 0,
              "a parse error that does not name the file");
        return 0;
    }
    long n = hl_experiment_n_points(&e);
    check(n >= 1 && n <= HL_EXP_MAX_POINTS, "a grid size out of 1..HL_EXP_MAX_POINTS");
    check(e.output && *e.output && e.name[0], "no name or output");
    hl_train_config c;
    check(hl_experiment_point(&e, n, &c, NULL, 0) == HL_EINVAL, "point n accepted");
    check(hl_experiment_point(&e, -1, &c, NULL, 0) == HL_EINVAL, "point -1 accepted");

    char(*paths)[PATH_SIZE] = malloc(sizeof *paths * 2 * WALK);
    check(paths != NULL, "out of memory in the target");
    int valid = 0;
    for (long i = 0; i < n; i++) {
        if (i == WALK && n > 2 * WALK)
            i = n - WALK; /* skip the middle of a large grid */
        valid += walk_point(&e, i, paths[valid]);
    }
    qsort(paths, valid, sizeof *paths, compare_paths);
    for (int j = 1; j < valid; j++)
        check(strcmp(paths[j - 1], paths[j]) != 0, "two points share one file");
    free(paths);
    hl_experiment_free(&e);
    return 0;
}

#ifndef HOCLAB_FUZZ_REPLAY
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_experiment_input(data, size);
}
#endif
