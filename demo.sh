#!/bin/sh
# make demo: the main job on its embedded default, end to end on one process.
#  1. simulate a 24-patient HER2 IHC cohort (seed 2026) with planted heterogeneity
#     that doubles the hazard of recurrence;
#  2. validate its manifest;
#  3. score every slide and write the cohort table (manifest + HER2 metrics);
#  4. test heterogeneity against DFS: Kaplan-Meier and log-rank by the
#     heterogeneous flag, and a Cox model adjusted for age and grade.
set -e
build=${1:-build}
here=$(cd "$(dirname "$0")" && pwd)
out=${DEMO_OUT:-$here/demo-out}
rm -rf "$out"
mkdir -p "$out"
"$build/hetsurv" simulate --patients "${DEMO_PATIENTS:-24}" --seed 2026 --out "$out/cohort"
"$build/hetsurv" validate "$out/cohort/manifest.csv" --factors ish
"$build/hetsurv" score --manifest "$out/cohort/manifest.csv" --out "$out/cohort_scores.csv" --map "$out/maps"
echo
"$build/hetsurv" survival --data "$out/cohort_scores.csv" --time dfs_time --event dfs_event \
  --group heterogeneous --covariates age,grade --out "$out/dfs"
echo
echo "demo: cohort table $out/cohort_scores.csv, tile maps in $out/maps/, survival results in $out/dfs/"
