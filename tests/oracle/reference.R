# Writes R survival's answers for every case of cases.txt: the reference that
# `hetsurv survival` is compared with (tests/oracle/run.sh).
#
# For case NAME it writes OUTDIR/NAME/{km,median,cox,fit,tests}.csv in the
# formats of the `hetsurv survival` contract (cox.csv and fit.csv only when a
# Cox model is fitted, tests.csv only when there is a test).  Each statistic is
# taken from the R object named in the contract (survfit, summary.survfit's
# table, survdiff, coxph, cox.zph, and maxstat.test for --cut COL:optimal);
# nothing is recomputed by hand except the p-values and confidence limits the
# contract defines from them.
#
# Usage: Rscript tests/oracle/reference.R [OUTDIR [CASE...]]
#   OUTDIR defaults to tests/oracle/ref; CASE limits the run to those cases.
# Needs R survival 3.5-3 (Debian 12's r-cran-survival) and maxstat 0.7-25
# (r-cran-maxstat); other versions may differ in the last digits, which the
# drift check of run.sh reports.

suppressPackageStartupMessages({
    library(survival)
    library(maxstat)
})
invisible(Sys.setlocale("LC_COLLATE", "C"))

script_dir <- function() {
    arg <- grep("^--file=", commandArgs(FALSE), value = TRUE)
    if (length(arg) == 0) return(getwd())
    dirname(normalizePath(sub("^--file=", "", arg[1])))
}
base_dir <- script_dir()
args <- commandArgs(TRUE)
out_dir <- if (length(args) >= 1) args[1] else file.path(base_dir, "ref")
only <- if (length(args) >= 2) args[-1] else character(0)

if (as.character(packageVersion("survival")) != "3.5.3")
    message("reference.R: note: survival ", packageVersion("survival"),
            " (the committed references come from 3.5-3)")

# ---- output ---------------------------------------------------------------

# A number as the contract prints it: %.17g, NA for NA/NaN, Inf/-Inf.
fmt_num <- function(x) {
    x <- as.double(x)
    s <- sprintf("%.17g", x)
    s[is.infinite(x) & x > 0] <- "Inf"
    s[is.infinite(x) & x < 0] <- "-Inf"
    s[is.na(x)] <- "NA"
    s
}

# A text cell, quoted only when it holds a comma, a quote or a line break.
fmt_text <- function(x) {
    x <- as.character(x)
    q <- grepl("[\",\r\n]", x)
    x[q] <- paste0("\"", gsub("\"", "\"\"", x[q]), "\"")
    x
}

write_out <- function(df, path) {
    cols <- lapply(df, function(v) if (is.numeric(v)) fmt_num(v) else fmt_text(v))
    body <- if (nrow(df) > 0) do.call(paste, c(cols, sep = ",")) else character(0)
    writeLines(c(paste(fmt_text(names(df)), collapse = ","), body), path)
}

# ---- input, as the contract reads it --------------------------------------

read_data <- function(path)
    read.csv(path, na.strings = c("", "NA"), check.names = FALSE, stringsAsFactors = FALSE)

# 0/1, or 1/2 with 2 = event when every non-missing value is 1 or 2.
event_of <- function(v) {
    v <- as.numeric(v)
    ok <- v[!is.na(v)]
    if (length(ok) > 0 && all(ok %in% c(1, 2))) as.numeric(v == 2) else v
}

# A factor over all non-missing values of the column: numeric order when
# every value is a number, byte order otherwise; the first level is the
# reference.
factor_of <- function(v) {
    u <- unique(v[!is.na(v)])
    num <- suppressWarnings(as.numeric(u))
    if (all(!is.na(num))) u <- u[order(num)] else u <- sort(as.character(u), method = "radix")
    factor(as.character(v), levels = as.character(u))
}

# ---- one case -------------------------------------------------------------

known_opts <- c("data", "time", "event", "group", "covariates", "factors",
                "strata", "ties", "conf-type", "rho", "tau", "cut")

parse_case <- function(line) {
    tok <- strsplit(trimws(line), "[ \t]+")[[1]]
    name <- tok[1]
    tok <- tok[-1]
    tags <- sub("^@", "", tok[grepl("^@", tok)])
    tok <- tok[!grepl("^@", tok)]
    if (length(tok) %% 2 != 0) stop("case ", name, ": odd number of arguments")
    keys <- sub("^--", "", tok[c(TRUE, FALSE)])
    bad <- setdiff(keys, known_opts)
    if (length(bad) > 0) stop("case ", name, ": unknown option(s) ", paste(bad, collapse = " "))
    opts <- as.list(tok[c(FALSE, TRUE)])
    names(opts) <- keys
    list(name = name, tags = tags, opts = opts)
}

split_list <- function(s) if (is.null(s)) character(0) else strsplit(s, ",", fixed = TRUE)[[1]]

run_case <- function(cs, dir) {
    o <- cs$opts
    d <- read_data(file.path(base_dir, o$data))
    cut <- if (is.null(o$cut)) NULL else regmatches(o$cut, regexec("^(.*):([^:]+)$", o$cut))[[1]][2:3]
    need <- c(o$time, o$event, o$group, o$strata, split_list(o$covariates), cut[1])
    miss <- setdiff(need, names(d))
    if (length(miss) > 0) stop("case ", cs$name, ": no column ", paste(miss, collapse = ", "))
    conf_type <- if (is.null(o[["conf-type"]])) "log" else o[["conf-type"]]
    ties <- if (is.null(o$ties)) "efron" else o$ties
    rho <- if (is.null(o$rho)) 0 else as.numeric(o$rho)
    has_group <- !is.null(o$group)
    has_strata <- !is.null(o$strata)
    covs <- split_list(o$covariates)
    facs <- split_list(o$factors)

    t <- as.numeric(d[[o$time]])
    e <- event_of(d[[o$event]])
    g <- if (has_group) factor_of(d[[o$group]]) else NULL
    s <- if (has_strata) d[[o$strata]] else NULL
    dir.create(dir, showWarnings = FALSE, recursive = TRUE)

    # --cut COL:VALUE: the group COL is "high" when COL >= VALUE, else "low".  --cut COL:optimal: the
    # split of maxstat.test on the rows with time, event and COL, i.e. "high" when COL > its estimate.
    ms <- NULL
    if (!is.null(cut)) {
        x <- as.numeric(d[[cut[1]]])
        if (cut[2] == "optimal") {
            keep <- !is.na(t) & !is.na(e) & !is.na(x)
            md <- data.frame(t = t, e = e, x = x)[keep, , drop = FALSE]
            ms <- maxstat.test(Surv(t, e) ~ x, data = md, smethod = "LogRank", pmethod = "Lau92")
            high <- x > ms$estimate
        } else {
            high <- x >= as.numeric(cut[2])
        }
        g <- factor(ifelse(high, "high", "low"), levels = c("low", "high"))
        o$group <- cut[1]
        has_group <- TRUE
        # cut.csv: the threshold of ">=" (for optimal, the smallest observed value above the estimate),
        # maxstat's estimate, and the Kaplan-Meier rows in each group
        km_rows <- !is.na(t) & !is.na(e) & !is.na(x)
        write_out(data.frame(column = cut[1], method = if (is.null(ms)) "value" else "optimal",
                             cut = if (is.null(ms)) as.numeric(cut[2]) else min(x[km_rows & high]),
                             estimate = if (is.null(ms)) NA_real_ else unname(ms$estimate),
                             n_low = sum(km_rows & !high), n_high = sum(km_rows & high)),
                  file.path(dir, "cut.csv"))
    }

    # Kaplan-Meier and its summary table.
    keep <- !is.na(t) & !is.na(e)
    if (has_group) keep <- keep & !is.na(g)
    kd <- data.frame(t = t, e = e)
    if (has_group) kd$g <- g
    kd <- kd[keep, , drop = FALSE]
    fit <- if (has_group) survfit(Surv(t, e) ~ g, data = kd, conf.type = conf_type)
           else survfit(Surv(t, e) ~ 1, data = kd, conf.type = conf_type)
    curves <- if (is.null(fit$strata)) "all" else paste0(o$group, "=", sub("^g=", "", names(fit$strata)))
    curve <- if (is.null(fit$strata)) rep("all", length(fit$time)) else rep(curves, fit$strata)
    write_out(data.frame(curve = curve, time = fit$time, n_risk = fit$n.risk,
                         n_event = fit$n.event, n_censor = fit$n.censor, surv = fit$surv,
                         std_err = fit$std.err, lower = fit$lower, upper = fit$upper),
              file.path(dir, "km.csv"))

    # tau: --tau, else rmean="common" of survival 3.5-3 (survmean), which is
    # the largest last time among the curves, i.e. max(fit$time).
    tau <- if (is.null(o$tau)) max(fit$time) else as.numeric(o$tau)
    tab <- summary(fit, rmean = tau)$table
    if (is.null(dim(tab))) tab <- matrix(tab, nrow = 1, dimnames = list(NULL, names(tab)))
    write_out(data.frame(curve = curves, n = tab[, "records"], events = tab[, "events"],
                         median = tab[, "median"], lower95 = tab[, "0.95LCL"],
                         upper95 = tab[, "0.95UCL"], rmst = tab[, "rmean"],
                         rmst_se = tab[, "se(rmean)"], tau = tau),
              file.path(dir, "median.csv"))

    tests <- data.frame(test = character(0), statistic = numeric(0), df = numeric(0), p = numeric(0))
    add_test <- function(tests, name, stat, df)
        rbind(tests, data.frame(test = name, statistic = stat, df = df,
                                p = pchisq(stat, df, lower.tail = FALSE)))

    # Log-rank / Fleming-Harrington G^rho.
    logrank <- NULL
    if (has_group) {
        keep <- !is.na(t) & !is.na(e) & !is.na(g)
        ld <- data.frame(t = t, e = e, g = g)
        if (has_strata) { keep <- keep & !is.na(s); ld$s <- s }
        ld <- ld[keep, , drop = FALSE]
        sd <- if (has_strata) survdiff(Surv(t, e) ~ g + strata(s), data = ld, rho = rho)
              else survdiff(Surv(t, e) ~ g, data = ld, rho = rho)
        expected <- if (is.matrix(sd$exp)) rowSums(sd$exp) else sd$exp
        logrank <- list(stat = sd$chisq, df = sum(expected > 0) - 1)
    }

    if (length(covs) > 0 || has_group) {
        cd <- data.frame(t = t, e = e)
        terms <- character(0)     # formula terms, in order
        user_names <- character(0)    # the user's name of each term
        is_fac <- logical(0)
        for (k in seq_along(covs)) {
            nm <- paste0("v", k)
            v <- d[[covs[k]]]
            # categorical when named in --factors, or when read.csv read it as text
            fac <- covs[k] %in% facs || is.character(v)
            cd[[nm]] <- if (fac) factor_of(v) else as.numeric(v)
            terms <- c(terms, nm); user_names <- c(user_names, covs[k]); is_fac <- c(is_fac, fac)
        }
        if (has_group) {
            cd$g <- g
            terms <- c(terms, "g"); user_names <- c(user_names, o$group); is_fac <- c(is_fac, TRUE)
        }
        rhs <- terms
        if (has_strata) { cd$s <- s; rhs <- c(rhs, "strata(s)") }
        cd <- cd[complete.cases(cd), , drop = FALSE]
        for (k in which(is_fac)) {
            unused <- setdiff(levels(cd[[terms[k]]]), unique(as.character(cd[[terms[k]]])))
            if (length(unused) > 0)
                message("reference.R: case ", cs$name, ": level(s) ", paste(unused, collapse = ","),
                        " of ", user_names[k], " unused in the Cox rows (R gives an aliased term)")
        }
        fml <- as.formula(paste("Surv(t, e) ~", paste(rhs, collapse = " + ")))

        warns <- character(0)
        cf <- withCallingHandlers(coxph(fml, data = cd, ties = ties),
                                  warning = function(w) {
                                      warns <<- c(warns, conditionMessage(w))
                                      invokeRestart("muffleWarning")
                                  })

        # Term names: A for a numeric covariate, B=level per non-reference level.
        tn <- character(0); rn <- character(0)
        for (k in seq_along(terms)) {
            if (is_fac[k]) {
                lv <- levels(cd[[terms[k]]])[-1]
                tn <- c(tn, paste0(user_names[k], "=", lv)); rn <- c(rn, paste0(terms[k], lv))
            } else {
                tn <- c(tn, user_names[k]); rn <- c(rn, terms[k])
            }
        }
        if (!identical(names(coef(cf)), rn)) stop("case ", cs$name, ": unexpected coefficient names")

        b <- coef(cf)
        se <- sqrt(diag(cf$var))     # summary.coxph prints 0 for an aliased term;
        se[is.na(b)] <- NA            # hetsurv reports NA: an aliased term has no standard error
        z <- b / se
        q <- qnorm(0.975)
        flag <- ifelse(is.na(b), "aliased", "")
        inf_msg <- grep("coefficient may be infinite", warns, value = TRUE)
        for (m in inf_msg) {
            if (!grepl("variable", m)) next
            idx <- as.integer(strsplit(gsub("[^0-9,]", "", sub(";.*", "", m)), ",")[[1]])
            flag[idx] <- "infinite"
        }
        write_out(data.frame(term = tn, coef = b, se = se, z = z, p = 2 * pnorm(-abs(z)),
                             hr = exp(b), hr_lower95 = exp(b - q * se),
                             hr_upper95 = exp(b + q * se), flag = flag),
                  file.path(dir, "cox.csv"))

        converged <- if (any(grepl("Ran out of iterations", warns))) 0 else 1
        write_out(data.frame(n = cf$n, nevent = cf$nevent, loglik_null = cf$loglik[1],
                             loglik = cf$loglik[2], iter = cf$iter, converged = converged,
                             concordance = unname(cf$concordance["concordance"]),
                             concordance_se = unname(cf$concordance["std"])),
                  file.path(dir, "fit.csv"))

        df <- sum(!is.na(b))
        tests <- add_test(tests, "likelihood_ratio", 2 * diff(cf$loglik), df)
        tests <- add_test(tests, "wald", cf$wald.test, df)
        tests <- add_test(tests, "score", cf$score, df)
        if (!is.null(logrank)) tests <- add_test(tests, "logrank", logrank$stat, logrank$df)
        if (!is.null(ms))
            tests <- rbind(tests, data.frame(test = "maxstat", statistic = unname(ms$statistic), df = NA,
                                             p = ms$p.value))
        zt <- cox.zph(cf, transform = "km")$table
        zn <- rownames(zt)
        zn <- ifelse(zn == "GLOBAL", "GLOBAL", user_names[match(zn, terms)])
        if (anyNA(zn)) stop("case ", cs$name, ": unexpected cox.zph term names")
        for (i in seq_len(nrow(zt)))
            tests <- rbind(tests, data.frame(test = paste0("zph:", zn[i]), statistic = zt[i, "chisq"],
                                             df = zt[i, "df"], p = zt[i, "p"]))
    } else if (!is.null(logrank)) {
        tests <- add_test(tests, "logrank", logrank$stat, logrank$df)
    }
    if (nrow(tests) > 0) write_out(tests, file.path(dir, "tests.csv"))
}

# ---- all cases --------------------------------------------------------------

lines <- readLines(file.path(base_dir, "cases.txt"))
lines <- lines[!grepl("^[ \t]*(#|$)", lines)]
cases <- lapply(lines, parse_case)
names_all <- vapply(cases, function(cs) cs$name, "")
if (anyDuplicated(names_all)) stop("duplicate case names in cases.txt")
if (length(only) > 0) {
    unknown <- setdiff(only, names_all)
    if (length(unknown) > 0) stop("unknown case(s): ", paste(unknown, collapse = " "))
    cases <- cases[names_all %in% only]
}
for (cs in cases) {
    dir <- file.path(out_dir, cs$name)
    unlink(dir, recursive = TRUE)
    run_case(cs, dir)
}
cat(sprintf("reference.R: wrote %d case(s) to %s\n", length(cases), out_dir))
