package dev.tranche.scheduler.backend;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The ports one gang's workers listen on, the same numbers on every host the gang uses, so any rank
 * can name any other's: the Spark master and the driver (rank 0), the driver's block manager, and
 * gradient sharing's UDP port. Executors' own ports are left to the operating system (any free port):
 * nobody needs to know them in advance.
 */
public record GangPorts(int sparkMaster, int driver, int blockManager, int gradientSharing)
{
    public static final String SPARK_MASTER = "spark-master";
    public static final String DRIVER = "driver";
    public static final String BLOCK_MANAGER = "block-manager";
    public static final String GRADIENT_SHARING = "gradient-sharing";
    /** Ports a gang takes on each of its hosts. */
    public static final int COUNT = 4;

    public GangPorts
    {
        for (int port : List.of(sparkMaster, driver, blockManager, gradientSharing)) {
            if (port < 1 || port > 65535) {
                throw new IllegalArgumentException("port out of range: " + port);
            }
        }
        if (Set.of(sparkMaster, driver, blockManager, gradientSharing).size() != COUNT) {
            throw new IllegalArgumentException("a gang's ports must differ: " + List.of(sparkMaster, driver, blockManager, gradientSharing));
        }
    }

    /** Ports in the order they are allocated: master, driver, block manager, gradient sharing. */
    public static GangPorts of(List<Integer> ports)
    {
        if (ports.size() != COUNT) {
            throw new IllegalArgumentException("a gang needs " + COUNT + " ports: got " + ports);
        }
        return new GangPorts(ports.get(0), ports.get(1), ports.get(2), ports.get(3));
    }

    public Map<String, Integer> byPurpose()
    {
        Map<String, Integer> map = new LinkedHashMap<>();
        map.put(SPARK_MASTER, sparkMaster);
        map.put(DRIVER, driver);
        map.put(BLOCK_MANAGER, blockManager);
        map.put(GRADIENT_SHARING, gradientSharing);
        return map;
    }

    /** The worker's environment variables for them, next to {@code TRANCHE_MASTER_ADDRESS} (host:master port). */
    public Map<String, String> environment()
    {
        return Map.of(
                "TRANCHE_DRIVER_PORT", Integer.toString(driver),
                "TRANCHE_BLOCK_MANAGER_PORT", Integer.toString(blockManager),
                "TRANCHE_GRADIENT_PORT", Integer.toString(gradientSharing));
    }
}
