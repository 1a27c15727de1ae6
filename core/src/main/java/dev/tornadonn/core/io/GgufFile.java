package dev.tornadonn.core.io;

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
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * A memory-mapped GGUF file, as llama.cpp and its {@code gguf} Python package write it (versions 2
 * and 3, little-endian). The header is read completely on open: the metadata (every value type,
 * arrays included), the tensor infos and the alignment ({@code general.alignment}, 32 by default);
 * each tensor is checked to be a whole number of its type's blocks per row, aligned, inside the
 * data section and apart from the others. Tensors returned by {@link #get} are views of the
 * mapping, valid until {@link #close()}.
 *
 * <p>GGUF lists dimensions innermost first; here shapes are outermost first, as elsewhere in this
 * library, so a weight stored as {@code [in, out]} is {@code (out, in)}. A tensor of a plain type
 * ({@link GgmlType#dtype()}) is a tensor of that dtype; a block-quantised one is a U8 tensor of its
 * raw blocks, shaped {@code (..., rowBytes)}: each row is the whole blocks of one innermost row.
 */
public final class GgufFile implements TensorSource, AutoCloseable {
    /** "GGUF" read as a little-endian u32. */
    static final int MAGIC = 0x46554747;
    static final int DEFAULT_ALIGNMENT = 32;
    /** ggml's GGML_MAX_DIMS. */
    static final int MAX_DIMS = 4;
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfDouble F64 = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final String[] VALUE_TYPES = {"UINT8", "INT8", "UINT16", "INT16", "UINT32", "INT32", "FLOAT32", "BOOL",
            "STRING", "ARRAY", "UINT64", "INT64", "FLOAT64"};

    /**
     * A tensor as the file describes it.
     *
     * @param dims   outermost first (GGUF stores them innermost first)
     * @param offset from the start of the data section
     * @param bytes  its size: rows × whole blocks
     */
    public record GgufTensor(String name, GgmlType type, long[] dims, long offset, long bytes) {
        /** The number of elements along the innermost dimension (GGUF's {@code ne[0]}). */
        public long rowLength() {
            return dims.length == 0 ? 1 : dims[dims.length - 1];
        }
    }

    private final Path path;
    private final Arena arena;
    private final int version;
    private final long alignment;
    private final Map<String, Object> metadata;
    private final Map<String, GgufTensor> tensors;
    private final MemorySegment data;

    private GgufFile(Path path, Arena arena, int version, long alignment, Map<String, Object> metadata,
                     Map<String, GgufTensor> tensors, MemorySegment data) {
        this.path = path;
        this.arena = arena;
        this.version = version;
        this.alignment = alignment;
        this.metadata = metadata;
        this.tensors = tensors;
        this.data = data;
    }

    /** Whether {@code path} is a regular file starting with GGUF's magic. */
    public static boolean hasMagic(Path path) {
        if (!Files.isRegularFile(path)) {
            return false;
        }
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
            ByteBuffer b = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN);
            while (b.hasRemaining() && channel.read(b) > 0) {
                // reads the first four bytes
            }
            return !b.hasRemaining() && b.getInt(0) == MAGIC;
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * Maps and reads {@code path}.
     *
     * @throws GgufException naming the file (and the key or tensor) for a missing, unreadable or malformed file
     */
    public static GgufFile open(Path path) {
        CheckpointFiles.requireRegularFile(path, "GGUF", GgufException::new);
        Arena arena = Arena.ofShared();
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
            long size = channel.size();
            MemorySegment file = size == 0 ? MemorySegment.NULL : channel.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            GgufFile f = new Parser(path, size == 0 ? MemorySegment.ofArray(new byte[0]) : file).parse(arena);
            return f;
        } catch (IOException e) {
            arena.close();
            throw CheckpointFiles.cannotRead(path, e, GgufException::new);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    /** Reads the header from a cursor over the whole file; every read is bounds-checked. */
    private static final class Parser {
        private final Path path;
        private final MemorySegment file;
        private long at;

        Parser(Path path, MemorySegment file) {
            this.path = path;
            this.file = file;
        }

        GgufFile parse(Arena arena) {
            long size = file.byteSize();
            if (size < 4) {
                throw fail("file is " + size + " bytes; a GGUF file starts with the 4-byte magic 'GGUF' (truncated file?)");
            }
            int magic = file.get(U32, 0);
            if (magic != MAGIC) {
                throw fail("does not start with GGUF's magic 'GGUF' (not a GGUF file?)");
            }
            at = 4;
            int version = u32("version");
            if (version == 1) {
                throw fail("GGUF version 1 is not supported (versions 2 and 3 are; convert it with a newer llama.cpp)");
            }
            if (Integer.reverseBytes(version) >= 1 && Integer.reverseBytes(version) <= 3) {
                throw fail("is a big-endian GGUF file; only little-endian GGUF files are supported");
            }
            if (version != 2 && version != 3) {
                throw fail("GGUF version " + Integer.toUnsignedString(version) + " is not supported (versions 2 and 3 are)");
            }
            long tensorCount = u64("tensor count");
            long kvCount = u64("metadata count");
            // Each entry takes at least 12 bytes (a key length and a type), each tensor info at least 24.
            if (kvCount < 0 || kvCount > (size - at) / 12) {
                throw fail("metadata count " + Long.toUnsignedString(kvCount) + " cannot fit in the " + size
                        + "-byte file (truncated or corrupt header?)");
            }
            if (tensorCount < 0 || tensorCount > (size - at) / 24) {
                throw fail("tensor count " + Long.toUnsignedString(tensorCount) + " cannot fit in the " + size
                        + "-byte file (truncated or corrupt header?)");
            }
            Map<String, Object> metadata = new LinkedHashMap<>();
            for (long i = 0; i < kvCount; i++) {
                String key = string("metadata key " + i);
                int type = u32("the type of " + quote(key));
                Object value = value(type, quote(key), 0);
                if (metadata.put(key, value) != null) {
                    throw fail("metadata key " + quote(key) + " appears twice");
                }
            }
            long alignment = DEFAULT_ALIGNMENT;
            Object a = metadata.get("general.alignment");
            if (a != null) {
                if (!(a instanceof Long l) || l <= 0 || Long.bitCount(l) != 1 || l > (1L << 30)) {
                    throw fail("general.alignment must be a power of two (as a UINT32), got " + a);
                }
                alignment = l;
            }
            List<GgufTensor> infos = new ArrayList<>();
            Map<String, GgufTensor> byName = new LinkedHashMap<>();
            for (long i = 0; i < tensorCount; i++) {
                GgufTensor t = tensorInfo(i, alignment);
                if (byName.put(t.name(), t) != null) {
                    throw fail("tensor " + quote(t.name()) + " appears twice");
                }
                infos.add(t);
            }
            long dataStart = (at + alignment - 1) / alignment * alignment;
            long dataBytes = Math.max(0, size - dataStart);
            infos.sort(Comparator.comparingLong(GgufTensor::offset));
            long end = 0;
            GgufTensor previous = null;
            for (GgufTensor t : infos) {
                if (t.offset() < end) {
                    throw fail("tensors " + quote(previous.name()) + " and " + quote(t.name()) + " overlap");
                }
                if (t.offset() + t.bytes() > dataBytes) {
                    throw fail("tensor " + quote(t.name()) + " (" + t.type() + ", " + t.bytes() + " bytes at data offset "
                            + t.offset() + ") runs past the end of the " + size + "-byte file (truncated file?)");
                }
                end = t.offset() + t.bytes();
                previous = t;
            }
            MemorySegment data = file.asSlice(Math.min(dataStart, size), dataBytes);
            return new GgufFile(path, arena, version, alignment, Collections.unmodifiableMap(metadata),
                    Collections.unmodifiableMap(byName), data);
        }

        private GgufTensor tensorInfo(long index, long alignment) {
            String name = string("the name of tensor " + index);
            String where = "tensor " + quote(name);
            int nDims = u32("the dimension count of " + where);
            if (nDims < 0 || nDims > MAX_DIMS) {
                throw fail(where + " has " + Integer.toUnsignedString(nDims) + " dimensions; ggml allows at most " + MAX_DIMS);
            }
            long[] ggufDims = new long[nDims];
            long elements = 1;
            for (int d = 0; d < nDims; d++) {
                ggufDims[d] = u64("dimension " + d + " of " + where);
                if (ggufDims[d] < 0 || ggufDims[d] > Integer.MAX_VALUE) {
                    throw fail(where + " has dimension " + Long.toUnsignedString(ggufDims[d]) + ", outside [0, 2^31)");
                }
                try {
                    elements = Math.multiplyExact(elements, ggufDims[d]);
                } catch (ArithmeticException e) {
                    throw fail(where + " has too many elements");
                }
            }
            int typeId = u32("the type of " + where);
            GgmlType type = GgmlType.ofId(Integer.toUnsignedLong(typeId));
            if (type == null) {
                throw fail(where + " has unknown ggml type " + Integer.toUnsignedString(typeId));
            }
            long rowLength = nDims == 0 ? 1 : ggufDims[0];
            if (rowLength % type.blockSize() != 0) {
                throw fail(where + " is " + type + ", whose blocks hold " + type.blockSize() + " elements, but its rows hold "
                        + rowLength);
            }
            long offset = u64("the offset of " + where);
            if (offset < 0 || offset % alignment != 0) {
                throw fail(where + " has data offset " + Long.toUnsignedString(offset) + ", not a multiple of the alignment "
                        + alignment);
            }
            long bytes;
            try {
                bytes = Math.multiplyExact(elements / type.blockSize(), (long) type.blockBytes());
            } catch (ArithmeticException e) {
                throw fail(where + " is too large");
            }
            long[] dims = new long[nDims];
            for (int d = 0; d < nDims; d++) {
                dims[d] = ggufDims[nDims - 1 - d];
            }
            return new GgufTensor(name, type, dims, offset, bytes);
        }

        private Object value(int type, String what, int depth) {
            return switch (type) {
                case 0 -> (long) (bytes(1, what)[0] & 0xFF);
                case 1 -> (long) bytes(1, what)[0];
                case 2 -> { need(2, what); long v = file.get(U16, at) & 0xFFFF; at += 2; yield v; }
                case 3 -> { need(2, what); long v = file.get(U16, at); at += 2; yield v; }
                case 4 -> Integer.toUnsignedLong(u32(what));
                case 5 -> (long) u32(what);
                case 6 -> { need(4, what); float v = file.get(F32, at); at += 4; yield v; }
                case 7 -> {
                    byte b = bytes(1, what)[0];
                    if (b != 0 && b != 1) {
                        throw fail(what + ": BOOL value " + (b & 0xFF) + " is neither 0 nor 1");
                    }
                    yield b == 1;
                }
                case 8 -> string(what);
                case 9 -> {
                    if (depth > 8) {
                        throw fail(what + ": arrays nested deeper than 8");
                    }
                    int elementType = u32("the element type of " + what);
                    long count = u64("the length of " + what);
                    if (count < 0 || count > file.byteSize() - at) { // every element takes at least a byte
                        throw fail(what + ": array length " + Long.toUnsignedString(count) + " runs past the end of the "
                                + file.byteSize() + "-byte file (truncated file?)");
                    }
                    List<Object> list = new ArrayList<>((int) Math.min(count, 1 << 16));
                    for (long i = 0; i < count; i++) {
                        list.add(value(elementType, what + "[" + i + "]", depth + 1));
                    }
                    yield Collections.unmodifiableList(list);
                }
                case 10, 11 -> u64(what);
                case 12 -> { need(8, what); double v = file.get(F64, at); at += 8; yield v; }
                default -> throw fail(what + " has unknown value type " + Integer.toUnsignedString(type) + " (known: 0 to 12)");
            };
        }

        private void need(long n, String what) {
            if (n > file.byteSize() - at) {
                throw fail("the file ends inside " + what + " (at byte " + at + " of " + file.byteSize()
                        + "; truncated file?)");
            }
        }

        private int u32(String what) {
            need(4, what);
            int v = file.get(U32, at);
            at += 4;
            return v;
        }

        private long u64(String what) {
            need(8, what);
            long v = file.get(U64, at);
            at += 8;
            return v;
        }

        private byte[] bytes(long n, String what) {
            need(n, what);
            byte[] b = file.asSlice(at, n).toArray(ValueLayout.JAVA_BYTE);
            at += n;
            return b;
        }

        private String string(String what) {
            long length = u64("the length of " + what);
            if (length < 0 || length > file.byteSize() - at) {
                throw fail("the length of " + what + ", " + Long.toUnsignedString(length) + " bytes, runs past the end of the "
                        + file.byteSize() + "-byte file (truncated file?)");
            }
            if (length > Integer.MAX_VALUE - 8) {
                throw fail(what + " is longer than 2^31 bytes");
            }
            byte[] b = bytes(length, what);
            try {
                return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(b)).toString();
            } catch (CharacterCodingException e) {
                throw fail(what + " is not valid UTF-8");
            }
        }

        /** A name in single quotes, control characters escaped: messages stay one line. */
        private static String quote(String name) {
            StringBuilder b = new StringBuilder("'");
            name.codePoints().limit(200).forEach(c -> {
                if (Character.isISOControl(c)) {
                    b.append(String.format("\\u%04x", c));
                } else {
                    b.appendCodePoint(c);
                }
            });
            return b.append(name.codePointCount(0, name.length()) > 200 ? "...'" : "'").toString();
        }

        private GgufException fail(String message) {
            return new GgufException(path + ": " + message);
        }
    }

    public Path path() {
        return path;
    }

    /** 2 or 3. */
    public int version() {
        return version;
    }

    /** Where tensors' data starts: {@code general.alignment}, or 32. */
    public long alignment() {
        return alignment;
    }

    /**
     * The metadata in file order: integers of every width as {@link Long} (a UINT64 above 2^63 - 1
     * wraps negative), FLOAT32 as {@link Float}, FLOAT64 as {@link Double}, BOOL as {@link Boolean},
     * STRING as {@link String} and ARRAY as an unmodifiable {@link List} of those.
     */
    public Map<String, Object> metadata() {
        return metadata;
    }

    /** The value under {@code key}, if any. */
    public Optional<Object> metadata(String key) {
        return Optional.ofNullable(metadata.get(key));
    }

    /** The names of GGUF's value types, by number (for messages). */
    static String valueTypeName(int type) {
        return type >= 0 && type < VALUE_TYPES.length ? VALUE_TYPES[type] : "type " + type;
    }

    @Override
    public Set<String> names() {
        return tensors.keySet();
    }

    /** The tensor info under {@code name}, or null. */
    public GgufTensor tensor(String name) {
        return tensors.get(name);
    }

    @Override
    public Optional<GgmlType> ggmlType(String name) {
        GgufTensor t = tensors.get(name);
        return t == null ? Optional.empty() : Optional.of(t.type());
    }

    /** The dtype and shape {@link #get} gives, and where its bytes lie in the data section; null if there is no such tensor. */
    public TensorInfo info(String name) {
        GgufTensor t = tensors.get(name);
        if (t == null) {
            return null;
        }
        return new TensorInfo(name, viewDType(t), viewShape(t), t.offset(), t.offset() + t.bytes());
    }

    private static DType viewDType(GgufTensor t) {
        return t.type().dtype() != null ? t.type().dtype() : DType.U8;
    }

    private static Shape viewShape(GgufTensor t) {
        long[] dims = t.dims().clone();
        if (t.type().dtype() == null && dims.length > 0) {
            long rowBytes = t.type().rowBytes(dims[dims.length - 1]);
            if (rowBytes > Integer.MAX_VALUE) {
                throw new GgufException(t.name() + ": a row of " + rowBytes + " bytes is too long");
            }
            dims[dims.length - 1] = rowBytes;
        } else if (t.type().dtype() == null) {
            dims = new long[] {t.bytes()};
        }
        return Shape.of(dims);
    }

    /**
     * A view of the tensor's bytes: its dtype and shape for plain types, U8 {@code (..., rowBytes)}
     * of raw blocks for the others (see {@link #ggmlType}).
     */
    @Override
    public Tensor get(String name) {
        GgufTensor t = tensors.get(name);
        if (t == null) {
            throw new WeightLoadException("missing key '" + name + "' in " + path + KeyHints.didYouMean(name, names()));
        }
        return new Tensor(viewShape(t), viewDType(t), DeviceRef.cpu(0), data.asSlice(t.offset(), t.bytes()));
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
