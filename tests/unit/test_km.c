/*
 * Unit tests of stats/km against R survival 3.5-3 (Rscript on Debian 12,
 * R 4.2.2): survfit(Surv(time, status) ~ 1) rows, Greenwood se, the three
 * confidence bands, summary(fit)$table medians and survmean's restricted mean.
 *
 * The expected arrays below were printed by this R code (input times with
 * sprintf("%a"), so that C reads the very same doubles; results with
 * sprintf("%.17g"); NA/NaN printed as NAN):
 *
 *   library(survival)
 *   f17 <- function(x) ifelse(is.na(x), "NAN", ifelse(is.infinite(x), ifelse(x > 0, "INFINITY", "-INFINITY"), sprintf("%.17g", x)))
 *   carr <- function(name, x) cat(sprintf("static const double %s[] = {%s};\n", name, paste(f17(x), collapse = ", ")))
 *   ds <- list(
 *     # ties, censoring at event times, unsorted
 *     ties = list(time = c(4, 1, 2, 2, 7, 1, 3, 4, 5, 10, 6, 2, 7, 8, 9, 10, 12, 15, 4, 12),
 *                 status = c(1, 1, 0, 1, 1, 1, 0, 1, 0, 1, 1, 1, 0, 1, 0, 0, 1, 0, 0, 1)),
 *     # last row an event with n = d: S = 0, std.err = Inf
 *     zero = list(time = c(3, 1, 4, 1, 5, 9, 2, 6), status = c(1, 1, 0, 1, 1, 1, 1, 0)),
 *     # S hits exactly 0.5 at t = 3, censoring at 3.5, next drop at 6: median (3+6)/2
 *     half = list(time = c(7, 2, 3, 3.5, 6, 1), status = c(0, 1, 1, 0, 1, 1)),
 *     # heavy censoring: median not reached
 *     heavy = list(time = c(2, 3, 3, 5, 6, 8, 8, 9, 11, 13, 14, 20), status = c(0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0)),
 *     # floating-point times merged by timefix (days / 30.44 computed two ways)
 *     tfix = list(time = c(c(30, 61, 91, 122, 152) / 30.44, c(30, 122) * (1 / 30.44), 3, 3 + 2^-31, 152 / 30.44 + 2^-26),
 *                 status = c(1, 0, 1, 1, 0, 1, 1, 1, 0, 1))
 *   )
 *   for (nm in names(ds)) {
 *     d <- ds[[nm]]
 *     cat(sprintf("// data set %s\n", nm))
 *     cat(sprintf("static const double %s_time[] = {%s};\n", nm, paste(sprintf("%a", d$time), collapse = ", ")))
 *     cat(sprintf("static const int %s_status[] = {%s};\n", nm, paste(d$status, collapse = ", ")))
 *     for (ct in c("log", "log-log", "plain")) {
 *       fit <- survfit(Surv(d$time, d$status) ~ 1, conf.type = ct, conf.int = 0.95)
 *       tag <- paste0(nm, "_", gsub("-", "", ct))
 *       if (ct == "log") {
 *         carr(paste0(nm, "_t"), fit$time); carr(paste0(nm, "_nrisk"), fit$n.risk)
 *         carr(paste0(nm, "_nevent"), fit$n.event); carr(paste0(nm, "_ncens"), fit$n.censor)
 *         carr(paste0(nm, "_surv"), fit$surv); carr(paste0(nm, "_se"), fit$std.err)
 *       }
 *       carr(paste0(tag, "_lower"), fit$lower); carr(paste0(tag, "_upper"), fit$upper)
 *       tab <- summary(fit)$table
 *       carr(paste0(tag, "_median"), tab[c("median", "0.95LCL", "0.95UCL")])
 *     }
 *     fit <- survfit(Surv(d$time, d$status) ~ 1)
 *     taus <- c(0.5, 3, 4.5, max(fit$time), max(fit$time) + 7.25)
 *     rm <- sapply(taus, function(tau) survival:::survmean(fit, rmean = tau)$matrix[c("rmean", "se(rmean)")])
 *     carr(paste0(nm, "_tau"), taus)
 *     carr(paste0(nm, "_rmst"), rm[1, ]); carr(paste0(nm, "_rmst_se"), rm[2, ])
 *   }
 */
#include <math.h>
#include <stdlib.h>

#include "stats/km.h"
#include "suites.h"

#define TOL 1e-10

/* data set ties */
static const double ties_time[] = {
    0x1p+2, 0x1p+0, 0x1p+1, 0x1p+1, 0x1.cp+2, 0x1p+0, 0x1.8p+1, 0x1p+2, 0x1.4p+2, 0x1.4p+3, 0x1.8p+2, 0x1p+1,
    0x1.cp+2, 0x1p+3, 0x1.2p+3, 0x1.4p+3, 0x1.8p+3, 0x1.ep+3, 0x1p+2, 0x1.8p+3
};
static const int ties_status[] = {
    1, 1, 0, 1, 1, 1, 0, 1, 0, 1, 1, 1, 0, 1, 0, 0, 1, 0, 0, 1
};
static const double ties_t[] = {
    1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 15
};
static const double ties_nrisk[] = {
    20, 18, 15, 14, 11, 10, 9, 7, 6, 5, 3, 1
};
static const double ties_nevent[] = {
    2, 2, 0, 2, 0, 1, 1, 1, 0, 1, 2, 0
};
static const double ties_ncens[] = {
    0, 1, 1, 1, 1, 0, 1, 0, 1, 1, 0, 1
};
static const double ties_surv[] = {
    0.90000000000000002, 0.79999999999999993, 0.79999999999999993, 0.68571428571428561, 0.68571428571428561,
    0.6171428571428571, 0.54857142857142849, 0.47020408163265298, 0.47020408163265298, 0.37616326530612243,
    0.12538775510204081, 0.12538775510204081
};
static const double ties_se[] = {
    0.074535599249992993, 0.11180339887498948, 0.11180339887498948, 0.15622023526023096, 0.15622023526023096,
    0.18845655471718945, 0.22227181986199218, 0.270581384641083, 0.270581384641083, 0.35101892500873183,
    0.88875246969049393, 0.88875246969049393
};
static const double ties_log_lower[] = {
    0.77767420219588468, 0.64257342636755344, 0.64257342636755344, 0.50485689509851717, 0.50485689509851717,
    0.42655122801018908, 0.35484204074975145, 0.27667320598005624, 0.27667320598005624, 0.18905515813683943,
    0.021965831775929572, 0.021965831775929572
};
static const double ties_log_upper[] = {
    1, 0.99599512481849584, 0.99599512481849584, 0.93136111677923672, 0.93136111677923672, 0.89289464221950654,
    0.84806921865587503, 0.7991083834838123, 0.7991083834838123, 0.74845248106558648, 0.71575205027099509,
    0.71575205027099509
};
static const double ties_log_median[] = {
    8, 6, NAN
};
static const double ties_loglog_lower[] = {
    0.65603070726156676, 0.5511455642807277, 0.5511455642807277, 0.42766190222796441, 0.42766190222796441,
    0.35433333886469209, 0.28926308473415641, 0.21787683217280865, 0.21787683217280865, 0.13860642270789419,
    0.0081930643142986721, 0.0081930643142986721
};
static const double ties_loglog_upper[] = {
    0.97401017439577497, 0.9198179135884561, 0.9198179135884561, 0.84570423809735362, 0.84570423809735362,
    0.79889016691720538, 0.74777865518250108, 0.68820582299725674, 0.68820582299725674, 0.61646313091438798,
    0.40765554638896229, 0.40765554638896229
};
static const double ties_loglog_median[] = {
    8, 4, 12
};
static const double ties_plain_lower[] = {
    0.76852161891351278, 0.62469549188468365, 0.62469549188468365, 0.4757581475887358, 0.4757581475887358,
    0.3891899973212064, 0.30958915929178737, 0.22084085973934925, 0.22084085973934925, 0.11736878777232307, 0, 0
};
static const double ties_plain_upper[] = {
    1, 0.97530450811531622, 0.97530450811531622, 0.89567042383983542, 0.89567042383983542, 0.8450957169645078,
    0.78755369785106955, 0.71956730352595666, 0.71956730352595666, 0.63495774283992179, 0.34380354853796802,
    0.34380354853796802
};
static const double ties_plain_median[] = {
    8, 4, 12
};
static const double ties_tau[] = {
    0.5, 3, 4.5, 15, 22.25
};
static const double ties_rmst[] = {
    0.5, 2.7000000000000002, 3.8428571428571425, 8.1060408163265301, 9.0151020408163252
};
static const double ties_rmst_se[] = {
    0, 0.14317821063276354, 0.26927989491898602, 1.1277814653316245, 1.7187191919035523
};
/* data set zero */
static const double zero_time[] = {
    0x1.8p+1, 0x1p+0, 0x1p+2, 0x1p+0, 0x1.4p+2, 0x1.2p+3, 0x1p+1, 0x1.8p+2
};
static const int zero_status[] = {
    1, 1, 0, 1, 1, 1, 1, 0
};
static const double zero_t[] = {
    1, 2, 3, 4, 5, 6, 9
};
static const double zero_nrisk[] = {
    8, 6, 5, 4, 3, 2, 1
};
static const double zero_nevent[] = {
    2, 1, 1, 0, 1, 0, 1
};
static const double zero_ncens[] = {
    0, 0, 0, 1, 0, 1, 0
};
static const double zero_surv[] = {
    0.75, 0.625, 0.5, 0.5, 0.33333333333333331, 0.33333333333333331, 0
};
static const double zero_se[] = {
    0.20412414523193151, 0.27386127875258304, 0.35355339059327379, 0.35355339059327379, 0.54006172486732162,
    0.54006172486732162, INFINITY
};
static const double zero_log_lower[] = {
    0.50270184129404694, 0.36540027868240926, 0.25004882186280469, 0.25004882186280469, 0.1156584510240405,
    0.1156584510240405, NAN
};
static const double zero_log_upper[] = {
    1, 1, 0.9998047506785237, 0.9998047506785237, 0.96068302944862882, 0.96068302944862882, NAN
};
static const double zero_log_median[] = {
    4, 2, NAN
};
static const double zero_loglog_lower[] = {
    0.31480711370551911, 0.22933332242913168, 0.15203589029902395, 0.15203589029902395, 0.056175650710000746,
    0.056175650710000746, NAN
};
static const double zero_loglog_upper[] = {
    0.93089831709062754, 0.86069827691353873, 0.77486501206688874, 0.77486501206688874, 0.657582216325164,
    0.657582216325164, NAN
};
static const double zero_loglog_median[] = {
    4, 1, NAN
};
static const double zero_plain_lower[] = {
    0.44994302022779326, 0.28952609805303314, 0.15352404391258062, 0.15352404391258062, 0, 0, NAN
};
static const double zero_plain_upper[] = {
    1, 0.9604739019469668, 0.84647595608741932, 0.84647595608741932, 0.68616717672284322, 0.68616717672284322,
    NAN
};
static const double zero_plain_median[] = {
    4, 1, NAN
};
static const double zero_tau[] = {
    0.5, 3, 4.5, 9, 16.25
};
static const double zero_rmst[] = {
    0.5, 2.375, 3.125, 4.708333333333333, 4.708333333333333
};
static const double zero_rmst_se[] = {
    0, 0.30297999108852053, 0.5284854539152426, 1.1971767038266261, 1.1971767038266261
};
/* data set half */
static const double half_time[] = {
    0x1.cp+2, 0x1p+1, 0x1.8p+1, 0x1.cp+1, 0x1.8p+2, 0x1p+0
};
static const int half_status[] = {
    0, 1, 1, 0, 1, 1
};
static const double half_t[] = {
    1, 2, 3, 3.5, 6, 7
};
static const double half_nrisk[] = {
    6, 5, 4, 3, 2, 1
};
static const double half_nevent[] = {
    1, 1, 1, 0, 1, 0
};
static const double half_ncens[] = {
    0, 0, 0, 1, 0, 1
};
static const double half_surv[] = {
    0.83333333333333337, 0.66666666666666674, 0.5, 0.5, 0.25, 0.25
};
static const double half_se[] = {
    0.18257418583505536, 0.28867513459481292, 0.40824829046386302, 0.40824829046386302, 0.81649658092772603,
    0.81649658092772603
};
static const double half_log_lower[] = {
    0.58265479547713961, 0.3786064608870951, 0.22463034776926674, 0.22463034776926674, 0.050458793138941714,
    0.050458793138941714
};
static const double half_log_upper[] = {
    1, 1, 1, 1, 1, 1
};
static const double half_log_median[] = {
    4.5, 2, NAN
};
static const double half_loglog_lower[] = {
    0.273122849928356, 0.19461663680623487, 0.11094826035143802, 0.11094826035143802, 0.012309516475010473,
    0.012309516475010473
};
static const double half_loglog_upper[] = {
    0.97471242669089353, 0.90443416432251644, 0.80370923685005669, 0.80370923685005669, 0.64594853739810054,
    0.64594853739810054
};
static const double half_loglog_median[] = {
    4.5, 1, NAN
};
static const double half_plain_lower[] = {
    0.5351343093804739, 0.28947142197460951, 0.099924026970390933, 0.099924026970390933, 0, 0
};
static const double half_plain_upper[] = {
    1, 1, 0.90007597302960907, 0.90007597302960907, 0.65007597302960907, 0.65007597302960907
};
static const double half_plain_median[] = {
    4.5, 2, NAN
};
static const double half_tau[] = {
    0.5, 3, 4.5, 7, 14.25
};
static const double half_rmst[] = {
    0.5, 2.5, 3.25, 4.25, 6.0625
};
static const double half_rmst_se[] = {
    0, 0.31180478223116176, 0.56211406513466844, 0.96465307523251875, 2.2210717508046027
};
/* data set heavy */
static const double heavy_time[] = {
    0x1p+1, 0x1.8p+1, 0x1.8p+1, 0x1.4p+2, 0x1.8p+2, 0x1p+3, 0x1p+3, 0x1.2p+3, 0x1.6p+3, 0x1.ap+3, 0x1.cp+3,
    0x1.4p+4
};
static const int heavy_status[] = {
    0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0
};
static const double heavy_t[] = {
    2, 3, 5, 6, 8, 9, 11, 13, 14, 20
};
static const double heavy_nrisk[] = {
    12, 11, 9, 8, 7, 5, 4, 3, 2, 1
};
static const double heavy_nevent[] = {
    0, 1, 0, 0, 1, 0, 0, 0, 0, 0
};
static const double heavy_ncens[] = {
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1
};
static const double heavy_surv[] = {
    1, 0.90909090909090906, 0.90909090909090906, 0.90909090909090906, 0.77922077922077915, 0.77922077922077915,
    0.77922077922077915, 0.77922077922077915, 0.77922077922077915, 0.77922077922077915
};
static const double heavy_se[] = {
    0, 0.095346258924559224, 0.095346258924559224, 0.095346258924559224, 0.18138476479691701,
    0.18138476479691701, 0.18138476479691701, 0.18138476479691701, 0.18138476479691701, 0.18138476479691701
};
static const double heavy_log_lower[] = {
    1, 0.75413384508152548, 0.75413384508152548, 0.75413384508152548, 0.54609164683430644, 0.54609164683430644,
    0.54609164683430644, 0.54609164683430644, 0.54609164683430644, 0.54609164683430644
};
static const double heavy_log_upper[] = {
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1
};
static const double heavy_log_median[] = {
    NAN, NAN, NAN
};
static const double heavy_loglog_lower[] = {
    NAN, 0.50808020576992974, 0.50808020576992974, 0.50808020576992974, 0.35439952224310711,
    0.35439952224310711, 0.35439952224310711, 0.35439952224310711, 0.35439952224310711, 0.35439952224310711
};
static const double heavy_loglog_upper[] = {
    NAN, 0.98667382266782311, 0.98667382266782311, 0.98667382266782311, 0.94177279890892862,
    0.94177279890892862, 0.94177279890892862, 0.94177279890892862, 0.94177279890892862, 0.94177279890892862
};
static const double heavy_loglog_median[] = {
    NAN, 8, NAN
};
static const double heavy_plain_lower[] = {
    1, 0.73920433313384837, 0.73920433313384837, 0.73920433313384837, 0.50220186518475907, 0.50220186518475907,
    0.50220186518475907, 0.50220186518475907, 0.50220186518475907, 0.50220186518475907
};
static const double heavy_plain_upper[] = {
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1
};
static const double heavy_plain_median[] = {
    NAN, NAN, NAN
};
static const double heavy_tau[] = {
    0.5, 3, 4.5, 20, 27.25
};
static const double heavy_rmst[] = {
    0.5, 3, 4.3636363636363633, 16.896103896103895, 22.545454545454543
};
static const double heavy_rmst_se[] = {
    0, 0, 0.13001762580621712, 1.9588892905580462, 2.9715476648222214
};
/* data set tfix */
static const double tfix_time[] = {
    0x1.f89965edd59d1p-1, 0x1.00812d69f740fp+1, 0x1.7ea786e56ca83p+1, 0x1.00812d69f740fp+2,
    0x1.3f945a27b1f49p+2, 0x1.f89965edd59d2p-1, 0x1.00812d69f740fp+2, 0x1.8p+1, 0x1.80000001p+1,
    0x1.3f945a37b1f49p+2
};
static const int tfix_status[] = {
    1, 0, 1, 1, 0, 1, 1, 1, 0, 1
};
static const double tfix_t[] = {
    0.98554533508541386, 2.0039421813403417, 2.9894875164257555, 3, 4.0078843626806835, 4.9934296977660972
};
static const double tfix_nrisk[] = {
    10, 8, 7, 6, 4, 2
};
static const double tfix_nevent[] = {
    2, 0, 1, 1, 2, 1
};
static const double tfix_ncens[] = {
    0, 1, 0, 1, 0, 1
};
static const double tfix_surv[] = {
    0.80000000000000004, 0.80000000000000004, 0.68571428571428572, 0.57142857142857151, 0.28571428571428575,
    0.14285714285714288
};
static const double tfix_se[] = {
    0.15811388300841897, 0.15811388300841897, 0.22092877542213421, 0.28660575211055545, 0.57631836439840878,
    0.91221864546985498
};
static const double tfix_log_lower[] = {
    0.5868177012338136, 0.5868177012338136, 0.44472166068521191, 0.32583872134374009, 0.092335535982133177,
    0.023901218449294413
};
static const double tfix_log_upper[] = {
    1, 1, 1, 1, 0.88408706564523942, 0.85385451409522573
};
static const double tfix_log_median[] = {
    4.0078843626806835, 2.9894875164257555, NAN
};
static const double tfix_loglog_lower[] = {
    0.40869078163340428, 0.40869078163340428, 0.30458507420184733, 0.21719270238228394, 0.045665533363795786,
    0.007619599828188355
};
static const double tfix_loglog_upper[] = {
    0.94587264583891173, 0.94587264583891173, 0.88714849502770743, 0.81457213792077954, 0.60140190287291906,
    0.46005555781908708
};
static const double tfix_loglog_median[] = {
    4.0078843626806835, 0.98554533508541386, 4.9934296977660972
};
static const double tfix_plain_lower[] = {
    0.55208198707817546, 0.55208198707817546, 0.3887914676736543, 0.25043602748645538, 0, 0
};
static const double tfix_plain_upper[] = {
    1, 1, 0.98263710375491709, 0.89242111537068758, 0.6084466393856891, 0.39827367016383253
};
static const double tfix_plain_median[] = {
    4.0078843626806835, 2.9894875164257555, 4.9934296977660972
};
static const double tfix_tau[] = {
    0.5, 3, 4.5, 4.9934296977660972, 12.243429697766096
};
static const double tfix_rmst[] = {
    0.5, 2.5959076403228836, 3.3124460296602218, 3.4534259433076784, 4.489140229021964
};
static const double tfix_rmst_se[] = {
    0, 0.25462306666053686, 0.41217711669261448, 0.46303152715276868, 1.2175879305079771
};

/* One reference data set with everything R reported for it. */
struct km_case {
    const double *time;
    const int *status;
    size_t n, ntime;
    const double *t, *nrisk, *nevent, *ncens, *surv, *se;
    const double *lower[3], *upper[3], *median[3]; /* by hs_conf_type */
    const double *tau, *rmst, *rmst_se;
    size_t ntau;
};

/* Equal within TOL (relative), or both NAN, or the same infinity. */
static int close_or_na(double a, double b)
{
    if (isnan(b))
        return isnan(a);
    if (isinf(b))
        return a == b;
    return fabs(a - b) <= TOL * fmax(1.0, fabs(b));
}

static void check_array(const double *got, const double *want, size_t n)
{
    for (size_t i = 0; i < n; i++)
        CU_ASSERT(close_or_na(got[i], want[i]));
}

static void check_case(const struct km_case *c)
{
    for (int type = 0; type < 3; type++) {
        hs_km *km = NULL;
        hs_error err;
        CU_ASSERT_EQUAL_FATAL(hs_km_fit(&km, c->time, c->status, c->n, (hs_conf_type)type, 0.95, &err), HS_OK);
        CU_ASSERT_EQUAL(km->n, c->n);
        CU_ASSERT_EQUAL_FATAL(km->ntime, c->ntime);
        double events = 0;
        for (size_t i = 0; i < c->ntime; i++)
            events += c->nevent[i];
        CU_ASSERT_EQUAL(km->events, events);
        check_array(km->time, c->t, c->ntime);
        check_array(km->n_risk, c->nrisk, c->ntime);
        check_array(km->n_event, c->nevent, c->ntime);
        check_array(km->n_censor, c->ncens, c->ntime);
        check_array(km->surv, c->surv, c->ntime);
        check_array(km->std_err, c->se, c->ntime);
        check_array(km->lower, c->lower[type], c->ntime);
        check_array(km->upper, c->upper[type], c->ntime);
        double med[3];
        CU_ASSERT_EQUAL(hs_km_median(km, &med[0], &med[1], &med[2], &err), HS_OK);
        check_array(med, c->median[type], 3);
        for (size_t j = 0; j < c->ntau; j++) {
            double rm, se;
            CU_ASSERT_EQUAL(hs_km_rmst(km, c->tau[j], &rm, &se, &err), HS_OK);
            CU_ASSERT(close_or_na(rm, c->rmst[j]));
            CU_ASSERT(close_or_na(se, c->rmst_se[j]));
        }
        hs_km_free(km);
    }
}

/* ties, censoring at event times, rows unsorted */
static void test_ties(void)
{
    const struct km_case c = {
        ties_time, ties_status, sizeof ties_time / sizeof ties_time[0], sizeof ties_t / sizeof ties_t[0],
        ties_t, ties_nrisk, ties_nevent, ties_ncens, ties_surv, ties_se,
        {ties_log_lower, ties_loglog_lower, ties_plain_lower},
        {ties_log_upper, ties_loglog_upper, ties_plain_upper},
        {ties_log_median, ties_loglog_median, ties_plain_median},
        ties_tau, ties_rmst, ties_rmst_se, sizeof ties_tau / sizeof ties_tau[0]
    };
    check_case(&c);
}

/* last row an event with n = d: S = 0 and std.err = Inf */
static void test_zero(void)
{
    const struct km_case c = {
        zero_time, zero_status, sizeof zero_time / sizeof zero_time[0], sizeof zero_t / sizeof zero_t[0],
        zero_t, zero_nrisk, zero_nevent, zero_ncens, zero_surv, zero_se,
        {zero_log_lower, zero_loglog_lower, zero_plain_lower},
        {zero_log_upper, zero_loglog_upper, zero_plain_upper},
        {zero_log_median, zero_loglog_median, zero_plain_median},
        zero_tau, zero_rmst, zero_rmst_se, sizeof zero_tau / sizeof zero_tau[0]
    };
    check_case(&c);
}

/* S exactly 0.5 at t = 3, censoring at 3.5, next drop at 6: median 4.5 */
static void test_half(void)
{
    const struct km_case c = {
        half_time, half_status, sizeof half_time / sizeof half_time[0], sizeof half_t / sizeof half_t[0],
        half_t, half_nrisk, half_nevent, half_ncens, half_surv, half_se,
        {half_log_lower, half_loglog_lower, half_plain_lower},
        {half_log_upper, half_loglog_upper, half_plain_upper},
        {half_log_median, half_loglog_median, half_plain_median},
        half_tau, half_rmst, half_rmst_se, sizeof half_tau / sizeof half_tau[0]
    };
    check_case(&c);
}

/* heavy censoring: median not reached (log-log LCL reached) */
static void test_heavy(void)
{
    const struct km_case c = {
        heavy_time, heavy_status, sizeof heavy_time / sizeof heavy_time[0], sizeof heavy_t / sizeof heavy_t[0],
        heavy_t, heavy_nrisk, heavy_nevent, heavy_ncens, heavy_surv, heavy_se,
        {heavy_log_lower, heavy_loglog_lower, heavy_plain_lower},
        {heavy_log_upper, heavy_loglog_upper, heavy_plain_upper},
        {heavy_log_median, heavy_loglog_median, heavy_plain_median},
        heavy_tau, heavy_rmst, heavy_rmst_se, sizeof heavy_tau / sizeof heavy_tau[0]
    };
    check_case(&c);
}

/* floating-point times that timefix merges (k/30.44 two ways, 3 + 2^-31) */
static void test_tfix(void)
{
    const struct km_case c = {
        tfix_time, tfix_status, sizeof tfix_time / sizeof tfix_time[0], sizeof tfix_t / sizeof tfix_t[0],
        tfix_t, tfix_nrisk, tfix_nevent, tfix_ncens, tfix_surv, tfix_se,
        {tfix_log_lower, tfix_loglog_lower, tfix_plain_lower},
        {tfix_log_upper, tfix_loglog_upper, tfix_plain_upper},
        {tfix_log_median, tfix_loglog_median, tfix_plain_median},
        tfix_tau, tfix_rmst, tfix_rmst_se, sizeof tfix_tau / sizeof tfix_tau[0]
    };
    check_case(&c);
}

/*
 * One subject with an event: S = 0 at once.
 *   f <- survfit(Surv(2, 1) ~ 1): surv 0, std.err Inf, lower/upper NA (log and
 *   log-log), NaN (plain); summary(f)$table: median 2, 0.95LCL NA, 0.95UCL NA
 *   (all three types); survival:::survmean(f, rmean = 5)$matrix: rmean 2, se(rmean) 0
 */
static void test_single(void)
{
    const double t[] = {2};
    const int s[] = {1};
    for (int type = 0; type < 3; type++) {
        hs_km *km = NULL;
        CU_ASSERT_EQUAL_FATAL(hs_km_fit(&km, t, s, 1, (hs_conf_type)type, 0.95, NULL), HS_OK);
        CU_ASSERT_EQUAL_FATAL(km->ntime, 1);
        CU_ASSERT_EQUAL(km->surv[0], 0);
        CU_ASSERT(isinf(km->std_err[0]));
        CU_ASSERT(isnan(km->lower[0]) && isnan(km->upper[0]));
        double m, lo, hi, rm, se;
        CU_ASSERT_EQUAL(hs_km_median(km, &m, &lo, &hi, NULL), HS_OK);
        CU_ASSERT(m == 2 && isnan(lo) && isnan(hi));
        CU_ASSERT_EQUAL(hs_km_rmst(km, 5, &rm, &se, NULL), HS_OK);
        CU_ASSERT(rm == 2 && se == 0);
        hs_km_free(km);
    }
}

/*
 * Rows with a NAN time are dropped (R's na.omit); conf.int = 0.9 changes z.
 *   f <- survfit(Surv(c(1, NA, 2, 3, 3), c(1, 1, 0, 1, 1)) ~ 1, conf.int = 0.9)
 *   f$n 4; sprintf("%.17g", c(f$surv, f$lower, f$upper)):
 *     0.75 0.75 0 0.46649386281020977 0.46649386281020977 NA 1 1 NA
 *   the same with conf.type = "log-log":
 *     0.75 0.75 0 0.22340897368138835 0.22340897368138835 NA 0.94627698693516082 0.94627698693516082 NA
 */
static void test_na_and_level(void)
{
    const double t[] = {1, NAN, 2, 3, 3};
    const int s[] = {1, 1, 0, 1, 1};
    const double surv[] = {0.75, 0.75, 0};
    const double lower[2][3] = {{0.46649386281020977, 0.46649386281020977, NAN},
                                {0.22340897368138835, 0.22340897368138835, NAN}};
    const double upper[2][3] = {{1, 1, NAN}, {0.94627698693516082, 0.94627698693516082, NAN}};
    for (int type = 0; type < 2; type++) {
        hs_km *km = NULL;
        CU_ASSERT_EQUAL_FATAL(hs_km_fit(&km, t, s, 5, (hs_conf_type)type, 0.9, NULL), HS_OK);
        CU_ASSERT_EQUAL(km->n, 4);
        CU_ASSERT_EQUAL(km->events, 3);
        CU_ASSERT_EQUAL_FATAL(km->ntime, 3);
        check_array(km->surv, surv, 3);
        check_array(km->lower, lower[type], 3);
        check_array(km->upper, upper[type], 3);
        hs_km_free(km);
    }
}

/*
 * Infinite times are kept, and timefix maps +Inf onto the last merged time:
 *   f <- survfit(Surv(c(1, 2, Inf, 3), c(1, 1, 1, 0)) ~ 1)
 *     time 1 2 3 Inf; surv 0.75 0.5 0.5 0; std.err 0.28867513459481287 0.5 0.5 Inf;
 *     lower 0.42593226849798205 0.18765892870658832 0.18765892870658832 NA; upper 1 1 1 NA
 *     summary(f)$table: median Inf (midpoint of 2 and Inf), 0.95LCL 1, 0.95UCL NA
 *   f <- survfit(Surv(c(1, 1 + 2^-34, Inf, 3), c(1, 1, 1, 0)) ~ 1)
 *     time 1 3; n.risk 4 2; n.event 2 1; n.censor 0 1; surv 0.5 0.25;
 *     std.err 0.5 0.8660254037844386; lower 0.187658928706588318 0.045790759666018192;
 *     summary(f)$table: median 2, 0.95LCL 1, 0.95UCL NA
 */
static void test_infinite(void)
{
    hs_km *km = NULL;
    double m, lo, hi;
    {
        const double t[] = {1, 2, INFINITY, 3};
        const int s[] = {1, 1, 1, 0};
        CU_ASSERT_EQUAL_FATAL(hs_km_fit(&km, t, s, 4, HS_CONF_LOG, 0.95, NULL), HS_OK);
        CU_ASSERT_EQUAL_FATAL(km->ntime, 4);
        const double time[] = {1, 2, 3, INFINITY}, surv[] = {0.75, 0.5, 0.5, 0};
        const double se[] = {0.28867513459481287, 0.5, 0.5, INFINITY};
        const double lower[] = {0.42593226849798205, 0.18765892870658832, 0.18765892870658832, NAN};
        const double upper[] = {1, 1, 1, NAN};
        check_array(km->time, time, 4);
        check_array(km->surv, surv, 4);
        check_array(km->std_err, se, 4);
        check_array(km->lower, lower, 4);
        check_array(km->upper, upper, 4);
        CU_ASSERT_EQUAL(hs_km_median(km, &m, &lo, &hi, NULL), HS_OK);
        CU_ASSERT(m == INFINITY && lo == 1 && isnan(hi));
        hs_km_free(km);
    }
    {
        const double t[] = {1, 1 + 0x1p-34, INFINITY, 3};
        const int s[] = {1, 1, 1, 0};
        CU_ASSERT_EQUAL_FATAL(hs_km_fit(&km, t, s, 4, HS_CONF_LOG, 0.95, NULL), HS_OK);
        CU_ASSERT_EQUAL_FATAL(km->ntime, 2);
        const double time[] = {1, 3}, nrisk[] = {4, 2}, nevent[] = {2, 1}, ncens[] = {0, 1};
        const double surv[] = {0.5, 0.25}, se[] = {0.5, 0.8660254037844386};
        const double lower[] = {0.187658928706588318, 0.045790759666018192}, upper[] = {1, 1};
        check_array(km->time, time, 2);
        check_array(km->n_risk, nrisk, 2);
        check_array(km->n_event, nevent, 2);
        check_array(km->n_censor, ncens, 2);
        check_array(km->surv, surv, 2);
        check_array(km->std_err, se, 2);
        check_array(km->lower, lower, 2);
        check_array(km->upper, upper, 2);
        CU_ASSERT_EQUAL(hs_km_median(km, &m, &lo, &hi, NULL), HS_OK);
        CU_ASSERT(m == 2 && lo == 1 && isnan(hi));
        hs_km_free(km);
    }
}

static void test_errors(void)
{
    const double t[] = {1, 2, NAN};
    const int s[] = {1, 2, 0};
    const int ok[] = {1, 0, 0};
    hs_km *km = (hs_km *)1;
    hs_error err;
    CU_ASSERT_EQUAL(hs_km_fit(&km, t, s, 2, HS_CONF_LOG, 0.95, &err), HS_EINVAL);
    CU_ASSERT_PTR_NULL(km);
    CU_ASSERT_EQUAL(err.code, HS_EINVAL);
    CU_ASSERT_EQUAL(hs_km_fit(&km, t, ok, 2, HS_CONF_LOG, 1.0, &err), HS_EINVAL);
    CU_ASSERT_EQUAL(hs_km_fit(&km, t, ok, 2, HS_CONF_LOG, NAN, &err), HS_EINVAL);
    CU_ASSERT_EQUAL(hs_km_fit(&km, t, ok, 2, (hs_conf_type)7, 0.95, &err), HS_EINVAL);
    CU_ASSERT_EQUAL(hs_km_fit(&km, t + 2, ok, 1, HS_CONF_LOG, 0.95, &err), HS_EDATA);
    CU_ASSERT_EQUAL(hs_km_fit(&km, NULL, ok, 2, HS_CONF_LOG, 0.95, &err), HS_EINVAL);
    CU_ASSERT_EQUAL(hs_km_fit(NULL, t, ok, 2, HS_CONF_LOG, 0.95, &err), HS_EINVAL);
    CU_ASSERT_EQUAL(hs_km_fit(&km, t, ok, 2, HS_CONF_LOG, 0.95, &err), HS_OK);
    double a, b, c;
    CU_ASSERT_EQUAL(hs_km_rmst(km, NAN, &a, &b, &err), HS_EINVAL);
    CU_ASSERT_EQUAL(hs_km_median(km, &a, NULL, &c, &err), HS_EINVAL);
    hs_km_free(km);
    hs_km_free(NULL);
}

int hs_suite_km(void)
{
    CU_pSuite s = CU_add_suite("km", NULL, NULL);
    if (!s)
        return -1;
    if (!CU_add_test(s, "ties and censoring at event times", test_ties) ||
        !CU_add_test(s, "curve reaching S = 0", test_zero) ||
        !CU_add_test(s, "median midpoint at S = 0.5", test_half) ||
        !CU_add_test(s, "heavy censoring, median not reached", test_heavy) ||
        !CU_add_test(s, "timefix on fractional times", test_tfix) ||
        !CU_add_test(s, "single subject", test_single) ||
        !CU_add_test(s, "NA rows and conf.int 0.9", test_na_and_level) ||
        !CU_add_test(s, "infinite times", test_infinite) ||
        !CU_add_test(s, "argument errors", test_errors))
        return -1;
    return 0;
}
