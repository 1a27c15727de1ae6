package dev.tornadonn.core.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tornadonn.core.Tensor;
import dev.tornadonn.core.WeightLoadException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TensorSourceTest {

    @Test
    void inMemorySourceKeepsOrderAndIsACopy() {
        Tensor a = Tensor.of(new float[] {1}, 1);
        Tensor b = Tensor.of(new float[] {2}, 1);
        Map<String, Tensor> m = new LinkedHashMap<>();
        m.put("z", a);
        m.put("a", b);
        TensorSource src = TensorSource.of(m);
        m.put("late", a);
        assertEquals(List.of("z", "a"), List.copyOf(src.names()));
        assertSame(a, src.get("z"));
        assertTrue(src.contains("a"));
        assertFalse(src.contains("late"));
        assertThrows(UnsupportedOperationException.class, () -> src.names().add("x"));
        assertEquals("in-memory tensors", src.describe());
    }

    @Test
    void missingKeyThrowsWeightLoadExceptionNamingIt() {
        TensorSource src = TensorSource.of(Map.of("w", Tensor.of(new float[] {1}, 1)));
        WeightLoadException e = assertThrows(WeightLoadException.class, () -> src.get("bias"));
        assertTrue(e.getMessage().contains("'bias'"), e.getMessage());
        assertTrue(e.getMessage().contains("in-memory tensors"), e.getMessage());
        WeightLoadException typo = assertThrows(WeightLoadException.class, () -> src.get("ww"));
        assertTrue(typo.getMessage().contains("did you mean 'w'"), typo.getMessage());
    }
}
