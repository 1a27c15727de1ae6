package dev.tornadonn.reference;

import dev.tornadonn.core.DeviceRef;

/** The outcome of one case on one device; {@code error} is set when the layer threw instead. */
public record CaseResult(ConformanceCase testCase, DeviceRef device, Comparison comparison, Tolerance tolerance,
                         String error) {

    public boolean passed() {
        return error == null && comparison.within(tolerance);
    }

    public String describe() {
        String head = testCase.layer() + " " + testCase.dtype() + " " + testCase.shape() + " on " + device
                + " (seed " + testCase.seed() + ")";
        if (error != null) {
            return head + ": threw " + error;
        }
        return head + ": relative L2 " + comparison.relativeL2() + ", max abs error " + comparison.maxAbsError()
                + (comparison.finite() ? "" : ", NON-FINITE output") + (passed() ? " (pass)" : " (FAIL, allowed "
                + tolerance.relativeL2() + ")");
    }
}
