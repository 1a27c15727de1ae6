package dev.tornadonn.tornado;

import static dev.tornadonn.twins.KernelGeometry.GEMV_THREADS;
import static dev.tornadonn.twins.KernelGeometry.TILE;

import dev.tornadonn.core.Tensor;
import dev.tornadonn.core.TornadoNnException;
import dev.tornadonn.twins.KernelGeometry;
import dev.tornadonn.twins.QuantDecode;
import dev.tornadonn.twins.QuantLayout;
import dev.tornadonn.twins.WeightFormat;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import uk.ac.manchester.tornado.api.DataRange;
import uk.ac.manchester.tornado.api.GridScheduler;
import uk.ac.manchester.tornado.api.ImmutableTaskGraph;
import uk.ac.manchester.tornado.api.KernelContext;
import uk.ac.manchester.tornado.api.TaskGraph;
import uk.ac.manchester.tornado.api.TornadoExecutionPlan;
import uk.ac.manchester.tornado.api.TornadoExecutionResult;
import uk.ac.manchester.tornado.api.WorkerGrid2D;
import uk.ac.manchester.tornado.api.annotations.Parallel;
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
 * device; only x goes in and y comes out on each call, and only their M rows.
 *
 * <p>TornadoVM 5.2 copies a graph's input whole and has no partial host-to-device copy, so x
 * goes in through upload graphs, one per power of two of rows up to the capacity: each holds a
 * host array of that many rows, whose device copy is mapped onto the start of x's
 * ({@code mapOnDeviceMemoryRegion}). A call stages its rows in the smallest that holds them
 * and runs that graph, then the product's: M rows move when M is a power of two, fewer than 2M
 * otherwise, never the capacity. y comes back by range ({@code DataRange}).
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
    /** The input kernels' grids, per stage (null for stages without them), and their segment counts. */
    private final List<WorkerGrid2D> inputGrids = new ArrayList<>();
    private final List<Integer> inputSegments = new ArrayList<>();
    /** Upload graph b's host array (2^b rows, the last capped at the capacity) and whether it is mapped onto x yet. */
    private final List<FloatArray> uploads = new ArrayList<>();
    private final boolean[] mapped;
    private boolean allocated;
    /** Whether each graph has run once, its kernels compiled. */
    private final boolean[] compiled;
    /**
     * Held while any plan's graph runs for the first time: TornadoVM's compiler is not safe to
     * enter from two threads (a tensor-parallel layer's shards start together; seen as a
     * ConcurrentModificationException), nor is PoCL's kernel cache for two builds of one source
     * (a temporary file renamed away under the other).
     */
    private static final Object COMPILING = new Object();
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
        KernelContext context = new KernelContext();
        GridScheduler grids = new GridScheduler();
        TaskGraph graph = new TaskGraph(name);
        // each format's lookup table, uploaded once and shared by the stages that read it
        java.util.Map<Integer, FloatArray> tables = new java.util.HashMap<>();
        // x is only allocated here; its rows arrive through the upload graphs
        graph.transferToDevice(DataTransferMode.FIRST_EXECUTION, x);
        graph.transferToDevice(DataTransferMode.EVERY_EXECUTION, gemvRows, gemmRows, allRows);
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
            DeviceWeight w = st.weight();
            graph.transferToDevice(DataTransferMode.FIRST_EXECUTION, w.arrays());
            graph.transferToDevice(DataTransferMode.FIRST_EXECUTION, bias);
            FloatArray xq = in;
            if (w.quantisesInput()) {
                // x quantised on the device into xq (as its codes times their scale), which the
                // product then reads; a weight-only layer's product reads x itself
                QuantLayout l = w.layout();
                segments = l.inputSegments();
                xq = new FloatArray(Math.max(1, Math.multiplyExact(capacity, st.k())));
                graph.transferToDevice(DataTransferMode.FIRST_EXECUTION, xq);
                inputGrid = new WorkerGrid2D(GEMV_THREADS, 1);
                if (l.int8()) { // one work-group per row: its range, then its codes
                    graph.task("quant" + s, InputKernels::int8Quantise, context, in, allRows, w.inputParams(), xq, st.k(),
                            l.inputMode());
                } else {
                    FloatArray amax = new FloatArray(Math.max(1, Math.multiplyExact(capacity, segments)));
                    graph.transferToDevice(DataTransferMode.FIRST_EXECUTION, amax);
                    if (l.inputMode() != QuantDecode.INPUT_STATIC) {
                        graph.task("amax" + s, InputKernels::fp8Amax, context, in, allRows, amax, st.k(), l.inputBlock(), segments);
                        grids.addWorkerGrid(name + ".amax" + s, inputGrid);
                    }
                    graph.task("quant" + s, InputKernels::fp8Quantise, context, in, allRows, amax, w.inputParams(), xq, st.k(),
                            l.inputBlock(), segments, l.inputMode(), l.inputFormat());
                }
                grids.addWorkerGrid(name + ".quant" + s, inputGrid);
            }
            FloatArray table = tables.get(WeightFormat.table(w.format()));
            if (table == null) {
                table = FloatArray.fromArray(WeightFormat.tableValues(WeightFormat.table(w.format())));
                tables.put(WeightFormat.table(w.format()), table);
                graph.transferToDevice(DataTransferMode.FIRST_EXECUTION, table);
            }
            graph.task("gemv" + s, DeviceKernels::gemv, context, xq, gemvRows, w.f32(), w.half(), w.codes(), table, w.scales(),
                    w.zeros(), w.groupMap(), bias, out, w.format(), st.n(), st.k(), st.act(), gated, hasBias, w.bits(),
                    w.groups());
            graph.task("gemm" + s, DeviceKernels::gemm, context, xq, gemmRows, w.f32(), w.half(), w.codes(), table, w.scales(),
                    w.zeros(), w.groupMap(), bias, out, w.format(), st.n(), st.k(), st.act(), gated, hasBias, w.bits(),
                    w.groups());
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
        // Divisions correctly rounded: the fp8 input scale min(amax, ub)/FMAX and its reciprocal, and
        // int8's x/s, 127/max|x| and 1/s, must equal the host's to the bit, or an input on a rounding
        // tie may quantise differently.
        List<ImmutableTaskGraph> graphs = new ArrayList<>(List.of(graph.snapshot()));
        for (int rowsHeld = 1; uploads.isEmpty() || uploads.getLast().getSize() < (long) capacity * inDim; rowsHeld *= 2) {
            FloatArray staged = new FloatArray(Math.max(1, Math.multiplyExact(Math.min(rowsHeld, capacity), inDim)));
            uploads.add(staged);
            graphs.add(new TaskGraph(name + "in" + rowsHeld).transferToDevice(DataTransferMode.EVERY_EXECUTION, staged)
                    .task("upload", LayerPlan::upload, staged).snapshot());
        }
        this.mapped = new boolean[uploads.size()];
        this.compiled = new boolean[graphs.size()];
        this.plan = new TornadoExecutionPlan(graphs.toArray(ImmutableTaskGraph[]::new)).withDevice(device)
                .withGridScheduler(grids)
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
        int upload = 32 - Integer.numberOfLeadingZeros(m - 1); // the smallest power of two ≥ m
        long inBytes = (long) m * inDim * Float.BYTES;
        MemorySegment.copy(x2d.data(), 0, uploads.get(upload).getSegment(), 0, inBytes);
        long outElements = (long) m * outDim;
        try {
            if (!allocated) {
                // x must exist on the device before an upload array can be mapped onto it: a first run does no work
                gemvRows.set(0, 0);
                gemmRows.set(0, 0);
                allRows.set(0, 0);
                execute(0);
                allocated = true;
                gemvRows.set(0, gemv ? m : 0);
                gemmRows.set(0, gemv ? 0 : m);
                allRows.set(0, m);
            }
            if (!mapped[upload]) {
                plan.mapOnDeviceMemoryRegion(uploads.get(upload), x, 0, 0, upload + 1);
                mapped[upload] = true;
            }
            execute(upload + 1);
            execute(0).transferToHost(new DataRange(y).withSize(outElements));
        } catch (RuntimeException e) {
            throw new TornadoNnException("TornadoVM failed to run " + describe() + " on " + m + " rows: "
                    + TornadoMessages.firstLines(e), e);
        }
        MemorySegment.copy(y.getSegment(), 0, y2d.data(), 0, outElements * Float.BYTES);
    }

    /** Runs one graph of the plan; its first run, which compiles its kernels, one plan at a time. */
    private TornadoExecutionResult execute(int graph) {
        if (compiled[graph]) {
            return plan.withGraph(graph).execute();
        }
        synchronized (COMPILING) {
            TornadoExecutionResult r = plan.withGraph(graph).execute();
            compiled[graph] = true;
            return r;
        }
    }

    /**
     * The upload graphs' one task: TornadoVM runs a graph's copies only around a task. It rewrites
     * the first element with itself, which the copy has just written, so it changes nothing.
     */
    static void upload(FloatArray staged) {
        for (@Parallel int i = 0; i < 1; i++) {
            staged.set(i, staged.get(i));
        }
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
