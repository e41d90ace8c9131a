/* replay.c — runs the fuzz targets' code on files, without libFuzzer: every seed input
 * (corpus/TARGET/) and every input that once crashed (regressions/TARGET/) goes through
 * the experiment-file target and the flag-parser target. ctest runs it in the normal
 * build, so a regression is caught without clang; a crash or a broken promise aborts.
 *
 * usage: fuzz_replay DIR...   (each DIR holds experiment/ and cli_args/ folders) */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int fuzz_experiment_input(const uint8_t *data, size_t size);
int fuzz_cli_args_input(const uint8_t *data, size_t size);

static const struct {
    const char *name;
    int (*run)(const uint8_t *, size_t);
} targets[] = {{"experiment", fuzz_experiment_input}, {"cli_args", fuzz_cli_args_input}};

static FILE *report;

/* Read a whole file; NULL on failure. */
static uint8_t *slurp(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    uint8_t *buf = NULL;
    long n = fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
    if (n >= 0 && fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)n + 1)) &&
        fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    *size = (size_t)n;
    return buf;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every regular file of dir/target, in name order; the count, or -1 on a read error. */
static int replay_dir(const char *dir, int t)
{
    char folder[4096];
    snprintf(folder, sizeof folder, "%s/%s", dir, targets[t].name);
    DIR *d = opendir(folder);
    if (!d)
        return 0; /* no inputs for this target here */
    char *names[4096];
    int n = 0;
    for (struct dirent *de; (de = readdir(d)) && n < 4096;)
        if (de->d_name[0] != '.')
            names[n++] = strdup(de->d_name);
    closedir(d);
    qsort(names, n, sizeof *names, compare_names);
    int count = 0;
    for (int i = 0; i < n; i++) {
        char path[8192];
        size_t size;
        snprintf(path, sizeof path, "%s/%s", folder, names[i]);
        uint8_t *data = slurp(path, &size);
        if (!data) {
            fprintf(report, "fuzz_replay: cannot read %s\n", path);
            count = -1;
            break;
        }
        fprintf(report, "%s: %s\n", targets[t].name, path); /* names a crashing input */
        fflush(report);
        targets[t].run(data, size);
        free(data);
        count++;
    }
    for (int i = 0; i < n; i++)
        free(names[i]);
    return count;
}

int main(int argc, char **argv)
{
    /* The --help texts the flag target prints are noise here; its error messages stay
     * on stderr, so that the last lines before a failure say what broke. */
    report = fdopen(dup(STDOUT_FILENO), "w");
    if (!report || !freopen("/dev/null", "w", stdout))
        return 1;
    int total = 0;
    for (int a = 1; a < argc; a++)
        for (int t = 0; t < 2; t++) {
            int n = replay_dir(argv[a], t);
            if (n < 0)
                return 1;
            total += n;
        }
    fprintf(report, "fuzz_replay: %d inputs replayed, no crash\n", total);
    return total > 0 ? 0 : 1;
}
