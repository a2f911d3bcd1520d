package dev.tranche.bench;

import dev.tranche.scheduler.simulation.TraceFormatException;
import dev.tranche.scheduler.core.model.Gpu;
import dev.tranche.scheduler.core.model.GpuRequest;
import dev.tranche.scheduler.core.model.Node;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.Reader;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

import static java.util.Objects.requireNonNull;

/**
 * Reads the CSV files of the Alibaba GPU-sharing trace ("openb"): a node list
 * ({@code sn,cpu_milli,memory_mib,gpu,model}) and a pod list
 * ({@code name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,...}, models in gpu_spec separated by '|').
 * Columns are found by header name, so extra columns and other orders are fine. As in the published
 * simulator, a pod list needs only {@code name, cpu_milli, num_gpu}: the official lists of the family
 * leave out {@code gpu_spec} (any model), and {@code gpu_milli} (whole GPUs) or {@code memory_mib} (none)
 * may be missing too. The files hold no
 * quoted fields. Every error names the file, the line and the column.
 */
public final class OpenbTraceReader
{
    // GPU memory is not in the node list; these are the public sizes of the models whose size is known
    private static final Map<String, Long> KNOWN_GPU_MEMORY_MIB = Map.of(
            "V100M16", 16_384L,
            "V100M32", 32_768L,
            "P100", 16_384L,
            "T4", 15_360L,
            "A10", 24_576L);

    private OpenbTraceReader() {}

    public static List<Node> readNodes(Path file)
    {
        return readNodes(file.toString(), open(file));
    }

    public static List<TraceTask> readTasks(Path file)
    {
        return readTasks(file.toString(), open(file));
    }

    public static List<Node> readNodes(String fileName, Reader reader)
    {
        List<Node> nodes = new ArrayList<>();
        parse(fileName, reader, List.of("sn", "cpu_milli", "memory_mib", "gpu", "model"), row -> {
            String name = row.text("sn");
            int gpuCount = (int) row.number("gpu");
            String model = row.raw("model");
            if (gpuCount > 0 && model.isBlank()) {
                throw row.error("model", "a node with GPUs needs a model");
            }
            List<Gpu> gpus = new ArrayList<>();
            for (int i = 0; i < gpuCount; i++) {
                gpus.add(new Gpu(i, model, KNOWN_GPU_MEMORY_MIB.getOrDefault(model, 0L)));
            }
            nodes.add(row.build(() -> new Node(name, row.number("cpu_milli"), row.number("memory_mib"), gpus, true)));
        });
        return nodes;
    }

    public static List<TraceTask> readTasks(String fileName, Reader reader)
    {
        List<TraceTask> tasks = new ArrayList<>();
        parse(fileName, reader, List.of("name", "cpu_milli", "num_gpu"), row -> {
            // as the published simulator reads them: no gpu_spec means any model, no gpu_milli whole GPUs,
            // no memory_mib no memory request
            String spec = row.has("gpu_spec") ? row.raw("gpu_spec").trim() : "";
            Set<String> models = new LinkedHashSet<>();
            for (String model : spec.split("\\|")) {
                if (!model.isBlank()) {
                    models.add(model.strip());
                }
            }
            long numGpu = row.number("num_gpu");
            long gpuMilli = numGpu == 0 ? 0 : row.has("gpu_milli") ? row.number("gpu_milli") : GpuRequest.MILLI_PER_GPU;
            long memory = row.has("memory_mib") ? row.number("memory_mib") : 0;
            tasks.add(row.build(() -> new TraceTask(row.text("name"), row.number("cpu_milli"), memory, (int) numGpu, (int) gpuMilli, models)));
        });
        return tasks;
    }

    private static Reader open(Path file)
    {
        requireNonNull(file, "file is null");
        try {
            return Files.newBufferedReader(file, StandardCharsets.UTF_8);
        }
        catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }

    private interface RowHandler
    {
        void accept(Row row);
    }

    private static void parse(String fileName, Reader input, List<String> required, RowHandler handler)
    {
        try (BufferedReader reader = new BufferedReader(input)) {
            String header = reader.readLine();
            if (header == null) {
                throw new TraceFormatException(fileName + ": the file is empty; expected a header with " + String.join(",", required));
            }
            String[] names = header.strip().split(",", -1);
            Map<String, Integer> columns = new HashMap<>();
            for (int i = 0; i < names.length; i++) {
                columns.put(names[i].strip(), i);
            }
            for (String column : required) {
                if (!columns.containsKey(column)) {
                    throw new TraceFormatException(fileName + " line 1: missing column '" + column + "'; header is '" + header + "'");
                }
            }
            String line;
            int lineNumber = 1;
            while ((line = reader.readLine()) != null) {
                lineNumber++;
                if (line.isBlank()) {
                    continue;
                }
                String[] values = line.split(",", -1);
                if (values.length != names.length) {
                    throw new TraceFormatException(fileName + " line " + lineNumber + ": expected " + names.length + " columns, found " + values.length);
                }
                handler.accept(new Row(fileName, lineNumber, columns, values));
            }
        }
        catch (IOException e) {
            throw new UncheckedIOException("cannot read " + fileName, e);
        }
    }

    private record Row(String fileName, int line, Map<String, Integer> columns, String[] values)
    {
        boolean has(String column)
        {
            return columns.containsKey(column);
        }

        String raw(String column)
        {
            return values[columns.get(column)];
        }

        String text(String column)
        {
            String value = raw(column).strip();
            if (value.isEmpty()) {
                throw error(column, "value is empty");
            }
            return value;
        }

        long number(String column)
        {
            String value = raw(column).strip();
            try {
                long number = Long.parseLong(value);
                if (number < 0) {
                    throw error(column, "expected a non-negative integer, got '" + value + "'");
                }
                return number;
            }
            catch (NumberFormatException e) {
                throw error(column, "expected a non-negative integer, got '" + value + "'");
            }
        }

        <T> T build(Supplier<T> builder)
        {
            try {
                return builder.get();
            }
            catch (IllegalArgumentException e) {
                throw new TraceFormatException(fileName + " line " + line + ": " + e.getMessage());
            }
        }

        TraceFormatException error(String column, String message)
        {
            return new TraceFormatException(fileName + " line " + line + " column " + (columns.get(column) + 1) + " (" + column + "): " + message);
        }
    }

    /** For tests and callers that hold the text already. */
    public static List<TraceTask> readTasks(String fileName, String text)
    {
        return readTasks(fileName, new StringReader(text));
    }

    public static List<Node> readNodes(String fileName, String text)
    {
        return readNodes(fileName, new StringReader(text));
    }
}
