package dev.tranche.scheduler.core.model;

import java.util.OptionalLong;

import static java.util.Objects.requireNonNull;

/** The upper level of two-level queues: a department's deserved GPUs and hard limit cover all its projects. */
public record DepartmentQuota(String department, long deservedMilliGpu, OptionalLong limitMilliGpu)
{
    public DepartmentQuota
    {
        requireNonNull(department, "department is null");
        requireNonNull(limitMilliGpu, "limitMilliGpu is null");
        if (department.isBlank()) {
            throw new IllegalArgumentException("department name is blank");
        }
        if (deservedMilliGpu < 0) {
            throw new IllegalArgumentException("department " + department + ": deserved GPU must not be negative");
        }
        if (limitMilliGpu.isPresent() && limitMilliGpu.getAsLong() < deservedMilliGpu) {
            throw new IllegalArgumentException("department " + department + ": limit is below deserved");
        }
    }
}
