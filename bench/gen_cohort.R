# Benchmark cohort: n rows, 5 correlated covariates, a 3-level group, integer-day
# times from a Cox model with ~50% censoring.  Usage: Rscript gen_cohort.R N OUT.csv
args <- commandArgs(trailingOnly = TRUE)
n <- as.integer(args[1]); out <- args[2]
set.seed(20261130)
z <- rnorm(n)
x1 <- round(0.6 * z + rnorm(n), 4)
x2 <- round(0.4 * z + rnorm(n), 4)
x3 <- rbinom(n, 1, 0.4)
x4 <- round(runif(n, 30, 80), 1)
x5 <- rpois(n, 3)
g <- sample(c("low", "mid", "high"), n, replace = TRUE)
lp <- 0.3 * x1 - 0.2 * x2 + 0.4 * x3 + 0.01 * x4 + 0.05 * x5 + ifelse(g == "high", 0.3, ifelse(g == "mid", 0.1, 0))
t <- ceiling(rexp(n, 0.001 * exp(lp)))
cens <- ceiling(runif(n, 1, 500))
d <- data.frame(time = pmin(t, cens), status = as.integer(t <= cens), x1, x2, x3, x4, x5, group = g)
write.csv(d, out, row.names = FALSE, quote = FALSE)
cat(sprintf("bench data: %d rows, %.1f%% censored\n", n, 100 * mean(d$status == 0)))
