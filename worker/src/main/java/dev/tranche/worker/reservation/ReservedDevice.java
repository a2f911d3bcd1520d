package dev.tranche.worker.reservation;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

import static java.util.Objects.requireNonNull;

/**
 * The one GPU that NVIDIA's device plugin gave this container, as the device plugin names it: a UUID
 * ({@code GPU-8f3c...}, or {@code MIG-...}) or an index. Read from {@code NVIDIA_VISIBLE_DEVICES}
 * (the device plugin's "envvar" strategy), from the directory it points to ("volume-mounts"
 * strategy: one file per device), or, where the variable says nothing useful (CDI injects devices
 * without it), from the driver's {@code /proc/driver/nvidia/gpus/<bus>/information}, which the
 * container runtime fills with this container's devices only.
 */
public record ReservedDevice(String id)
{
    // what a device plugin writes: GPU-<uuid>, MIG-<uuid>, an index, or "0:1" for a MIG device by index
    private static final String DEVICE = "[A-Za-z0-9][A-Za-z0-9:._-]{0,127}";

    public ReservedDevice
    {
        requireNonNull(id, "id is null");
        if (!id.matches(DEVICE)) {
            throw new IllegalArgumentException("'" + id + "' does not look like a GPU device (a UUID such as GPU-8f3c..., or an index)");
        }
    }

    /** {@code visibleDevices}: NVIDIA_VISIBLE_DEVICES, if set; {@code driverGpus}: the driver's per-GPU directory. */
    public static ReservedDevice find(Optional<String> visibleDevices, Path driverGpus)
    {
        String value = visibleDevices.map(String::strip).orElse("");
        if (value.startsWith("/")) {
            return one(listDirectory(Path.of(value)), "the files in " + value + " (NVIDIA_VISIBLE_DEVICES)");
        }
        if (value.isEmpty() || value.equals("all") || value.equals("void") || value.equals("none")) {
            List<String> fromDriver = driverUuids(driverGpus);
            if (fromDriver.isEmpty()) {
                throw new IllegalStateException("NVIDIA_VISIBLE_DEVICES is '" + value + "' and " + driverGpus + " lists no GPU: the device plugin gave this pod no "
                        + "device it can name; check that the pod asks for nvidia.com/gpu: 1 and runs with the NVIDIA container runtime");
            }
            return one(fromDriver, driverGpus + " (NVIDIA_VISIBLE_DEVICES is '" + value + "')");
        }
        List<String> devices = new ArrayList<>();
        for (String device : value.split(",")) {
            if (!device.isBlank()) {
                devices.add(device.strip());
            }
        }
        return one(devices, "NVIDIA_VISIBLE_DEVICES");
    }

    private static ReservedDevice one(List<String> devices, String source)
    {
        if (devices.size() != 1) {
            throw new IllegalStateException("a GPU reservation holds exactly one device, but " + source + " names " + devices.size() + ": " + devices);
        }
        return new ReservedDevice(devices.get(0));
    }

    private static List<String> listDirectory(Path directory)
    {
        try (Stream<Path> files = Files.list(directory)) {
            return files.map(file -> file.getFileName().toString()).sorted().toList();
        }
        catch (IOException e) {
            throw new UncheckedIOException("cannot list the devices in " + directory + " (NVIDIA_VISIBLE_DEVICES): " + e.getMessage(), e);
        }
    }

    private static List<String> driverUuids(Path driverGpus)
    {
        if (!Files.isDirectory(driverGpus)) {
            return List.of();
        }
        List<String> uuids = new ArrayList<>();
        try (Stream<Path> gpus = Files.list(driverGpus)) {
            for (Path gpu : gpus.sorted().toList()) {
                Path information = gpu.resolve("information");
                if (!Files.isRegularFile(information)) {
                    continue;
                }
                for (String line : Files.readAllLines(information)) {
                    // "GPU UUID: 	 GPU-8f3c0b8e-..."
                    if (line.startsWith("GPU UUID:")) {
                        uuids.add(line.substring("GPU UUID:".length()).strip());
                    }
                }
            }
        }
        catch (IOException e) {
            throw new UncheckedIOException("cannot read the GPUs in " + driverGpus + ": " + e.getMessage(), e);
        }
        return uuids;
    }
}
