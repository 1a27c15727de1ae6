package dev.tornadonn.tornado;

/** TornadoVM's exception messages, made fit for one line of an error: no colour codes, no embedded stack trace. */
final class TornadoMessages {
    private TornadoMessages() {}

    static String firstLines(Throwable e) {
        String m = String.valueOf(e.getMessage()).replaceAll("\u001B\\[[0-9;]*m", "");
        int stack = m.indexOf("Stacktrace:");
        if (stack >= 0) {
            m = m.substring(0, stack);
        }
        return m.strip().replaceAll("\\s*\\n\\s*", "; ");
    }
}
