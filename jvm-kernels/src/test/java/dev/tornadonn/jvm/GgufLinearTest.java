package dev.tornadonn.jvm;

import dev.tornadonn.core.ConfigException;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tornadonn.core.Activation;
import dev.tornadonn.core.DType;
import dev.tornadonn.core.DeviceRef;
import dev.tornadonn.core.Shape;
import dev.tornadonn.core.Tensor;
import dev.tornadonn.core.WeightLoadException;
import dev.tornadonn.core.io.Checkpoint;
import dev.tornadonn.core.io.GgmlType;
import dev.tornadonn.core.weights.GgufMatrix;
import dev.tornadonn.core.weights.WeightKind;
import dev.tornadonn.layers.Linear;
import dev.tornadonn.layers.LinearWeights;
import dev.tornadonn.layers.MLP;
import dev.tornadonn.layers.checkpoint.CheckpointLayers;
import dev.tornadonn.layers.quant.GgufLinearConfig;
import dev.tornadonn.reference.Comparison;
import dev.tornadonn.reference.GgufOracle;
import dev.tornadonn.reference.Oracle;
import dev.tornadonn.reference.Tolerance;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * GGUF weights from a file llama.cpp's {@code gguf} package wrote (scripts/gguf-fixtures.py): the
 * decode is bit-for-bit {@code gguf.quants.dequantize}, and Linear and the MLP under llama.cpp's
 * names match numpy's float64 outputs, on the GEMV and the decode-a-row paths, vector and scalar.
 */
class GgufLinearTest {
    private static final List<String> KINDS = List.of("q4_0", "q8_0", "q4_k", "q6_k");
    private static final DeviceRef CPU = DeviceRef.cpu(0);

    static Path fixture() throws Exception {
        return Path.of(GgufLinearTest.class.getResource("/gguf/blocks.gguf").toURI());
    }

    private static double[] f64(Tensor bytes) {
        long n = bytes.data().byteSize() / 8;
        double[] out = new double[(int) n];
        for (int i = 0; i < n; i++) {
            out[i] = bytes.data().get(ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 8L * i);
        }
        return out;
    }

    @Test
    void decodeIsBitForBitTheGgufPackages() throws Exception {
        try (Checkpoint c = Checkpoint.open(fixture())) {
            for (String kind : KINDS) {
                Tensor ref = c.get("test.dequant." + kind);
                GgmlType type = c.ggmlType("test.blocks." + kind).orElseThrow();
                int rows = ref.shape().dim(0);
                int cols = ref.shape().dim(1);
                GgufMatrix w = new GgufMatrix(rows, cols, type, c.get("test.blocks." + kind));
                float[] row = new float[cols];
                for (int r = 0; r < rows; r++) {
                    w.decodeRow(r, row);
                    for (int k = 0; k < cols; k++) {
                        assertEquals(Float.floatToRawIntBits(ref.getFloat((long) r * cols + k)), Float.floatToRawIntBits(row[k]),
                                kind + " row " + r + " col " + k);
                    }
                }
            }
        }
    }

    /** The conformance oracle's own decoder gives the gguf package's values too. */
    @Test
    void theOracleDecodesAsTheGgufPackage() throws Exception {
        try (Checkpoint c = Checkpoint.open(fixture())) {
            for (String kind : KINDS) {
                Tensor ref = c.get("test.dequant." + kind);
                byte[] raw = c.get("test.blocks." + kind).data().toArray(ValueLayout.JAVA_BYTE);
                double[] got = GgufOracle.decode(c.ggmlType("test.blocks." + kind).orElseThrow(), raw, ref.shape().dim(0),
                        ref.shape().dim(1));
                for (int i = 0; i < got.length; i++) {
                    assertEquals(ref.getFloat(i), got[i], 0.0, kind + " element " + i);
                }
            }
        }
    }

    @Test
    void linearUnderLlamaCppNameMatchesNumpy() throws Exception {
        try (Checkpoint c = Checkpoint.open(fixture())) {
            CheckpointLayers layers = CheckpointLayers.of(c, CPU);
            assertEquals(WeightKind.GGUF, CheckpointLayers.kind(layers.linearSpec("blk.0.ffn_down")));
            Tensor x = c.get("test.x.down");
            try (Linear l = Linear.load(layers.linearSpec("blk.0.ffn_down"), c)) {
                assertEquals(WeightKind.GGUF, l.weightKind());
                assertEquals(c.get("blk.0.ffn_down.weight").data().byteSize(), l.prepared().bytes());
                float[] y = l.forward(x).toFloatArray();
                Comparison cmp = Comparison.of(y, f64(c.get("test.y.ffn_down")));
                assertTrue(cmp.within(Tolerance.F32_ACCUMULATION), cmp.toString());
            }
        }
    }

    @Test
    void mlpUnderLlamaCppNamesMatchesNumpy() throws Exception {
        try (Checkpoint c = Checkpoint.open(fixture())) {
            CheckpointLayers layers = CheckpointLayers.of(c, CPU);
            try (MLP mlp = MLP.of(layers.mlp("blk.0"), Activation.SILU, CPU)) {
                float[] y = mlp.forward(c.get("test.x")).toFloatArray();
                Comparison cmp = Comparison.of(y, f64(c.get("test.y.mlp")));
                assertTrue(cmp.within(Tolerance.F32_ACCUMULATION), cmp.toString());
            }
        }
    }

    /**
     * Every kind, one and many rows of x (the GEMV, the decode-a-row path and the packed GEMM), both
     * kernel sets, against float64 of gguf's values.
     */
    @Test
    void everyKindMatchesTheFloat64ProductOfGgufsValues() throws Exception {
        SplittableRandom rnd = new SplittableRandom(18);
        try (Checkpoint c = Checkpoint.open(fixture())) {
            for (String kind : KINDS) {
                Tensor ref = c.get("test.dequant." + kind);
                int n = ref.shape().dim(0);
                int k = ref.shape().dim(1);
                GgmlType type = c.ggmlType("test.blocks." + kind).orElseThrow();
                LinearWeights lw = GgufLinearConfig.of(k, n, type).withName("test.blocks." + kind).withBias(false)
                        .weightsOf(c.get("test.blocks." + kind), null);
                for (JvmBackend backend : List.of(new JvmBackend(), JvmBackend.scalar())) {
                    var prepared = backend.prepare(List.of(lw.weight()), null, CPU);
                    for (int m : new int[] {1, 3, 9, VectorGemm.PACKED_MIN_M + 2}) {
                        float[] x = new float[m * k];
                        for (int i = 0; i < x.length; i++) {
                            x[i] = (float) (rnd.nextDouble() * 2 - 1);
                        }
                        Tensor y = Tensor.allocate(DType.F32, Shape.of(m, n));
                        backend.linear(Tensor.of(DType.F32, Shape.of(m, k), x), prepared, y);
                        double[] xd = new double[x.length];
                        for (int i = 0; i < x.length; i++) {
                            xd[i] = x[i];
                        }
                        double[] w = Oracle.decode(ref);
                        Comparison cmp = Comparison.of(y.toFloatArray(), Oracle.linear(xd, m, k, w, n, null),
                                Oracle.linear(Oracle.abs(xd), m, k, Oracle.abs(w), n, null));
                        assertTrue(cmp.within(Tolerance.F32_ACCUMULATION), kind + " m=" + m + " " + backend.name() + ": " + cmp);
                    }
                    prepared.close();
                }
            }
        }
    }

    /**
     * The vector decoder against the scalar one, bit for bit: random codes and scales, and blocks
     * whose f16 scale is NaN, infinite, subnormal or negative zero, from an offset that is not a
     * multiple of anything, every kind (the K-quants pass through to the scalar decoder).
     */
    @Test
    void vectorDecodeIsBitForBitTheScalarOne() {
        SplittableRandom rnd = new SplittableRandom(20);
        short[] oddScales = {0x7E00, 0x7C00, (short) 0xFC00, 0x0001, (short) 0x8000, 0x3C00};
        for (GgmlType type : List.of(GgmlType.Q4_0, GgmlType.Q8_0, GgmlType.Q4_K, GgmlType.Q6_K)) {
            int count = 8 * 256;
            int from = 3;
            byte[] src = new byte[from + (int) type.rowBytes(count)];
            rnd.nextBytes(src);
            if (type == GgmlType.Q4_0 || type == GgmlType.Q8_0) {
                for (int b = 0; b < oddScales.length; b++) {
                    src[from + b * type.blockBytes()] = (byte) oddScales[b];
                    src[from + b * type.blockBytes() + 1] = (byte) (oddScales[b] >> 8);
                }
            }
            float[] scalar = new float[count + 5];
            float[] vector = new float[count + 5];
            dev.tornadonn.core.weights.GgufBlocks.decode(type, src, from, count, scalar, 5);
            VectorGgufBlocks.decode(type, src, from, count, vector, 5);
            for (int i = 0; i < scalar.length; i++) {
                assertEquals(Float.floatToRawIntBits(scalar[i]), Float.floatToRawIntBits(vector[i]), type + " element " + i);
            }
        }
    }

    /**
     * The GEMV (one row of x) and the packed GEMM over K blocks of several GGUF blocks each and a
     * partial last one, N not a multiple of its slivers, every kind with random codes and sane
     * scales: against float64 of the scalar decode (bit for bit gguf's, above), y poisoned with
     * NaN first.
     */
    @Test
    void theGemvAndThePackedGemmMatchTheRowDecode() {
        SplittableRandom rnd = new SplittableRandom(19);
        int n = 50, k = 2 * VectorGemm.KC + 256;
        for (GgmlType type : List.of(GgmlType.Q4_0, GgmlType.Q8_0, GgmlType.Q4_K, GgmlType.Q6_K)) {
            Tensor blocks = Tensor.allocate(DType.U8, Shape.of(n, (int) type.rowBytes(k)));
            byte[] block = new byte[type.blockBytes()];
            // Q6_K keeps its f16 scale last; the others first (Q4_K's min scale next to it).
            int scaleAt = type == GgmlType.Q6_K ? block.length - 2 : 0;
            for (long at = 0; at < blocks.data().byteSize(); at += block.length) {
                rnd.nextBytes(block);
                short d = Float.floatToFloat16((float) (0.01 + 0.1 * rnd.nextDouble()));
                block[scaleAt] = (byte) d;
                block[scaleAt + 1] = (byte) (d >> 8);
                if (type == GgmlType.Q4_K) {
                    block[2] = (byte) d;
                    block[3] = (byte) (d >> 8);
                }
                java.lang.foreign.MemorySegment.copy(java.lang.foreign.MemorySegment.ofArray(block), 0, blocks.data(), at,
                        block.length);
            }
            GgufMatrix gm = new GgufMatrix(n, k, type, blocks);
            double[] w = new double[n * k];
            float[] row = new float[k];
            for (int j = 0; j < n; j++) {
                gm.decodeRow(j, row);
                for (int c = 0; c < k; c++) {
                    w[j * k + c] = row[c];
                }
            }
            for (int m : new int[] {1, VectorGemm.PACKED_MIN_M + 3}) {
                float[] x = new float[m * k];
                double[] xd = new double[m * k];
                for (int i = 0; i < x.length; i++) {
                    x[i] = (float) (rnd.nextDouble() * 2 - 1);
                    xd[i] = x[i];
                }
                JvmBackend backend = new JvmBackend();
                try (var prepared = backend.prepare(List.of(gm), null, CPU)) {
                    Tensor y = Tensor.allocate(DType.F32, Shape.of(m, n)).fill(Float.NaN);
                    backend.linear(Tensor.of(DType.F32, Shape.of(m, k), x), prepared, y);
                    Comparison cmp = Comparison.of(y.toFloatArray(), Oracle.linear(xd, m, k, w, n, null),
                            Oracle.linear(Oracle.abs(xd), m, k, Oracle.abs(w), n, null));
                    assertTrue(cmp.within(Tolerance.F32_ACCUMULATION), type + " m=" + m + ": " + cmp);
                }
            }
        }
    }

    @Test
    void denseGgufTensorsAreDenseLayers() throws Exception {
        try (Checkpoint c = Checkpoint.open(fixture())) {
            CheckpointLayers layers = CheckpointLayers.of(c, CPU);
            for (String p : List.of("blk.1.attn_q", "blk.1.attn_k")) {
                assertEquals(WeightKind.DENSE, CheckpointLayers.kind(layers.linearSpec(p)));
                try (Linear l = Linear.load(layers.linearSpec(p), c)) {
                    assertEquals(4, l.outDim());
                    assertEquals(64, l.inDim());
                }
            }
        }
    }

    @Test
    void shardsCutWholeRowsAndWholeBlocks() throws Exception {
        try (Checkpoint c = Checkpoint.open(fixture())) {
            Tensor ref = c.get("test.dequant.q8_0"); // 3 x 64: two blocks per row
            GgufMatrix w = new GgufMatrix(3, 64, GgmlType.Q8_0, c.get("test.blocks.q8_0"));
            GgufMatrix rows = w.selectRows(new int[] {2, 0});
            GgufMatrix cols = w.selectColumns(java.util.stream.IntStream.range(32, 64).toArray());
            float[] row = new float[64];
            rows.decodeRow(0, row);
            assertEquals(ref.getFloat(2 * 64 + 5), row[5]);
            float[] half = new float[32];
            cols.decodeRow(1, half);
            assertEquals(ref.getFloat(64 + 32 + 7), half[7]);
            assertEquals(3L * 34, cols.packedBytes());
            ConfigException e = assertThrows(ConfigException.class,
                    () -> w.selectColumns(java.util.stream.IntStream.range(16, 48).toArray()));
            assertTrue(e.getMessage().contains("cuts its blocks of 32"), e.getMessage());
        }
    }

    @Test
    void wrongTypeAndClippingAreRefused() throws Exception {
        try (Checkpoint c = Checkpoint.open(fixture())) {
            WeightLoadException e = assertThrows(WeightLoadException.class,
                    () -> GgufLinearConfig.of(256, 32, GgmlType.Q8_0).withName("blk.0.ffn_gate").read(c));
            assertTrue(e.getMessage().contains("is GGUF Q4_K, expected GGUF Q8_0"), e.getMessage());
            ConfigException clip = assertThrows(ConfigException.class,
                    () -> CheckpointLayers.of(c, CPU).withClip(1).linearSpec("blk.0.ffn_down"));
            assertTrue(clip.getMessage().contains("clip_weight"), clip.getMessage());
        }
    }
}
