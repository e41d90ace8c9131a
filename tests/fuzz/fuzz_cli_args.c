/* fuzz_cli_args.c — libFuzzer target: the command line's flag parser (options.c) and the
 * shared NLGP data flags (common.c).
 *
 * The bytes become an argv, split at NUL bytes and newlines, after "hoclab fuzz". They
 * are parsed against one table that has every kind of flag (int, double with an open
 * minimum, u64, choice, string, flag, list) — the real data flags of `hoclab train` and
 * `hoclab sample` (data_specs) plus flags like the other commands' — then checked by
 * data_flags_finish, and --help is printed with whatever was parsed. The sub-commands'
 * own tables are built from the same opt_spec types, so this covers their parsing
 * without running any computation. Besides the sanitizers' checks, the target aborts
 * when a parsed value breaks its table's range. Messages go to stdout/stderr: run with
 * -close_fd_mask=3 (run.sh does). */
#include "commands.h"
#include "options.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int fuzz_cli_args_input(const uint8_t *data, size_t size);

enum { MAX_ARGS = 64, LIST_MAX = 6 };

static void check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_cli_args: broken promise: %s\n", what);
        abort();
    }
}

/* The values the extra flags write, with the defaults a command would have. */
typedef struct {
    int K, model, quiet, workers, snapshots, n_levels;
    double lr, std0w, levels[LIST_MAX];
    const char *plus, *output;
    uint64_t seed2;
} extra_flags;

static int extra_specs(extra_flags *x, opt_spec *s)
{
    const opt_spec specs[] = {
        {"K", OPT_INT, &x->K, 1, 100000, .help = "hidden units"},
        {"snapshots", OPT_INT, &x->snapshots, -1, 100000, .help = "a range through 0"},
        {"workers", OPT_INT, &x->workers, 0, 1024, .help = "as hoclab sweep"},
        {"lr", OPT_DOUBLE, &x->lr, 0, 1e6, .open_min = 1, .help = "open minimum"},
        {"std0w", OPT_DOUBLE, &x->std0w, 0, INFINITY, .help = "no maximum"},
        {"model", OPT_CHOICE, &x->model, .choices = "2layer|mf|lazy", .help = "a choice"},
        {"plus", OPT_STRING, &x->plus, .help = "a string"},
        {"output", OPT_STRING, &x->output, .help = "a string"},
        {"quiet", OPT_FLAG, &x->quiet, .help = "a flag"},
        {"levels", OPT_LIST, x->levels, 1, LIST_MAX, .item_min = -1, .count = &x->n_levels,
         .help = "1 to 6 items > -1"},
        {"data-seed", OPT_U64, &x->seed2, .help = "a u64"},
    };
    memcpy(s, specs, sizeof specs);
    return sizeof specs / sizeof specs[0];
}

/* Parsed values within their tables' ranges. */
static void check_ranges(const data_flags *d, const extra_flags *x)
{
    check(d->n_xis == 2 && d->xis[0] > 0 && d->xis[1] > 0, "--xis outside its range");
    check(d->dim >= 1 && d->dim <= 2 && d->L >= 2 && d->L <= 1 << 20, "--dim/--L range");
    check(d->p >= 1 && d->p <= 2 && d->xi_unit >= 0 && d->xi_unit <= 1, "--kernel-p range");
    check(d->gain >= 0 && d->gain <= 1e6 && d->convention >= 0 && d->convention <= 1,
          "--gain range");
    check(d->inputs && *d->inputs, "--inputs empty");
    check(x->K >= 1 && x->K <= 100000 && x->snapshots >= -1 && x->workers >= 0,
          "int range");
    check(x->lr > 0 && x->lr <= 1e6 && x->std0w >= 0 && isfinite(x->std0w), "double range");
    check(x->model >= 0 && x->model <= 2, "choice range");
    check(x->n_levels >= 1 && x->n_levels <= LIST_MAX, "list count");
    for (int i = 0; i < x->n_levels; i++)
        check(x->levels[i] > -1 && isfinite(x->levels[i]), "list item range");
}

int fuzz_cli_args_input(const uint8_t *data, size_t size)
{
    /* Each argument in its own allocation, so that reading past either end of one is
     * caught by AddressSanitizer. */
    char *argv[MAX_ARGS + 3] = {"hoclab", "fuzz"};
    int argc = 2;
    for (size_t i = 0, start = 0; i <= size && argc < MAX_ARGS + 2; i++)
        if (i == size || data[i] == 0 || data[i] == '\n') {
            if (i > start || i < size) { /* an empty argument is an argument */
                argv[argc] = malloc(i - start + 1);
                check(argv[argc] != NULL, "out of memory in the target");
                memcpy(argv[argc], data + start, i - start);
                argv[argc++][i - start] = 0;
            }
            start = i + 1;
        }
    argv[argc] = NULL;

    data_flags d = data_flags_defaults();
    extra_flags x = {.K = 8, .lr = 0.05, .std0w = 0.1, .levels = {1}, .n_levels = 1,
                     .output = "out.h5"};
    opt_spec specs[DATA_SPECS + 16];
    int n = data_specs(&d, specs);
    n += extra_specs(&x, specs + n);
    const char *pos[2];
    int n_pos = -1;
    int rc = opt_parse("fuzz", specs, n, argc, argv, 2, pos, 2, &n_pos);
    check(rc >= 0 && rc <= 2, "opt_parse returned something else than 0, 1, 2");
    check(n_pos >= 0 && n_pos <= 2, "more positional arguments than room");
    for (int i = 0; i < n_pos; i++)
        check(strncmp(pos[i], "--", 2) != 0, "a flag taken as positional");
    if (rc <= 1) /* (a flag that failed may have left part of its value) */
        check_ranges(&d, &x);
    if (rc == 0) {
        int fin = data_flags_finish("fuzz", &d);
        check(fin == 0 || fin == 2, "data_flags_finish returned something else than 0, 2");
        check(fin || (d.inputs_mask >= 1 && d.inputs_mask <= 3), "inputs_mask");
    }
    if (rc <= 1)
        opt_help("fuzz", "[--flags]", specs, n);
    char line[256];
    size_t line_size = size ? 1 + data[0] % sizeof line : sizeof line;
    opt_command_line(argc, argv, line, line_size);
    check(strlen(line) < line_size, "opt_command_line overran its buffer");
    for (int i = 2; i < argc; i++)
        free(argv[i]);
    return 0;
}

#ifndef HOCLAB_FUZZ_REPLAY
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_cli_args_input(data, size);
}
#endif
