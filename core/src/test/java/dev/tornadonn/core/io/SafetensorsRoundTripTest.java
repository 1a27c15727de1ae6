package dev.tornadonn.core.io;

import dev.tornadonn.core.ConfigException;
import static dev.tornadonn.core.io.RawSafetensors.bytes;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tornadonn.core.DType;
import dev.tornadonn.core.DeviceRef;
import dev.tornadonn.core.Shape;
import dev.tornadonn.core.Tensor;
import dev.tornadonn.core.WeightLoadException;
import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsRoundTripTest {
    @TempDir
    Path dir;

    /** A tensor whose bytes are a fixed pattern (every bit pattern is a valid element for these checks). */
    private static Tensor patterned(DType t, Shape s, int salt) {
        Tensor x = Tensor.allocate(t, s);
        long n = x.data().byteSize();
        for (long i = 0; i < n; i++) {
            x.data().set(ValueLayout.JAVA_BYTE, i, (byte) (i * 37 + salt * 11 + 5));
        }
        return x;
    }

    private static Map<String, Tensor> everyDTypeAndShape() {
        Map<String, Tensor> m = new LinkedHashMap<>();
        int salt = 0;
        for (DType t : DType.values()) {
            m.put(t.name().toLowerCase() + ".matrix", patterned(t, Shape.of(3, 5), salt++));
            m.put(t.name().toLowerCase() + ".empty", patterned(t, Shape.of(3, 0, 2), salt++));
            m.put(t.name().toLowerCase() + ".scalar", patterned(t, Shape.of(), salt++));
            m.put(t.name().toLowerCase() + ".vector", patterned(t, Shape.of(7), salt++));
        }
        m.put("zero.length.1d", Tensor.allocate(DType.F32, Shape.of(0)));
        return m;
    }

    @Test
    void everyDTypeEmptyAndScalarTensorsRoundTrip() {
        Map<String, Tensor> in = everyDTypeAndShape();
        Path file = dir.resolve("all.safetensors");
        SafetensorsWriter.write(file, in);
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            assertEquals(List.copyOf(in.keySet()), List.copyOf(f.names()), "names keep the written order");
            for (Map.Entry<String, Tensor> e : in.entrySet()) {
                Tensor expected = e.getValue();
                Tensor got = f.get(e.getKey());
                assertEquals(expected.dtype(), got.dtype(), e.getKey());
                assertEquals(expected.shape(), got.shape(), e.getKey());
                assertEquals(DeviceRef.cpu(0), got.device());
                assertArrayEquals(expected.data().toArray(ValueLayout.JAVA_BYTE), got.data().toArray(ValueLayout.JAVA_BYTE), e.getKey());
                TensorInfo info = f.info(e.getKey());
                assertEquals(expected.data().byteSize(), info.end() - info.begin());
                assertEquals(e.getKey(), info.name());
            }
            assertTrue(f.metadata().isEmpty());
        }
    }

    @Test
    void valuesSurviveForEachDType() {
        Map<String, Tensor> in = new LinkedHashMap<>();
        in.put("f32", Tensor.of(DType.F32, Shape.of(2, 2), 1.5f, -2f, 1e-30f, Float.MAX_VALUE));
        in.put("f16", Tensor.of(DType.F16, Shape.of(3), 1f, -65504f, 0x1p-24f));
        in.put("bf16", Tensor.of(DType.BF16, Shape.of(2), 3.140625f, -1e38f));
        in.put("e4m3", Tensor.of(DType.F8_E4M3FN, Shape.of(3), 448f, -0x1p-9f, 0.5f));
        in.put("e5m2", Tensor.of(DType.F8_E5M2, Shape.of(3), 57344f, Float.NEGATIVE_INFINITY, 0.75f));
        in.put("i8", Tensor.of(DType.I8, Shape.of(2), -128f, 127f));
        in.put("u8", Tensor.of(DType.U8, Shape.of(2), 0f, 255f));
        in.put("i32", Tensor.of(DType.I32, Shape.of(2), -2147483648f, 16777216f));
        in.put("i64", Tensor.of(DType.I64, Shape.of(2), -0x1p63f, 0x1p62f));
        in.put("scalar", Tensor.of(DType.F32, Shape.of(), 42f));
        Path file = dir.resolve("values.safetensors");
        SafetensorsWriter.write(file, in);
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            for (Map.Entry<String, Tensor> e : in.entrySet()) {
                assertArrayEquals(e.getValue().toFloatArray(), f.get(e.getKey()).toFloatArray(), e.getKey());
            }
            assertArrayEquals(new float[] {57344f, Float.NEGATIVE_INFINITY, 0.75f}, f.get("e5m2").toFloatArray());
            assertArrayEquals(new float[] {-0x1p63f, 0x1p62f}, f.get("i64").toFloatArray());
            assertEquals(42f, f.get("scalar").getFloat(0));
        }
    }

    @Test
    void metadataRoundTrips() {
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", "pt");
        meta.put("note", "ünïcödé ✓ \"quoted\" \\ back\nslash");
        meta.put("empty", "");
        Path file = dir.resolve("meta.safetensors");
        SafetensorsWriter.write(file, Map.of("w", Tensor.of(new float[] {1, 2}, 2)), meta);
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            assertEquals(meta, f.metadata());
            assertEquals(List.of("w"), List.copyOf(f.names()), "__metadata__ is not a tensor");
            assertFalse(f.contains("__metadata__"));
            assertThrows(UnsupportedOperationException.class, () -> f.metadata().put("x", "y"));
        }
    }

    @Test
    void headerIsPaddedToAMultipleOfEightWithSpaces() throws IOException {
        // Vary the key length so the unpadded JSON hits every residue mod 8.
        for (int k = 1; k <= 8; k++) {
            Path file = dir.resolve("pad" + k + ".safetensors");
            Map<String, Tensor> in = new LinkedHashMap<>();
            in.put("w".repeat(k), Tensor.of(DType.BF16, Shape.of(3), 1, 2, 3));
            in.put("b", Tensor.of(DType.F32, Shape.of(1), 4));
            SafetensorsWriter.write(file, in);
            byte[] all = Files.readAllBytes(file);
            long n = 0;
            for (int i = 7; i >= 0; i--) {
                n = (n << 8) | (all[i] & 0xFF);
            }
            assertEquals(0, n % 8, "header length " + n);
            assertEquals(8 + n + 6 + 4, all.length);
            String header = new String(all, 8, (int) n, StandardCharsets.UTF_8);
            String trimmed = header.stripTrailing();
            assertTrue(header.length() - trimmed.length() < 8, "at most 7 padding bytes");
            assertTrue(header.substring(trimmed.length()).chars().allMatch(c -> c == ' '), "padding is spaces");
            assertTrue(trimmed.endsWith("}"));
            JsonNode json = new ObjectMapper().readTree(trimmed);
            assertEquals("BF16", json.get("w".repeat(k)).get("dtype").asText());
            assertEquals("[0,6]", json.get("w".repeat(k)).get("data_offsets").toString());
            assertEquals("[6,10]", json.get("b").get("data_offsets").toString());
            assertEquals("[3]", json.get("w".repeat(k)).get("shape").toString());
            // The data section begins right after the header: bf16 1.0 is 80 3F.
            assertEquals((byte) 0x80, all[(int) (8 + n)]);
            assertEquals((byte) 0x3F, all[(int) (8 + n + 1)]);
        }
    }

    @Test
    void writerUsesSafetensorsDTypeNames() throws IOException {
        Path file = dir.resolve("names.safetensors");
        SafetensorsWriter.write(file, Map.of("x", Tensor.allocate(DType.F8_E4M3FN, Shape.of(2))));
        String text = new String(Files.readAllBytes(file), StandardCharsets.UTF_8);
        assertTrue(text.contains("\"dtype\":\"F8_E4M3\""), text);
    }

    @Test
    void writerReplacesExistingFileAndLeavesNoTempFiles() throws IOException {
        Path file = dir.resolve("replace.safetensors");
        Files.writeString(file, "old junk");
        SafetensorsWriter.write(file, Map.of("a", Tensor.of(new float[] {7}, 1)));
        SafetensorsWriter.write(file, Map.of("b", Tensor.of(new float[] {8, 9}, 2)));
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            assertEquals(List.of("b"), List.copyOf(f.names()));
            assertArrayEquals(new float[] {8, 9}, f.get("b").toFloatArray());
        }
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(List.of(file), files.toList());
        }
    }

    @Test
    void writerRejectsTheReservedMetadataKey() {
        Path file = dir.resolve("reserved.safetensors");
        assertThrows(ConfigException.class,
                () -> SafetensorsWriter.write(file, Map.of("__metadata__", Tensor.of(new float[] {1}, 1))));
        assertFalse(Files.exists(file));
    }

    @Test
    void writesSlicesAndViewsByTheirOwnBytes() {
        Tensor t = Tensor.of(new float[] {0, 1, 2, 3, 4, 5}, 3, 2);
        Map<String, Tensor> in = new LinkedHashMap<>();
        in.put("rows", t.slice(0, 1, 3));
        in.put("col", t.slice(1, 1, 2));
        Path file = dir.resolve("views.safetensors");
        SafetensorsWriter.write(file, in);
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            assertArrayEquals(new float[] {2, 3, 4, 5}, f.get("rows").toFloatArray());
            assertArrayEquals(new float[] {1, 3, 5}, f.get("col").toFloatArray());
            assertEquals(Shape.of(3, 1), f.get("col").shape());
        }
    }

    @Test
    void emptyFileWithOnlyAHeaderRoundTrips() {
        Path file = dir.resolve("nothing.safetensors");
        SafetensorsWriter.write(file, Map.of());
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            assertTrue(f.names().isEmpty());
        }
    }

    /**
     * A file assembled byte by byte, as the reference Python implementation lays it out (keys in
     * any order, offsets relative to the data section, padding spaces), with no help from the writer.
     */
    @Test
    void readsAHandAssembledFile() {
        String header = "{\"__metadata__\":{\"format\":\"pt\"},"
                + "\"weight\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[4,20]},"
                + "\"bias\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[0,4]},"
                + "\"half\":{\"dtype\":\"F16\",\"shape\":[1],\"data_offsets\":[20,22]},"
                + "\"fp8\":{\"dtype\":\"F8_E4M3\",\"shape\":[2],\"data_offsets\":[22,24]},"
                + "\"idx\":{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[24,32]},"
                + "\"none\":{\"dtype\":\"U8\",\"shape\":[0,4],\"data_offsets\":[32,32]}}";
        String padded = header + " ".repeat((8 - header.length() % 8) % 8);
        byte[] data = bytes(
                0x80, 0x3F, 0x00, 0xC0,                                 // bias bf16: 1.0, -2.0
                0x00, 0x00, 0x80, 0x3F, 0x00, 0x00, 0x00, 0x40,         // weight f32: 1, 2,
                0x00, 0x00, 0x40, 0x40, 0x00, 0x00, 0x80, 0x40,         //             3, 4
                0x00, 0x3C,                                             // half f16: 1.0
                0x7E, 0x81,                                             // fp8: 448, -2^-9
                0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF);        // idx i64: -2
        Path file = RawSafetensors.write(dir.resolve("hand.safetensors"), padded, data);
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            assertEquals(Map.of("format", "pt"), f.metadata());
            assertEquals(6, f.names().size());
            Tensor w = f.get("weight");
            assertEquals(DType.F32, w.dtype());
            assertEquals(Shape.of(2, 2), w.shape());
            assertArrayEquals(new float[] {1, 2, 3, 4}, w.toFloatArray());
            assertArrayEquals(new float[] {1, -2}, f.get("bias").toFloatArray());
            assertEquals(DType.BF16, f.get("bias").dtype());
            assertArrayEquals(new float[] {1}, f.get("half").toFloatArray());
            assertEquals(DType.F8_E4M3FN, f.get("fp8").dtype());
            assertArrayEquals(new float[] {448f, -0x1p-9f}, f.get("fp8").toFloatArray());
            assertEquals(Shape.of(), f.get("idx").shape());
            assertEquals(-2f, f.get("idx").getFloat(0));
            assertEquals(Shape.of(0, 4), f.get("none").shape());
            assertEquals(0, f.get("none").numel());
            assertEquals(new TensorInfo("weight", DType.F32, Shape.of(2, 2), 4, 20), f.info("weight"));
            assertNull(f.info("nope"));
            assertEquals(file, f.path());
            assertEquals(file.toString(), f.describe());
        }
    }

    @Test
    void readsAnUnpaddedHeaderWithAnUnalignedDataSection() {
        String header = "{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}"; // 54 bytes: data at file offset 62
        assertTrue((8 + header.length()) % 4 != 0);
        Path file = RawSafetensors.write(dir.resolve("unaligned.safetensors"), header,
                bytes(0x00, 0x00, 0xC0, 0x3F, 0x00, 0x00, 0x20, 0xC1)); // 1.5, -10
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            assertArrayEquals(new float[] {1.5f, -10f}, f.get("x").toFloatArray());
        }
    }

    @Test
    void missingKeyNamesTheKeyAndSuggestsACloseOne() {
        Path file = dir.resolve("keys.safetensors");
        Map<String, Tensor> in = new LinkedHashMap<>();
        in.put("model.layers.0.mlp.up_proj.weight", Tensor.of(new float[] {1}, 1));
        in.put("model.layers.0.mlp.down_proj.weight", Tensor.of(new float[] {2}, 1));
        SafetensorsWriter.write(file, in);
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            WeightLoadException e = assertThrows(WeightLoadException.class, () -> f.get("model.layers.0.mlp.up_prj.weight"));
            assertTrue(e.getMessage().contains("'model.layers.0.mlp.up_prj.weight'"), e.getMessage());
            assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
            assertTrue(e.getMessage().contains("did you mean 'model.layers.0.mlp.up_proj.weight'"), e.getMessage());

            WeightLoadException far = assertThrows(WeightLoadException.class, () -> f.get("lm_head.weight"));
            assertTrue(far.getMessage().contains("'lm_head.weight'"), far.getMessage());
            assertFalse(far.getMessage().contains("did you mean"), far.getMessage());
            assertTrue(f.contains("model.layers.0.mlp.down_proj.weight"));
            assertFalse(f.contains("model.layers.0.mlp.gate_proj.weight"));
        }
    }

    @Test
    void tensorsAreInvalidAfterClose() {
        Path file = dir.resolve("closed.safetensors");
        SafetensorsWriter.write(file, Map.of("x", Tensor.of(new float[] {1, 2}, 2)));
        SafetensorsFile f = SafetensorsFile.open(file);
        Tensor x = f.get("x");
        assertEquals(2f, x.getFloat(1));
        f.close();
        f.close(); // idempotent
        assertThrows(IllegalStateException.class, () -> x.getFloat(1));
    }

    @Test
    void manyTensorsRoundTrip() {
        Map<String, Tensor> in = new LinkedHashMap<>();
        List<String> names = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            String n = "layer." + i + ".w";
            names.add(n);
            in.put(n, patterned(DType.values()[i % DType.values().length], Shape.of(i % 5, 3), i));
        }
        Path file = dir.resolve("many.safetensors");
        SafetensorsWriter.write(file, in);
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            assertEquals(names, List.copyOf(f.names()));
            for (String n : names) {
                assertArrayEquals(in.get(n).data().toArray(ValueLayout.JAVA_BYTE), f.get(n).data().toArray(ValueLayout.JAVA_BYTE), n);
            }
        }
    }
}
