package dev.tornadonn.jvm;

import dev.tornadonn.core.ConfigException;
import dev.tornadonn.core.Activation;
import dev.tornadonn.core.DeviceRef;
import dev.tornadonn.core.Shape;
import dev.tornadonn.core.Tensor;
import dev.tornadonn.core.backend.Backend;
import dev.tornadonn.core.backend.DeviceInfo;
import dev.tornadonn.core.backend.LinearShapes;
import dev.tornadonn.core.backend.PreparedMatrix;
import dev.tornadonn.core.weights.DenseMatrix;
import dev.tornadonn.core.weights.Fp8Matrix;
import dev.tornadonn.core.weights.GgufMatrix;
import dev.tornadonn.core.weights.GroupQuantizedMatrix;
import dev.tornadonn.core.weights.Int8Matrix;
import dev.tornadonn.core.weights.WeightKind;
import dev.tornadonn.core.weights.WeightMatrix;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/** The default backend: every {@code cpu:i} device, run by JVM kernels on the host's cores. */
public final class JvmBackend implements Backend {
    private static final int ACTIVATION_ROWS_PER_TASK = 8;
    private final MatmulKernels kernels;
    private final GroupQuantKernels groupQuant;
    private final Fp8Kernels fp8;
    private final Int8Kernels int8;

    /** The kernels {@link KernelSelection} picks for this CPU and JVM. */
    public JvmBackend() {
        this(KernelSelection.select());
    }

    JvmBackend(MatmulKernels kernels) {
        this.kernels = kernels;
        this.groupQuant = kernels instanceof ScalarKernels ? new GroupQuantKernels.Scalar() : KernelSelection.vectorGroupQuant();
        this.fp8 = kernels instanceof ScalarKernels ? new Fp8Kernels.Scalar() : KernelSelection.vectorFp8();
        this.int8 = kernels instanceof ScalarKernels ? new Int8Kernels.Scalar() : KernelSelection.vectorInt8();
    }

    /** The scalar twin, whatever the CPU: for tests and for comparing against the vector kernels. */
    public static JvmBackend scalar() {
        return new JvmBackend(new ScalarKernels());
    }

    @Override
    public String name() {
        return "jvm-" + kernels.name();
    }

    @Override
    public boolean supports(DeviceRef device) {
        return device.isCpu();
    }

    @Override
    public Tensor copyTo(Tensor t, DeviceRef device) {
        requireCpu(device);
        return t.copy(device);
    }

    @Override
    public PreparedMatrix prepare(List<? extends WeightMatrix> rowBlocks, Tensor bias, DeviceRef device) {
        requireCpu(device);
        int rows = LinearShapes.checkBlocks(rowBlocks, bias);
        String what = "a " + rows + " x " + rowBlocks.get(0).cols() + " " + rowBlocks.get(0).describe() + " weight on " + device;
        KernelLayout layout;
        try {
            layout = layout(rowBlocks, device, what);
        } catch (OutOfMemoryError e) { // a heap array of the layout: one line, naming the weight
            throw dev.tornadonn.core.NativeMemory.outOfMemory(rowBlocks.stream().mapToLong(WeightMatrix::packedBytes).sum(), what, e);
        }
        return new JvmMatrix(device, rowBlocks.get(0).kind(), layout, bias == null ? null : bias.toFloatArray());
    }

    /** One layout for all blocks where they can share it; else each its own, stacked. */
    private static KernelLayout layout(List<? extends WeightMatrix> blocks, DeviceRef device, String what) {
        return switch (blocks.get(0)) {
            case DenseMatrix d -> DenseLayout.of(cast(blocks, DenseMatrix.class), device, what);
            case GroupQuantizedMatrix g -> {
                List<GroupQuantizedMatrix> gs = cast(blocks, GroupQuantizedMatrix.class);
                yield GroupQuantLayout.fusable(gs) ? GroupQuantLayout.of(gs) : stacked(blocks, device, what);
            }
            case Fp8Matrix f -> {
                List<Fp8Matrix> fs = cast(blocks, Fp8Matrix.class);
                yield Fp8Layout.fusable(fs) ? Fp8Layout.of(fs) : stacked(blocks, device, what);
            }
            case GgufMatrix q -> {
                List<GgufMatrix> qs = cast(blocks, GgufMatrix.class);
                yield GgufLayout.fusable(qs) ? GgufLayout.of(qs) : stacked(blocks, device, what);
            }
            case Int8Matrix q -> {
                List<Int8Matrix> qs = cast(blocks, Int8Matrix.class);
                yield Int8Layout.fusable(qs) ? Int8Layout.of(qs) : stacked(blocks, device, what);
            }
        };
    }

    private static KernelLayout stacked(List<? extends WeightMatrix> blocks, DeviceRef device, String what) {
        List<KernelLayout> parts = new ArrayList<>();
        int rows = 0;
        for (WeightMatrix b : blocks) {
            parts.add(layout(List.of(b), device, what));
            rows += b.rows();
        }
        return new KernelLayout.Stacked(List.copyOf(parts), rows, blocks.get(0).cols());
    }

    private static <T extends WeightMatrix> List<T> cast(List<? extends WeightMatrix> blocks, Class<T> type) {
        return blocks.stream().map(type::cast).toList();
    }

    @Override
    public void linear(Tensor x, PreparedMatrix w, Tensor y) {
        LinearShapes.require(x, w, y);
        JvmMatrix jm = jvmMatrix(w);
        requireCpu(x.device());
        int m = x.shape().dim(0);
        int k = x.shape().dim(1);
        int n = jm.rows();
        Scratch scratch = Scratch.current();
        float[] xs = scratch.floats(X, Math.multiplyExact(m, k));
        MemorySegment.copy(x.data(), WeightRows.F32, 0, xs, 0, m * k);
        float[] ys = scratch.floats(Y, Math.multiplyExact(m, n));
        forward(jm, xs, m, ys);
        MemorySegment.copy(ys, 0, y.data(), WeightRows.F32, 0, m * n);
    }

    /**
     * The gated MLP in one call, its intermediates in the calling thread's scratch arrays (the
     * default runs it through fresh tensors): gate and up, the activation, down.
     */
    @Override
    public void gatedMlp(Activation act, Tensor x, PreparedMatrix gateUp, PreparedMatrix down, Tensor y) {
        requireRank2(x, "x");
        requireRank2(y, "y");
        JvmMatrix gu = jvmMatrix(gateUp);
        JvmMatrix dn = jvmMatrix(down);
        int m = x.shape().dim(0);
        int h = x.shape().dim(1);
        int f = gu.rows() / 2;
        if (gu.cols() != h || gu.rows() != 2 * f) {
            throw new ConfigException("x " + x.shape() + " and the " + gu.rows() + " x " + gu.cols()
                    + " gate/up weight disagree: it must be (2F, " + h + ")");
        }
        if (dn.cols() != f) {
            throw new ConfigException("the " + dn.rows() + " x " + dn.cols() + " down weight must take the " + f
                    + " features of the " + gu.rows() + " x " + gu.cols() + " gate/up weight");
        }
        if (y.shape().rank() != 2 || y.shape().dim(0) != m || y.shape().dim(1) != dn.rows()) {
            throw new ConfigException("y must be " + Shape.of(m, dn.rows()) + ", got " + y.shape());
        }
        if (!x.device().equals(gu.device()) || !x.device().equals(dn.device()) || !y.device().equals(dn.device())) {
            throw new ConfigException("x on " + x.device() + " and y on " + y.device() + " must be on the weights' device "
                    + dn.device());
        }
        Scratch scratch = Scratch.current();
        float[] xs = scratch.floats(X, Math.multiplyExact(m, h));
        MemorySegment.copy(x.data(), WeightRows.F32, 0, xs, 0, m * h);
        float[] gateUpOut = scratch.floats(GATE_UP, Math.multiplyExact(m, 2 * f));
        forward(gu, xs, m, gateUpOut);
        float[] hidden = scratch.floats(HIDDEN, Math.multiplyExact(m, f));
        activate(act, gateUpOut, hidden, m, f);
        float[] ys = scratch.floats(Y, Math.multiplyExact(m, dn.rows()));
        forward(dn, hidden, m, ys);
        MemorySegment.copy(ys, 0, y.data(), WeightRows.F32, 0, m * dn.rows());
    }

    /** Caller-side scratch of a forward: x, y, and the gated MLP's intermediates. */
    private static final Scratch.Key X = Scratch.key("x");
    private static final Scratch.Key Y = Scratch.key("y");
    private static final Scratch.Key GATE_UP = Scratch.key("the gated MLP's gate and up outputs");
    private static final Scratch.Key HIDDEN = Scratch.key("the gated MLP's hidden activations");
    /** One block of a stacked layout, before it goes into its columns of y. */
    private static final Scratch.Key PART = Scratch.key("one stacked block's output");

    private static JvmMatrix jvmMatrix(PreparedMatrix w) {
        if (!(w instanceof JvmMatrix jm)) {
            throw new ConfigException("not a JVM-backend weight: " + w.getClass().getName()
                    + " (prepare it with this backend, on a cpu device)");
        }
        return jm;
    }

    /** {@code y = x·wᵀ + bias} on arrays ({@code (m, cols)} and {@code (m, rows)}): the kernels, then the overflow repair. */
    private void forward(JvmMatrix w, float[] x, int m, float[] y) {
        if (m > 0 && w.rows() > 0) {
            run(w.layout(), x, m, w.bias(), 0, y, w.rows(), 0);
            repairOverflow(w, x, m, y);
        }
    }

    /**
     * A NaN or an infinity from finite inputs may be f32 overflow, not the answer: vector lanes
     * whose partial sums overflowed to +∞ and −∞ add to NaN where the whole sum is beyond f32
     * (±∞) or even finite, and one lane's +∞ hides another's cancelling sum. Such outputs, rare
     * and cheap to find, are computed again in float64 from the same decoded values and rounded
     * once, which gives ±∞ exactly when the true result is beyond f32.
     */
    private void repairOverflow(JvmMatrix w, float[] x, int m, float[] y) {
        int n = w.rows();
        int k = w.cols();
        java.util.Map<KernelLayout, Record> quantised = null; // made when needed: this scan runs every call
        for (int i = 0; i < m; i++) {
            boolean finiteRow = true;
            for (int c = 0; c < k && finiteRow; c++) {
                finiteRow = Float.isFinite(x[i * k + c]);
            }
            for (int j = 0; finiteRow && j < n; j++) {
                if (!Float.isFinite(y[i * n + j])) {
                    if (quantised == null) {
                        quantised = new java.util.IdentityHashMap<>();
                    }
                    double b = w.bias() == null ? 0 : w.bias()[j];
                    double exact = exactDot(w.layout(), x, m, i, j, quantised) + b;
                    if (!Double.isNaN(exact)) { // NaN or ∞ weights make NaN the answer
                        y[i * n + j] = (float) exact;
                    }
                }
            }
        }
    }

    /**
     * Row {@code j} of {@code layout} times row {@code i} of x in float64, from the values the
     * kernels decode; fp8 and int8 inputs quantised as the kernels quantise all m rows (once per layout).
     */
    private double exactDot(KernelLayout layout, float[] x, int m, int i, int j, java.util.Map<KernelLayout, Record> quantised) {
        int k = layout.cols();
        int xo = i * k;
        return switch (layout) {
            case DenseLayout d -> {
                double s = 0;
                for (int c = 0; c < k; c++) {
                    s += (double) x[xo + c] * d.weight().dtype().getFloat(d.weight().data(), (long) j * k + c);
                }
                yield s;
            }
            case GroupQuantLayout g -> {
                float[] row = new float[g.paddedCols()];
                groupQuant.decodeRow(g, j, row);
                double s = 0;
                for (int pos = 0; pos < row.length; pos++) {
                    int c = g.columnOfPosition()[pos];
                    if (c >= 0) {
                        s += (double) x[xo + c] * row[pos];
                    }
                }
                yield s;
            }
            case Fp8Layout f -> {
                float[] row = new float[k];
                fp8.decodeRow(f, j, row);
                Fp8Activations a = (Fp8Activations) quantised.computeIfAbsent(f, l -> Fp8Activations.of(x, m, f));
                int[] start = f.segmentStart();
                int segs = f.segments();
                double s = 0;
                for (int seg = 0; seg < segs; seg++) {
                    double part = 0;
                    for (int c = start[seg]; c < start[seg + 1]; c++) {
                        part += (double) a.xq()[xo + c] * row[c];
                    }
                    s += part * a.scales()[i * segs + seg] * f.weightScales()[j * segs + seg];
                }
                yield s;
            }
            case Int8Layout q -> {
                Int8Activations a = (Int8Activations) quantised.computeIfAbsent(q,
                        l -> Int8Activations.quantise(x, m, k, q.input()));
                long acc = 0;
                for (int c = 0; c < k; c++) {
                    acc += a.codes()[xo + c] * q.code(j, c);
                }
                yield Int8Linear.zeroPointCorrected(acc, a.zeroPoints()[i], q.rowSums()[j]) * ((double) a.scales()[i] * q.weightScales()[j]);
            }
            case GgufLayout q -> {
                float[] row = new float[k];
                q.decodeRow(j, new byte[q.rowBytes()], row);
                double s = 0;
                for (int c = 0; c < k; c++) {
                    s += (double) x[xo + c] * row[c];
                }
                yield s;
            }
            case KernelLayout.Stacked st -> {
                int at = 0;
                for (KernelLayout part : st.parts()) {
                    if (j < at + part.rows()) {
                        yield exactDot(part, x, m, i, j - at, quantised);
                    }
                    at += part.rows();
                }
                throw new ConfigException("row " + j + " outside " + st.rows());
            }
        };
    }

    /**
     * Columns {@code [col0, col0 + layout.rows())} of the {@code (m, ldy)} output, with
     * {@code bias[biasAt ..]} (or none). A block of a stacked layout runs into scratch without its
     * bias, which is added as the block moves into its columns.
     */
    private void run(KernelLayout layout, float[] x, int m, float[] bias, int biasAt, float[] y, int ldy, int col0) {
        if (layout instanceof KernelLayout.Stacked s) {
            int at = 0;
            for (KernelLayout part : s.parts()) {
                run(part, x, m, bias, biasAt + at, y, ldy, col0 + at);
                at += part.rows();
            }
            return;
        }
        int n = layout.rows();
        boolean whole = ldy == n; // the only block: col0 and biasAt are 0
        float[] out = whole ? y : Scratch.current().floats(PART, Math.multiplyExact(m, n));
        float[] b = whole ? bias : null;
        switch (layout) {
            case DenseLayout d -> kernels.linear(x, m, d.cols(), d.weight().data(), d.weight().dtype(), n, b, out,
                    d.subnormals());
            case GroupQuantLayout g -> GroupQuantLinear.run(kernels, groupQuant, x, m, g, b, out);
            case Fp8Layout f -> Fp8Linear.run(kernels, fp8, x, m, f, b, out);
            case GgufLayout q -> GgufLinear.run(kernels, fp8, x, m, q, b, out);
            case Int8Layout q -> Int8Linear.run(int8, x, m, q, b, out);
            case KernelLayout.Stacked s -> throw new AssertionError("handled above");
        }
        if (!whole) {
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    y[i * ldy + col0 + j] = out[i * n + j] + (bias == null ? 0f : bias[biasAt + j]);
                }
            }
        }
    }

    @Override
    public void gatedActivation(Activation act, Tensor gateUp, Tensor out) {
        requireRank2(gateUp, "gateUp");
        requireRank2(out, "out");
        int m = out.shape().dim(0);
        int f = out.shape().dim(1);
        if (gateUp.shape().dim(0) != m || gateUp.shape().dim(1) != 2 * f) {
            throw new ConfigException("gateUp must be " + Shape.of(m, 2 * f) + ", got " + gateUp.shape());
        }
        Scratch scratch = Scratch.current();
        float[] gu = scratch.floats(GATE_UP, Math.multiplyExact(m, 2 * f));
        MemorySegment.copy(gateUp.data(), WeightRows.F32, 0, gu, 0, m * 2 * f);
        float[] h = scratch.floats(HIDDEN, Math.multiplyExact(m, f));
        activate(act, gu, h, m, f);
        MemorySegment.copy(h, 0, out.data(), WeightRows.F32, 0, m * f);
    }

    /** {@code h = act(gate) · up} for the {@code (m, 2f)} gate|up rows {@code gu}, a few rows per task. */
    private static void activate(Activation act, float[] gu, float[] h, int m, int f) {
        GatedActivation task = GATED_ACTIVATION.get();
        task.start(act, gu, h, m, f);
        try {
            Parallel.forEach((m + ACTIVATION_ROWS_PER_TASK - 1) / ACTIVATION_ROWS_PER_TASK, task);
        } finally {
            task.start(null, null, null, 0, 0);
        }
    }

    private static final ThreadLocal<GatedActivation> GATED_ACTIVATION = ThreadLocal.withInitial(GatedActivation::new);

    /** {@link #activate}'s rows, {@value #ACTIVATION_ROWS_PER_TASK} per task; the calling thread reuses it. */
    private static final class GatedActivation implements java.util.function.IntConsumer {
        private Activation act;
        private float[] gu;
        private float[] h;
        private int m;
        private int f;

        void start(Activation act, float[] gu, float[] h, int m, int f) {
            this.act = act;
            this.gu = gu;
            this.h = h;
            this.m = m;
            this.f = f;
        }

        @Override
        public void accept(int t) {
            int end = Math.min(m, (t + 1) * ACTIVATION_ROWS_PER_TASK);
            for (int i = t * ACTIVATION_ROWS_PER_TASK; i < end; i++) {
                for (int j = 0; j < f; j++) {
                    h[i * f + j] = act.apply(gu[2 * i * f + j]) * gu[2 * i * f + f + j];
                }
            }
        }
    }

    @Override
    public List<DeviceInfo> devices() {
        // cpu:i are logical devices sharing the host's cores and heap; one line stands for them all.
        return List.of(new DeviceInfo(DeviceRef.cpu(0), name(), "CPU",
                Runtime.getRuntime().availableProcessors() + " cores, " + kernels.name() + " kernels (cpu:i for any i)",
                Runtime.getRuntime().maxMemory()));
    }

    /** {@link LinearShapes#requireRank2}, on a cpu device. */
    private static void requireRank2(Tensor t, String what) {
        LinearShapes.requireRank2(t, what);
        requireCpu(t.device());
    }

    private static void requireCpu(DeviceRef device) {
        if (!device.isCpu()) {
            throw new ConfigException("the JVM backend runs cpu devices only, not " + device);
        }
    }
}
