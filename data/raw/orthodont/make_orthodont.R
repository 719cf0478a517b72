# The growth study of Potthoff and Roy (1964), as distributed with R's nlme package
# (data set `Orthodont`), exported to two CSV files the book's pipeline reads:
#
#   orthodont_measurements.csv  one row per measurement: Subject, age, distance
#   orthodont_children.csv      one row per child: Subject, Sex
#
# Run from this folder:  Rscript make_orthodont.R
# The values are written unchanged; rows are ordered by child id and age.
library(nlme)

d <- as.data.frame(Orthodont)
d$Subject <- as.character(d$Subject)
d$Sex <- as.character(d$Sex)
d <- d[order(d$Subject, d$age), ]

measurements <- d[, c("Subject", "age", "distance")]
children <- unique(d[, c("Subject", "Sex")])
stopifnot(nrow(measurements) == 108, nrow(children) == 27,
          !anyDuplicated(children$Subject), all(table(d$Subject) == 4))

write.csv(measurements, "orthodont_measurements.csv", row.names = FALSE, quote = FALSE)
write.csv(children, "orthodont_children.csv", row.names = FALSE, quote = FALSE)
cat(sprintf("nlme %s: %d measurements of %d children\n", packageVersion("nlme"),
            nrow(measurements), nrow(children)))
