package dev.tornadonn.tornado;

import dev.tornadonn.core.ConfigException;
import dev.tornadonn.core.weights.WeightKind;
import dev.tornadonn.core.weights.WeightMatrix;
import dev.tornadonn.twins.QuantDecode;
import dev.tornadonn.twins.QuantLayout;
import java.util.List;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

/**
 * A GPTQ or fp8 weight in the arrays {@link QuantKernels} read ({@link QuantLayout}): the codes
 * packed in ints, the scales, zero points and group maps; {@code inputParams} holds the fp8 input
 * quantisation's upper bound and static scale. Copied to the device on a plan's first execution.
 */
record QuantWeight(QuantLayout layout, IntArray codes, FloatArray scales, FloatArray zeros, IntArray groupOf,
                   IntArray groupBase, FloatArray inputParams) implements DeviceWeight {

    /** The codes are written once, straight into the array the device copy is made from. */
    static QuantWeight of(List<? extends WeightMatrix> blocks) {
        QuantLayout layout = QuantLayout.of(blocks);
        if (layout.codeInts() > Integer.MAX_VALUE) {
            throw new ConfigException("a TornadoVM array holds at most 2^31-1 ints; a " + layout.rows() + " x "
                    + layout.cols() + " quantised weight needs " + layout.codeInts() + " (shard the layer over more devices)");
        }
        IntArray codes = new IntArray((int) Math.max(1, layout.codeInts()));
        layout.writeCodes(blocks, codes.getSegment());
        return new QuantWeight(layout, codes, FloatArray.fromArray(layout.scales()), FloatArray.fromArray(layout.zeros()),
                IntArray.fromArray(layout.groupOf()), IntArray.fromArray(layout.groupBase()),
                FloatArray.fromElements(layout.upperBound(), layout.staticScale()));
    }

    @Override
    public int rows() {
        return layout.rows();
    }

    @Override
    public int cols() {
        return layout.cols();
    }

    @Override
    public long bytes() {
        return layout.bytes();
    }

    @Override
    public WeightKind kind() {
        return layout.format() == QuantDecode.GPTQ ? WeightKind.GROUP_QUANTIZED : WeightKind.FP8;
    }
}
