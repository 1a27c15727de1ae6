package dev.tornadonn.core.backend;

import dev.tornadonn.core.DeviceRef;
import dev.tornadonn.core.TornadoNnException;
import java.util.List;
import java.util.ServiceLoader;

/** Finds the backend for a device among those on the class path. */
public final class Backends {
    private static volatile List<Backend> loaded;

    private Backends() {}

    public static List<Backend> all() {
        List<Backend> b = loaded;
        if (b == null) {
            b = ServiceLoader.load(Backend.class).stream().map(ServiceLoader.Provider::get).toList();
            loaded = b;
        }
        return b;
    }

    public static Backend forDevice(DeviceRef device) {
        for (Backend b : all()) {
            if (b.supports(device)) {
                return b;
            }
        }
        if (device.isCpu()) {
            throw new TornadoNnException("no backend for " + device
                    + ": put tornado-nn-jvm-kernels on the class path");
        }
        throw new TornadoNnException("no backend for " + device
                + ": GPU devices need the TornadoVM backend (build with -Ptornado and run with TORNADOVM_HOME set)");
    }
}
