package dev.tranche.scheduler.simulation;

import dev.tranche.scheduler.outcome.Outcomes;
import dev.tranche.scheduler.outcome.UsageTimeline;

import java.util.List;
import java.util.Locale;

/**
 * One self-contained HTML page (inline SVG, no scripts, nothing fetched) for a replay: the summary
 * table, GPU allocation per team over time against the cluster per policy, and the wait distribution.
 */
final class SimulationReport
{
    private static final String[] COLORS = {"#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f",
            "#bab0ac", "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b"};
    private static final double[] WAIT_EDGES = {0, 60, 600, 3600, 6 * 3600, 24 * 3600, 7 * 24 * 3600};
    private static final String[] WAIT_LABELS = {"0", "<1m", "1-10m", "10m-1h", "1-6h", "6-24h", "1-7d", ">7d"};

    private SimulationReport() {}

    static String html(String traceName, int nodes, int gpusPerNode, List<Simulator.Result> results)
    {
        StringBuilder page = new StringBuilder();
        page.append("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>tranche simulate: ").append(escape(traceName)).append("</title>")
                .append("<style>body{font-family:system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse}td,th{padding:4px 10px;border-bottom:1px solid #ddd;text-align:right}")
                .append("th:first-child,td:first-child{text-align:left}h2{margin-top:2em}.legend span{display:inline-block;margin-right:12px}.sw{display:inline-block;width:10px;height:10px;margin-right:4px}</style></head><body>");
        page.append("<h1>Replay of ").append(escape(traceName)).append(String.format(Locale.ROOT, " on %d nodes x %d GPUs</h1>", nodes, gpusPerNode));
        page.append("<table><tr><th>policy</th><th>jobs</th><th>avg JCT (h)</th><th>p50</th><th>p95</th><th>p99</th><th>avg wait (h)</th><th>p95 wait</th>")
                .append("<th>makespan (d)</th><th>GPU allocation</th><th>preemptions</th><th>GPU-h lost</th><th>Jain</th><th>wall (s)</th></tr>");
        for (Simulator.Result result : results) {
            Outcomes.Summary s = result.summary();
            page.append(String.format(Locale.ROOT, "<tr><td>%s</td><td>%d</td><td>%.2f</td><td>%.2f</td><td>%.2f</td><td>%.2f</td><td>%.2f</td><td>%.2f</td><td>%.1f</td><td>%.1f%%</td><td>%d</td><td>%.1f</td><td>%.3f</td><td>%.1f</td></tr>",
                    escape(result.policy()), s.jobs(), s.avgJctSeconds() / 3600, s.p50JctSeconds() / 3600, s.p95JctSeconds() / 3600, s.p99JctSeconds() / 3600,
                    s.avgWaitSeconds() / 3600, s.p95WaitSeconds() / 3600, s.makespanSeconds() / 86400, 100 * s.gpuAllocation(), s.preemptions(), s.lostGpuHours(),
                    s.jainFairness(), result.wallSeconds()));
        }
        page.append("</table>");
        for (Simulator.Result result : results) {
            page.append("<h2>").append(escape(result.policy())).append(": GPUs held per team (daily mean), cluster ").append(nodes * gpusPerNode).append(" GPUs</h2>");
            page.append(allocationChart(result.timeline(), nodes * gpusPerNode));
            page.append(perTeam(result));
        }
        page.append("<h2>Wait distribution (share of jobs)</h2>").append(waitChart(results));
        page.append("</body></html>\n");
        return page.toString();
    }

    private static String perTeam(Simulator.Result result)
    {
        StringBuilder table = new StringBuilder("<table><tr><th>team</th><th>jobs</th><th>avg JCT (h)</th><th>avg wait (h)</th><th>deserved GPUs</th><th>received GPU-h</th><th>deserved GPU-h (capped by demand)</th></tr>");
        for (Outcomes.ProjectOutcome project : result.summary().projects()) {
            table.append(String.format(Locale.ROOT, "<tr><td>%s</td><td>%d</td><td>%.2f</td><td>%.2f</td><td>%.1f</td><td>%.0f</td><td>%.0f</td></tr>", escape(project.project()),
                    project.jobs(), project.avgJctSeconds() / 3600, project.avgWaitSeconds() / 3600, project.deservedGpus(), project.receivedGpuHours(), project.deservedGpuHours()));
        }
        return table.append("</table>").toString();
    }

    /** Stacked areas of each team's mean GPUs held per day. */
    static String allocationChart(UsageTimeline timeline, double clusterGpus)
    {
        int perDay = (int) Math.max(1, Math.round(86400 / timeline.bucketSeconds()));
        int days = Math.max(1, (timeline.buckets() + perDay - 1) / perDay);
        int teams = timeline.projects().size();
        double[][] daily = new double[days][teams];
        for (int b = 0; b < timeline.buckets(); b++) {
            for (int p = 0; p < teams; p++) {
                daily[b / perDay][p] += timeline.held(b, p) / (perDay * timeline.bucketSeconds());
            }
        }
        double width = 900;
        double height = 260;
        double top = Math.max(1, clusterGpus);
        StringBuilder svg = new StringBuilder(String.format(Locale.ROOT, "<svg width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" role=\"img\">", width + 60, height + 30, width + 60, height + 30));
        double[] base = new double[days];
        for (int p = 0; p < teams; p++) {
            StringBuilder upper = new StringBuilder();
            StringBuilder lower = new StringBuilder();
            for (int d = 0; d < days; d++) {
                double x = 50 + width * d / Math.max(1, days - 1);
                upper.append(String.format(Locale.ROOT, "%.1f,%.1f ", x, height - height * (base[d] + daily[d][p]) / top));
                lower.insert(0, String.format(Locale.ROOT, "%.1f,%.1f ", x, height - height * base[d] / top));
                base[d] += daily[d][p];
            }
            svg.append("<polygon fill=\"").append(COLORS[p % COLORS.length]).append("\" points=\"").append(upper).append(lower).append("\"><title>")
                    .append(escape(timeline.projects().get(p))).append("</title></polygon>");
        }
        svg.append(String.format(Locale.ROOT, "<line x1=\"50\" x2=\"%.0f\" y1=\"0\" y2=\"0\" stroke=\"#000\" stroke-dasharray=\"4\"/>", 50 + width));
        svg.append(String.format(Locale.ROOT, "<text x=\"0\" y=\"12\" font-size=\"11\">%.0f</text><text x=\"0\" y=\"%.0f\" font-size=\"11\">0</text>", top, height));
        svg.append(String.format(Locale.ROOT, "<text x=\"50\" y=\"%.0f\" font-size=\"11\">day 0</text><text x=\"%.0f\" y=\"%.0f\" font-size=\"11\">day %d</text>", height + 20, width, height + 20, days));
        svg.append("</svg><div class=\"legend\">");
        for (int p = 0; p < teams; p++) {
            svg.append("<span><i class=\"sw\" style=\"background:").append(COLORS[p % COLORS.length]).append("\"></i>").append(escape(timeline.projects().get(p))).append("</span>");
        }
        return svg.append("</div>").toString();
    }

    private static String waitChart(List<Simulator.Result> results)
    {
        StringBuilder table = new StringBuilder("<table><tr><th>policy</th>");
        for (String label : WAIT_LABELS) {
            table.append("<th>").append(label).append("</th>");
        }
        table.append("</tr>");
        for (Simulator.Result result : results) {
            int[] counts = new int[WAIT_LABELS.length];
            for (double wait : result.waits()) {
                int bucket = 0;
                if (wait > 0) {
                    bucket = WAIT_LABELS.length - 1;
                    for (int i = 1; i < WAIT_EDGES.length; i++) {
                        if (wait < WAIT_EDGES[i]) {
                            bucket = i;
                            break;
                        }
                    }
                }
                counts[bucket]++;
            }
            table.append("<tr><td>").append(escape(result.policy())).append("</td>");
            for (int count : counts) {
                double share = result.waits().length == 0 ? 0 : (double) count / result.waits().length;
                table.append(String.format(Locale.ROOT, "<td><svg width=\"60\" height=\"12\"><rect width=\"%.1f\" height=\"12\" fill=\"#4e79a7\"/></svg> %.1f%%</td>", 60 * share, 100 * share));
            }
            table.append("</tr>");
        }
        return table.append("</table>").toString();
    }

    private static String escape(String text)
    {
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
