#!/bin/sh
# Integration tests of `hetsurv run`, the cohort run across MPI ranks: the same results at 1, 2
# and 3 ranks, results.h5 read back, failed slides recorded, SIGTERM and SIGKILL survived with
# --resume, refusals, the analysis options, QuPath exports in a manifest, batches calibrated from
# control slides across ranks, and the planted hazard ratio recovered on 400 patients.  Usage: tests/run/run.sh BUILD_DIR TALLY_FILE
here=$(cd "$(dirname "$0")" && pwd)
bin=$(cd "$1" && pwd)/hetsurv
tally=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
suite=run pass=0 fail=0
. "$here/../cohort_checks.sh"
# mpirun as root (CI) and more ranks than cores
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
# run_np NP OUT ARGS...: hetsurv run on NP ranks (NP=0: no mpirun); stderr in OUT.log, exit in $rc
run_np() {
  np=$1 out=$2; shift 2
  if [ "$np" -eq 0 ]; then "$bin" run "$@" --out "$out" > "$out.log" 2>&1; rc=$?
  else mpirun -np "$np" "$bin" run "$@" --out "$out" > "$out.log" 2>&1; rc=$?; fi
}
# column FILE NAME: the values of a CSV column, one per line
column() { python3 -c 'import csv,sys
for r in csv.DictReader(open(sys.argv[1])): print(r[sys.argv[2]])' "$1" "$2" 2> /dev/null; }

if ! mpirun -np 1 true > /dev/null 2>&1; then
  echo "run: mpirun cannot start here"; echo "run 0 1" >> "$tally"; exit 0
fi
cd "$tmp" || exit 1
"$bin" simulate --patients 24 --seed 7 --size 1024 --out c > /dev/null 2>&1 || no "simulate"

# 1. one process, no mpirun; the cohort table is `score --manifest`'s, byte for byte
run_np 0 r1 c/manifest.csv --adjust age,grade
expect "np0 exit" 0 "$rc"
"$bin" score --manifest c/manifest.csv --out score.csv 2> /dev/null
if cmp -s score.csv r1/slides.csv; then ok; else no "slides.csv differs from score --manifest"; fi
has "np0 headline dfs" '^hetsurv run: dfs: heterogeneous HR [0-9.]+ \(95% CI' r1.log
has "np0 calibration said" "^hetsurv run: batch '' \(24 slides\)" r1.log
for f in results.h5 slides.csv calibration.csv dfs/cox.csv os/tests.csv; do
  if [ -s "r1/$f" ]; then ok; else no "np0: no $f"; fi
done
if ls r1 r1/checkpoint | grep -q '\.tmp$\|\.map$'; then no "np0: temporary or map files left"; else ok; fi
has "cox term named heterogeneous" '^heterogeneous,' r1/dfs/cox.csv

# 2. 2 and 3 ranks: identical results; results.h5 read back equals the CSV files
for np in 2 3; do
  run_np "$np" r$np c/manifest.csv --adjust age,grade --threads 1
  expect "np$np exit" 0 "$rc"
  same_outputs "np$np vs np0" r1 r$np
done
for d in r1 r3; do
  if python3 "$here/h5check.py" "$d" c/manifest.csv > h5.out 2>&1; then ok; else no "results.h5 of $d"; cat h5.out; fi
done

# 3. slides that fail: missing, truncated, bit-flipped, crashing; the others as in a clean run
mkdir -p f && cp -r c/slides f/ && cp c/manifest.csv f/
head -c 30000 c/slides/P005.tif > f/slides/trunc.tif
python3 -c 'import random
b = bytearray(open("c/slides/P007.tif", "rb").read()); random.seed(3)
for i in range(200): b[random.randrange(len(b) // 4, len(b))] ^= 0xFF
open("f/slides/flip.tif", "wb").write(b)'
cp "$here/../../../shared/fuzz-repro/desc_mpp_tiny.tif" f/slides/crash.tif 2> /dev/null ||
  python3 -c 'open("f/slides/crash.tif", "wb").write(b"II*\0" + bytes(64))'
python3 -c 'import csv
rows = list(csv.reader(open("f/manifest.csv")))
for i, s in ((3, "missing.tif"), (5, "trunc.tif"), (7, "flip.tif"), (9, "crash.tif")): rows[i][1] = "slides/" + s
csv.writer(open("f/manifest.csv", "w", newline=""), lineterminator="\n").writerows(rows)'
run_np 2 rf f/manifest.csv --calibration fixed
expect "faults exit" 0 "$rc"
has "faults counted" '^hetsurv run: 4 of 24 slides failed' rf.log
expect "faults statuses" "ok ok error ok error ok error ok error" "$(column rf/slides.csv status | head -9 | tr '\n' ' ' | sed 's/ $//')"
has "missing named" '^P003,.*,error,f/slides/missing.tif: No such file' rf/slides.csv
has "truncated named" '^P005,.*,error,"?f/slides/trunc.tif: the file is truncated' rf/slides.csv
has "crash or error named" '^P009,.*,error,"?f/slides/crash.tif: ' rf/slides.csv
run_np 2 rc c/manifest.csv --calibration fixed
python3 -c 'import csv, sys
a = {r["patient_id"]: r for r in csv.DictReader(open("rc/slides.csv"))}
b = [r for r in csv.DictReader(open("rf/slides.csv")) if r["status"] == "ok"]
d = [r["patient_id"] for r in b if {k: v for k, v in r.items() if k != "slide"} != {k: v for k, v in a[r["patient_id"]].items() if k != "slide"}]
sys.exit(1 if d or len(b) != 20 else 0)' && ok || no "faults: the good slides' rows differ from a clean run"
has "faults: analysis on 20" '^20,' rf/dfs/fit.csv

# 4. a manifest with errors: the validate report, nothing scored
printf 'patient_id,slide,dfs_time,dfs_event,os_time,os_event,age\nP1,a.tif,x,1,3,0,50\nP2,b.tif,2,7,3,0,51\n' > bad.csv
run_np 0 rb bad.csv
expect "bad manifest exit" 1 "$rc"
has "bad manifest: line and column" '^bad.csv:2:3: ' rb.log
has "bad manifest: nothing scored" 'invalid manifest \(2 errors\): nothing was scored' rb.log
if ls rb/checkpoint 2> /dev/null | grep -q meta; then no "bad manifest: slides were measured"; else ok; fi
printf 'patient_id,slide,dfs_time,dfs_event,os_time,os_event\n' > empty.csv
run_np 0 re empty.csv
expect "header only exit" 1 "$rc"
has "header only said" 'no patient rows' re.log

# 5. refusals: an existing run without --resume, changed options on --resume, misuse
run_np 0 r1 c/manifest.csv
expect "rerun refused" 1 "$rc"
has "rerun: says --resume" 'add --resume to continue it, or --restart' r1.log
run_np 0 r1 c/manifest.csv --resume --thresholds 0.2,0.4,0.7 --calibration fixed
expect "changed options refused" 1 "$rc"
has "changed options named" "thresholds was '0.2,0.4,0.6', now '0.2,0.4,0.7'.*calibration was 'auto', now 'fixed'" r1.log
"$bin" run c/manifest.csv > mu.log 2>&1; expect "no --out" 1 "$?"
has "no --out said" '^hetsurv run: --out DIR is required' mu.log
"$bin" run c/manifest.csv --out x --by her2_class --cut 3 > mu.log 2>&1; expect "--by with --cut" 1 "$?"
"$bin" run c/manifest.csv --out x --cut 0.5 > mu.log 2>&1; expect "--cut without a metric" 1 "$?"
has "--cut needs a metric" 'needs a continuous --metric' mu.log

# 6. resume: the same results; with --restart, a new run
run_np 2 r1 c/manifest.csv --adjust age,grade --resume
expect "resume of a finished run" 0 "$rc"
has "resume: all from the checkpoint" '24/24 slides measured, 0 failed \(some from the checkpoint\)' r1.log
same_outputs "resume of a finished run" r1 r2

# 7. SIGTERM to the ranks mid-run: exit 3, a consistent checkpoint, resume gives the clean results
"$bin" simulate --patients 40 --seed 9 --size 2048 --out big > /dev/null 2>&1
run_np 2 bigref big/manifest.csv
expect "big clean exit" 0 "$rc"
mpirun -np 2 "$bin" run big/manifest.csv --out bigt > bigt.log 2>&1 &
mp=$!
# the signal goes in once the ranks have checkpointed a slide (not after a fixed sleep: a fast machine
# finishes 40 slides in 4 s, a slow mpirun start takes 2)
n=0
while [ "$(ls bigt/checkpoint 2> /dev/null | grep -c '\.meta$')" -lt 1 ] && [ $n -lt 600 ]; do sleep 0.05; n=$((n + 1)); done
pkill -TERM -f "^$bin run big/manifest.csv --out bigt" ; wait $mp; rc=$?
expect "SIGTERM exit" 3 "$rc"
has "SIGTERM: says resume" 'rerun with --resume to finish' bigt.log
n=$(ls bigt/checkpoint | grep -c '\.meta$')
if [ "$n" -gt 0 ] && [ "$n" -lt 40 ]; then ok; else no "SIGTERM: $n of 40 slides in the checkpoint"; fi
if grep -l '^verdict failed' bigt/checkpoint/*.meta > /dev/null 2>&1; then no "SIGTERM: a slide recorded as failed"; else ok; fi
run_np 2 bigt big/manifest.csv --resume
expect "resume after SIGTERM" 0 "$rc"
same_outputs "resume after SIGTERM" bigref bigt

# 8. SIGKILL of everything at a random moment, twice, then resume: identical
for seed in 1 2; do
  rm -rf bigk
  setsid mpirun -np 2 "$bin" run big/manifest.csv --out bigk -q > bigk.log 2>&1 &
  mp=$!
  sleep "$(python3 -c "import random; random.seed($seed); print(round(random.uniform(0.5, 3.0), 2))")"
  # this run's session only: another suite's mpirun on the machine is left alone
  pkill -KILL -s "$mp"; wait 2> /dev/null
  sleep 0.3
  run_np 2 bigk big/manifest.csv --resume
  expect "resume after SIGKILL $seed" 0 "$rc"
  same_outputs "resume after SIGKILL $seed" bigref bigk
done

# 9. two runs on one folder: the second is refused while the first runs
rm -rf bigl
"$bin" run big/manifest.csv --out bigl -q > bigl1.log 2>&1 &
p1=$!
sleep 0.5
"$bin" run big/manifest.csv --out bigl --resume > bigl2.log 2>&1; rc=$?
kill -TERM $p1; wait $p1
expect "concurrent run refused" 1 "$rc"
has "concurrent run said" 'in use by another hetsurv run' bigl2.log

# 10. the analysis options: a continuous metric, a pre-specified and an optimal cut, groups by category
run_np 0 ra c/manifest.csv --metric entropy --adjust age
expect "metric exit" 0 "$rc"
has "metric in the Cox model" '^entropy,' ra/dfs/cox.csv
run_np 0 rv c/manifest.csv --metric entropy --cut 0.5
expect "cut exit" 0 "$rc"
has "cut: low/high curves" '^entropy=high,' rv/dfs/km.csv
run_np 0 ro c/manifest.csv --metric entropy --cut optimal
expect "optimal cut exit" 0 "$rc"
has "optimal cut: maxstat test" '^maxstat,' ro/dfs/tests.csv
has "optimal cut: said" 'cut chosen from the data' ro.log
run_np 0 rh c/manifest.csv --by her2_class
expect "by her2_class exit" 0 "$rc"
has "by her2_class curves" '^her2_class=' rh/os/km.csv

# 11. a QuPath export as a slide: scored from its table, as `score --qupath` scores it
mkdir -p q && cp -r c/slides q/ && python3 -c 'import csv, random
random.seed(5)
f = open("q/P002.tsv", "w")
f.write("Image\tObject ID\tClassification\tParent\tCentroid X \u00b5m\tCentroid Y \u00b5m\n")
for i in range(600):
    c = random.choice(["Negative", "1+", "2+", "3+"] if i % 3 else ["Negative", "1+"])
    f.write("P002.svs\tid%d\t%s\tTumor\t%.1f\t%.1f\n" % (i, c, random.uniform(0, 800), random.uniform(0, 800)))
rows = list(csv.reader(open("c/manifest.csv")))
rows[2][1] = "P002.tsv"
csv.writer(open("q/manifest.csv", "w", newline=""), lineterminator="\n").writerows(rows)'
run_np 2 rq q/manifest.csv
expect "qupath exit" 0 "$rc"
"$bin" score --qupath q/P002.tsv --out qs.csv 2> /dev/null
a=$(grep '^P002,' rq/slides.csv | cut -d, -f10-27); b=$(grep '^P002.svs,' qs.csv | cut -d, -f2-19)
expect "qupath row as score --qupath" "$b" "$a"
expect "qupath calibration" qupath "$(column rq/slides.csv calibration | sed -n 2p)"

# 12. staining batches calibrated from their control slides across 3 ranks, as `score` does on one process
"$bin" simulate --patients 16 --seed 31 --size 2048 --vary --out v > /dev/null 2>&1
run_np 3 rvc v/manifest.csv --controls v/controls.csv
expect "controls exit" 0 "$rc"
"$bin" score --manifest v/manifest.csv --controls v/controls.csv --out vs.csv 2> /dev/null
if cmp -s vs.csv rvc/slides.csv; then ok; else no "controls: slides.csv differs from score --manifest --controls"; fi
expect "controls: both batches from controls" "controls controls" "$(column rvc/calibration.csv calibration | tr '\n' ' ' | sed 's/ $//')"

# 13. the planted hazard ratio: 400 patients, HR 2.0 for DFS and OS, adjusted as planted
"$bin" simulate --patients 400 --seed 2026 --size 1024 --out c400 > /dev/null 2>&1
run_np 2 r400 c400/manifest.csv --adjust age,grade -q
expect "400 exit" 0 "$rc"
for ep in dfs os; do
  line=$(grep '^heterogeneous,' r400/$ep/cox.csv)
  lo=$(echo "$line" | cut -d, -f7); hi=$(echo "$line" | cut -d, -f8)
  if awk -v l="$lo" -v h="$hi" 'BEGIN { exit !(l <= 2 && 2 <= h) }'; then ok; else
    no "400 patients, $ep: 95% CI $lo-$hi does not cover the planted HR 2"; fi
  echo "run: 400 patients, $ep: HR $(echo "$line" | cut -d, -f6) (95% CI $lo-$hi), planted 2"
done

echo "run: $pass passed, $fail failed"
echo "run $pass $fail" >> "$tally"
