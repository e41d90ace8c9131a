/* bench_util.c — the timer, the reference numbers and the table of the benchmarks;
 * see bench_util.h. */
#define _POSIX_C_SOURCE 200809L
#include "bench_util.h"

#include "hoclab/error.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

void bench_die(const char *what, int rc)
{
    fprintf(stderr, "%s: %s: %s\n", bench_name, what, rc ? hl_error_message() : "failed");
    exit(1);
}

/* ---- the reference numbers ----------------------------------------------------------- */

static struct {
    char key[64];
    double value;
} refs[64];
static int n_refs;

void bench_refs_load(const char *path)
{
    FILE *f = path ? fopen(path, "r") : NULL;
    while (f && n_refs < 64 && fscanf(f, "%63s %lf", refs[n_refs].key, &refs[n_refs].value) == 2)
        n_refs++;
    if (f)
        fclose(f);
}

double bench_ref(const char *kind, const char *key)
{
    char k[64];
    snprintf(k, sizeof k, "%s.%s", kind, key);
    for (int i = 0; i < n_refs; i++)
        if (strcmp(refs[i].key, k) == 0)
            return refs[i].value;
    return NAN;
}

/* ---- the table ----------------------------------------------------------------------- */

const char *bench_fmt(const char *f, ...)
{
    static char buf[8][96];
    static int i;
    char *b = buf[i++ % 8];
    va_list ap;
    va_start(ap, f);
    vsnprintf(b, sizeof buf[0], f, ap);
    va_end(ap);
    return b;
}

void bench_row(const char *config, const char *hoclab, const char *reference,
               const char *ratio, const char *goal, const char *met)
{
    const char *cells[BENCH_COLS] = {config, hoclab, reference, ratio, goal, met};
    for (int i = 0; i < BENCH_COLS; i++)
        printf("| %-*s ", bench_widths[i], cells[i]);
    printf("|\n");
}

void bench_rule(void)
{
    for (int i = 0; i < BENCH_COLS; i++)
        printf("|%.*s", bench_widths[i] + 2,
               "----------------------------------------------------");
    printf("|\n");
}

void bench_section(const char *title)
{
    bench_row(title, "", "", "", "", "");
}

void bench_verdict(double ratio, const char *ratio_fmt, double goal, int how,
                   const char **cell, const char **met)
{
    int bound = how == BENCH_BOUND;
    if (isnan(ratio))
        *cell = "n/a";
    else
        *cell = bound ? bench_fmt("> %s", bench_fmt(ratio_fmt, ratio))
                      : bench_fmt(ratio_fmt, ratio);
    if (goal <= 0)
        *met = "";
    else if (isnan(ratio))
        *met = "n/a";
    else if (how == BENCH_LOWER ? ratio < goal : ratio >= goal)
        *met = "yes";
    else
        *met = bound ? "n/a" : "NO";
}
