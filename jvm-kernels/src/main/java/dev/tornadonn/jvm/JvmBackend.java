package dev.tornadonn.jvm;

import dev.tornadonn.core.Activation;
import dev.tornadonn.core.DeviceRef;
import dev.tornadonn.core.Shape;
import dev.tornadonn.core.Tensor;
import dev.tornadonn.core.backend.Backend;
import dev.tornadonn.core.backend.DeviceInfo;
import dev.tornadonn.core.backend.LinearShapes;
import dev.tornadonn.core.backend.PreparedMatrix;
import dev.tornadonn.core.quant.Fp8Matrix;
import dev.tornadonn.core.quant.GroupQuantizedMatrix;
import dev.tornadonn.core.quant.QuantizedMatrix;
import java.lang.foreign.MemorySegment;
import java.util.List;

/** The default backend: every {@code cpu:i} device, run by JVM kernels on the host's cores. */
public final class JvmBackend implements Backend {
    private static final int ACTIVATION_ROWS_PER_TASK = 8;
    private final MatmulKernels kernels;
    private final GroupQuantKernels groupQuant;
    private final Fp8Kernels fp8;

    /** The kernels {@link KernelSelection} picks for this CPU and JVM. */
    public JvmBackend() {
        this(KernelSelection.select());
    }

    JvmBackend(MatmulKernels kernels) {
        this.kernels = kernels;
        this.groupQuant = kernels instanceof ScalarKernels ? new GroupQuantKernels.Scalar() : KernelSelection.vectorGroupQuant();
        this.fp8 = kernels instanceof ScalarKernels ? new Fp8Kernels.Scalar() : KernelSelection.vectorFp8();
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
    public Tensor prepareWeight(Tensor weight, DeviceRef device) {
        // An aligned private copy: decouples the layer from a memory-mapped checkpoint.
        return copyTo(weight, device);
    }

    @Override
    public void linear(Tensor x, Tensor w, Tensor bias, Tensor y) {
        LinearShapes shapes = LinearShapes.check(x, w, bias, y);
        requireCpu(x.device());
        requireCpu(y.device());
        int m = shapes.m();
        int k = shapes.k();
        int n = shapes.n();
        float[] xs = toArray(x.data(), Math.multiplyExact(m, k));
        float[] ys = new float[Math.multiplyExact(m, n)];
        float[] bs = bias == null ? null : bias.toFloatArray();
        if (m > 0 && n > 0) {
            kernels.linear(xs, m, k, w.data(), w.dtype(), n, bs, ys);
        }
        MemorySegment.copy(ys, 0, y.data(), WeightRows.F32, 0, ys.length);
    }

    @Override
    public PreparedMatrix prepareQuantized(QuantizedMatrix matrix, DeviceRef device) {
        requireCpu(device);
        return switch (matrix) {
            case GroupQuantizedMatrix g -> GroupQuantLayout.of(g);
            case Fp8Matrix f -> Fp8Layout.of(f);
        };
    }

    @Override
    public void quantizedLinear(Tensor x, PreparedMatrix w, Tensor bias, Tensor y) {
        requireRank2(x, "x");
        requireRank2(y, "y");
        int m = x.shape().dim(0);
        int k = w.cols();
        int n = w.rows();
        if (x.shape().dim(1) != k || !y.shape().equals(Shape.of(m, n))) {
            throw new IllegalArgumentException("x " + x.shape() + " and y " + y.shape() + " do not fit a weight of "
                    + n + " x " + k);
        }
        if (bias != null && !bias.shape().equals(Shape.of(n))) {
            throw new IllegalArgumentException("bias must be " + Shape.of(n) + ", got " + bias.shape());
        }
        float[] xs = toArray(x.data(), Math.multiplyExact(m, k));
        float[] ys = new float[Math.multiplyExact(m, n)];
        float[] bs = bias == null ? null : bias.toFloatArray();
        switch (w) {
            case GroupQuantLayout g -> groupQuantLinear(xs, m, g, bs, ys);
            case Fp8Layout f -> fp8Linear(xs, m, f, bs, ys);
            default -> throw new IllegalArgumentException("not a JVM-backend weight: " + w.getClass().getName());
        }
        MemorySegment.copy(ys, 0, y.data(), WeightRows.F32, 0, ys.length);
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

    @Override
    public void gatedActivation(Activation act, Tensor gateUp, Tensor out) {
        requireRank2(gateUp, "gateUp");
        requireRank2(out, "out");
        int m = out.shape().dim(0);
        int f = out.shape().dim(1);
        if (!gateUp.shape().equals(Shape.of(m, 2 * f))) {
            throw new IllegalArgumentException("gateUp must be " + Shape.of(m, 2 * f) + ", got " + gateUp.shape());
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
            throw new IllegalArgumentException("the JVM backend runs cpu devices only, not " + device);
        }
    }
}
