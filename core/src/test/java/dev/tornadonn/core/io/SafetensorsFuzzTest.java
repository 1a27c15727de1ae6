package dev.tornadonn.core.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tornadonn.core.DType;
import dev.tornadonn.core.Tensor;
import dev.tornadonn.core.TornadoNnException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Mutation fuzzing of the reader: valid files, built here by hand, are damaged at random (bit
 * flips, truncation, appended bytes, header-length edits, and JSON edits to dtypes, shapes and
 * offsets), and each must either open with consistent data or be refused with a one-line
 * {@link TornadoNnException} — never another exception type, a hang, or a write to the disk.
 * {@code -Dtornadonn.seed=N} replays a run.
 */
class SafetensorsFuzzTest {
    private static final int FILES = 3000;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final List<DType> DTYPES = List.of(DType.values());
    private static final List<String> DTYPE_NAMES = List.of("F32", "F16", "BF16", "F8_E4M3", "F8_E5M2", "I8", "U8",
            "I32", "I64", "F64", "BOOL", "", "f32", "F32 ", "I4", "\u00e9", "F8_E4M3FN");

    @TempDir
    Path dir;

    @Test
    void mutatedFilesOpenConsistentlyOrFailWithOneLine() throws IOException {
        long seed = Long.getLong("tornadonn.seed", System.nanoTime());
        System.out.println("SafetensorsFuzzTest seed " + seed + " (replay with -Dtornadonn.seed=" + seed + ")");
        SplittableRandom rnd = new SplittableRandom(seed);
        int opened = 0;
        int refused = 0;
        long start = System.nanoTime();
        for (int i = 0; i < FILES; i++) {
            byte[] valid = validFile(rnd);
            String[] how = new String[1];
            byte[] mutated = mutate(valid, rnd, how);
            Path p = dir.resolve("m" + i + ".safetensors");
            Files.write(p, mutated);
            Map<String, String> before = snapshot();
            String where = "seed " + seed + ", file " + i + " (" + how[0] + ")";
            try {
                checkConsistent(p, mutated, where);
                opened++;
            } catch (TornadoNnException e) {
                refused++;
                String m = e.getMessage();
                assertTrue(m != null && !m.isBlank(), where + ": empty message");
                assertFalse(m.contains("\n") || m.contains("\r"), where + ": message of several lines: " + m);
                assertTrue(m.contains(p.toString()), where + ": the message must name the file: " + m);
            } catch (Throwable t) {
                fail(where + ": " + t.getClass().getName() + " escaped: " + t.getMessage(), t);
            }
            assertEquals(before, snapshot(), where + ": the directory changed");
            assertArrayEquals(mutated, Files.readAllBytes(p), where + ": the file changed");
            Files.delete(p);
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        System.out.printf("SafetensorsFuzzTest: %d files, %d opened, %d refused, %.1f s%n", FILES, opened, refused, seconds);
        assertTrue(refused > FILES / 4 && opened > 0, "the mutations should exercise both outcomes: " + opened + " opened, " + refused + " refused");
    }

    /** Opens the file and reads every tensor; each must hold exactly its header's bytes of the file. */
    private static void checkConsistent(Path p, byte[] file, String where) {
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            long headerLength = ByteBuffer.wrap(file, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
            long dataStart = 8 + headerLength;
            long covered = 0;
            List<TensorInfo> infos = new ArrayList<>();
            for (String name : f.names()) {
                TensorInfo info = f.info(name);
                Tensor t = f.get(name);
                assertEquals(info.dtype(), t.dtype(), where);
                assertEquals(info.shape(), t.shape(), where);
                long bytes = t.data().byteSize();
                assertEquals(info.end() - info.begin(), bytes, where + ": tensor '" + name + "'");
                assertEquals(t.shape().numel() * t.dtype().byteSize(), bytes, where + ": tensor '" + name + "'");
                byte[] expected = Arrays.copyOfRange(file, (int) (dataStart + info.begin()), (int) (dataStart + info.end()));
                assertArrayEquals(expected, t.data().toArray(ValueLayout.JAVA_BYTE), where + ": tensor '" + name + "'");
                covered += bytes;
                infos.add(info);
            }
            assertEquals(file.length - dataStart, covered, where + ": the tensors must cover the data section");
            infos.sort(Comparator.comparingLong(TensorInfo::begin));
            long next = 0;
            for (TensorInfo info : infos) {
                assertEquals(next, info.begin(), where + ": gap or overlap before '" + info.name() + "'");
                next = info.end();
            }
        }
    }

    private Map<String, String> snapshot() throws IOException {
        Map<String, String> out = new TreeMap<>();
        try (Stream<Path> s = Files.list(dir)) {
            for (Path q : (Iterable<Path>) s::iterator) {
                BasicFileAttributes a = Files.readAttributes(q, BasicFileAttributes.class);
                out.put(q.getFileName().toString(), a.size() + "@" + a.lastModifiedTime().toMillis());
            }
        }
        return out;
    }

    // ---- valid files -----------------------------------------------------------------------------

    /** One to four tensors of random dtypes and small shapes (rank 0 to 3, zero sizes included), random data. */
    private static byte[] validFile(SplittableRandom rnd) {
        ObjectNode header = JsonNodeFactory.instance.objectNode();
        if (rnd.nextInt(4) == 0) {
            header.putObject("__metadata__").put("format", "pt");
        }
        int n = 1 + rnd.nextInt(4);
        long offset = 0;
        for (int i = 0; i < n; i++) {
            DType dtype = DTYPES.get(rnd.nextInt(DTYPES.size()));
            int rank = rnd.nextInt(4);
            ArrayNode shape = JsonNodeFactory.instance.arrayNode();
            long numel = 1;
            for (int d = 0; d < rank; d++) {
                int dim = rnd.nextInt(10) == 0 ? 0 : 1 + rnd.nextInt(5);
                shape.add(dim);
                numel *= dim;
            }
            long bytes = numel * dtype.byteSize();
            ObjectNode e = header.putObject("t" + i);
            e.put("dtype", dtype.safetensorsName());
            e.set("shape", shape);
            e.putArray("data_offsets").add(offset).add(offset + bytes);
            offset += bytes;
        }
        byte[] data = new byte[(int) offset];
        rnd.nextBytes(data);
        return assemble(header.toString(), rnd.nextBoolean(), data);
    }

    private static byte[] assemble(String json, boolean pad, byte[] data) {
        byte[] h = json.getBytes(StandardCharsets.UTF_8);
        if (pad) {
            int padded = (h.length + 7) / 8 * 8;
            byte[] p = Arrays.copyOf(h, padded);
            Arrays.fill(p, h.length, padded, (byte) ' ');
            h = p;
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(h.length).array());
        out.writeBytes(h);
        out.writeBytes(data);
        return out.toByteArray();
    }

    // ---- mutations -------------------------------------------------------------------------------

    private static byte[] mutate(byte[] valid, SplittableRandom rnd, String[] how) {
        long headerLength = ByteBuffer.wrap(valid, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        byte[] b = valid.clone();
        switch (rnd.nextInt(7)) {
            case 0 -> {
                int flips = 1 + rnd.nextInt(8);
                for (int k = 0; k < flips; k++) {
                    int at = rnd.nextInt(b.length);
                    b[at] ^= (byte) (1 << rnd.nextInt(8));
                }
                how[0] = flips + " bit flips anywhere";
            }
            case 1 -> {
                int flips = 1 + rnd.nextInt(3);
                for (int k = 0; k < flips; k++) {
                    int at = 8 + rnd.nextInt((int) headerLength);
                    b[at] ^= (byte) (1 << rnd.nextInt(8));
                }
                how[0] = flips + " bit flips in the header";
            }
            case 2 -> {
                int len = rnd.nextInt(b.length);
                b = Arrays.copyOf(b, len);
                how[0] = "truncated to " + len + " bytes";
            }
            case 3 -> {
                byte[] extra = new byte[1 + rnd.nextInt(16)];
                rnd.nextBytes(extra);
                byte[] c = Arrays.copyOf(b, b.length + extra.length);
                System.arraycopy(extra, 0, c, b.length, extra.length);
                b = c;
                how[0] = extra.length + " bytes appended";
            }
            case 4 -> {
                long[] choices = {headerLength + 1, headerLength - 1, headerLength + 8, headerLength - 8, 0, 1, 2,
                        -1, Long.MIN_VALUE, Long.MAX_VALUE, 1L << 40, SafetensorsFile.MAX_HEADER_BYTES,
                        SafetensorsFile.MAX_HEADER_BYTES + 1, rnd.nextLong(), rnd.nextInt(b.length + 16)};
                long len = choices[rnd.nextInt(choices.length)];
                ByteBuffer.wrap(b, 0, 8).order(ByteOrder.LITTLE_ENDIAN).putLong(len);
                how[0] = "header length " + headerLength + " -> " + len;
            }
            case 5 -> {
                int at = 8 + rnd.nextInt((int) headerLength);
                byte[] c = new byte[b.length + 1];
                System.arraycopy(b, 0, c, 0, at);
                String alphabet = "{}[],:\"0-9e. \u0000";
                c[at] = (byte) alphabet.charAt(rnd.nextInt(alphabet.length()));
                System.arraycopy(b, at, c, at + 1, b.length - at);
                b = c;
                how[0] = "byte inserted into the header at " + at + " (length prefix kept)";
            }
            default -> b = jsonEdit(valid, headerLength, rnd, how);
        }
        return b;
    }

    /** Edits the parsed header (a dtype, a shape, the offsets, a field) and reframes it with a matching length. */
    private static byte[] jsonEdit(byte[] valid, long headerLength, SplittableRandom rnd, String[] how) {
        ObjectNode header;
        try {
            header = (ObjectNode) JSON.readTree(new String(valid, 8, (int) headerLength, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new AssertionError(e);
        }
        byte[] data = Arrays.copyOfRange(valid, (int) (8 + headerLength), valid.length);
        List<String> names = new ArrayList<>();
        header.fieldNames().forEachRemaining(n -> {
            if (!n.equals("__metadata__")) {
                names.add(n);
            }
        });
        String name = names.get(rnd.nextInt(names.size()));
        ObjectNode entry = (ObjectNode) header.get(name);
        JsonNodeFactory f = JsonNodeFactory.instance;
        ArrayNode shape = (ArrayNode) entry.get("shape");
        ArrayNode offsets = (ArrayNode) entry.get("data_offsets");
        String json = null;
        switch (rnd.nextInt(16)) {
            case 0 -> {
                String d = DTYPE_NAMES.get(rnd.nextInt(DTYPE_NAMES.size()));
                entry.put("dtype", d);
                how[0] = "dtype of " + name + " -> '" + d + "'";
            }
            case 1 -> {
                entry.put("dtype", rnd.nextInt(10));
                how[0] = "dtype of " + name + " -> a number";
            }
            case 2 -> {
                shape.add(1 + rnd.nextInt(3));
                how[0] = "a dimension added to " + name;
            }
            case 3 -> {
                if (!shape.isEmpty()) {
                    shape.remove(rnd.nextInt(shape.size()));
                }
                how[0] = "a dimension removed from " + name;
            }
            case 4 -> {
                long[] dims = {-1, 0, 2, 7, Integer.MAX_VALUE, 1L << 31, 1L << 40, Long.MAX_VALUE, Long.MIN_VALUE};
                long d = dims[rnd.nextInt(dims.length)];
                if (shape.isEmpty()) {
                    shape.add(d);
                } else {
                    shape.set(rnd.nextInt(shape.size()), f.numberNode(d));
                }
                how[0] = "a dimension of " + name + " -> " + d;
            }
            case 5 -> {
                JsonNode[] odd = {f.numberNode(1.5), f.textNode("3"), f.nullNode(), f.booleanNode(true),
                        f.numberNode(new java.math.BigInteger("123456789012345678901234567890")), f.arrayNode()};
                JsonNode o = odd[rnd.nextInt(odd.length)];
                shape.add(o);
                how[0] = "a dimension of " + name + " -> " + o;
            }
            case 6 -> {
                entry.set("shape", rnd.nextBoolean() ? f.textNode("[2, 3]") : f.numberNode(6));
                how[0] = "shape of " + name + " not an array";
            }
            case 7 -> {
                long b0 = offsets.get(0).longValue();
                long b1 = offsets.get(1).longValue();
                entry.putArray("data_offsets").add(b1).add(b0);
                how[0] = "offsets of " + name + " swapped";
            }
            case 8 -> {
                long delta = rnd.nextInt(17) - 8;
                int which = rnd.nextInt(3);
                long b0 = offsets.get(0).longValue() + (which != 1 ? delta : 0);
                long b1 = offsets.get(1).longValue() + (which != 0 ? delta : 0);
                entry.putArray("data_offsets").add(b0).add(b1);
                how[0] = "offsets of " + name + " shifted by " + delta + " (" + which + ")";
            }
            case 9 -> {
                long[] big = {-1, Long.MAX_VALUE, Long.MIN_VALUE, 1L << 62, Integer.MAX_VALUE + 1L};
                long v = big[rnd.nextInt(big.length)];
                offsets.set(rnd.nextInt(2), f.numberNode(v));
                how[0] = "an offset of " + name + " -> " + v;
            }
            case 10 -> {
                JsonNode[] odd = {f.numberNode(0.5), f.textNode("0"), f.nullNode(), f.arrayNode(),
                        f.numberNode(new java.math.BigInteger("99999999999999999999999"))};
                offsets.set(rnd.nextInt(2), odd[rnd.nextInt(odd.length)]);
                how[0] = "an offset of " + name + " not an integer";
            }
            case 11 -> {
                if (rnd.nextBoolean()) {
                    offsets.add(0);
                } else {
                    offsets.remove(0);
                }
                how[0] = "offsets of " + name + " not a pair";
            }
            case 12 -> {
                String field = List.of("dtype", "shape", "data_offsets").get(rnd.nextInt(3));
                entry.remove(field);
                how[0] = field + " of " + name + " removed";
            }
            case 13 -> {
                entry.put("extra", 1);
                how[0] = "unknown field in " + name;
            }
            case 14 -> {
                header.putObject("__metadata__").put("k", rnd.nextBoolean() ? f.numberNode(1) : f.nullNode());
                how[0] = "non-string metadata";
            }
            default -> {
                // A duplicate key: Jackson's tree cannot hold one, so splice the text.
                String text = header.toString();
                String dup = "\"" + name + "\":" + entry;
                json = text.substring(0, text.length() - 1) + "," + dup + "}";
                how[0] = "key " + name + " twice";
            }
        }
        if (json == null) {
            json = rnd.nextInt(8) == 0 ? "[" + header + "]" : header.toString();
        }
        return assemble(json, rnd.nextBoolean(), data);
    }
}
