#!/bin/sh
# Smoke test of tests/slurm/cluster.sh: up, sinfo, srun, an sbatch job polled until gone, down, then
# no live munged/slurmctld/slurmd/slurmstepd left.  Usage: tests/slurm/smoke.sh [BASE_DIR]
# Prints "skipped: ..." and exits 0 when the machine cannot run the cluster.
here=$(cd "$(dirname "$0")" && pwd)
base=${1:-/tmp/hetsurv-slurm-smoke}
cl=$here/cluster.sh
if ! why=$("$cl" can "$base"); then echo "slurm smoke: skipped: $why"; exit 0; fi
fail=0
no() { echo "FAIL slurm smoke: $*"; fail=1; }
# live NAME: pids of live (non-zombie) processes called NAME
live() {
  for p in $(pgrep -x "$1"); do
    st=$(sed 's/^.*) \(.\).*$/\1/' "/proc/$p/stat" 2> /dev/null) && [ "$st" != Z ] && echo "$p"
  done
}
out=$(mktemp -d)
trap '"$cl" down "$base" 2> /dev/null; rm -rf "$out"' EXIT
eval "$("$cl" up "$base")" || { no "up"; exit 1; }
[ "$SLURM_CONF" = "$base/etc/slurm.conf" ] || no "up printed SLURM_CONF=$SLURM_CONF"
[ "$(sinfo -h -o '%P %a %T %N')" = "debug* up idle localhost" ] || no "sinfo: $(sinfo -h -o '%P %a %T %N' 2>&1)"
[ "$(srun -n 2 hostname | wc -l)" -eq 2 ] || no "srun -n 2 hostname"
# shellcheck disable=SC2016 # expanded by the job
id=$(sbatch --parsable --chdir="$out" --output="$out/%j.out" --wrap 'echo ok-$SLURM_JOB_ID') || no "sbatch"
n=600
while [ -n "$(squeue -h -j "$id" 2> /dev/null)" ] && [ "$n" -gt 0 ]; do sleep 0.1; n=$((n - 1)); done
[ "$n" -gt 0 ] || no "job $id still in squeue after 60 s"
[ "$(cat "$out/$id.out" 2> /dev/null)" = "ok-$id" ] || no "job $id output: $(cat "$out/$id.out" 2>&1)"
"$cl" down "$base" || no "down"
"$cl" down "$base" || no "second down"
for d in munged slurmctld slurmd slurmstepd; do
  [ -z "$(live "$d")" ] || no "$d still running after down: $(live "$d" | tr '\n' ' ')"
done
[ "$fail" -eq 0 ] && echo "slurm smoke: ok"
exit "$fail"
