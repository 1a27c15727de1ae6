package dev.tornadonn.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class ShapeTest {

    @Test
    void toStringIsPythonStyle() {
        assertEquals("(7,)", Shape.of(7).toString());
        assertEquals("(2, 3)", Shape.of(2, 3).toString());
        assertEquals("(4096, 1024)", Shape.of(4096, 1024).toString());
        assertEquals("(1, 0, 5)", Shape.of(1, 0, 5).toString());
        assertEquals("()", Shape.of().toString());
        assertEquals("(0,)", Shape.of(0).toString());
    }

    @Test
    void numelAndRank() {
        assertEquals(1, Shape.of().numel());
        assertEquals(0, Shape.of().rank());
        assertEquals(7, Shape.of(7).numel());
        assertEquals(6, Shape.of(2, 3).numel());
        assertEquals(0, Shape.of(3, 0, 2).numel());
        assertEquals(4096L * 4096 * 256, Shape.of(4096, 4096, 256).numel());
        assertEquals(3, Shape.of(3, 0, 2).rank());
        assertEquals(6, Shape.of(2, 3, 5).leadingNumel());
        assertEquals(1, Shape.of(5).leadingNumel());
        assertThrows(ArithmeticException.class,
                () -> Shape.of(Integer.MAX_VALUE, Integer.MAX_VALUE, Integer.MAX_VALUE).numel());
    }

    @Test
    void equalsAndHashCode() {
        assertEquals(Shape.of(2, 3), Shape.of(2, 3));
        assertEquals(Shape.of(2, 3), Shape.of(2L, 3L));
        assertEquals(Shape.of(2, 3).hashCode(), Shape.of(2L, 3L).hashCode());
        assertNotEquals(Shape.of(3, 2), Shape.of(2, 3));
        assertNotEquals(Shape.of(6), Shape.of(2, 3));
        assertNotEquals(Shape.of(), Shape.of(1));
        assertNotEquals(Shape.of(2, 3), "(2, 3)");
        assertEquals(Shape.of(), Shape.of());
    }

    @Test
    void isImmutable() {
        int[] dims = {2, 3};
        Shape s = Shape.of(dims);
        dims[0] = 99;
        assertEquals(Shape.of(2, 3), s);
        s.dims()[1] = 99;
        assertArrayEquals(new int[] {2, 3}, s.dims());
    }

    @Test
    void dimsAndDerivedShapes() {
        Shape s = Shape.of(2, 3, 5);
        assertEquals(2, s.dim(0));
        assertEquals(5, s.dim(2));
        assertEquals(5, s.dim(-1));
        assertEquals(2, s.dim(-3));
        assertEquals(Shape.of(2, 3, 7), s.withLast(7));
        assertEquals(Shape.of(9, 3, 5), s.withFirst(9));
        assertEquals(Shape.of(2, 3, 5), s);
    }

    @Test
    void rejectsNegativeAndOversizedDimensions() {
        assertThrows(ConfigException.class, () -> Shape.of(2, -1));
        assertThrows(ConfigException.class, () -> Shape.of(-1L));
        assertThrows(ConfigException.class, () -> Shape.of(1L << 31));
        assertThrows(ConfigException.class, () -> Shape.of(2, 3).withLast(-4));
    }
}
