# A long parametric-bootstrap run in R (lme4's simulate and refit), the reference for the
# bootstrap p-value of the random slope of SES (ancova against random_coef, REML) on hsb40.
# Usage: Rscript lab_boot.R /tmp/hsb40.csv lab_boot.json   (the CSV from export_hsb40.py)
suppressMessages({library(lme4); library(jsonlite)})
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1], colClasses = c(School = "character"))
ctrl <- lmerControl(optimizer = "bobyqa", optCtrl = list(maxfun = 1e5), check.conv.singular = "ignore",
                    calc.derivs = FALSE)
m0 <- lmer(MathAch ~ SES + (1 | School), d, REML = TRUE, control = ctrl)
m1 <- lmer(MathAch ~ SES + (1 + SES | School), d, REML = TRUE, control = ctrl)
observed <- 2 * (as.numeric(logLik(m1)) - as.numeric(logLik(m0)))
B <- 4000
ys <- simulate(m0, nsim = B, seed = 20261202)
t <- vapply(seq_len(B), function(i) {
  f0 <- refit(m0, ys[[i]]); f1 <- refit(m1, ys[[i]])
  max(0, 2 * (as.numeric(logLik(f1)) - as.numeric(logLik(f0))))
}, numeric(1))
p <- (1 + sum(t >= observed)) / (B + 1)
writeLines(toJSON(list(R = R.version.string, lme4 = as.character(packageVersion("lme4")), B = B,
                       observed = observed, p = p, mc_se = sqrt(p * (1 - p) / B),
                       quantiles = as.list(quantile(t, c(0.5, 0.9, 0.95, 0.99)))),
                  auto_unbox = TRUE, digits = NA, pretty = TRUE), args[2])
