package dev.tornadonn.core.io;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class KeyHintsTest {

    @ParameterizedTest
    @CsvSource({
        "kitten, sitting, 3", "'', abc, 3", "abc, '', 3", "same, same, 0", "flaw, lawn, 2",
        "up_proj, up_prj, 1", "ab, ba, 2", "gate, gaet, 2",
    })
    void editDistance(String a, String b, int d) {
        assertEquals(d, KeyHints.distance(a, b));
        assertEquals(d, KeyHints.distance(b, a));
    }

    @Test
    void suggestsTheClosestKeyWithinTheThreshold() {
        List<String> keys = List.of("model.embed_tokens.weight", "model.norm.weight", "lm_head.weight");
        assertEquals("; did you mean 'model.norm.weight'?", KeyHints.didYouMean("model.nrom.weight", keys));
        assertEquals("; did you mean 'lm_head.weight'?", KeyHints.didYouMean("lm_head.weights", keys));
        assertEquals("", KeyHints.didYouMean("transformer.wte.weight", keys));
        assertEquals("", KeyHints.didYouMean("x", List.of()));
    }

    @Test
    void thresholdIsTwoOrAQuarterOfTheKey() {
        // "abcd" (4 chars): threshold max(2, 1) = 2.
        assertEquals("; did you mean 'abXY'?", KeyHints.didYouMean("abcd", List.of("abXY")));
        assertEquals("", KeyHints.didYouMean("abcd", List.of("aXYZ")));
        // 20 chars: threshold 5.
        String key = "abcdefghijklmnopqrst";
        assertEquals("; did you mean 'abcdefghijklmnoVWXYZ'?", KeyHints.didYouMean(key, List.of("abcdefghijklmnoVWXYZ")));
        assertEquals("", KeyHints.didYouMean(key, List.of("abcdefghijklmnUVWXYZ")));
    }

    @Test
    void prefersTheNearerOfTwoCandidates() {
        assertEquals("; did you mean 'layer.10.w'?", KeyHints.didYouMean("layer.10.v", List.of("layer.1.x", "layer.10.w")));
    }
}
