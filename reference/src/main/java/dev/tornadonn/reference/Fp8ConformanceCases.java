package dev.tornadonn.reference;

import dev.tornadonn.core.DType;
import dev.tornadonn.core.Shape;
import dev.tornadonn.layers.quant.Float8Config;
import dev.tornadonn.layers.quant.Float8InputScaleSpec;
import dev.tornadonn.layers.quant.Float8WeightScaleSpec;
import java.util.ArrayList;
import java.util.List;

/**
 * The fp8 linear cases: both formats; every weight scale granularity with static, dynamic
 * per-tensor, per-token and block inputs, and weight-only ones that leave x unquantised (W8A16) (including MAX's broken pairs: static with row or block
 * weights, per-tensor dynamic at M > 1, block sizes not dividing K, input and weight k blocks that
 * differ); bound on and off; bias on and off; boundary weights; an all-zero input row; inputs of
 * rank 1 to 3; BF16 and F32 outputs; BF16 scales; the {@code weight_scale_inv} key.
 */
public final class Fp8ConformanceCases {
    private Fp8ConformanceCases() {}

    public static List<ConformanceCase> fp8Cases(long baseSeed) {
        List<Float8Config> configs = List.of(
                Float8Config.of(Float8InputScaleSpec.staticTensor(), Float8WeightScaleSpec.tensor()),
                Float8Config.of(Float8InputScaleSpec.staticTensor(), Float8WeightScaleSpec.rowwise()),
                Float8Config.of(Float8InputScaleSpec.staticTensor(), Float8WeightScaleSpec.block(32, 64)),
                Float8Config.of(Float8InputScaleSpec.dynamicTensor(null), Float8WeightScaleSpec.tensor()),
                Float8Config.of(Float8InputScaleSpec.dynamicTensor(1200f), Float8WeightScaleSpec.rowwise()),
                Float8Config.of(Float8InputScaleSpec.dynamicPerToken(null), Float8WeightScaleSpec.rowwise()),
                Float8Config.of(Float8InputScaleSpec.dynamicPerToken(2f), Float8WeightScaleSpec.rowwise()),
                Float8Config.of(Float8InputScaleSpec.dynamicPerToken(1200f), Float8WeightScaleSpec.block(16, 32)),
                Float8Config.of(Float8InputScaleSpec.dynamicBlock(64, null), Float8WeightScaleSpec.block(32, 64)),
                Float8Config.of(Float8InputScaleSpec.dynamicBlock(128, 3f), Float8WeightScaleSpec.block(128, 128)),
                Float8Config.of(Float8InputScaleSpec.dynamicBlock(32, null), Float8WeightScaleSpec.block(16, 48)),
                Float8Config.of(Float8InputScaleSpec.dynamicBlock(7, null), Float8WeightScaleSpec.tensor()),
                Float8Config.of(Float8InputScaleSpec.weightOnly(), Float8WeightScaleSpec.rowwise()),
                Float8Config.of(Float8InputScaleSpec.weightOnly(), Float8WeightScaleSpec.tensor()),
                Float8Config.of(Float8InputScaleSpec.weightOnly(), Float8WeightScaleSpec.block(16, 32)));
        List<Shape> xs = List.of(Shape.of(1, 1), Shape.of(7, 7), Shape.of(13, 129), Shape.of(7, 300),
                Shape.of(2, 3, 129), Shape.of(300));
        int[] outs = {1, 33, 129, 33, 7, 1};
        List<ConformanceCase> cases = new ArrayList<>();
        for (DType dtype : List.of(DType.F8_E4M3FN, DType.F8_E5M2)) {
            for (int c = 0; c < configs.size(); c++) {
                for (int s = 0; s < xs.size(); s++) {
                    // Not every pair: a rotating subset keeps the suite small while every config
                    // meets several shapes and every shape several configs.
                    if ((c + s) % 3 != 0 && s != 3) {
                        continue;
                    }
                    int i = cases.size();
                    boolean f32Out = i % 3 == 1;
                    Float8Config cfg = f32Out ? configs.get(c).withOutputDType(DType.F32) : configs.get(c);
                    boolean zeroRow = xs.get(s).leadingNumel() > 1 && i % 2 == 0;
                    cases.add(new Fp8LinearCase(xs.get(s), outs[s], dtype, cfg, i % 2 == 1, i % 4 < 2, zeroRow,
                            i % 5 == 0 ? DType.BF16 : DType.F32, i % 7 == 3, ConformanceSuite.seed(baseSeed, 10_000 + i)));
                }
            }
        }
        return List.copyOf(cases);
    }
}
