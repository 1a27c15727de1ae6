#!/usr/bin/env bash
# What a GPU machine is for, in one command of under ten minutes: TornadoVM's device list, the
# conformance suite on gpu:0 through TornadoVM's PTX backend, an NCCL all-reduce with one rank and
# with two processes (RANK 0 and 1 on GPU 0, posing as two hosts), and the quick benchmark on gpu:0.
# It ends with a summary and exits 1 when any step failed. Without an NVIDIA GPU it says why and
# exits 0 (CI runs it so), or 1 with --require-gpu.
#
# Needs: an NVIDIA driver (libcuda.so.1), a TornadoVM SDK with the PTX backend, NCCL (libnccl.so.2)
# and the CUDA 13 runtime (libcudart.so.13), looked for also in the CUDA toolkit and in python3's
# nvidia-* wheels, and a JDK 25. On a machine without a JDK, Maven or network, a bundle made by
# scripts/gpu-bundle.sh brings the SDK, a JDK and the command's jar (README, "NVIDIA GPUs").
set -uo pipefail
caller="$PWD"
cd "$(dirname "${BASH_SOURCE[0]}")/.."
repo="$PWD"
source bin/tornadovm-sdk.sh

usage() {
  cat <<'EOF'
usage: scripts/gpu-check.sh [--bundle FILE.tar.xz|DIR] [--sdk DIR] [--java JDK_HOME] [--out DIR]
                            [--steps LIST] [--require-gpu]
  --bundle       what scripts/gpu-bundle.sh made: its SDK, JDK and jar are used unless told otherwise
  --sdk          the TornadoVM SDK (default: the bundle's, else $TORNADOVM_HOME, else /opt/tornadovm)
  --java         the JDK or runtime to run on (default: the bundle's, else $JAVA_HOME or a JDK 25 found)
  --out          where the logs and summary.txt go (default: a new temporary directory)
  --steps        a comma-separated subset of: devices,conformance,nccl-one-rank,nccl-two-process,bench
  --require-gpu  fail, rather than skip, where there is no NVIDIA GPU
EOF
}

all_steps=(devices conformance nccl-one-rank nccl-two-process bench)
# Each step's limit in seconds; together under ten minutes.
declare -A limit=([devices]=60 [conformance]=270 [nccl-one-rank]=45 [nccl-two-process]=60 [bench]=135)

die_usage() { echo "gpu-check: $*" >&2; usage >&2; exit 2; }
absolute() { if [[ $1 == /* ]]; then echo "$1"; else echo "$caller/$1"; fi; }   # paths as the caller meant them
bundle="" sdk="" java_home="" out="" steps="" require_gpu=false
while (($#)); do
  case "$1" in
    --bundle|--sdk|--java|--out|--steps)
      (($# >= 2)) || die_usage "$1 needs a value"
      case "$1" in
        --bundle) bundle="$(absolute "$2")" ;; --sdk) sdk="$(absolute "$2")" ;; --java) java_home="$(absolute "$2")" ;;
        --out) out="$(absolute "$2")" ;; --steps) steps="$2" ;;
      esac
      shift 2 ;;
    --require-gpu) require_gpu=true; shift ;;
    -h|--help) usage; exit 0 ;;
    *) die_usage "unknown argument '$1'" ;;
  esac
done
selected=()
IFS=, read -ra wanted <<<"${steps:-$(IFS=,; echo "${all_steps[*]}")}"
for s in "${wanted[@]}"; do
  [[ -n ${limit[$s]:-} ]] || die_usage "unknown step '$s'"
  selected+=("$s")
done
((${#selected[@]})) || die_usage "--steps names no step"
[[ -z $bundle || -e $bundle ]] || die_usage "--bundle $bundle does not exist"
[[ -z $sdk || -d $sdk ]] || die_usage "--sdk $sdk is not a directory"
[[ -z $java_home || -x $java_home/bin/java ]] || die_usage "--java $java_home has no bin/java"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
if [[ -z $out ]]; then
  out="$(mktemp -d "${TMPDIR:-/tmp}/gpu-check.XXXXXX")"
fi
mkdir -p "$out" || die_usage "cannot create --out $out"
out="$(cd "$out" && pwd)"

declare -A result detail seconds
summary() {
  local s ok=0 failed=0
  for s in "${selected[@]}"; do
    case "${result[$s]:-}" in ok) ok=$((ok + 1)) ;; FAILED) failed=$((failed + 1)) ;; esac
  done
  {
    echo "gpu-check summary (logs in $out)"
    for s in "${selected[@]}"; do
      printf '  %-17s %-8s %6s  %s\n' "$s" "${result[$s]:-skipped}" "${seconds[$s]:+${seconds[$s]} s}" "${detail[$s]:-}"
    done
    echo "gpu-check: $ok ok, $failed FAILED, $((${#selected[@]} - ok - failed)) skipped"
  } | tee "$out/summary.txt"
  ((failed == 0))
}

# The bundle: unpacked here, or a folder that holds (or is) gpu-bundle/.
jar="${TORNADO_NN_JAR:-}"
if [[ -n $bundle ]]; then
  if [[ -f $bundle ]]; then
    tar -xJf "$bundle" -C "$tmp" 2>/dev/null \
      || python3 -c 'import sys, tarfile; tarfile.open(sys.argv[1]).extractall(sys.argv[2])' "$bundle" "$tmp" \
      || { echo "gpu-check: FAILED: could not unpack $bundle" >&2; exit 1; }
    bundle="$tmp/gpu-bundle"
  elif [[ -d $bundle/gpu-bundle ]]; then
    bundle="$bundle/gpu-bundle"
  fi
  [[ -f $bundle/BUNDLE-INFO && -f $bundle/tornado-nn.jar ]] \
    || { echo "gpu-check: FAILED: $bundle is not a bundle of scripts/gpu-bundle.sh (no BUNDLE-INFO or tornado-nn.jar)" >&2; exit 1; }
  sed 's/^/bundle: /' "$bundle/BUNDLE-INFO"
  built_from="$(sed -n 's/^commit: \([0-9a-f]*\).*/\1/p' "$bundle/BUNDLE-INFO")"
  here="$(git rev-parse HEAD 2>/dev/null || true)"
  if [[ -n $here && -n $built_from && $here != "$built_from" ]]; then
    echo "gpu-check: note: the bundle's jar was built from $built_from, this checkout is $here"
  fi
  sdk="${sdk:-$bundle/sdk}"
  [[ -n $java_home || ! -d $bundle/jdk ]] || java_home="$bundle/jdk"
  jar="$bundle/tornado-nn.jar"
fi
# JAVA (a java binary) is how CI has always named the JDK for this script.
if [[ -z $java_home && -n ${JAVA:-} ]]; then
  java_home="$(dirname "$(dirname "$(readlink -f "$(command -v "$JAVA")")")")"
fi
[[ -z $java_home ]] || export JAVA_HOME="$java_home"
if ! JAVA_HOME="$(bin/find-jdk)"; then
  echo "gpu-check: FAILED: no JDK 25 (give --java, or a bundle with one)" >&2
  exit 1
fi
export JAVA_HOME
[[ -z $jar ]] || export TORNADO_NN_JAR="$jar"
jar="${jar:-$repo/cli/target/tornado-nn.jar}"

# Where NCCL and the CUDA runtime are not on the loader path, the CUDA toolkit or python3's nvidia-*
# wheels (a PyTorch install has both) may hold them.
add_library_dir() {
  tornadovm_loadable "$1" && return 0
  local dir sp site=() wheels=()
  if command -v python3 >/dev/null; then
    mapfile -t site < <(python3 -c 'import site; print("\n".join(site.getsitepackages() + [site.getusersitepackages()]))' 2>/dev/null)
  fi
  for sp in "${site[@]}"; do
    wheels+=("$sp"/nvidia/*/lib)   # nvidia/nccl/lib, nvidia/cu13/lib, ...
  done
  for dir in /usr/local/cuda/lib64 /usr/local/cuda/targets/x86_64-linux/lib "${wheels[@]}"; do
    if [[ -e $dir/$1 ]]; then
      export LD_LIBRARY_PATH="$dir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
      return 0
    fi
  done
  return 1
}

# Why this machine has no NVIDIA GPU to check, or nothing when it has one.
no_gpu_reason() {
  if ! tornadovm_loadable libcuda.so.1; then
    echo "no NVIDIA driver (the dynamic loader finds no libcuda.so.1)"
  elif command -v nvidia-smi >/dev/null && ! nvidia-smi -L 2>/dev/null | grep -q '^GPU '; then
    echo "nvidia-smi lists no GPU"
  fi
}

nccl_check=("$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -cp "$jar" dev.tornadonn.parallel.nccl.NcclCheck)

reason="$(no_gpu_reason)"
if [[ -n $reason ]]; then
  echo "gpu-check: no GPU to check: $reason"
  # NCCL's detection still runs where the jar is built: it must say why NCCL is unavailable, not crash.
  if [[ -f $jar ]]; then
    "${nccl_check[@]}" detect >"$out/nccl-detect.log" 2>&1
    rc=$?
    head -n 1 "$out/nccl-detect.log"
    if ((rc != 2)); then
      echo "gpu-check: FAILED: NCCL's detection exited $rc without a GPU (log: $out/nccl-detect.log)"
      exit 1
    fi
  fi
  for s in "${selected[@]}"; do detail[$s]="$reason"; done
  summary
  if $require_gpu; then echo "gpu-check: FAILED: --require-gpu and $reason"; exit 1; fi
  exit 0
fi

# A GPU: TornadoVM's PTX backend alone, so that gpu:0 is the first NVIDIA GPU and not an OpenCL device.
export TORNADOVM_HOME="${sdk:-${TORNADOVM_HOME:-/opt/tornadovm}}"
export TORNADO_NN_BACKENDS=ptx
for lib in libcudart.so.13 libnccl.so.2; do
  add_library_dir "$lib" || echo "gpu-check: note: $lib not found (loader path, CUDA toolkit, python3's nvidia wheels); the NCCL steps will say so"
done
echo "gpu-check: SDK $TORNADOVM_HOME, JDK $JAVA_HOME, jar $jar, logs in $out"
if ! tornadovm_choose_backends; then
  for s in "${selected[@]}"; do result[$s]=FAILED; detail[$s]="no PTX backend to run (see above)"; done
  summary
  exit
fi
# Builds the jar here when there is none (a machine with Maven and network); a bundle brings its own.
if ! bin/tornado-nn --version >"$out/prepare.log" 2>&1; then
  cat "$out/prepare.log"
  for s in "${selected[@]}"; do result[$s]=FAILED; detail[$s]="bin/tornado-nn could not start (log: prepare.log)"; done
  summary
  exit
fi
rm -f "$out/prepare.log"   # a log a step, and the summary: few files to bring back

# Runs step $1 with its time limit, its output shown and kept in $out/$1.log; $2... is the command,
# or a function of this script that keeps to the limit itself.
run_step() {
  local step="$1" start rc
  shift
  echo "== $step (limit ${limit[$step]} s): $*"
  start=$SECONDS
  if declare -F "$1" >/dev/null; then
    "$@" 2>&1 | tee "$out/$step.log"
  else
    timeout --kill-after=10 "${limit[$step]}" "$@" 2>&1 | tee "$out/$step.log"
  fi
  rc=${PIPESTATUS[0]}
  seconds[$step]=$((SECONDS - start))
  if ((rc == 124 || rc == 137)); then
    result[$step]=FAILED
    detail[$step]="timed out after ${limit[$step]} s"
    return 1
  fi
  return "$rc"
}
# Step $1's result from its exit status $2, with $3 to say, or for a failure with nothing to say,
# the root cause of a stack trace in its log, else its first line that names an error.
verdict() {
  if [[ $2 == 0 ]]; then result[$1]=ok; else result[$1]=FAILED; fi
  local say="$3" log="$out/$1.log"
  if [[ -z $say && $2 != 0 ]]; then
    say="$({ grep -E '^Caused by: ' "$log" | tail -n 1; grep -m 1 -E '(Exception|Error)\b|FAILED|^tornado-nn: ' "$log"; } \
      | head -n 1 | sed 's/\x1b\[[0-9;]*m//g' | cut -c 1-200)"
  fi
  [[ -n ${detail[$1]:-} ]] || detail[$1]="$say"
}
selected_has() { [[ " ${selected[*]} " == *" $1 "* ]]; }

if selected_has devices; then
  run_step devices bin/tornado-nn devices
  rc=$?
  line="$(grep -E '^gpu:0 +tornadovm-ptx ' "$out/devices.log" | head -n 1 | tr -s ' ')"
  if ((rc == 0)) && [[ -z $line ]]; then rc=1; detail[devices]="gpu:0 is not a PTX device"; fi
  verdict devices "$rc" "$line"
fi
if selected_has conformance; then
  run_step conformance bin/tornado-nn conformance --device gpu:0
  rc=$?
  verdict conformance "$rc" "$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$out/conformance.log" | tail -n 1)"
fi
if selected_has nccl-one-rank; then
  run_step nccl-one-rank "${nccl_check[@]}" one-rank
  rc=$?
  verdict nccl-one-rank "$rc" "$(grep -E '^nccl one-rank: ' "$out/nccl-one-rank.log" | head -n 1)"
fi
if selected_has nccl-two-process; then
  # Two processes on one GPU pass for two hosts (NCCL refuses two ranks of one host on one GPU),
  # joined over the loopback interface.
  two_ranks() {
    local port=$((20000 + RANDOM % 20000)) p0 p1 rc=0
    export WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=$port NCCL_IB_DISABLE=1 NCCL_SOCKET_IFNAME="${NCCL_SOCKET_IFNAME:-lo}"
    RANK=0 NCCL_HOSTID=tnn-host-a timeout "${limit[nccl-two-process]}" "${nccl_check[@]}" rank >"$tmp/rank0.log" 2>&1 & p0=$!
    RANK=1 NCCL_HOSTID=tnn-host-b timeout "${limit[nccl-two-process]}" "${nccl_check[@]}" rank >"$tmp/rank1.log" 2>&1 & p1=$!
    wait $p0 || rc=1
    wait $p1 || rc=1
    grep -h '^nccl rank: ' "$tmp/rank0.log" "$tmp/rank1.log"
    echo "--- rank 0:"; cat "$tmp/rank0.log"
    echo "--- rank 1:"; cat "$tmp/rank1.log"
    return $rc
  }
  run_step nccl-two-process two_ranks
  rc=$?
  ranks="$(cat "$tmp/rank0.log" "$tmp/rank1.log" 2>/dev/null | grep '^nccl rank: ')"
  verdict nccl-two-process "$rc" "$(grep -c '^nccl rank: ok' <<<"$ranks") of 2 ranks ok$( ((rc)) && grep -m 1 -v '^nccl rank: ok' <<<"$ranks" | sed 's/^/; /')"
fi
if selected_has bench; then
  run_step bench bin/tornado-nn bench --device gpu:0 --suite quick
  rc=$?
  verdict bench "$rc" "$(grep -cE 'GB/s|GFLOP' "$out/bench.log") lines of figures in bench.log"
fi
summary
