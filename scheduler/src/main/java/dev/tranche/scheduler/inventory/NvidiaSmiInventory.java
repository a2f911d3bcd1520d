package dev.tranche.scheduler.inventory;

import dev.tranche.scheduler.core.model.Gpu;
import dev.tranche.scheduler.core.model.Node;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * This machine's real GPUs, from {@code nvidia-smi --query-gpu=index,name,memory.total,mig.mode.current --format=csv}.
 * GPUs in MIG mode are left out: their slices are not whole devices a fraction can be taken of.
 */
public final class NvidiaSmiInventory
{
    public static final String QUERY = "index,uuid,name,memory.total,memory.used,memory.free,utilization.gpu,driver_version,pci.bus_id,compute_mode,mig.mode.current";

    private NvidiaSmiInventory() {}

    /** Runs nvidia-smi; a machine without it has no GPUs (an empty list), not an error. */
    public static List<Gpu> detect()
    {
        Process process;
        try {
            process = new ProcessBuilder("nvidia-smi", "--query-gpu=" + QUERY, "--format=csv").redirectErrorStream(true).start();
        }
        catch (IOException e) {
            return List.of();
        }
        try {
            String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!process.waitFor(30, TimeUnit.SECONDS) || process.exitValue() != 0) {
                throw new IllegalStateException("nvidia-smi failed: " + output.strip());
            }
            return parse(output);
        }
        catch (IOException e) {
            throw new IllegalStateException("cannot read nvidia-smi's output: " + e.getMessage(), e);
        }
        catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while running nvidia-smi", e);
        }
    }

    /** Parses the CSV that {@link #QUERY} produces (a header line, then one line per GPU). */
    public static List<Gpu> parse(String csv)
    {
        List<String> lines = csv.lines().map(String::strip).filter(line -> !line.isEmpty()).toList();
        if (lines.isEmpty()) {
            return List.of();
        }
        List<String> header = split(lines.get(0));
        int index = column(header, "index");
        int name = column(header, "name");
        int memory = column(header, "memory.total");
        int mig = header.indexOf("mig.mode.current");
        List<Gpu> gpus = new ArrayList<>();
        for (int i = 1; i < lines.size(); i++) {
            List<String> cells = split(lines.get(i));
            if (cells.size() != header.size()) {
                throw new IllegalArgumentException("nvidia-smi line " + (i + 1) + " has " + cells.size() + " fields, the header " + header.size() + ": " + lines.get(i));
            }
            if (mig >= 0 && cells.get(mig).equalsIgnoreCase("Enabled")) {
                continue;
            }
            try {
                long memoryMib = Long.parseLong(cells.get(memory).replace("MiB", "").strip());
                gpus.add(new Gpu(Integer.parseInt(cells.get(index)), cells.get(name).replace(' ', '-'), memoryMib));
            }
            catch (NumberFormatException e) {
                throw new IllegalArgumentException("nvidia-smi line " + (i + 1) + ": cannot read the index or memory: " + lines.get(i));
            }
        }
        return gpus;
    }

    /** One node: this machine, with its CPU and memory as the JVM sees them. */
    public static Node thisMachine(String name, List<Gpu> gpus, long cpuMilli, long memoryMib)
    {
        return new Node(name, cpuMilli, memoryMib, gpus, true);
    }

    private static int column(List<String> header, String name)
    {
        int position = header.indexOf(name);
        if (position < 0) {
            throw new IllegalArgumentException("nvidia-smi output has no " + name + " column: " + header);
        }
        return position;
    }

    private static List<String> split(String line)
    {
        List<String> cells = new ArrayList<>();
        for (String cell : line.split(",")) {
            String trimmed = cell.strip();
            // header cells carry their unit: "memory.total [MiB]"
            int unit = trimmed.indexOf(" [");
            cells.add(unit > 0 && trimmed.endsWith("]") ? trimmed.substring(0, unit) : trimmed);
        }
        return cells;
    }
}
