package dev.tornadonn.parallel;

import dev.tornadonn.core.DeviceRef;
import dev.tornadonn.parallel.nccl.NcclCommunicator;
import dev.tornadonn.parallel.nccl.NcclSupport;
import java.lang.System.Logger.Level;
import java.util.List;

/** Picks the communicator for a set of devices and says, in one log line, which and why. */
public final class Communicators {
    private static final System.Logger LOG = System.getLogger(Communicators.class.getName());

    private Communicators() {}

    /** A communicator and the reason it was chosen. */
    public record Choice(Communicator communicator, String reason) {}

    /** NCCL for GPU devices when it loads and sees enough GPUs; otherwise the host communicator. */
    public static Communicator select(List<DeviceRef> devices) {
        Choice c = choose(devices);
        LOG.log(Level.INFO, "collectives over " + devices + ": " + c.communicator().name() + " (" + c.reason() + ")");
        return c.communicator();
    }

    public static Choice choose(List<DeviceRef> devices) {
        if (devices.stream().allMatch(DeviceRef::isCpu)) {
            return new Choice(new HostCommunicator(), "all devices are host devices");
        }
        if (devices.stream().anyMatch(DeviceRef::isCpu)) {
            return new Choice(new HostCommunicator(), "NCCL cannot mix host and GPU devices");
        }
        return switch (NcclSupport.detect()) {
            case NcclSupport.Unavailable u -> new Choice(new HostCommunicator(), "NCCL unavailable: " + u.reason());
            case NcclSupport.Available a when devices.stream().anyMatch(d -> d.id() >= a.gpuCount()) ->
                    new Choice(new HostCommunicator(), a + ", but " + devices + " names a GPU beyond gpu:" + (a.gpuCount() - 1));
            case NcclSupport.Available a -> new Choice(NcclCommunicator.open(devices), a.toString());
        };
    }
}
