package dev.tornadonn.layers.quant;

import dev.tornadonn.core.Tensor;
import dev.tornadonn.core.Weight;
import dev.tornadonn.core.WeightLoadException;
import dev.tornadonn.core.io.TensorSource;
import dev.tornadonn.core.weights.GroupQuantizedMatrix;
import dev.tornadonn.layers.LinearWeights;
import dev.tornadonn.layers.StrictLoader;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Reads a GPTQ layer from a Hugging Face checkpoint. Unlike MAX it reads the zero points (with
 * v1's +1), takes 2, 3, 4 and 8 bits, any group size (a partial last group when it does not
 * divide in_dim, as AutoGPTQ writes it), asymmetric zeros, act-order with any g_idx whose groups
 * are full, and a bias. {@code qweight} is kept as it is
 * packed (a view of the checkpoint until a backend prepares it); scales and zero points, a few
 * bytes per group, are decoded.
 */
final class GptqWeights {
    private GptqWeights() {}

    static LinearWeights read(GptqLinearConfig config, TensorSource source) {
        boolean gIdxPresent = source.contains(config.key("g_idx"));
        List<Weight> declared = config.weights(gIdxPresent);
        Map<String, Tensor> t = StrictLoader.load(source, config.name(), declared);
        GroupQuantizedMatrix matrix = matrix(config, t.get(config.key("qweight")), t.get(config.key("qzeros")),
                t.get(config.key("scales")), t.get(config.key("g_idx")));
        return new LinearWeights(config.name(), matrix, config.hasBias() ? t.get(config.key("bias")) : null,
                declared.stream().map(Weight::name).collect(Collectors.toSet()));
    }

    /**
     * The group-quantised matrix of a GPTQ checkpoint: codes as qweight packs them, zero points
     * from qzeros (v1: stored + 1, so a stored 2^bits − 1 is 2^bits), scales decoded and transposed to (out, group), g_idx validated.
     */
    static GroupQuantizedMatrix matrix(GptqLinearConfig c, Tensor qweight, Tensor qzeros, Tensor scales, Tensor gIdx) {
        int k = c.inDim();
        int n = c.outDim();
        int bits = c.quant().bits();
        int groups = c.groups();
        int[] qz = qzeros.toIntArray();
        int zeroWords = qzeros.shape().dim(1);
        float[] zeros = new float[Math.multiplyExact(n, groups)];
        float[] scale = new float[zeros.length];
        for (int g = 0; g < groups; g++) {
            for (int col = 0; col < n; col++) {
                int stored = PackedBits.get(qz, g * zeroWords, 1, bits, col);
                zeros[col * groups + g] = c.quant().format().zeroFromStored(stored, bits);
                scale[col * groups + g] = scales.getFloat((long) g * n + col);
            }
        }
        int[] groupOf = gIdx != null ? checkedGroupIndex(c, gIdx.toIntArray()) : plainGroups(k, c.quant().effectiveGroupSize(k));
        return new GroupQuantizedMatrix(n, k, bits, groups, qweight, scale, zeros, groupOf);
    }

    private static int[] plainGroups(int k, int groupSize) {
        int[] g = new int[k];
        for (int i = 0; i < k; i++) {
            g[i] = i / groupSize;
        }
        return g;
    }

    /**
     * Every entry names a group, and every group has exactly group_size channels (GPTQ's own
     * invariant), the last one {@code in_dim − (groups − 1)·group_size} when it is partial.
     */
    private static int[] checkedGroupIndex(GptqLinearConfig c, int[] gIdx) {
        int groups = c.groups();
        int[] count = new int[groups];
        for (int i = 0; i < gIdx.length; i++) {
            if (gIdx[i] < 0 || gIdx[i] >= groups) {
                throw new WeightLoadException("tensor '" + c.key("g_idx") + "': entry " + i + " is " + gIdx[i]
                        + ", outside the " + groups + " groups [0, " + groups + ")");
            }
            count[gIdx[i]]++;
        }
        for (int g = 0; g < groups; g++) {
            int size = c.quant().channelsInGroup(c.inDim(), g);
            if (count[g] != size) {
                throw new WeightLoadException("tensor '" + c.key("g_idx") + "': group " + g + " has " + count[g]
                        + " channels, GPTQ groups hold exactly group_size = " + c.quant().effectiveGroupSize(c.inDim())
                        + (size == c.quant().effectiveGroupSize(c.inDim()) ? "" : " (the last, partial group " + size + ")"));
            }
        }
        return gIdx;
    }
}
