package dev.tornadonn.jvm;

import dev.tornadonn.core.ConfigException;
import java.lang.System.Logger.Level;
import java.util.Locale;

/**
 * Picks the host kernels once, Lucene-style: the Vector API implementation when the incubator
 * module is present and the CPU has at least 256-bit vectors, else the scalar one. The system
 * property {@value #PROPERTY} ({@code auto}, {@code vector}, {@code scalar}) overrides it.
 */
final class KernelSelection {
    static final String PROPERTY = "tornadonn.jvm.kernels";
    private static final System.Logger LOG = System.getLogger(KernelSelection.class.getName());

    private KernelSelection() {}

    private static final java.util.concurrent.atomic.AtomicBoolean ANNOUNCED = new java.util.concurrent.atomic.AtomicBoolean();

    static MatmulKernels select() {
        MatmulKernels k = choose();
        if (!ANNOUNCED.getAndSet(true)) {
            LOG.log(Level.INFO, "tornado-nn: cpu devices run the " + k.name() + " kernels on " + Parallel.THREADS
                    + " threads (" + PROPERTY + ", " + Parallel.PROPERTY + ")");
        }
        return k;
    }

    private static MatmulKernels choose() {
        String wanted = System.getProperty(PROPERTY, "auto").toLowerCase(Locale.ROOT);
        return switch (wanted) {
            case "scalar" -> new ScalarKernels();
            case "vector" -> {
                MatmulKernels v = vectorOrNull();
                if (v == null) {
                    throw new IllegalStateException(PROPERTY + "=vector, but the Vector API is unavailable: "
                            + "start the JVM with --add-modules=jdk.incubator.vector");
                }
                yield v;
            }
            case "auto" -> {
                MatmulKernels v = vectorOrNull();
                yield v != null && vectorBits() >= 256 ? v : new ScalarKernels();
            }
            default -> throw new ConfigException(PROPERTY + " must be auto, vector or scalar, not '" + wanted + "'");
        };
    }

    /** The vector kernels, or null when the incubator module is not in the boot layer. */
    static MatmulKernels vectorOrNull() {
        if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) {
            warnOnce();
            return null;
        }
        return load(MatmulKernels.class, "VectorKernels", null);
    }

    private static final java.util.concurrent.atomic.AtomicBoolean WARNED = new java.util.concurrent.atomic.AtomicBoolean();

    /** Said once per JVM: the scalar kernels run an order of magnitude slower, and one flag fixes it. */
    private static void warnOnce() {
        if (!WARNED.getAndSet(true)) {
            LOG.log(Level.WARNING, "tornado-nn: the jdk.incubator.vector module is not readable, so cpu devices run the "
                    + "scalar kernels (about 15x slower); start the JVM with --add-modules=jdk.incubator.vector");
        }
    }

    /**
     * A Vector API implementation, loaded by name so that this class never links against the
     * incubator module itself; {@code fallback} (logged) when it fails to load.
     */
    private static <T> T load(Class<T> type, String simpleName, T fallback) {
        try {
            return type.cast(Class.forName("dev.tornadonn.jvm." + simpleName).getDeclaredConstructor().newInstance());
        } catch (ReflectiveOperationException | LinkageError e) {
            LOG.log(Level.WARNING, simpleName + " failed to load; using the scalar kernels", e);
            return fallback;
        }
    }

    /** The vector twin of the group-quantised row decoder; only called once the vector matmul kernels loaded. */
    static GroupQuantKernels vectorGroupQuant() {
        return load(GroupQuantKernels.class, "VectorGroupQuantKernels", new GroupQuantKernels.Scalar());
    }

    /** The vector twin of the fp8 row decoder; only called once the vector matmul kernels loaded. */
    static Fp8Kernels vectorFp8() {
        return load(Fp8Kernels.class, "VectorFp8Kernels", new Fp8Kernels.Scalar());
    }

    /** The vector twin of the int8 products; only called once the vector matmul kernels loaded. */
    static Int8Kernels vectorInt8() {
        return load(Int8Kernels.class, "VectorInt8Kernels", new Int8Kernels.Scalar());
    }

    private static int vectorBits() {
        try {
            return Class.forName("dev.tornadonn.jvm.VectorKernels").getDeclaredField("L").getInt(null) * 32;
        } catch (ReflectiveOperationException e) {
            return 0;
        }
    }
}
