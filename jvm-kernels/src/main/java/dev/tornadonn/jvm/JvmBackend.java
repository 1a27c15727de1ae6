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
import dev.tornadonn.core.io.GgmlType;
import dev.tornadonn.core.weights.GgufBlocks;
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
        LinearShapes shapes = LinearShapes.check(x, w, y);
        if (!(w instanceof JvmMatrix jm)) {
            throw new ConfigException("not a JVM-backend weight: " + w.getClass().getName()
                    + " (prepare it with this backend, on a cpu device)");
        }
        requireCpu(x.device());
        int m = shapes.m();
        float[] xs = toArray(x.data(), Math.multiplyExact(m, shapes.k()));
        float[] ys = new float[Math.multiplyExact(m, shapes.n())];
        if (m > 0 && shapes.n() > 0) {
            run(jm.layout(), xs, m, jm.bias(), ys, shapes.n(), 0);
            repairOverflow(jm, xs, m, ys);
        }
        MemorySegment.copy(ys, 0, y.data(), WeightRows.F32, 0, ys.length);
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
        java.util.Map<KernelLayout, Record> quantised = new java.util.IdentityHashMap<>();
        for (int i = 0; i < m; i++) {
            boolean finiteRow = true;
            for (int c = 0; c < k && finiteRow; c++) {
                finiteRow = Float.isFinite(x[i * k + c]);
            }
            for (int j = 0; finiteRow && j < n; j++) {
                if (!Float.isFinite(y[i * n + j])) {
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
                Fp8Activations a = (Fp8Activations) quantised.computeIfAbsent(f, l -> Fp8Activations.quantise(x, m, f));
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
                yield zeroPointCorrected(acc, a.zeroPoints()[i], q.rowSums()[j]) * ((double) a.scales()[i] * q.weightScales()[j]);
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

    /** Columns {@code [col0, col0 + layout.rows())} of the {@code (m, ldy)} output. */
    private void run(KernelLayout layout, float[] x, int m, float[] bias, float[] y, int ldy, int col0) {
        if (layout instanceof KernelLayout.Stacked s) {
            int at = 0;
            for (KernelLayout part : s.parts()) {
                float[] b = bias == null ? null : java.util.Arrays.copyOfRange(bias, at, at + part.rows());
                run(part, x, m, b, y, ldy, col0 + at);
                at += part.rows();
            }
            return;
        }
        int n = layout.rows();
        float[] out = ldy == n ? y : new float[Math.multiplyExact(m, n)];
        switch (layout) {
            case DenseLayout d -> kernels.linear(x, m, d.cols(), d.weight().data(), d.weight().dtype(), n, bias, out);
            case GroupQuantLayout g -> groupQuantLinear(x, m, g, bias, out);
            case Fp8Layout f -> fp8Linear(x, m, f, bias, out);
            case GgufLayout q -> ggufLinear(x, m, q, bias, out);
            case Int8Layout q -> int8Linear(x, m, q, bias, out);
            case KernelLayout.Stacked s -> throw new AssertionError("handled above");
        }
        if (out != y) {
            for (int i = 0; i < m; i++) {
                System.arraycopy(out, i * n, y, i * ldy + col0, n);
            }
        }
    }

    /**
     * x is gathered into the layout's column order once. A single row of x takes the one-pass
     * fused dot; more rows decode each weight row once into a buffer and reuse it for all of them.
     */
    private void groupQuantLinear(float[] x, int m, GroupQuantLayout w, float[] bias, float[] y) {
        int k = w.cols();
        int kp = w.paddedCols();
        int n = w.rows();
        int[] columnOf = w.columnOfPosition();
        float[] xp = new float[Math.multiplyExact(m, kp)];
        for (int i = 0; i < m; i++) {
            for (int pos = 0; pos < kp; pos++) {
                int col = columnOf[pos];
                if (col >= 0) {
                    xp[i * kp + pos] = x[i * k + col];
                }
            }
        }
        if (m == 1) {
            // GEMV: one pass per block of rows, codes straight into the products.
            // A block at a time into a local: adding each position straight into xsum[group]
            // waits on the previous store and add every time (in JFR, that loop held more samples
            // of an 8 x 8192 GEMV than the kernel).
            float[] xsum = new float[w.groups()];
            int[] blockGroup = w.blockGroup();
            for (int b = 0; b < blockGroup.length; b++) {
                float s = 0f;
                for (int pos = b * GroupQuantLayout.BLOCK; pos < (b + 1) * GroupQuantLayout.BLOCK; pos++) {
                    s += xp[pos];
                }
                xsum[blockGroup[b]] += s;
            }
            float[] xa = groupQuant.arrangeInput(w, xp);
            Parallel.forRows(n, GroupQuantKernels.ROWS, (from, to) -> {
                float[] out = new float[GroupQuantKernels.ROWS];
                for (int j = from; j < to; j += GroupQuantKernels.ROWS) {
                    int rows = Math.min(GroupQuantKernels.ROWS, to - j);
                    groupQuant.rowsTimesX(w, j, rows, xp, xa, xsum, out);
                    for (int r = 0; r < rows; r++) {
                        y[j + r] = out[r] + (bias == null ? 0f : bias[j + r]);
                    }
                }
            });
            return;
        }
        Parallel.forRows(n, (from, to) -> {
            float[] row = new float[kp];
            for (int j = from; j < to; j++) {
                groupQuant.decodeRow(w, j, row);
                float b = bias == null ? 0f : bias[j];
                for (int i = 0; i < m; i++) {
                    y[i * n + j] = groupQuant.dot(xp, i * kp, row, kp) + b;
                }
            }
        });
    }

    /**
     * x is quantised once. A few rows of x (and no NaN or infinity codes) take the fused kernel,
     * {@value Fp8Kernels#ROWS} weight rows per call with the decode in registers; more rows decode
     * each weight row once into a buffer and sum per-segment f32 partial products with it, each
     * scaled by its input and weight scales.
     */
    private void fp8Linear(float[] x, int m, Fp8Layout w, float[] bias, float[] y) {
        int k = w.cols();
        int n = w.rows();
        int segs = w.segments();
        int[] start = w.segmentStart();
        float[] ws = w.weightScales();
        Fp8Activations a = Fp8Activations.quantise(x, m, w);
        float[] xq = a.xq();
        float[] sx = a.scales();
        if (m <= VectorKernels.GEMV_MAX_M && !w.hasSpecials()) {
            float[] xa = fp8.arrangeInput(w, xq);
            Parallel.forRows(n, Fp8Kernels.ROWS, (from, to) -> {
                float[] out = new float[Fp8Kernels.ROWS];
                for (int j = from; j < to; j += Fp8Kernels.ROWS) {
                    int rows = Math.min(Fp8Kernels.ROWS, to - j);
                    for (int i = 0; i < m; i++) {
                        fp8.rowsTimesX(w, j, rows, xa, i * k, sx, i * segs, out);
                        for (int r = 0; r < rows; r++) {
                            y[i * n + j + r] = out[r] + (bias == null ? 0f : bias[j + r]);
                        }
                    }
                }
            });
            return;
        }
        Parallel.forRows(n, (from, to) -> {
            float[] row = new float[k];
            for (int j = from; j < to; j++) {
                fp8.decodeRow(w, j, row);
                float b = bias == null ? 0f : bias[j];
                for (int i = 0; i < m; i++) {
                    float acc = 0f;
                    for (int s = 0; s < segs; s++) {
                        float partial = fp8.dot(xq, i * k + start[s], row, start[s], start[s + 1] - start[s]);
                        acc += partial * (sx[i * segs + s] * ws[j * segs + s]);
                    }
                    y[i * n + j] = acc + b;
                }
            }
        });
    }

    /** Rows of x whose int8 codes (2 bytes each, as the kernels read them) stay in cache while every weight row passes. */
    private static final int INT8_X_BLOCK = 32;

    /**
     * x is quantised once, row by row, to int8 codes. A few rows of x (the GEMV) take each block
     * of {@value Int8Kernels#ROWS} weight rows straight from the codes for every row of x; more
     * rows (the GEMM) do the same for {@value #INT8_X_BLOCK} rows of x at a time, so that those
     * stay in cache while the weights stream past. Each output is its exact integer sum, corrected
     * for the zero point, times both scales in double, rounded once to f32, plus the bias.
     */
    private void int8Linear(float[] x, int m, Int8Layout w, float[] bias, float[] y) {
        int k = w.cols();
        int n = w.rows();
        Int8Activations a = Int8Activations.quantise(x, m, k, w.input());
        short[] xq = a.codes();
        int xBlock = m <= VectorKernels.GEMV_MAX_M ? m : INT8_X_BLOCK;
        Parallel.forRows(n, Int8Kernels.ROWS, (from, to) -> {
            long[] acc = new long[Int8Kernels.ROWS];
            for (int i0 = 0; i0 < m; i0 += xBlock) {
                for (int j = from; j < to; j += Int8Kernels.ROWS) {
                    int rows = Math.min(Int8Kernels.ROWS, to - j);
                    for (int i = i0; i < Math.min(m, i0 + xBlock); i++) {
                        int8.rowsTimesX(w, j, rows, xq, i * k, acc);
                        for (int r = 0; r < rows; r++) {
                            double v = zeroPointCorrected(acc[r], a.zeroPoints()[i], w.rowSums()[j + r])
                                    * ((double) a.scales()[i] * w.weightScales()[j + r]);
                            y[i * n + j + r] = (float) (bias == null ? v : v + bias[j + r]);
                        }
                    }
                }
            }
        });
    }

    /** {@code Σ (xq − z)·w = acc − z·Σ w}, exactly while it fits a long (any realistic K), as a double. */
    private static double zeroPointCorrected(long acc, long zeroPoint, long rowSum) {
        if (zeroPoint == 0) {
            return acc;
        }
        try {
            return Math.subtractExact(acc, Math.multiplyExact(zeroPoint, rowSum));
        } catch (ArithmeticException beyondLong) {
            return acc - (double) zeroPoint * rowSum;
        }
    }

    /** Elements decoded at a time by the GEMV: one K-quant super-block, or eight 32-element blocks. */
    private static final int GGUF_CHUNK = 256;

    /**
     * A few rows of x: each weight row is decoded a super-block (or 256 elements of 32-blocks) at a
     * time inside the row loop, into a buffer that stays in L1, and dotted with every row of x, the
     * f32 partial sums added per chunk. More rows: each weight row is decoded once, whole, and
     * dotted with all of them.
     */
    private void ggufLinear(float[] x, int m, GgufLayout w, float[] bias, float[] y) {
        int k = w.cols();
        int n = w.rows();
        int rb = w.rowBytes();
        GgmlType type = w.type();
        if (m <= VectorKernels.GEMV_MAX_M) {
            int chunk = Math.min(GGUF_CHUNK, k);
            int chunkBytes = (int) type.rowBytes(chunk);
            Parallel.forRows(n, (from, to) -> {
                byte[] raw = new byte[rb];
                float[] buf = new float[chunk];
                float[] acc = new float[m];
                for (int j = from; j < to; j++) {
                    MemorySegment.copy(w.blocks(), java.lang.foreign.ValueLayout.JAVA_BYTE, (long) j * rb, raw, 0, rb);
                    java.util.Arrays.fill(acc, 0f);
                    for (int c = 0, at = 0; c < k; c += chunk, at += chunkBytes) {
                        int len = Math.min(chunk, k - c);
                        GgufBlocks.decode(type, raw, at, len, buf, 0);
                        for (int i = 0; i < m; i++) {
                            acc[i] += fp8.dot(x, i * k + c, buf, 0, len);
                        }
                    }
                    float b = bias == null ? 0f : bias[j];
                    for (int i = 0; i < m; i++) {
                        y[i * n + j] = acc[i] + b;
                    }
                }
            });
            return;
        }
        Parallel.forRows(n, (from, to) -> {
            byte[] raw = new byte[rb];
            float[] row = new float[k];
            for (int j = from; j < to; j++) {
                w.decodeRow(j, raw, row);
                float b = bias == null ? 0f : bias[j];
                for (int i = 0; i < m; i++) {
                    y[i * n + j] = fp8.dot(x, i * k, row, 0, k) + b;
                }
            }
        });
    }

    @Override
    public void gatedActivation(Activation act, Tensor gateUp, Tensor out) {
        requireRank2(gateUp, "gateUp");
        requireRank2(out, "out");
        int m = out.shape().dim(0);
        int f = out.shape().dim(1);
        if (!gateUp.shape().equals(Shape.of(m, 2 * f))) {
            throw new ConfigException("gateUp must be " + Shape.of(m, 2 * f) + ", got " + gateUp.shape());
        }
        MemorySegment gu = gateUp.data();
        MemorySegment o = out.data();
        int tasks = (m + ACTIVATION_ROWS_PER_TASK - 1) / ACTIVATION_ROWS_PER_TASK;
        Parallel.forEach(tasks, t -> {
            int end = Math.min(m, (t + 1) * ACTIVATION_ROWS_PER_TASK);
            for (int i = t * ACTIVATION_ROWS_PER_TASK; i < end; i++) {
                for (int j = 0; j < f; j++) {
                    float gate = gu.getAtIndex(WeightRows.F32, 2L * i * f + j);
                    float up = gu.getAtIndex(WeightRows.F32, 2L * i * f + f + j);
                    o.setAtIndex(WeightRows.F32, (long) i * f + j, act.apply(gate) * up);
                }
            }
        });
    }

    @Override
    public List<DeviceInfo> devices() {
        // cpu:i are logical devices sharing the host's cores and heap; one line stands for them all.
        return List.of(new DeviceInfo(DeviceRef.cpu(0), name(), "CPU",
                Runtime.getRuntime().availableProcessors() + " cores, " + kernels.name() + " kernels (cpu:i for any i)",
                Runtime.getRuntime().maxMemory()));
    }

    private static float[] toArray(MemorySegment s, int n) {
        float[] a = new float[n];
        MemorySegment.copy(s, WeightRows.F32, 0, a, 0, n);
        return a;
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
