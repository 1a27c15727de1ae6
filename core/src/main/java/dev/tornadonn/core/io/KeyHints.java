package dev.tornadonn.core.io;

import java.util.Collection;
import java.util.Comparator;

/** "Did you mean" suggestions for mistyped tensor keys. */
public final class KeyHints {
    private KeyHints() {}

    /** {@code "; did you mean 'x'?"} for the closest key within a small edit distance, else {@code ""}. */
    public static String didYouMean(String key, Collection<String> candidates) {
        return candidates.stream()
                .filter(c -> distance(key, c) <= Math.max(2, key.length() / 4))
                .min(Comparator.comparingInt((String c) -> distance(key, c)))
                .map(c -> "; did you mean '" + c + "'?")
                .orElse("");
    }

    static int distance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int subst = prev[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                cur[j] = Math.min(subst, Math.min(prev[j], cur[j - 1]) + 1);
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }
}
