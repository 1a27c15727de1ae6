package dev.tornadonn.reference;

import dev.tornadonn.core.DType;
import dev.tornadonn.core.DeviceRef;
import dev.tornadonn.core.Shape;
import dev.tornadonn.core.Tensor;
import dev.tornadonn.core.weights.WeightKind;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * An AWQ (GEMM) linear as AutoAWQ writes it: 4-bit codes and zero points packed eight to an int32
 * along the output features in AWQ's order ({@code order_map = [0, 2, 4, 6, 1, 3, 5, 7]}: value
 * {@code 8j + order_map[i]} at bits {@code 4i}), F16 scales {@code (in/group, out)}, an F16 bias,
 * read from the checkpoint and its {@code quant_method: awq} config, against
 * {@code W = (q − z)·s} (no +1 on zeros) computed from the drawn codes.
 */
public record AwqLinearCase(Shape xShape, int outDim, int groupSize, boolean bias, long seed) implements ConformanceCase {
    private static final int[] ORDER = {0, 2, 4, 6, 1, 3, 5, 7};

    @Override
    public WeightKind weightKind() {
        return WeightKind.GROUP_QUANTIZED;
    }

    @Override
    public String layer() {
        return "awq-linear";
    }

    @Override
    public DType dtype() {
        return DType.I32;
    }

    @Override
    public String weightFormat() {
        return "AWQ-4b";
    }

    @Override
    public String shape() {
        return "x" + xShape + " -> " + outDim + " g" + groupSize + (bias ? " +bias" : "");
    }

    @Override
    public CaseResult run(DeviceRef device) {
        int k = xShape.dim(-1);
        int n = outDim;
        int m = Math.toIntExact(xShape.leadingNumel());
        int size = groupSize == -1 ? k : groupSize;
        int groups = k / size;
        SplittableRandom rnd = new SplittableRandom(seed);
        int[][] q = new int[k][n];
        int[][] z = new int[groups][n];
        for (int[] row : q) {
            for (int c = 0; c < n; c++) {
                row[c] = CheckpointCases.code(rnd, 0, 15);
            }
        }
        for (int[] row : z) {
            for (int c = 0; c < n; c++) {
                row[c] = CheckpointCases.code(rnd, 0, 15);
            }
        }
        Tensor scales = CheckpointCases.scales(DType.F16, Shape.of(groups, n), rnd);
        Map<String, Tensor> ckpt = new LinkedHashMap<>();
        ckpt.put("awq.qweight", Tensor.ofInts(Shape.of(k, n / 8), pack(q)));
        ckpt.put("awq.qzeros", Tensor.ofInts(Shape.of(groups, n / 8), pack(z)));
        ckpt.put("awq.scales", scales);
        Tensor b = bias ? RandomTensors.uniform(DType.F16, Shape.of(n), rnd) : null;
        if (b != null) {
            ckpt.put("awq.bias", b);
        }
        double[] w = new double[n * k];
        for (int c = 0; c < n; c++) {
            for (int i = 0; i < k; i++) {
                w[c * k + i] = scales.getFloat((long) (i / size) * n + c) * (double) (q[i][c] - z[i / size][c]);
            }
        }
        Tensor x = RandomTensors.uniform(DType.F32, xShape, rnd);
        double[] xd = Oracle.decode(x);
        double[] bd = b == null ? null : Oracle.decode(b);
        String config = "{\"quant_method\": \"awq\", \"bits\": 4, \"group_size\": " + groupSize
                + ", \"zero_point\": true, \"version\": \"gemm\", \"modules_to_not_convert\": null}";
        return CheckpointCases.run(this, device, ckpt, config, null, "awq", x, Oracle.linear(xd, m, k, w, n, bd),
                Oracle.linear(Oracle.abs(xd), m, k, Oracle.abs(w), n, bd == null ? null : Oracle.abs(bd)),
                Tolerance.F32_ACCUMULATION);
    }

    /** Rows of 4-bit values packed as AutoAWQ's {@code WQLinear_GEMM.from_linear} packs them. */
    static int[] pack(int[][] values) {
        int cols = values[0].length / 8;
        int[] words = new int[values.length * cols];
        for (int r = 0; r < values.length; r++) {
            for (int j = 0; j < cols; j++) {
                for (int i = 0; i < 8; i++) {
                    words[r * cols + j] |= values[r][8 * j + ORDER[i]] << (4 * i);
                }
            }
        }
        return words;
    }
}
