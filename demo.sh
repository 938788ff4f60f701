#!/bin/sh
# make demo: the main job on its embedded default, end to end.
#  1. simulate a 200-patient HER2 IHC cohort (seed 2026, 1 mm slides) in which heterogeneous tumours
#     have twice the hazard of recurrence and of death (planted HR 2.0, adjusted for age and grade);
#  2. run the cohort on 2 MPI ranks: score every slide, calibrate the staining, analyse DFS and OS
#     by heterogeneity (Kaplan-Meier, log-rank, Cox adjusted for age and grade);
#  3. print where the results are and the headline next to the planted hazard ratio.
set -e
build=${1:-build}
here=$(cd "$(dirname "$0")" && pwd)
out=${DEMO_OUT:-$here/demo-out}
n=${DEMO_PATIENTS:-200}
hetsurv=$(cd "$build" && pwd)/hetsurv
rm -rf "$out"
mkdir -p "$out"
echo "demo: simulating $n patients (planted HR of heterogeneity 2.0 for DFS and OS) into $out/cohort"
"$hetsurv" simulate --patients "$n" --seed 2026 --size 2048 --out "$out/cohort"
# mpirun refuses root unless told; the demo's ranks fit this machine however many cores it has
if [ "$(id -u)" -eq 0 ]; then export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1; fi
export OMPI_MCA_rmaps_base_oversubscribe=1
set -- run "$out/cohort/manifest.csv" --out "$out/run" --adjust age,grade
if command -v mpirun > /dev/null 2>&1 && mpirun -np 2 true > /dev/null 2>&1; then
  echo "demo: mpirun -np 2 hetsurv $*"
  mpirun -np 2 "$hetsurv" "$@"
else
  echo "demo: mpirun cannot start here: running on one process instead (same results)"
  echo "demo: hetsurv $*"
  "$hetsurv" "$@"
fi
echo
echo "demo: results in $out/run: report.html (the whole run on one page: open it in a browser), slides.csv"
echo "      (the cohort table), calibration.csv, dfs/ and os/ (survival tables, Kaplan-Meier and forest figures),"
echo "      maps/ (slide maps), results.h5 (all the numbers, with every slide's tile map); the slides' truth in"
echo "      $out/cohort/truth.csv"
for ep in dfs os; do
  awk -F, -v ep="$ep" '
    FNR == 1 { file++ }
    file == 1 && $1 == "heterogeneous" { hr = $6; lo = $7; hi = $8 }
    file == 2 && $1 == "logrank" { p = $4 }
    END { printf "demo: %s: HR of heterogeneity %.2f (95%% CI %.2f-%.2f), log-rank p %.2g; planted HR 2.00\n",
                 toupper(ep), hr, lo, hi, p }' "$out/run/$ep/cox.csv" "$out/run/$ep/tests.csv"
done
