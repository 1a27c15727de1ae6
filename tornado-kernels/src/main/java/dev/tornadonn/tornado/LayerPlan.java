package dev.tornadonn.tornado;

import static dev.tornadonn.twins.KernelGeometry.GEMV_THREADS;
import static dev.tornadonn.twins.KernelGeometry.TILE;

import dev.tornadonn.core.Tensor;
import dev.tornadonn.core.TornadoNnException;
import dev.tornadonn.twins.HalfDecode;
import dev.tornadonn.twins.KernelGeometry;
import dev.tornadonn.twins.QuantDecode;
import dev.tornadonn.twins.QuantLayout;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import uk.ac.manchester.tornado.api.DataRange;
import uk.ac.manchester.tornado.api.GridScheduler;
import uk.ac.manchester.tornado.api.KernelContext;
import uk.ac.manchester.tornado.api.TaskGraph;
import uk.ac.manchester.tornado.api.TornadoExecutionPlan;
import uk.ac.manchester.tornado.api.WorkerGrid2D;
import uk.ac.manchester.tornado.api.common.TornadoDevice;
import uk.ac.manchester.tornado.api.enums.DataTransferMode;
import uk.ac.manchester.tornado.api.enums.TornadoVMBackendType;
import uk.ac.manchester.tornado.api.exceptions.TornadoExecutionPlanException;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

/**
 * One layer's forward as a single TornadoVM task graph on one device, for up to {@code capacity}
 * rows: a chain of products ({@link Stage}s), each run by the GEMV kernel when there are few rows
 * and by the tiled GEMM otherwise. Both kernels of a stage are in the graph; the one not wanted
 * gets zero rows and a one-group grid, so a single plan, with its weights uploaded once
 * ({@code FIRST_EXECUTION}), serves every row count. Intermediates between stages never leave the
 * device; only x goes in and y comes out on each call.
 */
final class LayerPlan implements AutoCloseable {
    private static final java.util.concurrent.atomic.AtomicLong IDS = new java.util.concurrent.atomic.AtomicLong();

    /** One product {@code out = epilogue(in · Wᵀ)} with {@code n} outputs per row ({@code 2n} weight rows when gated). */
    record Stage(DeviceWeight weight, FloatArray bias, int n, int act, boolean gated) {
        int k() {
            return weight.cols();
        }
    }

    private final int capacity;
    private final int inDim;
    private final int outDim;
    private final FloatArray x;
    private final FloatArray y;
    private final IntArray gemvRows = new IntArray(1);
    private final IntArray gemmRows = new IntArray(1);
    private final IntArray allRows = new IntArray(1);
    private final List<Stage> stages;
    private final List<WorkerGrid2D> gemvGrids = new ArrayList<>();
    private final List<WorkerGrid2D> gemmGrids = new ArrayList<>();
    /** The fp8 input kernels' grids, per stage (null for stages without them), and their segment counts. */
    private final List<WorkerGrid2D> inputGrids = new ArrayList<>();
    private final List<Integer> inputSegments = new ArrayList<>();
    private final TornadoExecutionPlan plan;

    LayerPlan(TornadoDevice device, int capacity, List<Stage> stages) {
        this.capacity = capacity;
        this.stages = List.copyOf(stages);
        this.inDim = stages.getFirst().k();
        this.outDim = stages.getLast().n();
        // TornadoVM arrays are int-indexed: a batch too large for one is an error, never a wrapped size.
        this.x = new FloatArray(Math.max(1, Math.multiplyExact(capacity, inDim)));
        this.y = new FloatArray(Math.max(1, Math.multiplyExact(capacity, outDim)));
        String name = "layer" + IDS.incrementAndGet();
        FloatArray powers = FloatArray.fromArray(HalfDecode.powerTable());
        FloatArray fp8Table = FloatArray.fromArray(QuantDecode.fp8Table());
        KernelContext context = new KernelContext();
        GridScheduler grids = new GridScheduler();
        TaskGraph graph = new TaskGraph(name).transferToDevice(DataTransferMode.FIRST_EXECUTION, powers, fp8Table);
        graph.transferToDevice(DataTransferMode.EVERY_EXECUTION, x, gemvRows, gemmRows, allRows);
        FloatArray in = x;
        for (int s = 0; s < stages.size(); s++) {
            Stage st = stages.get(s);
            FloatArray out = s == stages.size() - 1 ? y : new FloatArray(Math.max(1, Math.multiplyExact(capacity, st.n())));
            FloatArray bias = st.bias() != null ? st.bias() : new FloatArray(1);
            if (out != y) {
                graph.transferToDevice(DataTransferMode.FIRST_EXECUTION, out); // allocated once, stays on the device
            }
            int gated = st.gated() ? 1 : 0;
            int hasBias = st.bias() != null ? 1 : 0;
            WorkerGrid2D inputGrid = null;
            int segments = 0;
            switch (st.weight()) {
                case ResidentWeight w -> {
                    graph.transferToDevice(DataTransferMode.FIRST_EXECUTION, w.f32(), w.half(), bias);
                    graph.task("gemv" + s, DeviceKernels::gemv, context, in, gemvRows, w.f32(), w.half(), powers, bias, out,
                            w.format(), st.n(), st.k(), st.act(), gated, hasBias);
                    graph.task("gemm" + s, DeviceKernels::gemm, context, in, gemmRows, w.f32(), w.half(), powers, bias, out,
                            w.format(), st.n(), st.k(), st.act(), gated, hasBias);
                }
                case QuantWeight w -> {
                    QuantLayout l = w.layout();
                    graph.transferToDevice(DataTransferMode.FIRST_EXECUTION, w.codes(), w.scales(), w.zeros(), w.groupOf(),
                            w.groupBase(), w.inputParams(), bias);
                    FloatArray xq = in;
                    if (l.fp8() && l.inputMode() != QuantDecode.INPUT_NONE) {
                        // x quantised on the device into xq (as xq·s), which the product then reads;
                        // a weight-only layer's product reads x itself
                        segments = l.inputSegments();
                        FloatArray amax = new FloatArray(Math.max(1, Math.multiplyExact(capacity, segments)));
                        xq = new FloatArray(Math.max(1, Math.multiplyExact(capacity, st.k())));
                        graph.transferToDevice(DataTransferMode.FIRST_EXECUTION, amax, xq);
                        inputGrid = new WorkerGrid2D(GEMV_THREADS, 1);
                        if (l.inputMode() != QuantDecode.INPUT_STATIC) {
                            graph.task("amax" + s, QuantKernels::fp8Amax, context, in, allRows, amax, st.k(), l.inputBlock(),
                                    segments);
                            grids.addWorkerGrid(name + ".amax" + s, inputGrid);
                        }
                        graph.task("quant" + s, QuantKernels::fp8Quantise, context, in, allRows, amax, w.inputParams(), xq,
                                st.k(), l.inputBlock(), segments, l.inputMode(), l.inputFormat());
                        grids.addWorkerGrid(name + ".quant" + s, inputGrid);
                    }
                    graph.task("gemv" + s, QuantKernels::qgemv, context, xq, gemvRows, w.codes(), fp8Table, w.scales(),
                            w.zeros(), w.groupOf(), w.groupBase(), bias, out, l.format(), st.n(), st.k(), st.act(), gated,
                            hasBias, l.bits(), l.wordsPerRow(), l.groups());
                    graph.task("gemm" + s, QuantKernels::qgemm, context, xq, gemmRows, w.codes(), fp8Table, w.scales(),
                            w.zeros(), w.groupOf(), w.groupBase(), bias, out, l.format(), st.n(), st.k(), st.act(), gated,
                            hasBias, l.bits(), l.wordsPerRow(), l.groups());
                }
            }
            inputGrids.add(inputGrid);
            inputSegments.add(segments);
            WorkerGrid2D gemv = new WorkerGrid2D(GEMV_THREADS, 1);
            WorkerGrid2D gemm = new WorkerGrid2D(TILE, TILE);
            grids.addWorkerGrid(name + ".gemv" + s, gemv);
            grids.addWorkerGrid(name + ".gemm" + s, gemm);
            gemvGrids.add(gemv);
            gemmGrids.add(gemm);
            in = out;
        }
        // Only the rows in hand come back: y is copied out on demand, by range, after each run.
        graph.transferToHost(DataTransferMode.UNDER_DEMAND, y);
        // IEEE arithmetic, not TornadoVM's default -cl-fast-relaxed-math: its finite-math assumption
        // breaks the NaN and infinity weights decode to, and mad() would round differently from fma.
        // Divisions correctly rounded: the fp8 input scale min(amax, ub)/FMAX and its reciprocal must
        // equal the host's to the bit, or an input on a rounding tie may quantise differently.
        this.plan = new TornadoExecutionPlan(graph.snapshot()).withDevice(device).withGridScheduler(grids)
                .withCompilerFlags(TornadoVMBackendType.OPENCL, "-w -cl-fp32-correctly-rounded-divide-sqrt");
    }

    int capacity() {
        return capacity;
    }

    /** Runs the layer on {@code x2d}'s rows (F32 {@code (m, in)}, m ≤ capacity) into {@code y2d} (F32 {@code (m, out)}). */
    synchronized void run(Tensor x2d, Tensor y2d) {
        int m = x2d.shape().dim(0);
        if (m > capacity) {
            throw new IllegalStateException(m + " rows exceed this plan's capacity " + capacity);
        }
        if (m == 0) {
            return;
        }
        boolean gemv = KernelGeometry.usesGemv(m);
        gemvRows.set(0, gemv ? m : 0);
        gemmRows.set(0, gemv ? 0 : m);
        allRows.set(0, m);
        for (int s = 0; s < stages.size(); s++) {
            int n = stages.get(s).n();
            // The kernel not wanted gets one work-group and zero rows. Local work is set again after
            // the global size: TornadoVM derives the work-group count from both when it is set.
            gemvGrids.get(s).setGlobalWork(gemv ? (long) n * GEMV_THREADS : GEMV_THREADS, gemv ? m : 1, 1);
            gemvGrids.get(s).setLocalWork(GEMV_THREADS, 1, 1);
            gemmGrids.get(s).setGlobalWork(gemv ? TILE : KernelGeometry.gemmGlobal(n), gemv ? TILE : KernelGeometry.gemmGlobal(m), 1);
            gemmGrids.get(s).setLocalWork(TILE, TILE, 1);
            WorkerGrid2D input = inputGrids.get(s);
            if (input != null) {
                input.setGlobalWork((long) inputSegments.get(s) * GEMV_THREADS, m, 1);
                input.setLocalWork(GEMV_THREADS, 1, 1);
            }
        }
        long inBytes = (long) m * inDim * Float.BYTES;
        MemorySegment.copy(x2d.data(), 0, x.getSegment(), 0, inBytes);
        long outElements = (long) m * outDim;
        try {
            plan.execute().transferToHost(new DataRange(y).withSize(outElements));
        } catch (RuntimeException e) {
            throw new TornadoNnException("TornadoVM failed to run " + describe() + " on " + m + " rows: "
                    + TornadoMessages.firstLines(e), e);
        }
        MemorySegment.copy(y.getSegment(), 0, y2d.data(), 0, outElements * Float.BYTES);
    }

    private String describe() {
        return stages.size() == 1 ? "a linear layer (" + inDim + " -> " + outDim + ")"
                : "an MLP (" + inDim + " -> " + stages.getFirst().n() + " -> " + outDim + ")";
    }

    @Override
    public synchronized void close() {
        try {
            plan.freeDeviceMemory();
            plan.close();
        } catch (TornadoExecutionPlanException e) {
            throw new TornadoNnException("could not release a TornadoVM plan: " + e.getMessage(), e);
        }
    }
}
