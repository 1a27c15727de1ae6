package dev.tornadonn.parallel.nccl;

import dev.tornadonn.core.ConfigException;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.tornadonn.core.DeviceRef;
import dev.tornadonn.parallel.Communicator;
import dev.tornadonn.parallel.Communicators;
import dev.tornadonn.parallel.HostCommunicator;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What can be checked without a GPU: detection fails softly, selection falls back, versions decode. */
class NcclSupportTest {

    @Test
    void detectionIsCachedAndNeverThrows() {
        NcclSupport first = NcclSupport.detect();
        assertSame(first, NcclSupport.detect());
        if (first instanceof NcclSupport.Unavailable(String reason)) {
            assertFalse(reason.isBlank());
        }
    }

    @Test
    void withoutNcclTheFallbackIsExplainedAndExplicitUseFailsClearly() {
        assumeTrue(NcclSupport.detect() instanceof NcclSupport.Unavailable, "NCCL is present here");
        String reason = ((NcclSupport.Unavailable) NcclSupport.detect()).reason();
        System.out.println("NCCL unavailable: " + reason);
        Communicators.Choice c = Communicators.choose(List.of(DeviceRef.gpu(0), DeviceRef.gpu(1)));
        assertInstanceOf(HostCommunicator.class, c.communicator());
        assertTrue(c.reason().startsWith("NCCL unavailable: "), c.reason());
        NcclException e = assertThrows(NcclException.class, () -> NcclCommunicator.open(List.of(DeviceRef.gpu(0))));
        assertTrue(e.getMessage().contains(reason), e.getMessage());
        assertThrows(NcclException.class, NcclSupport::require);
    }

    @Test
    void hostDevicesGetTheHostCommunicator() {
        try (Communicator c = Communicators.select(List.of(DeviceRef.cpu(0), DeviceRef.cpu(1)))) {
            assertInstanceOf(HostCommunicator.class, c);
            assertEquals("host", c.name());
        }
        assertInstanceOf(HostCommunicator.class, Communicators.choose(List.of(DeviceRef.cpu(0), DeviceRef.gpu(0))).communicator());
    }

    @Test
    void versionCodesDecodeBothEncodings() {
        assertEquals(new NcclVersion(2, 8, 4), NcclVersion.fromCode(2804));
        assertEquals(new NcclVersion(2, 9, 6), NcclVersion.fromCode(20906));
        assertEquals(new NcclVersion(2, 30, 7), NcclVersion.fromCode(23007));
        assertTrue(NcclVersion.fromCode(21903).atLeast(new NcclVersion(2, 4, 0)));
        assertFalse(new NcclVersion(2, 3, 7).atLeast(new NcclVersion(2, 4, 0)));
        assertThrows(ConfigException.class, () -> NcclVersion.fromCode(0));
    }

    @Test
    void callsNewerThanTheRuntimeAreRefused() {
        assertEquals(new NcclVersion(2, 4, 0), NcclCall.OLDEST_SUPPORTED);
        NcclCall.COMM_ABORT.requireIn(new NcclVersion(2, 4, 2));
        NcclException e = assertThrows(NcclException.class, () -> NcclCall.COMM_ABORT.requireIn(new NcclVersion(2, 3, 7)));
        assertTrue(e.getMessage().contains("2.4.0") && e.getMessage().contains("2.3.7"), e.getMessage());
    }
}
