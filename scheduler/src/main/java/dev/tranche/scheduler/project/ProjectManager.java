package dev.tranche.scheduler.project;

import dev.tranche.scheduler.errors.NotFoundException;
import dev.tranche.spec.ExperimentSpecValidator;
import dev.tranche.spec.InvalidSpecException;
import dev.tranche.spec.Numbers;
import dev.tranche.spec.Violation;

import java.math.BigDecimal;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

import java.util.OptionalDouble;
import java.util.OptionalLong;

import static java.util.Objects.requireNonNull;

/** Creating projects and setting quotas, with the rules for names and GPU amounts. */
public final class ProjectManager
{
    private static final int MAX_DESCRIPTION = 1024;

    private final ProjectStore projects;

    public ProjectManager(ProjectStore projects)
    {
        this.projects = requireNonNull(projects, "projects is null");
    }

    public ProjectRecord create(String name, String description, Optional<String> department)
    {
        checkNameAndDescription("project", name, description);
        department.ifPresent(value -> {
            List<Violation> violations = ExperimentSpecValidator.checkName("project.department", value);
            if (!violations.isEmpty()) {
                throw new InvalidSpecException(violations);
            }
        });
        return projects.create(name, description, department);
    }

    public DepartmentRecord createDepartment(String name, String description)
    {
        checkNameAndDescription("department", name, description);
        return projects.createDepartment(name, description);
    }

    public List<DepartmentRecord> listDepartments()
    {
        return projects.listDepartments();
    }

    public DepartmentRecord setDepartmentQuota(String name, double deservedGpus, OptionalDouble limitGpus)
    {
        long deserved = milli("quota.deserved_gpus", deservedGpus);
        OptionalLong limit = limitGpus.isPresent() ? OptionalLong.of(milli("quota.limit_gpus", limitGpus.getAsDouble())) : OptionalLong.empty();
        new DepartmentRecord(name, "", deserved, limit, Instant.EPOCH);
        return projects.setDepartmentQuota(name, deserved, limit);
    }

    private static void checkNameAndDescription(String kind, String name, String description)
    {
        List<Violation> violations = ExperimentSpecValidator.checkName(kind + ".name", name);
        if (!violations.isEmpty()) {
            throw new InvalidSpecException(violations);
        }
        if (description.length() > MAX_DESCRIPTION) {
            throw new IllegalArgumentException(kind + ".description must be at most " + MAX_DESCRIPTION + " characters: got " + description.length());
        }
    }

    public List<ProjectRecord> list()
    {
        return projects.list();
    }

    public boolean exists(String name)
    {
        return projects.find(name).isPresent();
    }

    public ProjectRecord get(String name)
    {
        return projects.find(name).orElseThrow(() -> new NotFoundException("project " + name + " does not exist"));
    }

    /** GPUs may be fractional with up to 3 decimals; unset limit means none, unset weight means 1. */
    public ProjectRecord setQuota(String name, double deservedGpus, OptionalDouble limitGpus, OptionalDouble weight)
    {
        long deserved = milli("quota.deserved_gpus", deservedGpus);
        OptionalLong limit = limitGpus.isPresent() ? OptionalLong.of(milli("quota.limit_gpus", limitGpus.getAsDouble())) : OptionalLong.empty();
        // the record checks the ranges and that the limit is not below what is deserved
        new ProjectRecord(name, "", Optional.empty(), deserved, limit, weight.orElse(1), Instant.EPOCH);
        return projects.setQuota(name, deserved, limit, weight.orElse(1));
    }

    /**
     * A quota in GPUs as milli-GPUs, by the server's rule (0 to {@link ProjectRecord#MAX_MILLI} / 1000,
     * at most 3 decimals); {@code tranche simulate}'s quotas file follows it too.
     */
    public static long milli(String field, double gpus)
    {
        if (!Double.isFinite(gpus) || gpus < 0) {
            throw new IllegalArgumentException(field + " must be a number of GPUs, 0 or more: got " + Numbers.plain(gpus));
        }
        if (gpus > ProjectRecord.MAX_MILLI / 1000.0) {
            throw new IllegalArgumentException(field + " must be at most " + ProjectRecord.MAX_MILLI / 1000 + ": got " + Numbers.plain(gpus));
        }
        BigDecimal exact = new BigDecimal(Double.toString(gpus));
        if (exact.stripTrailingZeros().scale() > 3) {
            throw new IllegalArgumentException(field + " must have at most 3 decimals (milli-GPUs): got " + Numbers.plain(gpus));
        }
        return exact.movePointRight(3).longValueExact();
    }

}
