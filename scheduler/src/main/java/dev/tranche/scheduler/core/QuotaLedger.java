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
    private final Map<String, Long> departmentUse = new HashMap<>();
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
        quota(project).department().ifPresent(department -> departmentUse.merge(department, gpuMilli, Long::sum));
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
        return department.isEmpty() || departmentUse.getOrDefault(department.get().department(), 0L) + gpuMilli <= department.get().deservedMilliGpu();
    }

    /** The limit that {@code gpuMilli} more would break, as a typed reason and sentence; empty if none. */
    Optional<Unplaced> limitViolation(String experimentId, String project, long gpuMilli)
    {
        ProjectQuota quota = quota(project);
        OptionalLong limit = quota.limitMilliGpu();
        long used = used(project);
        if (limit.isPresent() && used + gpuMilli > limit.getAsLong()) {
            return Optional.of(new Unplaced(experimentId, UnplacedReason.PROJECT_LIMIT, String.format(
                    "project %s at its limit %s GPUs (uses %s, asks %s)", project, gpus(limit.getAsLong()), gpus(used), gpus(gpuMilli))));
        }
        if (quota.department().isPresent()) {
            DepartmentQuota department = departments.get(quota.department().get());
            if (department != null && department.limitMilliGpu().isPresent()) {
                long departmentUsed = departmentUse.getOrDefault(department.department(), 0L);
                long departmentLimit = department.limitMilliGpu().getAsLong();
                if (departmentUsed + gpuMilli > departmentLimit) {
                    return Optional.of(new Unplaced(experimentId, UnplacedReason.DEPARTMENT_LIMIT, String.format(
                            "department %s of project %s at its limit %s GPUs (uses %s, asks %s)",
                            department.department(), project, gpus(departmentLimit), gpus(departmentUsed), gpus(gpuMilli))));
                }
            }
        }
        return Optional.empty();
    }

    /** Dominant share over GPU, CPU and memory, divided by the over-quota weight: lower goes first. */
    double weightedDominantShare(String project)
    {
        long[] use = projectUse.get(project);
        if (use == null) {
            return 0;
        }
        double dominant = Math.max(use[0] / totalGpu, Math.max(use[1] / totalCpu, use[2] / totalMemory));
        return dominant / quota(project).overQuotaWeight();
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
