/*
 * survfig: the figures of one survival analysis, drawn from its result:
 * DIR/km.* (hs_kmplot) and, with a Cox model, DIR/forest.* (hs_forest).
 * `hetsurv survival` and the cohort run call it beside hs_survival_write.
 */
#ifndef HS_SURVFIG_H
#define HS_SURVFIG_H

#include "figures/kmplot.h"
#include "stats/survival.h"
#include "util/hs_error.h"

/*
 * Writes dir/km.EXT and (when r has a Cox model with terms) dir/forest.EXT
 * for each format in mask; km drawn with options km (NULL: defaults) and
 * title (also the forest plot's; NULL: none).  Returns HS_OK or the first
 * failure (as hs_fig_write); figures already written stay.
 */
int hs_survfig_write(const hs_survival_result *r, const char *dir, unsigned mask, const hs_kmplot_opts *km,
                     const char *title, hs_error *err) HS_RESULT_USED;

#endif /* HS_SURVFIG_H */
