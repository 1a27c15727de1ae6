package dev.tornadonn.core.io;

import dev.tornadonn.core.TornadoNnException;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.FileVisitOption;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFileAttributes;
import java.util.Collection;
import java.util.HashSet;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Stream;

/**
 * Writes an output file without damaging what the name points at.
 *
 * <ul>
 *   <li>A regular file (new or existing) is written to a temporary file in the same directory and
 *       renamed over the name, so a reader never sees half a file and a failed write leaves the old
 *       one. A replaced file keeps its mode; a new one gets the mode the umask gives (0666 &amp;
 *       ~umask), as any other program's output would.</li>
 *   <li>A symbolic link is followed: its target is replaced, the link stays.</li>
 *   <li>A directory, FIFO, socket or device is refused: renaming over {@code /dev/null} would
 *       replace the node with a regular file.</li>
 *   <li>The output must not be one of the inputs: files are compared by their file key (device and
 *       inode), so a hard link, a symlink or another spelling of the name is caught too.</li>
 *   <li>The temporary file is deleted on every exit: on failure, and by a shutdown hook on SIGINT
 *       and SIGTERM while a write is in progress.</li>
 * </ul>
 */
public final class SafeOutput {
    /** The bytes of the output, written to the stream given. */
    @FunctionalInterface
    public interface Body {
        void writeTo(OutputStream out) throws IOException;
    }

    private static final int MAX_LINKS = 40; // as Linux's ELOOP bound
    private static final int MAX_INPUT_DEPTH = 8;
    private static final Object LOCK = new Object();
    private static final Set<Path> IN_PROGRESS = new HashSet<>();
    private static boolean hookInstalled;
    private static boolean shuttingDown;

    private SafeOutput() {}

    /**
     * Checks that {@code output} can be written and is none of {@code inputs}, and returns the path
     * that will be replaced (the output with its symbolic links followed). A missing input is
     * skipped (its reader reports it); a directory input covers every file under it.
     */
    public static Path check(Path output, Collection<Path> inputs) {
        Path target = resolve(output);
        Object key = fileKey(target);
        if (key != null) {
            for (Path input : inputs) {
                if (input == null) {
                    continue;
                }
                Path same = sameFileUnder(input, key);
                if (same != null) {
                    throw new TornadoNnException(output + ": is the same file as the input " + same
                            + (same.equals(input) ? "" : " (under " + input + ")")
                            + "; writing it would destroy that input, choose another output");
                }
            }
        }
        return target;
    }

    /** Writes {@code body} to {@code output} as the class comment says, refusing an output that is one of {@code inputs}. */
    public static void write(Path output, Collection<Path> inputs, Body body) {
        Path target = check(output, inputs);
        Path tmp = null;
        try {
            PosixFileAttributes old = existingAttributes(target);
            tmp = createTemp(target);
            try (FileChannel channel = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                OutputStream out = new BufferedOutputStream(Channels.newOutputStream(channel), 1 << 16);
                body.writeTo(out);
                out.flush();
                if (old != null) {
                    Files.getFileAttributeView(tmp, PosixFileAttributeView.class).setPermissions(old.permissions());
                }
                channel.force(true); // the data is on disk before the rename makes it the file
            }
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new TornadoNnException(output + ": cannot write: " + reason(e), e);
        } finally {
            if (tmp != null) {
                try {
                    Files.deleteIfExists(tmp); // gone after the rename; left only when the write failed
                } catch (IOException ignored) {
                    // nothing more useful to say than the error already on its way
                } finally {
                    synchronized (LOCK) {
                        IN_PROGRESS.remove(tmp);
                    }
                }
            }
        }
    }

    /** The temporary files of the writes in progress (for tests). */
    static Set<Path> inProgress() {
        synchronized (LOCK) {
            return Set.copyOf(IN_PROGRESS);
        }
    }

    /**
     * The path a write to {@code output} replaces: its directory's real path, then each symbolic
     * link followed (a dangling one names the file to create). Refuses what is not a regular file.
     */
    static Path resolve(Path output) {
        Path p = output.toAbsolutePath();
        for (int hops = 0; ; hops++) {
            if (p.getFileName() == null) {
                throw new TornadoNnException(output + ": is a directory; an output needs a file name");
            }
            Path parent = p.getParent();
            try {
                p = parent.toRealPath().resolve(p.getFileName());
            } catch (NoSuchFileException e) {
                throw new TornadoNnException(output + ": no such directory: " + parent);
            } catch (IOException e) {
                throw new TornadoNnException(output + ": cannot reach its directory " + parent + ": " + reason(e));
            }
            BasicFileAttributes a;
            try {
                a = Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            } catch (NoSuchFileException e) {
                return p; // a new file
            } catch (IOException e) {
                throw new TornadoNnException(output + ": cannot check it: " + reason(e));
            }
            if (a.isSymbolicLink()) {
                if (hops >= MAX_LINKS) {
                    throw new TornadoNnException(output + ": too many levels of symbolic links");
                }
                try {
                    p = p.getParent().resolve(Files.readSymbolicLink(p));
                } catch (IOException e) {
                    throw new TornadoNnException(output + ": cannot read the symbolic link " + p + ": " + reason(e));
                }
                continue;
            }
            if (a.isRegularFile()) {
                return p;
            }
            String via = p.equals(output.toAbsolutePath()) ? "" : " (" + p + ")";
            if (a.isDirectory()) {
                throw new TornadoNnException(output + ": is a directory" + via + "; an output needs a file name");
            }
            throw new TornadoNnException(output + ": is " + kind(p) + via
                    + ", not a regular file; refusing to replace it (write to a file and copy it there)");
        }
    }

    private static String kind(Path p) {
        try {
            int type = ((Integer) Files.getAttribute(p, "unix:mode", LinkOption.NOFOLLOW_LINKS)) & 0170000;
            return switch (type) {
                case 0010000 -> "a FIFO";
                case 0020000 -> "a character device";
                case 0060000 -> "a block device";
                case 0140000 -> "a socket";
                default -> "a special file";
            };
        } catch (IOException | RuntimeException e) {
            return "a special file";
        }
    }

    private static Object fileKey(Path p) {
        try {
            return Files.readAttributes(p, BasicFileAttributes.class).fileKey();
        } catch (IOException e) {
            return null; // not there (yet): nothing to collide with
        }
    }

    /** {@code input} itself, or the file under it (a directory), whose key is {@code key}; null if none. */
    private static Path sameFileUnder(Path input, Object key) {
        BasicFileAttributes a;
        try {
            a = Files.readAttributes(input, BasicFileAttributes.class);
        } catch (IOException e) {
            return null;
        }
        if (Objects.equals(a.fileKey(), key)) {
            return input;
        }
        if (!a.isDirectory()) {
            return null;
        }
        try (Stream<Path> files = Files.walk(input, MAX_INPUT_DEPTH, FileVisitOption.FOLLOW_LINKS)) {
            return files.filter(f -> Objects.equals(fileKey(f), key)).findFirst().orElse(null);
        } catch (IOException | java.io.UncheckedIOException e) {
            return null; // an unreadable directory cannot be read as an input either
        }
    }

    private static PosixFileAttributes existingAttributes(Path target) throws IOException {
        try {
            return Files.readAttributes(target, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (NoSuchFileException e) {
            return null;
        } catch (UnsupportedOperationException e) {
            return null;
        }
    }

    /**
     * A new file beside {@code target}, created with the default mode (0666 less the umask; unlike
     * {@code Files.createTempFile}'s 0600) and registered for deletion at shutdown.
     */
    private static Path createTemp(Path target) throws IOException {
        Path dir = target.getParent();
        String base = "." + target.getFileName() + ".";
        for (int attempt = 0; ; attempt++) {
            Path tmp = dir.resolve(base + Long.toHexString(ThreadLocalRandom.current().nextLong() >>> 4) + ".tmp");
            synchronized (LOCK) {
                if (shuttingDown) {
                    throw new IOException("the JVM is shutting down");
                }
                installHook();
                try {
                    Files.newByteChannel(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE).close();
                } catch (java.nio.file.FileAlreadyExistsException e) {
                    if (attempt < 100) {
                        continue;
                    }
                    throw e;
                }
                IN_PROGRESS.add(tmp);
                return tmp;
            }
        }
    }

    private static void installHook() {
        if (!hookInstalled) {
            Runtime.getRuntime().addShutdownHook(new Thread(SafeOutput::deleteInProgress, "tornado-nn-output-cleanup"));
            hookInstalled = true;
        }
    }

    /** The shutdown hook: deletes every temporary file still in progress (SIGINT, SIGTERM, System.exit). */
    static void deleteInProgress() {
        synchronized (LOCK) {
            shuttingDown = true;
            for (Path tmp : IN_PROGRESS) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // best effort at exit
                }
            }
            IN_PROGRESS.clear();
        }
    }

    private static String reason(IOException e) {
        if (e instanceof AccessDeniedException) {
            return "permission denied";
        }
        if (e instanceof NoSuchFileException) {
            return "no such file or directory";
        }
        if (e instanceof FileSystemException f && f.getReason() != null) {
            return f.getReason();
        }
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }
}
