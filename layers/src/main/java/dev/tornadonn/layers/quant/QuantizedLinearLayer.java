package dev.tornadonn.layers.quant;

import dev.tornadonn.core.DeviceRef;
import dev.tornadonn.core.Tensor;
import dev.tornadonn.core.backend.Backend;
import dev.tornadonn.core.backend.Backends;
import dev.tornadonn.core.backend.PreparedMatrix;
import dev.tornadonn.core.quant.QuantizedMatrix;
import dev.tornadonn.layers.MatrixLayer;
import dev.tornadonn.layers.Sharding;
import dev.tornadonn.layers.sharding.ShardingStrategy;
import java.util.ArrayList;
import java.util.List;

/**
 * What the quantised linear layers share: a matrix prepared on a device by its backend, an
 * optional bias, and the format-neutral matrix itself, kept so that {@code shard} can cut it.
 */
abstract sealed class QuantizedLinearLayer<M extends QuantizedMatrix> extends MatrixLayer permits GptqLinear, Fp8Linear {
    final Backend backend;
    final PreparedMatrix weight;
    final Tensor bias;
    final M matrix;
    final DeviceRef device;

    QuantizedLinearLayer(Backend backend, PreparedMatrix weight, Tensor bias, M matrix, DeviceRef device) {
        this.backend = backend;
        this.weight = weight;
        this.bias = bias;
        this.matrix = matrix;
        this.device = device;
    }

    /** How a layer of the subclass is made from one shard's prepared parts. */
    interface ShardFactory<M, L> {
        L create(Backend backend, PreparedMatrix weight, Tensor bias, M matrix, DeviceRef device);
    }

    /**
     * One layer per device: every shard's matrix is cut first (so a refused cut loads nothing),
     * then prepared on its device with its share of the bias.
     */
    <L> List<L> shardWith(ShardingStrategy strategy, List<DeviceRef> devices, ShardFactory<M, L> factory,
                          java.util.function.BiFunction<M, Integer, M> cut) {
        if (strategy == null) {
            throw new IllegalStateException(describe() + " cannot be sharded: no sharding strategy set");
        }
        Sharding.checkDevices(devices, strategy.numDevices(), describe());
        List<M> parts = new ArrayList<>();
        for (int i = 0; i < devices.size(); i++) {
            parts.add(cut.apply(matrix, i));
        }
        List<L> shards = new ArrayList<>();
        for (int i = 0; i < devices.size(); i++) {
            DeviceRef dev = devices.get(i);
            Tensor b = bias == null ? null : strategy.shardBias(bias, i);
            Backend be = Backends.forDevice(dev);
            shards.add(factory.create(be, be.prepareQuantized(parts.get(i), dev), b == null ? null : be.prepareWeight(b, dev),
                    parts.get(i), dev));
        }
        return List.copyOf(shards);
    }

    /** The bytes a forward streams from the prepared weight (codes, scales, zero points). */
    public long weightBytes() {
        return weight.streamedBytes();
    }

    @Override
    public int inDim() {
        return matrix.cols();
    }

    @Override
    public int outDim() {
        return matrix.rows();
    }

    @Override
    public DeviceRef device() {
        return device;
    }

    @Override
    protected void apply(Tensor x2d, Tensor y2d) {
        backend.quantizedLinear(x2d, weight, bias, y2d);
    }
}
