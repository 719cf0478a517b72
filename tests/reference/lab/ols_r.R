# R reference for the preliminary OLS of the Minority example on hsb40 (tests/test_olsdiag.py):
# lm(MathAch ~ SES * Sector + Minority * Sector), its unit diagnostics (hatvalues, rstandard,
# cooks.distance) and the Cook's distance of deleting each school, from a loop of lm refits.
# Usage:
#   .venv/bin/python tests/reference/lab/export_hsb40.py /tmp/hsb40.csv
#   Rscript tests/reference/lab/ols_r.R /tmp/hsb40.csv data/raw/hsb_students.csv tests/reference/lab/ols_r.json
# The export gives the sample (its schools and their Sector); the raw unit file gives each
# student's Minority and row number (1-based, as the pipeline's `row`). Needs r-base-core and
# r-cran-jsonlite (Debian packages).
suppressMessages(library(jsonlite))
args <- commandArgs(trailingOnly = TRUE)
e <- read.csv(args[1], colClasses = c(School = "character"))
raw <- read.csv(args[2], colClasses = c(School = "character"))
raw$row <- seq_len(nrow(raw))
d <- raw[raw$School %in% unique(e$School), ]
d <- merge(d, unique(e[, c("School", "Sector")]), by = "School")
d <- d[order(as.numeric(d$School), d$row), ]
stopifnot(nrow(d) == nrow(e), isTRUE(all.equal(d$MathAch, e$MathAch)), isTRUE(all.equal(d$SES, e$SES)))
d$Sector <- factor(d$Sector, levels = c("Catholic", "Public"))
d$Minority <- factor(d$Minority, levels = c("No", "Yes"))

f <- MathAch ~ SES * Sector + Minority * Sector
m <- lm(f, d)
ct <- summary(m)$coefficients
p <- length(coef(m)); s2 <- summary(m)$sigma^2; XtX <- crossprod(model.matrix(m))
clusters <- list()
for (s in sort(unique(d$School))) {
  b_s <- coef(lm(f, d[d$School != s, ]))
  delta <- coef(m) - b_s
  clusters[[s]] <- as.numeric(t(delta) %*% XtX %*% delta) / (p * s2)
}
out <- list(R = R.version.string, formula = deparse(f), n = nrow(d),
            coef = as.list(coef(m)), se = as.list(ct[, "Std. Error"]), p = as.list(ct[, "Pr(>|t|)"]),
            r2 = summary(m)$r.squared, sigma = summary(m)$sigma,
            units = list(row = d$row, cluster = d$School, fitted = unname(fitted(m)),
                         resid = unname(resid(m)), std_resid = unname(rstandard(m)),
                         leverage = unname(hatvalues(m)), cooks = unname(cooks.distance(m))),
            clusters = clusters)
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE), args[3])
