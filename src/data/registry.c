/* registry.c — data models by name, and their parameters checked in one place.
 *
 * A model is described once (name, summary, parameter table); the registry turns a
 * text spec "key=value,key=value" into checked values, so that every model reports a
 * bad value the same way: the key, what was given, and the accepted range. */
#include "sampler_impl.h"
#include "hoclab/error.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* One line per model; each model file defines `const hl_model hl_model_NAME`. */
#define HL_MODEL_LIST(X) \
    X(nlgp)             \
    X(gp)               \
    X(ising)            \
    X(phi4)             \
    X(norta)            \
    X(elliptical)       \
    X(spiked)           \
    X(wishart)          \
    X(fmnist)           \
    X(patches)          \
    X(mixture)

#define HL_MODEL_DECL(name) extern const hl_model hl_model_##name;
#define HL_MODEL_REF(name) &hl_model_##name,
HL_MODEL_LIST(HL_MODEL_DECL)

static const hl_model *const models[] = {HL_MODEL_LIST(HL_MODEL_REF) NULL};

const hl_model *hl_model_at(int i)
{
    return i >= 0 && i < (int)(sizeof models / sizeof *models) ? models[i] : NULL;
}

const hl_model *hl_model_find(const char *name)
{
    for (int i = 0; name && models[i]; i++)
        if (strcmp(models[i]->name, name) == 0)
            return models[i];
    return NULL;
}

static int find_param(const hl_model *m, const char *key, size_t len)
{
    for (int i = 0; i < m->n_params; i++)
        if (strlen(m->params[i].name) == len && strncmp(m->params[i].name, key, len) == 0)
            return i;
    return -1;
}

int hl_choice_index(const char *choices, const char *word)
{
    size_t n = strlen(word);
    int i = 0;
    for (const char *c = choices; *c; i++) {
        const char *end = strchr(c, '|');
        size_t len = end ? (size_t)(end - c) : strlen(c);
        if (len == n && strncmp(c, word, n) == 0)
            return i;
        if (!end)
            break;
        c = end + 1;
    }
    return -1;
}

static int set_value(const hl_model *m, int i, const char *text, hl_param_values *v)
{
    const hl_param_spec *p = &m->params[i];
    char *end;
    double x;
    switch (p->type) {
    case HL_PARAM_TEXT:
        free(v->text[i]);
        v->text[i] = strdup(text);
        if (!v->text[i])
            return hl_error_set(HL_ENOMEM, "cannot store %s.%s", m->name, p->name);
        return HL_OK;
    case HL_PARAM_CHOICE: {
        int k = hl_choice_index(p->choices, text);
        if (k < 0)
            return hl_error_set(HL_EINVAL, "%s: %s = '%s': accepted values are %s", m->name,
                                p->name, text, p->choices);
        v->num[i] = k;
        return HL_OK;
    }
    case HL_PARAM_INT:
    case HL_PARAM_REAL:
        errno = 0;
        x = strtod(text, &end);
        if (end == text || *end || errno || !isfinite(x))
            return hl_error_set(HL_EINVAL, "%s: %s = '%s' is not a number", m->name, p->name,
                                text);
        if (p->type == HL_PARAM_INT && x != floor(x))
            return hl_error_set(HL_EINVAL, "%s: %s = '%s' is not an integer", m->name,
                                p->name, text);
        if (x < p->min || x > p->max)
            return hl_error_set(HL_EINVAL, "%s: %s = %s: accepted range is %g..%g", m->name,
                                p->name, text, p->min, p->max);
        v->num[i] = x;
        return HL_OK;
    }
    return hl_error_set(HL_EINVAL, "%s: parameter %s has an unknown type", m->name, p->name);
}

/* The accepted keys, for the message about an unknown one. */
static void key_list(const hl_model *m, char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = 0;
    for (int i = 0; i < m->n_params && used < size; i++)
        used += snprintf(buf + used, size - used, "%s%s", i ? ", " : "", m->params[i].name);
}

int hl_model_parse(const hl_model *m, const char *spec, hl_param_values *v)
{
    memset(v, 0, sizeof *v);
    v->model = m;
    int rc;
    for (int i = 0; i < m->n_params; i++)
        if ((m->params[i].type == HL_PARAM_TEXT || m->params[i].def[0]) &&
            (rc = set_value(m, i, m->params[i].def, v)))
            goto fail;
    for (const char *s = spec ? spec : ""; *s;) {
        const char *end = strchr(s, ',');
        size_t len = end ? (size_t)(end - s) : strlen(s);
        const char *eq = memchr(s, '=', len);
        if (len == 0) {
            s += 1;
            continue;
        }
        char key[64], keys[512];
        if (!eq) {
            rc = hl_error_set(HL_EINVAL, "%s: '%.*s' is not key=value", m->name, (int)len, s);
            goto fail;
        }
        int i = find_param(m, s, (size_t)(eq - s));
        if (i < 0) {
            snprintf(key, sizeof key, "%.*s", (int)(eq - s), s);
            key_list(m, keys, sizeof keys);
            rc = hl_error_set(HL_EINVAL, "%s has no parameter '%s': accepted are %s", m->name,
                              key, keys);
            goto fail;
        }
        char *text = strndup(eq + 1, len - (size_t)(eq + 1 - s));
        if (!text) {
            rc = hl_error_set(HL_ENOMEM, "cannot parse the spec of %s", m->name);
            goto fail;
        }
        rc = set_value(m, i, text, v);
        free(text);
        if (rc)
            goto fail;
        s += len + (end != NULL);
    }
    return HL_OK;
fail:
    hl_param_values_clear(v);
    return rc;
}

void hl_param_values_clear(hl_param_values *v)
{
    for (int i = 0; i < HL_MODEL_MAX_PARAMS; i++) {
        free(v->text[i]);
        v->text[i] = NULL;
    }
}

int hl_model_param_index(const hl_model *m, const char *name)
{
    return find_param(m, name, strlen(name));
}

double hl_param_num(const hl_param_values *v, const char *name)
{
    int i = find_param(v->model, name, strlen(name));
    return i < 0 ? 0 : v->num[i];
}

int hl_param_int(const hl_param_values *v, const char *name)
{
    return (int)llround(hl_param_num(v, name));
}

const char *hl_param_text(const hl_param_values *v, const char *name)
{
    int i = find_param(v->model, name, strlen(name));
    return i < 0 ? NULL : v->text[i];
}

hl_sampler *hl_model_create(const char *name, const char *spec)
{
    const hl_model *m = hl_model_find(name);
    if (!m) {
        char list[512];
        size_t used = 0;
        for (int i = 0; models[i] && used < sizeof list; i++)
            used += snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "",
                             models[i]->name);
        hl_error_set(HL_EINVAL, "unknown model '%s': accepted are %s", name ? name : "",
                     list);
        return NULL;
    }
    hl_param_values v;
    if (hl_model_parse(m, spec, &v))
        return NULL;
    hl_sampler *s = m->create(&v);
    hl_param_values_clear(&v);
    return s;
}

int hl_param_format(const hl_param_values *v, int i, char *buf, size_t size)
{
    const hl_param_spec *p = &v->model->params[i];
    switch (p->type) {
    case HL_PARAM_TEXT:
        return snprintf(buf, size, "%s", v->text[i] ? v->text[i] : "");
    case HL_PARAM_CHOICE: {
        /* the index-th word of the choices */
        const char *c = p->choices;
        for (int k = 0; k < (int)v->num[i] && c; k++) {
            c = strchr(c, '|');
            c = c ? c + 1 : NULL;
        }
        if (!c)
            return snprintf(buf, size, "?");
        const char *end = strchr(c, '|');
        return snprintf(buf, size, "%.*s", end ? (int)(end - c) : (int)strlen(c), c);
    }
    case HL_PARAM_INT:
        return snprintf(buf, size, "%lld", (long long)llround(v->num[i]));
    case HL_PARAM_REAL:
        return snprintf(buf, size, "%.17g", v->num[i]);
    }
    return snprintf(buf, size, "?");
}

int hl_model_spec(const hl_param_values *v, char *buf, size_t size)
{
    size_t used = 0;
    if (size)
        buf[0] = 0;
    for (int i = 0; i < v->model->n_params; i++) {
        char value[512];
        hl_param_format(v, i, value, sizeof value);
        int w = snprintf(buf + used, used < size ? size - used : 0, "%s%s=%s", i ? "," : "",
                         v->model->params[i].name, value);
        used += w > 0 ? (size_t)w : 0;
    }
    return used < size ? HL_OK
                       : hl_error_set(HL_EINVAL, "the spec of %s needs more than %zu bytes",
                                      v->model->name, size);
}

/* "name" or "name:spec" -> the model, and the spec part. */
static const hl_model *split_text(const char *text, const char **spec)
{
    char name[64];
    const char *colon = text ? strchr(text, ':') : NULL;
    size_t len = colon ? (size_t)(colon - text) : (text ? strlen(text) : 0);
    snprintf(name, sizeof name, "%.*s", (int)(len < sizeof name ? len : sizeof name - 1),
             text ? text : "");
    *spec = colon ? colon + 1 : "";
    const hl_model *m = hl_model_find(name);
    if (!m)
        hl_sampler_free(hl_model_create(name, "")); /* the message that lists the models */
    return m;
}

hl_sampler *hl_model_new(const char *text)
{
    const char *spec;
    const hl_model *m = split_text(text, &spec);
    return m ? hl_model_create(m->name, spec) : NULL;
}

void hl_model_image_shape(const hl_param_values *v, size_t D, int *dim, int *L)
{
    if (hl_model_param_index(v->model, "dim") >= 0) {
        *dim = hl_param_int(v, "dim");
        *L = *dim == 1 ? (int)D : (int)lround(sqrt((double)D));
        return;
    }
    int side = (int)lround(sqrt((double)D));
    if ((size_t)side * side == D && side > 1) {
        *dim = 2;
        *L = side;
    } else {
        *dim = 1;
        *L = (int)D;
    }
}

int hl_model_shape(const char *text, int *dim, int *L)
{
    const char *spec;
    const hl_model *m = split_text(text, &spec);
    size_t D;
    hl_param_values v;
    int rc;
    if (!m)
        return HL_EINVAL;
    if ((rc = hl_model_dim(text, &D)) || (rc = hl_model_parse(m, spec, &v)))
        return rc;
    hl_model_image_shape(&v, D, dim, L);
    hl_param_values_clear(&v);
    return HL_OK;
}

int hl_model_dim(const char *text, size_t *D)
{
    const char *spec;
    const hl_model *m = split_text(text, &spec);
    if (!m)
        return HL_EINVAL;
    hl_param_values v;
    int rc = hl_model_parse(m, spec, &v);
    if (rc)
        return rc;
    /* The model's own answer, else from the parameters where they say it, else build
     * the sampler and ask it. */
    if (m->dimension) {
        *D = m->dimension(&v);
    } else if (hl_model_param_index(m, "dim") >= 0 && hl_model_param_index(m, "L") >= 0) {
        size_t L = (size_t)hl_param_int(&v, "L");
        *D = hl_param_int(&v, "dim") == 1 ? L : L * L;
    } else if (hl_model_param_index(m, "d") >= 0) {
        *D = (size_t)hl_param_int(&v, "d");
    } else if (hl_model_param_index(m, "size") >= 0) {
        *D = (size_t)hl_param_int(&v, "size") * (size_t)hl_param_int(&v, "size");
    } else {
        hl_sampler *s = m->create(&v);
        if (!s)
            rc = HL_EINVAL;
        else
            *D = hl_sampler_dim(s);
        hl_sampler_free(s);
    }
    hl_param_values_clear(&v);
    return rc;
}
