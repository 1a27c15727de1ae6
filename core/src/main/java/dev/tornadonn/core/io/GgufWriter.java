package dev.tornadonn.core.io;

import dev.tornadonn.core.ConfigException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;

/**
 * Writes a GGUF version 3 file: metadata, tensor infos, then each tensor's raw bytes at the
 * alignment ({@code general.alignment} when the metadata sets it, else 32). For tests, the
 * conformance cases and small checkpoints; it packs nothing itself: quantised tensors are given as
 * their blocks. Metadata values: {@link Integer} is written as UINT32 (INT32 when negative),
 * {@link Long} as INT64, {@link Float}, {@link Double}, {@link Boolean}, {@link String}, and a
 * {@link List} of one of those as an ARRAY.
 */
public final class GgufWriter {
    private GgufWriter() {}

    /**
     * One tensor.
     *
     * @param dims outermost first, as {@link GgufFile} reports them (written innermost first)
     * @param data its bytes: {@code rows × rowBytes(dims[last])}
     */
    public record Entry(String name, GgmlType type, long[] dims, MemorySegment data) {
        public Entry {
            long elements = 1;
            for (long d : dims) {
                elements *= d;
            }
            long row = dims.length == 0 ? 1 : dims[dims.length - 1];
            long bytes = elements / row * type.rowBytes(row);
            if (data.byteSize() != bytes) {
                throw new ConfigException(name + ": " + type + " " + java.util.Arrays.toString(dims) + " needs "
                        + bytes + " bytes, got " + data.byteSize());
            }
        }

        public static Entry of(String name, GgmlType type, long[] dims, byte[] data) {
            return new Entry(name, type, dims, MemorySegment.ofArray(data));
        }
    }

    public static void write(Path path, Map<String, Object> metadata, List<Entry> tensors) {
        long alignment = metadata.get("general.alignment") instanceof Number n ? n.longValue() : GgufFile.DEFAULT_ALIGNMENT;
        Buf h = new Buf();
        h.i32(GgufFile.MAGIC).i32(3).i64(tensors.size()).i64(metadata.size());
        for (Map.Entry<String, Object> e : metadata.entrySet()) {
            h.str(e.getKey());
            int type = typeOf(e.getValue());
            h.i32(type);
            value(h, type, e.getValue());
        }
        long offset = 0;
        long[] offsets = new long[tensors.size()];
        for (int i = 0; i < tensors.size(); i++) {
            Entry t = tensors.get(i);
            h.str(t.name()).i32(t.dims().length);
            for (int d = t.dims().length - 1; d >= 0; d--) {
                h.i64(t.dims()[d]);
            }
            h.i32(t.type().id()).i64(offset);
            offsets[i] = offset;
            offset = align(offset + t.data().byteSize(), alignment);
        }
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            ByteBuffer header = h.done();
            long dataStart = align(header.remaining(), alignment);
            writeFully(ch, header);
            writeFully(ch, ByteBuffer.allocate((int) (dataStart - ch.position())));
            for (int i = 0; i < tensors.size(); i++) {
                long at = dataStart + offsets[i];
                writeFully(ch, ByteBuffer.allocate((int) (at - ch.position())));
                writeFully(ch, tensors.get(i).data().asByteBuffer());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(path + ": cannot write: " + e.getMessage(), e);
        }
    }

    private static long align(long v, long a) {
        return (v + a - 1) / a * a;
    }

    private static void writeFully(FileChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }

    private static int typeOf(Object v) {
        return switch (v) {
            case Integer i -> i < 0 ? 5 : 4;
            case Long l -> 11;
            case Float f -> 6;
            case Double d -> 12;
            case Boolean b -> 7;
            case String s -> 8;
            case List<?> l -> 9;
            default -> throw new ConfigException("no GGUF value type for " + v.getClass().getName());
        };
    }

    private static void value(Buf b, int type, Object v) {
        switch (type) {
            case 4, 5 -> b.i32((Integer) v);
            case 11 -> b.i64((Long) v);
            case 6 -> b.f32((Float) v);
            case 12 -> b.f64((Double) v);
            case 7 -> b.u8((Boolean) v ? 1 : 0);
            case 8 -> b.str((String) v);
            case 9 -> {
                List<?> list = (List<?>) v;
                int element = list.isEmpty() ? 5 : typeOf(list.get(0));
                b.i32(element).i64(list.size());
                for (Object o : list) {
                    value(b, element, o);
                }
            }
            default -> throw new AssertionError(type);
        }
    }

    /** A growing little-endian buffer. */
    private static final class Buf {
        private ByteBuffer b = ByteBuffer.allocate(1 << 12).order(ByteOrder.LITTLE_ENDIAN);

        private Buf room(int n) {
            if (b.remaining() < n) {
                ByteBuffer bigger = ByteBuffer.allocate(Math.max(2 * b.capacity(), b.position() + n)).order(ByteOrder.LITTLE_ENDIAN);
                b.flip();
                bigger.put(b);
                b = bigger;
            }
            return this;
        }

        Buf u8(int v) { room(1).b.put((byte) v); return this; }
        Buf i32(int v) { room(4).b.putInt(v); return this; }
        Buf i64(long v) { room(8).b.putLong(v); return this; }
        Buf f32(float v) { room(4).b.putFloat(v); return this; }
        Buf f64(double v) { room(8).b.putDouble(v); return this; }

        Buf str(String s) {
            byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
            i64(bytes.length);
            room(bytes.length).b.put(bytes);
            return this;
        }

        ByteBuffer done() {
            return b.duplicate().flip();
        }
    }

    /** The bytes of {@code values} as F32, little-endian: a plain tensor's data. */
    public static MemorySegment f32(float[] values) {
        MemorySegment s = MemorySegment.ofArray(new byte[values.length * 4]);
        for (int i = 0; i < values.length; i++) {
            s.set(ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 4L * i, values[i]);
        }
        return s;
    }
}
