#!/bin/sh
# A throw-away single-node Slurm 22.05 cluster for tests, started by hand (no systemd): munged on the
# default socket, slurmctld and slurmd in the foreground under setsid, everything else under BASE_DIR.
#
#   tests/slurm/cluster.sh can  BASE_DIR   exit 0 if this machine can run it, else say why and exit 1
#   tests/slurm/cluster.sh up   BASE_DIR   install (if missing) and start; prints "export SLURM_CONF=..."
#   tests/slurm/cluster.sh down BASE_DIR   cancel every job, stop what `up` started (idempotent)
#
# Every client command (sinfo, sbatch, srun, squeue, scancel, scontrol) needs
#   export SLURM_CONF=BASE_DIR/etc/slurm.conf
# so use   eval "$(tests/slurm/cluster.sh up BASE_DIR)"   or   . BASE_DIR/env.sh   after `up`.
# Nothing is written to /etc/slurm: the config is BASE_DIR/etc/slurm.conf (plus an empty cgroup.conf),
# and SLURM_EXTRA_CONF (lines), if set, is appended to it (a later line overrides an earlier one).
# Each `up` starts slurmctld with -c: no job of an earlier `up` comes back (job ids do go on
# counting).  Messages go to stderr; stdout carries only the export line.  Logs: BASE_DIR/log.
# Needs root; installs slurmctld slurmd slurm-client munge with apt-get when missing (daemons are
# kept from auto-starting by a temporary /usr/sbin/policy-rc.d if none exists).
set -u

PKGS="slurmctld slurmd slurm-client munge"
MUNGE_SOCKET=/run/munge/munge.socket.2
MARK=HETSURV_SLURM_CLUSTER   # environment variable given to the daemons: BASE_DIR, inherited by slurmstepd
POLICY=/usr/sbin/policy-rc.d
POLICY_MARK="# temporary, from hetsurv tests/slurm/cluster.sh"

say() { echo "cluster.sh: $*" >&2; }
usage() { echo "usage: $0 can|up|down BASE_DIR" >&2; exit 2; }

# alive PID: the process exists and is not a zombie
alive() {
  [ -r "/proc/$1/stat" ] || return 1
  st=$(sed 's/^.*) \(.\).*$/\1/' "/proc/$1/stat" 2> /dev/null) || return 1
  [ -n "$st" ] && [ "$st" != Z ]
}

# ours NAME PID: PID is alive and its /proc/PID/comm is NAME
ours() {
  case $2 in '' | *[!0-9]*) return 1 ;; esac
  alive "$2" && [ "$(cat "/proc/$2/comm" 2> /dev/null)" = "$1" ]
}

# daemon_pids NAME: the live pids of NAME recorded in BASE/run (our record of $!, and the daemon's own)
daemon_pids() {
  seen=""
  for f in "$base/run/$1.launched" "$base/run/$1.pid"; do
    [ -r "$f" ] || continue
    p=$(tr -dc '0-9' < "$f")
    ours "$1" "$p" || continue
    case " $seen " in *" $p "*) ;; *) seen="$seen $p" ;; esac
  done
  echo "$seen"
}

# port_busy PORT: something listens on TCP PORT (IPv4 or IPv6), read from /proc/net
port_busy() {
  hex=$(printf ':%04X' "$1")
  for f in /proc/net/tcp /proc/net/tcp6; do
    [ -r "$f" ] || continue
    awk -v p="$hex" 'NR > 1 && $4 == "0A" && substr($2, length($2) - 4) == p { f = 1 } END { exit !f }' "$f" \
      && return 0
  done
  return 1
}

pkgs_missing() {
  m=""
  for p in $PKGS; do
    dpkg-query -W -f='${Status}\n' "$p" 2> /dev/null | grep -q '^install ok installed$' || m="$m $p"
  done
  echo "$m"
}

# why_not: empty when this machine can run the cluster, else the reasons
why_not() {
  r=""
  [ "$(id -u)" -eq 0 ] || r="$r; not root"
  [ -r /proc/net/tcp ] || r="$r; no /proc"
  if [ -n "$(pkgs_missing)" ] && ! command -v apt-get > /dev/null 2>&1; then
    r="$r; packages missing ($(pkgs_missing | sed 's/^ //')) and no apt-get"
  fi
  for port in 6817 6818; do
    port_busy "$port" && r="$r; port $port is in use"
  done
  echo "$r" | sed 's/^; //'
}

install_pkgs() {
  missing=$(pkgs_missing)
  [ -z "$missing" ] && return 0
  command -v apt-get > /dev/null 2>&1 || { say "missing:$missing and no apt-get"; return 1; }
  made_policy=0
  if [ ! -e "$POLICY" ] && [ ! -L "$POLICY" ]; then
    printf '#!/bin/sh\n%s\nexit 101\n' "$POLICY_MARK" > "$POLICY" && chmod 755 "$POLICY" && made_policy=1
  fi
  say "installing$missing (log: $base/log/apt.log)"
  export DEBIAN_FRONTEND=noninteractive
  # shellcheck disable=SC2086 # word splitting of the package list is intended
  { apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=300 $missing \
    || { apt-get update -qq \
         && apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=300 $missing; }; } \
    > "$base/log/apt.log" 2>&1
  rc=$?
  if [ "$made_policy" = 1 ] && grep -qF "$POLICY_MARK" "$POLICY" 2> /dev/null; then rm -f "$POLICY"; fi
  [ "$rc" -eq 0 ] || { say "apt-get install$missing failed:"; tail -n 20 "$base/log/apt.log" >&2; return 1; }
  [ -z "$(pkgs_missing)" ] || { say "still missing after apt-get:$(pkgs_missing)"; return 1; }
}

# wait_for SECONDS COMMAND...: poll COMMAND every 0.2 s until it succeeds
wait_for() {
  n=$(($1 * 5)); shift
  while [ "$n" -gt 0 ]; do
    "$@" > /dev/null 2>&1 && return 0
    sleep 0.2
    n=$((n - 1))
  done
  return 1
}

jobs_gone() { [ -z "$(timeout 5 squeue -h -t R,CG,S -o %A 2> /dev/null)" ]; }
# wait_daemon NAME SECONDS COMMAND...: like wait_for, but give up as soon as the process started as
# NAME (its pid in BASE/run/NAME.launched, a child of this shell) has died
wait_daemon() {
  name=$1 n=$(($2 * 5)); shift 2
  lp=$(tr -dc '0-9' < "$base/run/$name.launched" 2> /dev/null)
  while [ "$n" -gt 0 ]; do
    "$@" > /dev/null 2>&1 && return 0
    [ -n "$lp" ] && ! alive "$lp" && return 2
    sleep 0.2
    n=$((n - 1))
  done
  return 1
}

ctld_up() { timeout 5 scontrol ping 2> /dev/null | grep -q 'is UP'; }
node_idle() { [ "$(timeout 5 sinfo -h -n localhost -o %T 2> /dev/null)" = idle ]; }

# node_line: the NodeName line for slurm.conf from `slurmd -C`, RealMemory 90 % of what it reports
node_line() {
  slurmd -C 2> /dev/null | awk '/^NodeName=/ {
    for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
    if (v["CPUs"] == "" || v["RealMemory"] == "") exit 1
    printf "NodeName=localhost CPUs=%s", v["CPUs"]
    if (v["Boards"] != "") printf " Boards=%s", v["Boards"]
    if (v["SocketsPerBoard"] != "") printf " SocketsPerBoard=%s", v["SocketsPerBoard"]
    if (v["CoresPerSocket"] != "") printf " CoresPerSocket=%s", v["CoresPerSocket"]
    if (v["ThreadsPerCore"] != "") printf " ThreadsPerCore=%s", v["ThreadsPerCore"]
    printf " RealMemory=%d State=UNKNOWN\n", int(v["RealMemory"] * 0.9); ok = 1 }
    END { exit !ok }'
}

write_conf() {
  node=$(node_line) || { say "slurmd -C gave no usable NodeName line"; return 1; }
  : > "$base/etc/cgroup.conf"
  cat > "$base/etc/slurm.conf" << EOF
# generated by hetsurv tests/slurm/cluster.sh for $base
ClusterName=hetsurv-test
SlurmctldHost=localhost
SlurmUser=root
SlurmdUser=root
SlurmctldPort=6817
SlurmdPort=6818
AuthType=auth/munge
CredType=cred/munge
StateSaveLocation=$base/state
SlurmdSpoolDir=$base/spool
SlurmctldPidFile=$base/run/slurmctld.pid
SlurmdPidFile=$base/run/slurmd.pid
SlurmctldLogFile=$base/log/slurmctld.log
SlurmdLogFile=$base/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
MpiDefault=pmix
ReturnToService=2
EnforcePartLimits=ALL
MaxArraySize=1001
JobRequeue=1
KillWait=10
MinJobAge=300
MailProg=/bin/true
# The pmix plugin's per-step folders (spmix_appdir_UID_JOB.STEP) go under TmpFS, /tmp by default: a folder
# left there by a cluster that was killed would make the step of a later cluster's job with that id fail
# to launch ("task 0 launch failed"), since every test cluster numbers its jobs from 1.
TmpFS=$base/tmp
# Latency only (tests/slurm/FINDINGS.md): a submitted batch job starts at slurmctld's next 1 s tick,
# not up to 3 s later (batch_sched_delay); a job whose BeginTime has passed (a requeued job) is started
# within 2 s, not at the next 60 s full pass (sched_interval); a requeued job may start 11 s after it
# ended, not 121 s (its BeginTime is the end + cred_expire + 1; credentials must be used within 10 s).
SchedulerParameters=batch_sched_delay=0,sched_interval=2
AuthInfo=cred_expire=10
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$base/log/jobcomp.log
$node
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOF
  [ -z "${SLURM_EXTRA_CONF:-}" ] || printf '%s\n' "$SLURM_EXTRA_CONF" >> "$base/etc/slurm.conf"
  echo "export SLURM_CONF=$base/etc/slurm.conf" > "$base/env.sh"
}

# start NAME COMMAND...: run COMMAND in its own session, logs in BASE/log/NAME.out, $! in BASE/run/NAME.launched
start() {
  name=$1; shift
  env "$MARK=$base" setsid "$@" < /dev/null > "$base/log/$name.out" 2>&1 &
  echo $! > "$base/run/$name.launched"
}

fail_up() {
  trap '' PIPE   # a reader that went away must not stop the clean-up
  do_down > /dev/null 2>&1
  say "up failed: $*"
  for f in slurmctld.log slurmd.log munged.log slurmctld.out slurmd.out munged.out; do
    [ -s "$base/log/$f" ] && { say "--- tail of $base/log/$f"; tail -n 5 "$base/log/$f" >&2; }
  done
  exit 1
}

do_up() {
  for d in munged slurmctld slurmd; do
    [ -z "$(daemon_pids $d)" ] || { say "$d from $base is already running (run down first)"; exit 1; }
  done
  r=$(why_not)
  [ -z "$r" ] || { say "cannot start: $r"; exit 1; }
  mkdir -p "$base/munge" "$base/state" "$base/spool" "$base/run" "$base/log" "$base/etc" "$base/tmp" || exit 1
  install_pkgs || exit 1
  chmod 700 "$base/munge" "$base/state" "$base/spool"
  chmod 755 "$base" "$base/run" "$base/log" "$base/etc"
  rm -f "$base/run/"*.pid "$base/run/"*.launched

  # munge
  key=$base/munge/munge.key
  if [ ! -s "$key" ]; then
    mungekey --create --keyfile="$key" > /dev/null 2>&1 \
      || dd if=/dev/urandom of="$key" bs=1024 count=1 2> /dev/null || fail_up "cannot create $key"
  fi
  chmod 400 "$key"
  if [ ! -d /run/munge ]; then mkdir -p /run/munge || fail_up "cannot create /run/munge"; fi
  chmod 755 /run/munge
  start munged munged -F --force --key-file="$key" --socket="$MUNGE_SOCKET" \
    --pid-file="$base/run/munged.pid" --log-file="$base/log/munged.log" --seed-file="$base/munge/munge.seed"
  wait_daemon munged 10 sh -c "munge -n --socket='$MUNGE_SOCKET' | unmunge --socket='$MUNGE_SOCKET'" \
    || fail_up "munged did not answer on $MUNGE_SOCKET (or died)"

  write_conf || fail_up "cannot write $base/etc/slurm.conf"
  SLURM_CONF=$base/etc/slurm.conf
  export SLURM_CONF
  start slurmctld slurmctld -D -c -f "$SLURM_CONF"
  wait_daemon slurmctld 30 ctld_up || fail_up "slurmctld died or did not answer scontrol ping within 30 s"
  start slurmd slurmd -D -N localhost -f "$SLURM_CONF"
  wait_daemon slurmd 60 node_idle \
    || fail_up "slurmd died or node localhost not idle within 60 s (sinfo: $(sinfo -h -n localhost -o %T 2>&1))"
  say "up: munged$(daemon_pids munged), slurmctld$(daemon_pids slurmctld), slurmd$(daemon_pids slurmd); logs in $base/log"
  cat "$base/env.sh"
}

# stop NAME GRACE PID...: SIGTERM, SIGKILL after GRACE seconds, wait until gone
stop() {
  name=$1 grace=$2; shift 2
  [ $# -gt 0 ] || return 0
  for p in "$@"; do ours "$name" "$p" && kill -TERM "$p" 2> /dev/null; done
  gone "$name" "$grace" "$@" && return 0
  say "$name$left still running after $grace s: SIGKILL"
  for p in $left; do ours "$name" "$p" && kill -KILL "$p" 2> /dev/null; done
  gone "$name" 10 "$@" && return 0
  say "$name$left survived SIGKILL"
  return 1
}
# gone NAME SECONDS PID...: 0 once none of the pids is NAME any more; 1 after SECONDS, with the rest in $left
gone() {
  name=$1 n=$(($2 * 5)); shift 2
  while :; do
    left=""
    for p in "$@"; do ours "$name" "$p" && left="$left $p"; done
    [ -z "$left" ] && return 0
    [ "$n" -gt 0 ] || return 1
    sleep 0.2
    n=$((n - 1))
  done
}

# our_stepds: slurmstepd processes started by our slurmd (its pid in their parent chain, or our
# marker in their environment, which they inherit from slurmd)
our_stepds() {
  sd=$(daemon_pids slurmd)
  # shellcheck disable=SC2013 # /proc paths have no white space
  for d in $(grep -lx slurmstepd /proc/[0-9]*/comm 2> /dev/null); do
    d=${d%/comm}
    p=${d#/proc/}
    ours slurmstepd "$p" || continue
    if { tr '\0' '\n' < "$d/environ"; } 2> /dev/null | grep -qxF "$MARK=$base"; then echo "$p"; continue; fi
    q=$p
    while [ -n "$q" ] && [ "$q" -gt 1 ]; do
      q=$(awk '/^PPid:/ { print $2 }' "/proc/$q/status" 2> /dev/null)
      case " $sd " in *" $q "*) echo "$p"; break ;; esac
    done
  done
}

# descendants PID...: the pids of every process below the given ones (from /proc/*/status PPid)
descendants() {
  grep -H '^PPid:' /proc/[0-9]*/status 2> /dev/null | awk -v roots="$*" '
    BEGIN { n = split(roots, r, " "); for (i = 1; i <= n; i++) in_tree[r[i]] = 1 }
    { f = $1; sub("^/proc/", "", f); sub("/.*$", "", f); parent[f] = $2 }
    END {
      do { more = 0
        for (p in parent) if (!(p in in_tree) && (parent[p] in in_tree)) { in_tree[p] = 1; out[p] = 1; more = 1 }
      } while (more)
      for (p in out) print p }'
}

# stop_any GRACE PID...: like stop, for processes of any name (each checked against the name it had)
stop_any() {
  grace=$1; shift
  pairs=""
  for p in "$@"; do
    c=$(cat "/proc/$p/comm" 2> /dev/null) || continue
    case $c in *[!A-Za-z0-9_.-]*) c=$(printf '%s' "$c" | tr -c 'A-Za-z0-9_.-' '?') ;; esac
    pairs="$pairs $p:$c"
    kill -TERM "$p" 2> /dev/null
  done
  r=0
  for pc in $pairs; do
    p=${pc%%:*} c=$(cat "/proc/${pc%%:*}/comm" 2> /dev/null) || continue
    [ "$(printf '%s' "$c" | tr -c 'A-Za-z0-9_.-' '?')" = "${pc#*:}" ] && { stop "$c" "$grace" "$p" || r=1; }
  done
  return "$r"
}

do_down() {
  rc=0
  conf=$base/etc/slurm.conf
  if [ -n "$(daemon_pids slurmctld)" ] && [ -r "$conf" ]; then
    SLURM_CONF=$conf
    export SLURM_CONF
    jobs=$(timeout 10 squeue -h -o %A 2> /dev/null | sort -u)
    if [ -n "$jobs" ]; then
      say "cancelling job(s) $(echo "$jobs" | tr '\n' ' ')"
      # shellcheck disable=SC2086 # one argument per job id
      timeout 10 scancel $jobs 2> /dev/null
      # KillWait=10: give the jobs that long to end before the daemons go
      wait_for 20 jobs_gone || say "jobs still running or completing after 20 s"
    fi
  fi
  stepds=$(our_stepds)
  # shellcheck disable=SC2046 # one argument per pid
  stop slurmd 15 $(daemon_pids slurmd) || rc=1
  # shellcheck disable=SC2046
  stop slurmctld 15 $(daemon_pids slurmctld) || rc=1
  stepds=$({ echo "$stepds"; our_stepds; } | grep . | sort -u)
  if [ -n "$stepds" ]; then
    # left when the jobs could not be cancelled (slurmctld dead): their tasks first, then the stepds,
    # which ignore SIGTERM
    # shellcheck disable=SC2086
    tasks=$(descendants $stepds)
    say "leftover slurmstepd $(echo "$stepds" | tr '\n' ' ')with $(echo "$tasks" | grep -c .) process(es) below"
    # shellcheck disable=SC2086
    stop_any 5 $tasks || rc=1
    # shellcheck disable=SC2086
    stop slurmstepd 2 $stepds || rc=1
  fi
  # shellcheck disable=SC2046
  stop munged 15 $(daemon_pids munged) || rc=1
  [ "$rc" -eq 0 ] && rm -f "$base/run/"*.pid "$base/run/"*.launched 2> /dev/null
  return "$rc"
}

[ $# -eq 2 ] || usage
cmd=$1
case $2 in
  /*) base=$2 ;;
  *) base=$(pwd)/$2 ;;
esac
base=$(printf '%s\n' "$base" | sed 's://*:/:g; s:/$::')
case $base in
  *[[:space:]]* | '') say "BASE_DIR must be non-empty and contain no white space: '$2'"; exit 2 ;;
esac

case $cmd in
  can)
    r=$(why_not)
    if [ -n "$r" ]; then echo "cluster.sh: cannot run a Slurm cluster here: $r"; exit 1; fi
    exit 0 ;;
  up) do_up ;;
  down)
    if [ ! -d "$base" ]; then exit 0; fi
    do_down && say "down: $base stopped" ;;
  *) usage ;;
esac
