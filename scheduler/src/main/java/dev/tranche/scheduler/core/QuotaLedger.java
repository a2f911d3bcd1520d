package dev.tranche.scheduler.core;

import dev.tranche.scheduler.core.model.DepartmentQuota;
import dev.tranche.scheduler.core.model.GpuRequest;
import dev.tranche.scheduler.core.model.ProjectQuota;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * What each project and department uses against its quota during one cycle. Quotas count GPUs; the
 * fair share between over-quota projects is dominant-resource over GPU, CPU and memory. A project
 * without a quota entry deserves nothing, has no limit and weight 1.
 */
final class QuotaLedger
{
    private final Map<String, ProjectQuota> quotas = new HashMap<>();
    private final Map<String, DepartmentQuota> departments = new HashMap<>();
    private final Map<String, long[]> projectUse = new HashMap<>();
    private final Map<String, long[]> departmentUse = new HashMap<>();
    private final double totalGpu;
    private final double totalCpu;
    private final double totalMemory;

    QuotaLedger(List<ProjectQuota> quotas, List<DepartmentQuota> departments, long totalGpu, long totalCpu, long totalMemory)
    {
        quotas.forEach(quota -> this.quotas.put(quota.project(), quota));
        departments.forEach(department -> this.departments.put(department.department(), department));
        this.totalGpu = Math.max(1, totalGpu);
        this.totalCpu = Math.max(1, totalCpu);
        this.totalMemory = Math.max(1, totalMemory);
    }

    ProjectQuota quota(String project)
    {
        ProjectQuota quota = quotas.get(project);
        return quota != null ? quota : ProjectQuota.of(project, 0);
    }

    long used(String project)
    {
        long[] use = projectUse.get(project);
        return use == null ? 0 : use[0];
    }

    void add(String project, long gpuMilli, long cpuMilli, long memoryMib)
    {
        long[] use = projectUse.computeIfAbsent(project, ignored -> new long[3]);
        use[0] += gpuMilli;
        use[1] += cpuMilli;
        use[2] += memoryMib;
        quota(project).department().ifPresent(department -> {
            long[] departmentTotal = departmentUse.computeIfAbsent(department, ignored -> new long[3]);
            departmentTotal[0] += gpuMilli;
            departmentTotal[1] += cpuMilli;
            departmentTotal[2] += memoryMib;
        });
    }

    void remove(String project, long gpuMilli, long cpuMilli, long memoryMib)
    {
        add(project, -gpuMilli, -cpuMilli, -memoryMib);
    }

    /** Would the project (and its department) stay within deserved GPUs with {@code gpuMilli} more? */
    boolean withinDeserved(String project, long gpuMilli)
    {
        ProjectQuota quota = quota(project);
        if (used(project) + gpuMilli > quota.deservedMilliGpu()) {
            return false;
        }
        Optional<DepartmentQuota> department = quota.department().map(departments::get);
        return department.isEmpty() || departmentGpu(department.get().department()) + gpuMilli <= department.get().deservedMilliGpu();
    }

    /** The limit that {@code gpuMilli} more would break, as a typed reason and sentence; empty if none. */
    Optional<Unplaced> limitViolation(String experimentId, String project, long gpuMilli)
    {
        ProjectQuota quota = quota(project);
        OptionalLong limit = quota.limitMilliGpu();
        long used = used(project);
        if (limit.isPresent() && used + gpuMilli > limit.getAsLong()) {
            return Optional.of(new Unplaced(experimentId, UnplacedReason.PROJECT_LIMIT, String.format(
                    "project %s would exceed its limit of %s GPUs (uses %s, asks %s)", project, gpus(limit.getAsLong()), gpus(used), gpus(gpuMilli))));
        }
        if (quota.department().isPresent()) {
            DepartmentQuota department = departments.get(quota.department().get());
            if (department != null && department.limitMilliGpu().isPresent()) {
                long departmentUsed = departmentGpu(department.department());
                long departmentLimit = department.limitMilliGpu().getAsLong();
                if (departmentUsed + gpuMilli > departmentLimit) {
                    return Optional.of(new Unplaced(experimentId, UnplacedReason.DEPARTMENT_LIMIT, String.format(
                            "department %s of project %s would exceed its limit of %s GPUs (uses %s, asks %s)",
                            department.department(), project, gpus(departmentLimit), gpus(departmentUsed), gpus(gpuMilli))));
                }
            }
        }
        return Optional.empty();
    }

    private long departmentGpu(String department)
    {
        long[] use = departmentUse.get(department);
        return use == null ? 0 : use[0];
    }

    /** Dominant share over GPU, CPU and memory, divided by the over-quota weight: lower goes first. */
    double weightedDominantShare(String project)
    {
        return dominantShare(projectUse.get(project)) / quota(project).overQuotaWeight();
    }

    /**
     * The upper level of two-level fair share: a project's department, or the project alone when it
     * has none. Idle GPUs are shared between these groups first, then between the group's projects.
     */
    String fairShareGroup(String project)
    {
        Optional<String> department = quota(project).department();
        return department.isPresent() ? "department " + department.get() : "project " + project;
    }

    /** Dominant share of a fair-share group; a department counts with weight 1. */
    double groupShare(String group)
    {
        if (group.startsWith("department ")) {
            return dominantShare(departmentUse.get(group.substring("department ".length())));
        }
        return weightedDominantShare(group.substring("project ".length()));
    }

    private double dominantShare(long[] use)
    {
        if (use == null) {
            return 0;
        }
        return Math.max(use[0] / totalGpu, Math.max(use[1] / totalCpu, use[2] / totalMemory));
    }

    /** Used / deserved GPUs, for ordering in-quota work: the most starved project first. */
    double deservedRatio(String project)
    {
        long deserved = quota(project).deservedMilliGpu();
        return deserved == 0 ? Double.MAX_VALUE : used(project) / (double) deserved;
    }

    static String gpus(long milli)
    {
        return GpuRequest.formatGpus(milli);
    }
}
