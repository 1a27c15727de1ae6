package dev.tornadonn.tornado;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;
import uk.ac.manchester.tornado.api.TaskGraph;
import uk.ac.manchester.tornado.api.TornadoExecutionPlan;
import uk.ac.manchester.tornado.api.annotations.Parallel;
import uk.ac.manchester.tornado.api.enums.DataTransferMode;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

/**
 * A kernel the device's compiler rejects must fail loudly, not run as plain Java on the host: the
 * backend's runs depend on {@code tornado.recover.bailout=False}. TornadoVM 5.2 spells a NaN
 * constant {@code NaNF} in OpenCL C, which no OpenCL compiler accepts.
 */
class NoFallbackTest {

    static void writesNan(IntArray flags, FloatArray out) {
        for (@Parallel int i = 0; i < out.getSize(); i++) {
            out.set(i, flags.get(i) != 0 ? Float.NaN : 1.0f);
        }
    }

    @Test
    void bailoutIsOff() {
        new TornadoVmBackend(); // its static initialiser sets the property when nothing else did
        assertEquals("false", System.getProperty(TornadoVmBackend.BAILOUT_PROPERTY).toLowerCase(java.util.Locale.ROOT));
    }

    @Test
    void aKernelThatDoesNotCompileThrows() {
        IntArray bits = IntArray.fromElements(1);
        FloatArray out = new FloatArray(1);
        TaskGraph graph = new TaskGraph("nofallback")
                .transferToDevice(DataTransferMode.EVERY_EXECUTION, bits)
                .task("t", NoFallbackTest::writesNan, bits, out)
                .transferToHost(DataTransferMode.EVERY_EXECUTION, out);
        TornadoExecutionPlan plan = new TornadoExecutionPlan(graph.snapshot())
                .withDevice(TornadoDevices.get(dev.tornadonn.core.DeviceRef.gpu(0)));
        assertThrows(RuntimeException.class, plan::execute, () -> "ran anyway, giving " + out.get(0));
    }
}
