# Checks shared by the cohort-run test suites (tests/run/run.sh, tests/slurm/run.sh), sourced after setting
# suite (the name in FAIL lines), pass=0 and fail=0.
ok() { pass=$((pass + 1)); }
no() { echo "FAIL $suite:$1"; fail=$((fail + 1)); }
# expect NAME WANT GOT
expect() { if [ "$2" = "$3" ]; then ok; else no "$1: got '$3', expected '$2'"; fi; }
# has NAME PATTERN FILE: a line of FILE matches the extended regex; otherwise FILE's last lines are shown
has() {
  if grep -Eq -- "$2" "$3"; then ok
  else no "$1: no line matches '$2' in $(basename "$3")"; sed 's/^/    /' "$3" | tail -n 20; fi
}
# same_outputs NAME DIR_A DIR_B: slides.csv, calibration.csv and every survival file byte-identical
same_outputs() {
  d=""
  for f in slides.csv calibration.csv dfs/km.csv dfs/median.csv dfs/cox.csv dfs/fit.csv dfs/tests.csv \
           os/km.csv os/median.csv os/cox.csv os/fit.csv os/tests.csv; do
    cmp -s "$2/$f" "$3/$f" || d="$d $f"
  done
  if [ -z "$d" ]; then ok; else no "$1: differ:$d"; fi
}
