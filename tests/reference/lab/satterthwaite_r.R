# R reference for the `satterthwaite` part of the inference record on hsb40
# (tests/test_inference_step.py): lmerTest's Satterthwaite DF and p-values of the catalog's
# mixed models that use y, x and w only, REML.
# Usage:
#   .venv/bin/python tests/reference/lab/export_hsb40.py /tmp/hsb40.csv
#   Rscript tests/reference/lab/satterthwaite_r.R /tmp/hsb40.csv tests/reference/lab/satterthwaite_r.json
# Needs r-base-core, r-cran-lmertest and r-cran-jsonlite (Debian packages).
suppressMessages({library(lmerTest); library(jsonlite)})
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1], colClasses = c(School = "character"))
d$Sector <- factor(d$Sector, levels = c("Catholic", "Public"))
models <- list(oneway = MathAch ~ 1 + (1 | School),
               means_outcomes = MathAch ~ 1 + Sector + (1 | School),
               ancova = MathAch ~ 1 + SES + (1 | School),
               random_coef = MathAch ~ 1 + SES + (1 + SES | School),
               ints_slopes = MathAch ~ SES * Sector + (1 + SES | School),
               nonrandom_slopes = MathAch ~ SES * Sector + (1 | School),
               parallel = MathAch ~ 1 + SES + Sector + (1 + SES | School))
ctrl <- lmerControl(optimizer = "bobyqa", optCtrl = list(maxfun = 1e5), check.conv.singular = "ignore")
out <- list(R = R.version.string, lme4 = as.character(packageVersion("lme4")),
            lmerTest = as.character(packageVersion("lmerTest")))
for (name in names(models)) {
  m <- lmer(models[[name]], d, REML = TRUE, control = ctrl)
  ct <- summary(m, ddf = "Satterthwaite")$coefficients
  out[[name]] <- list(df = as.list(setNames(ct[, "df"], rownames(ct))),
                      p = as.list(setNames(ct[, "Pr(>|t|)"], rownames(ct))))
}
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE), args[2])
