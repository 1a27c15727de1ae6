#!/usr/bin/env bash
# NCCL smoke test: a one-rank all-reduce, then two processes (RANK 0/1) on GPU 0 posing as two hosts.
# Needs a CUDA 13 driver, the system's libnccl.so.2 (on the loader path) and a JDK 25:
#   JAVA=/path/to/bin/java scripts/gpu-check.sh      or      scripts/gpu-check.sh /path/to/bin/java
# Builds parallel and its dependencies with the Maven wrapper if parallel/target has no jar.
set -uo pipefail
cd "$(dirname "$0")/.."
JAVA="${1:-${JAVA:-java}}"
JAVA_HOME="${JAVA_HOME:-$(dirname "$(dirname "$(readlink -f "$(command -v "$JAVA")")")")}"
export JAVA_HOME
# The module's own jar, not its -sources or -javadoc jar beside it.
jar="$(ls parallel/target/tornado-nn-parallel-*.jar 2>/dev/null | grep -Ev -- '-(sources|javadoc)\.jar$' | head -1)"
if [ -z "$jar" ] || [ ! -f parallel/target/classpath.txt ]; then
  ./mvnw -q -B -pl parallel -am install -DskipTests || { echo "gpu-check: FAILED: build failed"; exit 1; }
  ./mvnw -q -B -pl parallel dependency:build-classpath -Dmdep.outputFile=target/classpath.txt \
    || { echo "gpu-check: FAILED: could not list the class path"; exit 1; }
  jar="$(ls parallel/target/tornado-nn-parallel-*.jar | grep -Ev -- '-(sources|javadoc)\.jar$' | head -1)"
fi
CP="$jar:$(cat parallel/target/classpath.txt)"
run() { "$JAVA" --enable-native-access=ALL-UNNAMED -cp "$CP" dev.tornadonn.parallel.nccl.NcclCheck "$@"; }

run detect; rc=$?
[ $rc = 2 ] && exit 0   # no GPU / no NCCL: the verdict line says why; nothing to test
[ $rc = 0 ] || exit 1
logs="$(mktemp -d)"
run one-rank 2>"$logs/one-rank.err" || status=1

port=$(( 20000 + RANDOM % 20000 ))
export WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=$port
RANK=0 NCCL_HOSTID=tnn-host-a run rank 2>"$logs/rank0.err" & p0=$!
RANK=1 NCCL_HOSTID=tnn-host-b run rank 2>"$logs/rank1.err" & p1=$!
wait $p0 || status=1
wait $p1 || status=1
[ "${status:-0}" = 0 ] && echo "gpu-check: all ok" || echo "gpu-check: FAILED (stack traces in $logs)"
exit "${status:-0}"
