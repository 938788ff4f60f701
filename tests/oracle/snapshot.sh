#!/bin/sh
# Snapshot of everything `hetsurv survival` produces, to prove a refactoring changes no byte:
# run it with the binary before and after, then compare the two folders with `diff -r`.
#
# Usage: tests/oracle/snapshot.sh HETSURV OUTDIR
#   Runs every case of cases.txt and the extra runs below (options the cases do not combine,
#   one-level groups, a singular cox.zph, failures, a 200000-row table that uses the threads and
#   the two-part CSV read) and keeps, per run, OUTDIR/RUN/{stdout,stderr,status,modes} and the
#   output files (OUTDIR/RUN/files/).  The output folder's path is replaced by OUT in stdout/stderr.
set -u
if [ $# -ne 2 ]; then
  echo "usage: $0 HETSURV OUTDIR" >&2
  exit 2
fi
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
here=$(cd "$(dirname "$0")" && pwd)
rm -rf "$2"
mkdir -p "$2/.data"
out=$(cd "$2" && pwd)
data=$out/.data
run() {
  name=$1; shift
  mkdir -p "$out/$name/files"
  (cd "$here" && "$bin" survival "$@" --out "$out/$name/files") > "$out/$name/stdout" 2> "$out/$name/stderr" < /dev/null
  echo $? > "$out/$name/status"
  sed -i "s|$out/$name/files|OUT|g; s|$data/|DATA/|g" "$out/$name/stdout" "$out/$name/stderr"
  (cd "$out/$name/files" && for f in * .[!.]*; do [ -e "$f" ] && stat -c '%a %n' "$f"; done) > "$out/$name/modes"
}
grep -v -E '^[[:space:]]*(#|$)' "$here/cases.txt" | while read -r name rest; do
  args=$(for w in $rest; do case $w in @*) ;; *) printf '%s ' "$w" ;; esac; done)
  # shellcheck disable=SC2086 # split on purpose
  run "case_$name" $args
done
run x_lung_all --data data/lung.csv --time time --event status --group sex --covariates age,ph.ecog,ph.karno,wt.loss \
  --strata inst --ties breslow --conf-type log-log --rho 0.5 --tau 500
run x_lung_nocov_tau --data data/lung.csv --time time --event status --group ph.ecog --tau 200
run x_lung_cov_only --data data/lung.csv --time time --event status --covariates age,sex
run x_veteran_factors --data data/veteran.csv --time time --event status --group celltype --covariates trt,prior,karno \
  --factors trt,prior --strata trt
run x_factor3_grade --data data/factor3.csv --time time --event status --group grade --covariates level,x1 \
  --factors level --conf-type plain
run x_missing_strata --data data/missing.csv --time time --event status --group f --covariates x1 --strata grp
run x_nodeath_zph --data data/nodeath.csv --time time --event status --group g --covariates x,sep
run x_badcol --data data/lung.csv --time time --event nope
run x_badevent --data data/lung.csv --time time --event age
run x_badtime --data data/lung.csv --time wt.loss --event status
run x_nofile --data data/nothere.csv --time time --event status
run x_text_cov --data data/veteran.csv --time time --event status --covariates celltype
printf 'time,status,g,x\n1,1,a,0.5\n2,0,a,0.1\n3,1,a,0.7\n4,1,a,0.2\n' > "$data/one.csv"
run x_one_group --data "$data/one.csv" --time time --event status --group g
run x_one_group_cov --data "$data/one.csv" --time time --event status --group g --covariates x
run x_strata_cov_only --data data/strata.csv --time time --event status --covariates x,trt --factors trt \
  --strata center --conf-type log-log
run x_tau_short --data data/veteran.csv --time time --event status --group celltype --tau 30
run x_tiny_rho --data data/tiny6.csv --time time --event status --group grp --rho 2 --ties breslow
awk 'BEGIN { srand(7); print "time,status,g,x1,x2,f,s";
  for (i = 0; i < 200000; i++) { g = int(rand() * 3); x1 = rand(); x2 = int(rand() * 50);
    t = int(-log(rand()) * 300 / (1 + g * 0.3 + x1)) + 1; e = rand() < 0.6;
    printf "%d,%d,%s,%.4f,%d,%s,%d\n", t, e, substr("abc", g + 1, 1), x1, x2, substr("pq", int(rand() * 2) + 1, 1),
      int(rand() * 4) }}' > "$data/big.csv"
run x_big --data "$data/big.csv" --time time --event status --group g --covariates x1,x2,f --factors f --strata s
run x_big_plain --data "$data/big.csv" --time time --event status --group f --covariates x1 --conf-type plain \
  --ties breslow
echo "snapshot: $(ls "$out" | wc -l) runs in $out"
