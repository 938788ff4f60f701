/*
 * batchcal: per-batch calibration of the membrane DAB cuts (see batchcal.h).
 */
#include "batchcal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct batch {
    char *name;
    size_t nslide;
    hs_calib_hist *hist;    /* the batch's slides */
    hs_calib_hist *ctl[4];  /* its control areas by class */
    hs_leak_hist *leak_hist;
    double leak;
    char leak_note[160];
    hs_calib_cuts cuts;
    int ok;                 /* cuts chosen */
    char why[HS_ERROR_MSG_MAX];
} batch;

struct hs_batchcal {
    batch *b;
    size_t n, cap;
};

hs_batchcal *hs_batchcal_alloc(void)
{
    return calloc(1, sizeof(hs_batchcal));
}

void hs_batchcal_free(hs_batchcal *b)
{
    if (!b)
        return;
    for (size_t i = 0; i < b->n; i++) {
        free(b->b[i].name);
        free(b->b[i].hist);
        free(b->b[i].leak_hist);
        for (int k = 0; k < 4; k++)
            free(b->b[i].ctl[k]);
    }
    free(b->b);
    free(b);
}

int hs_batchcal_index(hs_batchcal *b, const char *name)
{
    for (size_t i = 0; i < b->n; i++)
        if (!strcmp(b->b[i].name, name))
            return (int)i;
    if (b->n == b->cap) {
        size_t cap = b->cap ? 2 * b->cap : 8;
        batch *p = realloc(b->b, cap * sizeof *p);
        if (!p)
            return -1;
        b->b = p;
        b->cap = cap;
    }
    batch *t = &b->b[b->n];
    memset(t, 0, sizeof *t);
    if (!(t->name = strdup(name)))
        return -1;
    return (int)b->n++;
}

size_t hs_batchcal_count(const hs_batchcal *b)
{
    return b->n;
}

const char *hs_batchcal_name(const hs_batchcal *b, int i)
{
    return b->b[i].name;
}

size_t hs_batchcal_slides(const hs_batchcal *b, int i)
{
    return b->b[i].nslide;
}

void hs_batchcal_set_slides(hs_batchcal *b, int i, size_t n)
{
    b->b[i].nslide = n;
}

hs_calib_hist *hs_batchcal_hist(hs_batchcal *b, int i, int which)
{
    batch *t = &b->b[i];
    hs_calib_hist **h = which < 0 ? &t->hist : &t->ctl[which & 3];
    if (!*h)
        *h = calloc(1, sizeof **h);
    return *h;
}

hs_leak_hist *hs_batchcal_leak_hist(hs_batchcal *b, int i)
{
    batch *t = &b->b[i];
    if (!t->leak_hist)
        t->leak_hist = calloc(1, sizeof *t->leak_hist);
    return t->leak_hist;
}

int hs_batchcal_add_leak(hs_batchcal *b, int i, const hs_cellstore *cells, hs_error *err)
{
    hs_leak_hist *h = hs_batchcal_leak_hist(b, i);
    if (!h)
        return hs_error_set(err, HS_ENOMEM, "out of memory");
    return hs_leak_hist_add_store(h, cells, err);
}

void hs_batchcal_choose_leak(hs_batchcal *b)
{
    for (size_t i = 0; i < b->n; i++) {
        batch *t = &b->b[i];
        t->leak = 0;
        snprintf(t->leak_note, sizeof t->leak_note, "no slides: leak 0");
        if (t->leak_hist)
            t->leak = hs_leak_estimate(t->leak_hist, t->leak_note, sizeof t->leak_note);
    }
}

double hs_batchcal_leak(const hs_batchcal *b, int i, const char **note)
{
    if (note)
        *note = b->b[i].leak_note;
    return b->b[i].leak;
}

int hs_batchcal_add_slide(hs_batchcal *b, int i, const hs_cellstore *cells, double complete, hs_error *err)
{
    hs_calib_hist *h = hs_batchcal_hist(b, i, -1);
    if (!h)
        return hs_error_set(err, HS_ENOMEM, "out of memory");
    b->b[i].nslide++;
    return hs_calib_hist_add_store(h, cells, complete, NULL, b->b[i].leak, err);
}

int hs_batchcal_add_control(hs_batchcal *b, int i, hs_class k, const hs_cellstore *cells, const double rect[4],
                            double complete, hs_error *err)
{
    hs_calib_hist *h = hs_batchcal_hist(b, i, (int)k);
    if (!h)
        return hs_error_set(err, HS_ENOMEM, "out of memory");
    return hs_calib_hist_add_store(h, cells, complete, rect, b->b[i].leak, err);
}

static int has_controls(const batch *t)
{
    for (int k = 0; k < 4; k++)
        if (!t->ctl[k] || !t->ctl[k]->cells)
            return 0;
    return 1;
}

void hs_batchcal_choose(hs_batchcal *b, hs_calib_mode mode, const double fixed[3], double complete)
{
    static const hs_calib_hist empty;
    for (size_t i = 0; i < b->n; i++) {
        batch *t = &b->b[i];
        t->ok = 1;
        t->why[0] = '\0';
        hs_error err;
        int ctl_ok = 0;
        if (mode == HS_CALIB_CONTROLS || mode == HS_CALIB_AUTO) {
            if (!has_controls(t)) {
                snprintf(t->why, sizeof t->why, "batch '%.200s' has no control areas of all four classes", t->name);
            } else {
                const hs_calib_hist *k[4] = {t->ctl[0], t->ctl[1], t->ctl[2], t->ctl[3]};
                if (hs_calib_controls(k, complete, &t->cuts, &err) == HS_OK)
                    ctl_ok = 1;
                else
                    snprintf(t->why, sizeof t->why, "batch '%.200s': controls unusable: %.700s", t->name, err.msg);
            }
        }
        if (ctl_ok)
            continue;
        if (mode == HS_CALIB_CONTROLS) {
            t->ok = 0;
        } else if (mode == HS_CALIB_FIXED) {
            hs_calib_fixed(fixed, &t->cuts);
        } else {
            hs_calib_cohort(t->hist ? t->hist : &empty, fixed, complete, &t->cuts);
            if (mode == HS_CALIB_AUTO && t->why[0]) {
                size_t len = strlen(t->cuts.note);
                snprintf(t->cuts.note + len, sizeof t->cuts.note - len, "; no controls used");
            }
        }
    }
}

const hs_calib_cuts *hs_batchcal_cuts(const hs_batchcal *b, int i, const char **why)
{
    const batch *t = &b->b[i];
    if (why)
        *why = t->why;
    return t->ok ? &t->cuts : NULL;
}
