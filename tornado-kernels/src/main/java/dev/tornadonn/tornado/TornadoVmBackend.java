package dev.tornadonn.tornado;

import dev.tornadonn.core.Activation;
import dev.tornadonn.core.DType;
import dev.tornadonn.core.DeviceRef;
import dev.tornadonn.core.Shape;
import dev.tornadonn.core.Tensor;
import dev.tornadonn.core.TornadoNnException;
import dev.tornadonn.core.backend.Backend;
import dev.tornadonn.core.backend.DeviceInfo;
import dev.tornadonn.core.backend.LinearShapes;
import dev.tornadonn.core.backend.PreparedMatrix;
import dev.tornadonn.core.quant.QuantizedMatrix;
import dev.tornadonn.twins.KernelActivation;
import dev.tornadonn.twins.WeightFormat;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.WeakHashMap;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.ShortArray;

/**
 * The {@code gpu:i} devices, run by the kernels in {@link DeviceKernels} as TornadoVM compiles them
 * for each device (OpenCL, PTX or SPIR-V, whatever the runtime was built with).
 *
 * <p>Weights are copied once, at load, into TornadoVM arrays; the tensor handed back to the layer
 * is a view of that host copy, and the device copy is made on the layer's first forward and stays
 * resident. Activations ({@code x}, {@code y}) are host memory tagged with the device: each forward
 * copies x in and y out. A layer's plan (one task graph) is built on its first forward and kept
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

    /** Prepared tensor → its device arrays; weak, so a dropped layer frees its arrays and plans. */
    private final Map<Tensor, Resident> residents = Collections.synchronizedMap(new WeakHashMap<>());

    /** What a prepared tensor stands for on the device, and the plans that read it first. */
    private record Resident(DeviceRef device, ResidentWeight matrix, FloatArray vector, Map<List<Object>, LayerPlan> plans) {
        /** Plans are looked up and replaced under the map's own lock (see {@link #plan}). */
        Resident(DeviceRef device, ResidentWeight matrix, FloatArray vector) {
            this(device, matrix, vector, new java.util.HashMap<>());
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

    /**
     * Rank-2 weights keep their dtype (F32, BF16 or F16, decoded in the kernel); vectors (biases)
     * are decoded to F32 once, since the epilogue reads them as f32.
     */
    @Override
    public Tensor prepareWeight(Tensor weight, DeviceRef device) {
        TornadoDevices.get(device);
        if (weight.numel() > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("a TornadoVM array holds at most 2^31-1 elements; " + weight + " has "
                    + weight.numel() + " (shard the layer over more devices)");
        }
        if (weight.shape().rank() == 1) {
            FloatArray v = FloatArray.fromSegment(weight.toDType(DType.F32).data());
            Tensor view = new Tensor(weight.shape(), DType.F32, device, v.getSegment());
            residents.put(view, new Resident(device, null, v));
            return view;
        }
        if (weight.shape().rank() != 2) {
            throw new IllegalArgumentException("weights must be rank 2 (out, in) or rank 1 (bias), got " + weight.shape());
        }
        int format = WeightFormat.of(weight.dtype());
        int rows = weight.shape().dim(0);
        int cols = weight.shape().dim(1);
        ResidentWeight w;
        java.lang.foreign.MemorySegment hostCopy;
        if (format == WeightFormat.F32) {
            FloatArray values = FloatArray.fromSegment(weight.data());
            w = ResidentWeight.ofF32(values, rows, cols);
            hostCopy = values.getSegment();
        } else {
            ShortArray bits = ShortArray.fromSegment(weight.data());
            w = ResidentWeight.ofHalf(format, bits, rows, cols);
            hostCopy = bits.getSegment();
        }
        Tensor view = new Tensor(weight.shape(), weight.dtype(), device, hostCopy);
        residents.put(view, new Resident(device, w, null));
        return view;
    }

    @Override
    public void linear(Tensor x, Tensor w, Tensor bias, Tensor y) {
        LinearShapes shapes = LinearShapes.check(x, w, bias, y);
        Resident weight = matrix(w, "weight");
        FloatArray b = bias == null ? null : vector(bias, "bias");
        requireOn(weight.device(), x, "x");
        requireOn(weight.device(), y, "y");
        LayerPlan plan = plan(weight, List.of(bias == null ? "" : bias), shapes.m(),
                capacity -> new LayerPlan(TornadoDevices.get(weight.device()), capacity,
                        List.of(new LayerPlan.Stage(weight.matrix(), b, shapes.n(), KernelActivation.NONE, false))));
        plan.run(x, y);
    }

    /** The whole MLP as one task graph: the fused gate/up kernel's output stays on the device for the down projection. */
    @Override
    public void gatedMlp(Activation act, Tensor x, Tensor gateUpW, Tensor gateUpBias, Tensor downW, Tensor downBias,
                         Tensor y) {
        Resident gateUp = matrix(gateUpW, "gate/up weight");
        Resident down = matrix(downW, "down weight");
        int f = gateUp.matrix().rows() / 2;
        int hidden = gateUp.matrix().cols();
        if (gateUp.matrix().rows() != 2 * f || down.matrix().cols() != f || down.matrix().rows() != hidden) {
            throw new IllegalArgumentException("gate/up weight " + gateUpW.shape() + " and down weight " + downW.shape()
                    + " do not form an MLP (expected (2F, H) and (H, F))");
        }
        LinearShapes.requireRank2(x, "x");
        LinearShapes.requireRank2(y, "y");
        int m = x.shape().dim(0);
        if (x.shape().dim(1) != hidden || !y.shape().equals(Shape.of(m, hidden))) {
            throw new IllegalArgumentException("x " + x.shape() + " and y " + y.shape() + " must both be (M, " + hidden + ")");
        }
        FloatArray gub = gateUpBias == null ? null : vector(gateUpBias, "gate/up bias");
        FloatArray db = downBias == null ? null : vector(downBias, "down bias");
        requireOn(gateUp.device(), x, "x");
        requireOn(gateUp.device(), y, "y");
        List<Object> key = List.of("mlp", act, downW, gateUpBias == null ? "" : gateUpBias, downBias == null ? "" : downBias);
        LayerPlan plan = plan(gateUp, key, m, capacity -> new LayerPlan(TornadoDevices.get(gateUp.device()), capacity,
                List.of(new LayerPlan.Stage(gateUp.matrix(), gub, f, KernelActivation.code(act), true),
                        new LayerPlan.Stage(down.matrix(), db, hidden, KernelActivation.NONE, false))));
        plan.run(x, y);
    }

    @Override
    public boolean supportsQuantized() {
        return false;
    }

    @Override
    public PreparedMatrix prepareQuantized(QuantizedMatrix matrix, DeviceRef device) {
        throw new UnsupportedOperationException("GPTQ and FP8 weights are not supported on " + device
                + " by the TornadoVM backend yet; load quantised layers on a cpu device");
    }

    @Override
    public void quantizedLinear(Tensor x, PreparedMatrix w, Tensor bias, Tensor y) {
        throw new UnsupportedOperationException("GPTQ and FP8 weights are not supported by the TornadoVM backend yet");
    }

    @Override
    public void gatedActivation(Activation act, Tensor gateUp, Tensor out) {
        throw new UnsupportedOperationException("the TornadoVM backend runs the gated activation inside its MLP kernel "
                + "(gatedMlp), not on its own; " + out.device() + " has no separate gated-activation kernel");
    }

    /** The layer's plan for {@code m} rows, built (or regrown to twice its size) when it holds fewer. */
    private static LayerPlan plan(Resident first, List<Object> key, int m,
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

    private Resident matrix(Tensor t, String what) {
        return resident(t, what, true);
    }

    private FloatArray vector(Tensor t, String what) {
        return resident(t, what, false).vector();
    }

    private Resident resident(Tensor t, String what, boolean matrix) {
        Resident r = residents.get(t);
        if (r == null || (matrix ? r.matrix() == null : r.vector() == null)) {
            throw new IllegalArgumentException(what + " " + t + " was not prepared by the TornadoVM backend "
                    + "(prepareWeight on a gpu device)");
        }
        return r;
    }

    private static void requireOn(DeviceRef device, Tensor t, String what) {
        if (!t.device().equals(device)) {
            throw new IllegalArgumentException(what + " is on " + t.device() + " but the weights are on " + device);
        }
    }
}
