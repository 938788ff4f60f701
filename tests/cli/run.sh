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
check() {
  name=$1 want=$2 golden=$3; shift 3
  (cd "$here/data" && "$@") > "$tmp/out" 2>&1; got=$?
  ok=1
  if [ "$got" -ne "$want" ]; then echo "FAIL cli:$name: exit $got, expected $want"; ok=0; fi
  if [ -n "$golden" ] && ! diff -u "$here/expected/$golden" "$tmp/out" > "$tmp/diff"; then
    echo "FAIL cli:$name: output differs from expected/$golden"; cat "$tmp/diff"; ok=0
  fi
  if [ $ok -eq 1 ]; then pass=$((pass + 1)); else fail=$((fail + 1)); sed 's/^/    /' "$tmp/out" | head -20; fi
}

# contains NAME PATTERN FILE: the file has a line matching the extended regex.
contains() {
  if grep -Eq -- "$2" "$3"; then pass=$((pass + 1)); else echo "FAIL cli:$1: no line matches '$2'"; fail=$((fail + 1)); fi
}

check help 0 "" "$bin" help
contains help-lists-survival '^  survival ' "$tmp/out"
contains help-lists-validate '^  validate ' "$tmp/out"
check no-args 1 "" "$bin"
check unknown-cmd 1 "" "$bin" frobnicate
check version 0 "" "$bin" version
contains version-hetsurv '^hetsurv [0-9]+\.[0-9]+\.[0-9]+$' "$tmp/out"
contains version-mpi '^MPI     Open MPI v[0-9]' "$tmp/out"
contains version-hdf5 '^HDF5    1\.[0-9]+\.[0-9]+$' "$tmp/out"
contains version-gsl '^GSL     2\.[0-9]' "$tmp/out"
contains version-libcsv '^libcsv  3\.[0-9]+\.[0-9]+$' "$tmp/out"
for cmd in validate survival version; do
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
check validate-nonnumeric-covariate 1 "" "$bin" validate good.csv
contains validate-suggests-factor "^good.csv:2:9: note: not a number: .first, with comma. \(declare the column a factor if it is categorical\)$" "$tmp/out"

check survival-badnum 1 survival_badnum.txt "$bin" survival --data surv_badnum.csv --time time --event status --covariates age --out "$tmp/o"
check survival-negtime 1 survival_negtime.txt "$bin" survival --data surv_negtime.csv --time time --event status --out "$tmp/o"
check survival-nocolumn 1 survival_nocolumn.txt "$bin" survival --data surv.csv --time time --event dead --out "$tmp/o"
check survival-mixed-event 1 survival_mixed_event.txt "$bin" survival --data surv.csv --time time --event status --out "$tmp/o"

echo "cli $pass $fail" >> "$tally"
echo "cli: $pass passed, $fail failed"
