package dev.tornadonn.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

class DeviceRefTest {

    @ParameterizedTest
    @CsvSource({
        "cpu, CPU, 0, cpu:0", "cpu:0, CPU, 0, cpu:0", "cpu:3, CPU, 3, cpu:3", "CPU:2, CPU, 2, cpu:2",
        "gpu, GPU, 0, gpu:0", "GPU:1, GPU, 1, gpu:1", "gpu:12, GPU, 12, gpu:12", "'  gpu:4 ', GPU, 4, gpu:4",
    })
    void parseAndPrint(String text, DeviceRef.Kind kind, int id, String printed) {
        DeviceRef d = DeviceRef.parse(text);
        assertEquals(kind, d.kind());
        assertEquals(id, d.id());
        assertEquals(printed, d.toString());
        assertEquals(d, DeviceRef.parse(d.toString()));
        assertEquals(kind == DeviceRef.Kind.CPU, d.isCpu());
    }

    @Test
    void factoriesAndEquality() {
        assertEquals(DeviceRef.cpu(0), DeviceRef.parse("cpu"));
        assertEquals(DeviceRef.gpu(1), DeviceRef.parse("GPU:1"));
        assertNotEquals(DeviceRef.cpu(1), DeviceRef.gpu(1));
        assertNotEquals(DeviceRef.cpu(0), DeviceRef.cpu(1));
        assertEquals(DeviceRef.cpu(5).hashCode(), new DeviceRef(DeviceRef.Kind.CPU, 5).hashCode());
        assertTrue(DeviceRef.cpu(0).isCpu());
        assertFalse(DeviceRef.gpu(0).isCpu());
    }

    @ParameterizedTest
    @ValueSource(strings = {"tpu:0", "tpu", "", "cuda:0", "cpu0", "gpux"})
    void unknownKindIsRejected(String text) {
        ConfigException e = assertThrows(ConfigException.class, () -> DeviceRef.parse(text));
        assertTrue(e.getMessage().contains("'" + text + "'"), e.getMessage());
        assertTrue(e.getMessage().contains("cpu:N") && e.getMessage().contains("gpu:N"), e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(strings = {"cpu:x", "cpu:", "gpu:1.5", "cpu:1:2", "gpu:99999999999", "cpu:+1", "cpu:-1", "gpu: 1"})
    void badIdIsRejected(String text) {
        ConfigException e = assertThrows(ConfigException.class, () -> DeviceRef.parse(text));
        assertTrue(e.getMessage().contains("'" + text + "'"), e.getMessage());
        assertTrue(e.getMessage().contains("id"), e.getMessage());
    }

    @Test
    void negativeIdIsRejected() {
        ConfigException e = assertThrows(ConfigException.class, () -> DeviceRef.parse("cpu:-1"));
        assertTrue(e.getMessage().contains(">= 0"), e.getMessage());
        assertTrue(e.getMessage().contains("-1"), e.getMessage());
        assertThrows(ConfigException.class, () -> DeviceRef.gpu(-2));
        assertThrows(ConfigException.class, () -> new DeviceRef(null, 0));
    }
    @Test
    void listsParseInOrder() {
        assertEquals(java.util.List.of(DeviceRef.cpu(0), DeviceRef.cpu(1), DeviceRef.gpu(2)),
                DeviceRef.parseList("cpu:0, cpu:1,gpu:2"));
        assertEquals(java.util.List.of(DeviceRef.cpu(0)), DeviceRef.parseList("cpu"));
    }

    /** "," and "cpu:0," name no device in one entry: a one-line error, not an index exception or a shorter list. */
    @ParameterizedTest
    @ValueSource(strings = {",", "cpu:0,", ",cpu:1", "cpu:0,,cpu:1", "cpu:0, ,cpu:1", ",,", ""})
    void emptyEntriesAreRejected(String text) {
        ConfigException e = assertThrows(ConfigException.class, () -> DeviceRef.parseList(text));
        assertTrue(e.getMessage().contains("empty"), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(strings = {"cpu:0,cpu:0", "cpu,cpu:0", "gpu:1,cpu:0,GPU:1"})
    void duplicatesAreRejected(String text) {
        ConfigException e = assertThrows(ConfigException.class, () -> DeviceRef.parseList(text));
        assertTrue(e.getMessage().contains("listed twice"), e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(strings = {"cpu:0,tpu:1", "npu", "cpu:0,cuda"})
    void unknownDevicesInAListAreRejected(String text) {
        ConfigException e = assertThrows(ConfigException.class, () -> DeviceRef.parseList(text));
        assertTrue(e.getMessage().startsWith("unknown device"), e.getMessage());
    }
}
