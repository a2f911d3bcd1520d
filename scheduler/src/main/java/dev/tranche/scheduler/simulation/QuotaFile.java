package dev.tranche.scheduler.simulation;

import dev.tranche.scheduler.core.model.DepartmentQuota;
import dev.tranche.scheduler.core.model.ProjectQuota;
import dev.tranche.scheduler.project.ProjectManager;
import dev.tranche.spec.SpecFormatException;
import dev.tranche.spec.YamlFiles;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;

/**
 * Quotas for a replay, as an admin would set them with {@code tranche quota set} and
 * {@code tranche departments quota}:
 *
 * <pre>
 * projects:
 *   - name: ee9e8c
 *     deserved: 160      # GPUs, fractions allowed
 *     limit: 320         # optional
 *     weight: 1          # optional over-quota weight
 *     department: vision # optional
 * departments:
 *   - name: vision
 *     deserved: 200
 *     limit: 400         # optional
 * </pre>
 */
public record QuotaFile(List<ProjectQuota> projects, List<DepartmentQuota> departments)
{
    public QuotaFile
    {
        projects = List.copyOf(projects);
        departments = List.copyOf(departments);
    }

    public static QuotaFile read(Path file)
    {
        Object document;
        try {
            // projects, a list, an entry: 3 levels
            document = YamlFiles.load(YamlFiles.read(file, "a quotas file"), file.toString(), "a quotas file", 3);
        }
        catch (SpecFormatException e) {
            throw new TraceFormatException(e.getMessage());
        }
        if (!(document instanceof Map<?, ?> root)) {
            throw new TraceFormatException(file + ": expected a mapping with projects: (and optionally departments:)");
        }
        unknownKeys(file, "", root, Set.of("projects", "departments"));
        List<ProjectQuota> projects = new ArrayList<>();
        Map<String, String> projectNames = new HashMap<>();
        List<?> projectList = list(file, "projects", root.get("projects"));
        for (int i = 0; i < projectList.size(); i++) {
            String path = "projects[" + i + "]";
            Map<?, ?> entry = map(file, path, projectList.get(i));
            unknownKeys(file, path + ".", entry, Set.of("name", "deserved", "limit", "weight", "department"));
            String name = unique(file, path, text(file, path + ".name", entry.get("name")), projectNames, "project");
            long deserved = milli(file, path + ".deserved", entry.get("deserved"));
            OptionalLong limit = entry.containsKey("limit") ? OptionalLong.of(milli(file, path + ".limit", entry.get("limit"))) : OptionalLong.empty();
            double weight = entry.containsKey("weight") ? number(file, path + ".weight", entry.get("weight")) : 1.0;
            Optional<String> department = entry.containsKey("department") ? Optional.of(text(file, path + ".department", entry.get("department"))) : Optional.empty();
            try {
                projects.add(new ProjectQuota(name, department, deserved, limit, weight));
            }
            catch (IllegalArgumentException e) {
                throw new TraceFormatException(file + ": " + path + ": " + e.getMessage());
            }
        }
        List<DepartmentQuota> departments = new ArrayList<>();
        Map<String, String> departmentNames = new HashMap<>();
        List<?> departmentList = root.containsKey("departments") ? list(file, "departments", root.get("departments")) : List.of();
        for (int i = 0; i < departmentList.size(); i++) {
            String path = "departments[" + i + "]";
            Map<?, ?> entry = map(file, path, departmentList.get(i));
            unknownKeys(file, path + ".", entry, Set.of("name", "deserved", "limit"));
            String name = unique(file, path, text(file, path + ".name", entry.get("name")), departmentNames, "department");
            long deserved = milli(file, path + ".deserved", entry.get("deserved"));
            OptionalLong limit = entry.containsKey("limit") ? OptionalLong.of(milli(file, path + ".limit", entry.get("limit"))) : OptionalLong.empty();
            try {
                departments.add(new DepartmentQuota(name, deserved, limit));
            }
            catch (IllegalArgumentException e) {
                throw new TraceFormatException(file + ": " + path + ": " + e.getMessage());
            }
        }
        return new QuotaFile(projects, departments);
    }

    /** The name, unless an earlier entry (its path in {@code seen}) has it: the replay would take one of the two. */
    private static String unique(Path file, String path, String name, Map<String, String> seen, String kind)
    {
        String earlier = seen.putIfAbsent(name, path);
        if (earlier != null) {
            throw new TraceFormatException(String.format("%s: %s.name: %s appears twice (also %s); give each %s one entry", file, path, name, earlier, kind));
        }
        return name;
    }

    private static void unknownKeys(Path file, String prefix, Map<?, ?> map, Set<String> known)
    {
        for (Object key : map.keySet()) {
            if (!known.contains(String.valueOf(key))) {
                throw new TraceFormatException(String.format("%s: %s%s: unknown field; expected one of %s", file, prefix, key, String.join(", ", known.stream().sorted().toList())));
            }
        }
    }

    private static List<?> list(Path file, String path, Object value)
    {
        if (value instanceof List<?> list) {
            return list;
        }
        throw new TraceFormatException(file + ": " + path + ": expected a list");
    }

    private static Map<?, ?> map(Path file, String path, Object value)
    {
        if (value instanceof Map<?, ?> map) {
            return map;
        }
        throw new TraceFormatException(file + ": " + path + ": expected a mapping with name: and deserved:");
    }

    private static String text(Path file, String path, Object value)
    {
        if (value == null || String.valueOf(value).isBlank()) {
            throw new TraceFormatException(file + ": " + path + ": required");
        }
        if (!(value instanceof String text)) {
            // YAML reads 6214e9 as 6.214E12 and 0123 as 83: a name used so would silently name another project
            throw new TraceFormatException(file + ": " + path + ": expected a name, got the " + (value instanceof Number ? "number " : "value ") + value
                    + " (YAML reads some names, such as 6214e9, true or 0123, as numbers or booleans): quote it, e.g. name: \"6214e9\"");
        }
        return text.strip();
    }

    private static double number(Path file, String path, Object value)
    {
        if (value instanceof Number number && Double.isFinite(number.doubleValue()) && number.doubleValue() >= 0) {
            return number.doubleValue();
        }
        throw new TraceFormatException(file + ": " + path + ": expected a number >= 0, got " + value);
    }

    private static long milli(Path file, String path, Object value)
    {
        if (value == null) {
            throw new TraceFormatException(file + ": " + path + ": required (GPUs, e.g. 8 or 0.5)");
        }
        double gpus = number(file, path, value);
        try {
            return ProjectManager.milli(path, gpus);
        }
        catch (IllegalArgumentException e) {
            throw new TraceFormatException(file + ": " + e.getMessage());
        }
    }
}
