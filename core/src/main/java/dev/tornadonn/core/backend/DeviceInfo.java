package dev.tornadonn.core.backend;

import dev.tornadonn.core.DeviceRef;

/**
 * One device a backend can run on, as {@code tornado-nn devices} lists it.
 *
 * @param ref the name layers and the command line use, e.g. {@code gpu:0}
 * @param backend the backend's name, e.g. {@code jvm-vector-512} or {@code tornadovm-opencl}
 * @param type what the device is, e.g. {@code CPU}, {@code GPU}, {@code ACCELERATOR}
 * @param name the device's own name as its driver reports it
 * @param memoryBytes memory the device's kernels can use, or -1 when unknown
 */
public record DeviceInfo(DeviceRef ref, String backend, String type, String name, long memoryBytes) {}
