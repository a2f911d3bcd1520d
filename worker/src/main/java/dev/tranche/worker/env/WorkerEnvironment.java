package dev.tranche.worker.env;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalInt;
import java.util.OptionalLong;

import static java.util.Objects.requireNonNull;

/**
 * What the execution backend tells a worker replica, through environment variables (docs/worker.md
 * lists them). Everything is optional for a stand-alone {@code tranche train}: one replica, rank 0,
 * no scheduler, CPU.
 */
public record WorkerEnvironment(
        Optional<String> experimentId,
        int rank,
        int worldSize,
        Optional<String> masterAddress,
        List<String> peers,
        List<Integer> gpuIds,
        OptionalDouble gpuFraction,
        OptionalLong gpuMemoryMib,
        Optional<String> schedulerAddress,
        Optional<String> credential,
        Optional<Path> checkpointDir,
        boolean schedulerTls,
        Optional<Path> schedulerCa,
        OptionalInt driverPort,
        OptionalInt blockManagerPort,
        OptionalInt gradientPort)
{
    public static final String EXPERIMENT_ID = "TRANCHE_EXPERIMENT_ID";
    public static final String RANK = "TRANCHE_RANK";
    public static final String WORLD_SIZE = "TRANCHE_WORLD_SIZE";
    public static final String MASTER_ADDRESS = "TRANCHE_MASTER_ADDRESS";
    public static final String PEERS = "TRANCHE_PEERS";
    public static final String GPU_IDS = "TRANCHE_GPU_IDS";
    public static final String GPU_FRACTION = "TRANCHE_GPU_FRACTION";
    public static final String GPU_MEMORY_MIB = "TRANCHE_GPU_MEMORY_MIB";
    public static final String SCHEDULER_ADDRESS = "TRANCHE_SCHEDULER_ADDRESS";
    public static final String CREDENTIAL = "TRANCHE_CREDENTIAL";
    public static final String CHECKPOINT_DIR = "TRANCHE_CHECKPOINT_DIR";
    public static final String SCHEDULER_TLS = "TRANCHE_SCHEDULER_TLS";
    public static final String SCHEDULER_CA = "TRANCHE_SCHEDULER_CA";
    public static final String DRIVER_PORT = "TRANCHE_DRIVER_PORT";
    public static final String BLOCK_MANAGER_PORT = "TRANCHE_BLOCK_MANAGER_PORT";
    public static final String GRADIENT_PORT = "TRANCHE_GRADIENT_PORT";

    public WorkerEnvironment
    {
        requireNonNull(experimentId, "experimentId is null");
        requireNonNull(masterAddress, "masterAddress is null");
        requireNonNull(gpuFraction, "gpuFraction is null");
        requireNonNull(gpuMemoryMib, "gpuMemoryMib is null");
        requireNonNull(schedulerAddress, "schedulerAddress is null");
        requireNonNull(credential, "credential is null");
        requireNonNull(checkpointDir, "checkpointDir is null");
        requireNonNull(schedulerCa, "schedulerCa is null");
        requireNonNull(driverPort, "driverPort is null");
        requireNonNull(blockManagerPort, "blockManagerPort is null");
        requireNonNull(gradientPort, "gradientPort is null");
        // trusting a CA file means TLS
        schedulerTls |= schedulerCa.isPresent();
        peers = List.copyOf(peers);
        gpuIds = List.copyOf(gpuIds);
        checkGpuIds(gpuIds, String.join(",", gpuIds.stream().map(String::valueOf).toList()));
        if (worldSize < 1 || rank < 0 || rank >= worldSize) {
            throw new IllegalArgumentException(RANK + " must be in [0, " + WORLD_SIZE + "): got rank " + rank + " of " + worldSize);
        }
        if (worldSize > 1 && masterAddress.isEmpty()) {
            throw new IllegalArgumentException(MASTER_ADDRESS + " is required when " + WORLD_SIZE + " is " + worldSize);
        }
        if (gpuFraction.isPresent() && !(gpuFraction.getAsDouble() > 0 && gpuFraction.getAsDouble() <= 1)) {
            throw new IllegalArgumentException(GPU_FRACTION + " must be in (0, 1]: got " + gpuFraction.getAsDouble());
        }
        if (gpuMemoryMib.isPresent() && gpuMemoryMib.getAsLong() < 1) {
            throw new IllegalArgumentException(GPU_MEMORY_MIB + " must be positive: got " + gpuMemoryMib.getAsLong());
        }
        if (schedulerAddress.isPresent() && (experimentId.isEmpty() || credential.isEmpty())) {
            throw new IllegalArgumentException(SCHEDULER_ADDRESS + " needs " + EXPERIMENT_ID + " and " + CREDENTIAL + " too");
        }
    }

    /** Stand-alone: one replica, no scheduler, CPU. */
    public static WorkerEnvironment standalone()
    {
        return of(Map.of());
    }

    public static WorkerEnvironment of(Map<String, String> env)
    {
        Optional<Boolean> tls = text(env, SCHEDULER_TLS).map(WorkerEnvironment::flag);
        Optional<Path> ca = text(env, SCHEDULER_CA).map(Path::of);
        if (ca.isPresent() && tls.equals(Optional.of(false))) {
            throw new IllegalArgumentException(SCHEDULER_CA + " means TLS, but " + SCHEDULER_TLS + " is 0: unset one of them");
        }
        ca.ifPresent(WorkerEnvironment::checkCertificates);
        return new WorkerEnvironment(
                text(env, EXPERIMENT_ID),
                integer(env, RANK, 0),
                integer(env, WORLD_SIZE, 1),
                text(env, MASTER_ADDRESS),
                list(env, PEERS),
                gpuIds(env),
                text(env, GPU_FRACTION).map(v -> OptionalDouble.of(parseDouble(GPU_FRACTION, v))).orElse(OptionalDouble.empty()),
                text(env, GPU_MEMORY_MIB).map(v -> OptionalLong.of(parseLong(GPU_MEMORY_MIB, v))).orElse(OptionalLong.empty()),
                text(env, SCHEDULER_ADDRESS),
                text(env, CREDENTIAL),
                text(env, CHECKPOINT_DIR).map(Path::of),
                tls.orElse(false),
                ca,
                port(env, DRIVER_PORT),
                port(env, BLOCK_MANAGER_PORT),
                port(env, GRADIENT_PORT));
    }

    /** The same replica as rank 0 of a gang of {@code worldSize} whose Spark master is {@code masterAddress}. */
    public WorkerEnvironment asGangLeader(int worldSize, String masterAddress)
    {
        return new WorkerEnvironment(experimentId, 0, worldSize, Optional.of(masterAddress), List.of(), gpuIds, gpuFraction, gpuMemoryMib,
                schedulerAddress, credential, checkpointDir, schedulerTls, schedulerCa, driverPort, blockManagerPort, gradientPort);
    }

    /** {@code CUDA_VISIBLE_DEVICES} for the processes this replica starts: its GPUs only, or none. */
    public String cudaVisibleDevices()
    {
        return String.join(",", gpuIds.stream().map(String::valueOf).toList());
    }

    /** One line for the log saying which device trains, and why. */
    public String deviceLine()
    {
        if (gpuIds.isEmpty()) {
            return "device: CPU (nd4j-native); no GPU is assigned to this replica";
        }
        String share = gpuFraction.isPresent() ? String.format(", fraction %.3f", gpuFraction.getAsDouble())
                : gpuMemoryMib.isPresent() ? ", memory cap " + gpuMemoryMib.getAsLong() + " MiB" : "";
        return "device: CPU (nd4j-native): GPUs " + cudaVisibleDevices() + share
                + " are assigned, but this build carries no CUDA backend; children see CUDA_VISIBLE_DEVICES=" + cudaVisibleDevices();
    }

    private static Optional<String> text(Map<String, String> env, String name)
    {
        String value = env.get(name);
        return value == null || value.isBlank() ? Optional.empty() : Optional.of(value.trim());
    }

    private static boolean flag(String value)
    {
        return switch (value.toLowerCase(Locale.ROOT)) {
            case "1", "true" -> true;
            case "0", "false" -> false;
            default -> throw new IllegalArgumentException(SCHEDULER_TLS + " must be 1 (TLS, trusting the system's CAs) or 0: got '" + value + "'");
        };
    }

    /** The CA file is read when the worker starts, so a bad mount fails the replica at once rather than every metrics send. */
    private static void checkCertificates(Path file)
    {
        if (!Files.isRegularFile(file) || !Files.isReadable(file)) {
            throw new IllegalArgumentException(SCHEDULER_CA + ": cannot read " + file + " (the PEM certificate of the CA that signed the scheduler's certificate)");
        }
        try (InputStream in = Files.newInputStream(file)) {
            if (CertificateFactory.getInstance("X.509").generateCertificates(in).isEmpty()) {
                throw new CertificateException("no certificate in it");
            }
        }
        catch (IOException | CertificateException e) {
            throw new IllegalArgumentException(SCHEDULER_CA + " " + file + " is not a PEM certificate: " + e.getMessage(), e);
        }
    }

    /** The replica's GPUs: each a device index (0 or more) and each once, or CUDA_VISIBLE_DEVICES would name no GPU or one twice. */
    private static List<Integer> gpuIds(Map<String, String> env)
    {
        List<Integer> ids = list(env, GPU_IDS).stream().map(id -> parseInt(GPU_IDS, id)).toList();
        checkGpuIds(ids, text(env, GPU_IDS).orElse(""));
        return ids;
    }

    private static void checkGpuIds(List<Integer> ids, String value)
    {
        java.util.Set<Integer> seen = new java.util.HashSet<>();
        for (int id : ids) {
            if (id < 0) {
                throw new IllegalArgumentException(GPU_IDS + " must list GPU ids of 0 or more: got " + id + " in '" + value + "'");
            }
            if (!seen.add(id)) {
                throw new IllegalArgumentException(GPU_IDS + " must list each GPU once: got " + id + " twice in '" + value + "'");
            }
        }
    }

    private static int integer(Map<String, String> env, String name, int otherwise)
    {
        return text(env, name).map(v -> parseInt(name, v)).orElse(otherwise);
    }

    /** A port the scheduler allocated to the gang, 1..65535; empty when unset (stand-alone: any free port). */
    private static OptionalInt port(Map<String, String> env, String name)
    {
        Optional<String> text = text(env, name);
        if (text.isEmpty()) {
            return OptionalInt.empty();
        }
        int port = parseInt(name, text.get());
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException(name + " must be a port from 1 to 65535: got " + port);
        }
        return OptionalInt.of(port);
    }

    private static List<String> list(Map<String, String> env, String name)
    {
        List<String> out = new ArrayList<>();
        text(env, name).ifPresent(v -> {
            for (String part : v.split(",")) {
                if (!part.isBlank()) {
                    out.add(part.trim());
                }
            }
        });
        return out;
    }

    private static int parseInt(String name, String value)
    {
        try {
            return Integer.parseInt(value.trim());
        }
        catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + " must be an integer: got '" + value + "'");
        }
    }

    private static long parseLong(String name, String value)
    {
        try {
            return Long.parseLong(value.trim());
        }
        catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + " must be an integer: got '" + value + "'");
        }
    }

    private static double parseDouble(String name, String value)
    {
        try {
            return Double.parseDouble(value.trim());
        }
        catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + " must be a number: got '" + value + "'");
        }
    }
}
