package dev.tornadonn.parallel.nccl;

import dev.tornadonn.core.ConfigException;
import dev.tornadonn.core.DType;
import dev.tornadonn.core.DeviceRef;
import dev.tornadonn.core.Shape;
import dev.tornadonn.core.Tensor;
import dev.tornadonn.parallel.Communicator;
import dev.tornadonn.parallel.HostCommunicator;
import dev.tornadonn.parallel.CollectiveChecks;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.function.IntConsumer;
import org.bytedeco.cuda.global.nccl;
import org.bytedeco.cuda.nccl.ncclComm;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.PointerPointer;

/**
 * Collectives across the GPUs of one process, one NCCL communicator per device ({@code gpu:i} is
 * CUDA device {@code i}). Inputs must be on exactly this communicator's devices, in its order.
 * Data is host-staged; sums are taken in f32 (converted on the host), as {@link HostCommunicator} does.
 * After any failure every communicator is aborted and this object refuses further work.
 */
public final class NcclCommunicator implements Communicator {
    private final List<DeviceRef> devices;
    private final List<DeviceComm> ranks;
    private final NcclVersion version;
    private String brokenBy;

    private NcclCommunicator(List<DeviceRef> devices, List<DeviceComm> ranks, NcclVersion version) {
        this.devices = devices;
        this.ranks = ranks;
        this.version = version;
    }

    /** Opens one communicator per device with {@code ncclCommInitAll}; throws {@link NcclException} if NCCL is unusable. */
    public static NcclCommunicator open(List<DeviceRef> devices) {
        NcclSupport.Available nccl = NcclSupport.require();
        if (devices.isEmpty()) {
            throw new ConfigException("an NCCL communicator needs at least one device");
        }
        if (new HashSet<>(devices).size() != devices.size()) {
            throw new ConfigException("devices " + devices + " repeat one; each rank needs its own GPU");
        }
        int[] cuda = new int[devices.size()];
        for (int i = 0; i < cuda.length; i++) {
            DeviceRef d = devices.get(i);
            if (d.isCpu() || d.id() >= nccl.gpuCount()) {
                throw new ConfigException("NCCL needs GPU devices gpu:0..gpu:" + (nccl.gpuCount() - 1) + ", got " + d);
            }
            cuda[i] = d.id();
        }
        NcclCall.COMM_INIT_ALL.requireIn(nccl.version());
        PointerPointer<ncclComm> comms = new PointerPointer<>(cuda.length);
        Checks.nccl(org.bytedeco.cuda.global.nccl.ncclCommInitAll(comms, cuda.length, cuda), "ncclCommInitAll" + devices);
        List<DeviceComm> ranks = new ArrayList<>();
        for (int i = 0; i < cuda.length; i++) {
            ranks.add(new DeviceComm(cuda[i], new ncclComm(comms.get(i)), nccl.version()));
        }
        return new NcclCommunicator(List.copyOf(devices), List.copyOf(ranks), nccl.version());
    }

    @Override
    public String name() {
        return "nccl";
    }

    public List<DeviceRef> devices() {
        return devices;
    }

    @Override
    public List<Tensor> allGather(List<Tensor> inputs, int axis) {
        requireOurDevices(inputs);
        if (inputs.size() < 2) {
            return List.copyOf(inputs);
        }
        int ax = CollectiveChecks.gatherAxis(inputs, axis);
        long[] bytes = new long[inputs.size()];
        long total = 0;
        boolean even = true;
        for (int i = 0; i < bytes.length; i++) {
            bytes[i] = inputs.get(i).data().byteSize();
            total += bytes[i];
            even &= bytes[i] == bytes[0];
        }
        List<Tensor> flat = new ArrayList<>();
        for (int i = 0; i < inputs.size(); i++) {
            flat.add(Tensor.allocate(DType.U8, Shape.of(total), inputs.get(i).device()));
        }
        long[] offsets = new long[bytes.length];
        for (int i = 1; i < bytes.length; i++) {
            offsets[i] = offsets[i - 1] + bytes[i - 1];
        }
        if (total > 0) {
            List<BytePointer> send = uploadAll(inputs);
            List<BytePointer> recv = allocateAll(total);
            try {
                if (even) {
                    NcclCall.ALL_GATHER.requireIn(version);
                    group("allGather", r -> Checks.nccl(nccl.ncclAllGather(send.get(r), recv.get(r), bytes[0], nccl.ncclUint8,
                            ranks.get(r).comm(), ranks.get(r).stream()), "ncclAllGather"));
                } else {
                    // NCCL's all-gather needs equal counts; MAX allows uneven ones, so one broadcast per root.
                    NcclCall.BROADCAST.requireIn(version);
                    group("allGather", r -> {
                        for (int root = 0; root < bytes.length; root++) {
                            if (bytes[root] > 0) {
                                BytePointer at = new BytePointer(recv.get(r)).position(offsets[root]);
                                Checks.nccl(nccl.ncclBroadcast(send.get(r), at, bytes[root], nccl.ncclUint8, root,
                                        ranks.get(r).comm(), ranks.get(r).stream()), "ncclBroadcast");
                            }
                        }
                    });
                }
                downloadAll(recv, flat);
            } finally {
                freeAll(send);
                freeAll(recv);
            }
        }
        // Each device's bytes are the inputs back to back; lay them out along the axis on the host.
        List<Tensor> out = new ArrayList<>();
        for (int d = 0; d < inputs.size(); d++) {
            List<Tensor> parts = new ArrayList<>();
            for (int i = 0; i < inputs.size(); i++) {
                Tensor in = inputs.get(i);
                parts.add(new Tensor(in.shape(), in.dtype(), DeviceRef.cpu(i),
                        flat.get(d).data().asSlice(offsets[i], bytes[i])));
            }
            Tensor joined = new HostCommunicator().allGather(parts, ax).get(0);
            out.add(new Tensor(joined.shape(), joined.dtype(), inputs.get(d).device(), joined.data()));
        }
        return List.copyOf(out);
    }

    @Override
    public List<Tensor> allReduceSum(List<Tensor> inputs) {
        requireOurDevices(inputs);
        if (inputs.isEmpty()) {
            return List.of();
        }
        CollectiveChecks.sameShapeFloat(inputs);
        DType dtype = inputs.get(0).dtype();
        List<Tensor> f32 = new ArrayList<>();
        for (Tensor t : inputs) {
            f32.add(t.toDType(DType.F32)); // accumulate in f32 whatever the dtype, as the contract says
        }
        List<Tensor> sums = new ArrayList<>();
        for (Tensor t : f32) {
            sums.add(Tensor.allocate(DType.F32, t.shape(), t.device()));
        }
        long count = inputs.get(0).numel();
        if (count > 0) {
            NcclCall.ALL_REDUCE.requireIn(version);
            List<BytePointer> send = uploadAll(f32);
            List<BytePointer> recv = allocateAll(count * 4);
            try {
                group("allReduceSum", r -> Checks.nccl(nccl.ncclAllReduce(send.get(r), recv.get(r), count, nccl.ncclFloat32,
                        nccl.ncclSum, ranks.get(r).comm(), ranks.get(r).stream()), "ncclAllReduce"));
                downloadAll(recv, sums);
            } finally {
                freeAll(send);
                freeAll(recv);
            }
        }
        List<Tensor> out = new ArrayList<>();
        for (Tensor s : sums) {
            out.add(s.toDType(dtype));
        }
        return List.copyOf(out);
    }

    @Override
    public List<Tensor> broadcast(List<Tensor> inputs, int root) {
        requireOurDevices(inputs);
        CollectiveChecks.root(inputs, root);
        Tensor source = inputs.get(root);
        List<Tensor> out = new ArrayList<>();
        for (Tensor t : inputs) {
            out.add(Tensor.allocate(source.dtype(), source.shape(), t.device()));
        }
        long bytes = source.data().byteSize();
        if (bytes > 0) {
            NcclCall.BROADCAST.requireIn(version);
            BytePointer send = ranks.get(root).upload(source.data());
            List<BytePointer> recv = allocateAll(bytes);
            try {
                group("broadcast", r -> Checks.nccl(nccl.ncclBroadcast(r == root ? send : recv.get(r), recv.get(r), bytes,
                        nccl.ncclUint8, root, ranks.get(r).comm(), ranks.get(r).stream()), "ncclBroadcast"));
                downloadAll(recv, out);
            } finally {
                ranks.get(root).free(send);
                freeAll(recv);
            }
        }
        return List.copyOf(out);
    }

    @Override
    public synchronized void close() {
        if (brokenBy == null) {
            brokenBy = "closed";
            for (DeviceComm r : ranks) {
                r.destroy();
            }
        }
    }

    /** Enqueues one call per rank inside an NCCL group, waits, and checks for asynchronous errors. */
    private synchronized void group(String op, IntConsumer perRank) {
        if (brokenBy != null) {
            throw new IllegalStateException("this NCCL communicator is unusable: " + brokenBy);
        }
        try {
            NcclCall.GROUP_START_END.requireIn(version);
            Checks.nccl(nccl.ncclGroupStart(), op + ": ncclGroupStart");
            try {
                for (int r = 0; r < ranks.size(); r++) {
                    perRank.accept(r);
                }
            } finally {
                Checks.nccl(nccl.ncclGroupEnd(), op + ": ncclGroupEnd");
            }
            for (DeviceComm r : ranks) {
                r.synchronizeAndCheck(op);
            }
        } catch (NcclException e) {
            brokenBy = e.getMessage();
            for (DeviceComm r : ranks) {
                try {
                    r.abort();
                } catch (RuntimeException suppressed) {
                    e.addSuppressed(suppressed);
                }
            }
            throw e;
        }
    }

    private List<BytePointer> uploadAll(List<Tensor> tensors) {
        List<BytePointer> out = new ArrayList<>();
        try {
            for (int r = 0; r < ranks.size(); r++) {
                out.add(ranks.get(r).upload(tensors.get(r).data()));
            }
        } catch (RuntimeException e) {
            freeAll(out);
            throw e;
        }
        return out;
    }

    private List<BytePointer> allocateAll(long bytes) {
        List<BytePointer> out = new ArrayList<>();
        try {
            for (DeviceComm r : ranks) {
                out.add(r.allocate(bytes));
            }
        } catch (RuntimeException e) {
            freeAll(out);
            throw e;
        }
        return out;
    }

    private void downloadAll(List<BytePointer> device, List<Tensor> host) {
        for (int r = 0; r < ranks.size(); r++) {
            ranks.get(r).download(device.get(r), host.get(r).data());
        }
    }

    private void freeAll(List<BytePointer> device) {
        for (int r = 0; r < device.size(); r++) {
            ranks.get(r).free(device.get(r));
        }
    }

    private void requireOurDevices(List<Tensor> inputs) {
        List<DeviceRef> got = inputs.stream().map(Tensor::device).toList();
        if (!got.equals(devices)) {
            throw new ConfigException("this NCCL communicator serves " + devices + " in that order; got tensors on " + got);
        }
    }
}
