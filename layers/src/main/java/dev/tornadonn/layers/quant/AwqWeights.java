package dev.tornadonn.layers.quant;

import dev.tornadonn.core.DType;
import dev.tornadonn.core.Shape;
import dev.tornadonn.core.Tensor;
import dev.tornadonn.core.Weight;
import dev.tornadonn.core.weights.GroupQuantizedMatrix;
import dev.tornadonn.core.io.TensorSource;
import dev.tornadonn.layers.LinearWeights;
import dev.tornadonn.layers.StrictLoader;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Reads an AWQ GEMM layer onto {@link GroupQuantizedMatrix}: the maths is GPTQ's with zeros read
 * as stored. AWQ packs eight 4-bit values of consecutive output features into an int32, value
 * {@code 8j + ORDER[i]} at bits {@code 4i} ({@code ORDER = [0, 2, 4, 6, 1, 3, 5, 7]}, AutoAWQ's
 * {@code order_map}; vLLM's {@code AWQ_REVERSE_ORDER} is its inverse, {@link #POSITION}). The codes
 * are repacked once, packed, into the matrix's layout (eight input features per int32); the
 * scales and zero points, a few per group, are decoded.
 */
final class AwqWeights {
    static final int PACK = 32 / AwqConfig.BITS;
    /** The nibble of a packed word that holds output feature {@code 8j + r}: {@code POSITION[r]}. */
    static final int[] POSITION = {0, 4, 1, 5, 2, 6, 3, 7};
    private static final ValueLayout.OfInt WORD = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private AwqWeights() {}

    static LinearWeights read(AwqLinearConfig config, TensorSource source) {
        Map<String, Tensor> t = StrictLoader.load(source, config.name(), config.weights());
        GroupQuantizedMatrix matrix = matrix(config, t.get(config.key("qweight")), t.get(config.key("qzeros")),
                t.get(config.key("scales")));
        return new LinearWeights(config.name(), matrix, config.hasBias() ? t.get(config.key("bias")) : null,
                config.weights().stream().map(Weight::name).collect(Collectors.toSet()));
    }

    static GroupQuantizedMatrix matrix(AwqLinearConfig c, Tensor qweight, Tensor qzeros, Tensor scales) {
        int k = c.inDim();
        int n = c.outDim();
        int groups = c.groups();
        int size = c.quant().effectiveGroupSize(k);
        float[] zeros = new float[Math.multiplyExact(n, groups)];
        float[] scale = new float[zeros.length];
        MemorySegment z = qzeros.data();
        for (int g = 0; g < groups; g++) {
            for (int col = 0; col < n; col++) {
                zeros[col * groups + g] = nibble(z, (long) g * (n / PACK) + col / PACK, POSITION[col % PACK]);
                scale[col * groups + g] = scales.getFloat((long) g * n + col);
            }
        }
        int[] groupOf = new int[k];
        for (int i = 0; i < k; i++) {
            groupOf[i] = i / size;
        }
        return new GroupQuantizedMatrix(n, k, AwqConfig.BITS, groups, alongInputs(qweight, k, n), scale, zeros, groupOf);
    }

    /**
     * The codes of {@code qweight} (in, out/8) as {@link GroupQuantizedMatrix} holds them: I32
     * (in/8, out), input feature k of output n at bits {@code 4·(k mod 8)} of word {@code (k/8, n)}.
     */
    static Tensor alongInputs(Tensor qweight, int k, int n) {
        Tensor out = Tensor.allocate(DType.I32, Shape.of(GroupQuantizedMatrix.words(k, AwqConfig.BITS), n));
        MemorySegment src = qweight.data();
        MemorySegment dst = out.data();
        int words = n / PACK;
        for (int row = 0; row < k; row++) {
            int shift = AwqConfig.BITS * (row % PACK);
            long base = (long) (row / PACK) * n;
            for (int j = 0; j < words; j++) {
                int word = src.get(WORD, ((long) row * words + j) * 4);
                for (int r = 0; r < PACK; r++) {
                    int code = word >>> (AwqConfig.BITS * POSITION[r]) & 0xF;
                    long at = (base + (long) j * PACK + r) * 4;
                    dst.set(WORD, at, dst.get(WORD, at) | code << shift);
                }
            }
        }
        return out;
    }

    private static int nibble(MemorySegment words, long index, int position) {
        return words.get(WORD, index * 4) >>> (AwqConfig.BITS * position) & 0xF;
    }
}
