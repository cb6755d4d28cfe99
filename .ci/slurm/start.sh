#!/usr/bin/env bash
# Start (or reuse) a one-node Slurm cluster on this machine, without systemd: munged, slurmctld and
# slurmd as root, configured from .ci/slurm/slurm.conf.in. Prints the SLURM_CONF path on success,
# which the caller exports for sbatch/squeue/srun; exits non-zero (with the reason) otherwise.
#   KIT_SLURM_DIR  runtime folder (config, state, logs); default /tmp/kit-slurm
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
run=${KIT_SLURM_DIR:-/tmp/kit-slurm}
conf=$run/slurm.conf
fail() { echo "slurm: $*" >&2; exit 1; }

for tool in munged slurmctld slurmd sinfo scontrol; do
  command -v "$tool" >/dev/null 2>&1 || PATH=$PATH:/usr/sbin command -v "$tool" >/dev/null 2>&1 \
    || fail "$tool is not installed (apt-get install slurmctld slurmd slurm-client munge)"
done
export PATH=$PATH:/usr/sbin
[ "$(id -u)" = 0 ] || fail "the daemons of this one-node cluster run as root; run me as root"

# munge: the key comes with the Debian package; the daemon runs as root here, hence --force.
if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
  [ -s /etc/munge/munge.key ] || { mkdir -p /etc/munge && dd if=/dev/urandom of=/etc/munge/munge.key bs=1 count=1024 2>/dev/null \
    && chmod 600 /etc/munge/munge.key; }
  mkdir -p /run/munge /var/log/munge /var/lib/munge
  munged --force || fail "munged did not start"
  for _ in $(seq 20); do munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && break; sleep 0.25; done
  munge -n | unmunge >/dev/null 2>&1 || fail "munge does not answer"
fi

mkdir -p "$run/state" "$run/spool" "$run/log"
host=$(hostname -s)
node=$(slurmd -C | head -n 1)   # NodeName=<host> CPUs=... RealMemory=...: this machine as Slurm sees it
case $node in NodeName=*) ;; *) fail "slurmd -C did not describe this node: $node" ;; esac
sed -e "s|@RUN@|$run|g" -e "s|@HOST@|$host|g" -e "s|@NODE@|$node|" "$here/slurm.conf.in" >"$conf.new"
export SLURM_CONF=$conf

# Reuse running daemons only if they were started from the same configuration.
if [ -f "$conf" ] && cmp -s "$conf" "$conf.new" && scontrol ping 2>/dev/null | grep -q UP \
   && [ -f "$run/slurmd.pid" ] && kill -0 "$(cat "$run/slurmd.pid")" 2>/dev/null; then
  rm -f "$conf.new"
else
  for pidfile in "$run/slurmd.pid" "$run/slurmctld.pid"; do
    if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
      kill "$(cat "$pidfile")"; sleep 1
    fi
  done
  mv "$conf.new" "$conf"
  slurmctld -f "$conf" || fail "slurmctld did not start (see $run/log/slurmctld.log)"
  slurmd -f "$conf" || fail "slurmd did not start (see $run/log/slurmd.log)"
fi

# Up when the node is idle (or mixed/allocated from an earlier run's jobs): at most 30 s.
for _ in $(seq 60); do
  state=$(sinfo -h -N -n "$host" -o %t 2>/dev/null || true)
  case $state in idle*|mix*|alloc*) echo "$conf"; exit 0 ;; down*|drain*) scontrol update nodename="$host" state=resume 2>/dev/null || true ;; esac
  sleep 0.5
done
fail "node $host is not up after 30 s (state: ${state:-none}; see $run/log/)"
