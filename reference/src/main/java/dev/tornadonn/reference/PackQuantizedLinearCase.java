package dev.tornadonn.reference;

import dev.tornadonn.core.DType;
import dev.tornadonn.core.DeviceRef;
import dev.tornadonn.core.Shape;
import dev.tornadonn.core.Tensor;
import dev.tornadonn.core.weights.WeightKind;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * A compressed-tensors {@code pack-quantized} linear (W4A16 or W8A16) as llm-compressor writes
 * it: signed codes plus {@code 2^(bits−1)} packed {@code 32/bits} to an int32 along the inputs
 * ({@code pack_to_int32}, the last word padded with zeros), BF16 scales {@code (out, groups)},
 * {@code weight_shape} I64, and for asymmetric layers signed zero points packed the same way
 * along the outputs; optionally an activation-order {@code weight_g_idx}. Checked against
 * {@code W = s·(q − z)} from the drawn signed values.
 *
 * @param groupSize −1 for strategy channel (one scale per row)
 */
public record PackQuantizedLinearCase(Shape xShape, int outDim, int bits, int groupSize, boolean symmetric,
                                      boolean actOrder, boolean bias, long seed) implements ConformanceCase {
    private static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    @Override
    public WeightKind weightKind() {
        return WeightKind.GROUP_QUANTIZED;
    }

    @Override
    public String layer() {
        return "ct-linear";
    }

    @Override
    public DType dtype() {
        return DType.I32;
    }

    @Override
    public String weightFormat() {
        return "CT-W" + bits + "A16";
    }

    @Override
    public String shape() {
        return "x" + xShape + " -> " + outDim + (groupSize == -1 ? " channel" : " g" + groupSize)
                + (symmetric ? " sym" : " asym") + (actOrder ? " g_idx" : "") + (bias ? " +bias" : "");
    }

    @Override
    public CaseResult run(DeviceRef device) {
        int k = xShape.dim(-1);
        int n = outDim;
        int m = Math.toIntExact(xShape.leadingNumel());
        int size = groupSize == -1 ? k : groupSize;
        int groups = (k + size - 1) / size;
        int lo = -(1 << (bits - 1));
        int hi = (1 << (bits - 1)) - 1;
        SplittableRandom rnd = new SplittableRandom(seed);
        int[] groupOf = new int[k];
        for (int i = 0; i < k; i++) {
            groupOf[i] = i / size;
        }
        if (actOrder) {
            List<Integer> order = new ArrayList<>();
            for (int g : groupOf) {
                order.add(g);
            }
            Collections.shuffle(order, new java.util.Random(rnd.nextLong()));
            for (int i = 0; i < k; i++) {
                groupOf[i] = order.get(i);
            }
        }
        int[][] q = new int[n][k];
        int[][] z = new int[n][groups];
        for (int r = 0; r < n; r++) {
            for (int i = 0; i < k; i++) {
                q[r][i] = CheckpointCases.code(rnd, lo, hi);
            }
            for (int g = 0; g < groups; g++) {
                z[r][g] = symmetric ? 0 : CheckpointCases.code(rnd, lo, hi);
            }
        }
        Tensor scales = CheckpointCases.scales(DType.BF16, Shape.of(n, groups), rnd);
        Map<String, Tensor> ckpt = new LinkedHashMap<>();
        int f = 32 / bits;
        ckpt.put("ct.weight_packed", Tensor.ofInts(Shape.of(n, (k + f - 1) / f), packRows(q, bits)));
        ckpt.put("ct.weight_scale", scales);
        Tensor weightShape = Tensor.allocate(DType.I64, Shape.of(2)); // torch.tensor(weight.shape): int64
        weightShape.data().set(I64, 0, n);
        weightShape.data().set(I64, 8, k);
        ckpt.put("ct.weight_shape", weightShape);
        if (!symmetric) {
            ckpt.put("ct.weight_zero_point", Tensor.ofInts(Shape.of((n + f - 1) / f, groups), packColumns(z, bits)));
        }
        if (actOrder) {
            ckpt.put("ct.weight_g_idx", Tensor.ofInts(Shape.of(k), groupOf));
        }
        Tensor b = bias ? RandomTensors.uniform(DType.BF16, Shape.of(n), rnd) : null;
        if (b != null) {
            ckpt.put("ct.bias", b);
        }
        double[] w = new double[n * k];
        for (int r = 0; r < n; r++) {
            for (int i = 0; i < k; i++) {
                w[r * k + i] = scales.getFloat((long) r * groups + groupOf[i]) * (double) (q[r][i] - z[r][groupOf[i]]);
            }
        }
        Tensor x = RandomTensors.uniform(DType.F32, xShape, rnd);
        double[] xd = Oracle.decode(x);
        double[] bd = b == null ? null : Oracle.decode(b);
        String weights = "{\"num_bits\": " + bits + ", \"type\": \"int\", \"symmetric\": " + symmetric + ", \"strategy\": \""
                + (groupSize == -1 ? "channel\", \"group_size\": null" : "group\", \"group_size\": " + groupSize)
                + ", \"dynamic\": false, \"actorder\": " + (actOrder ? "\"group\"" : "null") + ", \"observer\": \"minmax\"}";
        String config = "{\"quant_method\": \"compressed-tensors\", \"format\": \"pack-quantized\", \"quantization_status\": "
                + "\"compressed\", \"config_groups\": {\"group_0\": {\"targets\": [\"Linear\"], \"weights\": " + weights
                + ", \"input_activations\": null, \"output_activations\": null, \"format\": \"pack-quantized\"}}, "
                + "\"ignore\": [\"lm_head\"]}";
        return CheckpointCases.run(this, device, ckpt, config, null, "ct", x, Oracle.linear(xd, m, k, w, n, bd),
                Oracle.linear(Oracle.abs(xd), m, k, Oracle.abs(w), n, bd == null ? null : Oracle.abs(bd)),
                Tolerance.F32_ACCUMULATION);
    }

    /** compressed-tensors' {@code pack_to_int32} along dim 1: value + offset at bit {@code bits·i} of word {@code i / (32/bits)}. */
    static int[] packRows(int[][] values, int bits) {
        int f = 32 / bits;
        int cols = values[0].length;
        int words = (cols + f - 1) / f;
        int[] out = new int[values.length * words];
        for (int r = 0; r < values.length; r++) {
            for (int c = 0; c < cols; c++) {
                out[r * words + c / f] |= (values[r][c] + (1 << (bits - 1))) << (bits * (c % f));
            }
        }
        return out;
    }

    /** {@code pack_to_int32(..., packed_dim=0)}: the same along dim 0, (ceil(rows/f), cols). */
    static int[] packColumns(int[][] values, int bits) {
        int f = 32 / bits;
        int rows = values.length;
        int cols = values[0].length;
        int[] out = new int[(rows + f - 1) / f * cols];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                out[(r / f) * cols + c] |= (values[r][c] + (1 << (bits - 1))) << (bits * (r % f));
            }
        }
        return out;
    }
}
