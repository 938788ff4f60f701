#!/bin/sh
# make demo's single-process steps under valgrind (memcheck): simulate, validate, score (slides of a manifest,
# a QuPath export, with --map and --cells), survival (KM, log-rank, Cox, figures), plot (km, forest, map,
# cohort), on a 12-patient cohort of 512-px slides, so that the whole suite takes about two minutes.  Every
# step must exit as without valgrind and valgrind must report no error and no definite or indirect leak
# (--error-exitcode=99).  `run` is left out: it is the demo's MPI step (MPI_Init; mpirun).  None of these
# commands initialises MPI (hetsurv.c: only `run` does), so no MPI suppression is needed; tests/repro/
# valgrind.supp holds only third-party noise, each entry with its reason.  The commands that score execute
# themselves again with GLIBC_TUNABLES=glibc.malloc.hugetlb=1 (hetsurv.c, use_huge_pages); under valgrind
# /proc/self/exe is valgrind's own tool, which refuses to run, so the tunable is set here beforehand (the
# re-execution is then skipped, as hetsurv.c intends; valgrind replaces malloc anyway).
# Usage: tests/repro/valgrind.sh BUILD_DIR TALLY_FILE
here=$(cd "$(dirname "$0")" && pwd)
bin=$(cd "$1" && pwd)/hetsurv
tally=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
suite=valgrind pass=0 fail=0
. "$here/../cohort_checks.sh"
cd "$tmp" || exit 1
if ! command -v valgrind > /dev/null 2>&1; then
  no "valgrind is not installed (make deps)"
  echo "valgrind: $pass passed, $fail failed"; echo "valgrind $pass $fail" >> "$tally"; exit 0
fi
# vg NAME WANT_EXIT ARGS...: hetsurv ARGS under memcheck; the exit status must be WANT_EXIT (99: a valgrind error)
n=0
vg() {
  name=$1 want=$2; shift 2
  n=$((n + 1))
  GLIBC_TUNABLES=glibc.malloc.hugetlb=1 valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
    --show-leak-kinds=definite,indirect --suppressions="$here/valgrind.supp" --log-file="vg$n.log" \
    "$bin" "$@" > "out$n.log" 2>&1
  rc=$?
  if [ "$rc" -eq 99 ] || [ -s "vg$n.log" ]; then
    no "$name: valgrind reports (exit $rc)"; sed 's/^/    /' "vg$n.log" | head -40
  else expect "$name: exit" "$want" "$rc"; fi
}
vg "simulate" 0 simulate --patients 12 --seed 7 --size 512 --out c
vg "validate" 0 validate c/manifest.csv
vg "validate, bad manifest" 1 validate "$here/data/M_nul_infield_num.csv" --no-slide-check
vg "score --manifest --map --cells" 0 score --manifest c/manifest.csv --out s.csv --map maps --cells cells
vg "score one slide" 0 score c/slides/P003.tif --out one.csv
vg "survival" 0 survival --data s.csv --time os_time --event os_event --group heterogeneous \
  --covariates age,grade --factors grade --out surv
vg "survival --cut optimal --no-plots" 0 survival --data s.csv --time dfs_time --event dfs_event \
  --cut hscore:optimal --no-plots --out surv2
vg "plot km" 0 plot km surv --out km
vg "plot forest" 0 plot forest surv --out forest
vg "plot map" 0 plot map maps/P001.tiles.csv --slide c/slides/P001.tif --out map
vg "plot cohort" 0 plot cohort s.csv --out cohort
vg "score --qupath (two good images, bad rows in a third)" 1 score --qupath "$here/data/Q_image_long.tsv" \
  --out q.csv --map qmaps
vg "score --qupath, malformed" 1 score --qupath "$here/data/Q_image_nul.tsv" --out q2.csv
echo "valgrind: $pass passed, $fail failed"
echo "valgrind $pass $fail" >> "$tally"
