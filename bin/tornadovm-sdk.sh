# Sourced by bin/tornado-nn and scripts/gpu-check.sh: how to start a JVM on the TornadoVM SDK at
# $TORNADOVM_HOME, with the backends TORNADO_NN_BACKENDS names (e.g. "ptx" or "opencl,ptx").
# Unset, it takes every backend the SDK was built with whose driver library the dynamic loader
# finds, and says which it leaves out: TornadoVM loads every backend it is given and fails whole when
# one cannot load its library, so an SDK with the PTX backend cannot list even the OpenCL devices of
# a machine without the NVIDIA driver.
#   tornadovm_choose_backends          sets TORNADOVM_BACKENDS (space-separated); 1 and a message on error
#   tornadovm_argfile                  prints the path of an argfile for those backends
#   tornadovm_module_path              prints the module path for them

# The SDK's JVM options with ${TORNADOVM_HOME} still in them (the template), else its expanded argfile.
tornadovm_sdk_argfile() {
  if [[ -f "$TORNADOVM_HOME/tornado-argfile.template" ]]; then
    echo "$TORNADOVM_HOME/tornado-argfile.template"
  elif [[ -f "$TORNADOVM_HOME/tornado-argfile" ]]; then
    echo "$TORNADOVM_HOME/tornado-argfile"
  else
    echo "tornado-nn: TORNADOVM_HOME=$TORNADOVM_HOME has no tornado-argfile; see README, 'GPUs with TornadoVM'" >&2
    return 1
  fi
}

# The backends the SDK was built with: the tornado.drivers.* modules its argfile adds, less the common one.
tornadovm_sdk_backends() {
  local argfile
  argfile="$(tornadovm_sdk_argfile)" || return 1
  sed -n 's/^--add-modules //p' "$argfile" | tr ',' '\n' | sed -n 's/^tornado\.drivers\.\([a-z0-9]*\)$/\1/p' | grep -vx common
}

# The driver library a backend's native part links against, or nothing for one this script does not know.
tornadovm_driver_library() {
  case "$1" in
    ptx|cuda) echo libcuda.so.1 ;;
    opencl|spirv) echo libOpenCL.so.1 ;;
  esac
}

# Whether the dynamic loader finds the library $1: LD_LIBRARY_PATH, the loader's cache, the usual directories.
tornadovm_loadable() {
  local dir dirs=()
  IFS=: read -ra dirs <<<"${LD_LIBRARY_PATH:-}"
  for dir in "${dirs[@]}" /lib64 /usr/lib64 /lib/x86_64-linux-gnu /usr/lib/x86_64-linux-gnu; do
    [[ -n $dir && -e $dir/$1 ]] && return 0
  done
  { ldconfig -p || /sbin/ldconfig -p; } 2>/dev/null | grep -q "^[[:space:]]*$1 "
}

tornadovm_choose_backends() {
  local built b lib wanted=()
  tornadovm_sdk_argfile >/dev/null || return 1
  built=" $(tornadovm_sdk_backends | tr '\n' ' ')"
  TORNADOVM_BACKENDS=""
  if [[ -n "${TORNADO_NN_BACKENDS:-}" ]]; then
    IFS=', ' read -ra wanted <<<"$TORNADO_NN_BACKENDS"
    for b in "${wanted[@]}"; do
      [[ -n $b ]] || continue
      if [[ $built != *" $b "* ]]; then
        echo "tornado-nn: TORNADO_NN_BACKENDS names '$b', which the SDK at $TORNADOVM_HOME was not built with (it has:${built% })" >&2
        return 1
      fi
      lib="$(tornadovm_driver_library "$b")"
      if [[ -n $lib ]] && ! tornadovm_loadable "$lib"; then
        echo "tornado-nn: TornadoVM's $b backend needs $lib, which the dynamic loader does not find (no driver installed, or not on LD_LIBRARY_PATH)" >&2
        return 1
      fi
      TORNADOVM_BACKENDS+="$b "
    done
  else
    for b in $built; do
      lib="$(tornadovm_driver_library "$b")"
      if [[ -n $lib ]] && ! tornadovm_loadable "$lib"; then
        echo "tornado-nn: leaving out TornadoVM's $b backend: no $lib on this machine (TORNADO_NN_BACKENDS chooses backends)" >&2
        continue
      fi
      TORNADOVM_BACKENDS+="$b "
    done
  fi
  TORNADOVM_BACKENDS="${TORNADOVM_BACKENDS% }"
  if [[ -z $TORNADOVM_BACKENDS ]]; then
    echo "tornado-nn: no TornadoVM backend left to run (the SDK has:${built% })" >&2
    return 1
  fi
}

# The backends of the SDK that were not chosen.
tornadovm_left_out() {
  local b
  for b in $(tornadovm_sdk_backends); do
    [[ " $TORNADOVM_BACKENDS " == *" $b "* ]] || echo "$b"
  done
}

# The SDK's argfile with its own location put in (so a copied SDK runs where it lies) and the modules
# of the backends left out taken out of every option that names them. Written once per content under
# the temporary directory, since the JVM reads it after this script has become the JVM.
tornadovm_argfile() {
  local source gone text dir file
  source="$(tornadovm_sdk_argfile)" || return 1
  gone="$(tornadovm_left_out | sed 's/^/tornado.drivers./' | paste -sd, -)"
  text="$(awk -v home="$TORNADOVM_HOME" -v gone="$gone" '
    function without(list,    n, parts, i, out) {
      n = split(list, parts, ","); out = ""
      for (i = 1; i <= n; i++) if (!(parts[i] in dropped)) out = out (out == "" ? "" : ",") parts[i]
      return out
    }
    BEGIN { n = split(gone, g, ","); for (i = 1; i <= n; i++) dropped[g[i]] = 1 }
    {
      # Each word with the SDK location put in, quoted for the JVM when that location has blanks.
      n = split($0, w, /[ \t]+/); line = ""
      for (k = 1; k <= n; k++) {
        word = w[k]; out = ""
        while ((i = index(word, "${TORNADOVM_HOME}")) > 0) { out = out substr(word, 1, i - 1) home; word = substr(word, i + 17) }
        word = out word
        if (word ~ /[ \t]/) word = "\"" word "\""
        line = line (k > 1 ? " " : "") word
      }
    }
    line ~ /^--add-modules / { print "--add-modules " without(substr(line, 15)); next }
    line ~ /^--enable-native-access=/ { l = without(substr(line, 24)); if (l != "") print "--enable-native-access=" l; next }
    line ~ /^--add-(exports|opens|reads)=/ {
      # --add-exports=SOURCE/PACKAGE=TARGETS, --add-reads=SOURCE=TARGETS
      eq = index(line, "="); rest = substr(line, eq + 1); eq2 = index(rest, "=")
      src = substr(rest, 1, eq2 - 1); sub(/\/.*/, "", src)
      if (src in dropped) next
      l = without(substr(rest, eq2 + 1))
      if (l != "") print substr(line, 1, eq) substr(rest, 1, eq2) l
      next
    }
    { print line }' "$source")" || return 1
  dir="${TMPDIR:-/tmp}/tornado-nn-$(id -u)"
  mkdir -p -m 700 "$dir" || return 1
  file="$dir/argfile-$(printf '%s\n' "$text" | cksum | cut -d' ' -f1)"
  if [[ ! -f $file ]]; then
    local tmp
    tmp="$(mktemp "$dir/.argfile.XXXXXX")" && printf '%s\n' "$text" >"$tmp" && mv -f "$tmp" "$file" || return 1
  fi
  echo "$file"
}

# The SDK's jars less those that clash with this project's (EJML 0.38 would shadow the oracle's;
# JUnit 4, JMH), its own tests and benchmarks, and the driver jars of the backends left out.
tornadovm_module_path() {
  local gone
  gone="$(tornadovm_left_out | paste -sd'|' -)"
  ls "$TORNADOVM_HOME"/share/java/tornado/*.jar \
    | grep -Ev '/(ejml|junit|hamcrest|jmh|jopt|lucene|tornado-(benchmarks|examples|unittests|matrices|fuzz))-[^/]*\.jar$' \
    | { if [[ -n $gone ]]; then grep -Ev "/tornado-drivers-($gone)(-jni)?-[^/]*\.jar$"; else cat; fi; } \
    | paste -sd: -
}
