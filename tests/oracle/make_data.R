# Generates the data sets of the R survival oracle (tests/oracle/data/*.csv).
#
# Two come from the survival package (lung, veteran); the rest are synthetic,
# each built to exercise one hard spot of `hetsurv survival`: tied times,
# heavy censoring, factor level order, strata, monotone likelihood, tiny n,
# floating-point times that need timefix, missing cells, and medians that fall
# on a plateau at exactly 0.5.  Every generator has its own set.seed so the
# files do not change when another generator is edited.
#
# Usage (from any directory): Rscript tests/oracle/make_data.R
# The files are committed; rerun only to change the data, then rerun
# reference.R.

suppressPackageStartupMessages(library(survival))

script_dir <- function() {
    arg <- grep("^--file=", commandArgs(FALSE), value = TRUE)
    if (length(arg) == 0) return(getwd())
    dirname(normalizePath(sub("^--file=", "", arg[1])))
}
out_dir <- file.path(script_dir(), "data")
dir.create(out_dir, showWarnings = FALSE)

# Writes df as CSV.  Numbers use `digits` significant digits (17 keeps every
# double exact; fewer keeps hand-made values readable); a named `digits` sets
# it for the named columns and its first element for the others.  A cell that is NA is
# written as the string in `na` (per column if a vector is given per row:
# `na_cells`, a list of column -> character vector of "" or "NA").
write_data <- function(df, name, digits = 15, na = "NA", na_cells = list()) {
    cols <- lapply(names(df), function(col) {
        v <- df[[col]]
        d <- if (!is.null(names(digits)) && col %in% names(digits)) digits[[col]] else digits[[1]]
        s <- if (is.numeric(v)) sprintf(paste0("%.", d, "g"), v) else as.character(v)
        miss <- is.na(v)
        if (!is.null(na_cells[[col]])) s[miss] <- na_cells[[col]][miss] else s[miss] <- na
        need_quote <- grepl("[\",\n]", s)
        s[need_quote] <- paste0("\"", gsub("\"", "\"\"", s[need_quote]), "\"")
        s
    })
    lines <- c(paste(names(df), collapse = ","), do.call(paste, c(cols, sep = ",")))
    writeLines(lines, file.path(out_dir, paste0(name, ".csv")))
}

# lung: the package data unchanged (status 1/2, NAs kept).
write_data(survival::lung, "lung")

# veteran: celltype written as its level names (squamous, smallcell, adeno,
# large); in C byte order the reference level becomes adeno.
vet <- survival::veteran
vet$celltype <- as.character(vet$celltype)
write_data(vet[, c("trt", "celltype", "time", "status", "karno", "diagtime", "age", "prior")], "veteran")

# ties: 300 rows, integer times 1..6, so almost every event time is tied.
set.seed(101)
n <- 300
grp <- sample(c("A", "B"), n, replace = TRUE)
x <- round(rnorm(n), 2)
lin <- 0.5 * (grp == "B") + 0.4 * x
time <- pmin(ceiling(rexp(n, rate = 0.25 * exp(lin))), 6)
status <- ifelse(time == 6, rbinom(n, 1, 0.3), rbinom(n, 1, 0.8))
write_data(data.frame(time, status, grp, x), "ties")

# censor: ~80% censored; arm levels alpha, Beta, gamma sort as Beta, alpha,
# gamma in C byte order (uppercase first), unlike most locales.
set.seed(202)
n <- 400
arm <- sample(c("alpha", "Beta", "gamma"), n, replace = TRUE)
x <- round(rnorm(n, 50, 10), 1)
te <- rexp(n, rate = 0.02 * exp(0.4 * (arm == "Beta") - 0.3 * (arm == "gamma") + 0.02 * (x - 50)))
tc <- runif(n, 0, 25)
time <- round(pmin(te, tc), 3)
status <- as.integer(te <= tc)
write_data(data.frame(time, status, arm, x), "censor")

# factor3: a 3-level text factor (low/mid/high: reference `high` in byte
# order), a numeric-coded factor grade in {1,2,3,10} (numeric order 1,2,3,10,
# not 1,10,2,3), correlated covariates x1, x2 (r ~ 0.7) and x1dup = 2*x1
# (exactly collinear: aliased).
set.seed(303)
n <- 250
level <- sample(c("low", "mid", "high"), n, replace = TRUE, prob = c(0.4, 0.35, 0.25))
grade <- sample(c(1, 2, 3, 10), n, replace = TRUE)
x1 <- round(rnorm(n), 3)
x2 <- round(0.7 * x1 + sqrt(1 - 0.49) * rnorm(n), 3)
x1dup <- 2 * x1
sex <- rbinom(n, 1, 0.5)
lin <- 0.5 * x1 - 0.3 * x2 + 0.6 * (level == "mid") + 1.0 * (level == "high") +
    c(0, 0.2, 0.5, 0.9)[match(grade, c(1, 2, 3, 10))] - 0.3 * sex
te <- rweibull(n, shape = 1.3, scale = 10 * exp(-lin / 1.3))
tc <- runif(n, 2, 30)
time <- round(pmin(te, tc), 2)
status <- as.integer(te <= tc)
write_data(data.frame(time, status, sex, level, grade, x1, x2, x1dup), "factor3")

# strata: treatment 0/1 within three centres with different baselines.
set.seed(404)
n <- 300
center <- sample(c("north", "south", "east"), n, replace = TRUE)
trt <- rbinom(n, 1, 0.5)
x <- round(rnorm(n), 2)
base <- c(north = 0.05, south = 0.12, east = 0.3)[center]
te <- rexp(n, rate = base * exp(-0.5 * trt + 0.3 * x))
tc <- runif(n, 1, 40)
time <- round(pmin(te, tc), 1)
status <- as.integer(te <= tc)
write_data(data.frame(time, status, trt, center, x), "strata")

# nodeath: group c has no events (monotone likelihood for g=c); sep = -time
# makes every dying subject the highest-x member of its risk set (monotone
# likelihood for a numeric covariate).
set.seed(505)
n <- 60
g <- rep(c("a", "b", "c"), each = 20)
x <- round(rnorm(n), 2)
time <- round(rexp(n, 0.1), 1) + 0.1
status <- ifelse(g == "c", 0L, rbinom(n, 1, 0.8))
sep <- -time
write_data(data.frame(time, status, g, x, sep), "nodeath")

# tiny6 / tiny8: a handful of rows, with a death and a censoring at the same
# time and tied deaths.
write_data(data.frame(
    time = c(2, 3, 3, 5, 7, 9),
    status = c(1, 1, 0, 1, 0, 1),
    grp = c("x", "y", "x", "y", "x", "y"),
    x = c(0.5, 1.2, -0.3, 2.0, 0.1, 0.9)), "tiny6")
write_data(data.frame(
    time = c(1, 2, 2, 4, 4, 6, 8, 11),
    status = c(1, 1, 1, 0, 1, 1, 0, 1),
    grp = c("u", "v", "u", "v", "u", "v", "u", "v"),
    x = c(1.5, -0.2, 0.7, 0.3, 2.2, -1.1, 0.4, 0.0)), "tiny8")

# timefix: times in months (days/30.44) computed three ways that differ only by
# rounding, so equal days give times a few ulps apart which timefix must merge;
# also pairs 1e-6 (relative) apart, which it must keep distinct.  Written with
# 17 significant digits so the near-duplicates survive the round trip.
set.seed(606)
n <- 200
days <- sample(20:900, n, replace = TRUE)
days[seq(2, n, by = 4)] <- days[seq(1, n, by = 4)]  # force exact-day duplicates
way <- rep(1:3, length.out = n)
time <- ifelse(way == 1, days / 30.44, ifelse(way == 2, days * (1 / 30.44), (days * 12) / (30.44 * 12)))
far <- seq(3, n, by = 10)
time[far] <- days[far] / 30.44 * (1 + 1e-6)
arm <- sample(c("ctl", "trt"), n, replace = TRUE)
x <- round(rnorm(n), 2)
status <- rbinom(n, 1, 0.6)
write_data(data.frame(time, status, arm, x), "timefix", digits = c(15, time = 17))

# missing: empty cells and NA cells in the time, event, group and covariate
# columns (each missing cell is written as either "" or "NA").
set.seed(707)
n <- 150
grp <- sample(c("ctl", "trt"), n, replace = TRUE)
x1 <- round(rnorm(n), 2)
x2 <- round(runif(n, 20, 80))
f <- sample(c("p", "q", "r"), n, replace = TRUE)
te <- rexp(n, 0.1 * exp(0.3 * x1 + 0.4 * (grp == "trt")))
tc <- runif(n, 2, 25)
time <- round(pmin(te, tc), 2)
status <- as.integer(te <= tc)
punch <- function(v, k) { i <- sample(n, k); v[i] <- NA; v }
time <- punch(time, 4); status <- punch(status, 3); grp <- punch(grp, 5)
x1 <- punch(x1, 12); x2 <- punch(x2, 6); f <- punch(f, 8)
df <- data.frame(time, status, grp, x1, x2, f)
na_cells <- lapply(df, function(v) ifelse(seq_along(v) %% 2 == 0, "", "NA"))
write_data(df, "missing", na_cells = na_cells)

# midpoint: group A (10 deaths at 1..10) has S = 0.5 exactly on [5,6), so the
# median is the midpoint 5.5; group B ends flat at S = 0.5 (median = the time
# of reaching it, no midpoint); group C never reaches 0.5 (median NA).
write_data(data.frame(
    time = c(1:10, 1, 2, 3, 4, 5, 6, 7, 8, 2, 3, 4, 5, 6, 7, 8, 9),
    status = c(rep(1, 10), 1, 1, 1, 1, 0, 0, 0, 0, 1, 0, 0, 1, 0, 0, 0, 0),
    grp = c(rep("A", 10), rep("B", 8), rep("C", 8))), "midpoint")
