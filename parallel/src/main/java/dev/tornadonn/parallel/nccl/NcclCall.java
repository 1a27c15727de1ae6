package dev.tornadonn.parallel.nccl;

/**
 * Every NCCL function this package calls, with the release that introduced it. The JNI glue links
 * against the 2.30 headers, but a call missing from an older {@code libnccl.so.2} would only fail
 * (killing the JVM) when first made, so each one is checked against the runtime's version first.
 */
public enum NcclCall {
    GET_VERSION(2, 0),          // ncclGetVersion (and ncclGetErrorString)
    COMM_INIT_ALL(2, 0),
    COMM_INIT_RANK(2, 0),
    GET_UNIQUE_ID(2, 0),
    GROUP_START_END(2, 0),
    ALL_REDUCE(2, 0),
    ALL_GATHER(2, 0),
    BROADCAST(2, 2),            // the out-of-place broadcast; ncclBcast came first
    COMM_DESTROY(2, 0),
    COMM_GET_ASYNC_ERROR(2, 4),
    COMM_ABORT(2, 4);

    /** Every call above is required, so this is the oldest NCCL the package accepts. */
    public static final NcclVersion OLDEST_SUPPORTED = oldest();

    private final NcclVersion since;

    NcclCall(int major, int minor) {
        this.since = new NcclVersion(major, minor, 0);
    }

    public NcclVersion since() {
        return since;
    }

    /** Throws unless {@code runtime} has this call. */
    public void requireIn(NcclVersion runtime) {
        if (!runtime.atLeast(since)) {
            throw new NcclException(this + " needs NCCL " + since + " or newer, but libnccl.so.2 is " + runtime);
        }
    }

    private static NcclVersion oldest() {
        NcclVersion v = new NcclVersion(0, 0, 0);
        for (NcclCall c : values()) {
            if (c.since.compareTo(v) > 0) {
                v = c.since;
            }
        }
        return v;
    }
}
