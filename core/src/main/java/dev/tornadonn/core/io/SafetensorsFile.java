package dev.tornadonn.core.io;

import dev.tornadonn.core.ConfigException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tornadonn.core.DType;
import dev.tornadonn.core.DeviceRef;
import dev.tornadonn.core.Shape;
import dev.tornadonn.core.Tensor;
import dev.tornadonn.core.WeightLoadException;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A memory-mapped safetensors file. The header is validated completely on open: well-formed
 * JSON, known dtypes, byte sizes that match shape × dtype, offsets within the data and covering
 * it without overlaps or gaps. Tensors returned by {@link #get} are views of the mapping, valid
 * until {@link #close()}.
 */
public final class SafetensorsFile implements TensorSource, AutoCloseable {
    /** The format's own bound on the header, against a hostile length prefix. */
    static final long MAX_HEADER_BYTES = 100L << 20;
    private static final String METADATA_KEY = "__metadata__";
    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            // Otherwise readTree stops after the first value and "{} garbage" passes as a header.
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private final Path path;
    private final Arena arena;
    private final MemorySegment data;
    private final Map<String, TensorInfo> tensors;
    private final Map<String, String> metadata;

    private SafetensorsFile(Path path, Arena arena, MemorySegment data,
                            Map<String, TensorInfo> tensors, Map<String, String> metadata) {
        this.path = path;
        this.arena = arena;
        this.data = data;
        this.tensors = tensors;
        this.metadata = metadata;
    }

    public static SafetensorsFile open(Path path) {
        CheckpointFiles.requireRegularFile(path, "safetensors", SafetensorsException::new);
        Arena arena = Arena.ofShared();
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
            long size = channel.size();
            MemorySegment file = size == 0 ? MemorySegment.NULL : channel.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            if (size < 8) {
                throw new SafetensorsException(path + ": file is " + size
                        + " bytes; a safetensors file starts with an 8-byte header length (truncated file?)");
            }
            long headerLength = file.get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0);
            if (headerLength < 2 || headerLength > MAX_HEADER_BYTES) {
                throw new SafetensorsException(path + ": header length " + headerLength
                        + " is not between 2 and " + MAX_HEADER_BYTES + " bytes (not a safetensors file?)");
            }
            if (headerLength > size - 8) {
                throw new SafetensorsException(path + ": header length " + headerLength + " runs past the end of the "
                        + size + "-byte file (truncated file?)");
            }
            String header = utf8(path, file.asSlice(8, headerLength).toArray(ValueLayout.JAVA_BYTE));
            MemorySegment dataSection = file.asSlice(8 + headerLength);
            Map<String, String> metadata = new LinkedHashMap<>();
            Map<String, TensorInfo> tensors = parseHeader(path, header, dataSection.byteSize(), metadata);
            return new SafetensorsFile(path, arena, dataSection, tensors, Collections.unmodifiableMap(metadata));
        } catch (IOException e) {
            arena.close();
            throw cannotRead(path, e);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    /** The real cause of an I/O failure, in one line (see {@link CheckpointFiles#cannotRead}). */
    static SafetensorsException cannotRead(Path path, IOException e) {
        return CheckpointFiles.cannotRead(path, e, SafetensorsException::new);
    }

    private static String utf8(Path path, byte[] bytes) {
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new SafetensorsException(path + ": header is not valid UTF-8");
        }
    }

    private static Map<String, TensorInfo> parseHeader(Path path, String header, long dataBytes,
                                                       Map<String, String> metadataOut) {
        JsonNode root;
        try {
            root = JSON.readTree(header);
        } catch (JsonProcessingException e) {
            throw new SafetensorsException(path + ": header is not valid JSON: " + e.getOriginalMessage());
        }
        if (root == null || !root.isObject()) {
            throw new SafetensorsException(path + ": header must be a JSON object");
        }
        List<TensorInfo> infos = new ArrayList<>();
        for (Map.Entry<String, JsonNode> field : root.properties()) {
            String name = field.getKey();
            JsonNode node = field.getValue();
            if (name.equals(METADATA_KEY)) {
                readMetadata(path, node, metadataOut);
            } else {
                infos.add(readEntry(path, name, node));
            }
        }
        infos.sort(Comparator.comparingLong(TensorInfo::begin).thenComparingLong(TensorInfo::end));
        long expectedBegin = 0;
        TensorInfo previous = null;
        for (TensorInfo t : infos) {
            if (t.end() > dataBytes) {
                throw new SafetensorsException(path + ": tensor '" + t.name() + "': data_offsets [" + t.begin() + ", "
                        + t.end() + "] run past the end of the " + dataBytes + "-byte data section (truncated file?)");
            }
            if (t.begin() < expectedBegin) {
                throw new SafetensorsException(path + ": tensors '" + previous.name() + "' and '" + t.name()
                        + "' overlap (bytes " + t.begin() + " to " + expectedBegin + ")");
            }
            if (t.begin() > expectedBegin) {
                throw new SafetensorsException(path + ": " + (t.begin() - expectedBegin) + " unaccounted bytes before tensor '"
                        + t.name() + "' (data_offsets must cover the data section without gaps)");
            }
            expectedBegin = t.end();
            previous = t;
        }
        if (expectedBegin != dataBytes) {
            throw new SafetensorsException(path + ": " + (dataBytes - expectedBegin)
                    + " bytes after the last tensor are not described by the header");
        }
        Map<String, TensorInfo> byName = new LinkedHashMap<>();
        for (TensorInfo t : infos) {
            byName.put(t.name(), t);
        }
        return Collections.unmodifiableMap(byName);
    }

    private static void readMetadata(Path path, JsonNode node, Map<String, String> out) {
        if (!node.isObject()) {
            throw new SafetensorsException(path + ": __metadata__ must be an object of strings");
        }
        for (Map.Entry<String, JsonNode> e : node.properties()) {
            if (!e.getValue().isTextual()) {
                throw new SafetensorsException(path + ": __metadata__ value for '" + e.getKey() + "' must be a string");
            }
            out.put(e.getKey(), e.getValue().textValue());
        }
    }

    private static TensorInfo readEntry(Path path, String name, JsonNode node) {
        String where = path + ": tensor '" + name + "'";
        if (!node.isObject()) {
            throw new SafetensorsException(where + ": entry must be an object with dtype, shape and data_offsets");
        }
        for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!Set.of("dtype", "shape", "data_offsets").contains(f)) {
                throw new SafetensorsException(where + ": unknown field '" + f + "'");
            }
        }
        JsonNode dtypeNode = node.get("dtype");
        if (dtypeNode == null || !dtypeNode.isTextual()) {
            throw new SafetensorsException(where + ": missing or non-string dtype");
        }
        DType dtype;
        try {
            dtype = DType.fromSafetensors(dtypeNode.textValue());
        } catch (ConfigException | IllegalArgumentException e) {
            throw new SafetensorsException(where + ": " + e.getMessage());
        }
        JsonNode shapeNode = node.get("shape");
        if (shapeNode == null || !shapeNode.isArray()) {
            throw new SafetensorsException(where + ": missing or non-array shape");
        }
        long[] dims = new long[shapeNode.size()];
        for (int i = 0; i < dims.length; i++) {
            JsonNode d = shapeNode.get(i);
            if (!d.canConvertToLong() || !d.isIntegralNumber() || d.longValue() < 0 || d.longValue() > Integer.MAX_VALUE) {
                throw new SafetensorsException(where + ": shape " + shapeNode + " must hold integers between 0 and 2^31-1");
            }
            dims[i] = d.longValue();
        }
        Shape shape = Shape.of(dims);
        JsonNode offsets = node.get("data_offsets");
        if (offsets == null || !offsets.isArray() || offsets.size() != 2
                || !offsets.get(0).isIntegralNumber() || !offsets.get(1).isIntegralNumber()
                || !offsets.get(0).canConvertToLong() || !offsets.get(1).canConvertToLong()) {
            throw new SafetensorsException(where + ": data_offsets must be two integers [begin, end]");
        }
        long begin = offsets.get(0).longValue();
        long end = offsets.get(1).longValue();
        if (begin < 0 || end < begin) {
            throw new SafetensorsException(where + ": data_offsets [" + begin + ", " + end + "] must satisfy 0 <= begin <= end");
        }
        long needed;
        try {
            needed = Math.multiplyExact(shape.numel(), (long) dtype.byteSize());
        } catch (ArithmeticException e) {
            throw new SafetensorsException(where + ": shape " + shape + " is too large");
        }
        if (end - begin != needed) {
            throw new SafetensorsException(where + ": data_offsets [" + begin + ", " + end + "] hold " + (end - begin)
                    + " bytes, but " + dtype + " " + shape + " needs " + needed);
        }
        return new TensorInfo(name, dtype, shape, begin, end);
    }

    public Path path() {
        return path;
    }

    @Override
    public Set<String> names() {
        return tensors.keySet();
    }

    public Map<String, String> metadata() {
        return metadata;
    }

    /** The header entry for {@code name}, or null if the file has none. */
    public TensorInfo info(String name) {
        return tensors.get(name);
    }

    @Override
    public Tensor get(String name) {
        TensorInfo t = tensors.get(name);
        if (t == null) {
            throw new WeightLoadException("missing key '" + name + "' in " + path + KeyHints.didYouMean(name, names()));
        }
        return new Tensor(t.shape(), t.dtype(), DeviceRef.cpu(0), data.asSlice(t.begin(), t.end() - t.begin()));
    }

    @Override
    public String describe() {
        return path.toString();
    }

    /** Unmaps the file; tensors obtained from it must not be used afterwards. */
    @Override
    public void close() {
        if (arena.scope().isAlive()) {
            arena.close();
        }
    }
}
