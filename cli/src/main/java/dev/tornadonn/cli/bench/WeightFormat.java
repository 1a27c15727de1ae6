package dev.tornadonn.cli.bench;

import dev.tornadonn.core.DType;
import dev.tornadonn.core.weights.WeightKind;

/** The weight formats bench times: plain floats and the two quantised layouts. */
public enum WeightFormat {
    F32("f32", DType.F32), BF16("bf16", DType.BF16), F16("f16", DType.F16),
    FP8("fp8-e4m3", DType.F8_E4M3FN), GPTQ_INT4("gptq-int4-g128", DType.I32);

    private final String label;
    private final DType dtype;

    WeightFormat(String label, DType dtype) {
        this.label = label;
        this.dtype = dtype;
    }

    public String label() {
        return label;
    }

    /** The dtype the weight tensor is stored in (GPTQ: the packed I32 words). */
    public DType dtype() {
        return dtype;
    }

    /** The kind of weight a backend must have kernels for to run this format. */
    public WeightKind weightKind() {
        return switch (this) {
            case F32, BF16, F16 -> WeightKind.DENSE;
            case FP8 -> WeightKind.FP8;
            case GPTQ_INT4 -> WeightKind.GROUP_QUANTIZED;
        };
    }
}
