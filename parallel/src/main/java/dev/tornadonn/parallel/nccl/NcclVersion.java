package dev.tornadonn.parallel.nccl;

import dev.tornadonn.core.ConfigException;
/** An NCCL release, decoded from {@code ncclGetVersion}'s integer. */
public record NcclVersion(int major, int minor, int patch) implements Comparable<NcclVersion> {

    public NcclVersion {
        if (major < 0 || minor < 0 || patch < 0) {
            throw new ConfigException("bad NCCL version " + major + "." + minor + "." + patch);
        }
    }

    /**
     * NCCL changed its encoding in 2.9: {@code major*10000 + minor*100 + patch} since then,
     * {@code major*1000 + minor*100 + patch} before (so 2.8.4 is 2804, 2.9.6 is 20906).
     */
    public static NcclVersion fromCode(int code) {
        if (code <= 0) {
            throw new ConfigException("bad NCCL version code " + code);
        }
        if (code >= 10000) {
            return new NcclVersion(code / 10000, code % 10000 / 100, code % 100);
        }
        return new NcclVersion(code / 1000, code % 1000 / 100, code % 100);
    }

    public boolean atLeast(NcclVersion other) {
        return compareTo(other) >= 0;
    }

    @Override
    public int compareTo(NcclVersion o) {
        int c = Integer.compare(major, o.major);
        if (c == 0) {
            c = Integer.compare(minor, o.minor);
        }
        return c != 0 ? c : Integer.compare(patch, o.patch);
    }

    @Override
    public String toString() {
        return major + "." + minor + "." + patch;
    }
}
