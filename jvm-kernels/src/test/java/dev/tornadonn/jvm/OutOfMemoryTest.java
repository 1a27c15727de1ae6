package dev.tornadonn.jvm;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tornadonn.core.DType;
import dev.tornadonn.core.DeviceRef;
import dev.tornadonn.core.NativeMemory;
import dev.tornadonn.core.Shape;
import dev.tornadonn.core.Tensor;
import dev.tornadonn.layers.Linear;
import dev.tornadonn.layers.LinearWeights;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

/** A weight the machine cannot hold is one line naming the layer and the bytes, not an OutOfMemoryError's stack. */
class OutOfMemoryTest {

    @Test
    void aWeightTooLargeForTheMachineIsOneLineNamingItsLayer() {
        // 2^60 bytes of bf16 "checkpoint": never read, since the prepared copy cannot be allocated first.
        Shape shape = Shape.of(1 << 30, 1 << 29);
        MemorySegment huge = MemorySegment.NULL.reinterpret(shape.numel() * 2);
        Tensor w = new Tensor(shape, DType.BF16, DeviceRef.cpu(0), huge);
        var e = assertThrows(NativeMemory.OutOfMemory.class,
                () -> Linear.of(LinearWeights.dense("model.layers.0.mlp.down_proj", w, null), DeviceRef.cpu(0)));
        String m = e.getMessage();
        assertTrue(m.startsWith("Linear 'model.layers.0.mlp.down_proj': out of memory: cannot allocate "
                + (shape.numel() * 2) + " bytes"), m);
        assertTrue(!m.contains("\n"), m);
    }
}
