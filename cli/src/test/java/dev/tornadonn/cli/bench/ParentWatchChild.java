package dev.tornadonn.cli.bench;

/** Run by {@link ParentWatchTest}: watches its parent, then waits a minute, as a bench case might. */
public final class ParentWatchChild {
    private ParentWatchChild() {}

    public static void main(String[] args) throws InterruptedException {
        ParentWatch.start();
        System.out.println("watching");
        System.out.flush();
        Thread.sleep(60_000);
    }
}
