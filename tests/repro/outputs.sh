#!/bin/sh
# Outputs are never half-written (hardening issue): every command, with its standard output on /dev/full or
# closed, with a small file size limit (`ulimit -f`, RLIMIT_FSIZE: the write fails with EFBIG, as on a full
# disk) and with an output folder it cannot write (as root, chmod does not stop writes: a path under a
# regular file, or a folder where a file should go), must exit non-zero, say which file and why, and leave
# no file under its final name that looks complete (no km.csv cut mid-number, no *.tmp left behind).
# `score` writes each finished row at once: a kill -9 leaves the finished rows in FILE.partial.
# Usage: tests/repro/outputs.sh BUILD_DIR TALLY_FILE
here=$(cd "$(dirname "$0")" && pwd)
bin=$(cd "$1" && pwd)/hetsurv
tally=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
suite=outputs pass=0 fail=0
. "$here/../cohort_checks.sh"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
cd "$tmp" || exit 1
lung=$here/../oracle/data/lung.csv
"$bin" simulate --patients 4 --seed 3 --size 1024 --out c > /dev/null 2>&1 || no "simulate"
survival() { "$bin" survival --data "$lung" --time time --event status --group sex --covariates age "$@"; }
# none NAME DIR PATTERN: no file in DIR whose name matches the extended regex
none() {
  if ls -a "$2" 2> /dev/null | grep -Eq -- "$3"; then no "$1: left $(ls -a "$2" | grep -E -- "$3" | tr '\n' ' ')"; else ok; fi
}
# limited BLOCKS CMD...: CMD under a file size limit of BLOCKS 512-byte blocks (dash), SIGXFSZ left as
# hetsurv sets it (ignored: the write then fails with EFBIG and is reported); exit status in $rc
limited() { blocks=$1; shift; (ulimit -f "$blocks"; exec "$@"); rc=$?; }
full_msg='^hetsurv: error writing standard output: No space left on device$'

# 1. standard output on /dev/full: the reason said, exit non-zero; /dev/null, the control, exits 0
"$bin" validate c/manifest.csv > /dev/null 2> v0.err
expect "validate > /dev/null: exit" 0 "$?"
"$bin" validate c/manifest.csv > /dev/full 2> v.err
expect "validate > /dev/full: exit" 1 "$?"
has "validate > /dev/full: said" "$full_msg" v.err
survival --out s1 > /dev/full 2> s1.err
expect "survival > /dev/full: exit" 1 "$?"
has "survival > /dev/full: said" "$full_msg" s1.err
"$bin" score c/slides/P001.tif c/slides/P002.tif > /dev/full 2> sc.err
expect "score > /dev/full: exit" 1 "$?"
has "score > /dev/full: said" "$full_msg" sc.err
"$bin" simulate --patients 1 --seed 3 --size 512 --out sim1 > /dev/full 2> sim.err
expect "simulate > /dev/full: exit" 1 "$?"
has "simulate > /dev/full: said" "$full_msg" sim.err
"$bin" version > /dev/full 2> ver.err
expect "version > /dev/full: exit" 1 "$?"
"$bin" validate c/manifest.csv >&- 2> vc.err
expect "validate with stdout closed: exit" 1 "$?"
has "validate with stdout closed: said" '^hetsurv: error writing standard output: Bad file descriptor$' vc.err
if [ "$(grep -c 'error writing standard output' s1.err)" = 1 ]; then ok; else no "survival: the stdout error said more than once"; fi

# 2. a full disk (file size limit): nothing under a final name that looks complete, no temporary file left
limited 8 "$bin" survival --data "$lung" --time time --event status --group sex --covariates age --out s2 > /dev/null 2> s2.err
expect "survival, full disk: exit" 1 "$rc"
has "survival, full disk: the file and reason named" '^hetsurv survival: s2/km.csv: cannot write: File too large$' s2.err
none "survival, full disk: no table of the set" s2 '^(km|median|cox|fit|tests|cut)\.csv'
none "survival, full disk: no temporary file" s2 'tmp'
# a second run into the folder of a complete one: the failed one removes the whole set, no mix of old and new
survival --out s3 --no-plots > /dev/null 2>&1 || no "survival s3"
limited 8 "$bin" survival --data "$lung" --time time --event status --group sex --covariates age --no-plots --out s3 > /dev/null 2>&1
expect "survival over an earlier result, full disk: exit" 1 "$rc"
none "survival over an earlier result: no table of either" s3 '\.csv'
# (a QuPath export of 40 images: a 13 KB table from no slide, whose cells would fill the limit first)
python3 -c 'import random
random.seed(5)
f = open("q.tsv", "w")
f.write("Image\tObject ID\tClassification\tParent\tCentroid X \u00b5m\tCentroid Y \u00b5m\n")
for s in range(40):
    for i in range(30):
        f.write("S%02d.svs\tid%d\t%s\tTumor\t%.1f\t%.1f\n" % (s, i, random.choice(["Negative", "1+", "2+", "3+"]),
                random.uniform(0, 800), random.uniform(0, 800)))'
"$bin" score --qupath q.tsv --out q.csv > /dev/null 2>&1
if [ "$(wc -c < q.csv)" -gt 8192 ] && [ "$(wc -l < q.csv)" = 41 ]; then ok; else no "score --qupath: the 41-line table"; fi
limited 8 "$bin" score --qupath q.tsv --out t.csv > /dev/null 2> t.err
expect "score, full disk: exit" 1 "$rc"
has "score, full disk: the file and reason named" '^hetsurv score: t.csv: cannot write: File too large \(the table is not written\)$' t.err
none "score, full disk: no table, no FILE.partial" . '^t\.csv'
limited 100 "$bin" simulate --patients 2 --seed 3 --size 1024 --out sim2 > /dev/null 2> sim2.err
expect "simulate, full disk: exit" 1 "$rc"
has "simulate, full disk: the slide and reason named" 'sim2/slides/P001.tif: cannot write a level-0 tile: File too large' sim2.err
none "simulate, full disk: no slide, no temporary file" sim2/slides 'P00'
none "simulate, full disk: no manifest" sim2 'manifest|truth'
survival --out s4 --no-plots > /dev/null 2>&1 || no "survival s4"
limited 40 "$bin" plot km s4 --out p/km > /dev/null 2> p.err
expect "plot km, full disk: exit" 1 "$rc"
has "plot km, full disk: the file and reason named" '^hetsurv plot km: p/km.png: cannot write: File too large$' p.err
none "plot km, full disk: no figure, no temporary file" p 'km'
# a cohort run on one process (no mpirun): report.html (6 MB for 24 slides) does not fit under 4 MB; MPI itself
# needs files of 2-4 MB, so the run is only judged when MPI could start
if "$bin" simulate --patients 24 --seed 7 --size 1024 --out c24 > /dev/null 2>&1; then
  limited 8192 "$bin" run c24/manifest.csv --out r1 > /dev/null 2> r1.err
  if grep -q 'MPI_Init' r1.err; then
    echo "SKIP outputs:run, full disk: MPI cannot start under a 4 MB file size limit here"
  else
    expect "run, full disk: exit" 1 "$rc"
    has "run, full disk: the file and reason named" '^hetsurv run: r1/report.html: cannot write: File too large$' r1.err
    none "run, full disk: no report, no temporary file" r1 'report|tmp'
    # results.h5 is renamed into place last (tests/faults): a run that failed before it leaves none
    if [ ! -e r1/results.h5 ] && [ -s r1/slides.csv ]; then ok
    else no "run, full disk: results.h5 left by a failed run, or slides.csv (it fitted) missing"; fi
  fi
else
  no "simulate c24"
fi

# 3. an output folder that cannot be written: a path under a regular file (root writes anywhere else)
touch afile
survival --out afile/s > /dev/null 2> u1.err
expect "survival into a file's path: exit" 1 "$?"
has "survival into a file's path: said" '^hetsurv survival: afile/s: cannot create the output folder: Not a directory$' u1.err
"$bin" score c/slides/P001.tif --out afile/t.csv > /dev/null 2> u2.err
expect "score --out under a file: exit" 1 "$?"
has "score --out under a file: said" '^hetsurv score: afile/t.csv: cannot create: Not a directory$' u2.err
"$bin" score c/slides/P001.tif --out . > /dev/null 2> u3.err
expect "score --out a folder: exit" 1 "$?"
has "score --out a folder: said" '^hetsurv score: \.: cannot create: it is a folder$' u3.err
"$bin" score c/slides/P001.tif --map afile/m > /dev/null 2> u4.err
expect "score --map under a file: exit" 1 "$?"
has "score --map under a file: said" 'afile/m: cannot create the map folder: Not a directory' u4.err
"$bin" simulate --patients 1 --seed 3 --size 512 --out afile/x > /dev/null 2> u5.err
expect "simulate under a file: exit" 1 "$?"
has "simulate under a file: said" 'afile/x.*Not a directory' u5.err
"$bin" plot km s4 --out afile/km > /dev/null 2> u6.err
expect "plot km under a file: exit" 1 "$?"
has "plot km under a file: said" '^hetsurv plot km: afile: cannot create the output folder: Not a directory$' u6.err
"$bin" run c/manifest.csv --out afile/r > /dev/null 2> u7.err
expect "run under a file: exit" 1 "$?"
has "run under a file: said" '^hetsurv run: afile/r: cannot create the output folder: Not a directory$' u7.err
# a folder where survival's km.csv and run's report.html and results.h5 go
mkdir -p s5/km.csv
survival --out s5 --no-plots > /dev/null 2> u8.err
expect "survival, km.csv a folder: exit" 1 "$?"
has "survival, km.csv a folder: said" '^hetsurv survival: s5/km.csv: cannot create: it is a folder$' u8.err
none "survival, km.csv a folder: no other table" s5 '^(median|cox|fit|tests)\.csv|tmp'
mkdir -p r2/report.html
"$bin" run c/manifest.csv --out r2 > /dev/null 2> u9.err
expect "run, report.html a folder: exit" 1 "$?"
has "run, report.html a folder: said" '^hetsurv run: r2/report.html: cannot create: it is a folder$' u9.err
mkdir -p r3/results.h5
"$bin" run c/manifest.csv --out r3 > /dev/null 2> u10.err
expect "run, results.h5 a folder: exit" 1 "$?"
has "run, results.h5 a folder: said" '^hetsurv run: r3/results.h5: cannot write: Is a directory$' u10.err
none "run, results.h5 a folder: no temporary file, no report" r3 'tmp|report'
# a device is written directly, never replaced by a rename
"$bin" score c/slides/P001.tif --out /dev/null > /dev/null 2>&1
expect "score --out /dev/null: exit" 0 "$?"
if [ -c /dev/null ]; then ok; else no "/dev/null is no longer a device"; fi
"$bin" score c/slides/P001.tif --out /dev/stdout > viastdout.csv 2> /dev/null
expect "score --out /dev/stdout: exit" 0 "$?"
has "score --out /dev/stdout: the table" '^c/slides/P001.tif,ok,' viastdout.csv
if [ -L /dev/stdout ]; then ok; else no "/dev/stdout is no longer a link"; fi

# 4. kill -9 during score: the finished rows are in FILE.partial, a prefix of the whole table, each row whole
"$bin" simulate --patients 8 --seed 7 --size 2048 --out k > /dev/null 2>&1 || no "simulate k"
"$bin" score k/slides/*.tif --calibration fixed --threads 1 --out whole.csv 2> /dev/null
if [ -s whole.csv ] && [ ! -e whole.csv.partial ] && [ "$(wc -l < whole.csv)" = 9 ]; then ok
else no "score: the whole table (9 lines) and no FILE.partial left"; fi
# kill_when TEST CMD...: starts CMD, kills it with SIGKILL once the shell test TEST holds (60 s at most)
kill_when() {
  cond=$1; shift
  "$@" 2> /dev/null & pid=$!
  n=0
  while [ "$n" -lt 1200 ] && ! eval "$cond" && kill -0 "$pid" 2> /dev/null; do
    sleep 0.05; n=$((n + 1))
  done
  kill -9 "$pid" 2> /dev/null; wait "$pid" 2> /dev/null
}
# kill_after LINES FILE CMD...: kills CMD once FILE has LINES lines
kill_after() { want=$1 file=$2; shift 2; kill_when '[ "$(cat "$file" 2> /dev/null | wc -l)" -ge "$want" ]' "$@"; }
kill_after 4 part.csv.partial "$bin" score k/slides/*.tif --calibration fixed --threads 1 --out part.csv
k=$(wc -l < part.csv.partial 2> /dev/null || echo 0)
if [ "$k" -ge 4 ] && [ "$k" -lt 9 ]; then ok; else no "kill -9: $k lines in part.csv.partial, expected 4..8"; fi
if head -n "$k" whole.csv | cmp -s - part.csv.partial; then ok; else no "kill -9: the finished rows differ from the whole table's"; fi
if [ -e part.csv ]; then no "kill -9: part.csv exists, looking complete"; else ok; fi
# without --out, each row is flushed to standard output as it is finished
kill_after 4 stdout.csv env TMPDIR="$PWD" sh -c 'exec "$0" score k/slides/*.tif --calibration fixed --threads 1 > stdout.csv' "$bin"
k=$(wc -l < stdout.csv)
if [ "$k" -ge 4 ] && head -n "$k" whole.csv | cmp -s - stdout.csv; then ok; else no "kill -9, stdout: $k rows, or not the table's"; fi


# 5. the same command run again after a kill measures only the slides not yet saved (FILE.partial.d), and its
#    table is the whole one; with cuts from the batch's own cells (the default), where no row is written before
#    every slide is measured, a kill used to lose every measurement
saved() { ls "$1"/checkpoint/*.meta 2> /dev/null | wc -l; }
# kill_saved N DIR CMD...: kills CMD once N measurements are saved in DIR
kill_saved() { want=$1 d=$2; shift 2; kill_when '[ "$(saved "$d")" -ge "$want" ]' "$@"; }
"$bin" score k/slides/*.tif --out wholeauto.csv 2> /dev/null
if [ "$(wc -l < wholeauto.csv)" = 9 ] && [ ! -e wholeauto.csv.partial.d ] && [ ! -e wholeauto.csv.partial ]; then ok
else no "score (cohort cuts): the whole table, no FILE.partial or FILE.partial.d left"; fi
kill_saved 3 auto.csv.partial.d "$bin" score k/slides/*.tif --out auto.csv
k=$(saved auto.csv.partial.d)
if [ "$k" -ge 3 ] && [ "$k" -lt 8 ] && [ ! -e auto.csv ]; then ok; else no "kill -9 (cohort cuts): $k of 8 measurements saved, expected 3..7, and no table"; fi
#    (a rerun where nothing more can be saved stops at the first slide not saved: the saved ones are not measured)
limited 200 "$bin" score k/slides/*.tif --out auto.csv > /dev/null 2> autofull.err
has "the rerun starts at the first slide not saved" "could not save its measurement in auto.csv.partial.d/checkpoint/$k.meta" autofull.err
"$bin" score k/slides/*.tif --out auto.csv 2> auto.err
expect "the same command after the kill: exit" 0 "$?"
has "the slides measured before the kill are not measured again" \
  "^hetsurv score: $k of 8 slides measured by an earlier, interrupted run \(auto.csv.partial.d\): not measured again\$" auto.err
if cmp -s auto.csv wholeauto.csv; then ok; else no "the table after the kill differs from the uninterrupted one"; fi
if [ -e auto.csv.partial.d ] || [ -e auto.csv.partial ]; then no "FILE.partial.d or FILE.partial left once complete"; else ok; fi
#    fixed cuts: the rows written before the kill, and the rest, the whole table
"$bin" score k/slides/*.tif --calibration fixed --threads 1 --out part.csv 2> part.err
expect "fixed cuts, the same command after the kill: exit" 0 "$?"
has "fixed cuts: the slides measured before the kill are not measured again" \
  '^hetsurv score: [3-8] of 8 slides measured by an earlier, interrupted run \(part.csv.partial.d\)' part.err
if cmp -s part.csv whole.csv; then ok; else no "fixed cuts: the table after the kill differs from the uninterrupted one"; fi
#    other options (or changed slides): the saved measurements are not used, and the table is that of the options
kill_saved 2 opt.csv.partial.d "$bin" score k/slides/*.tif --out opt.csv
"$bin" score k/slides/*.tif --level-mpp 1 --out opt.csv 2> opt.err
expect "other options after the kill: exit" 0 "$?"
has "other options: said, with what changed" \
  "^hetsurv score: opt.csv.partial.d: its saved measurements are of other slides or options \(level_mpp was '0.5', now '1'\): every slide is measured again\$" opt.err
if grep -q 'not measured again' opt.err; then no "other options: saved measurements reused"; else ok; fi
"$bin" score k/slides/*.tif --level-mpp 1 --out opt1.csv 2> /dev/null
if cmp -s opt.csv opt1.csv; then ok; else no "other options: the table differs from a fresh one with those options"; fi
#    a measurement that cannot be saved (a full disk) stops the scoring, naming why; the rows so far are kept
limited 200 "$bin" score k/slides/*.tif --out full.csv > /dev/null 2> full.err
expect "score, measurements on a full disk: exit" 1 "$rc"
has "score, measurements on a full disk: the slide, file and reason" \
  'k/slides/P001.tif: could not save its measurement in full.csv.partial.d/checkpoint/0.meta: .*File too large' full.err
has "score, measurements on a full disk: the way on" 'full.csv: the table is incomplete .*run the same command again' full.err
if [ -e full.csv ]; then no "score, measurements on a full disk: full.csv looks complete"; else ok; fi
#    a second score writing the same table is refused before it touches FILE.partial; the first one's table whole
"$bin" score k/slides/*.tif --out two.csv 2> /dev/null & first=$!
n=0
while [ "$n" -lt 600 ] && [ "$(saved two.csv.partial.d)" -lt 1 ]; do sleep 0.05; n=$((n + 1)); done
"$bin" score k/slides/*.tif --out two.csv > /dev/null 2> two.err
expect "a second score of the same table: exit" 1 "$?"
has "a second score of the same table: said" '^hetsurv score: two.csv.partial.d is in use by another hetsurv run; wait for it to end$' two.err
wait "$first"
expect "the first score of the table: exit" 0 "$?"
if cmp -s two.csv wholeauto.csv && [ ! -e two.csv.partial.d ]; then ok; else no "the first score's table, beside a refused second"; fi
#    a bad manifest: nothing measured, no folder left
printf 'patient_id,slide\nP1\n' > badm.csv
"$bin" score --manifest badm.csv --out badm.out.csv > /dev/null 2>&1
expect "score of a bad manifest: exit" 1 "$?"
none "score of a bad manifest: no table, no FILE.partial, no FILE.partial.d" . '^badm\.out'
#    to standard output, the measurements go to a temporary folder, removed at the end
mkdir -p tmpd
TMPDIR=$PWD/tmpd "$bin" score k/slides/P001.tif > so.csv 2> /dev/null
if [ -s so.csv ] && [ -z "$(ls tmpd)" ]; then ok; else no "score to stdout: a temporary folder left: $(ls tmpd)"; fi

echo "outputs: $pass passed, $fail failed"
echo "outputs $pass $fail" >> "$tally"
