#!/bin/sh
# make bench, Slurm part: what running a cohort through `hetsurv submit` costs against `mpirun -np 2 hetsurv
# run` on the same cohort, measured in this run on a single-node Slurm started by tests/slurm/cluster.sh
# (as root; skipped, and said so, where Slurm cannot run).  The cohort is bench/cohort.sh's 120 slides of
# 1-10x area, listed 4 times (symlinks, new patient ids): about a minute on 2 ranks.
#  1. a job of 2 tasks, from `submit` until it has left the queue: the ratio to mpirun's wall time, and the
#     overhead in seconds (scheduling, the job script, srun/pmix start); target ratio <= 1.1;
#  2. the same job with a 2-minute limit, signalled 80 s before it: the wall time per requeue beyond the
#     unsignalled job (Slurm's restart delay, about 11 s with cred_expire=10, plus the slides in flight);
#  3. a job array of 2 shards of 1 task and the merge job, against the 2-task job.
set -e
build=${1:-build}
here=$(cd "$(dirname "$0")" && pwd)
hetsurv=$(cd "$build" && pwd)/hetsurv
cl=$here/../tests/slurm/cluster.sh
work=$(cd "$build" && pwd)/bench/slurm
mixed=$(cd "$build" && pwd)/bench/cohort/mixed
echo "== Slurm: a job against mpirun -np 2 on the same cohort (single-node Slurm 22.05, 2 CPUs)"
base=$(mktemp -d /tmp/hetsurv-slurm-bench-XXXXXX)
if ! why=$("$cl" can "$base" 2>&1); then
  echo "Slurm benchmark SKIPPED (not measured): $why"; rm -rf "$base"; exit 0
fi
if [ ! -s "$mixed/manifest.csv" ]; then
  echo "Slurm benchmark SKIPPED (not measured): run bench/cohort.sh first (it draws the cohort)"; rm -rf "$base"; exit 0
fi
rm -rf "$work"; mkdir -p "$work/cohort/slides"
python3 - "$mixed" "$work/cohort" <<'PY'
import csv, os, sys
src, dst = sys.argv[1], sys.argv[2]
rows = list(csv.reader(open(f"{src}/manifest.csv")))
out = [rows[0]]
for k in range(1, 5):
    for r in rows[1:]:
        target = os.path.realpath(os.path.join(src, r[1]))
        link = f"slides/r{k}_{r[0]}{os.path.splitext(target)[1]}"
        os.symlink(target, os.path.join(dst, link))
        out.append([f"{r[0]}_{k}", link] + r[2:])
csv.writer(open(f"{dst}/manifest.csv", "w", newline=""), lineterminator="\n").writerows(out)
PY
if [ "$(id -u)" -eq 0 ]; then export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1; fi
up=$("$cl" up "$base") || { echo "Slurm benchmark FAILED: the cluster did not start"; rm -rf "$base"; exit 1; }
eval "$up"
trap '"$cl" down "$base" > /dev/null 2>&1; rm -rf "$base"' EXIT
m=$work/cohort/manifest.csv
n=$(($(wc -l < "$m") - 1))
now() { date +%s.%N; }
# job_wall OUT SUB_ARGS...: submit, wait until every job submit printed has left the queue; prints seconds
job_wall() {
  o=$1; shift
  t0=$(now)
  "$hetsurv" submit "$m" --out "$work/$o" "$@" > "$work/$o.sub" 2>&1
  ids="$(sed -n 's/^hetsurv submit: submitted \(array \)\{0,1\}job \([0-9]*\).*/\2/p' "$work/$o.sub")
       $(sed -n 's/.* and merge job \([0-9]*\).*/\1/p' "$work/$o.sub")"
  for id in $ids; do
    while [ -n "$(squeue -h -j "$id" 2> /dev/null)" ]; do sleep 0.2; done
  done
  t1=$(now)
  [ -s "$work/$o/dfs/cox.csv" ] || echo "  $o: no results (see $work/$o)" >&2
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f\n", b - a }'
}
t0=$(now)
mpirun -np 2 "$hetsurv" run "$m" --out "$work/ref" -q 2> "$work/ref.log"
tref=$(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.2f\n", b - a }')
echo "  mpirun -np 2 hetsurv run: $n slides in $tref s"
tjob=$(job_wall job --ntasks 2 --time 00:30:00)
cmp -s "$work/ref/slides.csv" "$work/job/slides.csv" && same=identical || same=DIFFERENT
echo "  submit --ntasks 2: $tjob s from submit to the job leaving the queue (results $same)"
awk -v j="$tjob" -v r="$tref" 'BEGIN { printf "job / mpirun = %.3f, overhead %.1f s (target ratio <= 1.1: %s)\n", j / r, j - r, (j / r <= 1.1 ? "met" : "NOT MET") }'
treq=$(job_wall req --ntasks 2 --time 00:02:00 --signal-before 80 --max-requeues 10)
starts=$(grep -c '^hetsurv job .*start [0-9]* of at most' "$work/req"/slurm-*.out)
cmp -s "$work/ref/slides.csv" "$work/req/slides.csv" && same=identical || same=DIFFERENT
echo "  submit --time 00:02:00 --signal-before 80: $treq s, $starts starts (results $same)"
if [ "$starts" -gt 1 ]; then
  awk -v q="$treq" -v j="$tjob" -v s="$starts" 'BEGIN { printf "cost of a requeue: %.1f s of wall time each ((%.1f - %.1f) / %d)\n", (q - j) / (s - 1), q, j, s - 1 }'
else
  echo "cost of a requeue: not measured (the job was not signalled)"
fi
tarr=$(job_wall arr --array 2 --ntasks 1 --time 00:30:00)
cmp -s "$work/ref/slides.csv" "$work/arr/slides.csv" && same=identical || same=DIFFERENT
echo "  submit --array 2 --ntasks 1 (2 shards of 1 task, then the merge job): $tarr s (results $same)"
awk -v a="$tarr" -v j="$tjob" 'BEGIN { printf "array + merge / one job of 2 tasks = %.3f\n", a / j }'
