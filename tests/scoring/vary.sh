#!/bin/sh
# Scoring accuracy on slides that vary as between labs and scanners (issue 8):
# six cohorts of `hetsurv simulate --vary` (seeds 31-36, 16 patients each,
# two staining batches of 8, each with its control slide), scored with the
# default calibration (auto: the batch's controls) and compared with the
# planted truth by vary_report.py (MAE, worst slide, calls, flag, confusion,
# error by varied parameter); and the stain vectors measured on the same
# slides against the rendered ones (stain_report.py).
# Usage: tests/scoring/vary.sh BUILD_DIR TALLY_FILE [SEEDS] [PATIENTS] [SIZE]
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "$1" && pwd)
tally=$2
seeds=${3:-"31 32 33 34 35 36"}
patients=${4:-16}
size=${5:-4096}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pairs= truths= slides=
# two at a time: the machine's two cores
set -- $seeds
while [ $# -gt 0 ]; do
  "$build/hetsurv" simulate --vary --patients "$patients" --seed "$1" --size "$size" --out "$tmp/v$1" > /dev/null &
  [ $# -gt 1 ] && "$build/hetsurv" simulate --vary --patients "$patients" --seed "$2" --size "$size" --out "$tmp/v$2" > /dev/null &
  wait
  shift; [ $# -gt 0 ] && shift
done
for seed in $seeds; do
  out=$tmp/v$seed
  if [ ! -s "$out/truth.csv" ]; then
    echo "FAIL vary: seed $seed: simulate failed"; echo "vary 0 1" >> "$tally"; continue
  fi
  "$build/hetsurv" score --manifest "$out/manifest.csv" --controls "$out/controls.csv" --out "$out/scores.csv" \
    2> "$out/score.err"
  grep "batch" "$out/score.err" | sed "s/^/  seed $seed: /"
  pairs="$pairs $out/truth.csv:$out/scores.csv"
  truths="$truths $out/truth.csv"
  slides="$slides $out/slides/*.tif"
done
[ -n "$pairs" ] && /usr/bin/python3 "$here/vary_report.py" "$tally" $pairs
# shellcheck disable=SC2086
"$build/stain_vectors" $slides > "$tmp/vectors.txt" && /usr/bin/python3 "$here/stain_report.py" "$tally" "$tmp/vectors.txt" $truths
