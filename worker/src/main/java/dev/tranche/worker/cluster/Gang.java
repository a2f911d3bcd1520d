package dev.tranche.worker.cluster;

import dev.tranche.worker.env.WorkerEnvironment;
import dev.tranche.worker.train.NativeBackend;
import dev.tranche.worker.train.TrainOptions;
import org.apache.spark.rpc.RpcEnv;

import java.io.IOException;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static java.util.Objects.requireNonNull;

/**
 * The replicas of one experiment as one Spark standalone cluster: rank 0 runs the master and the
 * driver, every other rank runs a Spark Worker whose executor trains. With one replica none of this
 * runs: Spark is {@code local[k]} in the one process.
 */
public final class Gang
{
    private Gang() {}

    /** host:port of {@code TRANCHE_MASTER_ADDRESS}. */
    public record Address(String host, int port)
    {
        public Address
        {
            requireNonNull(host, "host is null");
            if (port < 1 || port > 65535) {
                throw new IllegalArgumentException("bad port " + port);
            }
        }

        public static Address parse(String text)
        {
            int colon = text.lastIndexOf(':');
            if (colon <= 0) {
                throw new IllegalArgumentException(WorkerEnvironment.MASTER_ADDRESS + " must be host:port: got '" + text + "'");
            }
            try {
                return new Address(text.substring(0, colon), Integer.parseInt(text.substring(colon + 1)));
            }
            catch (NumberFormatException e) {
                throw new IllegalArgumentException(WorkerEnvironment.MASTER_ADDRESS + " must be host:port: got '" + text + "'");
            }
        }

        public String sparkUrl()
        {
            return "spark://" + host + ":" + port;
        }
    }

    /** This replica's own address: its entry in {@code TRANCHE_PEERS}, or loopback on one machine. */
    public static String ownHost(WorkerEnvironment env)
    {
        return env.peers().size() == env.worldSize() ? env.peers().get(env.rank()) : "127.0.0.1";
    }

    /**
     * Rank 0: starts the master and returns the driver's options: the standalone master, one
     * executor of {@code coresPerReplica} cores per other rank, and the executors' class path and flags.
     */
    public static RpcEnv startMaster(WorkerEnvironment env)
    {
        Address master = Address.parse(env.masterAddress().orElseThrow());
        return StandaloneCluster.startMaster(master.host(), master.port());
    }

    public static TrainOptions driverOptions(TrainOptions local, WorkerEnvironment env, SparkHome home, int coresPerReplica, long executorMemoryMib)
    {
        Address master = Address.parse(env.masterAddress().orElseThrow());
        int executors = env.worldSize() - 1;
        Map<String, String> conf = new HashMap<>();
        conf.put("spark.driver.host", master.host());
        conf.put("spark.driver.bindAddress", master.host());
        // the ports the scheduler allocated to this gang; without them Spark takes any free port
        env.driverPort().ifPresent(port -> conf.put("spark.driver.port", Integer.toString(port)));
        env.blockManagerPort().ifPresent(port -> conf.put("spark.driver.blockManager.port", Integer.toString(port)));
        conf.put("spark.executor.cores", Integer.toString(coresPerReplica));
        conf.put("spark.cores.max", Integer.toString(executors * coresPerReplica));
        conf.put("spark.executor.memory", executorMemoryMib + "m");
        conf.put("spark.executor.extraClassPath", home.extraClassPath());
        // Spark adds its own --add-opens list; DL4J's gradient sharing (Aeron) needs these too, and
        // executors build layers, so they need the oneDNN helper switch as well
        List<String> executorFlags = new ArrayList<>(aeronFlags());
        executorFlags.addAll(NativeBackend.executorJvmFlags());
        conf.put("spark.executor.extraJavaOptions", String.join(" ", executorFlags));
        conf.put("spark.executorEnv.OMP_NUM_THREADS", Integer.toString(local.threadsPerWorker()));
        if (!env.gpuIds().isEmpty()) {
            conf.put("spark.executorEnv.CUDA_VISIBLE_DEVICES", env.cudaVisibleDevices());
        }
        return new TrainOptions(local.spec(), local.engine(), master.sparkUrl(), executors * coresPerReplica, local.threadsPerWorker(),
                local.checkpointDir(), conf, executors);
    }

    /**
     * The Aeron subset of worker/jvm.args (the one list, on the classpath as {@link #JVM_ARGS}):
     * what opens {@code sun.nio.ch}, and Aeron's own properties.
     */
    static List<String> aeronFlags()
    {
        return workerJvmFlags().stream()
                .filter(flag -> flag.startsWith("--add-opens=java.base/sun.nio.ch=") || flag.startsWith("-Daeron."))
                .toList();
    }

    /** worker/jvm.args, copied onto the classpath by the build. */
    static final String JVM_ARGS = "/dev/tranche/worker/jvm.args";

    static List<String> workerJvmFlags()
    {
        try (java.io.InputStream in = Gang.class.getResourceAsStream(JVM_ARGS)) {
            if (in == null) {
                throw new IllegalStateException(JVM_ARGS + " is missing from the worker's classpath (the build copies worker/jvm.args there)");
            }
            return new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).lines()
                    .map(String::strip)
                    .filter(line -> !line.isEmpty() && !line.startsWith("#"))
                    .toList();
        }
        catch (IOException e) {
            throw new java.io.UncheckedIOException("cannot read " + JVM_ARGS, e);
        }
    }

    /**
     * Rank > 0: joins the master with a Spark Worker of {@code cores} cores and waits until the
     * master is gone. Needs SPARK_HOME set (the worker command re-executes itself with it).
     */
    public static int runExecutorHost(WorkerEnvironment env, int cores, int memoryMib, Path workDir, PrintStream log)
            throws InterruptedException
    {
        Address master = Address.parse(env.masterAddress().orElseThrow());
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.MINUTES.toNanos(5);
        while (!StandaloneCluster.reachable(master.host(), master.port())) {
            if (System.nanoTime() > deadline) {
                log.println("error: the master " + master.host() + ":" + master.port() + " did not come up within 5 minutes");
                return 3;
            }
            Thread.sleep(500);
        }
        RpcEnv worker = StandaloneCluster.startWorker(ownHost(env), master.sparkUrl(), cores, memoryMib, workDir);
        log.println("rank " + env.rank() + "/" + env.worldSize() + ": Spark worker with " + cores + " cores joined " + master.sparkUrl());
        try {
            StandaloneCluster.awaitMasterGone(master.host(), master.port(), 3, log);
        }
        finally {
            worker.shutdown();
        }
        return 0;
    }
}
