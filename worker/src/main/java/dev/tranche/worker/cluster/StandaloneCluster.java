package dev.tranche.worker.cluster;

import org.apache.spark.SparkConf;
import org.apache.spark.deploy.master.Master;
import org.apache.spark.deploy.worker.Worker;
import org.apache.spark.rpc.RpcEnv;
import scala.Option;

import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Path;

/**
 * The Spark standalone pieces a gang runs: rank 0 a master (and the driver), every other rank a
 * Spark Worker that joins it and starts one executor for the experiment. Started in-process, so a
 * replica is one {@code tranche worker} process (plus the executor JVM its Worker starts).
 */
public final class StandaloneCluster
{
    private StandaloneCluster() {}

    /** Starts a master on host:port; close the returned environment to stop it. */
    public static RpcEnv startMaster(String host, int port)
    {
        SparkConf conf = new SparkConf().set("spark.master.ui.port", "0").set("spark.ui.enabled", "false");
        return Master.startRpcEnvAndEndpoint(host, port, 0, conf)._1();
    }

    /**
     * Starts a Spark Worker offering {@code cores} cores and {@code memoryMib} MiB to the master at
     * {@code masterUrl}. Needs {@code SPARK_HOME} (see {@link SparkHome}) in this process's environment.
     */
    public static RpcEnv startWorker(String host, String masterUrl, int cores, int memoryMib, Path workDir)
    {
        SparkConf conf = new SparkConf().set("spark.worker.ui.port", "0");
        return Worker.startRpcEnvAndEndpoint(host, 0, 0, cores, memoryMib, new String[] {masterUrl}, workDir.toString(),
                Option.empty(), conf, Option.empty());
    }

    /** True when something listens at host:port. */
    public static boolean reachable(String host, int port)
    {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(host, port), 1000);
            return true;
        }
        catch (IOException e) {
            return false;
        }
    }

    /**
     * Keeps an executor host alive while its master is: returns once the master has been
     * unreachable for {@code missesAllowed} checks in a row (the experiment is over or rank 0 died).
     */
    public static void awaitMasterGone(String host, int port, int missesAllowed, PrintStream log)
            throws InterruptedException
    {
        int misses = 0;
        while (misses < missesAllowed) {
            Thread.sleep(2000);
            misses = reachable(host, port) ? 0 : misses + 1;
        }
        log.println("master " + host + ":" + port + " is gone: this replica is done");
    }
}
