suppressMessages({library(lme4); library(nlme); library(jsonlite)})
models <- list(
  oneway = list(MathAch ~ 1, ~ 1 | School),
  means_outcomes = list(MathAch ~ 1 + Sector, ~ 1 | School),
  ancova = list(MathAch ~ 1 + SES, ~ 1 | School),
  random_coef = list(MathAch ~ 1 + SES, ~ 1 + SES | School),
  ints_slopes = list(MathAch ~ SES * Sector, ~ 1 + SES | School),
  nonrandom_slopes = list(MathAch ~ SES * Sector, ~ 1 | School),
  parallel = list(MathAch ~ 1 + SES + Sector, ~ 1 + SES | School),
  ctx_cwg = list(MathAch ~ 1 + cvar_SES + dvar_SES, ~ 1 + dvar_SES | School),
  ctx_raw = list(MathAch ~ 1 + cvar_SES + SES, ~ 1 + dvar_SES | School),
  ctx_w = list(MathAch ~ 1 + (cvar_SES + dvar_SES) * Sector, ~ 1 + dvar_SES | School))
out <- list(R = R.version.string, lme4 = as.character(packageVersion("lme4")), nlme = as.character(packageVersion("nlme")))
for (ds in c("hsb160", "random40")) {
  d <- read.csv(sprintf("%s.csv", ds), colClasses = c(School = "character"))
  d$Sector <- factor(d$Sector, levels = c("Catholic", "Public"))
  res <- list()
  for (m in names(models)) {
    fx <- models[[m]][[1]]; rn <- models[[m]][[2]]
    re_lhs <- deparse(rn[[2]][[2]])
    f4 <- as.formula(paste(deparse(fx), "+ (", re_lhs, "| School)"))
    ctrl <- lmerControl(optimizer = "bobyqa", optCtrl = list(maxfun = 1e5), check.conv.singular = "ignore")
    r4 <- lmer(f4, d, REML = TRUE, control = ctrl)
    r4ml <- update(r4, REML = FALSE)
    vc <- as.data.frame(VarCorr(r4))
    n1 <- tryCatch(lme(fx, d, random = rn, control = lmeControl(maxIter = 500, msMaxIter = 500, niterEM = 100)), error = function(e) NULL)
    res[[m]] <- list(
      lme4 = list(fixef = as.list(fixef(r4)), se = as.list(sqrt(diag(as.matrix(vcov(r4))))),
                  logLik = as.numeric(logLik(r4)), ML_logLik = as.numeric(logLik(r4ml)),
                  sigma = sigma(r4), G = unname(as.matrix(VarCorr(r4)$School)), singular = isSingular(r4)),
      nlme = if (is.null(n1)) NULL else list(df = as.list(summary(n1)$tTable[, "DF"]), logLik = as.numeric(logLik(n1)),
                  se = as.list(summary(n1)$tTable[, "Std.Error"])))
  }
  out[[ds]] <- res
}
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE), "lme4_checks.json")
