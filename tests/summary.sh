#!/bin/sh
# Adds up the tallies of every check in make check and prints the closing
# line "N passed, N failed"; exits non-zero when anything failed.
tally=$1
if [ ! -s "$tally" ]; then echo "0 passed, 1 failed"; exit 1; fi
awk '{ printf "  %-12s %d passed, %d failed\n", $1, $2, $3; p += $2; f += $3 }
     END { printf "%d passed, %d failed\n", p, f; exit (f > 0) }' "$tally"
