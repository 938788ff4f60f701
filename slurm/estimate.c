/*
 * estimate: the cost of a cohort run and the Slurm request that fits it (see estimate.h).
 */
#include "estimate.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scoring/measured.h"
#include "scoring/slide.h"

/* Megapixels of the level of path that is scored at target_mpp; -1 when the slide cannot be opened. */
static double slide_mpx(const char *path, double target_mpp, double mpp_override)
{
    hs_slide *s = NULL;
    hs_error e;
    if (hs_slide_open(&s, path, mpp_override, &e) != HS_OK)
        return -1;
    int level = hs_slide_best_level(s, target_mpp);
    int64_t w = 0, h = 0;
    double ds = 1;
    double mpx = hs_slide_level(s, level, &w, &h, &ds) == HS_OK ? (double)w * (double)h / 1e6 : -1;
    hs_slide_close(s);
    return mpx;
}

int hs_estimate_slides(const char *const *paths, size_t n, double target_mpp, double mpp_override, size_t sample,
                       hs_estimate *e, hs_error *err)
{
    memset(e, 0, sizeof *e);
    e->nslides = n;
    size_t take = n < sample || sample == 0 ? n : sample;
    double mpx = 0, cpu = 0;
    for (size_t k = 0; k < take; k++) {
        size_t i = take == n ? k : (size_t)((double)k * (double)n / (double)take);
        double m = hs_measured_is_qupath(paths[i]) ? 0 : slide_mpx(paths[i], target_mpp, mpp_override);
        e->nread++;
        if (m < 0) {
            e->nunreadable++;
            m = 0;
        }
        double c = HS_EST_CPU_S_PER_SLIDE + m * HS_EST_CPU_S_PER_MPX;
        mpx += m;
        cpu += c;
        if (m > e->mpx_max)
            e->mpx_max = m;
        if (c > e->cpu_s_max)
            e->cpu_s_max = c;
    }
    double scale = take ? (double)n / (double)take : 0;
    e->mpx_total = mpx * scale;
    e->cpu_s = cpu * scale;
    (void)err;
    return HS_OK;
}

void hs_estimate_request(const hs_estimate *e, int *ntasks, long *time_s)
{
    const double margin = 1.5, fixed = 600, hour = 3600;
    int cap = e->nslides > 0 ? (e->nslides < 100000 ? (int)e->nslides : 100000) : 1;
    if (*ntasks <= 0 && *time_s > 0) {
        /* as many tasks as the time needs */
        double room = (double)*time_s - fixed - margin * e->cpu_s_max;
        double t = room > 60 ? ceil(margin * e->cpu_s / room) : cap;
        *ntasks = t < 1 ? 1 : t > cap ? cap : (int)t;
    } else if (*ntasks <= 0) {
        double t = ceil(margin * e->cpu_s / hour);
        *ntasks = t < 1 ? 1 : t > cap ? cap : (int)t;
    }
    if (*time_s <= 0) {
        double s = margin * (e->cpu_s / *ntasks + e->cpu_s_max) + fixed;
        *time_s = (long)(ceil(s / 60) * 60);
    }
}

void hs_estimate_time_text(long s, char *buf, size_t size)
{
    long d = s / 86400, h = s % 86400 / 3600, m = s % 3600 / 60, sec = s % 60;
    if (d)
        snprintf(buf, size, "%ld-%02ld:%02ld:%02ld", d, h, m, sec);
    else
        snprintf(buf, size, "%02ld:%02ld:%02ld", h, m, sec);
}

long hs_estimate_time_parse(const char *s)
{
    long d = 0, v[3];
    int n = 0;
    const char *p = s;
    const char *dash = strchr(s, '-');
    char *end;
    if (dash) {
        d = strtol(s, &end, 10);
        if (end != dash || d < 0)
            return -1;
        p = dash + 1;
    }
    while (n < 3) {
        if (*p < '0' || *p > '9')
            return -1;
        v[n++] = strtol(p, &end, 10);
        if (*end == '\0')
            break;
        if (*end != ':')
            return -1;
        p = end + 1;
    }
    if (*end != '\0')
        return -1;
    long secs;
    if (dash) /* D-HH, D-HH:MM, D-HH:MM:SS */
        secs = v[0] * 3600 + (n > 1 ? v[1] * 60 : 0) + (n > 2 ? v[2] : 0);
    else if (n == 1) /* MM */
        secs = v[0] * 60;
    else if (n == 2) /* MM:SS */
        secs = v[0] * 60 + v[1];
    else /* HH:MM:SS */
        secs = v[0] * 3600 + v[1] * 60 + v[2];
    return d * 86400 + secs;
}
