#!/bin/sh
# CLI golden tests: exit codes, usage conventions and exact messages of the
# hetsurv binary.  Usage: tests/cli/run.sh BUILD_DIR TALLY_FILE
here=$(cd "$(dirname "$0")" && pwd)
bin=$(cd "$1" && pwd)/hetsurv
tally=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0

# check NAME EXPECTED_EXIT [GOLDEN_FILE] -- command...: runs the command in tests/cli/data,
# compares its exit status and, when a golden file is named, its stdout+stderr.
# BLESS=1 rewrites the golden files from the current output (review them before committing).
check() {
  name=$1 want=$2 golden=$3; shift 3
  (cd "$here/data" && "$@") > "$tmp/out" 2>&1; got=$?
  ok=1
  if [ "$got" -ne "$want" ]; then echo "FAIL cli:$name: exit $got, expected $want"; ok=0; fi
  if [ -n "$golden" ] && [ -n "$BLESS" ]; then cp "$tmp/out" "$here/expected/$golden"; fi
  if [ -n "$golden" ] && ! diff -u "$here/expected/$golden" "$tmp/out" > "$tmp/diff"; then
    echo "FAIL cli:$name: output differs from expected/$golden"; cat "$tmp/diff"; ok=0
  fi
  if [ $ok -eq 1 ]; then pass=$((pass + 1)); else fail=$((fail + 1)); sed 's/^/    /' "$tmp/out" | head -20; fi
}

# contains NAME PATTERN FILE: the file has a line matching the extended regex.
contains() {
  if grep -Eq -- "$2" "$3"; then pass=$((pass + 1)); else echo "FAIL cli:$1: no line matches '$2'"; fail=$((fail + 1)); fi
}

# check_split NAME EXPECTED_EXIT command...: as check without a golden file, but keeps stdout in
# $tmp/out and stderr in $tmp/err apart.
check_split() {
  name=$1 want=$2; shift 2
  (cd "$here/data" && "$@") > "$tmp/out" 2> "$tmp/err"; got=$?
  if [ "$got" -eq "$want" ]; then pass=$((pass + 1)); else
    echo "FAIL cli:$name: exit $got, expected $want"; fail=$((fail + 1)); sed 's/^/    /' "$tmp/err" | head -20; fi
}

# equal NAME GOT WANT: two strings are equal.
equal() {
  if [ "$2" = "$3" ]; then pass=$((pass + 1)); else echo "FAIL cli:$1: got '$2', expected '$3'"; fail=$((fail + 1)); fi
}

# same NAME FILE1 FILE2: the files exist and are byte-identical; differ NAME FILE1 FILE2: they exist and differ.
same() {
  if [ -f "$2" ] && cmp -s "$2" "$3"; then pass=$((pass + 1)); else echo "FAIL cli:$1: $2 and $3 differ"; fail=$((fail + 1)); fi
}
differ() {
  if [ -f "$2" ] && [ -f "$3" ] && ! cmp -s "$2" "$3"; then pass=$((pass + 1)); else
    echo "FAIL cli:$1: $2 and $3 are the same"; fail=$((fail + 1)); fi
}

# empty NAME FILE: the file is empty or missing.
empty() {
  if [ ! -s "$2" ]; then pass=$((pass + 1)); else echo "FAIL cli:$1: $2 is not empty"; fail=$((fail + 1)); fi
}

check help 0 "" "$bin" help
contains help-lists-survival '^  survival ' "$tmp/out"
contains help-lists-validate '^  validate ' "$tmp/out"
contains help-lists-score '^  score ' "$tmp/out"
contains help-lists-simulate '^  simulate ' "$tmp/out"
check no-args 1 "" "$bin"
check unknown-cmd 1 "" "$bin" frobnicate
check version 0 "" "$bin" version
contains version-hetsurv '^hetsurv [0-9]+\.[0-9]+\.[0-9]+$' "$tmp/out"
contains version-mpi '^MPI     Open MPI v[0-9]' "$tmp/out"
contains version-hdf5 '^HDF5    1\.[0-9]+\.[0-9]+$' "$tmp/out"
contains version-gsl '^GSL     2\.[0-9]' "$tmp/out"
contains version-libcsv '^libcsv  3\.[0-9]+\.[0-9]+$' "$tmp/out"
for cmd in validate survival version score simulate; do
  check "$cmd-h" 0 "" "$bin" "$cmd" -h
  contains "$cmd-h-usage" '^Usage: hetsurv' "$tmp/out"
  check "help-$cmd" 0 "" "$bin" help "$cmd"
  contains "help-$cmd-usage" '^Usage: hetsurv' "$tmp/out"
done
check validate-misuse 2 "" "$bin" validate
check validate-badopt 2 "" "$bin" validate --bogus good.csv
check survival-misuse 1 "" "$bin" survival --data surv.csv
check survival-badties 1 "" "$bin" survival --data surv.csv --time time --event status --ties exact --out "$tmp/o"

check validate-good 0 validate_good.txt "$bin" validate good.csv --factors grade,note
check validate-bom-crlf 0 validate_bom_crlf.txt "$bin" validate bom_crlf.csv
check validate-bad 1 validate_bad.txt "$bin" validate bad.csv
check validate-nocols 1 validate_nocols.txt "$bin" validate nocols.csv
check validate-badquote 1 validate_badquote.txt "$bin" validate badquote.csv
check validate-nofile 1 validate_nofile.txt "$bin" validate does-not-exist.csv
# a covariate with a value that is not a number is categorical without --factors, as R's read.csv makes it
check validate-text-covariate 0 "" "$bin" validate good.csv
contains validate-text-covariate-note '^good.csv: note: categorical covariates: note \(not all numbers\)$' "$tmp/out"
check validate-header-only 1 validate_header_only.txt "$bin" validate header_only.csv
# every reader of a manifest refuses a header without rows and says so
check survival-header-only 1 "" "$bin" survival --data header_only.csv --time dfs_time --event dfs_event --out "$tmp/o"
contains survival-header-only-msg '^hetsurv survival: header_only.csv: no data rows: the file has only a header line$' "$tmp/out"
check score-header-only 1 "" "$bin" score --manifest header_only.csv --out "$tmp/ho.csv"
contains score-header-only-msg 'no patient rows: the manifest has only a header line$' "$tmp/out"

# a column that must hold numbers (time, event, the --cut column) names the first text cell
check survival-badnum 1 survival_badnum.txt "$bin" survival --data surv_badnum.csv --time time --event status --cut age:55 --out "$tmp/o"
# a covariate with a text value is categorical without --factors, as read.csv + coxph make it
check survival-text-covariate 0 "" "$bin" survival --data surv_badnum.csv --time time --event status --covariates age --out "$tmp/text"
contains survival-text-covariate-term '^age=sixty,' "$tmp/text/cox.csv"
# --cut: COLUMN:VALUE or COLUMN:optimal, never with --group
check_split survival-cut-nocolon 1 "$bin" survival --data surv_badnum.csv --time time --event status --cut age --out "$tmp/o"
contains survival-cut-nocolon-msg "^hetsurv survival: --cut must be COLUMN:VALUE or COLUMN:optimal, not 'age'\$" "$tmp/err"
contains survival-cut-nocolon-usage '^Usage: hetsurv survival' "$tmp/err"
check_split survival-cut-badvalue 1 "$bin" survival --data surv_badnum.csv --time time --event status --cut age:best --out "$tmp/o"
contains survival-cut-badvalue-msg "^hetsurv survival: --cut: 'best' is neither a number nor 'optimal'\$" "$tmp/err"
check_split survival-cut-group 1 "$bin" survival --data surv_badnum.csv --time time --event status --cut age:5 --group age --out "$tmp/o"
contains survival-cut-group-msg '^hetsurv survival: --cut makes the group: it cannot be combined with --group$' "$tmp/err"
# --cut COLUMN:optimal says that the cutpoint was chosen from the data and which p-value is corrected
check_split survival-cut-optimal 0 "$bin" survival --data ../../oracle/data/lung.csv --time time --event status --cut age:optimal --out "$tmp/cut"
contains survival-cut-optimal-said '^Cutpoint CHOSEN FROM THE DATA: age >= 71 is "high", below is "low" \(46 high, 182 low\)\.$' "$tmp/out"
contains survival-cut-optimal-corrected 'this p-value is corrected for the$' "$tmp/out"
contains survival-cut-optimal-others '^  The log-rank, Cox and cox.zph p-values below treat the cutpoint as fixed: they are not$' "$tmp/out"
contains survival-cut-optimal-row "^maxstat,[0-9.e+-]+,NA,[0-9.e+-]+\$" "$tmp/cut/tests.csv"
contains survival-cut-optimal-cut '^age,optimal,71,70,182,46$' "$tmp/cut/cut.csv"
contains survival-cut-optimal-term '^age=high,' "$tmp/cut/cox.csv"
check survival-negtime 1 survival_negtime.txt "$bin" survival --data surv_negtime.csv --time time --event status --out "$tmp/o"
check survival-nocolumn 1 survival_nocolumn.txt "$bin" survival --data surv.csv --time time --event dead --out "$tmp/o"
check survival-mixed-event 1 survival_mixed_event.txt "$bin" survival --data surv.csv --time time --event status --out "$tmp/o"
awk 'BEGIN { print "id,time,status,x"; for (i = 0; i < 1500; i++) print "P" i "," (i % 97) + 1 "," i % 2 "," (i % 13) / 13 }' > "$tmp/ids.csv"
check survival-too-many-levels 1 "" "$bin" survival --data "$tmp/ids.csv" --time time --event status --covariates x,id --factors id --out "$tmp/o"
contains survival-too-many-levels-msg "^hetsurv survival: 'id' has 1500 distinct values: too many levels for a Cox model term \\(at most 1000\\)" "$tmp/out"
printf 'time,status,g,x\n1,1,a,0.5\n2,0,a,0.1\n3,1,a,0.7\n4,1,a,0.2\n' > "$tmp/one.csv"
check survival-one-group 0 "" "$bin" survival --data "$tmp/one.csv" --time time --event status --group g --covariates x --out "$tmp/one"
contains survival-one-group-note '^Log-rank test: not computed: only one g value has data$' "$tmp/out"
contains survival-one-group-row '^logrank,NA,0,NA$' "$tmp/one/tests.csv"

# score: slides are simulated at test time (1024 px, lossless Deflate) into $tmp; a text file named .tif
# is the corrupt slide.  A slide that fails is its row's status=error and does not stop the others.
# The table: the metrics, then how the slide was measured (cell radius, stain vectors) and calibrated
# (method, cuts, border leak); an error row has NA in every column after its message.
header='slide,status,error,n_cells,n_tiles,p0,p1,p2,p3,hscore,ihc_score,her2_class,entropy,simpson,tile_cv,discordant_frac,morans_i,pattern,heterogeneous,cell_radius_um,stain_source,stain_h_angle,stain_dab_angle,calibration,od_1,od_2,od_3,leak'
nna=$(( $(printf '%s' "$header" | tr -cd , | wc -c) + 1 - 3 ))
num='-?[0-9.]+(e-?[0-9]+)?'
sim="$tmp/sim"
good="$sim/slides/P001.tif"
check simulate-cohort 0 "" "$bin" simulate --patients 2 --seed 11 --size 1024 --compression deflate --out "$sim"
printf 'this is not a slide\n' > "$tmp/corrupt.tif"

equal score-na-count "$nna" 25
check_split score-missing 1 "$bin" score nope.tif --out "$tmp/missing.csv"
empty score-missing-stdout "$tmp/out"
contains score-missing-row "^nope\\.tif,error,nope\\.tif: No such file or directory(,NA){$nna}\$" "$tmp/missing.csv"
contains score-missing-stderr '^hetsurv score: nope\.tif: No such file or directory$' "$tmp/err"
contains score-missing-summary '^hetsurv score: 1 of 1 slide failed' "$tmp/err"

check_split score-corrupt 1 "$bin" score "$tmp/corrupt.tif"
contains score-corrupt-header "^$header\$" "$tmp/out"
contains score-corrupt-row "^$tmp/corrupt\\.tif,error,$tmp/corrupt\\.tif: not a slide image[^,]*(,NA){$nna}\$" "$tmp/out"
contains score-corrupt-stderr "^hetsurv score: $tmp/corrupt\\.tif: " "$tmp/err"

check_split score-one-bad 1 "$bin" score nope.tif "$good" "$tmp/corrupt.tif" --out "$tmp/mix.csv"
head -n 1 "$tmp/mix.csv" > "$tmp/mix_header"
contains score-out-header "^$header\$" "$tmp/mix_header"
equal score-one-bad-rows "$(wc -l < "$tmp/mix.csv" | tr -d ' ')" 4
contains score-one-bad-missing '^nope\.tif,error,' "$tmp/mix.csv"
contains score-one-bad-good "^$good,ok,,[1-9][0-9]*,[0-9]+,[0-9.e-]+,[0-9.e-]+,[0-9.e-]+,[0-9.e-]+,[0-9.e-]+,(0|1\+|2\+|3\+)," "$tmp/mix.csv"
contains score-one-bad-corrupt "^$tmp/corrupt\\.tif,error," "$tmp/mix.csv"
contains score-one-bad-summary '^hetsurv score: 2 of 3 slides failed' "$tmp/err"
# every row, ok or error, has as many fields as the header (no field of these rows holds a comma)
equal score-one-bad-fields "$(awk -F, '{ print NF }' "$tmp/mix.csv" | sort -u | tr '\n' ' ')" "$((nna + 3)) "
# the measurement columns of a good row: radius > 0, stain source, angles (NA where not estimated), auto
# calibration without controls = cohort, three cuts and a leak
contains score-good-extra "^$good,ok,.*,$num,(default|given|estimated|estimated-h),($num|NA),($num|NA),cohort,$num,$num,$num,$num\$" "$tmp/mix.csv"

check_split score-map 0 "$bin" score "$good" --out "$tmp/map.csv" --map "$tmp/maps"
contains score-map-header '^ix,iy,x_um,y_um,n_cells,n0,n1,n2,n3,hscore,ihc_score,tumour$' "$tmp/maps/P001.tif.tiles.csv"
contains score-map-tile '^0,0,0,0,[1-9][0-9]*,' "$tmp/maps/P001.tif.tiles.csv"
equal score-map-total "$(awk -F, 'NR > 1 { s += $5 } END { print s }' "$tmp/maps/P001.tif.tiles.csv")" \
  "$(awk -F, 'NR == 2 { print $4 }' "$tmp/map.csv")"
# stderr: one line per batch (here the unnamed one) saying how its cuts were chosen, nothing else
contains score-map-batch-line "^hetsurv score: batch '' \\(1 slide\\): .*cohort cuts $num, $num, $num \\(cohort: .*; no controls used\\)\$" "$tmp/err"
equal score-map-stderr-lines "$(grep -vc '^hetsurv score: batch ' "$tmp/err")" 0
mkdir -p "$tmp/copy" && cp "$good" "$tmp/copy/"
check_split score-map-same-name 0 "$bin" score "$good" "$tmp/copy/P001.tif" --out "$tmp/map2.csv" --map "$tmp/maps2"
same score-map-same-name-files "$tmp/maps2/P001.tif.tiles.csv" "$tmp/maps2/P001.tif.2.tiles.csv"
contains score-two-slides-batch-line "^hetsurv score: batch '' \\(2 slides\\): " "$tmp/err"

# --cells: one row per tumour cell, the cell radius last; as many rows as the table's n_cells
check_split score-cells 0 "$bin" score "$good" --out "$tmp/cells.csv" --cells "$tmp/cellsdir"
contains score-cells-header '^x_um,y_um,nucleus_area_um2,membrane_dab_od,membrane_completeness,class,cell_radius_um$' \
  "$tmp/cellsdir/P001.tif.cells.csv"
contains score-cells-row "^$num,$num,$num,$num,$num,(0|1\\+|2\\+|3\\+),$num\$" "$tmp/cellsdir/P001.tif.cells.csv"
equal score-cells-count "$(($(wc -l < "$tmp/cellsdir/P001.tif.cells.csv") - 1))" "$(awk -F, 'NR == 2 { print $4 }' "$tmp/cells.csv")"

check_split score-manifest 0 "$bin" score --manifest "$sim/manifest.csv" --out "$tmp/cohort.csv"
contains score-manifest-header "^$(head -n 1 "$sim/manifest.csv"),status,error,n_cells,n_tiles,p0," "$tmp/cohort.csv"
contains score-manifest-header-end ",od_1,od_2,od_3,leak\$" "$tmp/cohort.csv"
equal score-manifest-rows "$(wc -l < "$tmp/cohort.csv" | tr -d ' ')" "$(wc -l < "$sim/manifest.csv" | tr -d ' ')"
contains score-manifest-P001 '^P001,slides/P001\.tif,.*,ok,,[1-9][0-9]*,' "$tmp/cohort.csv"
contains score-manifest-P002 '^P002,slides/P002\.tif,.*,ok,,[1-9][0-9]*,' "$tmp/cohort.csv"

check_split score-noslide 1 "$bin" score
empty score-noslide-stdout "$tmp/out"
contains score-noslide-usage '^Usage: hetsurv score' "$tmp/err"
check_split score-badthresholds 1 "$bin" score "$good" --thresholds 0.5,0.4,0.6
empty score-badthresholds-stdout "$tmp/out"
contains score-badthresholds-msg '^hetsurv score: --thresholds ' "$tmp/err"
contains score-badthresholds-usage '^Usage: hetsurv score' "$tmp/err"
check_split score-twothresholds 1 "$bin" score "$good" --thresholds 0.2,0.4
contains score-twothresholds-usage '^Usage: hetsurv score' "$tmp/err"

# --calibration: misuse is a usage error (exit 1, usage on stderr, nothing on stdout, no slide read)
check_split score-calibration-bogus 1 "$bin" score "$good" --calibration bogus
empty score-calibration-bogus-stdout "$tmp/out"
contains score-calibration-bogus-msg "^hetsurv score: --calibration must be auto, cohort, controls or fixed, not 'bogus'\$" "$tmp/err"
contains score-calibration-bogus-usage '^Usage: hetsurv score' "$tmp/err"
check_split score-calibration-empty 1 "$bin" score "$good" --calibration=
contains score-calibration-empty-usage '^Usage: hetsurv score' "$tmp/err"
check_split score-calibration-noarg 1 "$bin" score "$good" --calibration
contains score-calibration-noarg-usage '^Usage: hetsurv score' "$tmp/err"
check_split score-controls-without-file 1 "$bin" score "$good" --calibration controls
empty score-controls-without-file-stdout "$tmp/out"
contains score-controls-without-file-msg '^hetsurv score: --calibration controls needs --controls FILE\.csv$' "$tmp/err"
contains score-controls-without-file-usage '^Usage: hetsurv score' "$tmp/err"
equal score-calibration-misuse-reads-nothing "$(grep -c '^hetsurv score: batch ' "$tmp/err")" 0
# fixed: the cuts given (QuPath's by default), in the row and on stderr
check_split score-fixed 0 "$bin" score "$good" --calibration fixed --out "$tmp/fixed.csv"
contains score-fixed-row ',fixed,0\.20000000000000001,0\.40000000000000002,0\.59999999999999998,' "$tmp/fixed.csv"
contains score-fixed-stderr "^hetsurv score: batch '' \\(1 slide\\): .*fixed cuts 0\\.20, 0\\.40, 0\\.60 \\(fixed cuts\\)\$" "$tmp/err"
check_split score-fixed-thresholds 0 "$bin" score "$good" --calibration FIXED --thresholds 0.25,0.5,0.75 --out "$tmp/fixed2.csv"
contains score-fixed-thresholds-row ',fixed,0\.25,0\.5,0\.75,' "$tmp/fixed2.csv"
# cohort: the batch's own valleys, said so
check_split score-cohort 0 "$bin" score "$good" --calibration cohort --out "$tmp/cohort1.csv"
contains score-cohort-row ",cohort,$num,$num,$num,$num\$" "$tmp/cohort1.csv"
contains score-cohort-stderr "^hetsurv score: batch '' \\(1 slide\\): .*cohort cuts $num, $num, $num \\(cohort: " "$tmp/err"

# --threads: a whole number 1..64; the table does not depend on it
for t in 0 65 1.5 x -1 ''; do
  check_split "score-threads-bad-$t" 1 "$bin" score "$good" --threads "$t"
  empty "score-threads-bad-$t-stdout" "$tmp/out"
  contains "score-threads-bad-$t-msg" "^hetsurv score: --threads must be a whole number 1\\.\\.64, not '$t'\$" "$tmp/err"
  contains "score-threads-bad-$t-usage" '^Usage: hetsurv score' "$tmp/err"
done
check_split score-threads-1 0 "$bin" score "$good" "$sim/slides/P002.tif" --threads 1 --out "$tmp/t1.csv"
check_split score-threads-3 0 "$bin" score "$good" "$sim/slides/P002.tif" --threads 3 --out "$tmp/t3.csv"
same score-threads-same-table "$tmp/t1.csv" "$tmp/t3.csv"
# --no-stain-estimate: the default vectors, no angles
check_split score-no-stain-estimate 0 "$bin" score "$good" --no-stain-estimate --out "$tmp/nse.csv"
contains score-no-stain-estimate-row ",default,NA,NA,cohort," "$tmp/nse.csv"

# Control slides (simulate --vary writes a control slide with 0/1+/2+/3+ cores per staining batch and the
# table of their areas): controls calibrate each batch; a batch without controls fails under
# --calibration controls and falls back to cohort under auto.
simv="$tmp/simv"
check simulate-vary 0 "" "$bin" simulate --vary --patients 3 --batch-size 2 --seed 3 --size 1024 --out "$simv"
contains simulate-vary-controls-header '^batch,slide,class,x0_um,y0_um,x1_um,y1_um' "$simv/controls.csv"
check_split score-controls 0 "$bin" score --manifest "$simv/manifest.csv" --factors batch --controls "$simv/controls.csv" \
  --calibration controls --out "$tmp/ctl.csv"
equal score-controls-methods "$(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "calibration") c = i } NR > 1 { print $c }' "$tmp/ctl.csv" | sort -u)" controls
contains score-controls-B01 "^hetsurv score: batch 'B01' \\(2 slides\\): .*controls cuts $num, $num, $num \\(controls: [0-9]+/[0-9]+/[0-9]+/[0-9]+ cells in the 0/1\\+/2\\+/3\\+ areas\\)\$" "$tmp/err"
contains score-controls-B02 "^hetsurv score: batch 'B02' \\(1 slide\\): .*controls cuts " "$tmp/err"
# B02's areas left out of the table: its row is an error with the reason; it was measured (radius, stains)
# and its border leak is known, but it has no calibration or cuts
head -n 5 "$simv/controls.csv" > "$simv/controls_b01.csv"
check_split score-controls-missing-batch 1 "$bin" score --manifest "$simv/manifest.csv" --factors batch \
  --controls "$simv/controls_b01.csv" --calibration controls --out "$tmp/ctl1.csv"
contains score-controls-missing-batch-row "^P003,.*,error,batch 'B02' has no control areas of all four classes(,NA){16},$num,[a-z-]+,($num|NA),($num|NA),NA,NA,NA,NA,$num\$" "$tmp/ctl1.csv"
contains score-controls-missing-batch-ok '^P001,.*,ok,,[1-9][0-9]*,.*,controls,' "$tmp/ctl1.csv"
contains score-controls-missing-batch-msg "^hetsurv score: batch 'B02' has no control areas of all four classes\$" "$tmp/err"
contains score-controls-missing-batch-summary '^hetsurv score: 1 of 3 slides failed' "$tmp/err"
check_split score-auto-missing-batch 0 "$bin" score --manifest "$simv/manifest.csv" --factors batch \
  --controls "$simv/controls_b01.csv" --out "$tmp/auto1.csv"
contains score-auto-missing-batch-P003 '^P003,.*,ok,,.*,cohort,' "$tmp/auto1.csv"
contains score-auto-missing-batch-P001 '^P001,.*,ok,,.*,controls,' "$tmp/auto1.csv"
contains score-auto-missing-batch-note "^hetsurv score: batch 'B02' \\(1 slide\\): .*cohort cuts .*; no controls used\\)\$" "$tmp/err"
# a bad controls table names FILE:LINE:COLUMN; under auto the slides are still scored (cohort), exit 1
{ head -n 2 "$simv/controls.csv"; printf 'B01,controls/B01.tif,5+,0,0,10,10,1\n'; } > "$simv/controls_bad.csv"
check_split score-controls-bad-table 1 "$bin" score --manifest "$simv/manifest.csv" --factors batch \
  --controls "$simv/controls_bad.csv" --out "$tmp/bad.csv"
contains score-controls-bad-table-msg "^hetsurv score: $simv/controls_bad\\.csv:3:3: class: '5\\+' is not 0, 1\\+, 2\\+ or 3\\+\$" "$tmp/err"
contains score-controls-bad-table-rows '^P001,.*,ok,,.*,cohort,' "$tmp/bad.csv"
check_split score-controls-missing-table 1 "$bin" score "$good" --controls "$tmp/none.csv" --out "$tmp/none_out.csv"
contains score-controls-missing-table-msg "^hetsurv score: $tmp/none\\.csv: " "$tmp/err"

# simulate: misuse writes nothing; the same seed gives the same bytes, another seed other slides.
check_split simulate-noout 1 "$bin" simulate --patients 1 --seed 5
contains simulate-noout-msg '^hetsurv simulate: --out is required$' "$tmp/err"
contains simulate-noout-usage '^Usage: hetsurv simulate' "$tmp/err"
check_split simulate-smallsize 1 "$bin" simulate --patients 1 --seed 5 --size 100 --out "$tmp/never"
contains simulate-smallsize-usage '^Usage: hetsurv simulate' "$tmp/err"
check_split simulate-badsize 1 "$bin" simulate --patients 1 --seed 5 --size 1k --out "$tmp/never"
contains simulate-badsize-msg "^hetsurv simulate: --size: .*'1k'" "$tmp/err"
contains simulate-badsize-usage '^Usage: hetsurv simulate' "$tmp/err"
equal simulate-misuse-writes-nothing "$(ls -d "$tmp/never" 2>/dev/null)" ""
for run in a b; do
  check "simulate-seed5-$run" 0 "" "$bin" simulate --patients 1 --seed 5 --size 1024 --compression deflate --out "$tmp/sim5$run"
done
check simulate-seed6 0 "" "$bin" simulate --patients 1 --seed 6 --size 1024 --compression deflate --out "$tmp/sim6"
for f in manifest.csv truth.csv slides/P001.tif; do
  same "simulate-same-$f" "$tmp/sim5a/$f" "$tmp/sim5b/$f"
done
differ simulate-seed-matters "$tmp/sim5a/slides/P001.tif" "$tmp/sim6/slides/P001.tif"

# simulate --vary: its options only together; the same seed gives the same bytes, control slides included.
check_split simulate-batch-novary 1 "$bin" simulate --patients 2 --seed 5 --batch-size 1 --out "$tmp/never"
contains simulate-batch-novary-msg '^hetsurv simulate: --batch-size needs --vary$' "$tmp/err"
check_split simulate-vary-quality 1 "$bin" simulate --patients 2 --seed 5 --vary --quality 80 --out "$tmp/never"
contains simulate-vary-quality-msg '^hetsurv simulate: --quality cannot be combined with --vary' "$tmp/err"
check_split simulate-vary-batch0 1 "$bin" simulate --patients 2 --seed 5 --vary --batch-size 0 --out "$tmp/never"
contains simulate-vary-batch0-usage '^Usage: hetsurv simulate' "$tmp/err"
equal simulate-vary-misuse-writes-nothing "$(ls -d "$tmp/never" 2>/dev/null)" ""
for run in a b; do
  check "simulate-vary-$run" 0 "" "$bin" simulate --patients 3 --seed 5 --size 512 --vary --batch-size 2 --out "$tmp/vary$run"
done
for f in manifest.csv truth.csv controls.csv slides/P003.tif controls/B01.tif controls/B02.tif; do
  same "simulate-vary-same-$f" "$tmp/varya/$f" "$tmp/varyb/$f"
done
equal simulate-vary-controls-rows "$(wc -l < "$tmp/varya/controls.csv")" 9
contains simulate-vary-manifest-batch '^P003,.*,B02$' "$tmp/varya/manifest.csv"

# submit --dry-run: the job script is written, its body is the template's (slurm/hetsurv.sbatch), nothing runs
check submit-dry-run 0 "" "$bin" submit good.csv --out "$tmp/sub" --ntasks 2 --time 10:00 --adjust age --dry-run
contains submit-dry-run-says '^  sbatch --parsable ' "$tmp/out"
sed -n '/^# ---- hetsurv job body/,$p' "$tmp/sub/hetsurv.sbatch" > "$tmp/body.gen"
sed -n '/^# ---- hetsurv job body/,$p' "$here/../../slurm/hetsurv.sbatch" > "$tmp/body.tpl"
same submit-body-is-the-template "$tmp/body.gen" "$tmp/body.tpl"
contains submit-ntasks '^#SBATCH --ntasks=2$' "$tmp/sub/hetsurv.sbatch"
contains submit-time '^#SBATCH --time=00:10:00$' "$tmp/sub/hetsurv.sbatch"
contains submit-args "^set -- '.*/good.csv' '.*/sub' '--adjust' \\\\$" "$tmp/sub/hetsurv.sbatch"
check submit-no-resume 1 "" "$bin" submit good.csv --out "$tmp/sub2" --resume --dry-run
contains submit-no-resume-says 'resumes from its checkpoint by itself' "$tmp/out"
check submit-bad-partition 1 "" "$bin" submit good.csv --out "$tmp/sub3" --ntasks 1 --time 5 --partition 'a b' --dry-run
contains submit-bad-partition-says "partition 'a b'" "$tmp/out"
check submit-bad-manifest 1 "" "$bin" submit bad.csv --out "$tmp/sub4" --dry-run
contains submit-bad-manifest-says 'invalid manifest .*nothing submitted' "$tmp/out"

echo "cli $pass $fail" >> "$tally"
echo "cli: $pass passed, $fail failed"
