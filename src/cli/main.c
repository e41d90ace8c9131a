/* main.c — the hoclab command: dispatch to a sub-command. */
#include "commands.h"

#include "hoclab/error.h"

#include <stdio.h>
#include <string.h>

#ifndef HOCLAB_VERSION
#define HOCLAB_VERSION "unknown"
#endif

static const struct {
    const char *name;
    int (*run)(int, char **);
    const char *what;
} commands[] = {
    {"train", cmd_train, "train two-layer networks: NLGP against its clone, or any two data models"},
    {"sample", cmd_sample, "draw samples of any data model (and its clone) to HDF5 with a montage"},
    {"plot", cmd_plot, "redraw the figures of a training result file"},
    {"stats", cmd_stats, "what is Gaussian about a data model: moments, spectrum, kappa4"},
    {"reproduce", cmd_reproduce, "the research line's experiments by name (sweeps, resumable)"},
    {"sweep", cmd_sweep, "run an experiment file's grid x seeds (threads; mpirun across machines)"},
    {"theory", cmd_theory, "cumulants, CP factors, single-neuron flow, GET ODEs, perceptron"},
};
enum { N_COMMANDS = sizeof commands / sizeof commands[0] };

static void usage(FILE *out)
{
    fprintf(out, "hoclab %s — how higher-order input statistics shape what networks learn\n\n"
                 "usage: hoclab COMMAND [--flags]   (hoclab COMMAND --help for its flags)\n\n",
            HOCLAB_VERSION);
    for (int i = 0; i < N_COMMANDS; i++)
        fprintf(out, "  %-8s %s\n", commands[i].name, commands[i].what);
}

void figure_base(const char *h5_path, char *base, size_t size)
{
    size_t n = strlen(h5_path);
    if (n > 3 && strcmp(h5_path + n - 3, ".h5") == 0)
        n -= 3;
    snprintf(base, size, "%.*s", (int)n, h5_path);
}

int report_error(const char *cmd, int status)
{
    fprintf(stderr, "hoclab %s: %s\n", cmd, hl_error_message());
    return status == HL_EINVAL ? 2 : 1;
}

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("hoclab %s\n", HOCLAB_VERSION);
        return 0;
    }
    for (int i = 0; i < N_COMMANDS; i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].run(argc, argv);
    fprintf(stderr, "hoclab: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return 2;
}
