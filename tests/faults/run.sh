#!/bin/sh
# Fault injection into the cohort run (`hetsurv run` under mpirun), the hardening issue's "kill" findings:
#  1. one rank SIGKILLed while slides are scored (np 3): the run ends by itself (no hang) with a non-zero
#     exit and rank 0's message saying it was interrupted and to rerun with --resume; the checkpoint is
#     consistent; the resume's results are byte-identical to an uninterrupted run's;
#  2. mpirun alone SIGKILLed: its ranks go on for a moment; a resume started at once is refused (they still
#     write the checkpoint) or runs, never mixing its files with theirs;
#  3. SIGKILL at FAULT_KILLS (default 100) random points: chains of 1-5 kills (a fresh run, then resumes, each
#     killed after a random delay drawn over the measured run time; the whole session, mpirun alone, rank 0
#     or another rank; 2 or 3 ranks; figures and report on in a third of the chains) and a final --resume:
#     after every kill the checkpoint is consistent and every table present is the reference run's byte for
#     byte (nothing cut or stale looks complete; results.h5 only beside every other output); after the
#     resume the results are the reference's, each slide exactly once, nothing temporary left.  The kills
#     are drawn from FAULT_SEED (default 2026); a failure prints the seed and the kill;
#  4. an output folder that cannot be made, and a full one (a 1 MB tmpfs, where the user may mount one): exit 1,
#     a clear error, no slide recorded as failed for want of space, a resume with room gives the same results.
# Usage: tests/faults/run.sh BUILD_DIR TALLY_FILE
here=$(cd "$(dirname "$0")" && pwd)
bin=$(cd "$1" && pwd)/hetsurv
tally=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
tmp=$(mktemp -d)
trap 'umount "$tmp/small" 2> /dev/null; rm -rf "$tmp"' EXIT
suite=faults pass=0 fail=0
. "$here/../cohort_checks.sh"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
kills=${FAULT_KILLS:-100} seed=${FAULT_SEED:-2026}
if ! mpirun -np 1 true > /dev/null 2>&1; then
  echo "faults: mpirun cannot start here"; echo "faults 0 1" >> "$tally"; exit 0
fi
cd "$tmp" || exit 1
now() { date +%s.%N; }
# alive DIR: the processes of runs into DIR (mpirun, ranks, measuring children), one pid a line
alive() { pgrep -f "$bin run [^ ]*manifest.csv --out $1( |\$)"; }
# gone DIR: waits until no process of DIR's runs is left (at most 30 s; then a hang: killed, reported)
gone() {
  n=0
  while [ -n "$(alive "$1")" ] && [ $n -lt 300 ]; do sleep 0.1; n=$((n + 1)); done
  if [ $n -ge 300 ]; then no "$2: processes of $1 still alive 30 s after the kill"; alive "$1" | xargs -r kill -KILL; fi
}
# rank_pid MPIRUN_PID RANK: the pid of that rank (a child of mpirun), empty when not started yet
rank_pid() {
  for p in $(pgrep -P "$1"); do
    if { tr '\0' '\n' < "/proc/$p/environ"; } 2> /dev/null | grep -qx "OMPI_COMM_WORLD_RANK=$2"; then echo "$p"; return; fi
  done
}
# ends PID SECONDS: waits for PID (a background job of this shell) at most SECONDS; its exit in $rc, 124 if it hung
ends() {
  n=0 lim=$(($2 * 10))
  while kill -0 "$1" 2> /dev/null && [ $n -lt $lim ]; do sleep 0.1; n=$((n + 1)); done
  if kill -0 "$1" 2> /dev/null; then pkill -KILL -s "$1"; wait "$1"; rc=124; else wait "$1"; rc=$?; fi
}
# hold sh|ex FILE: holds a flock on FILE (as a left-over process of a killed run would) until killed; returns once
# it holds it, the holder's pid in $fl
hold() {
  rm -f held
  python3 -c 'import fcntl, sys, time
f = open(sys.argv[2], "a"); fcntl.flock(f, fcntl.LOCK_SH if sys.argv[1] == "sh" else fcntl.LOCK_EX)
open("held", "w").close(); time.sleep(60)' "$1" "$2" &
  fl=$!
  n=0
  while [ ! -e held ] && [ $n -lt 300 ]; do sleep 0.05; n=$((n + 1)); done
}
# check DIR REF N MODE NAME: ckcheck.py's checks (killed / done)
check() {
  if python3 "$here/ckcheck.py" "$1" "$2" "$3" "$4" > ck.out 2>&1; then ok; else no "$5: $(tr '\n' ';' < ck.out)"; fi
}

# the references: 12 patients at 2 ranks, with figures and report, timed (the kills are drawn over this time)
"$bin" simulate --patients 12 --seed 7 --size 1024 --out c > /dev/null 2>&1 || no "simulate"
t0=$(now)
mpirun -np 2 "$bin" run c/manifest.csv --out ref -q > ref.log 2>&1; rc=$?
t_full=$(echo "$(now) - $t0" | bc)
expect "reference exit" 0 "$rc"
t0=$(now)
mpirun -np 2 "$bin" run c/manifest.csv --out refq -q --no-plots --no-report > refq.log 2>&1; rc=$?
t_quick=$(echo "$(now) - $t0" | bc)
expect "quick reference exit" 0 "$rc"
same_outputs "no figures, same tables" ref refq
check ref ref 12 done "reference run"
check refq refq 12 done "quick reference run"
# a resume of a finished run (what every resume lasts at least)
cp -r ref rr && cp -r refq rrq
t0=$(now)
mpirun -np 2 "$bin" run c/manifest.csv --out rr -q --resume > rr.log 2>&1; rc=$?
t_res=$(echo "$(now) - $t0" | bc)
t0=$(now)
mpirun -np 2 "$bin" run c/manifest.csv --out rrq -q --resume --no-plots --no-report > rrq.log 2>&1
t_resq=$(echo "$(now) - $t0" | bc)
expect "resume of a finished run" 0 "$rc"
same_outputs "resume of a finished run" ref rr
printf "faults: a run of 12 slides takes %.2f s (figures and report), %.2f s (--no-plots --no-report); a resume of it %.2f s, %.2f s\n" "$t_full" "$t_quick" "$t_res" "$t_resq"

# 1. one non-zero rank SIGKILLed while slides are scored (np 3, larger slides so that scoring lasts)
"$bin" simulate --patients 9 --seed 9 --size 2048 --out b > /dev/null 2>&1
mpirun -np 3 "$bin" run b/manifest.csv --out bref -q --no-plots --no-report > bref.log 2>&1
expect "rank death: reference exit" 0 "$?"
setsid mpirun -np 3 "$bin" run b/manifest.csv --out bk --no-plots --no-report > bk.log 2>&1 &
mp=$!
n=0
while [ "$(ls bk/checkpoint 2> /dev/null | grep -c '\.meta$')" -lt 1 ] && [ $n -lt 600 ]; do sleep 0.05; n=$((n + 1)); done
r2=$(rank_pid "$mp" 2)
if [ -n "$r2" ]; then kill -KILL "$r2"; ok; else no "rank death: no rank 2 found"; fi
n=$(ls bk/checkpoint 2> /dev/null | grep -c '\.meta$')
ends "$mp" 60
if [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ]; then ok; else no "rank death: mpirun exit $rc (0: not noticed, 124: hung)"; fi
has "rank death: rank 0 says interrupted, how to resume" \
  '^hetsurv run: interrupted by a signal \(the job was cancelled, or a rank died and mpirun is ending the job\): every slide finished is kept in bk/checkpoint; rerun with --resume to finish' bk.log
has "rank death: mpirun names the rank" 'rank 2 .*(exited on signal 9|killed)' bk.log
gone bk "rank death"
check bk bref 9 killed "rank death: checkpoint"
if [ "$n" -lt 9 ] && [ ! -e bk/slides.csv ]; then ok; else no "rank death: the kill came after scoring ($n of 9 verdicts)"; fi
mpirun -np 3 "$bin" run b/manifest.csv --out bk --resume --no-plots --no-report > bk2.log 2>&1
expect "rank death: resume exit" 0 "$?"
same_outputs "rank death: resume" bref bk
check bk bref 9 done "rank death: after the resume"
if python3 "$here/../run/h5check.py" bk b/manifest.csv > h5.out 2>&1; then ok; else no "rank death: results.h5"; cat h5.out; fi

# 2. mpirun alone SIGKILLed while scoring: a resume at once is refused while its ranks go on, or runs; then
#    (after they are gone) a resume gives the reference's results
setsid mpirun -np 3 "$bin" run b/manifest.csv --out bm -q --no-plots --no-report > bm.log 2>&1 &
mp=$!
n=0
while [ "$(ls bm/checkpoint 2> /dev/null | grep -c '\.meta$')" -lt 1 ] && [ $n -lt 600 ]; do sleep 0.05; n=$((n + 1)); done
kill -KILL "$mp"; { wait "$mp"; } 2> /dev/null
left=$(alive bm | wc -l)
mpirun -np 2 "$bin" run b/manifest.csv --out bm --resume -q --no-plots --no-report > bm2.log 2>&1; rc=$?
if [ "$rc" -eq 0 ]; then ok
elif [ "$rc" -eq 1 ] && grep -Eq 'still writing the checkpoint|in use by another hetsurv run' bm2.log; then ok
else no "mpirun killed: an immediate resume exit $rc: $(tail -n 3 bm2.log | tr '\n' ' ')"; fi
echo "faults: mpirun killed: $left processes of it left at the resume; the resume's exit $rc$(grep -Eo 'still writing|in use' bm2.log | head -1 | sed 's/^/ (/;s/$/)/')"
gone bm "mpirun killed"
# what protects that resume, made certain: a left-over rank holds lock.ranks (shared), a left-over rank 0 the lock
hold sh bm/checkpoint/lock.ranks
mpirun -np 2 "$bin" run b/manifest.csv --out bm --resume -q --no-plots --no-report > bm4.log 2>&1
expect "left-over rank: resume refused" 1 "$?"
has "left-over rank: said" '^hetsurv run: bm: processes of an earlier run \(its mpirun was killed\) are still writing the checkpoint; wait for them to end, then rerun with --resume' bm4.log
kill "$fl"; { wait "$fl"; } 2> /dev/null
hold ex bm/checkpoint/lock
mpirun -np 2 "$bin" run b/manifest.csv --out bm --resume -q --no-plots --no-report > bm4.log 2>&1
expect "left-over rank 0: resume refused" 1 "$?"
has "left-over rank 0: said" 'bm is in use by another hetsurv run; wait for it to end' bm4.log
kill "$fl"; { wait "$fl"; } 2> /dev/null
check bm bref 9 killed "mpirun killed: checkpoint"
mpirun -np 2 "$bin" run b/manifest.csv --out bm --resume -q --no-plots --no-report > bm3.log 2>&1
expect "mpirun killed: resume exit" 0 "$?"
same_outputs "mpirun killed: resume" bref bm
check bm bref 9 done "mpirun killed: after the resume"

# 4 (first, it is short). An output folder that cannot be made, and a full one (a 1 MB tmpfs, where this user may
#    mount one): a clear error and exit 1; no slide recorded as failed for want of space (it once was: "cell spill
#    file: write error: No space left on device" as the slide's verdict, kept by every resume); with room, a resume
#    gives the reference's results
touch afile
"$bin" run c/manifest.csv --out afile/x -q > nd.log 2>&1
expect "unwritable folder: exit" 1 "$?"
has "unwritable folder: said" '^hetsurv run: afile/x: cannot create the output folder: Not a directory' nd.log
if mkdir small && mount -t tmpfs -o size=1m tmpfs small 2> /dev/null; then
  mpirun -np 2 "$bin" run c/manifest.csv --out small/r -q --no-plots --no-report > full.log 2>&1
  expect "full folder: exit" 1 "$?"
  has "full folder: said" 'No space left on device|could not save its measurement' full.log
  if grep -l '^verdict failed' small/r/checkpoint/*.meta > /dev/null 2>&1; then
    no "full folder: a slide recorded as failed: $(grep -h '^error' small/r/checkpoint/*.meta | head -1)"; else ok; fi
  check small/r refq 12 killed "full folder"
  cp -r small/r roomy && umount small
  mpirun -np 2 "$bin" run c/manifest.csv --out roomy --resume -q --no-plots --no-report > roomy.log 2>&1
  expect "full folder: resume with room" 0 "$?"
  same_outputs "full folder: resume with room" refq roomy
else
  echo "faults: no tmpfs can be mounted here: the full-folder check is skipped"
fi

# 3. SIGKILL at random points, in chains: a fresh run killed, resumes killed, a resume to the end
python3 - "$seed" "$kills" > plan.txt << 'EOF'
import random, sys
seed, kills = int(sys.argv[1]), int(sys.argv[2])
rnd = random.Random(seed)
chain = 0
while kills > 0:
    k = min(kills, rnd.randint(1, 5))
    kills -= k
    full = chain % 3 == 1
    for i in range(k):
        np = rnd.choice((2, 2, 3))
        mode = rnd.choice(("session", "session", "mpirun", "rank0", "rank", "rank"))
        print(chain, i, full, np, mode, rnd.randint(1, np - 1), "%.3f" % rnd.uniform(0.05, 1.0))
    print(chain, "end", full, rnd.choice((2, 3)), "-", 0, 0)
    chain += 1
EOF
: > trace.txt
failed_before=$fail refused=0
while read -r ch i full np mode rk delay; do
  od=k$ch
  flags="-q" rf=ref; [ "$full" = True ] || { flags="-q --no-plots --no-report"; rf=refq; }
  resume="--resume"; [ "$i" = 0 ] && resume=""
  if [ "$i" = end ]; then
    f0=$fail
    setsid mpirun -np "$np" "$bin" run c/manifest.csv --out "$od" --resume $flags > "$od.end.log" 2>&1 &
    ends $! 120
    if [ "$rc" -eq 1 ] && grep -Eq 'still writing the checkpoint|in use by another hetsurv run' "$od.end.log"; then
      refused=$((refused + 1))
      gone "$od" "chain $ch"
      setsid mpirun -np "$np" "$bin" run c/manifest.csv --out "$od" --resume $flags > "$od.end.log" 2>&1 &
      ends $! 120
    fi
    expect "chain $ch: the final resume's exit" 0 "$rc"
    same_outputs "chain $ch: results after the kills" "$rf" "$od"
    check "$od" "$rf" 12 done "chain $ch: after the resume"
    if [ "$full" = True ] && [ "$ch" -le 3 ]; then
      if python3 "$here/../run/h5check.py" "$od" c/manifest.csv > h5.out 2>&1; then ok; else no "chain $ch: results.h5"; cat h5.out; fi
    fi
    [ $fail -gt $f0 ] && { echo "FAIL faults: FAULT_SEED=$seed chain $ch:"; grep "^chain $ch " trace.txt | sed 's/^/    /'; tail -n 5 "$od.end.log" | sed 's/^/    /'; }
    rm -rf "$od"
    continue
  fi
  log=$od.$i.log
  # the delay: a fraction of this launch's expected time (a resume's shrinks with the slides already done)
  before=$(ls "$od/checkpoint" 2> /dev/null | grep -c '\.meta$')
  if [ "$full" = True ]; then tf=$t_full tr=$t_res; else tf=$t_quick tr=$t_resq; fi
  delay=$(echo "$delay * ($tr + (12 - $before) * ($tf - $tr) / 12)" | bc -l | sed 's/^\./0./;s/\(\.[0-9][0-9]\).*/\1/')
  setsid mpirun -np "$np" "$bin" run c/manifest.csv --out "$od" $resume $flags > "$log" 2>&1 &
  mp=$!
  sleep "$delay"
  metas=$(ls "$od/checkpoint" 2> /dev/null | grep -c '\.meta$')
  if ! kill -0 "$mp" 2> /dev/null || grep -q '^hetsurv run: results in' "$log"; then phase=ended
  elif ! grep -q 'patients.*checkpoint in' "$log"; then phase=start
  elif [ "$metas" -lt 12 ]; then phase=scoring
  elif ! grep -q '^hetsurv run: dfs:' "$log"; then phase=calibrate-classify-tables
  else phase=survival-figures-report; fi
  target=$mp
  case $mode in
    session) pkill -KILL -s "$mp" ;;
    mpirun) kill -KILL "$mp" 2> /dev/null ;;
    rank0|rank)
      [ "$mode" = rank0 ] && rk=0
      target=$(rank_pid "$mp" "$rk")
      if [ -n "$target" ]; then kill -KILL "$target"; else mode=session; pkill -KILL -s "$mp"; fi ;;
  esac
  t0=$(now)
  ends "$mp" 60
  [ "$mode" = mpirun ] || gone "$od" "chain $ch kill $i"
  took=$(echo "$(now) - $t0" | bc | sed 's/^\./0./;s/\(\.[0-9]\).*/\1/')
  [ "$rc" -eq 124 ] && no "chain $ch kill $i: mpirun still running 60 s after $mode was killed (a hang)"
  [ "$i" = 0 ] && kind=fresh || kind=resume
  [ "$full" = True ] && figs=figures || figs=no-figures
  lbl=""; [ "$mode" = rank ] && lbl=" $rk"
  line="chain $ch kill $i: np $np, SIGKILL $mode$lbl after $delay s, $kind run ($figs), phase $phase ($metas/12 verdicts), exit $rc, all gone in $took s"
  echo "$line" >> trace.txt
  f0=$fail
  if [ "$rc" -eq 0 ]; then
    check "$od" "$rf" 12 done "chain $ch kill $i: exit 0 after a kill of $mode"
  else
    check "$od" "$rf" 12 killed "chain $ch kill $i"
  fi
  grep -Eq 'still writing the checkpoint|in use by another hetsurv run' "$log" && refused=$((refused + 1))
  [ $fail -gt $f0 ] && { echo "FAIL faults: FAULT_SEED=$seed $line"; tail -n 5 "$log" | sed 's/^/    /'; }
done < plan.txt
total=$(grep -c '^chain' trace.txt)
echo "faults: $total kills (seed $seed) by phase: $(sed 's/.*phase \([^ ]*\).*/\1/' trace.txt | sort | uniq -c | awk '{printf "%s%s %s", s, $2, $1; s=", "}')"
echo "faults: by kind: $(sed 's/.*, \(fresh\|resume\) run (\([^)]*\)).*/\1 run, \2/' trace.txt | sort | uniq -c | awk '{printf "%s%s %s %s %s", s, $2, $3, $4, $1; s="; "}')"
echo "faults: by target: $(sed 's/.*SIGKILL \([a-z0-9]*\).*/\1/' trace.txt | sort | uniq -c | awk '{printf "%s%s %s", s, $2, $1; s=", "}')"
[ -n "$FAULT_TRACE" ] && cat trace.txt
echo "faults: $refused launches refused while processes of a killed mpirun still ran"
[ $fail -gt $failed_before ] && echo "faults: kill trace in FAULT_SEED=$seed (rerun with FAULT_SEED=$seed FAULT_KILLS=$kills)"

echo "faults: $pass passed, $fail failed"
echo "faults $pass $fail" >> "$tally"
