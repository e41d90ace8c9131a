/* plot_page.c — the page machinery of every figure (see plot_impl.h): each page is
 * drawn once per output device (pngcairo, then svgcairo) on a private PLplot stream
 * into a temporary file that is renamed over BASE.png/.svg, so a reader never sees a
 * half-written figure.
 *
 * Every figure gets a fresh stream from plmkstrm() that plend1() frees, and the
 * stream that was current before is made current again afterwards, so repeated
 * calls in one process are fine. Not thread-safe (PLplot's globals). */
#define _POSIX_C_SOURCE 200809L
#include "plot_impl.h"

#include "hoclab/error.h"

#include <plplot/plplot.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PAGE_DPI 96.0
#define TEXT_MM 6.5   /* base character height; PLplot's default grows with the page */
#define TICK_MM 2.5   /* major tick length, likewise */

/* ---------------------------------------------------------------- output -- */

/* PLplot's default is a black background with red ink: white and black first,
 * then the figure's own colours. */
static void set_palette(const hl_plot_page *page)
{
    enum { N = HL_PLOT_N_FIXED + HL_PLOT_MAX_COLOURS };
    static const hl_plot_colour fixed[HL_PLOT_N_FIXED] = {
        {255, 255, 255, 1.0}, {0, 0, 0, 1.0}, {110, 110, 110, 1.0}, {225, 225, 225, 1.0}};
    PLINT r[N], g[N], b[N];
    PLFLT a[N];
    int n = HL_PLOT_N_FIXED + page->n_colours;
    for (int i = 0; i < n; i++) {
        const hl_plot_colour *c =
            i < HL_PLOT_N_FIXED ? &fixed[i] : &page->colours[i - HL_PLOT_N_FIXED];
        r[i] = c->r, g[i] = c->g, b[i] = c->b, a[i] = c->alpha;
    }
    plscmap0a(r, g, b, a, n);
}

/* PLplot asks on stdin for a device it does not know and then exit()s, so the
 * cairo drivers are looked up before any stream is opened. */
static int check_drivers(void)
{
    static const char *const need[] = {"pngcairo", "svgcairo"};
    const char *menu_buf[128], *dev_buf[128];
    const char **menu = menu_buf, **devs = dev_buf;
    int n = 128;
    plgFileDevs(&menu, &devs, &n);
    for (int k = 0; k < 2; k++) {
        int found = 0;
        for (int i = 0; i < n && !found; i++) found = strcmp(devs[i], need[k]) == 0;
        if (!found)
            return hl_error_set(HL_EIO, "PLplot device %s is not available "
                                "(install the PLplot cairo driver)", need[k]);
    }
    return HL_OK;
}

/* An unwritable folder must be an error here: PLplot would exit() on it. */
int hl_plot_check_output(const char *base)
{
    if (!base || !*base || base[strlen(base) - 1] == '/')
        return hl_error_set(HL_EINVAL, "base is %s; expected a file path without extension",
                            base ? (*base ? "a folder" : "empty") : "NULL");
    char dir[PATH_MAX];
    const char *slash = strrchr(base, '/');
    if (!slash)
        strcpy(dir, ".");
    else if (slash == base)
        strcpy(dir, "/");
    else if ((size_t)(slash - base) >= sizeof dir)
        return hl_error_set(HL_EINVAL, "base path is too long (%zu characters)", strlen(base));
    else
        memcpy(dir, base, (size_t)(slash - base)), dir[slash - base] = '\0';
    if (access(dir, W_OK | X_OK) != 0)
        return hl_error_set(HL_EIO, "cannot write figure %s.png: folder %s: %s", base, dir,
                            strerror(errno));
    return check_drivers();
}

/* Draw one page on a fresh stream; PLplot's non-fatal errors (plabort) land in
 * *failed and msg instead of on stderr. */
static void draw_page(const char *dev, const char *file, const hl_plot_page *page,
                      PLINT *failed, char *msg)
{
    PLINT prev, strm;
    plgstrm(&prev);
    plmkstrm(&strm);
    if (strm < 0) {
        *failed = 1;
        strcpy(msg, "no free PLplot stream");
        return;
    }
    plsError(failed, msg);
    plsdev(dev);
    plsfnam(file);
    plspage(PAGE_DPI, PAGE_DPI, page->width, page->height, 0, 0);
    set_palette(page);
    plinit();
    plschr(TEXT_MM, 1.0);
    plsmaj(TICK_MM, 1.0);
    plsmin(0.5 * TICK_MM, 1.0);
    pladv(0);
    page->draw(page->ctx);
    plend1();   /* writes and closes the file, frees the stream */
    plsstrm(prev);
}

static int render_file(const char *base, const char *dev, const char *ext,
                       const hl_plot_page *page)
{
    char path[PATH_MAX], tmp[PATH_MAX + 48], msg[1024] = "";
    if ((size_t)snprintf(path, sizeof path, "%s%s", base, ext) >= sizeof path)
        return hl_error_set(HL_EINVAL, "base path is too long (%zu characters)", strlen(base));

    /* open(O_EXCL) rather than mkstemp(): the figure keeps the umask's permissions
     * instead of mkstemp's 0600, and the name stays unique per process. */
    int fd = -1;
    for (unsigned k = 0; fd < 0 && k < 100; k++) {
        snprintf(tmp, sizeof tmp, "%s.tmp%ld_%u", path, (long)getpid(), k);
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd < 0 && errno != EEXIST) break;
    }
    if (fd < 0)
        return hl_error_set(HL_EIO, "cannot write figure %s: %s", path, strerror(errno));
    close(fd);

    PLINT failed = 0;
    draw_page(dev, tmp, page, &failed, msg);
    struct stat st;
    if (failed || stat(tmp, &st) != 0 || st.st_size == 0) {
        unlink(tmp);
        msg[strcspn(msg, "\n")] = '\0';
        return hl_error_set(HL_EIO, "cannot write figure %s: PLplot %s", path,
                            failed ? msg : "wrote nothing");
    }
    if (rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return hl_error_set(HL_EIO, "cannot write figure %s: rename: %s", path, strerror(e));
    }
    return HL_OK;
}

int hl_plot_render(const char *base, const hl_plot_page *page)
{
    if (page->n_colours < 0 || page->n_colours > HL_PLOT_MAX_COLOURS)
        return hl_error_set(HL_EINVAL, "n_colours = %d, must be 0..%d", page->n_colours,
                            HL_PLOT_MAX_COLOURS);
    int rc = hl_plot_check_output(base);
    if (rc == HL_OK) rc = render_file(base, "pngcairo", ".png", page);
    if (rc == HL_OK) rc = render_file(base, "svgcairo", ".svg", page);
    return rc;
}

/* -------------------------------------------------------------- colours -- */

void hl_plot_set_cmap1(int diverging)
{
    static const PLFLT pos5[] = {0.0, 0.25, 0.5, 0.75, 1.0};
    static const PLFLT r5[] = {0.020, 0.573, 0.969, 0.957, 0.698};
    static const PLFLT g5[] = {0.188, 0.773, 0.969, 0.647, 0.094};
    static const PLFLT b5[] = {0.380, 0.871, 0.969, 0.510, 0.169};
    static const PLFLT pos2[] = {0.0, 1.0}, k2[] = {0.0, 1.0};
    plscmap1n(256);
    if (diverging)
        plscmap1l(1, 5, pos5, r5, g5, b5, NULL);
    else
        plscmap1l(1, 2, pos2, k2, k2, k2, NULL);
}

void hl_plot_colour_bar(double lo, double hi, const char *label, double width, double height,
                        double nticks)
{
    double step = hl_plot_nice_step((hi - lo) / nticks);
    for (int i = 0; i < 8 && floor(hi / step) - ceil(lo / step) < 2.0; i++)
        step = hl_plot_nice_step(0.39 * step);   /* next smaller: at least three labels */
    PLFLT vals[2] = {lo, hi}, w, h, ticks[1] = {step};
    const PLFLT *values[1] = {vals};
    PLINT n_values[1] = {2}, sub[1] = {0}, label_opt[1] = {PL_COLORBAR_LABEL_TOP};
    const char *axis[1] = {"bcvtm"}, *labels[1] = {label};
    plcolorbar(&w, &h, PL_COLORBAR_GRADIENT,
               PL_POSITION_RIGHT | PL_POSITION_OUTSIDE | PL_POSITION_VIEWPORT,
               0.03, 0.0, width, height, HL_PLOT_BG, HL_PLOT_INK, 1, 0.0, 0.0, HL_PLOT_INK,
               1.0, 1, label_opt, labels, 1, axis, ticks, sub, n_values, values);
}

/* ----------------------------------------------------------------- axes -- */

void hl_plot_pad_range(double *lo, double *hi, double frac)
{
    if (!(*lo <= *hi)) *lo = 0.0, *hi = 1.0;   /* no finite data */
    double span = *hi - *lo;
    if (span <= 1e-12 * (fabs(*lo) + fabs(*hi))) {
        span = *hi != 0.0 ? fabs(*hi) : 1.0;
        *lo -= 0.5 * span, *hi += 0.5 * span;
    } else {
        *lo -= frac * span, *hi += frac * span;
    }
}

/* PLplot labels a spacing of 2.5 as "3": it takes the label precision from the
 * spacing's magnitude, hence no 2.5. */
double hl_plot_nice_step(double x)
{
    double e = pow(10.0, floor(log10(x))), f = x / e;
    return (f <= 1.0 ? 1.0 : f <= 2.0 ? 2.0 : f <= 5.0 ? 5.0 : 10.0) * e;
}

void hl_plot_line_finite(int n, const double *x, const double *y)
{
    for (int i = 0; i < n;) {
        while (i < n && !(isfinite(x[i]) && isfinite(y[i]))) i++;
        int j = i;
        while (j < n && isfinite(x[j]) && isfinite(y[j])) j++;
        if (j - i == 1) plstring(1, &x[i], &y[i], "\xe2\x80\xa2");   /* a bullet */
        else if (j - i > 1) plline(j - i, &x[i], &y[i]);
        i = j;
    }
}
