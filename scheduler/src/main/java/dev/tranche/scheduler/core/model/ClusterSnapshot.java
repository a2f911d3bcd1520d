package dev.tranche.scheduler.core.model;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

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
        unique(nodes.stream().map(Node::name).toList(), "node");
        unique(quotas.stream().map(ProjectQuota::project).toList(), "project quota");
        unique(departments.stream().map(DepartmentQuota::department).toList(), "department");
        // sized up front: a large snapshot would otherwise rehash this set a dozen times
        Set<String> ids = new HashSet<>((int) ((running.size() + pending.size()) / 0.75f) + 1);
        for (RunningAllocation allocation : running) {
            if (!ids.add(allocation.experimentId())) {
                throw new IllegalArgumentException("experiment " + allocation.experimentId() + " appears twice in the snapshot");
            }
        }
        for (PendingExperiment experiment : pending) {
            if (!ids.add(experiment.id())) {
                throw new IllegalArgumentException("experiment " + experiment.id() + " appears twice in the snapshot");
            }
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

    private static void unique(List<String> names, String what)
    {
        Set<String> seen = new HashSet<>();
        for (String name : names) {
            if (!seen.add(name)) {
                throw new IllegalArgumentException(what + " " + name + " appears twice in the snapshot");
            }
        }
    }
}
