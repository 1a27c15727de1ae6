package dev.tornadonn.parallel.nccl;

import dev.tornadonn.core.ConfigException;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.util.Arrays;
import java.util.BitSet;
import java.util.function.Supplier;

/**
 * Hands rank 0's opaque id (NCCL's 128-byte {@code ncclUniqueId}) to every other rank over TCP,
 * the way torchrun's store does: rank 0 listens on {@code MASTER_ADDR:MASTER_PORT}, the others
 * connect (retrying until rank 0 is up) and read it. Needs no NCCL, so it is tested without one.
 *
 * <p>Wire format, big-endian: the client sends {@code MAGIC, rank, worldSize}; rank 0 answers
 * {@code MAGIC, length, id bytes}. Rank 0 returns once every rank has its copy.
 */
public final class Rendezvous {
    public static final int ID_BYTES = 128;
    private static final int MAGIC = 0x544E4E31; // "TNN1": rejects strangers on the port
    private static final long RETRY_MILLIS = 100;

    private Rendezvous() {}

    /** Every rank returns the same {@value #ID_BYTES} bytes; only rank 0 calls {@code idFactory}. */
    public static byte[] exchange(RendezvousConfig config, Supplier<byte[]> idFactory) {
        long deadline = System.nanoTime() + config.timeout().toNanos();
        if (config.rank() == 0) {
            byte[] id = idFactory.get();
            if (id == null || id.length != ID_BYTES) {
                throw new ConfigException("the id factory must return " + ID_BYTES + " bytes, got "
                        + (id == null ? "null" : id.length));
            }
            serve(config, id.clone(), deadline);
            return id.clone();
        }
        return fetch(config, deadline);
    }

    private static void serve(RendezvousConfig config, byte[] id, long deadline) {
        if (config.worldSize() == 1) {
            return;
        }
        BitSet served = new BitSet(config.worldSize());
        served.set(0);
        try (ServerSocket server = new ServerSocket()) {
            server.setReuseAddress(true);
            server.bind(new InetSocketAddress(InetAddress.getByName(config.masterAddr()), config.masterPort()));
            while (served.cardinality() < config.worldSize()) {
                server.setSoTimeout(remainingMillis(deadline, () -> "rank 0 waited on " + config.endpoint()
                        + " for " + config.timeout() + ", but ranks " + missing(served, config.worldSize())
                        + " never connected"));
                try (Socket peer = server.accept()) {
                    peer.setSoTimeout(remainingMillis(deadline, () -> "timed out talking to " + peer.getRemoteSocketAddress()));
                    DataInputStream in = new DataInputStream(peer.getInputStream());
                    int magic = in.readInt();
                    int rank = in.readInt();
                    int world = in.readInt();
                    if (magic != MAGIC) {
                        continue; // not one of ours (a port scanner, a stale client): ignore it
                    }
                    if (world != config.worldSize()) {
                        throw new RendezvousException("rank " + rank + " at " + peer.getRemoteSocketAddress()
                                + " says WORLD_SIZE=" + world + ", but rank 0 has WORLD_SIZE=" + config.worldSize());
                    }
                    if (rank <= 0 || rank >= world || served.get(rank)) {
                        throw new RendezvousException("rank " + rank + " at " + peer.getRemoteSocketAddress()
                                + (rank > 0 && rank < world ? " connected twice" : " is out of range [1, " + world + ")"));
                    }
                    DataOutputStream out = new DataOutputStream(peer.getOutputStream());
                    out.writeInt(MAGIC);
                    out.writeInt(id.length);
                    out.write(id);
                    out.flush();
                    served.set(rank);
                } catch (SocketTimeoutException e) {
                    throw new RendezvousException("rank 0 waited on " + config.endpoint() + " for " + config.timeout()
                            + ", but ranks " + missing(served, config.worldSize()) + " never connected", e);
                } catch (EOFException e) {
                    // A peer hung up mid-hello (e.g. killed and restarted): it will retry, keep serving.
                }
            }
        } catch (IOException e) {
            throw new RendezvousException("rank 0 could not serve the id on " + config.endpoint() + ": " + e, e);
        }
    }

    private static byte[] fetch(RendezvousConfig config, long deadline) {
        IOException last = null;
        while (true) {
            int connectMillis = remainingMillis(deadline, () -> "rank " + config.rank() + " could not reach rank 0 at "
                    + config.endpoint() + " within " + config.timeout());
            try (Socket socket = new Socket()) {
                socket.connect(new InetSocketAddress(config.masterAddr(), config.masterPort()), connectMillis);
                socket.setSoTimeout(remainingMillis(deadline, () -> "rank " + config.rank()
                        + " connected to " + config.endpoint() + " but got no id within " + config.timeout()));
                DataOutputStream out = new DataOutputStream(socket.getOutputStream());
                out.writeInt(MAGIC);
                out.writeInt(config.rank());
                out.writeInt(config.worldSize());
                out.flush();
                return readId(new DataInputStream(socket.getInputStream()), config);
            } catch (ConnectException e) {
                last = e; // rank 0 is not listening yet: retry until the deadline
            } catch (SocketTimeoutException e) {
                throw new RendezvousException("rank " + config.rank() + ": timed out after " + config.timeout()
                        + " talking to rank 0 at " + config.endpoint(), e);
            } catch (IOException e) {
                last = e;
            }
            if (System.nanoTime() + RETRY_MILLIS * 1_000_000 - deadline >= 0) {
                throw new RendezvousException("rank " + config.rank() + " could not reach rank 0 at " + config.endpoint()
                        + " within " + config.timeout() + " (last error: " + last + ")", last);
            }
            try {
                Thread.sleep(RETRY_MILLIS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new RendezvousException("interrupted while waiting for rank 0 at " + config.endpoint(), e);
            }
        }
    }

    private static byte[] readId(DataInputStream in, RendezvousConfig config) throws IOException {
        byte[] header = new byte[8];
        int got = in.readNBytes(header, 0, header.length);
        if (got < header.length) {
            throw new RendezvousException("short read from " + config.endpoint() + ": got " + got
                    + " of 8 header bytes (did rank 0 refuse this rank? see its log)");
        }
        int magic = java.nio.ByteBuffer.wrap(header).getInt(0);
        int length = java.nio.ByteBuffer.wrap(header).getInt(4);
        if (magic != MAGIC || length != ID_BYTES) {
            throw new RendezvousException(config.endpoint() + " is not a Tornado NN rendezvous (magic "
                    + Integer.toHexString(magic) + ", length " + length + ")");
        }
        byte[] id = new byte[ID_BYTES];
        got = in.readNBytes(id, 0, ID_BYTES);
        if (got < ID_BYTES) {
            throw new RendezvousException("short read from " + config.endpoint() + ": got " + got + " of "
                    + ID_BYTES + " id bytes");
        }
        return id;
    }

    private static int remainingMillis(long deadline, Supplier<String> timeoutMessage) {
        long left = (deadline - System.nanoTime()) / 1_000_000;
        if (left <= 0) {
            throw new RendezvousException(timeoutMessage.get());
        }
        return (int) Math.min(Integer.MAX_VALUE, left);
    }

    private static String missing(BitSet served, int world) {
        BitSet m = new BitSet(world);
        m.set(0, world);
        m.andNot(served);
        return Arrays.toString(m.stream().toArray());
    }
}
