package dev.tranche.scheduler.core.model;

import java.util.List;

import static java.util.Objects.requireNonNull;

/**
 * Everything one scheduling cycle looks at, frozen. {@code pending} is in arrival order.
 * {@code workload} optionally tells fragmentation-aware policies which task shapes to expect; when it
 * is empty they learn it from the pending and running experiments. {@code history} (attained service,
 * known durations) is read by orderings that need it; {@link ServiceHistory#NONE} when there is none.
 * {@code backlog} is pending work a cycle does not consider (behind the window of a
 * {@code PendingQueue}), by request and replica count: it only counts where the core estimates the
 * workload to expect.
 */
public record ClusterSnapshot(
        List<Node> nodes,
        List<ProjectQuota> quotas,
        List<DepartmentQuota> departments,
        List<RunningAllocation> running,
        List<PendingExperiment> pending,
        List<WorkloadShape> workload,
        ServiceHistory history,
        List<WorkloadShape> backlog)
{
    public ClusterSnapshot
    {
        nodes = List.copyOf(requireNonNull(nodes, "nodes is null"));
        quotas = List.copyOf(requireNonNull(quotas, "quotas is null"));
        departments = List.copyOf(requireNonNull(departments, "departments is null"));
        running = List.copyOf(requireNonNull(running, "running is null"));
        pending = List.copyOf(requireNonNull(pending, "pending is null"));
        workload = List.copyOf(requireNonNull(workload, "workload is null"));
        requireNonNull(history, "history is null");
        backlog = List.copyOf(requireNonNull(backlog, "backlog is null"));
        // checked every cycle, over ~10,000 nodes and ~50,000 experiments: open-addressing tables of the
        // names themselves, with no entry objects, since a hash set's were a fifth of a cycle's garbage
        NameTable names = new NameTable(nodes.size());
        for (Node node : nodes) {
            names.requireFirst(node.name(), "node");
        }
        names = new NameTable(quotas.size());
        for (ProjectQuota quota : quotas) {
            names.requireFirst(quota.project(), "project quota");
        }
        names = new NameTable(departments.size());
        for (DepartmentQuota department : departments) {
            names.requireFirst(department.department(), "department");
        }
        NameTable ids = new NameTable(running.size() + pending.size());
        for (RunningAllocation allocation : running) {
            ids.requireFirst(allocation.experimentId(), "experiment");
        }
        for (PendingExperiment experiment : pending) {
            ids.requireFirst(experiment.id(), "experiment");
        }
    }

    /**
     * Names seen so far, by open addressing: a power of two in size, at most half full. A probe compares
     * the names' cached hashes before their characters: ids that differ only in their last digits
     * collide often, and reading both names' characters there was most of the check's time.
     */
    private static final class NameTable
    {
        private final String[] names;

        NameTable(int entries)
        {
            names = new String[Integer.highestOneBit(Math.max(1, entries) * 2) * 2];
        }

        /** Adds {@code name}; it must not be there yet. */
        void requireFirst(String name, String what)
        {
            int mask = names.length - 1;
            int hash = name.hashCode();
            // spread the hash's high bits down, as HashMap does
            int slot = (hash ^ (hash >>> 16)) & mask;
            while (names[slot] != null) {
                if (names[slot].hashCode() == hash && names[slot].equals(name)) {
                    throw new IllegalArgumentException(what + " " + name + " appears twice in the snapshot");
                }
                slot = (slot + 1) & mask;
            }
            names[slot] = name;
        }
    }

    public ClusterSnapshot(List<Node> nodes, List<ProjectQuota> quotas, List<DepartmentQuota> departments, List<RunningAllocation> running,
            List<PendingExperiment> pending, List<WorkloadShape> workload, ServiceHistory history)
    {
        this(nodes, quotas, departments, running, pending, workload, history, List.of());
    }

    public ClusterSnapshot(List<Node> nodes, List<ProjectQuota> quotas, List<DepartmentQuota> departments, List<RunningAllocation> running,
            List<PendingExperiment> pending, List<WorkloadShape> workload)
    {
        this(nodes, quotas, departments, running, pending, workload, ServiceHistory.NONE);
    }

    public ClusterSnapshot(List<Node> nodes, List<ProjectQuota> quotas, List<RunningAllocation> running, List<PendingExperiment> pending)
    {
        this(nodes, quotas, List.of(), running, pending, List.of());
    }
}
