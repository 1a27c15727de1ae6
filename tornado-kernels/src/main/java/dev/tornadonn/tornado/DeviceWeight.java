package dev.tornadonn.tornado;

import dev.tornadonn.core.ConfigException;
import dev.tornadonn.core.weights.WeightKind;
import dev.tornadonn.core.weights.WeightMatrix;
import dev.tornadonn.twins.GgufCodes;
import dev.tornadonn.twins.QuantDecode;
import dev.tornadonn.twins.QuantLayout;
import dev.tornadonn.twins.WeightFormat;
import java.util.List;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;
import uk.ac.manchester.tornado.api.types.arrays.ShortArray;

/**
 * A weight in the arrays {@link DeviceKernels} read, whatever its format ({@code
 * dev.tornadonn.twins.KernelWeight} is the same record over Java arrays): f32 values, bf16/fp16
 * bits, GPTQ/fp8/int8 codes kept packed with their scales, zero points and group map, or GGUF
 * blocks as the file's bytes in {@code codes}. Arrays the format does not read are one-element
 * placeholders. {@code layout} is the packed weight's layout (null for dense and GGUF ones), whose
 * fp8 or int8 input quantisation {@link InputKernels} run with {@code inputParams} (upper bound,
 * static scale, static zero point). TornadoVM copies the arrays to the device on a
 * plan's first execution and keeps them there.
 */
record DeviceWeight(int format, int rows, int cols, int bits, int groups, FloatArray f32, ShortArray half, IntArray codes,
                    FloatArray scales, FloatArray zeros, IntArray groupMap, QuantLayout layout, FloatArray inputParams) {

    static DeviceWeight ofF32(FloatArray values, int rows, int cols) {
        return dense(WeightFormat.F32, rows, cols, values, new ShortArray(1));
    }

    static DeviceWeight ofHalf(int format, ShortArray bits, int rows, int cols) {
        return dense(format, rows, cols, new FloatArray(1), bits);
    }

    private static DeviceWeight dense(int format, int rows, int cols, FloatArray f32, ShortArray half) {
        return new DeviceWeight(format, rows, cols, format == WeightFormat.F32 ? 32 : 16, 1, f32, half, new IntArray(1),
                new FloatArray(1), new FloatArray(1), new IntArray(1), null, new FloatArray(3));
    }

    /** GPTQ, fp8 or int8 blocks stacked along the outputs; the codes are written once, straight into the array the device copy is made from. */
    static DeviceWeight ofPacked(List<? extends WeightMatrix> blocks) {
        QuantLayout l = QuantLayout.of(blocks);
        if (l.codeInts() > Integer.MAX_VALUE) {
            throw new ConfigException("a TornadoVM array holds at most 2^31-1 ints; a " + l.rows() + " x " + l.cols()
                    + " quantised weight needs " + l.codeInts() + " (shard the layer over more devices)");
        }
        IntArray codes = new IntArray((int) Math.max(1, l.codeInts()));
        l.writeCodes(blocks, codes.getSegment());
        return new DeviceWeight(l.format(), l.rows(), l.cols(), l.bits(), l.groups(), new FloatArray(1), new ShortArray(1),
                codes, FloatArray.fromArray(l.scales()), FloatArray.fromArray(l.zeros()), IntArray.fromArray(l.groupMap()), l,
                FloatArray.fromElements(l.upperBound(), l.staticScale(), l.staticZero()));
    }

    /** GGUF blocks of one type stacked along the outputs, their bytes written once into the ints the device copy is made from. */
    static DeviceWeight ofGguf(List<? extends WeightMatrix> blocks) {
        GgufCodes l = GgufCodes.of(blocks);
        if (l.codeInts() > Integer.MAX_VALUE) {
            throw new ConfigException("a TornadoVM array holds at most 2^31-1 ints; a " + l.rows() + " x " + l.cols() + " "
                    + l.type() + " weight needs " + l.codeInts() + " (shard the layer over more devices)");
        }
        IntArray codes = new IntArray((int) Math.max(1, l.codeInts()));
        l.writeCodes(blocks, codes.getSegment());
        return new DeviceWeight(l.format(), l.rows(), l.cols(), 8, 1, new FloatArray(1), new ShortArray(1), codes,
                new FloatArray(1), new FloatArray(1), new IntArray(1), null, new FloatArray(3));
    }

    /** Whether x is quantised to fp8 or int8 on the device before the product (not for weight-only fp8). */
    boolean quantisesInput() {
        return layout != null && layout.quantisesInput();
    }

    /** Bytes the weight occupies on the device. */
    long bytes() {
        return switch (format) {
            case WeightFormat.F32 -> 4L * f32.getSize();
            case WeightFormat.BF16, WeightFormat.F16 -> 2L * half.getSize();
            case WeightFormat.Q4_0, WeightFormat.Q8_0, WeightFormat.Q4_K, WeightFormat.Q6_K -> 4L * codes.getSize();
            default -> layout.bytes();
        };
    }

    WeightKind kind() {
        return switch (format) {
            case WeightFormat.F32, WeightFormat.BF16, WeightFormat.F16 -> WeightKind.DENSE;
            case WeightFormat.GPTQ -> WeightKind.GROUP_QUANTIZED;
            case WeightFormat.Q4_0, WeightFormat.Q8_0, WeightFormat.Q4_K, WeightFormat.Q6_K -> WeightKind.GGUF;
            case WeightFormat.INT8 -> WeightKind.INT8;
            default -> WeightKind.FP8;
        };
    }

    /** Every array a kernel reads, for the plan's one-time upload. */
    Object[] arrays() {
        return new Object[] {f32, half, codes, scales, zeros, groupMap, inputParams};
    }
}
