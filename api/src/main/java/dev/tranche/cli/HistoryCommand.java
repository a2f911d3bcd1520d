package dev.tranche.cli;

import com.google.protobuf.Timestamp;
import dev.tranche.client.HistoryTrace;
import dev.tranche.client.TrancheClient;
import dev.tranche.proto.v1.ExportHistoryRequest;
import dev.tranche.proto.v1.HistoryJob;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.Iterator;
import java.util.Optional;
import java.util.concurrent.Callable;

@Command(name = "history", description = "The cluster's past work; 'export' writes it as a trace that 'tranche simulate --format tranche' replays.",
        subcommands = HistoryCommand.Export.class)
final class HistoryCommand
{
    @Command(name = "export", description = {
            "Every finished experiment that ran, oldest submission first, as CSV: " + HistoryTrace.HEADER + ".",
            "arrival is when it was submitted, gpus what each replica asked for, duration the seconds it spent running (every attempt),"
                    + " priority its class's number (25 low, 50 normal, 75 high, 100 critical).",
            "Experiments that asked for GPU memory or no GPU are left out (the trace counts GPUs) and counted on stderr; -o json prints every one."})
    static final class Export
            implements Callable<Integer>
    {
        @Spec
        CommandSpec spec;

        @Mixin
        ClientOptions client;

        @Option(names = "--since", paramLabel = "WHEN",
                description = "Only experiments submitted at or after WHEN: an instant (2026-11-01T08:00:00Z), a day (2026-11-01, UTC), or how long ago (30d).")
        String since;

        @Option(names = "--until", paramLabel = "WHEN", description = "Only experiments submitted before WHEN (same forms as --since; default: now).")
        String until;

        @Option(names = "--project", paramLabel = "NAME", description = "Only this project (default: every project you may read).")
        String project;

        @Option(names = "--file", paramLabel = "FILE", description = "Write here (replaced only once the whole export has arrived) instead of to standard output.")
        Path file;

        private final Clock clock;

        Export()
        {
            this(Clock.systemUTC());
        }

        Export(Clock clock)
        {
            this.clock = clock;
        }

        @Override
        public Integer call()
                throws IOException
        {
            ExportHistoryRequest.Builder request = ExportHistoryRequest.newBuilder().setProject(project == null ? "" : project);
            if (since != null) {
                request.setSince(timestamp(when("--since", since)));
            }
            if (until != null) {
                request.setUntil(timestamp(when("--until", until)));
            }
            if (file == null) {
                PrintWriter out = spec.commandLine().getOut();
                int left = export(request.build(), out);
                out.flush();
                report(left);
                return 0;
            }
            // a failed or interrupted export leaves the old file as it was
            int[] left = new int[1];
            FileReplacement.write(file, writer -> {
                PrintWriter out = new PrintWriter(writer);
                left[0] = export(request.build(), out);
                if (out.checkError()) {
                    throw new IOException("could not write " + file);
                }
            });
            report(left[0]);
            return 0;
        }

        /** Writes the jobs; returns how many could not be written as trace rows. */
        private int export(ExportHistoryRequest request, PrintWriter out)
        {
            int left = 0;
            try (TrancheClient tranche = client.connect()) {
                Iterator<HistoryJob> jobs = tranche.exportHistory(request);
                if (client.output() != OutputFormat.json) {
                    out.println(HistoryTrace.HEADER);
                }
                while (jobs.hasNext()) {
                    HistoryJob job = jobs.next();
                    if (client.output() == OutputFormat.json) {
                        out.println(Formats.jsonLine(job));
                    }
                    else {
                        Optional<String> row = HistoryTrace.row(job);
                        if (row.isPresent()) {
                            out.println(row.get());
                        }
                        else {
                            left++;
                        }
                    }
                }
            }
            return left;
        }

        private void report(int left)
        {
            if (left > 0) {
                PrintWriter err = spec.commandLine().getErr();
                err.println("left out " + Formats.count(left, "experiment") + " that asked for GPU memory or no GPU: the trace format counts GPUs (-o json lists them)");
                err.flush();
            }
        }

        private Instant when(String flag, String value)
        {
            Optional<Instant> instant = HistoryTrace.instantOrDay(value);
            if (instant.isPresent()) {
                return instant.get();
            }
            try {
                return clock.instant().minus(Durations.parse(flag, value.strip()));
            }
            catch (IllegalArgumentException notDuration) {
                throw new IllegalArgumentException(flag + " must be an instant (2026-11-01T08:00:00Z), a day (2026-11-01) or how long ago (30d, 12h): got '"
                        + value + "'");
            }
        }

        private static Timestamp timestamp(Instant instant)
        {
            return Timestamp.newBuilder().setSeconds(instant.getEpochSecond()).setNanos(instant.getNano()).build();
        }
    }
}
