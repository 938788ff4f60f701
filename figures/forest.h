/*
 * forest: the forest plot of a Cox model: one row per term, the levels of a
 * categorical variable grouped under its name with the reference level
 * shown, the hazard ratio and its 95% CI on a log axis, and the numbers
 * (HR, CI, p) in columns beside it.  A term flagged infinite or aliased
 * (hs_cox_coef_flag) is written as such in words and gets no marker or bar,
 * so that an absurd estimate never looks like evidence.
 *
 * The data come from the analysis result (hs_forest_from_result) or from a
 * saved cox.csv (hs_forest_load, with km.csv and fit.csv when present).
 */
#ifndef HS_FOREST_H
#define HS_FOREST_H

#include <stddef.h>

#include <cairo.h>

#include "stats/survival.h"
#include "util/hs_error.h"

/* One Cox term as cox.csv holds it. */
typedef struct hs_forest_term {
    char *name;                 /* "age" (numeric) or "VAR=level" (a level of a categorical variable) */
    double hr, lower, upper, p; /* NAN where not available */
    hs_cox_coef_flag flag;
} hs_forest_term;

/* A reference level known by name: shown as the first row of its variable. */
typedef struct hs_forest_ref {
    char *variable, *level;
} hs_forest_ref;

/* What the forest plot shows.  Everything is owned (hs_forest_data_free). */
typedef struct hs_forest_data {
    size_t nterm;
    hs_forest_term *term;       /* model order */
    size_t nref;
    hs_forest_ref *ref;         /* reference levels known by name (the group's first level) */
    double n, nevent;           /* model size for the caption; NAN when unknown */
} hs_forest_data;

/* Drawing options. */
typedef struct hs_forest_opts {
    const char *title;          /* above the plot, or NULL */
} hs_forest_opts;

void hs_forest_opts_default(hs_forest_opts *o);

/*
 * Copies the Cox terms of r (with the group's reference level).  Fails with
 * *out NULL and HS_EINVAL (NULL argument, or r has no Cox model) or HS_ENOMEM.
 */
int hs_forest_from_result(hs_forest_data **out, const hs_survival_result *r, hs_error *err) HS_RESULT_USED;

/*
 * Reads dir/cox.csv (required), dir/km.csv (the group's reference level: its
 * first curve) and dir/fit.csv (n and events), both optional.  Fails with
 * *out NULL and HS_EINVAL, HS_EIO, HS_EDATA (named FILE:LINE) or HS_ENOMEM.
 */
int hs_forest_load(hs_forest_data **out, const char *dir, hs_error *err) HS_RESULT_USED;

void hs_forest_data_free(hs_forest_data *d);

/* The figure's default size in points (width 7 in; height grows with the rows). */
void hs_forest_size(const hs_forest_data *d, const hs_forest_opts *o, double *w_pt, double *h_pt);

/* Draws the figure on cr in a w x h point box.  HS_OK, or HS_EINVAL (NULL, no term). */
int hs_forest_draw(cairo_t *cr, double w, double h, const hs_forest_data *d, const hs_forest_opts *o,
                   hs_error *err) HS_RESULT_USED;

/* Writes base.png/.pdf/.svg (formats in mask) at hs_forest_size; failures as hs_fig_write. */
int hs_forest_write(const char *base, unsigned mask, const hs_forest_data *d, const hs_forest_opts *o,
                    hs_error *err) HS_RESULT_USED;

#endif /* HS_FOREST_H */
