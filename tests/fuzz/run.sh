#!/bin/sh
# libFuzzer harnesses of hetsurv's readers (tests/fuzz/fuzz_*.c, built with clang, ASan and UBSan by
# `make fuzz-build`): first every kept regression input (tests/fuzz/regress/<harness>/, each an input a
# fuzzer once broke hetsurv with) is replayed once, then each harness fuzzes for FUZZ_SECONDS (default 30)
# from its committed seed corpus (tests/fuzz/corpus/<harness>/, only read: new inputs go to a scratch
# folder, or to FUZZ_CORPUS_DIR/<harness> when set, to grow a corpus across runs).  A crash, a leak, a
# sanitizer report, an input taking over 10 s or 2 GB fails the suite; the reproducer is kept in
# BUILD_DIR/fuzz/artifacts/<harness>/ and named.  Executions per harness are printed (and appended to
# FUZZ_LOG when set).  FUZZ_ONLY="slide ckpt" limits the harnesses run.
# Usage: tests/fuzz/run.sh BUILD_DIR TALLY_FILE
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
mkdir -p "$1" && build=$(cd "$1" && pwd)
tally=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
secs=${FUZZ_SECONDS:-30}
harnesses=${FUZZ_ONLY:-manifest table qupath slide ckpt resume}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
suite=fuzz pass=0 fail=0
. "$here/../cohort_checks.sh"

# the harnesses are built into BUILD_DIR/fuzz (B is relative to the source folder in the Makefile)
if make -C "$root" --no-print-directory B="$build" fuzz-build > "$tmp/build.log" 2>&1; then ok
else no "fuzz-build failed"; tail -n 30 "$tmp/build.log"; echo "fuzz $pass $fail" >> "$tally"; exit 1; fi

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# the harnesses' scratch files (rewritten for every input) in memory when /dev/shm is there: on ext4 a
# truncated file rewritten costs a flush each time
scratch=$(mktemp -d -p /dev/shm 2>/dev/null || mktemp -d)
trap 'rm -rf "$tmp" "$scratch"' EXIT
export FUZZ_TMPDIR="$scratch"
opts="-timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=2048"
for h in $harnesses; do
  bin=$build/fuzz/fuzz_$h
  [ -x "$bin" ] || { no "$h: no harness $bin"; continue; }
  dict=""
  [ -f "$here/dict/$h.dict" ] && dict="-dict=$here/dict/$h.dict"
  art=$build/fuzz/artifacts/$h
  mkdir -p "$art"

  # 1. every regression input, once
  if [ -d "$here/regress/$h" ] && [ -n "$(ls "$here/regress/$h")" ]; then
    if "$bin" $opts "$here/regress/$h"/* > "$tmp/$h.regress.log" 2>&1; then ok
    else no "$h: a regression input fails again"; grep -E 'Running:|ERROR|SUMMARY|runtime error' "$tmp/$h.regress.log" | tail -n 20; fi
  fi

  # 2. fuzzing from the committed corpus (read-only) into a writable folder
  out=$tmp/corpus-$h
  [ -n "$FUZZ_CORPUS_DIR" ] && out=$FUZZ_CORPUS_DIR/$h
  mkdir -p "$out"
  start=$(date +%s)
  "$bin" $opts $dict -max_total_time="$secs" -print_final_stats=1 -artifact_prefix="$art/" \
    "$out" "$here/corpus/$h" > "$tmp/$h.log" 2>&1
  rc=$? took=$(($(date +%s) - start))
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$tmp/$h.log" | tail -n 1)
  result=ok
  if [ "$rc" -ne 0 ]; then
    repro=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$tmp/$h.log" | tail -n 1)
    result="FAILED (exit $rc; reproducer ${repro:-none})"
    no "$h: fuzzing failed (exit $rc); reproducer: ${repro:-none}; log:"
    grep -E 'ERROR|SUMMARY|runtime error|#[0-9]+ 0x|ALARM|out-of-memory|leak' "$tmp/$h.log" | head -n 40 | sed 's/^/    /'
    cp "$tmp/$h.log" "$art/last.log"
  else ok; fi
  if [ -n "$execs" ] && [ "$execs" -gt 0 ]; then ok; else no "$h: no executions counted"; execs=0; fi
  printf 'fuzz %-9s %6d s %12d executions  %s\n' "$h" "$took" "$execs" "$result"
  [ -n "$FUZZ_LOG" ] && printf '%s\t%s\t%d\t%d\t%s\n' "$(date -u +%FT%TZ)" "$h" "$took" "$execs" "$result" >> "$FUZZ_LOG"
done
echo "fuzz $pass $fail" >> "$tally"
[ "$fail" -eq 0 ]
