package dev.tornadonn.parallel.nccl;

import dev.tornadonn.core.ConfigException;
import dev.tornadonn.core.DType;
import dev.tornadonn.core.Tensor;
import org.bytedeco.cuda.global.nccl;
import org.bytedeco.cuda.nccl.ncclComm;
import org.bytedeco.cuda.nccl.ncclUniqueId;
import org.bytedeco.javacpp.BytePointer;

/**
 * This process's rank in a torchrun-style world (one process per GPU, possibly across machines).
 * Every rank must make the same calls in the same order with tensors of the same shape and dtype:
 * NCCL cannot check that, and a mismatch hangs or corrupts. After a failure the rank is aborted.
 */
public final class NcclRank implements AutoCloseable {
    private final RendezvousConfig config;
    private final DeviceComm device;
    private final NcclVersion version;
    private String brokenBy;

    private NcclRank(RendezvousConfig config, DeviceComm device, NcclVersion version) {
        this.config = config;
        this.device = device;
        this.version = version;
    }

    /** Joins the world described by {@code RANK}, {@code WORLD_SIZE}, {@code MASTER_ADDR}, {@code MASTER_PORT}. */
    public static NcclRank join(RendezvousConfig config, int cudaDevice) {
        NcclSupport.Available nccl = NcclSupport.require();
        if (cudaDevice < 0 || cudaDevice >= nccl.gpuCount()) {
            throw new ConfigException("CUDA device " + cudaDevice + " is not one of the " + nccl.gpuCount() + " visible");
        }
        NcclCall.GET_UNIQUE_ID.requireIn(nccl.version());
        NcclCall.COMM_INIT_RANK.requireIn(nccl.version());
        byte[] idBytes = Rendezvous.exchange(config, () -> {
            ncclUniqueId id = new ncclUniqueId();
            Checks.nccl(org.bytedeco.cuda.global.nccl.ncclGetUniqueId(id), "ncclGetUniqueId");
            byte[] b = new byte[Rendezvous.ID_BYTES];
            for (int i = 0; i < b.length; i++) {
                b[i] = id.internal(i);
            }
            return b;
        });
        ncclUniqueId id = new ncclUniqueId();
        for (int i = 0; i < idBytes.length; i++) {
            id.internal(i, idBytes[i]);
        }
        Checks.cuda(org.bytedeco.cuda.global.cudart.cudaSetDevice(cudaDevice), "cudaSetDevice(" + cudaDevice + ")");
        ncclComm comm = new ncclComm();
        Checks.nccl(org.bytedeco.cuda.global.nccl.ncclCommInitRank(comm, config.worldSize(), id, config.rank()),
                "ncclCommInitRank(rank " + config.rank() + " of " + config.worldSize() + ", CUDA device " + cudaDevice + ")");
        return new NcclRank(config, new DeviceComm(cudaDevice, comm, nccl.version()), nccl.version());
    }

    public int rank() {
        return config.rank();
    }

    public int worldSize() {
        return config.worldSize();
    }

    /** The element-wise sum over all ranks, accumulated in f32 and stored in {@code t}'s dtype. */
    public Tensor allReduceSum(Tensor t) {
        if (!t.dtype().isFloatingPoint()) {
            throw new ConfigException("allReduceSum takes floating-point tensors, not " + t.dtype());
        }
        NcclCall.ALL_REDUCE.requireIn(version);
        Tensor f32 = t.toDType(DType.F32);
        Tensor sum = Tensor.allocate(DType.F32, t.shape(), t.device());
        run("allReduceSum", f32, sum, (send, recv) -> nccl.ncclAllReduce(send, recv, t.numel(), nccl.ncclFloat32,
                nccl.ncclSum, device.comm(), device.stream()));
        return sum.toDType(t.dtype());
    }

    /** Every rank's {@code t} (all the same shape) stacked along axis 0 in rank order. */
    public Tensor allGather(Tensor t) {
        NcclCall.ALL_GATHER.requireIn(version);
        int rows = t.shape().rank() == 0 ? 1 : t.shape().dim(0);
        Tensor out = Tensor.allocate(t.dtype(), (t.shape().rank() == 0 ? dev.tornadonn.core.Shape.of(1) : t.shape())
                .withFirst(Math.multiplyExact(rows, worldSize())), t.device());
        run("allGather", t, out, (send, recv) -> nccl.ncclAllGather(send, recv, t.data().byteSize(), nccl.ncclUint8,
                device.comm(), device.stream()));
        return out;
    }

    /** Rank {@code root}'s {@code t}; the other ranks pass a tensor of the same shape and dtype to receive into. */
    public Tensor broadcast(Tensor t, int root) {
        if (root < 0 || root >= worldSize()) {
            throw new ConfigException("broadcast root " + root + " outside [0, " + worldSize() + ")");
        }
        NcclCall.BROADCAST.requireIn(version);
        Tensor out = Tensor.allocate(t.dtype(), t.shape(), t.device());
        run("broadcast", t, out, (send, recv) -> nccl.ncclBroadcast(send, recv, t.data().byteSize(), nccl.ncclUint8,
                root, device.comm(), device.stream()));
        return out;
    }

    @Override
    public synchronized void close() {
        if (brokenBy == null) {
            brokenBy = "closed";
            device.destroy();
        }
    }

    private interface Op {
        int enqueue(BytePointer send, BytePointer recv);
    }

    private synchronized void run(String name, Tensor in, Tensor out, Op op) {
        if (brokenBy != null) {
            throw new IllegalStateException("NCCL rank " + rank() + " is unusable: " + brokenBy);
        }
        if (in.data().byteSize() == 0) {
            return; // every rank skips alike, since all pass the same shapes
        }
        BytePointer send = device.upload(in.data());
        BytePointer recv = null;
        try {
            recv = device.allocate(out.data().byteSize());
            Checks.nccl(op.enqueue(send, recv), name + " on rank " + rank());
            device.synchronizeAndCheck(name);
            device.download(recv, out.data());
        } catch (NcclException e) {
            brokenBy = e.getMessage();
            try {
                device.abort();
            } catch (RuntimeException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        } finally {
            device.free(send);
            device.free(recv);
        }
    }
}
