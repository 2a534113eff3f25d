#!/usr/bin/env bash
# Cross-host benchmarks: W5 (100 MB worker to worker), W1 and W2 with the
# scheduler, the two workers and the client each on a test host of its own
# (a Linux network namespace with its own address and, through a UTS
# namespace, its own host name), so no same-host shortcut (shared memory)
# applies and every byte crosses a veth pair and a bridge. Runs, in rounds:
#
#   weft-xhost        weft, bulk TCP path on (the default): W1, W2, W5
#   weft-xhost-grpc   weft with WEFT_BULK_TRANSFER=0 (the gRPC chunk
#                     stream): W5
#   dask-xhost        dask-scheduler / dask-worker (Debian's Dask): W5, W1, W2
#   tcp-floor         one plain TCP connection from worker host w1 to w2
#                     moving W5's bytes into a kept receive block, no protocol
#                     (bench/stream_floor.cc): the wire under W5
#
#   bench/crosshost.sh [--quick] [--rounds N] [--w5-reps N] [--systems LIST]
#                      [--out DIR] [--tls]
#   ./weft bench --crosshost [same flags]
#
# --systems: which of weft,weft-grpc,dask,floor to run (default all four).
# --tls: the weft rounds with mutual TLS on every connection (a CA and
# certificate made by `weft tls init` for the run); their systems are
# weft-xhost-tls and weft-xhost-grpc-tls.
# --out: the results directory instead of bench/results/crosshost (this
# script's files there are replaced).
#
# Needs root, iproute2 (`ip`), util-linux (`unshare`) and the bench packages
# (tools/setup.sh bench). Writes bench/results/crosshost/ (quick:
# bench/results/quick/crosshost/): one JSON-lines file per system and round,
# logs/, run.json, and section.md (the BENCHMARKS.md section, made by
# bench/report.py --crosshost). Its namespaces are named weftb-PID-*; they
# and every process in them are removed on exit, failure or Ctrl-C.
set -uo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."

PY=/usr/bin/python3
rounds=3
w5_reps=5
systems=weft,weft-grpc,dask,floor
out_arg=
quick=()
tls=
out=bench/results/crosshost
while (($#)); do
  case "$1" in
    --quick)
      quick=(--quick)
      out=bench/results/quick/crosshost
      rounds=1
      ;;
    --rounds=*) rounds=${1#--rounds=} ;;
    --rounds) rounds=$2; shift ;;
    --w5-reps=*) w5_reps=${1#--w5-reps=} ;;
    --w5-reps) w5_reps=$2; shift ;;
    --systems=*) systems=${1#--systems=} ;;
    --systems) systems=$2; shift ;;
    --out=*) out_arg=${1#--out=} ;;
    --out) out_arg=$2; shift ;;
    --tls) tls=1 ;;
    *)
      echo "usage: bench/crosshost.sh [--quick] [--rounds N] [--w5-reps N]" \
        "[--systems weft,weft-grpc,dask,floor] [--out DIR] [--tls]" >&2
      exit 2
      ;;
  esac
  shift
done
[[ -n "$out_arg" ]] && out=$out_arg

say() { echo "crosshost: $*" >&2; }
wants() { [[ ",$systems," == *",$1,"* ]]; }
die() { say "$*"; exit 1; }

[[ $(id -u) -eq 0 ]] || die "needs root (network and UTS namespaces)"
command -v ip >/dev/null || die "needs iproute2 (ip)"
command -v unshare >/dev/null || die "needs util-linux (unshare)"

# --- Test hosts ---------------------------------------------------------------
# Namespace weftb-PID-br holds bridge br0; host N (sched 1, w1 2, w2 3,
# client 4) is namespace weftb-PID-NAME with eth0 = 10.79.0.N/24, the veth
# peer of port pN on the bridge. No route leaves the segment.
prefix="weftb-$$"
hosts=(sched w1 w2 client)
declare -A addr=([sched]=10.79.0.1 [w1]=10.79.0.2 [w2]=10.79.0.3
                 [client]=10.79.0.4)
namespaces=()

# Kills every process in namespace $1 (TERM, then KILL after 5 s).
kill_in() {
  local ns=$1 pids i
  pids=$(ip netns pids "$ns" 2>/dev/null) || return 0
  [[ -n "$pids" ]] || return 0
  kill -TERM $pids 2>/dev/null
  for ((i = 0; i < 50; i++)); do
    pids=$(ip netns pids "$ns" 2>/dev/null)
    [[ -z "$pids" ]] && return 0
    sleep 0.1
  done
  kill -KILL $pids 2>/dev/null
  sleep 0.2
}

cleanup() {
  local ns
  for ns in "${namespaces[@]}"; do kill_in "$ns"; done
  for ns in "${namespaces[@]}"; do ip netns del "$ns" 2>/dev/null; done
  namespaces=()
}
trap cleanup EXIT
# The clients run in the background with `wait`, so that a signal is
# handled at once, not after the running client ends.
trap 'say "interrupted"; exit 130' INT TERM

# What an earlier run that was killed outright (SIGKILL) left behind.
for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep '^weftb-'); do
  pid=${ns#weftb-}
  pid=${pid%%-*}
  if ! kill -0 "$pid" 2>/dev/null; then
    say "removing $ns, left by run $pid"
    kill_in "$ns"
    ip netns del "$ns" 2>/dev/null
  fi
done

br="$prefix-br"
ip netns add "$br" || die "ip netns add failed"
namespaces+=("$br")
ip -n "$br" link add br0 type bridge || die "no bridge support"
ip -n "$br" link set br0 up
i=0
for h in "${hosts[@]}"; do
  i=$((i + 1))
  ns="$prefix-$h"
  ip netns add "$ns" || die "ip netns add $ns failed"
  namespaces+=("$ns")
  ip -n "$br" link add "p$i" type veth peer name eth0 netns "$ns" ||
    die "no veth support"
  ip -n "$br" link set "p$i" master br0 up
  ip -n "$ns" addr add "${addr[$h]}/24" dev eth0
  ip -n "$ns" link set eth0 up
  ip -n "$ns" link set lo up
done
mtu=$(ip -n "$prefix-w1" -o link show eth0 | sed -n 's/.* mtu \([0-9]*\).*/\1/p')
say "test hosts up: ${hosts[*]} on bridge br0 (veth mtu $mtu)"

# in_host HOST LOG CMD...: runs CMD in HOST's namespaces, its host name
# "weftb-HOST", output appended to LOG; in the background (pid in $!).
in_host() {
  local h=$1 log=$2
  shift 2
  ip netns exec "$prefix-$h" unshare --uts sh -c \
    'hostname "$0" && exec "$@"' "weftb-$h" "$@" >>"$log" 2>&1 &
}
# in_host_fg HOST LOG CMD...: the same in the foreground, stdout kept.
in_host_fg() {
  local h=$1 log=$2
  shift 2
  ip netns exec "$prefix-$h" unshare --uts sh -c \
    'hostname "$0" && exec "$@"' "weftb-$h" "$@" 2>>"$log"
}
stop_cluster() {
  local h
  for h in w1 w2 client sched; do kill_in "$prefix-$h"; done
}

# --- Build and packages ---------------------------------------------------------
tools/setup.sh bench || die "tools/setup.sh bench failed"
bin=$(mktemp -d /tmp/weftb-bin.XXXXXX)
trap 'cleanup; rm -rf "$bin"' EXIT
if wants weft || wants weft-grpc || wants floor; then
  bazel build --config=opt //bench:workloads //tools:weft \
    //bench:stream_floor >&2 || die "bazel build failed"
  # Copies, so that a build running meanwhile cannot change them under the
  # run.
  cp bazel-bin/bench/workloads bazel-bin/tools/weft \
    bazel-bin/bench/stream_floor "$bin/"
  # --tls: one CA and certificate for the weft rounds (`weft tls init`).
  if [[ -n "$tls" ]]; then
    "$bin/weft" tls init "$bin/tls" >&2 || die "weft tls init failed"
  fi
fi

# This script's own files only (a results directory may hold others).
rm -rf "$out/logs"
rm -f "$out"/weft-xhost-*.json "$out"/weft-xhost-grpc-*.json \
  "$out"/dask-xhost-*.json "$out"/tcp-floor-*.json "$out/run.json" \
  "$out/section.md"
mkdir -p "$out/logs"
started=$(date +%s)
uptime_at_start=$(uptime)
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
if [[ -n "$(git status --porcelain --untracked-files=no -- . \
      ':!bench/results' ':!BENCHMARKS.md' 2>/dev/null)" ]]; then
  commit+=" (with uncommitted changes)"
fi
say "uptime at start: $uptime_at_start"

sched_addr="${addr[sched]}:8786"

# weft_round SYSTEM ONLY BULK ROUND: a weft cluster (scheduler on sched,
# workers on w1 and w2: the workloads binary, which has the task functions),
# then the workloads client on client.
weft_round() {
  local system=$1 only=$2 bulk=$3 round=$4
  local logs=$out/logs tokens
  tokens=$(mktemp -d /tmp/weftb-token.XXXXXX)
  export WEFT_BULK_TRANSFER=$bulk
  # --tls: every process of the round (scheduler, workers, client) reads
  # the files from the environment; the client's records say "-tls".
  local tls_flag=()
  if [[ -n "$tls" ]]; then
    export WEFT_TLS_CERT=$bin/tls/weft-cluster.pem
    export WEFT_TLS_KEY=$bin/tls/weft-cluster.key
    export WEFT_TLS_CA=$bin/tls/ca.pem
    tls_flag=(--tls="$bin/tls")
    system+=-tls
  fi
  in_host sched "$logs/$system-$round-scheduler.log" "$bin/weft" scheduler \
    --host="${addr[sched]}" --port=8786 --token-file="$tokens/token"
  for h in w1 w2; do
    in_host "$h" "$logs/$system-$round-$h.log" "$bin/workloads" \
      --weft-worker --weft-scheduler="$sched_addr" --weft-host="${addr[$h]}" \
      --weft-nthreads=1 --weft-token-file="$tokens/token"
  done
  say "round $round: $system ($only, WEFT_BULK_TRANSFER=$bulk)"
  timeout --kill-after=10 900 \
    ip netns exec "$prefix-client" unshare --uts sh -c \
    'hostname "$0" && exec "$@"' weftb-client "$bin/workloads" \
    --scheduler="$sched_addr" --token-file="$tokens/token" \
    --system="${system%-tls}" --only="$only" "${quick[@]}" \
    --w5-reps="$w5_reps" "${tls_flag[@]}" \
    >"$out/$system-$round.json" 2>>"$logs/$system-$round-client.log" &
  wait $! || say "WARNING: $system round $round exited $? (see $logs)"
  unset WEFT_BULK_TRANSFER WEFT_TLS_CERT WEFT_TLS_KEY WEFT_TLS_CA
  stop_cluster
  rm -rf "$tokens"
}

# dask_round ROUND: dask-scheduler on sched, dask-worker (1 process x 1
# thread, with nanny, as LocalCluster(processes=True)) on w1 and w2, the
# peer's client on client.
dask_round() {
  local round=$1 logs=$out/logs h
  local peers
  peers=$(readlink -f bench/peers)
  in_host sched "$logs/dask-$round-scheduler.log" env PYTHONPATH="$peers" \
    "$PY" -m distributed.cli.dask_scheduler --host "${addr[sched]}" \
    --port 8786 --no-dashboard
  for h in w1 w2; do
    in_host "$h" "$logs/dask-$round-$h.log" env PYTHONPATH="$peers" \
      "$PY" -m distributed.cli.dask_worker "tcp://$sched_addr" \
      --host "${addr[$h]}" --nworkers 1 --nthreads 1 --no-dashboard
  done
  say "round $round: dask-xhost (W5_data,W1_map,W2_latency)"
  timeout --kill-after=10 900 \
    ip netns exec "$prefix-client" unshare --uts sh -c \
    'hostname "$0" && exec "$@"' weftb-client "$PY" \
    bench/peers/dask_bench.py --scheduler "tcp://$sched_addr" \
    --system dask-xhost --only W5_data,W1_map,W2_latency \
    "${quick[@]}" --w5-reps "$w5_reps" \
    >"$out/dask-xhost-$round.json" 2>>"$logs/dask-$round-client.log" &
  wait $! || say "WARNING: dask round $round exited $? (see $logs)"
  stop_cluster
}

floor_round() {
  local round=$1 logs=$out/logs mb=100
  ((${#quick[@]})) && mb=20
  in_host w1 "$logs/floor-$round-w1.log" "$bin/stream_floor" --serve=9100 \
    --megabytes="$mb" --count="$w5_reps"
  say "round $round: tcp-floor (w1 -> w2, $mb MB x $w5_reps)"
  timeout --kill-after=10 300 \
    ip netns exec "$prefix-w2" "$bin/stream_floor" \
    --fetch="${addr[w1]}:9100" --megabytes="$mb" --count="$w5_reps" \
    >"$out/tcp-floor-$round.json" 2>>"$logs/floor-$round-w2.log" &
  wait $! || say "WARNING: tcp-floor round $round exited $? (see $logs)"
  stop_cluster
}

for ((r = 1; r <= rounds; r++)); do
  wants floor && floor_round "$r"
  wants weft && weft_round weft-xhost W1,W2,W5 1 "$r"
  wants weft-grpc && weft_round weft-xhost-grpc W5 0 "$r"
  wants dask && dask_round "$r"
done

finished=$(date +%s)
cat >"$out/run.json" <<EOF
{"command": "bench/crosshost.sh${quick:+ --quick} --rounds $rounds --w5-reps $w5_reps --systems $systems",
 "started_utc": "$(date -u -d "@$started" +%Y-%m-%dT%H:%M:%SZ)",
 "duration_seconds": $((finished - started)),
 "uptime_at_start": "$uptime_at_start",
 "uptime_at_end": "$(uptime)",
 "veth_mtu": ${mtu:-0},
 "rounds": $rounds, "w5_reps": $w5_reps,
 "commit": "$commit"}
EOF
"$PY" bench/report.py --crosshost "$out"
say "done in $((finished - started)) s; see $out/section.md"
