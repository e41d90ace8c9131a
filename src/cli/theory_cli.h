/* theory_cli.h — pieces shared by the files of `hoclab theory` (theory.c, the
 * computations on tensors; theory_dyn.c, the dynamics). */
#ifndef HOCLAB_CLI_THEORY_H
#define HOCLAB_CLI_THEORY_H

#include "hoclab/data.h"
#include "options.h"

/* "name:key=value,..." into parsed values; prints the error and returns 2. */
int theory_parse_model(const char *cmd, const char *flag, const char *text,
                       hl_param_values *v);
/* "hoclab theory CMD: message"; returns the exit status for rc. */
int theory_fail(const char *cmd, int rc);
/* After opt_parse: --help prints the usage and gives 0, an error gives its status. */
int theory_usage(const char *cmd, int rc, const char *usage, const opt_spec *specs, int ns);

int theory_neuron(int argc, char **argv);
int theory_ode(int argc, char **argv);
int theory_perceptron(int argc, char **argv);

#endif
