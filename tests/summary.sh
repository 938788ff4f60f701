#!/bin/sh
# Adds up the tallies of every check in make check ("NAME PASSED FAILED [SKIPPED]") and prints the
# closing line "N passed, N failed" (", N skipped" when a check could not run here: skipped is never
# passed); exits non-zero when anything failed.
tally=$1
if [ ! -s "$tally" ]; then echo "0 passed, 1 failed"; exit 1; fi
awk '{ printf "  %-12s %d passed, %d failed%s\n", $1, $2, $3, ($4 > 0 ? sprintf(", %d skipped", $4) : "")
       p += $2; f += $3; s += $4 }
     END { printf "%d passed, %d failed%s\n", p, f, (s > 0 ? sprintf(", %d skipped", s) : ""); exit (f > 0) }' "$tally"
