package dev.tornadonn.core;

import dev.tornadonn.core.backend.Backends;
import java.lang.foreign.MemorySegment;
import java.util.Objects;

/**
 * A dense, row-major tensor: shape, dtype, the device it belongs to, and little-endian bytes in a
 * {@link MemorySegment}. Views ({@link #slice}, {@link #reshape}) share the bytes; everything
 * else copies.
 */
public final class Tensor {
    private final Shape shape;
    private final DType dtype;
    private final DeviceRef device;
    private final MemorySegment data;

    public Tensor(Shape shape, DType dtype, DeviceRef device, MemorySegment data) {
        this.shape = Objects.requireNonNull(shape, "shape");
        this.dtype = Objects.requireNonNull(dtype, "dtype");
        this.device = Objects.requireNonNull(device, "device");
        this.data = Objects.requireNonNull(data, "data");
        long expected = shape.numel() * dtype.byteSize();
        if (data.byteSize() != expected) {
            throw new ConfigException("a " + dtype + " tensor of shape " + shape + " needs "
                    + expected + " bytes, got " + data.byteSize());
        }
    }

    /**
     * Zero-filled off-heap storage, aligned for the widest vector loads and freed when the tensor
     * is no longer reachable; not bounded by the JVM's direct-memory limit (see {@link NativeMemory}).
     */
    public static Tensor allocate(DType dtype, Shape shape, DeviceRef device) {
        long bytes = Math.multiplyExact(shape.numel(), (long) dtype.byteSize());
        return new Tensor(shape, dtype, device, NativeMemory.allocate(bytes, "a " + dtype + " tensor " + shape + " on " + device));
    }

    public static Tensor allocate(DType dtype, Shape shape) {
        return allocate(dtype, shape, DeviceRef.cpu(0));
    }

    /** Stores {@code values} as {@code dtype} (rounding to nearest even where it must). */
    public static Tensor of(DType dtype, Shape shape, float... values) {
        if (values.length != shape.numel()) {
            throw new ConfigException(values.length + " values do not fill shape " + shape);
        }
        Tensor t = allocate(dtype, shape);
        for (int i = 0; i < values.length; i++) {
            dtype.setFloat(t.data, i, values[i]);
        }
        return t;
    }

    public static Tensor of(float[] values, int... dims) {
        return of(DType.F32, Shape.of(dims), values);
    }

    public Shape shape() {
        return shape;
    }

    public DType dtype() {
        return dtype;
    }

    public DeviceRef device() {
        return device;
    }

    public MemorySegment data() {
        return data;
    }

    public long numel() {
        return shape.numel();
    }

    public float getFloat(long index) {
        return dtype.getFloat(data, index);
    }

    public void setFloat(long index, float value) {
        dtype.setFloat(data, index, value);
    }

    /** Every element, exactly decoded to float. */
    public float[] toFloatArray() {
        long n = numel();
        if (n > Integer.MAX_VALUE - 8) {
            throw new IllegalStateException("tensor of shape " + shape + " is too large for a float[]");
        }
        float[] out = new float[(int) n];
        for (int i = 0; i < out.length; i++) {
            out[i] = dtype.getFloat(data, i);
        }
        return out;
    }

    /** Every element of an I32 tensor. */
    public int[] toIntArray() {
        if (dtype != DType.I32) {
            throw new IllegalStateException("toIntArray needs an I32 tensor, not " + dtype);
        }
        int[] out = new int[Math.toIntExact(numel())];
        MemorySegment.copy(data, DType.I32_LE, 0, out, 0, out.length);
        return out;
    }

    /** An I32 tensor holding {@code values}. */
    public static Tensor ofInts(Shape shape, int... values) {
        if (values.length != shape.numel()) {
            throw new ConfigException(values.length + " values do not fill shape " + shape);
        }
        Tensor t = allocate(DType.I32, shape);
        MemorySegment.copy(values, 0, t.data, DType.I32_LE, 0, values.length);
        return t;
    }

    /** Sets every element to {@code value} (e.g. NaN, to poison an output before a kernel writes it). */
    public Tensor fill(float value) {
        long n = numel();
        for (long i = 0; i < n; i++) {
            dtype.setFloat(data, i, value);
        }
        return this;
    }

    /** A copy converted to {@code target}, rounding to nearest even where it must. */
    public Tensor toDType(DType target) {
        if (target == dtype) {
            return copy();
        }
        Tensor out = allocate(target, shape, device);
        long n = numel();
        boolean integers = !dtype.isFloatingPoint() && !target.isFloatingPoint();
        for (long i = 0; i < n; i++) {
            if (integers) { // exactly, where a float would round above 2^24
                target.setLong(out.data, i, dtype.getLong(data, i));
            } else {
                target.setFloat(out.data, i, dtype.getFloat(data, i));
            }
        }
        return out;
    }

    public Tensor copy() {
        return copy(device);
    }

    /** The same elements in new host storage tagged with {@code target}: what a backend's {@code copyTo} makes. */
    public Tensor copy(DeviceRef target) {
        Tensor out = allocate(dtype, shape, target);
        out.data.copyFrom(data);
        return out;
    }

    /** This tensor on {@code target}; the same object if it is already there. */
    public Tensor to(DeviceRef target) {
        if (target.equals(device)) {
            return this;
        }
        return Backends.forDevice(target).copyTo(this, target);
    }

    /** A view with the same bytes and another shape of the same element count. */
    public Tensor reshape(Shape newShape) {
        if (newShape.numel() != shape.numel()) {
            throw new ConfigException("cannot reshape " + shape + " to " + newShape);
        }
        return new Tensor(newShape, dtype, device, data);
    }

    public Tensor reshape(int... dims) {
        return reshape(Shape.of(dims));
    }

    /**
     * Elements {@code [start, end)} along {@code axis}. A view when the slice is contiguous (axis 0,
     * or every outer dimension is 1); otherwise a copy.
     */
    public Tensor slice(int axis, int start, int end) {
        int rank = shape.rank();
        if (axis < 0 || axis >= rank) {
            throw new ConfigException("axis " + axis + " out of range for shape " + shape);
        }
        int size = shape.dim(axis);
        if (start < 0 || end > size || start > end) {
            throw new ConfigException("slice [" + start + ", " + end + ") out of range for axis "
                    + axis + " of shape " + shape);
        }
        int[] dims = shape.dims();
        dims[axis] = end - start;
        Shape out = Shape.of(dims);
        long inner = dtype.byteSize();
        for (int i = axis + 1; i < rank; i++) {
            inner *= shape.dim(i);
        }
        long outer = 1;
        for (int i = 0; i < axis; i++) {
            outer *= shape.dim(i);
        }
        long rowBytes = inner * size;
        long sliceBytes = inner * (end - start);
        if (outer == 1) {
            return new Tensor(out, dtype, device, data.asSlice(start * inner, sliceBytes));
        }
        Tensor copy = allocate(dtype, out, device);
        for (long o = 0; o < outer; o++) {
            MemorySegment.copy(data, o * rowBytes + start * inner, copy.data, o * sliceBytes, sliceBytes);
        }
        return copy;
    }

    /**
     * The tensors joined along {@code axis}, on the first one's device. Ranks and dtypes must
     * agree, and every dimension but {@code axis}.
     */
    public static Tensor concat(java.util.List<Tensor> parts, int axis) {
        if (parts.isEmpty()) {
            throw new ConfigException("nothing to concatenate");
        }
        Tensor first = parts.get(0);
        int rank = first.shape.rank();
        if (axis < 0 || axis >= rank) {
            throw new ConfigException("axis " + axis + " out of range for shape " + first.shape);
        }
        int total = 0;
        for (Tensor t : parts) {
            if (t.dtype != first.dtype || t.shape.rank() != rank) {
                throw new ConfigException("cannot concatenate " + t + " with " + first);
            }
            for (int d = 0; d < rank; d++) {
                if (d != axis && t.shape.dim(d) != first.shape.dim(d)) {
                    throw new ConfigException("cannot concatenate " + t.shape + " with " + first.shape + " along axis " + axis);
                }
            }
            total += t.shape.dim(axis);
        }
        Shape shape = first.shape.withDim(axis, total);
        Tensor out = allocate(first.dtype, shape, first.device);
        long outer = 1;
        for (int d = 0; d < axis; d++) {
            outer *= shape.dim(d);
        }
        long inner = first.dtype.byteSize();
        for (int d = axis + 1; d < rank; d++) {
            inner *= shape.dim(d);
        }
        long outRow = inner * total;
        long at = 0;
        for (Tensor t : parts) {
            long chunk = inner * t.shape.dim(axis);
            for (long o = 0; o < outer; o++) {
                MemorySegment.copy(t.data, o * chunk, out.data, o * outRow + at, chunk);
            }
            at += chunk;
        }
        return out;
    }

    @Override
    public String toString() {
        return "Tensor(" + dtype + ", " + shape + ", " + device + ")";
    }
}
