package dev.tornadonn.parallel.nccl;

import dev.tornadonn.core.ConfigException;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RendezvousConfigTest {
    private static Map<String, String> env(String rank, String world, String addr, String port) {
        Map<String, String> m = new HashMap<>();
        if (rank != null) m.put("RANK", rank);
        if (world != null) m.put("WORLD_SIZE", world);
        if (addr != null) m.put("MASTER_ADDR", addr);
        if (port != null) m.put("MASTER_PORT", port);
        return m;
    }

    private static String error(Map<String, String> env) {
        return assertThrows(ConfigException.class,
                () -> RendezvousConfig.fromEnv(env, Duration.ofSeconds(1))).getMessage();
    }

    @Test
    void readsTheTorchrunVariables() {
        RendezvousConfig c = RendezvousConfig.fromEnv(env("1", "4", " 127.0.0.1 ", "29500"), Duration.ofSeconds(1));
        assertEquals(new RendezvousConfig(1, 4, "127.0.0.1", 29500, Duration.ofSeconds(1)), c);
        assertEquals("127.0.0.1:29500", c.endpoint());
    }

    @Test
    void badValuesAreNamed() {
        assertTrue(error(env(null, "2", "h", "1")).contains("RANK is not set"));
        assertTrue(error(env("x", "2", "h", "1")).contains("RANK='x' is not an integer"));
        assertTrue(error(env("2", "2", "h", "1")).contains("RANK must be in [0, 2)"));
        assertTrue(error(env("0", "0", "h", "1")).contains("WORLD_SIZE must be >= 1"));
        assertTrue(error(env("0", "1", "", "1")).contains("MASTER_ADDR is not set"));
        assertTrue(error(env("0", "1", "h", "70000")).contains("MASTER_PORT must be in [1, 65535]"));
        assertTrue(error(env("0", "1", "h", null)).contains("MASTER_PORT is not set"));
        assertThrows(ConfigException.class, () -> new RendezvousConfig(0, 1, "h", 1, Duration.ZERO));
    }
}
