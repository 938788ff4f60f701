# The R side of the survival benchmark: the same analyses hetsurv runs, timed
# call by call.  Usage: Rscript r_survival.R DATA.csv
suppressPackageStartupMessages(library(survival))
args <- commandArgs(trailingOnly = TRUE)
tr <- system.time(d <- read.csv(args[1]))[["elapsed"]]
d$group <- factor(d$group)
tc <- system.time(fit <- coxph(Surv(time, status) ~ x1 + x2 + x3 + x4 + x5 + group, data = d, ties = "efron"))[["elapsed"]]
tk <- system.time(km <- survfit(Surv(time, status) ~ group, data = d))[["elapsed"]]
tl <- system.time(lr <- survdiff(Surv(time, status) ~ group, data = d))[["elapsed"]]
cat(sprintf("R read.csv %.3f coxph %.3f survfit %.3f survdiff %.3f calls %.3f\n", tr, tc, tk, tl, tc + tk + tl))
cat(sprintf("R loglik %.17g concordance %.17g logrank %.17g\n", fit$loglik[2], fit$concordance["concordance"], lr$chisq))
