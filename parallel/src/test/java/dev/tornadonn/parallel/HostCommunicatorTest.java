package dev.tornadonn.parallel;

import dev.tornadonn.core.ConfigException;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tornadonn.core.DType;
import dev.tornadonn.core.DeviceRef;
import dev.tornadonn.core.Shape;
import dev.tornadonn.layers.sharding.Split;
import dev.tornadonn.core.Tensor;
import java.util.List;
import org.junit.jupiter.api.Test;

class HostCommunicatorTest {
    private final HostCommunicator comm = new HostCommunicator();

    private static Tensor on(int device, Shape shape, float... values) {
        Tensor t = Tensor.allocate(DType.F32, shape, DeviceRef.cpu(device));
        for (int i = 0; i < values.length; i++) {
            t.setFloat(i, values[i]);
        }
        return t;
    }

    @Test
    void allGatherConcatenatesUnevenShardsInListOrder() {
        Tensor a = on(0, Shape.of(2, 1), 1, 2);
        Tensor b = on(1, Shape.of(2, 2), 3, 4, 5, 6);
        List<Tensor> out = comm.allGather(List.of(a, b), -1);
        assertEquals(2, out.size());
        for (int i = 0; i < 2; i++) {
            assertEquals(Shape.of(2, 3), out.get(i).shape());
            assertEquals(DeviceRef.cpu(i), out.get(i).device());
            assertArrayEquals(new float[] {1, 3, 4, 2, 5, 6}, out.get(i).toFloatArray());
        }
        assertNotSame(out.get(0).data(), out.get(1).data());
        List<Tensor> rows = comm.allGather(List.of(b, on(1 + 1, Shape.of(1, 2), 7, 8)), 0);
        assertArrayEquals(new float[] {3, 4, 5, 6, 7, 8}, rows.get(1).toFloatArray());
    }

    @Test
    void allReduceSumsIntoEveryDevice() {
        List<Tensor> out = comm.allReduceSum(List.of(on(0, Shape.of(3), 1, 2, 3), on(1, Shape.of(3), 10, 20, 30),
                on(2, Shape.of(3), 100, 200, 300)));
        for (int i = 0; i < 3; i++) {
            assertArrayEquals(new float[] {111, 222, 333}, out.get(i).toFloatArray());
            assertEquals(DeviceRef.cpu(i), out.get(i).device());
        }
    }

    @Test
    void rejectsWhatMaxRejects() {
        Tensor a = on(0, Shape.of(2, 2));
        assertTrue(assertThrows(ConfigException.class,
                () -> comm.allReduceSum(List.of(a, on(0, Shape.of(2, 2))))).getMessage().contains("twice"));
        assertThrows(ConfigException.class, () -> comm.allReduceSum(List.of(a, on(1, Shape.of(4)))));
        assertThrows(ConfigException.class, () -> comm.allGather(List.of(a, on(1, Shape.of(3, 3))), 0));
        assertThrows(ConfigException.class, () -> comm.allGather(List.of(a, on(1, Shape.of(2, 2))), 2));
        assertThrows(ConfigException.class, () -> comm.allGather(List.of(a, on(1, Shape.of(4))), 0));
        assertThrows(ConfigException.class,
                () -> comm.allGather(List.of(a, Tensor.allocate(DType.BF16, Shape.of(2, 2), DeviceRef.cpu(1))), 0));
        assertEquals(List.of(a), comm.allGather(List.of(a), 0));
    }

    @Test
    void reduceScatterSplitsTheSumUnevenlyLikeMax() {
        List<Tensor> out = comm.reduceScatter(List.of(on(0, Shape.of(5), 1, 2, 3, 4, 5), on(1, Shape.of(5), 10, 20, 30, 40, 50)), 0);
        assertArrayEquals(new float[] {11, 22, 33}, out.get(0).toFloatArray());
        assertArrayEquals(new float[] {44, 55}, out.get(1).toFloatArray());
        assertEquals(DeviceRef.cpu(1), out.get(1).device());
    }

    @Test
    void broadcastCopiesTheRootEverywhere() {
        List<Tensor> out = comm.broadcast(List.of(on(0, Shape.of(2)), on(1, Shape.of(2), 7, 8), on(2, Shape.of(2))), 1);
        for (int i = 0; i < 3; i++) {
            assertArrayEquals(new float[] {7, 8}, out.get(i).toFloatArray());
            assertEquals(DeviceRef.cpu(i), out.get(i).device());
        }
        assertThrows(ConfigException.class, () -> comm.broadcast(List.of(on(0, Shape.of(2))), 1));
    }

    @Test
    void splitGivesTheFirstRemainderDevicesOneMore() {
        Split s = new Split(151674, 4);
        assertEquals(List.of(37919, 37919, 37918, 37918), java.util.stream.IntStream.range(0, 4).map(s::length).boxed().toList());
        assertEquals(0, s.start(0));
        assertEquals(75838, s.start(2));
        assertEquals(151674, s.end(3));
        Split t = new Split(1000, 3);
        assertEquals(334, t.length(0));
        assertEquals(333, t.length(2));
        assertThrows(ConfigException.class, () -> new Split(4, 0));
    }
}
