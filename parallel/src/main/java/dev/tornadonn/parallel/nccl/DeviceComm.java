package dev.tornadonn.parallel.nccl;

import dev.tornadonn.core.ConfigException;
import static org.bytedeco.cuda.global.cudart.cudaFree;
import static org.bytedeco.cuda.global.cudart.cudaMalloc;
import static org.bytedeco.cuda.global.cudart.cudaMemcpy;
import static org.bytedeco.cuda.global.cudart.cudaMemcpyDeviceToHost;
import static org.bytedeco.cuda.global.cudart.cudaMemcpyHostToDevice;
import static org.bytedeco.cuda.global.cudart.cudaSetDevice;
import static org.bytedeco.cuda.global.cudart.cudaStreamCreate;
import static org.bytedeco.cuda.global.cudart.cudaStreamDestroy;
import static org.bytedeco.cuda.global.cudart.cudaStreamSynchronize;

import java.lang.foreign.MemorySegment;
import java.lang.ref.Reference;
import org.bytedeco.cuda.cudart.CUstream_st;
import org.bytedeco.cuda.global.nccl;
import org.bytedeco.cuda.nccl.ncclComm;
import org.bytedeco.javacpp.BytePointer;

/**
 * One NCCL rank: its communicator, CUDA device and stream, and the host-staging copies.
 * Host-staged on purpose: tensors live in host memory, so each collective copies in, runs on the
 * device's stream and copies back.
 */
final class DeviceComm {
    final int cudaDevice;
    private final ncclComm comm;
    private final CUstream_st stream;
    private final NcclVersion version;

    DeviceComm(int cudaDevice, ncclComm comm, NcclVersion version) {
        this.cudaDevice = cudaDevice;
        this.comm = comm;
        this.version = version;
        select();
        CUstream_st s = new CUstream_st();
        Checks.cuda(cudaStreamCreate(s), "cudaStreamCreate on CUDA device " + cudaDevice);
        this.stream = s;
    }

    ncclComm comm() {
        return comm;
    }

    CUstream_st stream() {
        return stream;
    }

    void select() {
        Checks.cuda(cudaSetDevice(cudaDevice), "cudaSetDevice(" + cudaDevice + ")");
    }

    /** Device memory of {@code bytes} (at least one byte, so the pointer is never null). */
    BytePointer allocate(long bytes) {
        select();
        BytePointer p = new BytePointer();
        Checks.cuda(cudaMalloc(p, Math.max(bytes, 1)), "cudaMalloc(" + bytes + " bytes) on CUDA device " + cudaDevice);
        return p;
    }

    BytePointer upload(MemorySegment host) {
        BytePointer device = allocate(host.byteSize());
        if (host.byteSize() > 0) {
            BytePointer src = hostPointer(host);
            Checks.cuda(cudaMemcpy(device, src, host.byteSize(), cudaMemcpyHostToDevice), "cudaMemcpy host to device " + cudaDevice);
            Reference.reachabilityFence(host);
        }
        return device;
    }

    void download(BytePointer device, MemorySegment host) {
        if (host.byteSize() > 0) {
            select();
            Checks.cuda(cudaMemcpy(hostPointer(host), device, host.byteSize(), cudaMemcpyDeviceToHost),
                    "cudaMemcpy device " + cudaDevice + " to host");
            Reference.reachabilityFence(host);
        }
    }

    void free(BytePointer device) {
        if (device != null && !device.isNull()) {
            select();
            cudaFree(device); // best effort: a failed free must not hide the error that got us here
        }
    }

    /** Waits for this rank's work, then asks NCCL whether it failed asynchronously (e.g. a peer died). */
    void synchronizeAndCheck(String op) {
        select();
        Checks.cuda(cudaStreamSynchronize(stream), op + ": cudaStreamSynchronize on CUDA device " + cudaDevice);
        NcclCall.COMM_GET_ASYNC_ERROR.requireIn(version);
        int[] async = new int[1];
        Checks.nccl(nccl.ncclCommGetAsyncError(comm, async), op + ": ncclCommGetAsyncError");
        if (async[0] != nccl.ncclSuccess) {
            throw new NcclException(op + " on CUDA device " + cudaDevice + " failed asynchronously: " + Checks.ncclError(async[0]));
        }
    }

    /** Tears the communicator down without waiting for peers: the only safe end after an error. */
    void abort() {
        NcclCall.COMM_ABORT.requireIn(version);
        try {
            Checks.nccl(nccl.ncclCommAbort(comm), "ncclCommAbort on CUDA device " + cudaDevice); // callers keep it as suppressed
        } finally {
            destroyStream();
        }
    }

    void destroy() {
        NcclCall.COMM_DESTROY.requireIn(version);
        try {
            Checks.nccl(nccl.ncclCommDestroy(comm), "ncclCommDestroy on CUDA device " + cudaDevice);
        } finally {
            destroyStream();
        }
    }

    private void destroyStream() {
        select();
        cudaStreamDestroy(stream);
    }

    /** A pointer to native host memory (the tensor's own segment), for cudaMemcpy. */
    private static BytePointer hostPointer(MemorySegment host) {
        if (!host.isNative()) {
            throw new ConfigException("NCCL staging needs off-heap tensor memory");
        }
        return new BytePointer(host.asByteBuffer());
    }
}
