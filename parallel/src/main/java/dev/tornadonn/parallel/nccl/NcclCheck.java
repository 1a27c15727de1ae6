package dev.tornadonn.parallel.nccl;

import dev.tornadonn.core.ConfigException;
import dev.tornadonn.core.DType;
import dev.tornadonn.core.DeviceRef;
import dev.tornadonn.core.Shape;
import dev.tornadonn.core.Tensor;
import java.time.Duration;
import java.util.Arrays;

/**
 * The GPU smoke test {@code scripts/gpu-check.sh} runs. Modes: {@code detect} (exit 2 when NCCL is
 * unusable), {@code one-rank} (a one-rank world through the rendezvous on 127.0.0.1) and
 * {@code rank} (one rank of a world described by the torchrun environment variables).
 * Each prints one verdict line and exits 0 on success, 1 on failure.
 */
public final class NcclCheck {
    private NcclCheck() {}

    public static void main(String[] args) {
        String mode = args.length == 0 ? "detect" : args[0];
        NcclSupport support = NcclSupport.detect();
        if (support instanceof NcclSupport.Unavailable(String reason)) {
            System.out.println("nccl " + mode + ": SKIPPED: NCCL unavailable: " + reason);
            System.exit(2);
        }
        try {
            String detail = switch (mode) {
                case "detect" -> support.toString();
                case "one-rank" -> sum(new RendezvousConfig(0, 1, "127.0.0.1", 29500, Duration.ofSeconds(30)), support);
                case "rank" -> sum(RendezvousConfig.fromEnv(System.getenv(), Duration.ofSeconds(60)), support);
                default -> throw new ConfigException("unknown mode '" + mode + "': detect, one-rank or rank");
            };
            System.out.println("nccl " + mode + ": ok (" + detail + ")");
            System.exit(0);
        } catch (RuntimeException e) {
            System.out.println("nccl " + mode + ": FAILED: " + e.getMessage());
            e.printStackTrace();
            System.exit(1);
        }
    }

    /** All-reduces {@code (rank+1) * [1, 2, ..., 7]} and checks each element is {@code n(n+1)/2 * (i+1)}. */
    private static String sum(RendezvousConfig config, NcclSupport support) {
        int n = config.worldSize();
        float[] mine = new float[7];
        float[] want = new float[7];
        for (int i = 0; i < mine.length; i++) {
            mine[i] = (config.rank() + 1) * (i + 1);
            want[i] = n * (n + 1) / 2f * (i + 1);
        }
        try (NcclRank rank = NcclRank.join(config, 0)) {
            Tensor in = Tensor.of(DType.F32, Shape.of(7), mine);
            float[] got = rank.allReduceSum(new Tensor(in.shape(), in.dtype(), DeviceRef.gpu(0), in.data())).toFloatArray();
            if (!Arrays.equals(got, want)) {
                throw new IllegalStateException("rank " + config.rank() + " all-reduce gave " + Arrays.toString(got)
                        + ", expected " + Arrays.toString(want));
            }
            float[] gathered = rank.allGather(Tensor.of(DType.F32, Shape.of(1), config.rank())).toFloatArray();
            for (int r = 0; r < n; r++) {
                if (gathered[r] != r) {
                    throw new IllegalStateException("rank " + config.rank() + " all-gather gave " + Arrays.toString(gathered));
                }
            }
        }
        return support + ", rank " + config.rank() + " of " + n + ", all-reduce and all-gather match";
    }
}
