/* experiment.c — experiment files: YAML (read with libyaml) -> a grid of trainer
 * configurations.
 *
 * The file is one YAML mapping. Its keys are the few sweep keys (name, description,
 * output, seeds, xi-unit) and the flags of `hoclab train`; each flag's type and range
 * are in one table below, so that a wrong value is reported with its line and the
 * accepted range before anything runs. A single value sets the flag; a list (or a
 * range mapping) makes it an axis. */
#include "hoclab/experiment.h"
#include "hoclab/error.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

typedef enum { T_INT, T_DOUBLE, T_CHOICE, T_STRING, T_PAIR } value_type;

typedef enum {
    K_INPUTS, K_XIS, K_GAIN, K_CONVENTION, K_DIM, K_L, K_KERNEL_P, K_PLUS, K_MINUS, K_K,
    K_MODEL, K_ACTIVATION, K_BIAS, K_BIAS_VALUE, K_LR, K_BS, K_TIME, K_STD0W, K_STD0V,
    K_TEST_SAMPLES, K_N_MEAS, K_SNAPSHOTS, N_FLAG_KEYS
} flag_key;

typedef struct {
    const char *name;
    value_type type;
    double min, max;
    int open_min;
    const char *choices; /* T_CHOICE: "a|b|c", the value is the index */
} key_spec;

/* The flags of `hoclab train`, with the ranges the command line accepts. */
static const key_spec flag_keys[N_FLAG_KEYS] = {
    [K_INPUTS] = {"inputs", T_CHOICE, .choices = "nlgp|gp"},
    [K_XIS] = {"xis", T_PAIR, 0, 1e9, 1},
    [K_GAIN] = {"gain", T_DOUBLE, 0, 1e6},
    [K_CONVENTION] = {"gain-convention", T_CHOICE, .choices = "seeds|authors"},
    [K_DIM] = {"dim", T_INT, 1, 2},
    [K_L] = {"L", T_INT, 2, 1 << 20},
    [K_KERNEL_P] = {"kernel-p", T_INT, 1, 2},
    [K_PLUS] = {"plus", T_STRING},
    [K_MINUS] = {"minus", T_STRING},
    [K_K] = {"K", T_INT, 1, 100000},
    [K_MODEL] = {"model", T_CHOICE, .choices = "2layer|mf|lazy"},
    [K_ACTIVATION] = {"activation", T_CHOICE, .choices = "erf|relu|tanh|linear|cubic"},
    [K_BIAS] = {"bias", T_CHOICE, .choices = "none|trainable|fixed"},
    [K_BIAS_VALUE] = {"bias-value", T_DOUBLE, 0, 1e6},
    [K_LR] = {"lr", T_DOUBLE, 0, 1e6, 1},
    [K_BS] = {"bs", T_INT, 1, 65536},
    [K_TIME] = {"time", T_DOUBLE, 0, 1e9, 1},
    [K_STD0W] = {"std0w", T_DOUBLE, 0, 1e3},
    [K_STD0V] = {"std0v", T_DOUBLE, 0, 1e3},
    [K_TEST_SAMPLES] = {"test-samples", T_INT, 1, 10000000},
    [K_N_MEAS] = {"n-meas", T_INT, 2, 100000},
    [K_SNAPSHOTS] = {"snapshots", T_INT, -1, 100000},
};

static const char *const meta_keys[] = {"name", "description", "output", "seeds", "xi-unit"};
enum { N_META = sizeof meta_keys / sizeof meta_keys[0], MAX_SEEDS = 100000 };

/* Everything parsing needs to report where: the origin, and the document. */
typedef struct {
    const char *origin;
    yaml_document_t *doc;
    hl_experiment *e;
} parse_ctx;

static int line_of(const yaml_node_t *n) { return (int)n->start_mark.line + 1; }

/* "ORIGIN:LINE: what" as an HL_EINVAL error. */
__attribute__((format(printf, 3, 4))) static int fail(const parse_ctx *p, const yaml_node_t *n,
                                                      const char *fmt, ...)
{
    char what[1536];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return hl_error_set(HL_EINVAL, "%s:%d: %s", p->origin, n ? line_of(n) : 0, what);
}

static const char *scalar(const yaml_node_t *n)
{
    return (const char *)n->data.scalar.value;
}

static void set_flag(hl_train_config *c, flag_key k, const hl_exp_value *v)
{
    double x = v->num[0];
    switch (k) {
    case K_INPUTS: c->input = (hl_input)x; break;
    case K_XIS: c->xi_plus = v->num[0], c->xi_minus = v->num[1]; break;
    case K_GAIN: c->gain = x; break;
    case K_CONVENTION: c->convention = (hl_gain_convention)x; break;
    case K_DIM: c->dim = (int)x; break;
    case K_L: c->L = (int)x; break;
    case K_KERNEL_P: c->p = (int)x; break;
    case K_PLUS: snprintf(c->plus_model, sizeof c->plus_model, "%s", v->str); break;
    case K_MINUS: snprintf(c->minus_model, sizeof c->minus_model, "%s", v->str); break;
    case K_K: c->net.K = (int)x; break;
    case K_MODEL: c->net.mode = (hl_mode)x; break;
    case K_ACTIVATION: c->net.act = (hl_act)x; break;
    case K_BIAS: c->net.bias = (hl_bias)x; break;
    case K_BIAS_VALUE: c->net.bias_value = x; break;
    case K_LR: c->net.lr = x; break;
    case K_BS: c->batch = (int)x; break;
    case K_TIME: c->time = x; break;
    case K_STD0W: c->net.std0w = x; break;
    case K_STD0V: c->net.std0v = x; break;
    case K_TEST_SAMPLES: c->n_test = (size_t)x; break;
    case K_N_MEAS: c->n_meas = (int)x; break;
    case K_SNAPSHOTS: c->n_snap = (int)x; break;
    default: break;
    }
}

/* A number for key `s`: the whole scalar, finite, integral for T_INT, within range. */
static int parse_number(const parse_ctx *p, const key_spec *s, const yaml_node_t *n,
                        double *out)
{
    if (n->type != YAML_SCALAR_NODE)
        return fail(p, n, "'%s' takes a number here, not a %s", s->name,
                    n->type == YAML_MAPPING_NODE ? "mapping" : "list");
    const char *t = scalar(n);
    char *end;
    errno = 0;
    double x = strtod(t, &end);
    if (end == t || *end || errno || !isfinite(x))
        return fail(p, n, "'%s': '%s' is not a number", s->name, t);
    if (s->type == T_INT && x != floor(x))
        return fail(p, n, "'%s': '%s' is not an integer", s->name, t);
    if (x < s->min || x > s->max || (s->open_min && x == s->min)) {
        return fail(p, n, "'%s' = %s is out of range; accepted: %s%g..%g", s->name, t,
                    s->open_min ? "> " : "", s->min, s->max);
    }
    *out = x;
    return HL_OK;
}

/* One value of key `s` from node n (a scalar, or a pair for T_PAIR). */
static int parse_value(const parse_ctx *p, const key_spec *s, const yaml_node_t *n,
                       hl_exp_value *v)
{
    memset(v, 0, sizeof *v);
    if (s->type == T_PAIR) {
        yaml_node_item_t *it = n->type == YAML_SEQUENCE_NODE ? n->data.sequence.items.start : 0;
        if (!it || n->data.sequence.items.top - it != 2)
            return fail(p, n, "'%s' takes a pair [xi+, xi-] (or a list of pairs for an axis)",
                        s->name);
        for (int j = 0; j < 2; j++) {
            int rc = parse_number(p, s, yaml_document_get_node(p->doc, it[j]), &v->num[j]);
            if (rc)
                return rc;
        }
        return HL_OK;
    }
    if (n->type != YAML_SCALAR_NODE)
        return fail(p, n, "'%s' takes one value here, not a %s", s->name,
                    n->type == YAML_MAPPING_NODE ? "mapping" : "list");
    const char *t = scalar(n);
    if (s->type == T_CHOICE) {
        int i = hl_choice_index(s->choices, t);
        if (i < 0) {
            return fail(p, n, "'%s': unknown value '%.64s'; accepted: %s (a list of values "
                        "makes it an axis)", s->name, t, s->choices);
        }
        v->num[0] = i;
    } else if (s->type == T_STRING) {
        if (!*t || strlen(t) >= HL_TRAIN_SPEC_MAX)
            return fail(p, n, "'%s' takes a non-empty text of fewer than 512 characters, "
                        "got '%.64s'", s->name, t);
    } else {
        return parse_number(p, s, n, &v->num[0]);
    }
    v->str = strdup(t);
    return v->str ? HL_OK : hl_error_set(HL_ENOMEM, "out of memory");
}

/* A range {from, to, num, scale: linear|log} of a numeric key. */
static int parse_range(const parse_ctx *p, const key_spec *s, const yaml_node_t *n,
                       hl_exp_axis *a)
{
    if (s->type != T_INT && s->type != T_DOUBLE)
        return fail(p, n, "'%s' cannot take a range: give a list of values", s->name);
    const key_spec num_spec = {"num", T_INT, 1, HL_EXP_MAX_VALUES};
    double from = NAN, to = NAN, num = NAN;
    int log_scale = 0;
    for (yaml_node_pair_t *q = n->data.mapping.pairs.start; q < n->data.mapping.pairs.top; q++) {
        yaml_node_t *k = yaml_document_get_node(p->doc, q->key);
        yaml_node_t *v = yaml_document_get_node(p->doc, q->value);
        const char *name = k->type == YAML_SCALAR_NODE ? scalar(k) : "";
        int rc = HL_OK;
        if (strcmp(name, "from") == 0)
            rc = parse_number(p, s, v, &from);
        else if (strcmp(name, "to") == 0)
            rc = parse_number(p, s, v, &to);
        else if (strcmp(name, "num") == 0)
            rc = parse_number(p, &num_spec, v, &num);
        else if (strcmp(name, "scale") == 0) {
            log_scale = v->type == YAML_SCALAR_NODE ? hl_choice_index("linear|log", scalar(v)) : -1;
            if (log_scale < 0)
                return fail(p, v, "range of '%s': scale must be linear or log", s->name);
        } else
            return fail(p, k, "range of '%s': unknown key '%s'; accepted: from, to, num, "
                        "scale", s->name, name);
        if (rc)
            return rc;
    }
    if (isnan(from) || isnan(to) || isnan(num))
        return fail(p, n, "range of '%s' needs from, to and num (scale is optional)",
                    s->name);
    if (log_scale && !(from > 0 && to > 0))
        return fail(p, n, "range of '%s': a log scale needs from > 0 and to > 0", s->name);
    a->n = (int)num;
    a->values = calloc(a->n, sizeof *a->values);
    if (!a->values)
        return hl_error_set(HL_ENOMEM, "out of memory");
    for (int i = 0; i < a->n; i++) {
        double f = a->n > 1 ? (double)i / (a->n - 1) : 0;
        double x = log_scale ? exp(log(from) + f * (log(to) - log(from))) : from + f * (to - from);
        if (s->type == T_INT) {
            x = round(x);
            if (i > 0 && x == a->values[i - 1].num[0])
                return fail(p, n, "range of '%s' repeats an integer: use fewer points or a "
                            "list", s->name);
        }
        a->values[i].num[0] = x;
    }
    return HL_OK;
}

/* A list: each item one value (for xis: each item a pair). */
static int parse_list(const parse_ctx *p, const key_spec *s, const yaml_node_t *n,
                      hl_exp_axis *a)
{
    yaml_node_item_t *it = n->data.sequence.items.start;
    long count = n->data.sequence.items.top - it;
    if (count < 1 || count > HL_EXP_MAX_VALUES) {
        return fail(p, n, "'%s': a list makes an axis of 1..%d values, got %ld", s->name,
                    HL_EXP_MAX_VALUES, count);
    }
    a->values = calloc(count, sizeof *a->values);
    if (!a->values)
        return hl_error_set(HL_ENOMEM, "out of memory");
    for (long i = 0; i < count; i++, a->n++) {
        int rc = parse_value(p, s, yaml_document_get_node(p->doc, it[i]), &a->values[i]);
        if (rc)
            return rc;
    }
    return HL_OK;
}

static void axis_free(hl_exp_axis *a)
{
    for (int i = 0; a->values && i < a->n; i++)
        free(a->values[i].str);
    free(a->values);
    memset(a, 0, sizeof *a);
}

static flag_key key_id(const char *name)
{
    for (int k = 0; k < N_FLAG_KEYS; k++)
        if (strcmp(flag_keys[k].name, name) == 0)
            return (flag_key)k;
    return N_FLAG_KEYS;
}

/* "key=value" of one axis value, as point names spell it. */
static int spell(const hl_exp_axis *a, const hl_exp_value *v, char *buf, size_t size)
{
    if (v->str)
        return snprintf(buf, size, "%s=%s", a->key, v->str);
    if (key_id(a->key) == K_XIS)
        return snprintf(buf, size, "%s=%.10g:%.10g", a->key, v->num[0], v->num[1]);
    return snprintf(buf, size, "%s=%.10g", a->key, v->num[0]);
}

/* A point name in a file name's alphabet: other characters become '_'. */
static void sanitize(char *name)
{
    for (char *s = name; *s; s++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._=+-,:", *s))
            *s = '_';
}

static int compare_text(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Two values of an axis spelled alike in file names ([2, 2], 1 and 1.00000000001, "a b"
 * and "a_b") would make two points of one file, each taken for the other's result. */
static int check_distinct(const parse_ctx *p, const yaml_node_t *n, const hl_exp_axis *a)
{
    char **s = calloc(a->n, sizeof *s), buf[HL_TRAIN_SPEC_MAX + 64];
    int rc = s ? HL_OK : hl_error_set(HL_ENOMEM, "out of memory");
    for (int i = 0; !rc && i < a->n; i++) {
        spell(a, &a->values[i], buf, sizeof buf);
        sanitize(buf);
        if (!(s[i] = strdup(buf)))
            rc = hl_error_set(HL_ENOMEM, "out of memory");
    }
    if (!rc)
        qsort(s, a->n, sizeof *s, compare_text);
    for (int i = 1; !rc && i < a->n; i++)
        if (strcmp(s[i - 1], s[i]) == 0)
            rc = fail(p, n, "'%s': two values are the same point %.80s in file names (numbers "
                      "are spelled with 10 digits, characters other than letters, digits and "
                      "._=+-,: as '_'): give each value once", a->key, s[i]);
    for (int i = 0; s && i < a->n; i++)
        free(s[i]);
    free(s);
    return rc;
}

/* A flag: one value into the base configuration, or an axis. */
static int parse_flag(const parse_ctx *p, flag_key k, const yaml_node_t *v)
{
    const key_spec *s = &flag_keys[k];
    hl_experiment *e = p->e;
    int is_axis = v->type == YAML_MAPPING_NODE;
    if (v->type == YAML_SEQUENCE_NODE) {
        /* A list is an axis, except a flat pair for xis. */
        yaml_node_item_t *it = v->data.sequence.items.start;
        is_axis = s->type != T_PAIR ||
                  (it < v->data.sequence.items.top &&
                   yaml_document_get_node(p->doc, it[0])->type == YAML_SEQUENCE_NODE);
    }
    if (!is_axis) {
        hl_exp_value val;
        int rc = parse_value(p, s, v, &val);
        if (!rc)
            set_flag(&e->base, k, &val);
        free(val.str);
        return rc;
    }
    if (e->n_axes == HL_EXP_MAX_AXES) {
        return fail(p, v, "too many axes: at most %d keys can take lists", HL_EXP_MAX_AXES);
    }
    hl_exp_axis *a = &e->axes[e->n_axes++];
    snprintf(a->key, sizeof a->key, "%s", s->name);
    a->line = line_of(v);
    int rc = v->type == YAML_MAPPING_NODE ? parse_range(p, s, v, a) : parse_list(p, s, v, a);
    return rc ? rc : check_distinct(p, v, a);
}

static int parse_seeds(const parse_ctx *p, const yaml_node_t *v)
{
    hl_experiment *e = p->e;
    const key_spec count = {"seeds", T_INT, 1, MAX_SEEDS};
    const key_spec one = {"seeds", T_INT, 0, 18446744073709549568.0};
    if (v->type == YAML_SCALAR_NODE) {
        double n;
        int rc = parse_number(p, &count, v, &n);
        if (rc)
            return rc;
        e->n_seeds = (int)n;
        e->seeds = malloc(sizeof(uint64_t) * e->n_seeds);
        if (!e->seeds)
            return hl_error_set(HL_ENOMEM, "out of memory");
        for (int i = 0; i < e->n_seeds; i++)
            e->seeds[i] = (uint64_t)i + 1;
        return HL_OK;
    }
    if (v->type != YAML_SEQUENCE_NODE)
        return fail(p, v, "'seeds' takes a count (seeds 1..N) or a list of seeds");
    yaml_node_item_t *it = v->data.sequence.items.start;
    long n = v->data.sequence.items.top - it;
    if (n < 1 || n > MAX_SEEDS)
        return fail(p, v, "'seeds': a list of 1..100000 seeds");
    e->seeds = malloc(sizeof(uint64_t) * n);
    if (!e->seeds)
        return hl_error_set(HL_ENOMEM, "out of memory");
    for (long i = 0; i < n; i++) {
        double x;
        yaml_node_t *item = yaml_document_get_node(p->doc, it[i]);
        int rc = parse_number(p, &one, item, &x);
        if (rc)
            return rc;
        e->seeds[i] = (uint64_t)x;
        for (long j = 0; j < i; j++)
            if (e->seeds[j] == e->seeds[i])
                return fail(p, item, "'seeds': seed %s is listed twice", scalar(item));
        e->n_seeds = (int)i + 1;
    }
    return HL_OK;
}

static int parse_text_key(const parse_ctx *p, const char *key, const yaml_node_t *v,
                          char **out)
{
    if (v->type != YAML_SCALAR_NODE || !*scalar(v))
        return fail(p, v, "'%s' takes a non-empty text", key);
    *out = strdup(scalar(v));
    return *out ? HL_OK : hl_error_set(HL_ENOMEM, "out of memory");
}

static int parse_meta(const parse_ctx *p, int m, const yaml_node_t *v)
{
    hl_experiment *e = p->e;
    char *text = NULL;
    int rc = HL_OK;
    switch (m) {
    case 0: /* name */
        if (!(rc = parse_text_key(p, "name", v, &text))) {
            if (strlen(text) >= sizeof e->name || strpbrk(text, "/\\"))
                rc = fail(p, v, "'name' must be shorter than 128 characters and hold no '/'");
            else
                snprintf(e->name, sizeof e->name, "%s", text);
        }
        free(text);
        return rc;
    case 1: return parse_text_key(p, "description", v, &e->description);
    case 2:
        if (!(rc = parse_text_key(p, "output", v, &e->output)) && strlen(e->output) > 768)
            rc = fail(p, v, "'output' is longer than 768 characters");
        return rc;
    case 3: return parse_seeds(p, v);
    default: {
        const key_spec unit = {"xi-unit", T_CHOICE, .choices = "px|frac"};
        hl_exp_value val;
        if (!(rc = parse_value(p, &unit, v, &val)))
            e->xi_frac = (int)val.num[0];
        free(val.str);
        return rc;
    }
    }
}

/* Every accepted key, for the message about an unknown one. */
static void key_list(char *buf, size_t size)
{
    size_t n = 0;
    buf[0] = 0;
    for (int i = 0; i < N_META + N_FLAG_KEYS && n < size; i++)
        n += snprintf(buf + n, size - n, "%s%s", i ? ", " : "",
                      i < N_META ? meta_keys[i] : flag_keys[i - N_META].name);
}

static int parse_root(const parse_ctx *p, yaml_node_t *root)
{
    int first_line[N_META + N_FLAG_KEYS] = {0};
    if (!root || root->type != YAML_MAPPING_NODE)
        return fail(p, root, "an experiment file is a mapping of keys (\"key: value\" lines)");
    for (yaml_node_pair_t *q = root->data.mapping.pairs.start; q < root->data.mapping.pairs.top;
         q++) {
        yaml_node_t *k = yaml_document_get_node(p->doc, q->key);
        yaml_node_t *v = yaml_document_get_node(p->doc, q->value);
        if (k->type != YAML_SCALAR_NODE)
            return fail(p, k, "a key must be a plain word");
        const char *key = scalar(k);
        int id = -1;
        for (int i = 0; i < N_META + N_FLAG_KEYS && id < 0; i++)
            if (strcmp(key, i < N_META ? meta_keys[i] : flag_keys[i - N_META].name) == 0)
                id = i;
        if (id < 0) {
            char keys[1024];
            key_list(keys, sizeof keys);
            return fail(p, k, "unknown key '%.64s'%s; accepted keys: %s", key,
                        strcmp(key, "seed") == 0 ? " (use 'seeds')" : "", keys);
        }
        if (first_line[id]) {
            return fail(p, k, "key '%s' is given twice (first on line %d)", key,
                        first_line[id]);
        }
        first_line[id] = line_of(k);
        int rc = id < N_META ? parse_meta(p, id, v) : parse_flag(p, (flag_key)(id - N_META), v);
        if (rc)
            return rc;
    }
    return HL_OK;
}

/* "results/gain.yaml" -> "gain". */
static void base_name(const char *origin, char *out, size_t size)
{
    const char *slash = strrchr(origin, '/');
    const char *b = slash ? slash + 1 : origin;
    const char *dot = strrchr(b, '.');
    int n = dot && dot != b ? (int)(dot - b) : (int)strlen(b);
    snprintf(out, size, "%.*s", n, b);
}

/* Defaults for what the file did not say, then the limits of the whole grid. */
static int finish(const parse_ctx *p)
{
    hl_experiment *e = p->e;
    if (!e->name[0])
        base_name(p->origin, e->name, sizeof e->name);
    if (!e->name[0])
        snprintf(e->name, sizeof e->name, "sweep");
    if (!e->output && !(e->output = strdup(e->name)))
        return hl_error_set(HL_ENOMEM, "out of memory");
    if (!e->seeds) {
        e->n_seeds = 1;
        if (!(e->seeds = malloc(sizeof(uint64_t))))
            return hl_error_set(HL_ENOMEM, "out of memory");
        e->seeds[0] = e->base.seed;
    }
    for (int a = 0; a < e->n_axes; a++)
        for (int b = 0; b < a; b++)
            if (strcmp(e->axes[a].key, e->axes[b].key) == 0)
                return hl_error_set(HL_EINVAL, "%s:%d: '%s' is an axis twice", p->origin,
                                    e->axes[a].line, e->axes[a].key);
    double n = e->n_seeds;
    for (int a = 0; a < e->n_axes; a++)
        n *= e->axes[a].n;
    if (n > HL_EXP_MAX_POINTS)
        return hl_error_set(HL_EINVAL, "%s: the grid has %.0f points (axes times seeds); "
                            "accepted: at most %d", p->origin, n, HL_EXP_MAX_POINTS);
    return HL_OK;
}

int hl_experiment_parse(const char *text, size_t len, const char *origin, hl_experiment *e)
{
    if (!text || !e)
        return hl_error_set(HL_EINVAL, "experiment: text and result are needed");
    if (!origin)
        origin = "experiment";
    memset(e, 0, sizeof *e);
    e->base = hl_train_defaults();
    yaml_parser_t parser;
    yaml_document_t doc;
    if (!yaml_parser_initialize(&parser))
        return hl_error_set(HL_ENOMEM, "experiment: cannot start the YAML parser");
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    int rc = HL_OK;
    if (!yaml_parser_load(&parser, &doc)) {
        rc = hl_error_set(HL_EINVAL, "%s:%d: not valid YAML: %s%s%s", origin,
                          (int)parser.problem_mark.line + 1,
                          parser.problem ? parser.problem : "parse error",
                          parser.context ? " " : "", parser.context ? parser.context : "");
        yaml_parser_delete(&parser);
        return rc;
    }
    parse_ctx p = {origin, &doc, e};
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (!root)
        rc = hl_error_set(HL_EINVAL, "%s: the experiment file is empty: expected \"key: "
                          "value\" lines (see README, Sweeps)", origin);
    else
        rc = parse_root(&p, root);
    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    if (!rc)
        rc = finish(&p);
    if (!rc && !(e->text = malloc(len + 1)))
        rc = hl_error_set(HL_ENOMEM, "out of memory");
    if (rc) {
        hl_experiment_free(e);
        return rc;
    }
    memcpy(e->text, text, len);
    e->text[len] = 0;
    return HL_OK;
}

int hl_experiment_load(const char *path, hl_experiment *e)
{
    if (!path || !e)
        return hl_error_set(HL_EINVAL, "experiment: a path is needed");
    FILE *f = fopen(path, "rb");
    if (!f)
        return hl_error_set(HL_EIO, "cannot open experiment file '%s': %s", path,
                            strerror(errno));
    enum { MAX_BYTES = 1 << 20 };
    char *buf = malloc(MAX_BYTES + 1);
    size_t n = buf ? fread(buf, 1, MAX_BYTES + 1, f) : 0;
    int err = ferror(f);
    fclose(f);
    int rc;
    if (!buf)
        rc = hl_error_set(HL_ENOMEM, "out of memory");
    else if (err)
        rc = hl_error_set(HL_EIO, "cannot read experiment file '%s'", path);
    else if (n > MAX_BYTES)
        rc = hl_error_set(HL_EINVAL, "experiment file '%s' is larger than 1 MiB", path);
    else
        rc = hl_experiment_parse(buf, n, path, e);
    free(buf);
    return rc;
}

void hl_experiment_free(hl_experiment *e)
{
    if (!e)
        return;
    for (int a = 0; a < e->n_axes; a++)
        axis_free(&e->axes[a]);
    free(e->description);
    free(e->output);
    free(e->seeds);
    free(e->text);
    memset(e, 0, sizeof *e);
}

long hl_experiment_n_points(const hl_experiment *e)
{
    long n = e->n_seeds;
    for (int a = 0; a < e->n_axes; a++)
        n *= e->axes[a].n;
    return n;
}

/* " (axes on lines 3, 5)": where to look for an invalid point's values ("" without
 * axes). */
static const char *axis_lines(const hl_experiment *e, char *buf, size_t size)
{
    size_t n = 0;
    buf[0] = 0;
    for (int a = 0; a < e->n_axes && n < size; a++)
        n += snprintf(buf + n, size - n, "%s%d%s", a ? ", " : e->n_axes > 1 ? " (axes on lines "
                      : " (axis on line ", e->axes[a].line, a + 1 == e->n_axes ? ")" : "");
    return buf;
}

int hl_experiment_point(const hl_experiment *e, long i, hl_train_config *c, char *name,
                        size_t size)
{
    long n = hl_experiment_n_points(e);
    if (i < 0 || i >= n)
        return hl_error_set(HL_EINVAL, "experiment '%s': point %ld out of range 0..%ld",
                            e->name, i, n - 1);
    *c = e->base;
    long rest = i / e->n_seeds;
    int seed_index = (int)(i % e->n_seeds), coord[HL_EXP_MAX_AXES];
    for (int a = e->n_axes - 1; a >= 0; a--) {
        coord[a] = (int)(rest % e->axes[a].n);
        rest /= e->axes[a].n;
    }
    char spelled[4096];
    size_t len = 0;
    for (int a = 0; a < e->n_axes; a++) {
        const hl_exp_value *v = &e->axes[a].values[coord[a]];
        set_flag(c, key_id(e->axes[a].key), v);
        len += spell(&e->axes[a], v, spelled + len, sizeof spelled - len);
        len += snprintf(spelled + len, sizeof spelled - len, ",");
        if (len >= sizeof spelled)
            len = sizeof spelled - 1;
    }
    c->seed = e->seeds[seed_index];
    snprintf(spelled + len, sizeof spelled - len, "seed=%llu", (unsigned long long)c->seed);
    if (name)
        snprintf(name, size, "%s", spelled);
    if (e->xi_frac) {
        c->xi_plus *= c->L;
        c->xi_minus *= c->L;
    }
    int rc;
    char lines[HL_EXP_MAX_AXES * 12 + 32];
    if (c->plus_model[0] && (rc = hl_model_shape(c->plus_model, &c->dim, &c->L)))
        return hl_error_set(rc, "experiment '%s', point %s%s: plus: %s", e->name, spelled,
                            axis_lines(e, lines, sizeof lines), hl_error_message());
    if ((rc = hl_train_validate(c)))
        return hl_error_set(rc, "experiment '%s', point %s%s: %s", e->name, spelled,
                            axis_lines(e, lines, sizeof lines), hl_error_message());
    return HL_OK;
}

/* A file name from a point's name: safe characters kept, others '_'; a name too long
 * for a file system becomes a hash of itself. */
int hl_experiment_point_path(const hl_experiment *e, long i, char *path, size_t size)
{
    hl_train_config c;
    char name[4096];
    int rc = hl_experiment_point(e, i, &c, name, sizeof name);
    if (rc)
        return rc;
    size_t n = strlen(name);
    if (n > 200) {
        uint64_t h = 1469598103934665603ull; /* FNV-1a */
        for (size_t j = 0; j < n; j++)
            h = (h ^ (unsigned char)name[j]) * 1099511628211ull;
        snprintf(name, sizeof name, "point-%016llx", (unsigned long long)h);
    }
    sanitize(name);
    if ((size_t)snprintf(path, size, "%s/points/%s.h5", e->output, name) >= size)
        return hl_error_set(HL_EINVAL, "experiment '%s': the point path is longer than %zu "
                            "characters", e->name, size - 1);
    return HL_OK;
}

double hl_experiment_point_cost(const hl_experiment *e, long i)
{
    hl_train_config c;
    if (hl_experiment_point(e, i, &c, NULL, 0))
        return 0;
    double D = (double)hl_train_D(&c), K = c.net.K;
    return (double)hl_train_steps(&c) * c.batch * D * K + (double)c.n_test * c.n_meas * D * K;
}
