#!/bin/sh
# Scoring accuracy against the truth planted by `hetsurv simulate`: several
# seeds, all four patterns.  Prints the mean absolute error of p0..p3, the
# agreement of the ASCO/CAP call, the pattern and the heterogeneous flag, and
# the confusion matrices.  Targets (issue 3): MAE <= 0.03, call agreement
# >= 95%, flag agreement >= 95%.
# Usage: tests/scoring/accuracy.sh BUILD_DIR TALLY_FILE [SEEDS] [PATIENTS] [SIZE]
bin=$(cd "$1" && pwd)/hetsurv
tally=$2
seeds=${3:-"11 12 13"}
patients=${4:-12}
size=${5:-4096}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
: > "$tmp/joined"
for seed in $seeds; do
  out=$tmp/s$seed
  if ! "$bin" simulate --patients "$patients" --seed "$seed" --size "$size" --out "$out" > /dev/null ||
     ! "$bin" score --manifest "$out/manifest.csv" --out "$out/scores.csv" 2> "$out/score.err"; then
    echo "FAIL accuracy: seed $seed: simulate or score failed"; cat "$out/score.err"; fail=$((fail + 1)); continue
  fi
  # one line per patient: truth p0..p3 call pattern flag, then scored p0..p3 call pattern flag
  awk -F, -v seed="$seed" '
    FNR == 1 { for (i = 1; i <= NF; i++) col[FILENAME, $i] = i; next }
    FILENAME ~ /truth.csv$/ { t[$1] = $(col[FILENAME,"p0"]) " " $(col[FILENAME,"p1"]) " " $(col[FILENAME,"p2"]) " " \
        $(col[FILENAME,"p3"]) " " $(col[FILENAME,"ihc_score"]) " " $(col[FILENAME,"pattern"]) " " $(col[FILENAME,"heterogeneous"]); next }
    { print seed ":" $1, t[$1], $(col[FILENAME,"p0"]), $(col[FILENAME,"p1"]), $(col[FILENAME,"p2"]), $(col[FILENAME,"p3"]),
        $(col[FILENAME,"ihc_score"]), $(col[FILENAME,"pattern"]), $(col[FILENAME,"heterogeneous"]) }
  ' "$out/truth.csv" "$out/scores.csv" >> "$tmp/joined"
done
awk -v tally="$tally" '
  { n++; for (k = 0; k < 4; k++) { d = $(2 + k) - $(9 + k); mae += (d < 0 ? -d : d) }
    call += $6 == $13; pat += $7 == $14; flag += $8 == $15
    cc[$6, $13]++; pc[$7, $14]++
    if ($6 != $13 || $8 != $15) printf "  mismatch %s: truth %s/%s/%s, scored %s/%s/%s\n", $1, $6, $7, $8, $13, $14, $15 }
  END {
    if (n == 0) { print "FAIL accuracy: no slide scored"; print "accuracy 0 1" >> tally; exit }
    mae /= 4 * n
    printf "accuracy: %d slides; MAE of p0..p3 %.4f (target <= 0.03); call agreement %.1f%% (>= 95%%); ", n, mae, 100 * call / n
    printf "flag agreement %.1f%% (>= 95%%); pattern agreement %.1f%%\n", 100 * flag / n, 100 * pat / n
    split("0 1+ 2+ 3+", cl, " "); split("homogeneous clustered mosaic scattered", pl, " ")
    printf "  call confusion (rows truth, columns scored):\n  %12s", ""; for (j = 1; j <= 4; j++) printf " %6s", cl[j]; print ""
    for (i = 1; i <= 4; i++) { printf "  %12s", cl[i]; for (j = 1; j <= 4; j++) printf " %6d", cc[cl[i], cl[j]]; print "" }
    printf "  pattern confusion:\n  %12s", ""; for (j = 1; j <= 4; j++) printf " %11s", pl[j]; print ""
    for (i = 1; i <= 4; i++) { printf "  %12s", pl[i]; for (j = 1; j <= 4; j++) printf " %11d", pc[pl[i], pl[j]]; print "" }
    p = 0; f = 0
    if (mae <= 0.03) p++; else { f++; print "FAIL accuracy: MAE" }
    if (call / n >= 0.95) p++; else { f++; print "FAIL accuracy: call agreement" }
    if (flag / n >= 0.95) p++; else { f++; print "FAIL accuracy: flag agreement" }
    print "accuracy " p " " f >> tally
  }' "$tmp/joined"
