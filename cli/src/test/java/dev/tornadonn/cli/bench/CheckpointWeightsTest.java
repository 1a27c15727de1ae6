package dev.tornadonn.cli.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tornadonn.core.DType;
import dev.tornadonn.core.DeviceRef;
import dev.tornadonn.core.Tensor;
import dev.tornadonn.layers.quant.PackedBits;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Every format's weights in bench are a real checkpoint's: the same normal weights, std
 * 1/sqrt(in_dim), rounded to bf16/f16 or quantised as FP8 and GPTQ tools do, so the kernels meet
 * the values (f16 subnormals, FP8 code ranges) that real layers give them.
 */
class CheckpointWeightsTest {
    private static final DeviceRef CPU = DeviceRef.cpu(0);

    private static Map<String, Tensor> tensors(WeightFormat f, int n, int k, WeightData data) {
        return CaseBuilder.linearCheckpoint(BenchCase.linear(f, 1, n, k), CPU, data).tensors();
    }

    private static double std(float[] v) {
        double sum = 0;
        double sq = 0;
        for (float x : v) {
            sum += x;
            sq += (double) x * x;
        }
        double mean = sum / v.length;
        return Math.sqrt(sq / v.length - mean * mean);
    }

    /** ‖a − b‖ / ‖b‖. */
    private static double relativeError(float[] a, float[] b) {
        double d = 0;
        double r = 0;
        for (int i = 0; i < a.length; i++) {
            d += ((double) a[i] - b[i]) * ((double) a[i] - b[i]);
            r += (double) b[i] * b[i];
        }
        return Math.sqrt(d / r);
    }

    @Test
    void denseFormatsAreTheNormalWeightsRoundedToTheirDtype() {
        int n = 64;
        int k = 4096;
        WeightData data = new WeightData();
        float[] w = data.matrix(n, k, 0);
        for (WeightFormat f : new WeightFormat[] {WeightFormat.F32, WeightFormat.BF16, WeightFormat.F16}) {
            Tensor t = tensors(f, n, k, data).get("weight");
            assertEquals(f.dtype(), t.dtype());
            float[] v = t.toFloatArray();
            assertEquals(1 / Math.sqrt(k), std(v), 0.01 / Math.sqrt(k), f.label());
            double ulp = f == WeightFormat.F32 ? 0 : f == WeightFormat.BF16 ? 0x1p-8 : 0x1p-11;
            for (int i = 0; i < v.length; i++) {
                // Nearest rounding: half an ulp of the value, or of the smallest normal for f16's subnormals.
                double tolerance = Math.max(Math.abs(w[i]) * ulp, f == WeightFormat.F16 ? 0x1p-25 : 0);
                assertTrue(Math.abs(v[i] - w[i]) <= tolerance, f.label() + " weight " + i + ": " + w[i] + " stored as " + v[i]);
            }
        }
    }

    @Test
    void f16WeightsHaveTheSubnormalsOfARealCheckpoint() {
        // std 1/sqrt(8192) = 0.011: |w| below f16's smallest normal 2^-14 for about 0.44 % of them,
        // P(|Z| < 2^-14 · sqrt(8192)) ≈ 2 · 2^-14 · sqrt(8192) / sqrt(2π); uniform [-1, 1) weights had 0.006 %.
        int n = 64;
        int k = 8192;
        float[] v = tensors(WeightFormat.F16, n, k, new WeightData()).get("weight").toFloatArray();
        long subnormal = 0;
        for (float x : v) {
            if (x != 0 && Math.abs(x) < 0x1p-14f) {
                subnormal++;
            }
        }
        double expected = 2 * 0x1p-14 * Math.sqrt(k) / Math.sqrt(2 * Math.PI);
        assertEquals(expected, (double) subnormal / v.length, 0.15 * expected, subnormal + " of " + v.length);
    }

    @Test
    void fp8IsQuantisedPerRowOntoE4m3sFullRange() {
        int n = 64;
        int k = 2048;
        WeightData data = new WeightData();
        float[] w = data.matrix(n, k, 0);
        Map<String, Tensor> t = tensors(WeightFormat.FP8, n, k, data);
        Tensor codes = t.get("weight");
        float[] scales = t.get("weight_scale").toFloatArray();
        assertEquals(DType.F8_E4M3FN, codes.dtype());
        float[] dequantised = new float[n * k];
        long subnormal = 0;
        for (int r = 0; r < n; r++) {
            float amax = 0;
            float largestCode = 0;
            for (int i = r * k; i < (r + 1) * k; i++) {
                amax = Math.max(amax, Math.abs(w[i]));
                float c = codes.getFloat(i);
                largestCode = Math.max(largestCode, Math.abs(c));
                subnormal += c != 0 && Math.abs(c) < 0x1p-6f ? 1 : 0;
                dequantised[i] = c * scales[r];
            }
            assertEquals(amax / 448f, scales[r], 1e-6f * scales[r], "row " + r + ": scale = amax / 448");
            assertEquals(448f, largestCode, "row " + r + ": its largest weight is e4m3's largest code");
        }
        assertEquals(1 / Math.sqrt(k), std(dequantised), 0.02 / Math.sqrt(k));
        double err = relativeError(dequantised, w);
        assertTrue(err < 0.04, "e4m3 keeps 3 mantissa bits: relative error " + err);
        assertTrue(subnormal < n * k / 1000, subnormal + " subnormal codes: real checkpoints have almost none");
    }

    @Test
    void gptqIsRoundedToEachGroupsSymmetricGridAsAutoGptqWritesIt() {
        int n = 64;
        int k = 1024;
        int group = 128;
        WeightData data = new WeightData();
        float[] w = data.matrix(n, k, 0);
        Map<String, Tensor> t = tensors(WeightFormat.GPTQ_INT4, n, k, data);
        int[] qweight = t.get("qweight").toIntArray();
        int[] qzeros = t.get("qzeros").toIntArray();
        float[] scales = t.get("scales").toFloatArray();
        assertEquals(DType.F16, t.get("scales").dtype(), "GPTQ checkpoints hold f16 scales");
        float[] dequantised = new float[n * k];
        int[] codeCount = new int[16];
        for (int col = 0; col < n; col++) {
            for (int g = 0; g < k / group; g++) {
                int stored = PackedBits.get(qzeros, g * (n / 8), 1, 4, col);
                assertEquals(7, stored, "sym: zero point 8, stored minus one (checkpoint_format gptq)");
                float amax = 0;
                for (int i = g * group; i < (g + 1) * group; i++) {
                    amax = Math.max(amax, Math.abs(w[col * k + i]));
                }
                float scale = scales[g * n + col];
                assertEquals(2 * amax / 15, scale, 0x1p-10 * scale, "col " + col + " group " + g + ": scale = 2·max|w| / 15 in f16");
                for (int i = g * group; i < (g + 1) * group; i++) {
                    int q = PackedBits.get(qweight, col, n, 4, i);
                    codeCount[q]++;
                    dequantised[col * k + i] = (q - 8) * scale;
                    // The nearest code; the scale's rounding to f16 (2^-11) may leave a group's largest weight just off the grid.
                    assertTrue(Math.abs(dequantised[col * k + i] - w[col * k + i]) <= (0.5 + 8 * 0x1p-11) * scale,
                            "col " + col + " weight " + i + ": the nearest code");
                }
            }
        }
        assertEquals(1 / Math.sqrt(k), std(dequantised), 0.03 / Math.sqrt(k));
        assertTrue(codeCount[8] > codeCount[4] && codeCount[4] > codeCount[1], "most codes near the zero point, as normal weights give");
        assertTrue(codeCount[1] + codeCount[0] > 0 && codeCount[15] > 0, "each group's largest weight reaches the grid's end");
        double err = relativeError(dequantised, w);
        assertTrue(err < 0.15, "4-bit codes on a 2·max/15 grid: relative error " + err);
    }
}
