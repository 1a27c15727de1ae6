package dev.tornadonn.cli.bench;

/** One timed case against the machine's roofline, with numpy's f32 time at the same shape when there is one. */
public record CaseResult(BenchCase bench, long weightBytes, Timing timing, Timing numpy, MachineProbe.Roofline roof) {

    /** Weights once, plus x and y: the least a call must move. */
    public long bytes() {
        return weightBytes + bench.activationBytes();
    }

    public double gflops() {
        return bench.flops() / timing.median() / 1e9;
    }

    public double gbs() {
        return bytes() / timing.median() / 1e9;
    }

    /** Arithmetic intensity: flops per byte moved. */
    public double intensity() {
        return bench.flops() / bytes();
    }

    /** Memory-bound below the ridge point, compute-bound above. */
    public boolean memoryBound() {
        return intensity() < roof.ridge();
    }

    /** Achieved over attainable GFLOP/s at this intensity: vs bandwidth when memory-bound, vs peak FMA otherwise. */
    public double rooflineFraction() {
        return gflops() / roof.attainable(intensity());
    }

    /** numpy's f32 median over ours; above 1 means faster than numpy. NaN without numpy. */
    public double vsNumpy() {
        return numpy == null ? Double.NaN : numpy.median() / timing.median();
    }

    /** The comparison's spread above which its ratio is flagged unstable. */
    public static final double UNSTABLE_SPREAD = 0.20;

    /** numpy's fastest run over ours: the ratio of the two sides' best. NaN without numpy. */
    public double vsNumpyOfMins() {
        return numpy == null ? Double.NaN : numpy.min() / timing.min();
    }

    /**
     * The comparison's spread: both sides' {@link Timing#spread()} added, about how far the
     * disturbance of either side's runs may have moved the ratio of the medians. NaN without numpy.
     */
    public double vsNumpySpread() {
        return numpy == null ? Double.NaN : timing.spread() + numpy.spread();
    }

    /** A comparison whose spread exceeds {@link #UNSTABLE_SPREAD}: a noisy run on either side could decide its ratio. */
    public boolean unstable() {
        return numpy != null && !(vsNumpySpread() <= UNSTABLE_SPREAD);
    }

    /** numpy's GFLOP/s, f32 weights at the same shape. */
    public double numpyGflops() {
        return numpy == null ? Double.NaN : bench.flops() / numpy.median() / 1e9;
    }

    /** numpy's intensity: its weights are always f32. */
    public double numpyIntensity() {
        return bench.flops() / (4.0 * bench.weightElements() + bench.activationBytes());
    }
}
