package dev.tornadonn.parallel.nccl;

import dev.tornadonn.core.ConfigException;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;

/**
 * Where and as whom a process joins a torchrun-style world: its {@code rank} in
 * {@code [0, worldSize)}, and the host and port on which rank 0 hands out the NCCL unique id.
 */
public record RendezvousConfig(int rank, int worldSize, String masterAddr, int masterPort, Duration timeout) {

    public static final Duration DEFAULT_TIMEOUT = Duration.ofMinutes(5);

    public RendezvousConfig {
        if (worldSize < 1) {
            throw new ConfigException("WORLD_SIZE must be >= 1, got " + worldSize);
        }
        if (rank < 0 || rank >= worldSize) {
            throw new ConfigException("RANK must be in [0, " + worldSize + "), got " + rank);
        }
        Objects.requireNonNull(masterAddr, "masterAddr");
        if (masterAddr.isBlank()) {
            throw new ConfigException("MASTER_ADDR must not be blank");
        }
        if (masterPort < 1 || masterPort > 65535) {
            throw new ConfigException("MASTER_PORT must be in [1, 65535], got " + masterPort);
        }
        Objects.requireNonNull(timeout, "timeout");
        if (timeout.isNegative() || timeout.isZero()) {
            throw new ConfigException("rendezvous timeout must be positive, got " + timeout);
        }
    }

    /** Reads {@code RANK}, {@code WORLD_SIZE}, {@code MASTER_ADDR} and {@code MASTER_PORT} from the environment. */
    public static RendezvousConfig fromEnv() {
        return fromEnv(System.getenv(), DEFAULT_TIMEOUT);
    }

    /** As {@link #fromEnv()}, from {@code env}; every variable is required and named in the error. */
    public static RendezvousConfig fromEnv(Map<String, String> env, Duration timeout) {
        int rank = intVar(env, "RANK");
        int world = intVar(env, "WORLD_SIZE");
        String addr = env.get("MASTER_ADDR");
        if (addr == null || addr.isBlank()) {
            throw new ConfigException("environment variable MASTER_ADDR is not set (rank 0's host name or address)");
        }
        return new RendezvousConfig(rank, world, addr.strip(), intVar(env, "MASTER_PORT"), timeout);
    }

    private static int intVar(Map<String, String> env, String name) {
        String value = env.get(name);
        if (value == null || value.isBlank()) {
            throw new ConfigException("environment variable " + name + " is not set");
        }
        try {
            return Integer.parseInt(value.strip());
        } catch (NumberFormatException e) {
            throw new ConfigException("environment variable " + name + "='" + value + "' is not an integer");
        }
    }

    public String endpoint() {
        return masterAddr + ":" + masterPort;
    }
}
