package dev.tornadonn.core.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Every way the reader must refuse a file: a {@link SafetensorsException} naming the file (and tensor). */
class SafetensorsMalformedTest {
    @TempDir
    Path dir;

    private int counter;

    private Path file() {
        return dir.resolve("bad" + (counter++) + ".safetensors");
    }

    /** A header entry {@code "name":{dtype, shape, data_offsets}} with the given raw JSON pieces. */
    private static String entry(String name, String dtype, String shape, String offsets) {
        return "\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape + ",\"data_offsets\":" + offsets + "}";
    }

    private static SafetensorsException assertRejected(Path p, String... fragments) {
        SafetensorsException e = assertThrows(SafetensorsException.class, () -> SafetensorsFile.open(p).close());
        String m = e.getMessage();
        assertTrue(m.contains(p.toString()), "message must name the file: " + m);
        for (String f : fragments) {
            assertTrue(m.contains(f), "message must contain '" + f + "': " + m);
        }
        return e;
    }

    private Path withHeader(String json, int dataBytes) {
        return RawSafetensors.write(file(), json, new byte[dataBytes]);
    }

    // ---- framing -------------------------------------------------------------------------------

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 5, 7})
    void fileShorterThanEightBytes(int size) {
        Path p = RawSafetensors.writeBytes(file(), new byte[size]);
        assertRejected(p, size + " bytes", "truncated");
    }

    @Test
    void headerLengthLargerThanTheFile() {
        byte[] h = "{}".getBytes(StandardCharsets.UTF_8);
        Path p = RawSafetensors.write(file(), 1000, h, new byte[0]);
        assertRejected(p, "header length 1000", "runs past the end", "truncated");
        // Just one byte short.
        byte[] json = "{\"a\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[0,0]}}".getBytes(StandardCharsets.UTF_8);
        assertRejected(RawSafetensors.write(file(), json.length + 1, json, new byte[0]), "runs past the end");
    }

    @Test
    void absurdHeaderLengths() {
        assertRejected(RawSafetensors.write(file(), -1, new byte[8], new byte[0]), "header length -1", "not between");
        assertRejected(RawSafetensors.write(file(), 1L << 40, new byte[8], new byte[0]), "not between");
        assertRejected(RawSafetensors.write(file(), 0, new byte[0], new byte[0]), "header length 0");
        assertRejected(RawSafetensors.write(file(), (100L << 20) + 1, new byte[8], new byte[0]), "not between");
    }

    @Test
    void missingFile() {
        assertRejected(dir.resolve("does-not-exist.safetensors"), "no such file");
    }

    // ---- header JSON ---------------------------------------------------------------------------

    @Test
    void headerNotJson() {
        assertRejected(withHeader("this is not json", 0), "not valid JSON");
        assertRejected(withHeader("{\"a\":", 0), "not valid JSON");
        assertRejected(withHeader("{'a':1}", 0), "not valid JSON");
    }

    @Test
    void trailingGarbageAfterTheHeaderObject() {
        assertRejected(withHeader("{} {}", 0), "not valid JSON");
        assertRejected(withHeader("{}x", 0), "not valid JSON");
        assertRejected(withHeader("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}}", 4), "JSON");
    }

    @ParameterizedTest
    @ValueSource(strings = {"[1,2]", "\"str\"", "42", "null", "true", "   "})
    void headerNotAnObject(String json) {
        assertRejected(withHeader(json, 0), "JSON object");
    }

    @Test
    void duplicateKeys() {
        String json = "{" + entry("dup", "F32", "[1]", "[0,4]") + "," + entry("dup", "F32", "[1]", "[4,8]") + "}";
        assertRejected(withHeader(json, 8), "dup", "Duplicate");
        String meta = "{\"__metadata__\":{\"k\":\"a\",\"k\":\"b\"}}";
        assertRejected(withHeader(meta, 0), "'k'");
    }

    // ---- entries -------------------------------------------------------------------------------

    @Test
    void unknownDType() {
        String json = "{" + entry("w.q", "F4", "[2]", "[0,1]") + "}";
        SafetensorsException e = assertRejected(withHeader(json, 1), "'w.q'", "'F4'");
        assertTrue(e.getMessage().contains("BF16"), "lists supported dtypes: " + e.getMessage());
        assertRejected(withHeader("{" + entry("lower", "f32", "[1]", "[0,4]") + "}", 4), "'lower'", "'f32'");
    }

    @Test
    void dtypeMissingOrNotAString() {
        assertRejected(withHeader("{\"t\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 4), "'t'", "dtype");
        assertRejected(withHeader("{\"t\":{\"dtype\":7,\"shape\":[1],\"data_offsets\":[0,4]}}", 4), "'t'", "dtype");
    }

    @ParameterizedTest
    @ValueSource(strings = {"[-1]", "[2,-3]", "[2.5]", "[2.0]", "[\"2\"]", "[null]", "[2147483648]",
            "[99999999999999999999]", "[[2]]", "[true]"})
    void badShapeEntries(String shape) {
        String json = "{" + entry("emb", "U8", shape, "[0,2]") + "}";
        assertRejected(withHeader(json, 2), "'emb'", "shape");
    }

    @ParameterizedTest
    @ValueSource(strings = {"\"2\"", "2", "{}", "null"})
    void shapeNotAnArray(String shape) {
        assertRejected(withHeader("{" + entry("emb", "U8", shape, "[0,2]") + "}", 2), "'emb'", "shape");
    }

    @Test
    void missingShape() {
        assertRejected(withHeader("{\"s\":{\"dtype\":\"U8\",\"data_offsets\":[0,1]}}", 1), "'s'", "shape");
    }

    @ParameterizedTest
    @ValueSource(strings = {"[0]", "[0,4,8]", "[]", "\"0,4\"", "[0.0,4.0]", "[0,\"4\"]", "null", "[0,99999999999999999999]"})
    void dataOffsetsWrongArityOrType(String offsets) {
        assertRejected(withHeader("{" + entry("x", "F32", "[1]", offsets) + "}", 4), "'x'", "data_offsets");
    }

    @Test
    void missingDataOffsets() {
        assertRejected(withHeader("{\"x\":{\"dtype\":\"F32\",\"shape\":[1]}}", 4), "'x'", "data_offsets");
    }

    @Test
    void negativeOffsets() {
        assertRejected(withHeader("{" + entry("x", "F32", "[1]", "[-4,0]") + "}", 4), "'x'", "[-4, 0]");
        assertRejected(withHeader("{" + entry("x", "F32", "[0]", "[-1,-1]") + "}", 0), "'x'", "begin");
    }

    @Test
    void endBeforeBegin() {
        assertRejected(withHeader("{" + entry("x", "F32", "[1]", "[8,4]") + "}", 8), "'x'", "[8, 4]", "begin <= end");
    }

    @Test
    void byteSizeDoesNotMatchShapeTimesDType() {
        SafetensorsException e = assertRejected(withHeader("{" + entry("w", "F32", "[2,3]", "[0,12]") + "}", 12),
                "'w'", "12 bytes", "24");
        assertTrue(e.getMessage().contains("(2, 3)"), e.getMessage());
        assertRejected(withHeader("{" + entry("h", "BF16", "[3]", "[0,3]") + "}", 3), "'h'", "needs 6");
        assertRejected(withHeader("{" + entry("s", "I64", "[]", "[0,4]") + "}", 4), "'s'", "needs 8");
        assertRejected(withHeader("{" + entry("z", "F32", "[0]", "[0,4]") + "}", 4), "'z'", "needs 0");
    }

    @Test
    void hugeShapeIsRejectedWithoutOverflow() {
        String shape = "[2147483647,2147483647,2147483647]";
        assertRejected(withHeader("{" + entry("big", "I64", shape, "[0,8]") + "}", 8), "'big'");
    }

    @Test
    void offsetsPastTheEndOfTheData() {
        String json = "{" + entry("a", "F32", "[1]", "[0,4]") + "," + entry("b", "F32", "[2]", "[4,12]") + "}";
        SafetensorsException e = assertRejected(withHeader(json, 8), "'b'", "truncated");
        assertTrue(e.getMessage().contains("8-byte data section"), e.getMessage());
        assertRejected(withHeader("{" + entry("only", "F32", "[4]", "[0,16]") + "}", 0), "'only'", "truncated");
    }

    @Test
    void overlappingTensors() {
        String json = "{" + entry("a", "F32", "[2]", "[0,8]") + "," + entry("b", "F32", "[2]", "[4,12]") + "}";
        assertRejected(withHeader(json, 12), "'a'", "'b'", "overlap");
        // Exact duplicates of the same range overlap too.
        String same = "{" + entry("a", "F32", "[2]", "[0,8]") + "," + entry("c", "F32", "[2]", "[0,8]") + "}";
        assertRejected(withHeader(same, 8), "'a'", "'c'", "overlap");
        // An empty tensor inside another one's bytes.
        String inside = "{" + entry("a", "F32", "[2]", "[0,8]") + "," + entry("e", "F32", "[0]", "[4,4]") + "}";
        assertRejected(withHeader(inside, 8), "'e'", "overlap");
    }

    @Test
    void gapBetweenTensors() {
        String json = "{" + entry("a", "F32", "[1]", "[0,4]") + "," + entry("b", "F32", "[1]", "[8,12]") + "}";
        assertRejected(withHeader(json, 12), "'b'", "4 unaccounted bytes");
        assertRejected(withHeader("{" + entry("late", "F32", "[1]", "[4,8]") + "}", 8), "'late'", "unaccounted");
    }

    @Test
    void trailingBytesAfterTheLastTensor() {
        assertRejected(withHeader("{" + entry("a", "F32", "[1]", "[0,4]") + "}", 7), "3 bytes after the last tensor");
        assertRejected(withHeader("{}", 1), "1 bytes after the last tensor");
    }

    @Test
    void unknownFieldInAnEntry() {
        String json = "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"extra\":1}}";
        assertRejected(withHeader(json, 4), "'w'", "unknown field 'extra'");
    }

    @ParameterizedTest
    @ValueSource(strings = {"5", "\"F32\"", "[1]", "null"})
    void entryNotAnObject(String value) {
        assertRejected(withHeader("{\"w\":" + value + "}", 0), "'w'", "object");
    }

    @ParameterizedTest
    @ValueSource(strings = {"1", "true", "null", "{\"nested\":\"x\"}", "[\"a\"]"})
    void nonStringMetadataValue(String value) {
        assertRejected(withHeader("{\"__metadata__\":{\"ok\":\"fine\",\"bad\":" + value + "}}", 0),
                "__metadata__", "'bad'", "string");
    }

    @ParameterizedTest
    @ValueSource(strings = {"\"pt\"", "[]", "1"})
    void metadataNotAnObject(String value) {
        assertRejected(withHeader("{\"__metadata__\":" + value + "}", 0), "__metadata__");
    }

    @Test
    void validEdgeCasesAreAccepted() {
        // Sanity for the helpers above: the same construction, well-formed, opens.
        String json = "{" + entry("a", "F32", "[1]", "[0,4]") + "," + entry("e", "F32", "[0]", "[4,4]") + ","
                + entry("b", "U8", "[2]", "[4,6]") + ",\"__metadata__\":{\"k\":\"v\"}}";
        try (SafetensorsFile f = SafetensorsFile.open(withHeader(json, 6))) {
            assertEquals(3, f.names().size());
            assertEquals("v", f.metadata().get("k"));
        }
        try (SafetensorsFile f = SafetensorsFile.open(withHeader("{}", 0))) {
            assertTrue(f.names().isEmpty());
        }
        try (SafetensorsFile f = SafetensorsFile.open(withHeader("  {}  ", 0))) {
            assertTrue(f.names().isEmpty());
        }
        // A non-ASCII key.
        try (SafetensorsFile f = SafetensorsFile.open(withHeader("{" + entry("ключ", "U8", "[1]", "[0,1]") + "}", 1))) {
            assertTrue(f.contains("ключ"));
        }
    }

    @Test
    void aHeaderThatIsNotUtf8IsRejected(@TempDir Path dir) {
        byte[] header = {'{', '"', (byte) 0xC3, (byte) 0x28, '"', ':', '{', '}', '}', ' ', ' ', ' ', ' ', ' ', ' ', ' '};
        Path file = RawSafetensors.write(dir.resolve("latin1.safetensors"), header.length, header, new byte[0]);
        SafetensorsException e = assertThrows(SafetensorsException.class, () -> SafetensorsFile.open(file));
        assertTrue(e.getMessage().contains("not valid UTF-8") && e.getMessage().contains("latin1.safetensors"), e.getMessage());
    }
}
