package dev.tranche.scheduler.core.model;

import java.util.Optional;
import java.util.OptionalLong;

import static java.util.Objects.requireNonNull;

/**
 * A project's share of the cluster's GPUs. Work within {@code deservedMilliGpu} is guaranteed and
 * never preempted; above it a project borrows idle GPUs in proportion to {@code overQuotaWeight},
 * never above {@code limitMilliGpu}.
 */
public record ProjectQuota(String project, Optional<String> department, long deservedMilliGpu, OptionalLong limitMilliGpu, double overQuotaWeight)
{
    public ProjectQuota
    {
        requireNonNull(project, "project is null");
        requireNonNull(department, "department is null");
        requireNonNull(limitMilliGpu, "limitMilliGpu is null");
        if (project.isBlank()) {
            throw new IllegalArgumentException("project name is blank");
        }
        if (deservedMilliGpu < 0) {
            throw new IllegalArgumentException("project " + project + ": deserved GPU must not be negative");
        }
        if (limitMilliGpu.isPresent() && limitMilliGpu.getAsLong() < deservedMilliGpu) {
            throw new IllegalArgumentException("project " + project + ": limit " + limitMilliGpu.getAsLong() + " is below deserved " + deservedMilliGpu);
        }
        if (!(overQuotaWeight > 0) || Double.isInfinite(overQuotaWeight)) {
            throw new IllegalArgumentException("project " + project + ": over-quota weight must be > 0, got " + overQuotaWeight);
        }
    }

    public static ProjectQuota of(String project, long deservedMilliGpu)
    {
        return new ProjectQuota(project, Optional.empty(), deservedMilliGpu, OptionalLong.empty(), 1.0);
    }

    public ProjectQuota withLimit(long limitMilli)
    {
        return new ProjectQuota(project, department, deservedMilliGpu, OptionalLong.of(limitMilli), overQuotaWeight);
    }

    public ProjectQuota withWeight(double weight)
    {
        return new ProjectQuota(project, department, deservedMilliGpu, limitMilliGpu, weight);
    }

    public ProjectQuota inDepartment(String departmentName)
    {
        return new ProjectQuota(project, Optional.of(departmentName), deservedMilliGpu, limitMilliGpu, overQuotaWeight);
    }
}
