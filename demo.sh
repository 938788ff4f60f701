#!/bin/sh
# make demo: the main job on its embedded default.  Survival analysis of the
# NCCTG lung-cancer cohort (R survival's `lung`, bundled under tests/oracle/data):
# Kaplan-Meier by sex, log-rank test, and a Cox model of age and ECOG score.
set -e
build=${1:-build}
here=$(cd "$(dirname "$0")" && pwd)
out=${DEMO_OUT:-$here/demo-out}
"$build/hetsurv" survival --data "$here/tests/oracle/data/lung.csv" --time time --event status \
  --group sex --covariates age,ph.ecog --out "$out"
echo
echo "demo: outputs in $out:"
ls -l "$out"
