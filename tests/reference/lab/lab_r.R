# R references for the Lab's methods on hsb40 (tests/lmm/test_lab_r.py, tests/test_hausman.py).
# Usage: Rscript lab_r.R /tmp/hsb40.csv lab_r.json   (the CSV from export_hsb40.py)
# Needs r-base-core, r-cran-lme4, r-cran-nlme, r-cran-jsonlite (Debian packages).
suppressMessages({library(lme4); library(nlme); library(jsonlite)})
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1], colClasses = c(School = "character"))
d$Sector <- factor(d$Sector, levels = c("Catholic", "Public"))
out <- list(R = R.version.string, lme4 = as.character(packageVersion("lme4")),
            nlme = as.character(packageVersion("nlme")), n = nrow(d), J = length(unique(d$School)))
ctrl <- lmerControl(optimizer = "bobyqa", optCtrl = list(maxfun = 1e5), check.conv.singular = "ignore")

# --- Hausman: within (lm with school dummies) against the random-intercept GLS slope of SES
fe <- lm(MathAch ~ SES + factor(School), d)
re_lme <- lme(MathAch ~ SES, d, random = ~ 1 | School, method = "REML")
re_lmer <- lmer(MathAch ~ SES + (1 | School), d, REML = TRUE, control = ctrl)
hausman <- function(b_re, v_re) {
  diff <- coef(fe)[["SES"]] - b_re
  v <- vcov(fe)["SES", "SES"] - v_re
  h <- diff^2 / v
  list(fe = coef(fe)[["SES"]], se_fe = sqrt(vcov(fe)["SES", "SES"]), re = b_re, se_re = sqrt(v_re),
       statistic = h, df = 1, p = pchisq(h, 1, lower.tail = FALSE))
}
out$hausman <- list(nlme = hausman(fixef(re_lme)[["SES"]], vcov(re_lme)["SES", "SES"]),
                    lme4 = hausman(fixef(re_lmer)[["SES"]], as.matrix(vcov(re_lmer))["SES", "SES"]))

# --- multilevel R2: Nakagawa-Schielzeth (Johnson's random slopes) and Snijders-Bosker
models <- list(ancova = MathAch ~ SES + (1 | School),
               random_coef = MathAch ~ SES + (1 + SES | School),
               ints_slopes = MathAch ~ SES * Sector + (1 + SES | School))
empty <- lmer(MathAch ~ 1 + (1 | School), d, REML = TRUE, control = ctrl)
level2 <- function(m) {
  G <- as.matrix(VarCorr(m)$School)
  Z <- if (ncol(G) == 1) matrix(1, nrow(d), 1) else cbind(1, d$SES)
  mean(rowSums((Z %*% G) * Z))
}
n_h <- 1 / mean(1 / as.numeric(table(d$School)))
r2 <- list()
for (name in names(models)) {
  m <- lmer(models[[name]], d, REML = TRUE, control = ctrl)
  var_f <- var(as.vector(model.matrix(m) %*% fixef(m)))
  var_r <- level2(m); s2 <- sigma(m)^2
  s2_0 <- sigma(empty)^2; tau_0 <- level2(empty)
  r2[[name]] <- list(var_fixed = var_f, var_random = var_r, var_residual = s2,
                     marginal = var_f / (var_f + var_r + s2), conditional = (var_f + var_r) / (var_f + var_r + s2),
                     level1 = 1 - (s2 + var_r) / (s2_0 + tau_0),
                     level2 = 1 - (s2 / n_h + var_r) / (s2_0 / n_h + tau_0), cluster_size = n_h)
}
out$r2 <- r2

# --- influence of each school on ints_slopes' fixed effects: a loop of lme4 refits
full <- lmer(models$ints_slopes, d, REML = TRUE, control = ctrl)
b <- fixef(full); Vinv <- solve(as.matrix(vcov(full))); p <- length(b)
infl <- list()
for (s in sort(unique(d$School))) {
  m <- lmer(models$ints_slopes, d[d$School != s, ], REML = TRUE, control = ctrl)
  delta <- b - fixef(m)
  infl[[s]] <- list(cook = as.numeric(t(delta) %*% Vinv %*% delta) / p,
                    dfbetas = as.list(delta / sqrt(diag(as.matrix(vcov(m))))))
}
out$influence_ints_slopes <- infl
# --- profile-likelihood intervals of the variance components (lme4 profiles the ML deviance)
prof <- list()
for (name in c("random_coef", "ints_slopes")) {
  m <- lmer(models[[name]], d, REML = TRUE, control = ctrl)
  ci <- suppressWarnings(confint(m, method = "profile", parm = "theta_", oldNames = FALSE))
  prof[[name]] <- list(sd_intercept = unname(ci[1, ]), cor = unname(ci[2, ]), sd_SES = unname(ci[3, ]),
                       sigma = unname(ci[4, ]))
}
out$profile <- prof
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE), args[2])
