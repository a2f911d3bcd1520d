package dev.tranche.scheduler.architecture;

import com.tngtech.archunit.core.domain.Dependency;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The scheduler module's package graph, checked on its compiled classes: the scheduling core stays
 * pure, and no package imports one that imports it back (directly or around a loop). The domain
 * packages own the store interfaces they need ({@code ExperimentStore}, {@code TokenStore}, ...) and
 * {@code store} implements them, so the database adapter depends on the domain, never the reverse.
 */
class TestPackageDependencies
{
    private static final String ROOT = "dev.tranche.scheduler";
    private static final JavaClasses CLASSES = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages(ROOT);

    @Test
    void theSchedulingCoreImportsNothingButItselfAndTheJdk()
    {
        noClasses().that().resideInAPackage(ROOT + ".core..")
                .should().dependOnClassesThat().resideOutsideOfPackages(ROOT + ".core..", "java..")
                .because("the core is pure: a snapshot in, decisions out; persistence, gRPC, Kubernetes and Spark are adapters around it")
                .check(CLASSES);
    }

    @Test
    void onlyTheAdaptersSeeTheWireTypes()
    {
        // the domain works on its own records (ExperimentSpec, ProjectRecord, ...); protobuf is how the API,
        // the store's spec column and the workers' launch JSON spell them, mapped in service and wire
        noClasses().that().resideInAPackage(ROOT + "..")
                .and().resideOutsideOfPackages(ROOT + ".service..", ROOT + ".http..", ROOT + ".security..", ROOT + ".server..", ROOT + ".cli..",
                        ROOT + ".wire..")
                .should().dependOnClassesThat().resideInAPackage("dev.tranche.proto..")
                .because("the proto ExperimentSpec is the API's type, not the domain's; the mapping lives in the adapters")
                .check(CLASSES);
    }

    @Test
    void noPackageCycles()
    {
        Map<String, Set<String>> imports = new TreeMap<>();
        for (JavaClass type : CLASSES) {
            String from = topPackage(type);
            if (from == null) {
                continue;
            }
            imports.computeIfAbsent(from, ignored -> new TreeSet<>());
            for (Dependency dependency : type.getDirectDependenciesFromSelf()) {
                String to = topPackage(dependency.getTargetClass());
                if (to != null && !to.equals(from)) {
                    imports.get(from).add(to);
                }
            }
        }
        assertThat(imports).as("the module's packages were found").containsKeys("core", "store", "server", "scheduling");
        Set<Set<String>> cycles = new java.util.HashSet<>();
        for (Set<String> component : stronglyConnected(imports)) {
            if (component.size() > 1) {
                cycles.add(component);
            }
        }
        assertThat(cycles).as("package cycles (imports: %s)", imports).isEmpty();
    }

    /** "store" for dev.tranche.scheduler.store.ClusterRepository; null outside the module. */
    private static String topPackage(JavaClass type)
    {
        String name = type.getPackageName();
        if (!name.startsWith(ROOT + ".")) {
            return null;
        }
        String rest = name.substring(ROOT.length() + 1);
        int dot = rest.indexOf('.');
        return dot < 0 ? rest : rest.substring(0, dot);
    }

    /** Tarjan's strongly connected components. */
    private static List<Set<String>> stronglyConnected(Map<String, Set<String>> graph)
    {
        Map<String, Integer> index = new HashMap<>();
        Map<String, Integer> low = new HashMap<>();
        Deque<String> stack = new ArrayDeque<>();
        Set<String> onStack = new java.util.HashSet<>();
        List<Set<String>> components = new ArrayList<>();
        int[] counter = {0};
        for (String node : graph.keySet()) {
            if (!index.containsKey(node)) {
                connect(node, graph, index, low, stack, onStack, components, counter);
            }
        }
        return components;
    }

    private static void connect(String node, Map<String, Set<String>> graph, Map<String, Integer> index, Map<String, Integer> low, Deque<String> stack,
            Set<String> onStack, List<Set<String>> components, int[] counter)
    {
        index.put(node, counter[0]);
        low.put(node, counter[0]);
        counter[0]++;
        stack.push(node);
        onStack.add(node);
        for (String next : graph.getOrDefault(node, Set.of())) {
            if (!index.containsKey(next)) {
                connect(next, graph, index, low, stack, onStack, components, counter);
                low.put(node, Math.min(low.get(node), low.get(next)));
            }
            else if (onStack.contains(next)) {
                low.put(node, Math.min(low.get(node), index.get(next)));
            }
        }
        if (low.get(node).equals(index.get(node))) {
            Set<String> component = new TreeSet<>();
            String member;
            do {
                member = stack.pop();
                onStack.remove(member);
                component.add(member);
            }
            while (!member.equals(node));
            components.add(component);
        }
    }
}
