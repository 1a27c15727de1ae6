package dev.tornadonn.core.weights;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tornadonn.core.ConfigException;
import dev.tornadonn.core.DType;
import dev.tornadonn.core.Shape;
import dev.tornadonn.core.Tensor;
import org.junit.jupiter.api.Test;

/** An int8 weight's cuts keep each code with its row's scale, and its invariants are checked. */
class Int8MatrixTest {
    private static final int ROWS = 4;
    private static final int COLS = 6;

    private static Int8Matrix matrix(Int8WeightScale scale, Int8InputQuantization input) {
        byte[] codes = new byte[ROWS * COLS];
        for (int i = 0; i < codes.length; i++) {
            codes[i] = (byte) (i * 11 - 128); // distinct: code (r, c) tells where it came from
        }
        return Int8Matrix.of(ROWS, COLS, codes, scale, input);
    }

    @Test
    void rowCutsCarryTheirChannelScales() {
        Int8Matrix m = matrix(new Int8WeightScale.PerChannel(new float[] {1f, 2f, 3f, 4f}),
                new Int8InputQuantization.DynamicPerToken());
        for (int[] sel : new int[][] {{1, 2}, {3, 0, 2}}) {
            Int8Matrix cut = m.selectRows(sel);
            assertEquals(sel.length, cut.rows());
            for (int r = 0; r < sel.length; r++) {
                assertEquals(m.weightScale().scale(sel[r]), cut.weightScale().scale(r));
                for (int c = 0; c < COLS; c++) {
                    assertEquals(m.code(sel[r], c), cut.code(r, c));
                }
            }
            assertEquals(m.input(), cut.input());
        }
        Int8Matrix tensor = matrix(new Int8WeightScale.PerTensor(0.5f), new Int8InputQuantization.Static(0.25f));
        assertSame(tensor.weightScale(), tensor.selectRows(new int[] {2}).weightScale());
    }

    /** Any columns, contiguous or not: the scales are per row, and a dynamic input is scaled per shard. */
    @Test
    void columnCutsKeepEveryScale() {
        Int8Matrix m = matrix(new Int8WeightScale.PerChannel(new float[] {1f, 2f, 3f, 4f}),
                new Int8InputQuantization.DynamicPerTokenAsymmetric());
        for (int[] sel : new int[][] {{2, 3, 4}, {5, 0, 3}}) {
            Int8Matrix cut = m.selectColumns(sel);
            assertEquals(sel.length, cut.cols());
            assertSame(m.weightScale(), cut.weightScale());
            for (int r = 0; r < ROWS; r++) {
                for (int c = 0; c < sel.length; c++) {
                    assertEquals(m.code(r, sel[c]), cut.code(r, c));
                }
            }
        }
        assertThrows(ConfigException.class, () -> m.selectColumns(new int[] {COLS}));
    }

    @Test
    void invariantsAreChecked() {
        Tensor f8 = Tensor.allocate(DType.F8_E4M3FN, Shape.of(ROWS, COLS));
        ConfigException e = assertThrows(ConfigException.class, () -> new Int8Matrix(ROWS, COLS, f8,
                new Int8WeightScale.PerTensor(1f), new Int8InputQuantization.DynamicPerToken()));
        assertTrue(e.getMessage().contains("I8 (4, 6)"), e::getMessage);
        assertThrows(ConfigException.class, () -> matrix(new Int8WeightScale.PerChannel(new float[3]),
                new Int8InputQuantization.DynamicPerToken()));
        assertThrows(ConfigException.class, () -> new Int8WeightScale.PerChannel(new float[] {1f, Float.NaN}));
        assertThrows(ConfigException.class, () -> new Int8WeightScale.PerTensor(-1f));
        assertThrows(ConfigException.class, () -> new Int8InputQuantization.Static(0f));
        assertThrows(ConfigException.class, () -> new Int8InputQuantization.StaticAsymmetric(1f, 128));
        Int8Matrix m = matrix(new Int8WeightScale.PerChannel(new float[4]), new Int8InputQuantization.DynamicPerToken());
        assertEquals(ROWS * COLS + 4L * ROWS, m.packedBytes());
        assertEquals(WeightKind.INT8, m.kind());
        assertEquals("int8, weight per channel, input dynamic per token", m.describe());
        assertArrayEquals(new float[] {0f, 0f}, ((Int8WeightScale.PerChannel) m.selectRows(new int[] {0, 1}).weightScale()).scales());
    }
}
