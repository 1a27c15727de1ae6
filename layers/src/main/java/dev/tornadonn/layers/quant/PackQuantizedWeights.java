package dev.tornadonn.layers.quant;

import dev.tornadonn.core.DType;
import dev.tornadonn.core.Shape;
import dev.tornadonn.core.Tensor;
import dev.tornadonn.core.Weight;
import dev.tornadonn.core.WeightLoadException;
import dev.tornadonn.core.io.TensorSource;
import dev.tornadonn.core.weights.GroupQuantizedMatrix;
import dev.tornadonn.layers.LinearWeights;
import dev.tornadonn.layers.StrictLoader;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Reads a compressed-tensors pack-quantized layer onto {@link GroupQuantizedMatrix}. Its
 * {@code pack_to_int32} packs the offset codes of each output row as one little-endian stream
 * along the inputs, value i at bit {@code bits·i} (padded to whole words): GPTQ's stream exactly,
 * with rows and words transposed, so the codes are copied once, word for word, into the
 * matrix's (words, out) layout. Zero points come packed the other way, along the outputs.
 */
final class PackQuantizedWeights {
    private static final ValueLayout.OfInt WORD = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private PackQuantizedWeights() {}

    static LinearWeights read(PackQuantizedLinearConfig c, TensorSource source) {
        String shapeKey = c.key("weight_shape");
        DType shapeDType = source.contains(shapeKey) && source.get(shapeKey).dtype() == DType.I32 ? DType.I32 : DType.I64;
        List<Weight> declared = c.weights(shapeDType, source.contains(c.key("weight_g_idx")));
        Map<String, Tensor> t = StrictLoader.load(source, c.name(), declared);
        Tensor shape = t.get(shapeKey);
        long[] dims = PackQuantizedLinearConfig.dimensions(shape);
        long out = dims[0];
        long in = dims[1];
        if (out != c.outDim() || in != c.inDim()) {
            throw new WeightLoadException(source.describe() + ": tensor '" + shapeKey + "' says the weight is [" + out + ", "
                    + in + "], but the layer is [" + c.outDim() + ", " + c.inDim() + "] (out, in)");
        }
        int[] groupOf = t.containsKey(c.key("weight_g_idx")) ? checkedGroups(c, t.get(c.key("weight_g_idx")).toIntArray())
                : plainGroups(c);
        GroupQuantizedMatrix matrix = new GroupQuantizedMatrix(c.outDim(), c.inDim(), c.quant().bits(), c.groups(),
                alongOutputs(t.get(c.key("weight_packed")), c), scales(c, t.get(c.key("weight_scale"))),
                zeros(c, t.get(c.key("weight_zero_point"))), groupOf);
        return new LinearWeights(c.name(), matrix, c.hasBias() ? t.get(c.key("bias")) : null,
                declared.stream().map(Weight::name).collect(Collectors.toSet()));
    }

    /** {@code weight_packed} (out, words) transposed to the matrix's (words, out): the same words. */
    private static Tensor alongOutputs(Tensor packed, PackQuantizedLinearConfig c) {
        int n = c.outDim();
        int words = GroupQuantizedMatrix.words(c.inDim(), c.quant().bits());
        Tensor out = Tensor.allocate(DType.I32, Shape.of(words, n));
        MemorySegment src = packed.data();
        MemorySegment dst = out.data();
        for (int row = 0; row < n; row++) {
            for (int w = 0; w < words; w++) {
                dst.set(WORD, ((long) w * n + row) * 4, src.get(WORD, ((long) row * words + w) * 4));
            }
        }
        return out;
    }

    private static float[] scales(PackQuantizedLinearConfig c, Tensor scale) {
        float[] s = new float[Math.multiplyExact(c.outDim(), c.groups())];
        for (int i = 0; i < s.length; i++) {
            s[i] = scale.getFloat(i); // (out, groups) row-major: the matrix's own order
        }
        return s;
    }

    /** The stored (offset) zero points, unpacked from (ceil(out/f), groups); a symmetric layer's are 2^(bits−1). */
    private static float[] zeros(PackQuantizedLinearConfig c, Tensor zeroPoint) {
        int groups = c.groups();
        float[] z = new float[Math.multiplyExact(c.outDim(), groups)];
        if (zeroPoint == null) {
            java.util.Arrays.fill(z, c.quant().offset());
            return z;
        }
        int bits = c.quant().bits();
        int f = c.quant().packFactor();
        int[] words = zeroPoint.toIntArray();
        for (int n = 0; n < c.outDim(); n++) {
            for (int g = 0; g < groups; g++) {
                z[n * groups + g] = words[(n / f) * groups + g] >>> (bits * (n % f)) & ((1 << bits) - 1);
            }
        }
        return z;
    }

    private static int[] plainGroups(PackQuantizedLinearConfig c) {
        int size = c.quant().effectiveGroupSize(c.inDim());
        int[] g = new int[c.inDim()];
        for (int k = 0; k < g.length; k++) {
            g[k] = k / size;
        }
        return g;
    }

    private static int[] checkedGroups(PackQuantizedLinearConfig c, int[] gIdx) {
        for (int k = 0; k < gIdx.length; k++) {
            if (gIdx[k] < 0 || gIdx[k] >= c.groups()) {
                throw new WeightLoadException("tensor '" + c.key("weight_g_idx") + "': entry " + k + " is " + gIdx[k]
                        + ", outside the " + c.groups() + " groups [0, " + c.groups() + ")");
            }
        }
        return gIdx;
    }
}
