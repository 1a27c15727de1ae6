package dev.tornadonn.core;

import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class WeightTest {
    private final Weight w = new Weight("model.layers.0.mlp.up_proj.weight", DType.BF16, Shape.of(8, 4), DeviceRef.cpu(0));

    @Test
    void matchingTensorIsReturned() {
        Tensor t = Tensor.allocate(DType.BF16, Shape.of(8, 4));
        assertSame(t, w.check(t));
    }

    @Test
    void dtypeMismatchNamesKeyExpectedAndActual() {
        Tensor t = Tensor.allocate(DType.F16, Shape.of(8, 4));
        WeightLoadException e = assertThrows(WeightLoadException.class, () -> w.check(t));
        String m = e.getMessage();
        assertTrue(m.contains("'model.layers.0.mlp.up_proj.weight'"), m);
        assertTrue(m.contains("F16") && m.contains("expected BF16"), m);
        assertTrue(m.indexOf("F16") < m.indexOf("expected BF16"), "actual first, then expected: " + m);
    }

    @Test
    void shapeMismatchNamesKeyExpectedAndActual() {
        Tensor t = Tensor.allocate(DType.BF16, Shape.of(4, 8));
        WeightLoadException e = assertThrows(WeightLoadException.class, () -> w.check(t));
        String m = e.getMessage();
        assertTrue(m.contains("'model.layers.0.mlp.up_proj.weight'"), m);
        assertTrue(m.contains("(4, 8)") && m.contains("expected (8, 4)"), m);
    }

    @Test
    void transposedOrFlattenedOrRankChangedShapesAreRejected() {
        for (Shape s : new Shape[] {Shape.of(32), Shape.of(1, 8, 4), Shape.of(8, 4, 1), Shape.of(8, 5)}) {
            Tensor t = Tensor.allocate(DType.BF16, s);
            WeightLoadException e = assertThrows(WeightLoadException.class, () -> w.check(t), s.toString());
            assertTrue(e.getMessage().contains(s.toString()), e.getMessage());
        }
    }

    @Test
    void isATornadoNnException() {
        Tensor t = Tensor.allocate(DType.F32, Shape.of(8, 4));
        TornadoNnException e = assertThrows(TornadoNnException.class, () -> w.check(t));
        assertTrue(e instanceof WeightLoadException);
    }
}
