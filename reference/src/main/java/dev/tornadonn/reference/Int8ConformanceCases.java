package dev.tornadonn.reference;

import dev.tornadonn.core.DType;
import dev.tornadonn.core.Shape;
import dev.tornadonn.layers.quant.Int8Scheme;
import java.util.ArrayList;
import java.util.List;

/**
 * The int8 W8A8 linear cases: weight scales per tensor and per channel, each with static and
 * dynamic per-token inputs, symmetric and asymmetric; one and a few rows of x (the GEMV) and more
 * (the GEMM, in blocks of rows); K below, at and past the vector width and its tail; inputs of
 * rank 1 to 3; bias on and off; boundary codes; zero and constant rows; exact ties; F32, BF16
 * and F16 scales.
 */
public final class Int8ConformanceCases {
    private Int8ConformanceCases() {}

    public static List<ConformanceCase> int8Cases(long baseSeed) {
        List<Shape> xs = List.of(Shape.of(1, 1), Shape.of(7, 7), Shape.of(13, 129), Shape.of(4, 300),
                Shape.of(2, 3, 129), Shape.of(300), Shape.of(40, 257), Shape.of(3, 4097));
        int[] outs = {1, 33, 129, 17, 7, 9, 70, 12};
        List<DType> scaleDTypes = List.of(DType.F32, DType.BF16, DType.F16);
        List<ConformanceCase> cases = new ArrayList<>();
        int schemeIndex = 0;
        for (Int8Scheme.WeightScale w : Int8Scheme.WeightScale.values()) {
            for (Int8Scheme.InputScale in : Int8Scheme.InputScale.values()) {
                for (boolean symmetric : new boolean[] {true, false}) {
                    Int8Scheme scheme = Int8Scheme.of(w, in, symmetric);
                    for (int s = 0; s < xs.size(); s++) {
                        // Half the shapes for each scheme, alternating, keeps the suite small while
                        // every scheme meets the GEMV and the GEMM and every shape every input scheme.
                        if ((s + schemeIndex) % 2 != 0 && s != 3) {
                            continue;
                        }
                        int i = cases.size();
                        cases.add(new Int8LinearCase(xs.get(s), outs[s], scheme, i % 2 == 1, i % 4 < 2, i % 3 == 0,
                                i % 5 == 2, scaleDTypes.get(i % 3), ConformanceSuite.seed(baseSeed, 20_000 + i)));
                    }
                    schemeIndex++;
                }
            }
        }
        return List.copyOf(cases);
    }
}
