package dev.tornadonn.layers.sharding;

import dev.tornadonn.core.ConfigException;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tornadonn.core.DType;
import dev.tornadonn.core.Shape;
import dev.tornadonn.core.Tensor;
import dev.tornadonn.layers.sharding.ShardingStrategy.GateUp;
import dev.tornadonn.layers.sharding.ShardingStrategy.HeadAwareColumnWise;
import dev.tornadonn.layers.sharding.ShardingStrategy.StackedQkv;
import dev.tornadonn.layers.sharding.ShardingStrategy.TensorParallel;
import org.junit.jupiter.api.Test;

/** The strategies on small tensors whose every element names its row (and column). */
class ShardingStrategyTest {

    /** rows × cols, element (r, c) = 1000·r + c. */
    private static Tensor grid(int rows, int cols) {
        float[] v = new float[rows * cols];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                v[r * cols + c] = 1000 * r + c;
            }
        }
        return Tensor.of(DType.F32, Shape.of(rows, cols), v);
    }

    private static float[] rowsOf(Tensor t) {
        float[] out = new float[t.shape().dim(0)];
        for (int r = 0; r < out.length; r++) {
            out[r] = (float) Math.floor(t.getFloat((long) r * t.shape().dim(1)) / 1000);
        }
        return out;
    }

    @Test
    void rowwiseFollowsMaxsUnevenSplit() {
        Tensor w = grid(10, 2);
        ShardingStrategy s = ShardingStrategy.rowwise(3);
        assertArrayEquals(new float[] {0, 1, 2, 3}, rowsOf(s.shard(w, 0)));
        assertArrayEquals(new float[] {4, 5, 6}, rowsOf(s.shard(w, 1)));
        assertArrayEquals(new float[] {7, 8, 9}, rowsOf(s.shard(w, 2)));
        assertEquals(Shape.of(3), s.shardBias(Tensor.allocate(DType.F32, Shape.of(10)), 2).shape());
        assertEquals(Shape.of(0, 2), ShardingStrategy.rowwise(4).shard(grid(2, 2), 3).shape());
    }

    @Test
    void columnwiseSplitsInputsAndKeepsTheBiasOnShardZero() {
        Tensor w = grid(2, 7);
        ShardingStrategy s = ShardingStrategy.columnwise(2);
        assertArrayEquals(new float[] {0, 1, 2, 3, 1000, 1001, 1002, 1003}, s.shard(w, 0).toFloatArray());
        Tensor b = Tensor.allocate(DType.F32, Shape.of(2));
        assertSame(b, s.shardBias(b, 0));
        assertNull(s.shardBias(b, 1));
        assertTrue(s.splitsInput());
    }

    @Test
    void stackedQkvWithGroupedQueryAttentionSplitsKvHeadsWhenTheyAreEnough() {
        // 4 query heads, 2 KV heads, head_dim 1: rows [q0 q1 q2 q3 | k0 k1 | v0 v1]
        Tensor w = grid(8, 1);
        StackedQkv s = new StackedQkv(2, 4, 2, 1);
        assertArrayEquals(new float[] {0, 1, 4, 6}, rowsOf(s.shard(w, 0)));
        assertArrayEquals(new float[] {2, 3, 5, 7}, rowsOf(s.shard(w, 1)));
        assertArrayEquals(new float[] {2, 3, 5, 7}, rowsOf(s.shardBias(grid(8, 1), 1)), "the bias is sharded like the rows");
    }

    @Test
    void stackedQkvReplicatesKvHeadsWhenDevicesOutnumberThem() {
        Tensor w = grid(8, 1); // 4 query heads, 2 KV heads over 4 devices: each KV head on two devices
        StackedQkv s = new StackedQkv(4, 4, 2, 1);
        assertArrayEquals(new float[] {0, 4, 6}, rowsOf(s.shard(w, 0)));
        assertArrayEquals(new float[] {1, 4, 6}, rowsOf(s.shard(w, 1)));
        assertArrayEquals(new float[] {2, 5, 7}, rowsOf(s.shard(w, 2)));
        assertArrayEquals(new float[] {3, 5, 7}, rowsOf(s.shard(w, 3)));
    }

    @Test
    void stackedQkvWithoutGqaMatchesMaxsExample() {
        // 8 heads of head_dim 1 over 3 devices: heads 3, 3, 2; device 0 gets [Q 0:3 | K 0:3 | V 0:3]
        Tensor w = grid(24, 1);
        StackedQkv s = StackedQkv.of(3, 8, 1);
        assertArrayEquals(new float[] {0, 1, 2, 8, 9, 10, 16, 17, 18}, rowsOf(s.shard(w, 0)));
        assertArrayEquals(new float[] {6, 7, 14, 15, 22, 23}, rowsOf(s.shard(w, 2)));
        assertThrows(ConfigException.class, () -> s.shard(grid(23, 1), 0));
        assertThrows(ConfigException.class, () -> new StackedQkv(3, 8, 2, 1), "GQA heads must divide evenly");
    }

    @Test
    void headAwareColumnwiseCutsWholeHeads() {
        Tensor w = grid(1, 6); // 3 heads of 2 columns over 2 devices: heads 2, 1
        HeadAwareColumnWise s = new HeadAwareColumnWise(2, 3, 2);
        assertArrayEquals(new float[] {0, 1, 2, 3}, s.shard(w, 0).toFloatArray());
        assertArrayEquals(new float[] {4, 5}, s.shard(w, 1).toFloatArray());
    }

    @Test
    void gateUpTakesTheSameSliceOfBothHalves() {
        Tensor w = grid(8, 1); // gate rows 0-3, up rows 4-7, over 2 devices
        GateUp s = new GateUp(2, 0);
        assertArrayEquals(new float[] {0, 1, 4, 5}, rowsOf(s.shard(w, 0)));
        assertArrayEquals(new float[] {2, 3, 6, 7}, rowsOf(s.shard(w, 1)));
        assertThrows(ConfigException.class, () -> s.shard(grid(7, 1), 0));
    }

    @Test
    void placeholdersAndBadArgumentsAreClearErrors() {
        assertThrows(UnsupportedOperationException.class, () -> new TensorParallel(2).shard(grid(2, 2), 0));
        assertThrows(ConfigException.class, () -> ShardingStrategy.rowwise(0));
        assertThrows(ConfigException.class, () -> ShardingStrategy.replicate(2).shard(grid(2, 2), 2));
        assertThrows(ConfigException.class, () -> ShardingStrategy.columnwise(2).shard(Tensor.allocate(DType.F32, Shape.of(4)), 0));
    }
}
