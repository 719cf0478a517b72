# lme4's REML logLik on the notes' simulated design with 10,000 clusters (lme4_large.json).
# The CSV is written by
#   cd tests/lmm && python -c "from test_affine import notes_design; notes_design(10000, 2026).to_csv('nd10k.csv', index=False)"
suppressMessages(library(lme4))
d <- read.csv("nd10k.csv")
m <- lmer(y ~ x * w + (1 + x | g), d, REML = TRUE)
m2 <- update(m, control = lmerControl(optimizer = "bobyqa", optCtrl = list(maxfun = 1e5)))
cat(sprintf("%.6f %.6f\n", logLik(m), logLik(m2)))
