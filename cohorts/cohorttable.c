/*
 * cohorttable: the manifest part of the cohort table (see cohorttable.h).
 */
#include "cohorttable.h"

#include <stdlib.h>

#include "util/hs_parse.h"

size_t hs_cohorttable_ncol(const hs_manifest *m)
{
    return HS_MF_NREQ + m->ncov;
}

const char *hs_cohorttable_name(const hs_manifest *m, size_t j)
{
    return j < HS_MF_NREQ ? hs_manifest_required[j] : m->cov_name[j - HS_MF_NREQ];
}

/* x in its shortest form that reads back to the same double ("35.97", not 35.969999...). */
static const char *input_number(double x, char *buf, size_t size)
{
    snprintf(buf, size, "%.15g", x);
    if (strtod(buf, NULL) != x)
        snprintf(buf, size, "%.17g", x);
    return buf;
}

const char *hs_cohorttable_field(const hs_manifest *m, size_t i, size_t j, char *buf, size_t size)
{
    const hs_manifest_patient *p = &m->patient[i];
    switch (j) {
    case HS_MF_PATIENT: return p->patient_id;
    case HS_MF_SLIDE: return p->slide;
    case HS_MF_DFS_TIME: return input_number(p->dfs_time, buf, size);
    case HS_MF_DFS_EVENT: snprintf(buf, size, "%d", p->dfs_event); return buf;
    case HS_MF_OS_TIME: return input_number(p->os_time, buf, size);
    case HS_MF_OS_EVENT: snprintf(buf, size, "%d", p->os_event); return buf;
    default: return p->cov[j - HS_MF_NREQ] ? p->cov[j - HS_MF_NREQ] : "NA";
    }
}

void hs_cohorttable_header(FILE *f, const hs_manifest *m)
{
    for (size_t j = 0; j < hs_cohorttable_ncol(m); j++) {
        if (j)
            fputc(',', f);
        hs_fprint_field(f, hs_cohorttable_name(m, j));
    }
}

void hs_cohorttable_row(FILE *f, const hs_manifest *m, size_t i)
{
    char buf[64];
    for (size_t j = 0; j < hs_cohorttable_ncol(m); j++) {
        if (j)
            fputc(',', f);
        hs_fprint_field(f, hs_cohorttable_field(m, i, j, buf, sizeof buf));
    }
}
