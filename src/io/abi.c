/* abi.c — the table behind hl_abi_sizeof / hl_abi_offsetof (see abi.h): every field
 * of the structs a binding mirrors. A field added to one of these structs belongs
 * here too, or the binding's check reports it as unknown. */
#include "hoclab/abi.h"

#include "hoclab/data.h"
#include "hoclab/experiment.h"
#include "hoclab/net.h"
#include "hoclab/theory.h"
#include "hoclab/train.h"

#include <string.h>

typedef struct {
    const char *type, *field;   /* field NULL: the struct's size */
    size_t value;               /* the size, or the field's offset */
    size_t field_size;
} abi_entry;

#define SIZE(T) {#T, NULL, sizeof(T), 0}
#define FIELD(T, f) {#T, #f, offsetof(T, f), sizeof(((T *)0)->f)}

static const abi_entry table[] = {
    SIZE(hl_experiment), /* held opaque by bindings: its size only */

    SIZE(hl_net_config),
    FIELD(hl_net_config, K), FIELD(hl_net_config, D), FIELD(hl_net_config, max_batch),
    FIELD(hl_net_config, mode), FIELD(hl_net_config, act), FIELD(hl_net_config, bias),
    FIELD(hl_net_config, bias_value), FIELD(hl_net_config, lr), FIELD(hl_net_config, std0w),
    FIELD(hl_net_config, std0v),

    SIZE(hl_train_config),
    FIELD(hl_train_config, plus_model), FIELD(hl_train_config, minus_model),
    FIELD(hl_train_config, input), FIELD(hl_train_config, dim), FIELD(hl_train_config, L),
    FIELD(hl_train_config, p), FIELD(hl_train_config, xi_plus),
    FIELD(hl_train_config, xi_minus), FIELD(hl_train_config, gain),
    FIELD(hl_train_config, convention), FIELD(hl_train_config, net),
    FIELD(hl_train_config, batch), FIELD(hl_train_config, time), FIELD(hl_train_config, seed),
    FIELD(hl_train_config, n_test), FIELD(hl_train_config, n_meas),
    FIELD(hl_train_config, n_snap), FIELD(hl_train_config, max_weight),

    SIZE(hl_train_result),
    FIELD(hl_train_result, n_planned), FIELD(hl_train_result, n_meas),
    FIELD(hl_train_result, steps), FIELD(hl_train_result, t),
    FIELD(hl_train_result, test_error), FIELD(hl_train_result, test_loss),
    FIELD(hl_train_result, ipr), FIELD(hl_train_result, kurtosis),
    FIELD(hl_train_result, n_snap), FIELD(hl_train_result, snap_index),
    FIELD(hl_train_result, snapshots), FIELD(hl_train_result, W), FIELD(hl_train_result, v),
    FIELD(hl_train_result, b), FIELD(hl_train_result, status),
    FIELD(hl_train_result, stop_step), FIELD(hl_train_result, message),
    FIELD(hl_train_result, n_clipped), FIELD(hl_train_result, clipped_fraction),
    FIELD(hl_train_result, marginal_kurtosis), FIELD(hl_train_result, wall_seconds),

    SIZE(hl_param_spec),
    FIELD(hl_param_spec, name), FIELD(hl_param_spec, type), FIELD(hl_param_spec, def),
    FIELD(hl_param_spec, min), FIELD(hl_param_spec, max), FIELD(hl_param_spec, choices),
    FIELD(hl_param_spec, help),

    SIZE(hl_param_values),
    FIELD(hl_param_values, model), FIELD(hl_param_values, num), FIELD(hl_param_values, text),

    SIZE(hl_model),
    FIELD(hl_model, name), FIELD(hl_model, summary), FIELD(hl_model, params),
    FIELD(hl_model, n_params), FIELD(hl_model, create), FIELD(hl_model, dimension),

    SIZE(hl_nlgp_params),
    FIELD(hl_nlgp_params, dim), FIELD(hl_nlgp_params, L), FIELD(hl_nlgp_params, xi),
    FIELD(hl_nlgp_params, p), FIELD(hl_nlgp_params, gain), FIELD(hl_nlgp_params, convention),
    FIELD(hl_nlgp_params, clone), FIELD(hl_nlgp_params, nonlin),
    FIELD(hl_nlgp_params, boundary), FIELD(hl_nlgp_params, n_coeffs),
    FIELD(hl_nlgp_params, coeffs),

    SIZE(hl_cumulant4),
    FIELD(hl_cumulant4, L), FIELD(hl_cumulant4, c2), FIELD(hl_cumulant4, m4),
    FIELD(hl_cumulant4, k4), FIELD(hl_cumulant4, k4_se),

    SIZE(hl_cp_options),
    FIELD(hl_cp_options, rank), FIELD(hl_cp_options, restarts), FIELD(hl_cp_options, max_iter),
    FIELD(hl_cp_options, probe_iter), FIELD(hl_cp_options, tol),
    FIELD(hl_cp_options, screen_tol), FIELD(hl_cp_options, screen_iter),
    FIELD(hl_cp_options, ftol), FIELD(hl_cp_options, shift),
    FIELD(hl_cp_options, refine_sweeps), FIELD(hl_cp_options, refine_iter),
    FIELD(hl_cp_options, refine_tol), FIELD(hl_cp_options, seed),

    SIZE(hl_cp_result),
    FIELD(hl_cp_result, D), FIELD(hl_cp_result, rank), FIELD(hl_cp_result, gamma),
    FIELD(hl_cp_result, u), FIELD(hl_cp_result, iterations), FIELD(hl_cp_result, converged),
    FIELD(hl_cp_result, change), FIELD(hl_cp_result, sweeps),
    FIELD(hl_cp_result, sweep_change),

    SIZE(hl_neuron_class),
    FIELD(hl_neuron_class, cov), FIELD(hl_neuron_class, cov_ctx),
    FIELD(hl_neuron_class, cum3), FIELD(hl_neuron_class, cum_ctx),

    SIZE(hl_neuron_ring),
    FIELD(hl_neuron_ring, L), FIELD(hl_neuron_ring, t),

    SIZE(hl_neuron_matrix),
    FIELD(hl_neuron_matrix, D), FIELD(hl_neuron_matrix, a),

    SIZE(hl_neuron_flow_params),
    FIELD(hl_neuron_flow_params, D), FIELD(hl_neuron_flow_params, n_classes),
    FIELD(hl_neuron_flow_params, classes), FIELD(hl_neuron_flow_params, alpha),
    FIELD(hl_neuron_flow_params, beta), FIELD(hl_neuron_flow_params, bias),
    FIELD(hl_neuron_flow_params, labels), FIELD(hl_neuron_flow_params, sixth),
    FIELD(hl_neuron_flow_params, stepper), FIELD(hl_neuron_flow_params, abs_tol),
    FIELD(hl_neuron_flow_params, rel_tol), FIELD(hl_neuron_flow_params, h0),
    FIELD(hl_neuron_flow_params, max_norm), FIELD(hl_neuron_flow_params, max_steps),

    SIZE(hl_neuron_traj),
    FIELD(hl_neuron_traj, n_times), FIELD(hl_neuron_traj, D), FIELD(hl_neuron_traj, n_refs),
    FIELD(hl_neuron_traj, n_done), FIELD(hl_neuron_traj, n_classes),
    FIELD(hl_neuron_traj, t), FIELD(hl_neuron_traj, w), FIELD(hl_neuron_traj, ipr),
    FIELD(hl_neuron_traj, q), FIELD(hl_neuron_traj, k), FIELD(hl_neuron_traj, loss_gauss),
    FIELD(hl_neuron_traj, loss), FIELD(hl_neuron_traj, overlap),
};

static const abi_entry *find(const char *type, const char *field)
{
    if (!type)
        return NULL;
    for (size_t i = 0; i < sizeof table / sizeof *table; i++) {
        const abi_entry *e = &table[i];
        if (strcmp(e->type, type) == 0 &&
            (field ? e->field && strcmp(e->field, field) == 0 : !e->field))
            return e;
    }
    return NULL;
}

size_t hl_abi_sizeof(const char *type)
{
    const abi_entry *e = find(type, NULL);
    return e ? e->value : 0;
}

long hl_abi_offsetof(const char *type, const char *field)
{
    const abi_entry *e = field ? find(type, field) : NULL;
    return e ? (long)e->value : -1;
}

long hl_abi_field_size(const char *type, const char *field)
{
    const abi_entry *e = field ? find(type, field) : NULL;
    return e ? (long)e->field_size : -1;
}
