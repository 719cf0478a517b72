# R references for the Lab's catalog models on hsb40 (tests/test_models.py): ctx_ri, rs_raw and the
# Minority models mino_ri, mino_rs, mino_rs_z (config/config.yaml).
# Usage: Rscript lab_models.R /tmp/hsb40.csv lab_models.json   (the CSV from export_hsb40.py)
# Needs r-base-core, r-cran-lme4, r-cran-nlme, r-cran-jsonlite (Debian packages).
suppressMessages({library(lme4); library(nlme); library(jsonlite)})
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1], colClasses = c(School = "character"))
d$Sector <- factor(d$Sector, levels = c("Catholic", "Public"))
d$Minority <- factor(d$Minority, levels = c("No", "Yes"))
d$cvar_SES <- ave(d$SES, d$School)                              # the school mean of SES
d$cvar_Minority <- ave(as.numeric(d$Minority == "Yes"), d$School)  # the school's share of minority
fixed_mino <- MathAch ~ SES * Sector + Sector * Minority + cvar_SES + cvar_Minority
models <- list(
  ctx_ri = list(fixed = MathAch ~ 1 + cvar_SES + SES, random = ~ 1 | School),
  rs_raw = list(fixed = MathAch ~ 1 + cvar_SES + SES, random = ~ 1 + SES | School),
  mino_ri = list(fixed = fixed_mino, random = ~ 1 | School),
  mino_rs = list(fixed = fixed_mino, random = ~ 1 + SES | School),
  mino_rs_z = list(fixed = fixed_mino, random = ~ 1 + SES + Minority | School))
ctrl <- lmerControl(optimizer = "bobyqa", optCtrl = list(maxfun = 1e5), check.conv.singular = "ignore")
out <- list(R = R.version.string, lme4 = as.character(packageVersion("lme4")),
            nlme = as.character(packageVersion("nlme")), n = nrow(d), J = length(unique(d$School)))
for (name in names(models)) {
  m <- models[[name]]
  bars <- paste0("(", deparse(m$random[[2]]), ")")
  f4 <- update(m$fixed, as.formula(paste(". ~ . +", bars)))
  fit4 <- lmer(f4, d, REML = TRUE, control = ctrl)
  # nlme's DF (its between/within rule, not SAS's containment) for the same fixed part; a random intercept suffices
  fit_n <- lme(m$fixed, d, random = ~ 1 | School, method = "REML")
  out[[name]] <- list(fixef = as.list(fixef(fit4)), se = as.list(sqrt(diag(as.matrix(vcov(fit4))))),
                      logLik = as.numeric(logLik(fit4)), sigma = sigma(fit4),
                      G = unname(as.matrix(VarCorr(fit4)$School)),
                      df = as.list(summary(fit_n)$tTable[, "DF"]))
}
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE), args[2])
