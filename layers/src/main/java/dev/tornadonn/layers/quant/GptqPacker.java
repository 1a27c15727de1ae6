package dev.tornadonn.layers.quant;

import dev.tornadonn.core.ConfigException;

import dev.tornadonn.core.Shape;
import dev.tornadonn.core.Tensor;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Quantises float weights into a Hugging Face GPTQ checkpoint by round-to-nearest per group (no
 * Hessian: this is for users converting their own weights and for tests, not a GPTQ solver).
 * Symmetric groups use zero {@code 2^(bits−1)} and {@code scale = 2·max|w| / (2^bits − 1)};
 * asymmetric ones span {@code [min(w, 0), max(w, 0)]}. Scales are rounded to the scale dtype
 * first, so the checkpoint dequantises to exactly the codes' values. v1 checkpoints store
 * {@code zero − 1}, so their zeros are at least 1. A last group may be partial.
 */
public final class GptqPacker {
    private GptqPacker() {}

    /**
     * @param w        {@code (outDim, inDim)} row-major float weights
     * @param groupOf  the group of every input channel (act-order), or null for {@code k / group_size}
     * @return the tensors under {@code config.key(...)}: qweight, qzeros, scales, g_idx
     */
    public static Map<String, Tensor> pack(float[] w, GptqLinearConfig config, int[] groupOf) {
        int k = config.inDim();
        int n = config.outDim();
        int bits = config.quant().bits();
        int maxq = (1 << bits) - 1;
        int groups = config.groups();
        if (w.length != (long) n * k) {
            throw new ConfigException("weights hold " + w.length + " values, expected " + n + " × " + k);
        }
        int[] group = groupOf != null ? groupOf.clone() : new int[k];
        if (groupOf == null) {
            int size = config.quant().effectiveGroupSize(k);
            for (int i = 0; i < k; i++) {
                group[i] = i / size;
            }
        }
        float[] scales = new float[groups * n];
        int[] zeros = new int[groups * n];
        // Every group's range in one pass over the row: a pass per group made a 32768 × 8192 matrix take minutes.
        float[] low = new float[groups];
        float[] high = new float[groups];
        for (int col = 0; col < n; col++) {
            Arrays.fill(low, 0f);
            Arrays.fill(high, 0f);
            for (int i = 0; i < k; i++) {
                low[group[i]] = Math.min(low[group[i]], w[col * k + i]);
                high[group[i]] = Math.max(high[group[i]], w[col * k + i]);
            }
            for (int g = 0; g < groups; g++) {
                float lo = low[g];
                float hi = high[g];
                float scale;
                int zero;
                if (config.quant().sym()) {
                    float amax = Math.max(-lo, hi);
                    scale = 2 * amax / maxq;
                    zero = (maxq + 1) / 2;
                } else {
                    scale = (hi - lo) / maxq;
                    zero = scale == 0 ? 0 : Math.round(-lo / config.scaleDType().round(scale));
                }
                scale = config.scaleDType().round(scale == 0 ? 1f : scale);
                scales[g * n + col] = scale;
                // v1 stores zero − 1, so its zeros start at 1: a group with no negative weight gets zero 1
                // and loses its top code, as AutoGPTQ's v1 packing leaves it.
                zeros[g * n + col] = Math.clamp(zero, config.quant().format().minZero(), maxq);
            }
        }
        int[] qweight = new int[k * bits / 32 * n];
        for (int col = 0; col < n; col++) {
            for (int i = 0; i < k; i++) {
                int at = group[i] * n + col;
                int q = Math.clamp(Math.round(w[col * k + i] / scales[at]) + zeros[at], 0, maxq);
                PackedBits.set(qweight, col, n, bits, i, q);
            }
        }
        int zeroWords = n * bits / 32;
        int[] qzeros = new int[groups * zeroWords];
        for (int g = 0; g < groups; g++) {
            for (int col = 0; col < n; col++) {
                PackedBits.set(qzeros, g * zeroWords, 1, bits, col, config.quant().format().storedFromZero(zeros[g * n + col], bits));
            }
        }
        Map<String, Tensor> out = new LinkedHashMap<>();
        out.put(config.key("qweight"), Tensor.ofInts(Shape.of(k * bits / 32, n), qweight));
        out.put(config.key("qzeros"), Tensor.ofInts(Shape.of(groups, zeroWords), qzeros));
        out.put(config.key("scales"), Tensor.of(config.scaleDType(), Shape.of(groups, n), scales));
        out.put(config.key("g_idx"), Tensor.ofInts(Shape.of(k), group));
        return out;
    }

    /**
     * A v1 ("gptq") checkpoint's qzeros rewritten as v2 ("gptq_v2"): every stored zero plus one,
     * losslessly; a v1 zero of 2^bits (stored 2^bits − 1) has no v2 form and is refused.
     */
    public static Tensor qzerosV1ToV2(Tensor qzeros, int bits, int outDim) {
        int[] words = qzeros.toIntArray();
        int perRow = qzeros.shape().dim(1);
        int[] v2 = new int[words.length];
        for (int g = 0; g < qzeros.shape().dim(0); g++) {
            for (int col = 0; col < outDim; col++) {
                int zero = GptqFormat.GPTQ.zeroFromStored(PackedBits.get(words, g * perRow, 1, bits, col), bits);
                PackedBits.set(v2, g * perRow, 1, bits, col, GptqFormat.GPTQ_V2.storedFromZero(zero, bits));
            }
        }
        return Tensor.ofInts(qzeros.shape(), v2);
    }

}
