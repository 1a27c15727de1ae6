package dev.tornadonn.layers;

import dev.tornadonn.core.DeviceRef;
import java.util.HashSet;
import java.util.List;

/** Checks every shard() shares. */
public final class Sharding {
    private Sharding() {}

    /** The device list must be as long as the strategy says (MAX does not check) and hold distinct devices. */
    public static void checkDevices(List<DeviceRef> devices, int expected, String layer) {
        if (devices.size() != expected) {
            throw new IllegalArgumentException(layer + ": the sharding strategy is for " + expected + " devices, got "
                    + devices.size() + " " + devices);
        }
        if (new HashSet<>(devices).size() != devices.size()) {
            throw new IllegalArgumentException(layer + ": devices must be distinct, got " + devices);
        }
    }
}
