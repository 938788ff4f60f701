#!/bin/sh
# make bench: hetsurv against R survival on the same 1e6-row CSV, in one run.
# Prints times, the speedup (R's time / hetsurv's time) and peak memory of each.
set -e
build=${1:-build}
n=${BENCH_N:-1000000}
here=$(cd "$(dirname "$0")" && pwd)
work=$build/bench
mkdir -p "$work"
data=$work/cohort_$n.csv
[ -s "$data" ] || Rscript "$here/gen_cohort.R" "$n" "$data"
echo "== survival: Cox (Efron, 5 covariates + 3-level group) + concordance, KM by group, log-rank; n = $n"

/usr/bin/time -f '%e %M' -o "$work/r.time" Rscript "$here/r_survival.R" "$data" > "$work/r.out"
cat "$work/r.out"
best=
for i in 1 2 3; do
  /usr/bin/time -f '%e %M' -o "$work/h.time" "$build/hetsurv" survival --data "$data" --time time --event status \
    --group group --covariates x1,x2,x3,x4,x5 --out "$work/out" --no-plots > "$work/h.out"
  t=$(cut -d' ' -f1 "$work/h.time")
  if [ -z "$best" ] || awk "BEGIN{exit !($t < $best)}"; then best=$t; fi
done
hmem=$(cut -d' ' -f2 "$work/h.time")
# the figures survival draws by default (KM and forest, PNG + PDF + SVG), timed apart: R's time has no plot
/usr/bin/time -f '%e %M' -o "$work/hf.time" "$build/hetsurv" survival --data "$data" --time time --event status \
  --group group --covariates x1,x2,x3,x4,x5 --out "$work/outf" > /dev/null
awk -v f="$(cut -d' ' -f1 "$work/hf.time")" -v b="$best" -v d="$work/outf" 'BEGIN {
  printf "hetsurv survival with its figures (km.*, forest.* in PNG, PDF, SVG): %.3f s, %.3f s more than without\n", f, f - b }'
ls -l "$work/outf"/km.png "$work/outf"/km.pdf "$work/outf"/km.svg | awk '{ printf "  %s %d bytes\n", $NF, $5 }'
rcalls=$(awk '/^R read.csv/ {print $11}' "$work/r.out")
rread=$(awk '/^R read.csv/ {print $3}' "$work/r.out")
rmem=$(cut -d' ' -f2 "$work/r.time")
echo "hetsurv loglik $(awk -F, 'NR==2{print $4}' "$work/out/fit.csv") concordance $(awk -F, 'NR==2{print $7}' "$work/out/fit.csv") logrank $(awk -F, '$1=="logrank"{print $2}' "$work/out/tests.csv")"
awk -v h="$best" -v rc="$rcalls" -v rr="$rread" -v hm="$hmem" -v rm="$rmem" 'BEGIN {
  printf "hetsurv survival (whole command, CSV read included, best of 3): %.3f s\n", h
  printf "R coxph+survfit+survdiff calls (CSV read excluded): %.3f s; with read.csv: %.3f s\n", rc, rc + rr
  printf "speedup vs R calls: %.1fx (target >= 10x: %s); vs R including read.csv: %.1fx\n", rc / h, (rc / h >= 10 ? "met" : "NOT MET"), (rc + rr) / h
  printf "peak memory: hetsurv %.0f MB, R %.0f MB, ratio %.2f (target < 1: %s)\n", hm / 1024, rm / 1024, hm / rm, (hm < rm ? "met" : "NOT MET")
}'
