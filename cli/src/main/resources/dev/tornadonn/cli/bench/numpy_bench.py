# Times y = x @ w.T in float32 for each (m, n, k) given as JSON in argv[1]; written by tornado-nn bench.
# Prints one JSON object per line: first {"info": ...}, then {"case": ...} per shape as it finishes.
import ctypes, glob, json, os, sys, time

spec = json.loads(sys.argv[1])
try:
    import numpy as np
except ImportError as e:
    print(json.dumps({"error": "numpy is not installed: %s" % e}), flush=True)
    sys.exit(3)

info = {"numpy": np.__version__, "python": sys.version.split()[0]}
try:
    blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
    info["blas"] = "%s %s" % (blas.get("name"), blas.get("version"))
    info["blas_build"] = blas.get("openblas configuration", "")
except Exception:
    pass

def openblas_runtime():
    """The kernel OpenBLAS picked at run time, and its thread count: threadpoolctl, else the library itself."""
    try:
        import threadpoolctl
        for p in threadpoolctl.threadpool_info():
            if p.get("internal_api") == "openblas":
                return p.get("architecture"), p.get("num_threads"), "threadpoolctl"
    except ImportError:
        pass
    here = os.path.dirname(np.__file__)
    for path in glob.glob(os.path.join(here, "..", "numpy.libs", "*openblas*")) + glob.glob(os.path.join(here, ".dylibs", "*openblas*")):
        lib = ctypes.CDLL(path)  # numpy loaded it already: the same handle, the same state
        core = threads = None
        for prefix in ("scipy_openblas_", "openblas_"):
            for suffix in ("64_", ""):
                f = getattr(lib, prefix + "get_corename" + suffix, None)
                if f is not None and core is None:
                    f.restype = ctypes.c_char_p
                    core = f().decode()
                g = getattr(lib, prefix + "get_num_threads" + suffix, None)
                if g is not None and threads is None:
                    threads = g()
        if core is not None:
            return core, threads, os.path.basename(path)
    return None, None, None

info["openblas_core"], info["openblas_threads"], info["probed_with"] = openblas_runtime()
print(json.dumps({"info": info}), flush=True)

repeat, budget = spec["repeat"], spec["budget_s"]
# Each timed sample is a batch of calls lasting at least this long, reported per call: a small GEMV
# takes microseconds, about the timer's resolution, and one call slowed by a neighbour's burst
# would otherwise be a sample of its own. The median is over batches.
MIN_BATCH_S = 0.05
rng = np.random.default_rng(1234)
for m, n, k in spec["shapes"]:
    x = rng.random((m, k), dtype=np.float32); x -= 0.5
    # Weights as real checkpoints hold them (and as the JVM side draws them): normal, std 1/sqrt(k).
    w = rng.standard_normal((n, k), dtype=np.float32); w *= np.float32(1.0 / np.sqrt(k))
    start = time.perf_counter()
    i = 0
    while i < 2 or (time.perf_counter() - start < min(1.0, budget) and i < 100000):  # warm-up, as the JVM side
        x @ w.T
        i += 1
    # Calls per batch: grown until one batch takes MIN_BATCH_S, with a tenth to spare.
    batch = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(batch):
            x @ w.T
        elapsed = time.perf_counter() - t0
        if elapsed >= MIN_BATCH_S:
            break
        batch = max(batch * 2, int(batch * 1.1 * MIN_BATCH_S / max(elapsed, 1e-9)) + 1)
    times = []
    t_start = time.perf_counter()
    while len(times) < repeat and (len(times) < 3 or time.perf_counter() - t_start < budget):
        t0 = time.perf_counter()
        for _ in range(batch):
            x @ w.T
        times.append((time.perf_counter() - t0) / batch)
    print(json.dumps({"case": {"m": m, "n": n, "k": k, "times": times, "calls_per_sample": batch}}), flush=True)
    del x, w
