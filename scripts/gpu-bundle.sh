#!/usr/bin/env bash
# Packs into one tarball what scripts/gpu-check.sh needs on a GPU machine that has no JDK, Maven or
# network: the TornadoVM SDK (its tests, benchmarks and examples left out), the command's jar built
# against it, and a JDK 25 runtime cut down with jlink (uncompressed modules, which xz packs smaller).
# Copy the tarball with the repository, then, in the repository there:
#   scripts/gpu-check.sh --bundle gpu-bundle.tar.xz --require-gpu
set -euo pipefail
caller="$PWD"
cd "$(dirname "${BASH_SOURCE[0]}")/.."
repo="$PWD"
source bin/tornadovm-sdk.sh

usage() {
  cat <<'EOF'
usage: scripts/gpu-bundle.sh [--sdk DIR] [--output FILE] [--no-jdk] [--max-mib N]
  --sdk      a TornadoVM SDK with the PTX backend (default: $TORNADOVM_HOME, else /opt/tornadovm)
  --output   the tarball to write (default: target/gpu-bundle.tar.xz)
  --no-jdk   leave the JDK out, for a GPU machine that has a JDK 25
  --max-mib  fail when the tarball is larger (default: 64)
EOF
}
absolute() { if [[ $1 == /* ]]; then echo "$1"; else echo "$caller/$1"; fi; }   # paths as the caller meant them
sdk="$(absolute "${TORNADOVM_HOME:-/opt/tornadovm}")" output="$PWD/target/gpu-bundle.tar.xz" with_jdk=true max_mib=64
while (($#)); do
  case "$1" in
    --sdk|--output|--max-mib)
      (($# >= 2)) || { echo "gpu-bundle: $1 needs a value" >&2; usage >&2; exit 2; }
      case "$1" in --sdk) sdk="$(absolute "$2")" ;; --output) output="$(absolute "$2")" ;; --max-mib) max_mib="$2" ;; esac
      shift 2 ;;
    --no-jdk) with_jdk=false; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "gpu-bundle: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
  esac
done
[[ $max_mib =~ ^[0-9]+$ ]] || { echo "gpu-bundle: --max-mib takes a whole number, not '$max_mib'" >&2; exit 2; }
[[ -d $sdk ]] || { echo "gpu-bundle: no TornadoVM SDK at $sdk (--sdk or TORNADOVM_HOME; README, 'GPUs with TornadoVM')" >&2; exit 1; }
export TORNADOVM_HOME="$(cd "$sdk" && pwd)"
backends="$(tornadovm_sdk_backends | paste -sd, -)"
if [[ ",$backends," != *,ptx,* ]]; then
  echo "gpu-bundle: the SDK at $TORNADOVM_HOME has no PTX backend (it has: $backends); build one with both (README, 'NVIDIA GPUs')" >&2
  exit 1
fi
JAVA_HOME="$(bin/find-jdk)"
export JAVA_HOME
jdk_version="$(sed -n 's/^JAVA_VERSION="\(.*\)"/\1/p' "$JAVA_HOME/release")"

stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
bundle="$stage/gpu-bundle"
mkdir -p "$bundle"

echo "gpu-bundle: building the command's jar against $TORNADOVM_HOME"
./mvnw -q -B -DskipTests -Dmaven.javadoc.skip=true -Dmaven.source.skip=true -pl cli -am package
jar="$repo/cli/target/tornado-nn.jar"
"$JAVA_HOME/bin/jar" tf "$jar" | grep -q 'dev/tornadonn/tornado/TornadoVmBackend.class' \
  || { echo "gpu-bundle: $jar was built without the TornadoVM backend" >&2; exit 1; }
cp "$jar" "$bundle/tornado-nn.jar"

# The SDK less what bin/tornado-nn never puts on the module path, its examples, what it wrote while
# running (var/), and the expanded argfile, whose paths are this machine's (the template travels).
echo "gpu-bundle: copying the SDK"
tar -C "$TORNADOVM_HOME" -cf - --exclude=./examples --exclude=./var --exclude=./tornado-argfile \
    --exclude='./share/java/tornado/ejml-*' --exclude='./share/java/tornado/junit-*' \
    --exclude='./share/java/tornado/hamcrest-*' --exclude='./share/java/tornado/jmh-*' \
    --exclude='./share/java/tornado/jopt-*' --exclude='./share/java/tornado/lucene-*' \
    --exclude='./share/java/tornado/tornado-benchmarks-*' --exclude='./share/java/tornado/tornado-examples-*' \
    --exclude='./share/java/tornado/tornado-unittests-*' --exclude='./share/java/tornado/tornado-matrices-*' \
    --exclude='./share/java/tornado/tornado-fuzz-*' . \
  | { mkdir "$bundle/sdk" && tar -C "$bundle/sdk" -xf -; }

if $with_jdk; then
  # What the command and TornadoVM need: JVMCI for Graal, java.desktop for the PTX driver and the
  # plots, the jar tool for the launcher's look into the jar, and the modules their jars require.
  echo "gpu-bundle: linking a JDK $jdk_version runtime"
  "$JAVA_HOME/bin/jlink" --output "$bundle/jdk" --no-man-pages --no-header-files --strip-debug --compress zip-0 \
    --add-modules java.base,java.compiler,java.desktop,java.logging,java.management,java.naming,java.net.http,java.rmi,java.scripting,java.sql,java.xml,jdk.incubator.vector,jdk.internal.vm.ci,jdk.jartool,jdk.management,jdk.unsupported,jdk.zipfs \
    2> >(grep -v 'Using incubator modules' >&2)
fi

{
  echo "commit: $(git rev-parse HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD 2>/dev/null || echo ' (with uncommitted changes)')"
  echo "sdk: TornadoVM $(sed -n 's/^version=//p' "$TORNADOVM_HOME/etc/tornado.release" 2>/dev/null) with backends $backends"
  echo "jdk: $($with_jdk && echo "$jdk_version ($(sed -n 's/^IMPLEMENTOR="\(.*\)"/\1/p' "$JAVA_HOME/release"))" || echo "none: the GPU machine's own")"
  echo "made: $(date -u +%Y-%m-%dT%H:%MZ)"
} >"$bundle/BUNDLE-INFO"

echo "gpu-bundle: compressing"
mkdir -p "$(dirname "$output")"
tar -C "$stage" -cf - gpu-bundle | xz -9 -T2 >"$output.part"
mv -f "$output.part" "$output"
bytes=$(stat -c %s "$output")
echo "gpu-bundle: $output: $((bytes / 1048576)) MiB ($bytes bytes); unpacked: $(du -sm "$bundle/sdk" | cut -f1) MiB SDK," \
  "$(du -sm "$bundle/tornado-nn.jar" | cut -f1) MiB jar$($with_jdk && echo ", $(du -sm "$bundle/jdk" | cut -f1) MiB JDK")"
sed 's/^/  /' "$bundle/BUNDLE-INFO"
if ((bytes > max_mib * 1048576)); then
  echo "gpu-bundle: FAILED: the tarball is over $max_mib MiB" >&2
  exit 1
fi
