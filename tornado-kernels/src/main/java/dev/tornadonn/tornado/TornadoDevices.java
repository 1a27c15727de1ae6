package dev.tornadonn.tornado;

import dev.tornadonn.core.DeviceRef;
import dev.tornadonn.core.TornadoNnException;
import dev.tornadonn.core.backend.DeviceInfo;
import java.util.ArrayList;
import java.util.List;
import uk.ac.manchester.tornado.api.TornadoRuntime;
import uk.ac.manchester.tornado.api.common.TornadoDevice;
import uk.ac.manchester.tornado.api.runtime.TornadoRuntimeProvider;

/**
 * The devices the TornadoVM runtime sees, numbered across its backends in the order it lists them
 * (as {@code tornado --devices} does): {@code gpu:i} is the i-th, whatever its type.
 */
final class TornadoDevices {
    private static volatile List<TornadoDevice> devices;

    private TornadoDevices() {}

    /**
     * Whether a TornadoVM runtime is in this JVM: the backend's jar can be on the class path of a
     * JVM started without the SDK's argfile, and then it runs no device rather than failing to link.
     */
    static boolean available() {
        try {
            Class.forName("uk.ac.manchester.tornado.api.runtime.TornadoRuntimeProvider", false,
                    TornadoDevices.class.getClassLoader());
            return true;
        } catch (ClassNotFoundException | LinkageError e) {
            return false;
        }
    }

    static List<TornadoDevice> all() {
        List<TornadoDevice> d = devices;
        if (d == null) {
            if (!available()) {
                throw new TornadoNnException("no TornadoVM runtime in this JVM: start it with the SDK's argfile "
                        + "(bin/tornado-nn does when TORNADOVM_HOME is set; see README)");
            }
            TornadoRuntime runtime = TornadoRuntimeProvider.getTornadoRuntime();
            List<TornadoDevice> found = new ArrayList<>();
            for (int b = 0; b < runtime.getNumBackends(); b++) {
                var backend = runtime.getBackend(b);
                for (int i = 0; i < backend.getNumDevices(); i++) {
                    found.add(backend.getDevice(i));
                }
            }
            d = List.copyOf(found);
            devices = d;
        }
        return d;
    }

    static TornadoDevice get(DeviceRef ref) {
        List<TornadoDevice> d = all();
        if (ref.isCpu() || ref.id() >= d.size()) {
            throw new TornadoNnException("no TornadoVM device " + ref + ": TornadoVM lists " + d.size()
                    + " device(s)" + (d.isEmpty() ? "" : ", gpu:0 to gpu:" + (d.size() - 1)) + " (see tornado-nn devices)");
        }
        return d.get(ref.id());
    }

    static List<DeviceInfo> describe(String backendName) {
        List<DeviceInfo> out = new ArrayList<>();
        List<TornadoDevice> d = all();
        for (int i = 0; i < d.size(); i++) {
            TornadoDevice device = d.get(i);
            out.add(new DeviceInfo(DeviceRef.gpu(i), backendName + "-" + device.getTornadoVMBackend().name().toLowerCase(java.util.Locale.ROOT),
                    String.valueOf(device.getDeviceType()), device.getPhysicalDevice().getDeviceName(), device.getMaxGlobalMemory()));
        }
        return out;
    }
}
