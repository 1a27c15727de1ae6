package dev.tornadonn.cli.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * numpy's {@code x @ w.T} in float32 on the same shapes, in a {@code python3} subprocess running
 * an embedded script. OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are removed from that process alone:
 * they pin an older kernel (set here for old OpenBLAS builds) and would slow a current numpy.
 */
final class Numpy {
    static final List<String> UNSET = List.of("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE");
    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * Either the timings by shape key {@link #key}, or why there are none; each timing's runs are
     * batches of {@code callsPerSample} calls (at least 50 ms each), per call.
     */
    record Result(String unavailable, String config, Map<String, Timing> timings, Map<String, Integer> callsPerSample) {
        Result(String unavailable, String config, Map<String, Timing> timings) {
            this(unavailable, config, timings, Map.of());
        }

        boolean available() {
            return unavailable == null;
        }
    }

    /** Several rounds' results as one: each shape's median over the rounds that timed it. */
    static Result acrossRounds(List<Result> rounds) {
        Result first = rounds.getFirst();
        if (!first.available()) {
            return first;
        }
        Map<String, Timing> timings = new LinkedHashMap<>();
        for (String key : first.timings().keySet()) {
            List<Timing> per = rounds.stream().filter(Result::available).map(r -> r.timings().get(key))
                    .filter(Objects::nonNull).toList();
            timings.put(key, Timing.acrossRounds(per));
        }
        return new Result(null, first.config(), timings, first.callsPerSample());
    }

    static String key(int m, int n, int k) {
        return m + "x" + n + "x" + k;
    }

    /** Runs the shapes {@code [m, n, k]}; {@code onShape} is called as each finishes (the progress bar). */
    static Result run(List<int[]> shapes, int repeat, double budgetS, Runnable onShape) {
        Path script;
        try {
            script = Files.createTempFile("tornado-nn-bench-", ".py");
            try (InputStream in = Numpy.class.getResourceAsStream("numpy_bench.py")) {
                Files.write(script, in.readAllBytes());
            }
        } catch (IOException e) {
            return new Result("could not write the numpy script: " + e.getMessage(), null, Map.of());
        }
        try {
            return runScript(script, shapes, repeat, budgetS, onShape);
        } finally {
            try {
                Files.deleteIfExists(script);
            } catch (IOException ignored) {
                // a stray temp file is harmless
            }
        }
    }

    private static Result runScript(Path script, List<int[]> shapes, int repeat, double budgetS, Runnable onShape) {
        Map<String, Object> spec = Map.of("repeat", repeat, "budget_s", budgetS, "shapes", shapes);
        ProcessBuilder pb;
        try {
            pb = new ProcessBuilder("python3", script.toString(), JSON.writeValueAsString(spec));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        List<String> unset = new ArrayList<>();
        for (String name : UNSET) {
            String was = pb.environment().remove(name);
            if (was != null) {
                unset.add(name + "=" + was);
            }
        }
        pb.redirectError(ProcessBuilder.Redirect.DISCARD);
        Process p;
        try {
            p = pb.start();
        } catch (IOException e) {
            return new Result("python3 not found (" + e.getMessage() + ")", null, Map.of());
        }
        String config = null;
        String error = null;
        Map<String, Timing> timings = new LinkedHashMap<>();
        Map<String, Integer> calls = new LinkedHashMap<>();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = r.readLine()) != null; ) {
                JsonNode j = JSON.readTree(line);
                if (j.has("error")) {
                    error = j.get("error").asText();
                } else if (j.has("info")) {
                    config = describe(j.get("info"), unset);
                } else if (j.has("case")) {
                    JsonNode c = j.get("case");
                    double[] t = new double[c.get("times").size()];
                    for (int i = 0; i < t.length; i++) {
                        t[i] = c.get("times").get(i).asDouble();
                    }
                    String key = key(c.get("m").asInt(), c.get("n").asInt(), c.get("k").asInt());
                    timings.put(key, Timing.of(t));
                    calls.put(key, c.path("calls_per_sample").asInt(1));
                    onShape.run();
                }
            }
            int code = p.waitFor();
            if (error != null) {
                return new Result(error, config, Map.of());
            }
            if (code != 0 || timings.size() != shapes.size()) {
                return new Result("python3 exited with status " + code + " after " + timings.size() + " of "
                        + shapes.size() + " shapes", config, timings);
            }
            return new Result(null, config, timings, calls);
        } catch (IOException e) {
            p.destroy();
            return new Result("could not read numpy's output: " + e.getMessage(), config, timings);
        } catch (InterruptedException e) {
            p.destroy();
            Thread.currentThread().interrupt();
            return new Result("interrupted", config, timings);
        }
    }

    private static String describe(JsonNode info, List<String> unset) {
        String core = info.path("openblas_core").isNull() ? "unknown" : info.path("openblas_core").asText("unknown");
        return "numpy " + info.path("numpy").asText("?") + " (python " + info.path("python").asText("?") + "), "
                + info.path("blas").asText("BLAS unknown") + ", kernel " + core + ", "
                + info.path("openblas_threads").asText("?") + " threads"
                + (info.path("probed_with").isNull() ? "" : " (read via " + info.path("probed_with").asText() + ")")
                + "; " + (unset.isEmpty() ? "OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE were not set"
                        : "unset for numpy: " + String.join(", ", unset));
    }
}
