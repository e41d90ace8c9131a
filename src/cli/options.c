/* options.c — flag parsing, range checks and --help from one table per command. */
#include "options.h"

#include "hoclab/data.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *choice_name(const char *choices, int index, char *buf, size_t size)
{
    const char *p = choices;
    for (int i = 0; i < index && p; i++)
        p = (p = strchr(p, '|')) ? p + 1 : NULL;
    if (!p)
        return "?";
    const char *bar = strchr(p, '|');
    size_t len = bar ? (size_t)(bar - p) : strlen(p);
    snprintf(buf, size, "%.*s", (int)(len < size ? len : size - 1), p);
    return buf;
}

static void describe_range(const opt_spec *s, char *buf, size_t size)
{
    switch (s->type) {
    case OPT_INT: snprintf(buf, size, "%.0f..%.0f", s->min, s->max); break;
    case OPT_DOUBLE:
        if (isinf(s->max))
            snprintf(buf, size, "%s %g", s->open_min ? ">" : ">=", s->min);
        else
            snprintf(buf, size, "%g%s..%g", s->min, s->open_min ? " (exclusive)" : "", s->max);
        break;
    case OPT_U64: snprintf(buf, size, "0..18446744073709551615"); break;
    case OPT_CHOICE: snprintf(buf, size, "%s", s->choices); break;
    case OPT_STRING: snprintf(buf, size, "a non-empty string"); break;
    case OPT_FLAG: snprintf(buf, size, "no value"); break;
    case OPT_LIST:
        snprintf(buf, size, "%.0f to %.0f comma-separated numbers, each > %g", s->min, s->max,
                 s->item_min);
        break;
    }
}

static int fail(const char *cmd, const opt_spec *s, const char *value, const char *why)
{
    char range[160];
    describe_range(s, range, sizeof range);
    fprintf(stderr, "hoclab %s: --%s %s: %s; accepted: %s\n", cmd, s->name, value, why, range);
    return 2;
}

static int parse_double(const char *v, double *out)
{
    char *end;
    errno = 0;
    *out = strtod(v, &end);
    return *v && !*end && errno == 0 && isfinite(*out);
}

static int set_value(const char *cmd, const opt_spec *s, const char *v)
{
    double d;
    switch (s->type) {
    case OPT_INT:
    case OPT_DOUBLE:
        if (!parse_double(v, &d))
            return fail(cmd, s, v, "not a number");
        if (s->type == OPT_INT && d != floor(d))
            return fail(cmd, s, v, "not an integer");
        if (d < s->min || d > s->max || (s->open_min && d == s->min))
            return fail(cmd, s, v, "out of range");
        if (s->type == OPT_INT)
            *(int *)s->target = (int)d;
        else
            *(double *)s->target = d;
        return 0;
    case OPT_U64: {
        char *end;
        errno = 0;
        unsigned long long u = strtoull(v, &end, 10);
        if (!isdigit((unsigned char)*v) || *end || errno)
            return fail(cmd, s, v, "not a non-negative integer");
        *(uint64_t *)s->target = u;
        return 0;
    }
    case OPT_CHOICE: {
        int i = hl_choice_index(s->choices, v);
        if (i < 0)
            return fail(cmd, s, v, "unknown name");
        *(int *)s->target = i;
        return 0;
    }
    case OPT_STRING:
        if (!*v)
            return fail(cmd, s, "''", "empty");
        *(const char **)s->target = v;
        return 0;
    case OPT_FLAG:
        *(int *)s->target = 1;
        return 0;
    case OPT_LIST: {
        double *out = s->target;
        int n = 0;
        const char *p = v;
        char item[64];
        if (!*v)
            return fail(cmd, s, "''", "empty");
        while (*p) {
            size_t len = strcspn(p, ",");
            if (len == 0 || len >= sizeof item || n >= (int)s->max)
                return fail(cmd, s, v, len ? "too many or too long items" : "empty item");
            memcpy(item, p, len);
            item[len] = 0;
            if (!parse_double(item, &out[n]))
                return fail(cmd, s, v, "an item is not a number");
            if (!(out[n] > s->item_min))
                return fail(cmd, s, v, "an item is out of range");
            n++;
            p += len + (p[len] == ',');
        }
        if (v[strlen(v) - 1] == ',')
            return fail(cmd, s, v, "trailing comma");
        if (n < (int)s->min)
            return fail(cmd, s, v, "too few items");
        *s->count = n;
        return 0;
    }
    }
    return 2;
}

int opt_parse(const char *cmd, const opt_spec *specs, int n_specs, int argc, char **argv,
              int first, const char **pos, int max_pos, int *n_pos)
{
    *n_pos = 0;
    for (int i = first; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)
            return 1;
        if (strncmp(a, "--", 2) != 0) {
            if (*n_pos >= max_pos) {
                fprintf(stderr, "hoclab %s: unexpected argument '%s' (see hoclab %s --help)\n",
                        cmd, a, cmd);
                return 2;
            }
            pos[(*n_pos)++] = a;
            continue;
        }
        /* --name value or --name=value */
        char name[64];
        const char *eq = strchr(a + 2, '='), *value = NULL;
        size_t len = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
        snprintf(name, sizeof name, "%.*s", (int)(len < sizeof name ? len : sizeof name - 1),
                 a + 2);
        const opt_spec *s = NULL;
        for (int j = 0; j < n_specs && !s; j++)
            if (strcmp(specs[j].name, name) == 0)
                s = &specs[j];
        if (!s) {
            fprintf(stderr, "hoclab %s: unknown option --%s (see hoclab %s --help)\n", cmd,
                    name, cmd);
            return 2;
        }
        if (s->type == OPT_FLAG) {
            if (eq) {
                fprintf(stderr, "hoclab %s: --%s takes no value\n", cmd, name);
                return 2;
            }
        } else if (eq) {
            value = eq + 1;
        } else if (i + 1 < argc) {
            value = argv[++i];
        } else {
            char range[160];
            describe_range(s, range, sizeof range);
            fprintf(stderr, "hoclab %s: --%s needs a value; accepted: %s\n", cmd, name, range);
            return 2;
        }
        if (set_value(cmd, s, value))
            return 2;
    }
    return 0;
}

void opt_help(const char *cmd, const char *usage, const opt_spec *specs, int n_specs)
{
    printf("usage: hoclab %s %s\n\n", cmd, usage);
    for (int i = 0; i < n_specs; i++) {
        const opt_spec *s = &specs[i];
        char def[96] = "", range[160], buf[64];
        switch (s->type) {
        case OPT_INT: snprintf(def, sizeof def, "%d", *(int *)s->target); break;
        case OPT_DOUBLE: snprintf(def, sizeof def, "%g", *(double *)s->target); break;
        case OPT_U64:
            snprintf(def, sizeof def, "%llu", (unsigned long long)*(uint64_t *)s->target);
            break;
        case OPT_CHOICE:
            snprintf(def, sizeof def, "%s",
                     choice_name(s->choices, *(int *)s->target, buf, sizeof buf));
            break;
        case OPT_STRING: {
            const char *v = *(const char **)s->target;
            snprintf(def, sizeof def, "%s", v ? v : "(none)");
            break;
        }
        case OPT_FLAG: snprintf(def, sizeof def, "off"); break;
        case OPT_LIST: {
            const double *v = s->target;
            size_t off = 0;
            for (int j = 0; j < *s->count && off < sizeof def; j++)
                off += snprintf(def + off, sizeof def - off, "%s%g", j ? "," : "", v[j]);
            break;
        }
        }
        describe_range(s, range, sizeof range);
        printf("  --%-18s %s\n  %-20s default %s; accepted %s\n", s->name, s->help, "", def,
               range);
    }
}

void opt_command_line(int argc, char **argv, char *buf, size_t size)
{
    size_t off = 0;
    buf[0] = 0;
    for (int i = 0; i < argc && off + 1 < size; i++)
        off += snprintf(buf + off, size - off, "%s%s", i ? " " : "", argv[i]);
}
