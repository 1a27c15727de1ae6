package dev.tornadonn.tornado;

import dev.tornadonn.core.weights.WeightKind;

/** A weight in the arrays a plan's kernels read: dense values ({@link ResidentWeight}) or packed codes ({@link QuantWeight}). */
sealed interface DeviceWeight permits ResidentWeight, QuantWeight {
    int rows();

    int cols();

    /** Bytes the weight occupies on the device. */
    long bytes();

    WeightKind kind();
}
