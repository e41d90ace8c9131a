/* bench_util.h — what the benchmarks (bench_train.c, bench_sample.c) share: the one
 * timer, dying with a message, the reference numbers that the Python scripts wrote,
 * and the cells and rows of the printed table. Not part of the library. */
#ifndef HOCLAB_BENCH_UTIL_H
#define HOCLAB_BENCH_UTIL_H

enum { BENCH_COLS = 6 };   /* configuration, hoclab, reference, ratio, goal, met? */

/* Each benchmark defines these two: its name, for error messages, and its table's
 * column widths. */
extern const char bench_name[];
extern const int bench_widths[BENCH_COLS];

/* Seconds on the monotonic clock. */
double bench_now(void);

/* "NAME: what: message" on stderr (hl_error_message() if rc, else "failed"); exit 1. */
_Noreturn void bench_die(const char *what, int rc);

/* Read "key value" lines from path (NULL or missing: none); bench_ref("kind", "KEY")
 * is the value of "kind.KEY", NaN if there is none. */
void bench_refs_load(const char *path);
double bench_ref(const char *kind, const char *key);

/* printf into one of a few rotating buffers: enough for the cells of one row. */
const char *bench_fmt(const char *f, ...);

/* One row of the table, a rule under the header, a section's title row. */
void bench_row(const char *config, const char *hoclab, const char *reference,
               const char *ratio, const char *goal, const char *met);
void bench_rule(void);
void bench_section(const char *title);

/* How a ratio meets its goal: at or above it (HIGHER), below it (LOWER), or BOUND: the
 * ratio is only known to exceed the value ("> x"), so the goal is met only if the bound
 * meets it, and otherwise unknown. */
enum { BENCH_HIGHER, BENCH_LOWER, BENCH_BOUND };

/* A ratio cell and its verdict against `goal` (goal <= 0: no goal). */
void bench_verdict(double ratio, const char *ratio_fmt, double goal, int how,
                   const char **cell, const char **met);

#endif
