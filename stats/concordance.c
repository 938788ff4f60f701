/*
 * concordance: Harrell's C with R's infinitesimal-jackknife and Cox
 * variances (see concordance.h).
 *
 * The rows are sorted once by (stratum, time descending, censored first,
 * score ascending), with scores replaced by their dense rank within the
 * stratum.  Each stratum then takes two sweeps over a tree of counts indexed
 * by score rank.  Sweep 1 runs from the longest time down, the tree holding
 * the risk set: an event's comparable pairs are the rows already in it, split
 * into larger, smaller and equal scores.  The jackknife also needs, for each
 * row, its pairs as the longer-lived member; sweep 2 runs from the shortest
 * time up with a tree of the events seen so far and reads them off.  The Cox
 * variance needs, at each event time, the variance over the risk set of each
 * member's (#larger - #smaller) score; its sum of squares is kept up to date
 * in O(1) per insertion from the sweep-1 lookups.  The counts are integers
 * held in doubles, exact below 2^53; R's arithmetic for C, var and cvar is
 * followed operation by operation.
 */
#include "stats/concordance.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "stats/survorder.h"
#include "stats/timefix.h"

/*
 * Row counts over the score ranks 0..nrank-1 of one stratum: the count at
 * each rank, and a Fenwick tree over blocks of FT_BLOCK consecutive ranks
 * (one cache line of counts).  A prefix count is a walk over the block tree,
 * which is small enough to stay in cache, plus a scan of one cache line, so
 * each lookup or insertion misses the cache about once however large n is.
 * Counts fit in 32 bits (n < 2^32 is checked).
 */
#define FT_BLOCK 16u

typedef struct ftree {
    uint32_t *at;  /* count at each rank, padded to whole blocks */
    uint32_t *blk; /* 1-based Fenwick partial sums of the block totals */
    size_t nrank, nblk;
    uint32_t total;
} ftree;

/* Counts of tree rows with score rank above, below and equal to a given rank. */
typedef struct split3 {
    double greater, smaller, equal;
} split3;

static void ftree_reset(ftree *t, size_t nrank)
{
    t->nrank = nrank;
    t->nblk = (nrank + FT_BLOCK - 1) / FT_BLOCK;
    memset(t->at, 0, t->nblk * FT_BLOCK * sizeof *t->at);
    memset(t->blk, 0, (t->nblk + 1) * sizeof *t->blk);
    t->total = 0;
}

static void ftree_add(ftree *t, size_t rank)
{
    t->at[rank]++;
    t->total++;
    for (size_t k = rank / FT_BLOCK + 1; k <= t->nblk; k += k & (~k + 1))
        t->blk[k]++;
}

static split3 ftree_split(const ftree *t, size_t rank)
{
    const size_t b = rank / FT_BLOCK;
    uint32_t below = 0;
    for (size_t k = b; k > 0; k &= k - 1)
        below += t->blk[k];
    for (size_t q = b * FT_BLOCK; q < rank; q++)
        below += t->at[q];
    const uint32_t at = t->at[rank];
    split3 r;
    r.smaller = below;
    r.equal = at;
    r.greater = (double)(t->total - below - at);
    return r;
}

/* Change in sum_j (#larger_j - #smaller_j)^2 over the risk set when a row of weight 1 joins it. */
static double z2_increment(split3 s)
{
    const double g = s.greater, l = s.smaller, e = s.equal;
    return g * (1.0 + 2.0 * (l + e)) + l * (1.0 + 2.0 * (g + e)) + (g - l) * (g - l);
}

/* A row in sweep order: score rank within its stratum, merged-time rank, status. */
typedef struct srow {
    uint32_t xr, tr, status;
} srow;

typedef struct ccounts {
    double c0, c1, c2; /* survivor's score larger / smaller / equal than the event's */
    double ty, txy;    /* event pairs tied on time (all), and also on score */
    double vcox;       /* sum over events of the risk-set variance of (#larger - #smaller) */
} ccounts;

/*
 * One stratum: rows r[0..m) sorted by time descending, censored first, score
 * rank ascending.  Adds to *cc and to the influences inf[3*i+k] of row i
 * (k = 0, 1, 2: the row's pairs counted in c0, c1, c2).  t must be empty and
 * sized for the stratum's ranks; it is left dirty.
 */
static void stratum_pass(ftree *t, const srow *r, size_t m, double *inf, ccounts *cc)
{
    /*
     * Sweep 1, from the longest time down: each event's comparable pairs are
     * the rows already in the risk set (longer times, and censored rows at
     * its own time).  Events enter the risk set after the whole tied block
     * has been counted.
     */
    double z2 = 0.0;
    for (size_t i = 0; i < m;) {
        if (r[i].status == 0) {
            z2 += z2_increment(ftree_split(t, r[i].xr));
            ftree_add(t, r[i].xr);
            i++;
            continue;
        }
        size_t end = i;
        while (end < m && r[end].tr == r[i].tr)
            end++;
        double run = 0.0; /* earlier events of the block with the same score */
        for (size_t j = i; j < end; j++) {
            if (j > i && r[j].xr != r[j - 1].xr)
                run = 0.0;
            cc->ty += (double)(j - i);
            cc->txy += run;
            split3 s = ftree_split(t, r[j].xr);
            cc->c0 += s.greater;
            cc->c1 += s.smaller;
            cc->c2 += s.equal;
            inf[3 * j + 0] += s.greater;
            inf[3 * j + 1] += s.smaller;
            inf[3 * j + 2] += s.equal;
            /*
             * When it joins the risk set, the block's earlier events (lower
             * or equal rank, by the sort) have joined already.
             */
            s.smaller += (double)(j - i) - run;
            s.equal += run;
            z2 += z2_increment(s);
            run += 1.0;
        }
        for (size_t j = i; j < end; j++)
            ftree_add(t, r[j].xr);
        cc->vcox += (double)(end - i) * z2 / (double)t->total;
        i = end;
    }

    /*
     * Sweep 2, from the shortest time up, with a tree of events: a row is the
     * longer-lived member of its pairs with the events at earlier times (and
     * at its own time when it is censored).  Reversed, the sweep-1 order puts
     * a time's events before its censored rows.
     */
    ftree_reset(t, t->nrank);
    for (size_t i = m; i > 0;) {
        size_t beg = i - 1;
        while (beg > 0 && r[beg - 1].tr == r[i - 1].tr && r[beg - 1].status == r[i - 1].status)
            beg--;
        for (size_t j = beg; j < i; j++) {
            split3 s = ftree_split(t, r[j].xr);
            inf[3 * j + 0] += s.smaller;
            inf[3 * j + 1] += s.greater;
            inf[3 * j + 2] += s.equal;
        }
        if (r[i - 1].status)
            for (size_t j = beg; j < i; j++)
                ftree_add(t, r[j].xr);
        i = beg;
    }
}

/* Number of bits needed to hold the values 0..v. */
static unsigned bits_for(size_t v)
{
    unsigned b = 0;
    while (v) {
        b++;
        v >>= 1;
    }
    return b;
}

struct hs_concordance_prep {
    size_t n;
    const int *status;  /* the caller's, kept valid until hs_concordance_finish */
    size_t *sid;        /* n: dense stratum id */
    size_t *trank;      /* n: dense rank of the merged time */
    size_t nstrat, ntime;
};

void hs_concordance_prep_free(hs_concordance_prep *pr)
{
    if (!pr)
        return;
    free(pr->sid);
    free(pr->trank);
    free(pr);
}

int hs_concordance_prepare(hs_concordance_prep **out, const double *time, const int *status, const int *strata,
                           size_t n, hs_error *err)
{
    if (!out || (n > 0 && (!time || !status)))
        return hs_error_set(err, HS_EINVAL, "concordance: NULL argument");
    *out = NULL;
    if ((uint64_t)n >= UINT32_MAX)
        return hs_error_set(err, HS_EINVAL, "concordance: %zu rows is too many", n);
    for (size_t i = 0; i < n; i++) {
        if (status[i] != 0 && status[i] != 1)
            return hs_error_set(err, HS_EDATA, "concordance: status of row %zu is %d, not 0 or 1", i + 1,
                                status[i]);
        if (!isfinite(time[i]))
            return hs_error_set(err, HS_EDATA, "concordance: time of row %zu is not finite", i + 1);
    }
    int rc = HS_ENOMEM;
    const size_t n1 = n ? n : 1;
    hs_concordance_prep *pr = calloc(1, sizeof *pr);
    double *ftime = calloc(n1, sizeof *ftime); /* zeroed: keeps gcc sure it is set before the rank */
    size_t *ord = malloc(n1 * sizeof *ord);
    if (!pr || !ftime || !ord || !(pr->sid = malloc(n1 * sizeof *pr->sid)) ||
        !(pr->trank = malloc(n1 * sizeof *pr->trank))) {
        hs_error_set(err, HS_ENOMEM, "concordance: cannot allocate work space for %zu rows", n);
        goto done;
    }
    pr->n = n;
    pr->status = status;
    /* dense stratum ids (ftime is scratch: ints are exact in a double) */
    pr->nstrat = 1;
    if (strata) {
        for (size_t i = 0; i < n; i++)
            ftime[i] = (double)strata[i];
        if ((rc = hs_survorder_rank(ftime, n, ord, pr->sid, &pr->nstrat, err)) != HS_OK)
            goto done;
    } else {
        for (size_t i = 0; i < n; i++)
            pr->sid[i] = 0;
    }
    /* merged times and their dense ranks */
    pr->ntime = 0;
    if (n > 0)
        memcpy(ftime, time, n * sizeof *ftime);
    if ((rc = hs_timefix(ftime, n, err)) != HS_OK)
        goto done;
    if ((rc = hs_survorder_rank(ftime, n, ord, pr->trank, &pr->ntime, err)) != HS_OK)
        goto done;
    *out = pr;
    pr = NULL;
    rc = HS_OK;
done:
    hs_concordance_prep_free(pr);
    free(ftime);
    free(ord);
    return rc;
}

int hs_concordance_finish(hs_concordance *out, const hs_concordance_prep *pr, const double *score, int reverse,
                          hs_error *err)
{
    if (!out || !pr || (pr->n > 0 && !score))
        return hs_error_set(err, HS_EINVAL, "concordance: NULL argument");
    const size_t n = pr->n, nstrat = pr->nstrat, ntime = pr->ntime;
    const int *status = pr->status;
    const size_t *sid = pr->sid, *trank = pr->trank;
    for (size_t i = 0; i < n; i++)
        if (isnan(score[i]))
            return hs_error_set(err, HS_EDATA, "concordance: score of row %zu is missing", i + 1);

    int rc = HS_ENOMEM;
    const size_t n1 = n ? n : 1;
    size_t *xr = malloc(n1 * sizeof *xr);
    size_t *ord = malloc(n1 * sizeof *ord);
    uint64_t *key = malloc(n1 * sizeof *key);
    double *inf = calloc(3 * n1, sizeof *inf);
    srow *rows = malloc(n1 * sizeof *rows);
    ftree tree = {0};
    tree.at = aligned_alloc(64, ((n1 + FT_BLOCK - 1) / FT_BLOCK) * FT_BLOCK * sizeof *tree.at);
    tree.blk = malloc(((n1 + FT_BLOCK - 1) / FT_BLOCK + 1) * sizeof *tree.blk);
    if (!xr || !ord || !key || !inf || !rows || !tree.at || !tree.blk) {
        hs_error_set(err, HS_ENOMEM, "concordance: cannot allocate work space for %zu rows", n);
        goto done;
    }
    /* dense score ranks within each stratum; the largest is the tree size needed */
    size_t maxrank = 0;
    if ((rc = hs_survorder_rank(score, n, ord, xr, NULL, err)) != HS_OK)
        goto done;
    if (nstrat > 1) {
        for (size_t i = 0; i < n; i++)
            key[i] = sid[i];
        if ((rc = hs_survorder_stable(ord, n, key, err)) != HS_OK)
            goto done;
    }
    for (size_t i = 0, r = 0; i < n; i++) {
        const size_t row = ord[i], prev = i ? ord[i - 1] : row;
        if (i > 0 && sid[row] != sid[prev])
            r = 0;
        else if (i > 0 && xr[row] != xr[prev])
            r++;
        key[row] = r; /* xr still holds the global ranks until the loop ends */
        if (r + 1 > maxrank)
            maxrank = r + 1;
    }
    for (size_t i = 0; i < n; i++)
        xr[i] = (size_t)key[i];
    /* order: stratum, time descending, censored first, score ascending */
    const unsigned bx = bits_for(maxrank), bt = bits_for(ntime), bs = bits_for(nstrat);
    for (size_t i = 0; i < n; i++)
        ord[i] = i;
    if (bx + 1 + bt + bs <= 64) { /* one composite key */
        for (size_t i = 0; i < n; i++)
            key[i] = ((((uint64_t)sid[i] << bt | (uint64_t)(ntime - 1 - trank[i])) << 1 | (uint64_t)status[i])
                      << bx) | (uint64_t)xr[i];
        if ((rc = hs_survorder_stable(ord, n, key, err)) != HS_OK)
            goto done;
    } else { /* least significant key first */
        for (int k = 0; k < 4; k++) {
            for (size_t i = 0; i < n; i++)
                key[i] = k == 0 ? xr[i] : k == 1 ? (uint64_t)status[i] : k == 2 ? ntime - 1 - trank[i] : sid[i];
            if ((rc = hs_survorder_stable(ord, n, key, err)) != HS_OK)
                goto done;
        }
    }

    /* the rows in sweep order, packed */
    for (size_t i = 0; i < n; i++) {
        const size_t row = ord[i];
        rows[i].xr = (uint32_t)xr[row];
        rows[i].tr = (uint32_t)trank[row];
        rows[i].status = (uint32_t)status[row];
    }
    ccounts cc = {0};
    for (size_t a = 0; a < n;) {
        size_t b = a, nrank = 0;
        while (b < n && sid[ord[b]] == sid[ord[a]]) {
            if ((size_t)rows[b].xr + 1 > nrank)
                nrank = (size_t)rows[b].xr + 1;
            b++;
        }
        ftree_reset(&tree, nrank);
        stratum_pass(&tree, rows + a, b - a, inf + 3 * a, &cc);
        a = b;
    }

    const double npair = cc.c0 + cc.c1 + cc.c2;
    hs_concordance res;
    res.concordant = reverse ? cc.c1 : cc.c0;
    res.discordant = reverse ? cc.c0 : cc.c1;
    res.tied_x = cc.c2;
    res.tied_y = cc.ty - cc.txy;
    res.tied_xy = cc.txy;
    if (npair > 0) {
        /* R: dfbeta = (inf_c - inf_d)/npair - (somer/npair) * (inf_c + inf_d + inf_t); var = sum(dfbeta^2)/4 */
        const double somer = (cc.c0 - cc.c1) / npair;
        long double ss = 0.0L;
        for (size_t i = 0; i < n; i++) {
            const double *f = inf + 3 * i;
            const double dfb = (f[0] - f[1]) / npair - (somer / npair) * (f[0] + f[1] + f[2]);
            const double sq = dfb * dfb;
            ss += sq; /* R's sum() accumulates in long double (in row order; here in sweep order) */
        }
        res.c = (somer + 1.0) / 2.0;
        if (reverse)
            res.c = 1.0 - res.c;
        res.var = (double)ss / 4.0;
        res.cvar = cc.vcox / (4.0 * (npair * npair)); /* R: vcox/(4 * npair^2) */
    } else {
        res.c = NAN;
        res.var = NAN;
        res.cvar = cc.vcox > 0 ? INFINITY : NAN;
    }
    *out = res;
    rc = HS_OK;

done:
    free(xr);
    free(ord);
    free(key);
    free(inf);
    free(rows);
    free(tree.at);
    free(tree.blk);
    return rc;
}

int hs_concordance_fit(hs_concordance *out, const double *time, const int *status, const double *score,
                       const int *strata, size_t n, int reverse, hs_error *err)
{
    if (!out || (n > 0 && (!time || !status || !score)))
        return hs_error_set(err, HS_EINVAL, "concordance: NULL argument");
    for (size_t i = 0; i < n; i++)
        if (isnan(score[i]))
            return hs_error_set(err, HS_EDATA, "concordance: score of row %zu is missing", i + 1);
    hs_concordance_prep *pr = NULL;
    int rc = hs_concordance_prepare(&pr, time, status, strata, n, err);
    if (rc == HS_OK)
        rc = hs_concordance_finish(out, pr, score, reverse, err);
    hs_concordance_prep_free(pr);
    return rc;
}
