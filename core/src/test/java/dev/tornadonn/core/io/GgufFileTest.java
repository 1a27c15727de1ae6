package dev.tornadonn.core.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tornadonn.core.DType;
import dev.tornadonn.core.Shape;
import dev.tornadonn.core.Tensor;
import dev.tornadonn.core.TornadoNnException;
import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.net.URISyntaxException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The GGUF reader on a file llama.cpp's {@code gguf} package wrote (scripts/gguf-fixtures.py:
 * every value type, a 64-byte alignment, plain and Q8_0 tensors), on files this library's writer
 * makes, and on every truncation and random damage of one: each opens consistently or fails with
 * one line naming the file.
 */
class GgufFileTest {
    @TempDir
    Path dir;

    static Path fixture() throws URISyntaxException {
        return Path.of(GgufFileTest.class.getResource("/gguf/metadata.gguf").toURI());
    }

    @Test
    void readsEveryValueTypeTheGgufPackageWrites() throws Exception {
        try (GgufFile f = GgufFile.open(fixture())) {
            assertEquals(3, f.version());
            assertEquals(64, f.alignment());
            Map<String, Object> m = f.metadata();
            assertEquals("llama", m.get("general.architecture"));
            assertEquals(200L, m.get("test.uint8"));
            assertEquals(-100L, m.get("test.int8"));
            assertEquals(60000L, m.get("test.uint16"));
            assertEquals(-30000L, m.get("test.int16"));
            assertEquals(4000000000L, m.get("test.uint32"));
            assertEquals(-2000000000L, m.get("test.int32"));
            assertEquals(0.5f, m.get("test.float32"));
            assertEquals(true, m.get("test.bool"));
            assertEquals("h\u00e9llo", m.get("test.string"));
            assertEquals(1L << 40, m.get("test.uint64"));
            assertEquals(-(1L << 40), m.get("test.int64"));
            assertEquals(0.1, m.get("test.float64"));
            assertEquals(List.of(1L, 2L, 3L), m.get("test.array.int"));
            assertEquals(List.of("a", "bc", ""), m.get("test.array.string"));
            assertEquals(List.of(List.of(1L, 2L), List.of(3L)), m.get("test.array.nested"));
        }
    }

    @Test
    void shapesAreOutermostFirstAndBlocksAreRawBytes() throws Exception {
        try (GgufFile f = GgufFile.open(fixture())) {
            Tensor t = f.get("t.f32");
            assertEquals(DType.F32, t.dtype());
            assertEquals(Shape.of(2, 3), t.shape());
            assertArrayEquals(new float[] {0, 1, 2, 3, 4, 5}, t.toFloatArray());
            assertArrayEquals(new float[] {1.5f, -2f, 0.25f, 65504f}, f.get("t.f16").toFloatArray());
            assertArrayEquals(new float[] {1f, -3f, 0.5f, 2f}, f.get("t.bf16").toFloatArray());
            assertEquals(Shape.of(1, 4), f.get("t.bf16").shape());
            assertArrayEquals(new int[] {7, -8}, f.get("t.i32").toIntArray());
            assertEquals(Shape.of(2, 1, 4), f.get("t.3d").shape());
            Tensor q = f.get("t.q8_0");
            assertEquals(DType.U8, q.dtype());
            assertEquals(Shape.of(2, 34), q.shape());
            assertEquals(Optional.of(GgmlType.Q8_0), f.ggmlType("t.q8_0"));
            assertArrayEquals(new long[] {2, 32}, f.tensor("t.q8_0").dims());
            assertEquals(Optional.empty(), f.ggmlType("absent"));
            assertEquals(Shape.of(2, 34), f.info("t.q8_0").shape());
        }
    }

    @Test
    void checkpointOpensGgufByExtensionOrMagic() throws Exception {
        Path renamed = dir.resolve("model.bin");
        Files.copy(fixture(), renamed);
        for (Path p : List.of(fixture(), renamed)) {
            try (Checkpoint c = Checkpoint.open(p)) {
                assertTrue(c.gguf().isPresent());
                assertTrue(c.names().contains("t.q8_0"));
                assertEquals(Optional.of(GgmlType.Q8_0), c.ggmlType("t.q8_0"));
                assertEquals(List.of(p), c.files());
            }
        }
        Path bad = dir.resolve("x.gguf");
        Files.write(bad, new byte[] {'G', 'G', 'U', 'F', 9, 0, 0, 0});
        TornadoNnException e = assertThrows(TornadoNnException.class, () -> Checkpoint.open(bad));
        assertTrue(e.getMessage().contains("GGUF version 9 is not supported"), e.getMessage());
    }

    @Test
    void writerRoundTripsWithAlignment() {
        Path p = dir.resolve("w.gguf");
        Map<String, Object> meta = new LinkedHashMap<>();
        meta.put("general.alignment", 128);
        meta.put("a.list", List.of(1.5f, 2.5f));
        meta.put("a.neg", -3);
        GgufWriter.write(p, meta, List.of(
                new GgufWriter.Entry("w", GgmlType.F32, new long[] {2, 2}, GgufWriter.f32(new float[] {1, 2, 3, 4})),
                GgufWriter.Entry.of("q", GgmlType.Q4_0, new long[] {1, 32}, new byte[18])));
        try (GgufFile f = GgufFile.open(p)) {
            assertEquals(128, f.alignment());
            assertEquals(List.of(1.5f, 2.5f), f.metadata().get("a.list"));
            assertEquals(-3L, f.metadata().get("a.neg"));
            assertArrayEquals(new float[] {1, 2, 3, 4}, f.get("w").toFloatArray());
            assertEquals(Shape.of(1, 18), f.get("q").shape());
            assertEquals(0, f.tensor("q").offset() % 128);
        }
    }

    @Test
    void malformedHeadersAreOneLine() throws IOException {
        assertRefused(new byte[0], "file is 0 bytes");
        assertRefused("GGML".getBytes(), "magic");
        assertRefused(header(1, 0, 0).array(), "version 1 is not supported");
        assertRefused(header(0x03000000, 0, 0).array(), "big-endian");
        assertRefused(header(3, 1L << 40, 0).array(), "tensor count");
        assertRefused(header(3, 0, -1).array(), "metadata count");
        // A tensor whose rows are not whole blocks, and one past the end.
        Path p = dir.resolve("rows.gguf");
        GgufWriter.write(p, Map.of(), List.of(GgufWriter.Entry.of("q", GgmlType.Q8_0, new long[] {1, 32}, new byte[34])));
        byte[] good = Files.readAllBytes(p);
        byte[] rows = good.clone();
        int dims = indexOf(rows, new byte[] {'q'}) + 1 + 4; // after the name and n_dims: ne[0]
        ByteBuffer.wrap(rows).order(ByteOrder.LITTLE_ENDIAN).putLong(dims, 33);
        assertRefused(rows, "whose blocks hold 32 elements, but its rows hold 33");
        byte[] type = good.clone();
        ByteBuffer.wrap(type).order(ByteOrder.LITTLE_ENDIAN).putInt(dims + 16, 99);
        assertRefused(type, "unknown ggml type 99");
        assertRefused(Arrays.copyOf(good, good.length - 1), "runs past the end");
    }

    /** Every truncation of a small file, and random byte damage: opens consistently, or one line naming the file. */
    @Test
    void truncatedAndDamagedFilesFailWithOneLine() throws IOException {
        Path p = dir.resolve("fuzz.gguf");
        Map<String, Object> meta = new LinkedHashMap<>();
        meta.put("general.architecture", "llama");
        meta.put("a.list", List.of("x", "yz"));
        meta.put("a.f", 2.0);
        GgufWriter.write(p, meta, List.of(
                new GgufWriter.Entry("w", GgmlType.F16, new long[] {2, 2}, java.lang.foreign.MemorySegment.ofArray(new byte[8])),
                GgufWriter.Entry.of("q", GgmlType.Q4_K, new long[] {1, 256}, new byte[144])));
        byte[] good = Files.readAllBytes(p);
        Path t = dir.resolve("t.gguf");
        for (int n = 0; n < good.length; n++) {
            Files.write(t, Arrays.copyOf(good, n));
            TornadoNnException e = assertThrows(TornadoNnException.class, () -> GgufFile.open(t).close(), "length " + n);
            oneLine(e, t);
        }
        long seed = Long.getLong("tornadonn.seed", System.nanoTime());
        SplittableRandom rnd = new SplittableRandom(seed);
        for (int i = 0; i < 2000; i++) {
            byte[] b = good.clone();
            for (int k = 1 + rnd.nextInt(3); k > 0; k--) {
                b[rnd.nextInt(b.length)] = (byte) rnd.nextInt(256);
            }
            Files.write(t, b);
            try (GgufFile f = GgufFile.open(t)) {
                for (String name : f.names()) {
                    Tensor x = f.get(name);
                    assertEquals(f.tensor(name).bytes(), x.data().byteSize());
                    if (x.data().byteSize() > 0) { // a mutated dimension of 0 makes an empty tensor, which is no error
                        x.data().get(ValueLayout.JAVA_BYTE, x.data().byteSize() - 1); // inside the mapping
                    }
                }
            } catch (TornadoNnException e) {
                oneLine(e, t);
            } catch (RuntimeException e) {
                throw new AssertionError("seed " + seed + ": " + e, e);
            }
        }
    }

    private static void oneLine(TornadoNnException e, Path p) {
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
        assertTrue(e.getMessage().startsWith(p.toString()), e.getMessage());
    }

    private void assertRefused(byte[] bytes, String fragment) throws IOException {
        Path p = dir.resolve("bad.gguf");
        Files.write(p, bytes);
        GgufException e = assertThrows(GgufException.class, () -> GgufFile.open(p));
        assertTrue(e.getMessage().contains(fragment), e.getMessage());
        oneLine(e, p);
    }

    private static ByteBuffer header(int version, long tensors, long kvs) {
        ByteBuffer b = ByteBuffer.allocate(24).order(ByteOrder.LITTLE_ENDIAN);
        return b.putInt(GgufFile.MAGIC).putInt(version).putLong(tensors).putLong(kvs);
    }

    private static int indexOf(byte[] hay, byte[] needle) {
        // The tensor name 'q' follows its u64 length 1, after the header and metadata.
        for (int i = 24; i + 8 < hay.length; i++) {
            if (hay[i] == 1 && hay[i + 1] == 0 && hay[i + 8] == needle[0]) {
                boolean zeros = true;
                for (int k = 2; k < 8; k++) {
                    zeros &= hay[i + k] == 0;
                }
                if (zeros) {
                    return i + 8;
                }
            }
        }
        throw new AssertionError("no tensor name");
    }
}
