package dev.tornadonn.layers.quant;

import dev.tornadonn.core.Shape;
import dev.tornadonn.core.Tensor;
import dev.tornadonn.core.quant.Fp8InputQuantization;
import dev.tornadonn.core.quant.Fp8Matrix;
import dev.tornadonn.core.quant.Fp8WeightScale;
import dev.tornadonn.core.quant.GroupQuantizedMatrix;
import dev.tornadonn.layers.sharding.ShardingStrategy;

/**
 * Cuts quantised weights the way a {@link ShardingStrategy} cuts plain ones, scales and zero
 * points included. The strategy is applied to a tensor of row (or column) indices, so every
 * strategy's selection is followed exactly; scales that cannot follow it (an fp8 block straddling
 * two shards, an input quantisation that would see only part of a row) are refused, never
 * silently misaligned. GPTQ shards need no alignment: they are cut in the unpacked form.
 */
final class QuantizedSharding {
    private QuantizedSharding() {}

    /** The rows (or, for input-splitting strategies, the columns) shard {@code i} keeps, in order. */
    static int[] selection(ShardingStrategy s, int rows, int cols, int i) {
        boolean byColumn = s.splitsInput();
        int size = byColumn ? cols : rows;
        int[] index = new int[size];
        for (int j = 0; j < size; j++) {
            index[j] = j;
        }
        Tensor picked = s.shard(Tensor.ofInts(byColumn ? Shape.of(1, size) : Shape.of(size, 1), index), i);
        return picked.toIntArray();
    }

    static GroupQuantizedMatrix shard(GroupQuantizedMatrix m, ShardingStrategy s, int i) {
        int[] sel = selection(s, m.rows(), m.cols(), i);
        if (s.splitsInput()) {
            byte[] codes = new byte[m.rows() * sel.length];
            int[] groupOf = new int[sel.length];
            for (int c = 0; c < sel.length; c++) {
                groupOf[c] = m.groupOf()[sel[c]];
                for (int r = 0; r < m.rows(); r++) {
                    codes[r * sel.length + c] = m.codes()[r * m.cols() + sel[c]];
                }
            }
            // Act-order groups are scattered over K, so every shard keeps every group's scale and zero.
            return new GroupQuantizedMatrix(m.rows(), sel.length, m.bits(), m.groups(), codes, m.scales(), m.zeros(), groupOf);
        }
        byte[] codes = new byte[sel.length * m.cols()];
        float[] scales = new float[sel.length * m.groups()];
        float[] zeros = new float[sel.length * m.groups()];
        for (int r = 0; r < sel.length; r++) {
            System.arraycopy(m.codes(), sel[r] * m.cols(), codes, r * m.cols(), m.cols());
            System.arraycopy(m.scales(), sel[r] * m.groups(), scales, r * m.groups(), m.groups());
            System.arraycopy(m.zeros(), sel[r] * m.groups(), zeros, r * m.groups(), m.groups());
        }
        return new GroupQuantizedMatrix(sel.length, m.cols(), m.bits(), m.groups(), codes, scales, zeros, m.groupOf());
    }

    static Fp8Matrix shard(Fp8Matrix m, ShardingStrategy s, int i) {
        int[] sel = selection(s, m.rows(), m.cols(), i);
        if (s.splitsInput()) {
            Fp8InputQuantization in = m.input();
            if (in instanceof Fp8InputQuantization.DynamicPerToken || in instanceof Fp8InputQuantization.DynamicPerTensor) {
                throw new IllegalArgumentException("an fp8 layer with " + in.getClass().getSimpleName()
                        + " inputs cannot split its input features: each shard would scale its own slice of x");
            }
            int start = contiguousStart(sel, "columns", i);
            if (in instanceof Fp8InputQuantization.DynamicBlock b && start % b.blockCols() != 0) {
                throw misaligned("input block", b.blockCols(), "columns", start, i);
            }
            byte[] codes = new byte[m.rows() * sel.length];
            for (int r = 0; r < m.rows(); r++) {
                System.arraycopy(m.codes(), r * m.cols() + start, codes, r * sel.length, sel.length);
            }
            Fp8WeightScale ws = switch (m.weightScale()) {
                case Fp8WeightScale.PerTensor t -> t;
                case Fp8WeightScale.PerRow r -> r;
                case Fp8WeightScale.Block b -> {
                    if (start % b.blockCols() != 0) {
                        throw misaligned("weight block", b.blockCols(), "columns", start, i);
                    }
                    yield blockColumns(b, m.rows(), m.cols(), start / b.blockCols(), sel.length);
                }
            };
            return new Fp8Matrix(m.rows(), sel.length, m.format(), codes, ws, in);
        }
        byte[] codes = new byte[sel.length * m.cols()];
        for (int r = 0; r < sel.length; r++) {
            System.arraycopy(m.codes(), sel[r] * m.cols(), codes, r * m.cols(), m.cols());
        }
        Fp8WeightScale ws = switch (m.weightScale()) {
            case Fp8WeightScale.PerTensor t -> t;
            case Fp8WeightScale.PerRow r -> {
                float[] scales = new float[sel.length];
                for (int j = 0; j < sel.length; j++) {
                    scales[j] = r.scales()[sel[j]];
                }
                yield new Fp8WeightScale.PerRow(scales);
            }
            case Fp8WeightScale.Block b -> {
                int start = contiguousStart(sel, "rows", i);
                if (start % b.blockRows() != 0) {
                    throw misaligned("weight block", b.blockRows(), "rows", start, i);
                }
                int kBlocks = (m.cols() + b.blockCols() - 1) / b.blockCols();
                int firstBlock = start / b.blockRows();
                int blocks = (sel.length + b.blockRows() - 1) / b.blockRows();
                float[] scales = new float[blocks * kBlocks];
                System.arraycopy(b.scales(), firstBlock * kBlocks, scales, 0, scales.length);
                yield new Fp8WeightScale.Block(b.blockRows(), b.blockCols(), scales);
            }
        };
        return new Fp8Matrix(sel.length, m.cols(), m.format(), codes, ws, m.input());
    }

    private static Fp8WeightScale.Block blockColumns(Fp8WeightScale.Block b, int rows, int cols, int firstBlock, int width) {
        int kBlocks = (cols + b.blockCols() - 1) / b.blockCols();
        int nBlocks = (rows + b.blockRows() - 1) / b.blockRows();
        int keep = (width + b.blockCols() - 1) / b.blockCols();
        float[] scales = new float[nBlocks * keep];
        for (int r = 0; r < nBlocks; r++) {
            System.arraycopy(b.scales(), r * kBlocks + firstBlock, scales, r * keep, keep);
        }
        return new Fp8WeightScale.Block(b.blockRows(), b.blockCols(), scales);
    }

    /** Block scales follow only a contiguous run; returns its start. */
    private static int contiguousStart(int[] sel, String what, int shard) {
        for (int j = 1; j < sel.length; j++) {
            if (sel[j] != sel[0] + j) {
                throw new IllegalArgumentException("fp8 block scales need each shard's " + what + " to be one contiguous "
                        + "run; shard " + shard + "'s are not");
            }
        }
        return sel.length == 0 ? 0 : sel[0];
    }

    private static IllegalArgumentException misaligned(String what, int block, String axis, int start, int shard) {
        return new IllegalArgumentException("shard " + shard + " starts at " + axis + " " + start + ", inside a " + what
                + " of " + block + ": its " + axis + " would be paired with the wrong scales");
    }
}
