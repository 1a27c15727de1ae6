package dev.tornadonn.core;

import java.util.Locale;

/**
 * A device a tensor lives on: {@code cpu:i} is a logical host device run by the JVM kernels,
 * {@code gpu:i} the i-th device a TornadoVM runtime lists.
 */
public record DeviceRef(Kind kind, int id) {

    public enum Kind { CPU, GPU }

    public DeviceRef {
        if (kind == null) {
            throw new ConfigException("device kind must not be null");
        }
        if (id < 0) {
            throw new ConfigException("device id must be >= 0, got " + id);
        }
    }

    public static DeviceRef cpu(int id) {
        return new DeviceRef(Kind.CPU, id);
    }

    public static DeviceRef gpu(int id) {
        return new DeviceRef(Kind.GPU, id);
    }

    public boolean isCpu() {
        return kind == Kind.CPU;
    }

    /** Parses {@code cpu}, {@code cpu:0}, {@code gpu:3} (case-insensitive); a bare kind means id 0. */
    public static DeviceRef parse(String text) {
        if (text == null) {
            throw new ConfigException("no device given: expected cpu, cpu:N, gpu or gpu:N");
        }
        String s = text.strip().toLowerCase(Locale.ROOT);
        int colon = s.indexOf(':');
        String kindName = colon < 0 ? s : s.substring(0, colon);
        Kind kind = switch (kindName) {
            case "cpu" -> Kind.CPU;
            case "gpu" -> Kind.GPU;
            default -> throw new ConfigException(
                    "unknown device '" + text + "': expected cpu, cpu:N, gpu or gpu:N");
        };
        if (colon < 0) {
            return new DeviceRef(kind, 0);
        }
        String id = s.substring(colon + 1);
        if (!id.matches("[0-9]{1,9}")) {
            throw new ConfigException("bad device id in '" + text + "': expected cpu:N or gpu:N with N >= 0");
        }
        return new DeviceRef(kind, Integer.parseInt(id));
    }

    /**
     * A comma-separated list such as {@code cpu:0,cpu:1}, each entry as {@link #parse} reads it.
     * An empty entry ({@code ","}, {@code "cpu:0,"}, {@code ",cpu:1"}) or a device named twice is an
     * error: {@code String.split} would drop a trailing empty entry silently, and a duplicate would
     * put two shards on one device.
     */
    public static java.util.List<DeviceRef> parseList(String text) {
        if (text == null || text.isBlank()) {
            throw new ConfigException("empty device list: expected cpu, cpu:N, gpu:N or a comma-separated list of them");
        }
        String[] entries = text.split(",", -1); // -1 keeps trailing empty entries, so "cpu:0," is caught
        java.util.List<DeviceRef> out = new java.util.ArrayList<>(entries.length);
        for (int i = 0; i < entries.length; i++) {
            if (entries[i].isBlank()) {
                throw new ConfigException("empty entry " + (i + 1) + " of " + entries.length + " in device list '"
                        + text + "': expected a comma-separated list such as cpu:0,cpu:1");
            }
            DeviceRef d = parse(entries[i]);
            if (out.contains(d)) {
                throw new ConfigException("device " + d + " is listed twice in '" + text + "'; each device may appear once");
            }
            out.add(d);
        }
        return java.util.List.copyOf(out);
    }

    @Override
    public String toString() {
        return kind.name().toLowerCase(Locale.ROOT) + ":" + id;
    }
}
