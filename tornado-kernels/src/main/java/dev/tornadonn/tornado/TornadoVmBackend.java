package dev.tornadonn.tornado;

import dev.tornadonn.core.ConfigException;
import dev.tornadonn.core.Activation;
import dev.tornadonn.core.DType;
import dev.tornadonn.core.DeviceRef;
import dev.tornadonn.core.Shape;
import dev.tornadonn.core.Tensor;
import dev.tornadonn.core.TornadoNnException;
import dev.tornadonn.core.UnsupportedOnDeviceException;
import dev.tornadonn.core.backend.Backend;
import dev.tornadonn.core.backend.DeviceInfo;
import dev.tornadonn.core.backend.LinearShapes;
import dev.tornadonn.core.backend.PreparedMatrix;
import dev.tornadonn.core.weights.DenseMatrix;
import dev.tornadonn.core.weights.Int8Matrix;
import dev.tornadonn.core.weights.WeightKind;
import dev.tornadonn.core.weights.WeightMatrix;
import dev.tornadonn.twins.KernelActivation;
import dev.tornadonn.twins.WeightFormat;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.ShortArray;

/**
 * The {@code gpu:i} devices, run by the kernels in {@link DeviceKernels} (every weight format:
 * dense, GPTQ, fp8 and int8 kept packed, GGUF blocks as the file's bytes) and {@link InputKernels} as TornadoVM compiles them for each device
 * (OpenCL, PTX or SPIR-V, whatever the runtime was built with).
 *
 * <p>Weights are copied once, at load, into TornadoVM arrays held by the prepared matrix; the
 * device copy is made on the layer's first forward and stays resident. Activations ({@code x}, {@code y}) are host memory tagged with the device: each forward
 * copies x in and the M rows of y out. A layer's plan (one task graph) is built on its first forward and kept
 * with its weight; it grows, by doubling, when more rows arrive than it holds.
 *
 * <p>TornadoVM must never fall back to running a kernel as plain Java: this backend sets
 * {@code tornado.recover.bailout=False} unless told otherwise, so a kernel that does not compile
 * is an exception.
 */
public final class TornadoVmBackend implements Backend {
    static final String BAILOUT_PROPERTY = "tornado.recover.bailout";

    static {
        if (System.getProperty(BAILOUT_PROPERTY) == null) {
            System.setProperty(BAILOUT_PROPERTY, "False");
        }
    }

    /**
     * A weight as this backend holds it: the kernels' arrays (uploaded on a plan's first
     * execution and kept on the device) and the plans that read them first, so that a dropped
     * layer frees its arrays and plans with it.
     */
    record TornadoMatrix(DeviceRef device, DeviceWeight matrix, FloatArray bias, Map<List<Object>, LayerPlan> plans)
            implements PreparedMatrix {
        @Override
        public int rows() {
            return matrix.rows();
        }

        @Override
        public int cols() {
            return matrix.cols();
        }

        @Override
        public WeightKind kind() {
            return matrix.kind();
        }

        @Override
        public boolean hasBias() {
            return bias != null;
        }

        @Override
        public long bytes() {
            return matrix.bytes() + (bias == null ? 0 : 4L * bias.getSize());
        }

        /** Identity: a prepared weight is one device allocation, and plan keys must not hash its mutable plans. */
        @Override
        public boolean equals(Object o) {
            return this == o;
        }

        @Override
        public int hashCode() {
            return System.identityHashCode(this);
        }

        /** Frees the plans' device memory; the weight must not be used afterwards. */
        @Override
        public void close() {
            synchronized (plans) {
                plans.values().forEach(LayerPlan::close);
                plans.clear();
            }
        }
    }

    @Override
    public String name() {
        return "tornadovm";
    }

    @Override
    public boolean supports(DeviceRef device) {
        // every gpu:i when TornadoVM is here, so that an id past the last device gets TornadoDevices.get's message
        return !device.isCpu() && TornadoDevices.available();
    }

    @Override
    public List<DeviceInfo> devices() {
        return TornadoDevices.available() ? TornadoDevices.describe(name()) : List.of();
    }

    @Override
    public Tensor copyTo(Tensor t, DeviceRef device) {
        TornadoDevices.get(device);
        return t.copy(device);
    }

    /** Dense, GPTQ, fp8, int8 and GGUF weights: the quantised ones stay packed on the device ({@link DeviceWeight}). */
    @Override
    public Set<WeightKind> weightKinds(DeviceRef device) {
        return EnumSet.of(WeightKind.DENSE, WeightKind.GROUP_QUANTIZED, WeightKind.FP8, WeightKind.INT8, WeightKind.GGUF);
    }

    /**
     * Dense weights keep their dtype (F32, BF16 or F16, decoded in the kernel), copied once into
     * the TornadoVM array the kernels read; GPTQ, fp8 and int8 blocks keep their codes packed
     * ({@link DeviceWeight#ofPacked}, written once into the ints the device copy is made from), and
     * GGUF blocks their bytes ({@link DeviceWeight#ofGguf}; stacked blocks must share a type). The
     * bias is decoded to F32 once, since the epilogue reads it as f32.
     */
    @Override
    public PreparedMatrix prepare(List<? extends WeightMatrix> rowBlocks, Tensor bias, DeviceRef device) {
        TornadoDevices.get(device);
        int rows = LinearShapes.checkBlocks(rowBlocks, bias);
        int cols = rowBlocks.get(0).cols();
        FloatArray b = bias == null ? null : FloatArray.fromSegment(bias.toDType(DType.F32).data());
        for (WeightMatrix w : rowBlocks) {
            if (w.kind() != rowBlocks.get(0).kind()) {
                throw new ConfigException("blocks stacked into one weight must share their kind: "
                        + rowBlocks.get(0).kind() + " and " + w.kind());
            }
        }
        if (rowBlocks.get(0).kind() == WeightKind.GGUF) {
            DeviceWeight w;
            try {
                w = DeviceWeight.ofGguf(rowBlocks);
            } catch (ConfigException e) { // mixed block types, or too large: say which device refuses it
                throw new ConfigException(device + ": " + e.getMessage(), e);
            }
            return new TornadoMatrix(device, w, b, new java.util.HashMap<>());
        }
        if (rowBlocks.get(0) instanceof Int8Matrix first) {
            requireOneInputQuantisation(rowBlocks, first, device);
        }
        if (rowBlocks.get(0).kind() != WeightKind.DENSE) {
            return new TornadoMatrix(device, DeviceWeight.ofPacked(rowBlocks), b, new java.util.HashMap<>());
        }
        List<DenseMatrix> blocks = new java.util.ArrayList<>();
        for (WeightMatrix w : rowBlocks) {
            DenseMatrix d = (DenseMatrix) w;
            if (d.dtype() != ((DenseMatrix) rowBlocks.get(0)).dtype()) {
                throw new ConfigException("dense blocks stacked into one must share a dtype");
            }
            blocks.add(d);
        }
        long elements = (long) rows * cols;
        if (elements > Integer.MAX_VALUE) {
            throw new ConfigException("a TornadoVM array holds at most 2^31-1 elements; a " + rows + " x " + cols
                    + " weight has " + elements + " (shard the layer over more devices)");
        }
        int format = WeightFormat.of(blocks.get(0).dtype());
        java.lang.foreign.MemorySegment target;
        DeviceWeight w;
        if (format == WeightFormat.F32) {
            FloatArray values = new FloatArray((int) elements);
            w = DeviceWeight.ofF32(values, rows, cols);
            target = values.getSegment();
        } else {
            ShortArray bits = new ShortArray((int) elements);
            w = DeviceWeight.ofHalf(format, bits, rows, cols);
            target = bits.getSegment();
        }
        long at = 0;
        for (DenseMatrix d : blocks) {
            d.copyTo(target, at);
            at += d.packedBytes();
        }
        return new TornadoMatrix(device, w, b, new java.util.HashMap<>());
    }

    /**
     * Stacked int8 blocks (an MLP's gate and up) become one device weight whose x is quantised once
     * before the product, so they need one input quantisation; the JVM backend keeps them apart.
     */
    private static void requireOneInputQuantisation(List<? extends WeightMatrix> blocks, Int8Matrix first, DeviceRef device) {
        for (WeightMatrix w : blocks) {
            Int8Matrix b = (Int8Matrix) w;
            if (!b.input().equals(first.input())) {
                throw new UnsupportedOnDeviceException("int8 weights stacked into one (an MLP's gate and up) must share "
                        + "their input quantisation on " + device + ", which quantises x once for all of them: "
                        + first.input() + " and " + b.input() + "; load this layer on a cpu device");
            }
        }
    }

    @Override
    public void linear(Tensor x, PreparedMatrix w, Tensor y) {
        TornadoMatrix weight = ours(w, "weight");
        LinearShapes shapes = LinearShapes.check(x, w, y);
        LayerPlan plan = plan(weight, List.of("linear"), shapes.m(),
                capacity -> new LayerPlan(TornadoDevices.get(weight.device()), capacity,
                        List.of(new LayerPlan.Stage(weight.matrix(), weight.bias(), shapes.n(), KernelActivation.NONE, false))));
        plan.run(x, y);
    }

    /** The whole MLP as one task graph: the fused gate/up kernel's output stays on the device for the down projection. */
    @Override
    public void gatedMlp(Activation act, Tensor x, PreparedMatrix gateUpW, PreparedMatrix downW, Tensor y) {
        TornadoMatrix gateUp = ours(gateUpW, "gate/up weight");
        TornadoMatrix down = ours(downW, "down weight");
        int f = gateUp.rows() / 2;
        int hidden = gateUp.cols();
        if (gateUp.rows() != 2 * f || down.cols() != f || down.rows() != hidden) {
            throw new ConfigException("gate/up weight " + gateUp.rows() + " x " + gateUp.cols() + " and down weight "
                    + down.rows() + " x " + down.cols() + " do not form an MLP (expected (2F, H) and (H, F))");
        }
        LinearShapes.requireRank2(x, "x");
        LinearShapes.requireRank2(y, "y");
        int m = x.shape().dim(0);
        if (x.shape().dim(1) != hidden || !y.shape().equals(Shape.of(m, hidden))) {
            throw new ConfigException("x " + x.shape() + " and y " + y.shape() + " must both be (M, " + hidden + ")");
        }
        requireOn(gateUp.device(), x, "x");
        requireOn(gateUp.device(), y, "y");
        List<Object> key = List.of("mlp", act, down);
        LayerPlan plan = plan(gateUp, key, m, capacity -> new LayerPlan(TornadoDevices.get(gateUp.device()), capacity,
                List.of(new LayerPlan.Stage(gateUp.matrix(), gateUp.bias(), f, KernelActivation.code(act), true),
                        new LayerPlan.Stage(down.matrix(), down.bias(), hidden, KernelActivation.NONE, false))));
        plan.run(x, y);
    }

    /**
     * The MLP's hidden activations alone, for the tensor-parallel fused path: the gate/up kernel
     * with its activation epilogue, as a plan of its own.
     */
    @Override
    public Tensor gatedHidden(Activation act, Tensor x, PreparedMatrix gateUpW) {
        TornadoMatrix gateUp = ours(gateUpW, "gate/up weight");
        LinearShapes.requireRank2(x, "x");
        requireOn(gateUp.device(), x, "x");
        int m = x.shape().dim(0);
        int f = gateUp.rows() / 2;
        Tensor h = Tensor.allocate(DType.F32, Shape.of(m, f), x.device());
        LayerPlan plan = plan(gateUp, List.of("hidden", act), m, capacity -> new LayerPlan(TornadoDevices.get(gateUp.device()),
                capacity, List.of(new LayerPlan.Stage(gateUp.matrix(), gateUp.bias(), f, KernelActivation.code(act), true))));
        plan.run(x, h);
        return h;
    }

    @Override
    public void gatedActivation(Activation act, Tensor gateUp, Tensor out) {
        throw new UnsupportedOnDeviceException("the TornadoVM backend runs the gated activation inside its MLP kernel "
                + "(gatedMlp), not on its own; " + out.device() + " has no separate gated-activation kernel");
    }

    /** The layer's plan for {@code m} rows, built (or regrown to twice its size) when it holds fewer. */
    private static LayerPlan plan(TornadoMatrix first, List<Object> key, int m,
                                  java.util.function.IntFunction<LayerPlan> build) {
        synchronized (first.plans()) {
            LayerPlan p = first.plans().get(key);
            if (p == null || p.capacity() < m) {
                int capacity = Math.max(m, p == null ? 1 : 2 * p.capacity());
                if (p != null) {
                    p.close();
                }
                p = build.apply(capacity);
                first.plans().put(key, p);
            }
            return p;
        }
    }

    private static TornadoMatrix ours(PreparedMatrix w, String what) {
        if (!(w instanceof TornadoMatrix t)) {
            throw new ConfigException(what + " was not prepared by the TornadoVM backend (prepare it on a gpu device)");
        }
        return t;
    }

    private static void requireOn(DeviceRef device, Tensor t, String what) {
        if (!t.device().equals(device)) {
            throw new ConfigException(what + " is on " + t.device() + " but the weights are on " + device);
        }
    }
}
