package dev.tornadonn.layers;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tornadonn.core.Activation;
import dev.tornadonn.core.DeviceRef;
import dev.tornadonn.core.Tensor;
import dev.tornadonn.core.UnsupportedOnDeviceException;
import dev.tornadonn.core.backend.Backend;
import dev.tornadonn.core.backend.DeviceInfo;
import dev.tornadonn.core.backend.PreparedMatrix;
import dev.tornadonn.core.weights.Int8InputQuantization;
import dev.tornadonn.core.weights.Int8Matrix;
import dev.tornadonn.core.weights.Int8WeightScale;
import dev.tornadonn.core.weights.WeightKind;
import dev.tornadonn.core.weights.WeightMatrix;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The one door onto a device: a weight kind the backend has no kernels for is refused by name, before any copy. */
class PreparedTest {

    /** A backend without int8 kernels (a synthetic kind set), failing if anything reaches its prepare. */
    private static final class DenseGptqFp8Only implements Backend {
        @Override
        public String name() {
            return "dense-gptq-fp8";
        }

        @Override
        public boolean supports(DeviceRef device) {
            return true;
        }

        @Override
        public Set<WeightKind> weightKinds(DeviceRef device) {
            return EnumSet.of(WeightKind.DENSE, WeightKind.GROUP_QUANTIZED, WeightKind.FP8);
        }

        @Override
        public Tensor copyTo(Tensor t, DeviceRef device) {
            throw new AssertionError("nothing is copied");
        }

        @Override
        public PreparedMatrix prepare(List<? extends WeightMatrix> rowBlocks, Tensor bias, DeviceRef device) {
            throw new AssertionError("a refused kind reached prepare");
        }

        @Override
        public void linear(Tensor x, PreparedMatrix w, Tensor y) {
            throw new AssertionError();
        }

        @Override
        public void gatedActivation(Activation act, Tensor gateUp, Tensor out) {
            throw new AssertionError();
        }

        @Override
        public List<DeviceInfo> devices() {
            return List.of();
        }
    }

    @Test
    void anInt8WeightIsRefusedByNameWhereTheBackendHasNoInt8Kernels() {
        Int8Matrix w = Int8Matrix.of(2, 3, new byte[6], new Int8WeightScale.PerTensor(1f),
                new Int8InputQuantization.DynamicPerToken());
        UnsupportedOnDeviceException e = assertThrows(UnsupportedOnDeviceException.class,
                () -> Prepared.on(new DenseGptqFp8Only(), DeviceRef.gpu(0), List.of(w), null, "model.layers.0.mlp.down_proj"));
        String m = e.getMessage();
        assertTrue(m.contains("model.layers.0.mlp.down_proj") && m.contains("int8 (W8A8) weights are not supported on gpu:0")
                && m.contains("dense-gptq-fp8"), m);
    }
}
