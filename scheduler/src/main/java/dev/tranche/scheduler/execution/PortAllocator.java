package dev.tranche.scheduler.execution;

import dev.tranche.scheduler.backend.GangPorts;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static java.util.Objects.requireNonNull;

/**
 * Picks a gang's ports: the lowest numbers of the range that no other gang holds on any of the
 * gang's hosts and that the backend finds free there now (a process outside Tranche may hold one).
 */
public final class PortAllocator
{
    /** Below Linux's ephemeral range (32768 and up), so ports the kernel hands out at random never land here. */
    public static final int FIRST_PORT = 17000;
    public static final int LAST_PORT = 17999;

    /** Whether a port can be bound on a host right now. */
    public interface Probe
    {
        boolean free(String host, int port);
    }

    private final int first;
    private final int last;

    public PortAllocator(int first, int last)
    {
        if (first < 1 || last > 65535 || last - first + 1 < GangPorts.COUNT) {
            throw new IllegalArgumentException("the port range " + first + "-" + last + " cannot hold a gang's " + GangPorts.COUNT + " ports");
        }
        this.first = first;
        this.last = last;
    }

    /**
     * {@code taken}: ports other gangs hold, by host. Fails when the range has too few ports left on
     * these hosts; the gang then waits for the next pass.
     */
    public GangPorts allocate(Set<String> hosts, Map<String, Set<Integer>> taken, Probe probe)
    {
        requireNonNull(hosts, "hosts is null");
        requireNonNull(taken, "taken is null");
        requireNonNull(probe, "probe is null");
        List<Integer> chosen = new ArrayList<>();
        for (int port = first; port <= last && chosen.size() < GangPorts.COUNT; port++) {
            if (free(port, hosts, taken, probe)) {
                chosen.add(port);
            }
        }
        if (chosen.size() < GangPorts.COUNT) {
            throw new IllegalStateException("no " + GangPorts.COUNT + " free ports left in " + first + "-" + last + " on " + String.join(", ", hosts.stream().sorted().toList())
                    + "; the gang starts when others end");
        }
        return GangPorts.of(chosen);
    }

    private static boolean free(int port, Set<String> hosts, Map<String, Set<Integer>> taken, Probe probe)
    {
        for (String host : hosts) {
            if (taken.getOrDefault(host, Set.of()).contains(port)) {
                return false;
            }
        }
        for (String host : hosts) {
            if (!probe.free(host, port)) {
                return false;
            }
        }
        return true;
    }
}
