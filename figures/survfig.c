/*
 * survfig: an analysis's figures from its result (see survfig.h).
 */
#include "figures/survfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "figures/forest.h"

int hs_survfig_write(const hs_survival_result *r, const char *dir, unsigned mask, const hs_kmplot_opts *km,
                     const char *title, hs_error *err)
{
    if (!r || !dir)
        return hs_error_set(err, HS_EINVAL, "no result or no folder to draw");
    size_t n = strlen(dir) + 8;
    char *base = malloc(n);
    if (!base)
        return hs_error_set(err, HS_ENOMEM, "out of memory");
    hs_kmplot_opts ko;
    if (km)
        ko = *km;
    else
        hs_kmplot_opts_default(&ko);
    if (title)
        ko.title = title;
    hs_kmplot_data *kd = NULL;
    hs_forest_data *fd = NULL;
    int rc = HS_OK;
    if (r->ncurve > 0) {
        snprintf(base, n, "%s/km", dir);
        if ((rc = hs_kmplot_from_result(&kd, r, err)) == HS_OK)
            rc = hs_kmplot_write(base, mask, kd, &ko, err);
    }
    if (rc == HS_OK && r->cox && r->ncoef > 0) {
        hs_forest_opts fo;
        hs_forest_opts_default(&fo);
        fo.title = title;
        snprintf(base, n, "%s/forest", dir);
        if ((rc = hs_forest_from_result(&fd, r, err)) == HS_OK)
            rc = hs_forest_write(base, mask, fd, &fo, err);
    }
    hs_kmplot_data_free(kd);
    hs_forest_data_free(fd);
    free(base);
    return rc;
}
