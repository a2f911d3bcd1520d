package dev.tranche.scheduler.project;

import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/** Where projects, departments and their quotas are kept; the store package implements it. */
public interface ProjectStore
{
    ProjectRecord create(String name, String description, Optional<String> department);

    List<ProjectRecord> list();

    Optional<ProjectRecord> find(String name);

    ProjectRecord setQuota(String name, long deservedMilli, OptionalLong limitMilli, double overQuotaWeight);

    DepartmentRecord createDepartment(String name, String description);

    List<DepartmentRecord> listDepartments();

    DepartmentRecord setDepartmentQuota(String name, long deservedMilli, OptionalLong limitMilli);
}
