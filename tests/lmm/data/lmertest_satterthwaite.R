suppressMessages({library(lmerTest); library(jsonlite)})
d <- read.csv("hs40.csv", colClasses = c(School = "character"))
d$Sector <- factor(d$Sector, levels = c("Catholic", "Public"))
fs <- list(oneway = MathAch ~ 1 + (1 | School),
           means_outcomes = MathAch ~ 1 + Sector + (1 | School),
           random_coef = MathAch ~ 1 + SES + (1 + SES | School),
           ints_slopes = MathAch ~ SES * Sector + (1 + SES | School),
           ctx_w = MathAch ~ 1 + (cvar_SES + dvar_SES) * Sector + (1 + dvar_SES | School))
out <- list(R = R.version.string, lmerTest = as.character(packageVersion("lmerTest")))
for (m in names(fs)) {
  r <- lmer(fs[[m]], d, REML = TRUE, control = lmerControl(optimizer = "bobyqa"))
  ct <- summary(r, ddf = "Satterthwaite")$coefficients
  out[[m]] <- list(df = as.list(setNames(ct[, "df"], rownames(ct))))
}
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE), "lmertest_satterthwaite.json")
