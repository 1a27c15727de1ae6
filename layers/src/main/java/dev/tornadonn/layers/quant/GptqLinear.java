package dev.tornadonn.layers.quant;

import dev.tornadonn.core.DeviceRef;
import dev.tornadonn.core.Tensor;
import dev.tornadonn.core.Weight;
import dev.tornadonn.core.WeightLoadException;
import dev.tornadonn.core.backend.Backend;
import dev.tornadonn.core.backend.Backends;
import dev.tornadonn.core.backend.PreparedMatrix;
import dev.tornadonn.core.io.TensorSource;
import dev.tornadonn.core.quant.GroupQuantizedMatrix;
import dev.tornadonn.layers.sharding.ShardingStrategy;
import dev.tornadonn.layers.StrictLoader;
import java.util.List;
import java.util.Map;

/**
 * A GPTQ-quantised linear layer from a Hugging Face checkpoint. Unlike MAX it reads the zero
 * points (with v1's +1), takes 2, 3, 4 and 8 bits, any group size that divides in_dim, asymmetric
 * zeros, act-order with any g_idx whose groups are full, a bias, and inputs of any rank ≥ 1. The
 * dequantisation is fused into the backend's product; the output is F32.
 */
public final class GptqLinear extends QuantizedLinearLayer<GroupQuantizedMatrix> {
    private final GptqLinearConfig config;
    private final boolean hasGIdx;
    private final ShardingStrategy strategy;
    private final boolean isShard;

    private GptqLinear(GptqLinearConfig config, Backend backend, PreparedMatrix weight, Tensor bias, boolean hasGIdx,
                       GroupQuantizedMatrix matrix, DeviceRef device, ShardingStrategy strategy, boolean isShard) {
        super(backend, weight, bias, matrix, device);
        this.config = config;
        this.hasGIdx = hasGIdx;
        this.strategy = strategy;
        this.isShard = isShard;
    }

    /** Loads the layer strictly: every shape and the packing are checked before anything is kept. */
    public static GptqLinear load(GptqLinearConfig config, TensorSource source) {
        boolean gIdxPresent = source.contains(config.key("g_idx"));
        Map<String, Tensor> t = StrictLoader.load(source, config.name(), config.weights(gIdxPresent));
        GroupQuantizedMatrix matrix = unpack(config, t.get(config.key("qweight")), t.get(config.key("qzeros")),
                t.get(config.key("scales")), t.get(config.key("g_idx")));
        Backend backend = Backends.forDevice(config.device());
        Tensor bias = config.hasBias() ? backend.prepareWeight(t.get(config.key("bias")), config.device()) : null;
        return new GptqLinear(config, backend, backend.prepareQuantized(matrix, config.device()), bias, gIdxPresent,
                matrix, config.device(), null, false);
    }

    /**
     * The format-neutral matrix of a GPTQ checkpoint: codes unpacked from qweight (K-major bit
     * streams), zero points from qzeros (v1: stored + 1), scales decoded, g_idx validated.
     */
    static GroupQuantizedMatrix unpack(GptqLinearConfig c, Tensor qweight, Tensor qzeros, Tensor scales, Tensor gIdx) {
        int k = c.inDim();
        int n = c.outDim();
        int bits = c.quant().bits();
        int groups = c.groups();
        int[] qw = qweight.toIntArray();
        int[] qz = qzeros.toIntArray();
        byte[] codes = new byte[Math.multiplyExact(n, k)];
        for (int col = 0; col < n; col++) {
            for (int row = 0; row < k; row++) {
                codes[col * k + row] = (byte) PackedBits.get(qw, col, n, bits, row);
            }
        }
        int zeroWords = qzeros.shape().dim(1);
        float[] zeros = new float[n * groups];
        float[] scale = new float[n * groups];
        for (int g = 0; g < groups; g++) {
            for (int col = 0; col < n; col++) {
                int stored = PackedBits.get(qz, g * zeroWords, 1, bits, col);
                zeros[col * groups + g] = c.quant().format().zeroFromStored(stored, bits);
                scale[col * groups + g] = scales.getFloat((long) g * n + col);
            }
        }
        int[] groupOf = gIdx != null ? checkedGroupIndex(c, gIdx.toIntArray()) : plainGroups(k, c.quant().effectiveGroupSize(k));
        return new GroupQuantizedMatrix(n, k, bits, groups, codes, scale, zeros, groupOf);
    }

    private static int[] plainGroups(int k, int groupSize) {
        int[] g = new int[k];
        for (int i = 0; i < k; i++) {
            g[i] = i / groupSize;
        }
        return g;
    }

    /** Every entry names a group, and every group has exactly group_size channels (GPTQ's own invariant). */
    private static int[] checkedGroupIndex(GptqLinearConfig c, int[] gIdx) {
        int groups = c.groups();
        int size = c.quant().effectiveGroupSize(c.inDim());
        int[] count = new int[groups];
        for (int i = 0; i < gIdx.length; i++) {
            if (gIdx[i] < 0 || gIdx[i] >= groups) {
                throw new WeightLoadException("tensor '" + c.key("g_idx") + "': entry " + i + " is " + gIdx[i]
                        + ", outside the " + groups + " groups [0, " + groups + ")");
            }
            count[gIdx[i]]++;
        }
        for (int g = 0; g < groups; g++) {
            if (count[g] != size) {
                throw new WeightLoadException("tensor '" + c.key("g_idx") + "': group " + g + " has " + count[g]
                        + " channels, GPTQ groups hold exactly group_size = " + size);
            }
        }
        return gIdx;
    }

    public GptqLinearConfig config() {
        return config;
    }

    /** This layer, same weights, to be cut by {@code s} on {@link #shard}. */
    public GptqLinear withShardingStrategy(ShardingStrategy s) {
        return new GptqLinear(config, backend, weight, bias, hasGIdx, matrix, device, java.util.Objects.requireNonNull(s), isShard);
    }

    /**
     * One layer per device, cut like a plain Linear by the strategy (see
     * {@link ShardingStrategy#shardBias} for the bias). Any split works: shards are cut from the
     * unpacked codes, with every group's scale and zero kept where the input features are split
     * (act-order groups are scattered over them).
     */
    public List<GptqLinear> shard(List<DeviceRef> devices) {
        return shardWith(strategy, devices,
                (be, w, b, m, dev) -> new GptqLinear(config, be, w, b, hasGIdx, m, dev, null, true),
                (m, i) -> QuantizedSharding.shard(m, strategy, i));
    }

    @Override
    public List<Weight> weights() {
        return isShard ? List.of() : config.weights(hasGIdx); // a shard is cut from tensors, not loaded
    }

    @Override
    protected String describe() {
        return named("GptqLinear", config.name());
    }

    @Override
    public String toString() {
        GptqConfig q = config.quant();
        return describe() + "(" + inDim() + " -> " + outDim() + ", " + q.bits() + "-bit, group "
                + q.groupSize() + (q.descAct() ? ", act-order" : "") + ", " + q.format() + ", " + device + ", "
                + backend.name() + ")";
    }
}
