package dev.tranche.scheduler.simulation;

import dev.tranche.scheduler.core.model.GpuRequest;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.channels.ReadableByteChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;

/**
 * Reads the trace formats {@code tranche simulate} replays; every error names the file, line and
 * column. Jobs come back sorted by arrival, ties in file order, with arrivals counted from the
 * earliest one.
 *
 * <p>{@code philly}: {@code timestamp,duration,num_gpus,gpu_time,cluster} (the shared Philly trace;
 * the cluster is the team). {@code tranche}: {@code arrival,project,replicas,gpus,duration,priority}
 * with a header line; {@code arrival} is an ISO-8601 instant ({@code 2026-11-30T08:00:00Z}) or seconds
 * from any origin, {@code gpus} is per replica, whole ({@code 2}) or a fraction of one GPU ({@code 0.25}),
 * {@code duration} is seconds of run time, {@code priority} an integer (optional, default 0). This is
 * what {@code tranche history export} writes.
 */
public final class TraceReader
{
    private static final DateTimeFormatter PHILLY_TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss", Locale.ROOT);
    public static final List<String> FORMATS = List.of("philly", "tranche");
    public static final String TRANCHE_HEADER = "arrival,project,replicas,gpus,duration,priority";
    public static final String PHILLY_HEADER = "timestamp,duration,num_gpus,gpu_time,cluster";
    /**
     * The longest a job may run and the longest time its arrivals may span: 10 years. The replay
     * counts usage hour by hour, so a typo such as 0026 for 2026 would otherwise exhaust memory.
     */
    public static final long MAX_SECONDS = 3650L * 86_400;

    private TraceReader() {}

    public static List<TraceJob> read(Path file, String format, int gpusPerNode)
    {
        return switch (format) {
            case "philly" -> philly(file, gpusPerNode);
            case "tranche" -> tranche(file);
            default -> throw new IllegalArgumentException("--format must be one of " + String.join(", ", FORMATS) + ": got " + format);
        };
    }

    /**
     * A Philly job of n GPUs becomes a gang: one replica of n GPUs when it fits a node, else the fewest
     * replicas of equal whole GPUs that each fit a node (16 GPUs on 8-GPU nodes: 2 x 8).
     */
    public static List<TraceJob> philly(Path file, int gpusPerNode)
    {
        List<Row> rows = rows(file, PHILLY_HEADER);
        List<TraceJob> jobs = new ArrayList<>();
        long earliest = Long.MAX_VALUE;
        long[] arrivals = new long[rows.size()];
        for (int i = 0; i < rows.size(); i++) {
            String[] row = rows.get(i).fields();
            int line = rows.get(i).line();
            try {
                arrivals[i] = LocalDateTime.parse(row[0].strip(), PHILLY_TIME).toEpochSecond(ZoneOffset.UTC);
            }
            catch (DateTimeParseException e) {
                throw new TraceFormatException(String.format("%s line %d column 1 (timestamp): expected YYYY-MM-DD HH:MM:SS, got \"%s\"", file, line, row[0]));
            }
            earliest = Math.min(earliest, arrivals[i]);
        }
        checkSpan(file, rows, arrivals, "timestamp");
        for (int i = 0; i < rows.size(); i++) {
            String[] row = rows.get(i).fields();
            int line = rows.get(i).line();
            double duration = duration(file, line, 2, row[1]);
            double gpus = number(file, line, 3, "num_gpus", row[2]);
            if (gpus < 1 || gpus != Math.rint(gpus)) {
                throw new TraceFormatException(String.format("%s line %d column 3 (num_gpus): expected a whole number >= 1, got \"%s\"", file, line, row[2]));
            }
            String team = row[4].strip();
            if (team.isEmpty()) {
                throw new TraceFormatException(String.format("%s line %d column 5 (cluster): empty", file, line));
            }
            int total = (int) gpus;
            int perReplica = largestDivisorAtMost(total, Math.max(1, gpusPerNode));
            jobs.add(new TraceJob("job-" + (i + 1), team, arrivals[i] - earliest, total / perReplica, GpuRequest.whole(perReplica), duration, 0, i));
        }
        return sorted(jobs);
    }

    private static int largestDivisorAtMost(int n, int limit)
    {
        if (n <= limit) {
            return n;
        }
        for (int d = limit; d > 1; d--) {
            if (n % d == 0) {
                return d;
            }
        }
        return 1;
    }

    public static List<TraceJob> tranche(Path file)
    {
        List<Row> rows = rows(file, TRANCHE_HEADER);
        List<TraceJob> jobs = new ArrayList<>();
        long[] arrivals = new long[rows.size()];
        long earliest = Long.MAX_VALUE;
        for (int i = 0; i < rows.size(); i++) {
            arrivals[i] = arrival(file, rows.get(i).line(), rows.get(i).fields()[0]);
            earliest = Math.min(earliest, arrivals[i]);
        }
        checkSpan(file, rows, arrivals, "arrival");
        for (int i = 0; i < rows.size(); i++) {
            String[] row = rows.get(i).fields();
            int line = rows.get(i).line();
            String project = row[1].strip();
            if (project.isEmpty()) {
                throw new TraceFormatException(String.format("%s line %d column 2 (project): empty", file, line));
            }
            double replicas = number(file, line, 3, "replicas", row[2]);
            if (replicas < 1 || replicas != Math.rint(replicas) || replicas > 10_000) {
                throw new TraceFormatException(String.format("%s line %d column 3 (replicas): expected a whole number from 1 to 10000, got \"%s\"", file, line, row[2]));
            }
            double gpus = number(file, line, 4, "gpus", row[3]);
            GpuRequest gpu;
            if (gpus > 0 && gpus < 1) {
                int milli = (int) Math.round(gpus * GpuRequest.MILLI_PER_GPU);
                if (Math.abs(milli - gpus * GpuRequest.MILLI_PER_GPU) > 1e-6 || milli < 1) {
                    throw new TraceFormatException(String.format("%s line %d column 4 (gpus): a fraction must be a multiple of 0.001, got \"%s\"", file, line, row[3]));
                }
                gpu = GpuRequest.fraction(milli);
            }
            else if (gpus >= 1 && gpus == Math.rint(gpus) && gpus <= 1024) {
                gpu = GpuRequest.whole((int) gpus);
            }
            else {
                throw new TraceFormatException(String.format("%s line %d column 4 (gpus): expected a whole number of GPUs (1-1024) or a fraction below 1 such as 0.25, got \"%s\"",
                        file, line, row[3]));
            }
            double duration = duration(file, line, 5, row[4]);
            int priority = 0;
            if (row.length > 5 && !row[5].isBlank()) {
                try {
                    priority = Integer.parseInt(row[5].strip());
                }
                catch (NumberFormatException e) {
                    throw new TraceFormatException(String.format("%s line %d column 6 (priority): expected an integer, got \"%s\"", file, line, row[5]));
                }
            }
            jobs.add(new TraceJob("job-" + (i + 1), project, arrivals[i] - earliest, (int) replicas, gpu, duration, priority, i));
        }
        return sorted(jobs);
    }

    private static long arrival(Path file, int line, String text)
    {
        String value = text.strip();
        try {
            return Instant.parse(value).getEpochSecond();
        }
        catch (DateTimeParseException notInstant) {
            try {
                double seconds = Double.parseDouble(value);
                if (seconds >= 0 && !Double.isInfinite(seconds)) {
                    return (long) Math.floor(seconds);
                }
            }
            catch (NumberFormatException ignored) {
                // the message below says what is accepted
            }
            throw new TraceFormatException(String.format("%s line %d column 1 (arrival): expected an ISO-8601 instant such as 2026-11-30T08:00:00Z or seconds >= 0, got \"%s\"",
                    file, line, text));
        }
    }

    /**
     * Refuses arrivals spanning more than {@link #MAX_SECONDS}, naming the one farther from the median:
     * with one mistyped year among thousands of rows, that is the typo.
     */
    private static void checkSpan(Path file, List<Row> rows, long[] arrivals, String column)
    {
        if (arrivals.length == 0) {
            return;
        }
        int first = 0;
        int last = 0;
        for (int i = 1; i < arrivals.length; i++) {
            first = arrivals[i] < arrivals[first] ? i : first;
            last = arrivals[i] > arrivals[last] ? i : last;
        }
        // in doubles: an arrival of 1e300 seconds and one in year -999999999 are a span no long holds
        if ((double) arrivals[last] - arrivals[first] <= MAX_SECONDS) {
            return;
        }
        long[] sorted = arrivals.clone();
        Arrays.sort(sorted);
        double median = sorted[sorted.length / 2];
        int outlier = median - arrivals[first] > arrivals[last] - median ? first : last;
        double days = Math.floor(Math.abs(arrivals[outlier] - median) / 86_400);
        throw new TraceFormatException(String.format(Locale.ROOT, "%s line %d column 1 (%s): %s is %.0f days %s the trace's median %s; a trace may span at most %d days (10 years): check the year",
                file, rows.get(outlier).line(), column, rows.get(outlier).fields()[0].strip(), days, outlier == first ? "before" : "after", column, MAX_SECONDS / 86_400));
    }

    private static double duration(Path file, int line, int column, String text)
    {
        double seconds = number(file, line, column, "duration", text);
        if (seconds > MAX_SECONDS) {
            throw new TraceFormatException(String.format("%s line %d column %d (duration): a job may run at most %d seconds (%d days, 10 years): got \"%s\"",
                    file, line, column, MAX_SECONDS, MAX_SECONDS / 86_400, text));
        }
        return seconds;
    }

    private static double number(Path file, int line, int column, String name, String text)
    {
        try {
            double value = Double.parseDouble(text.strip());
            if (value >= 0 && !Double.isInfinite(value)) {
                return value;
            }
        }
        catch (NumberFormatException ignored) {
            // the message below says what is accepted
        }
        throw new TraceFormatException(String.format("%s line %d column %d (%s): expected a number >= 0, got \"%s\"", file, line, column, name, text));
    }

    /** A data row; it has at least the header's first five fields. */
    private record Row(int line, String[] fields) {}

    /** The rows after {@code header}; columns are read by position, so a missing or reordered header is an error. */
    private static List<Row> rows(Path file, String header)
    {
        int columns = 5; // the tranche format's priority may be left out
        if (!Files.isRegularFile(file)) {
            throw new TraceFormatException(file + ": no such file");
        }
        List<Row> rows = new ArrayList<>();
        try (BufferedReader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String first = reader.readLine();
            if (first == null) {
                throw new TraceFormatException(file + ": empty file; expected the header " + header + " and one job per line");
            }
            // a byte-order mark, as some spreadsheets write, is not part of the header
            if (!first.replace("\uFEFF", "").strip().equals(header)) {
                throw new TraceFormatException(String.format("%s line 1: expected the header %s, got \"%s\"", file, header, first.strip()));
            }
            String line;
            int number = 1;
            while ((line = reader.readLine()) != null) {
                number++;
                if (line.isBlank()) {
                    continue;
                }
                String[] fields = line.split(",", -1);
                if (fields.length < columns) {
                    throw new TraceFormatException(String.format("%s line %d: expected %d comma-separated fields (%s), got %d",
                            file, number, columns, header, fields.length));
                }
                rows.add(new Row(number, fields));
            }
        }
        catch (CharacterCodingException e) {
            throw new TraceFormatException(file + notUtf8Line(file) + ": not UTF-8 text; save the file as UTF-8");
        }
        catch (IOException e) {
            throw new UncheckedIOException("could not read " + file + ": " + e.getMessage(), e);
        }
        return rows;
    }

    /**
     * " line N" for the first line with a byte that is not UTF-8, or "" if it cannot be read again: the
     * buffered reader decodes ahead of the lines it has returned, so its own count is not that line.
     */
    private static String notUtf8Line(Path file)
    {
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder();
        ByteBuffer in = ByteBuffer.allocate(1 << 16);
        CharBuffer out = CharBuffer.allocate(1 << 16);
        int line = 1;
        boolean end = false;
        try (ReadableByteChannel channel = Files.newByteChannel(file)) {
            while (true) {
                end = end || channel.read(in) < 0;
                in.flip();
                CoderResult result = decoder.decode(in, out, end);
                in.compact();
                out.flip();
                while (out.hasRemaining()) {
                    line += out.get() == '\n' ? 1 : 0;
                }
                out.clear();
                if (result.isError()) {
                    return " line " + line;
                }
                if (end && result.isUnderflow()) {
                    return "";
                }
            }
        }
        catch (IOException e) {
            return "";
        }
    }

    private static List<TraceJob> sorted(List<TraceJob> jobs)
    {
        TraceJob[] array = jobs.toArray(TraceJob[]::new);
        Arrays.sort(array, Comparator.comparingLong(TraceJob::arrivalSecond).thenComparingInt(TraceJob::sequence));
        return List.of(array);
    }
}
