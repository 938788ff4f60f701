#!/bin/sh
# Regression tests of inputs that broke hetsurv (../shared/fuzz-repro, the hardening issue), each kept in
# tests/repro/data: a slide stating an absurd pixel size (1e-9, 1e-12, 1e-5 um in the image description;
# pHYs 4294967295 px/m in a PNG) once crashed `score` or was reported as "out of memory"; now it is an error
# row naming the pixel size and where it came from, and the other slides of the batch are scored.  A FIFO
# named like a slide once blocked `score` forever; now it is refused at once.  A NUL byte inside a CSV or TSV
# field once truncated it silently; now the file, line and field are named.
# Usage: tests/repro/run.sh BUILD_DIR TALLY_FILE
here=$(cd "$(dirname "$0")" && pwd)
bin=$(cd "$1" && pwd)/hetsurv
tally=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
suite=repro pass=0 fail=0
. "$here/../cohort_checks.sh"
cd "$tmp" || exit 1
"$bin" simulate --patients 1 --seed 3 --size 1024 --out c > /dev/null 2>&1 || no "simulate"
good=c/slides/P001.tif

# 1. absurd pixel sizes: an error row that names the size and its source; the good slide beside it is scored
for x in "desc_mpp_tiny.tif:1e-09:the image description's MPP" "desc_mpp_tinier.tif:1e-12:the image description's MPP" \
         "desc_mpp_small.tif:1e-05:the image description's MPP" "P_physmax.png:0.000232831:the PNG pHYs chunk"; do
  f=${x%%:*} rest=${x#*:}; size=${rest%%:*} src=${rest#*:}
  timeout 120 "$bin" score "$here/data/$f" "$good" --out "$f.csv" > "$f.log" 2>&1
  expect "$f: exit (one slide failed)" 1 "$?"
  has "$f: the size and its source named" "pixel size $size x $size um \\(from $src\\) is not plausible" "$f.log"
  has "$f: an error row" "^[^,]*$f,error," "$f.csv"
  has "$f: the good slide still scored" "^$good,ok," "$f.csv"
  if grep -q 'out of memory' "$f.csv" "$f.log"; then no "$f: still said 'out of memory'"; else ok; fi
done
timeout 60 "$bin" score "$good" --mpp 1e-9 --out o.csv > o.log 2>&1
expect "--mpp 1e-9: exit" 1 "$?"
has "--mpp 1e-9 refused, named" 'pixel size override 1e-09 um is not plausible' o.log

# 2. a FIFO named like a slide: refused at once, not a hang
mkfifo x.tif
timeout 20 "$bin" score x.tif "$good" --out x.csv > x.log 2>&1
rc=$?
if [ "$rc" -eq 124 ]; then no "FIFO: score still blocks (killed after 20 s)"; else expect "FIFO: exit" 1 "$rc"; fi
has "FIFO: said so" 'x.tif: not a regular file \(a FIFO\)' x.log
has "FIFO: the good slide still scored" "^$good,ok," x.csv

# 3. a NUL byte inside a field once ended it silently ("5\0002.57" read as 5, the manifest "valid"): now every
#    CSV/TSV reader names the file, line and field
d=$here/data
"$bin" validate "$d/M_nul_infield_num.csv" --no-slide-check > n1.log 2>&1
expect "NUL in a manifest: validate fails" 1 "$?"
has "NUL in a manifest: named" 'M_nul_infield_num.csv:4:3: a NUL byte inside the field' n1.log
"$bin" survival --data "$d/V_nul_infield_num.csv" --time time --event status --out v > n2.log 2>&1
expect "NUL in a survival table: exit" 1 "$?"
has "NUL in a survival table: named" 'V_nul_infield_num.csv:4:3: a NUL byte inside the field' n2.log
"$bin" score --qupath "$d/Q_nul_num.tsv" --out q1.csv > n3.log 2>&1
expect "NUL in a QuPath number: exit" 1 "$?"
has "NUL in a QuPath number: named" 'Q_nul_num.tsv:2:5: a NUL byte inside the field' n3.log
"$bin" score --qupath "$d/Q_image_nul.tsv" --out q2.csv > n4.log 2>&1
expect "NUL in a QuPath image name: exit" 1 "$?"
has "NUL in a QuPath image name: named" 'Q_image_nul.tsv:5:1: a NUL byte inside the field' n4.log

# 4. a covariate on an extreme scale (one age of 1e300): R's coxph gives se 0, z Inf, p 0, which reads as a
# certain effect.  hetsurv keeps R's coefficient, flags the term "degenerate" and gives no se, z, p or CI.
"$bin" survival --data "$d/extreme_covariate.csv" --time dfs_time --event dfs_event --covariates age,grade \
  --no-plots --out x > x1.log 2>&1
expect "extreme covariate: exit" 0 "$?"
has "extreme covariate: flagged, no se/z/p/CI" '^age,[^,]+,NA,NA,NA,1,NA,NA,degenerate$' x/cox.csv
has "extreme covariate: warned" 'WARNING: the variance of variable 1 \(age\) is 0 or not finite' x1.log
if command -v Rscript > /dev/null 2>&1; then
  # the coefficients still equal R's (relative 1e-9), and so does the other term's whole row
  Rscript -e 'suppressMessages(library(survival)); d <- read.csv(commandArgs(TRUE)[1])
    s <- summary(coxph(Surv(dfs_time, dfs_event) ~ age + grade, data = d))$coefficients
    cat(sprintf("%.17g", c(s[1, 1], s[2, 1], s[2, 3], s[2, 5])), sep = "\n")' "$d/extreme_covariate.csv" > x.r 2>&1
  got=$(awk -F, '$1 == "age" { print $2 } $1 == "grade" { print $2; print $3; print $5 }' x/cox.csv)
  cmpr=$(printf '%s\n' "$got" | paste - x.r | awk '{ d = $1 - $2; if (d < 0) d = -d; a = $2 < 0 ? -$2 : $2
    if (!(d <= 1e-9 * a)) bad++ } END { print NR == 4 && bad == 0 ? "same" : "differ" }')
  expect "extreme covariate: coefficients as R's" same "$cmpr"
else
  no "extreme covariate: Rscript missing (make deps installs r-base-core)"
fi

echo "repro: $pass passed, $fail failed"
echo "repro $pass $fail" >> "$tally"
