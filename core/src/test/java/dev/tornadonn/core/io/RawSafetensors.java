package dev.tornadonn.core.io;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** Hand-assembled safetensors bytes, independent of {@link SafetensorsWriter}. */
final class RawSafetensors {
    private RawSafetensors() {}

    static byte[] le64(long v) {
        byte[] b = new byte[8];
        for (int i = 0; i < 8; i++) {
            b[i] = (byte) (v >>> (8 * i));
        }
        return b;
    }

    static byte[] bytes(int... v) {
        byte[] b = new byte[v.length];
        for (int i = 0; i < v.length; i++) {
            b[i] = (byte) v[i];
        }
        return b;
    }

    /** 8-byte little-endian {@code headerLength}, then {@code header}, then {@code data}, exactly as given. */
    static Path write(Path file, long headerLength, byte[] header, byte[] data) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(le64(headerLength));
        out.writeBytes(header);
        out.writeBytes(data);
        try {
            Files.write(file, out.toByteArray());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return file;
    }

    /** A well-framed file: the length prefix matches the (unpadded) JSON header. */
    static Path write(Path file, String jsonHeader, byte[] data) {
        byte[] h = jsonHeader.getBytes(StandardCharsets.UTF_8);
        return write(file, h.length, h, data);
    }

    static Path writeBytes(Path file, byte[] content) {
        try {
            Files.write(file, content);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return file;
    }
}
