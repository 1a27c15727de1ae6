package dev.tornadonn.core.io;

import dev.tornadonn.core.TornadoNnException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.function.BiFunction;

/**
 * What every checkpoint reader checks before it opens a file, and how it words an I/O failure:
 * one line naming the real cause, in the reader's own exception.
 */
final class CheckpointFiles {
    private CheckpointFiles() {}

    /**
     * Refuses anything but a regular file without opening it: open(2) on a FIFO with no writer
     * blocks forever, and a directory or a device would only fail later with a misleading errno
     * (mmap's "No such device").
     *
     * @param format the file's format, for the message ("safetensors", "GGUF")
     */
    static <E extends TornadoNnException> void requireRegularFile(Path path, String format,
                                                                  BiFunction<String, Throwable, E> error) {
        BasicFileAttributes attributes;
        try {
            attributes = Files.readAttributes(path, BasicFileAttributes.class);
        } catch (IOException e) {
            throw cannotRead(path, e, error);
        }
        if (attributes.isDirectory()) {
            throw error.apply(path + ": is a directory, not a " + format + " file", null);
        }
        if (!attributes.isRegularFile()) {
            String kind = "neither a regular file nor a directory";
            try {
                int type = ((Integer) Files.getAttribute(path, "unix:mode")) & 0170000;
                kind = switch (type) {
                    case 0010000 -> "a FIFO";
                    case 0020000 -> "a character device";
                    case 0060000 -> "a block device";
                    case 0140000 -> "a socket";
                    default -> kind;
                };
            } catch (IOException | RuntimeException e) {
                // no unix view here: the generic wording stands
            }
            throw error.apply(path + ": is " + kind + ", not a " + format + " file (a checkpoint must be a regular file)", null);
        }
    }

    /** The real cause in one line: missing, permission denied, or the system's own reason. */
    static <E extends TornadoNnException> E cannotRead(Path path, IOException e, BiFunction<String, Throwable, E> error) {
        String why = switch (e) {
            case NoSuchFileException n -> "no such file";
            case java.nio.file.AccessDeniedException a -> "permission denied";
            case java.nio.file.FileSystemException f -> "cannot read: " + (f.getReason() != null ? f.getReason() : f.getMessage());
            default -> "cannot read: " + e.getMessage();
        };
        return error.apply(path + ": " + why, e);
    }
}
