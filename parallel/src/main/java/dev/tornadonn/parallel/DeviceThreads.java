package dev.tornadonn.parallel;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.IntFunction;

/**
 * Runs one task per device at the same time, each on a thread of its own, and waits for all: the
 * host stand-in for one stream per GPU. A task's exception is rethrown once every task is done.
 */
public final class DeviceThreads {
    private static final ExecutorService THREADS = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r);
        t.setName("tornado-nn-device-" + t.threadId());
        t.setDaemon(true);
        return t;
    });

    private DeviceThreads() {}

    public static <T> List<T> run(int devices, IntFunction<T> task) {
        List<Future<T>> futures = new ArrayList<>();
        for (int i = 0; i < devices; i++) {
            int device = i;
            futures.add(THREADS.submit(() -> task.apply(device)));
        }
        List<T> results = new ArrayList<>();
        RuntimeException failure = null;
        for (Future<T> f : futures) {
            try {
                results.add(f.get());
            } catch (ExecutionException e) {
                RuntimeException cause = e.getCause() instanceof RuntimeException r ? r : new RuntimeException(e.getCause());
                if (failure == null) {
                    failure = cause;
                } else {
                    failure.addSuppressed(cause);
                }
                results.add(null);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for device tasks", e);
            }
        }
        if (failure != null) {
            throw failure;
        }
        return results;
    }
}
