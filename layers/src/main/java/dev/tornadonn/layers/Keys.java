package dev.tornadonn.layers;

/** How a layer's name prefixes its checkpoint keys: {@code prefix.weight}, or {@code weight} with no prefix. */
public final class Keys {
    private Keys() {}

    public static String join(String prefix, String name) {
        return prefix == null || prefix.isEmpty() ? name : prefix + "." + name;
    }

    /** Whether {@code key} lies under {@code prefix} (every key does when there is no prefix). */
    public static boolean isUnder(String key, String prefix) {
        return prefix == null || prefix.isEmpty() || key.startsWith(prefix + ".");
    }
}
