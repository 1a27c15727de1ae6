package dev.tornadonn.cli.bench;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.lines.SeriesLines;
import org.knowm.xchart.style.markers.Marker;
import org.knowm.xchart.style.markers.SeriesMarkers;

/** A log-log roofline chart (flops per byte against GFLOP/s) of a run's cases, as a PNG. */
final class RooflinePlot {
    private RooflinePlot() {}

    static void write(Path file, List<CaseResult> results, MachineProbe.Roofline roof, String title) throws IOException {
        System.setProperty("java.awt.headless", "true"); // no display needed: the chart is drawn to a bitmap
        XYChart chart = new XYChartBuilder().width(1100).height(700).title(title)
                .xAxisTitle("arithmetic intensity (flop/byte)").yAxisTitle("GFLOP/s").build();
        org.knowm.xchart.style.XYStyler s = chart.getStyler();
        chart.getStyler().setXAxisLogarithmic(true).setYAxisLogarithmic(true)
                .setLegendPosition(Styler.LegendPosition.OutsideE).setChartTitleVisible(true);

        double lo = roof.ridge();
        double hi = roof.ridge();
        double yLo = roof.peakGflops();
        results = results.stream().filter(r -> !r.bench().isMixed()).toList(); // the same points as the cases alone
        for (CaseResult r : results) {
            lo = Math.min(lo, Math.min(r.intensity(), r.numpyIntensity()));
            hi = Math.max(hi, Math.max(r.intensity(), r.numpyIntensity()));
            yLo = Math.min(yLo, Math.min(r.gflops(), Double.isNaN(r.numpyGflops()) ? r.gflops() : r.numpyGflops()));
        }
        lo /= 2;
        hi *= 2;
        line(chart, String.format("memory bandwidth %.1f GB/s", roof.bandwidthGBs()),
                new double[] {lo, roof.ridge()}, new double[] {lo * roof.bandwidthGBs(), roof.peakGflops()}, SeriesLines.SOLID);
        line(chart, String.format("peak f32 FMA %.0f GFLOP/s", roof.peakGflops()),
                new double[] {roof.ridge(), hi}, new double[] {roof.peakGflops(), roof.peakGflops()}, SeriesLines.DASH_DASH);

        Marker[] markers = {SeriesMarkers.CIRCLE, SeriesMarkers.SQUARE, SeriesMarkers.TRIANGLE_UP, SeriesMarkers.TRIANGLE_DOWN};
        int i = 0;
        for (CaseResult r : results) {
            XYSeries p = chart.addSeries(r.bench().label() + " " + r.bench().shape(),
                    new double[] {r.intensity()}, new double[] {r.gflops()});
            p.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
            p.setMarker(markers[i++ % markers.length]);
        }
        double[][] np = numpyPoints(results);
        if (np[0].length > 0) {
            XYSeries p = chart.addSeries("numpy f32 (same shapes)", np[0], np[1]);
            p.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
            p.setMarker(SeriesMarkers.DIAMOND);
            p.setMarkerColor(java.awt.Color.BLACK);
        }
        s.setYAxisMin(Math.max(yLo / 2, 1e-3));
        s.setYAxisMax(roof.peakGflops() * 2);
        s.setMarkerSize(10);
        try (OutputStream out = Files.newOutputStream(file)) {
            BitmapEncoder.saveBitmap(chart, out, BitmapEncoder.BitmapFormat.PNG);
        }
    }

    private static void line(XYChart chart, String name, double[] x, double[] y, java.awt.BasicStroke style) {
        XYSeries l = chart.addSeries(name, x, y);
        l.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Line);
        l.setMarker(SeriesMarkers.NONE);
        l.setLineStyle(style);
        l.setLineColor(java.awt.Color.GRAY);
    }

    /** One numpy point per distinct shape (the formats of a shape share numpy's f32 time). */
    private static double[][] numpyPoints(List<CaseResult> results) {
        java.util.Map<String, double[]> byShape = new java.util.LinkedHashMap<>();
        for (CaseResult r : results) {
            if (r.numpy() != null) {
                byShape.putIfAbsent(r.bench().shape(), new double[] {r.numpyIntensity(), r.numpyGflops()});
            }
        }
        double[][] xy = new double[2][byShape.size()];
        int i = 0;
        for (double[] p : byShape.values()) {
            xy[0][i] = p[0];
            xy[1][i++] = p[1];
        }
        return xy;
    }
}
