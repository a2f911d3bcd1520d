package dev.tranche.scheduler.backend.kubernetes;

import dev.tranche.scheduler.core.model.Gpu;
import dev.tranche.scheduler.core.model.Node;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.NodeCondition;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.function.Consumer;

import static java.util.Objects.requireNonNull;

/**
 * The GPU inventory of a Kubernetes cluster: every node's allocatable CPU, memory and
 * {@code nvidia.com/gpu}, with the GPU model and memory from the labels NVIDIA's GPU feature
 * discovery puts on nodes. A cordoned or NotReady node is unschedulable; a deleted one is gone.
 * GPUs that pods outside Tranche hold (any pod on the node asking for {@code nvidia.com/gpu} that is
 * not one of Tranche's own GPU reservations) are not Tranche's to give, so a node offers only the rest.
 */
public final class KubernetesInventory
        implements AutoCloseable
{
    static final String GPU_RESOURCE = "nvidia.com/gpu";
    static final String GPU_PRODUCT_LABEL = "nvidia.com/gpu.product";
    static final String GPU_MEMORY_LABEL = "nvidia.com/gpu.memory";
    private static final long UNKNOWN_GPU_MEMORY_MIB = 16 * 1024;

    private final KubernetesClient client;
    private final String namespace;
    private SharedIndexInformer<io.fabric8.kubernetes.api.model.Node> nodeInformer;
    private SharedIndexInformer<Pod> podInformer;

    /** {@code namespace}: where Tranche's own pods are (their GPUs are Tranche's). */
    public KubernetesInventory(KubernetesClient client, String namespace)
    {
        this.client = requireNonNull(client, "client is null");
        this.namespace = requireNonNull(namespace, "namespace is null");
    }

    public List<Node> discover()
    {
        Map<String, Integer> foreign = new HashMap<>();
        for (Pod pod : client.pods().inAnyNamespace().list().getItems()) {
            if (foreignGpus(pod) > 0) {
                foreign.merge(pod.getSpec().getNodeName(), foreignGpus(pod), Integer::sum);
            }
        }
        List<Node> nodes = new ArrayList<>();
        for (io.fabric8.kubernetes.api.model.Node node : client.nodes().list().getItems()) {
            nodes.add(toNode(node, foreign.getOrDefault(node.getMetadata().getName(), 0)));
        }
        return nodes;
    }

    /**
     * Calls {@code onChange} with the whole inventory whenever a node is added, changed or deleted, or a
     * pod that holds GPUs comes, changes or goes.
     */
    public synchronized void watch(Consumer<List<Node>> onChange)
    {
        if (nodeInformer != null) {
            throw new IllegalStateException("already watching");
        }
        // the informers call back before inform() returns: keep the state here, not in their stores
        Map<String, io.fabric8.kubernetes.api.model.Node> nodes = new ConcurrentSkipListMap<>();
        Map<String, GpuPod> gpuPods = new ConcurrentHashMap<>();
        Runnable publish = () -> {
            synchronized (nodes) {
                Map<String, Integer> foreign = new HashMap<>();
                gpuPods.values().forEach(pod -> foreign.merge(pod.node(), pod.gpus(), Integer::sum));
                onChange.accept(nodes.values().stream().map(node -> toNode(node, foreign.getOrDefault(node.getMetadata().getName(), 0))).toList());
            }
        };
        nodeInformer = client.nodes().inform(new ResourceEventHandler<>()
        {
            @Override
            public void onAdd(io.fabric8.kubernetes.api.model.Node node)
            {
                nodes.put(node.getMetadata().getName(), node);
                publish.run();
            }

            @Override
            public void onUpdate(io.fabric8.kubernetes.api.model.Node before, io.fabric8.kubernetes.api.model.Node after)
            {
                nodes.put(after.getMetadata().getName(), after);
                publish.run();
            }

            @Override
            public void onDelete(io.fabric8.kubernetes.api.model.Node node, boolean finalStateUnknown)
            {
                nodes.remove(node.getMetadata().getName());
                publish.run();
            }
        });
        podInformer = client.pods().inAnyNamespace().inform(new ResourceEventHandler<>()
        {
            @Override
            public void onAdd(Pod pod)
            {
                onUpdate(null, pod);
            }

            @Override
            public void onUpdate(Pod before, Pod after)
            {
                int gpus = foreignGpus(after);
                GpuPod now = gpus > 0 ? new GpuPod(after.getSpec().getNodeName(), gpus) : null;
                GpuPod previous = now != null ? gpuPods.put(key(after), now) : gpuPods.remove(key(after));
                if (!java.util.Objects.equals(now, previous)) {
                    publish.run();
                }
            }

            @Override
            public void onDelete(Pod pod, boolean finalStateUnknown)
            {
                // a reservation of Tranche's going: a GPU its node no longer offers (held until now) may be dropped
                if (gpuPods.remove(key(pod)) != null || ownReservation(pod)) {
                    publish.run();
                }
            }
        });
    }

    private record GpuPod(String node, int gpus) {}

    private static String key(Pod pod)
    {
        return pod.getMetadata().getNamespace() + "/" + pod.getMetadata().getName();
    }

    private boolean ownReservation(Pod pod)
    {
        return namespace.equals(pod.getMetadata().getNamespace()) && pod.getMetadata().getLabels() != null
                && GpuReservations.APP.equals(pod.getMetadata().getLabels().get("app.kubernetes.io/name"));
    }

    /**
     * The GPUs a pod outside Tranche holds on its node: what it asks of {@code nvidia.com/gpu} (the larger
     * of its biggest init container and the sum of its containers, as the kubelet counts), while it is
     * bound and has not ended. Zero for Tranche's own pods.
     */
    int foreignGpus(Pod pod)
    {
        if (pod.getSpec() == null || pod.getSpec().getNodeName() == null || pod.getSpec().getNodeName().isEmpty()
                || GpuReservations.ended(pod) || ownedByTranche(pod)) {
            return 0;
        }
        int containers = 0;
        for (Container container : pod.getSpec().getContainers()) {
            containers += gpus(container);
        }
        int init = 0;
        for (Container container : pod.getSpec().getInitContainers()) {
            init = Math.max(init, gpus(container));
        }
        return Math.max(containers, init);
    }

    private boolean ownedByTranche(Pod pod)
    {
        return namespace.equals(pod.getMetadata().getNamespace()) && pod.getMetadata().getLabels() != null
                && "tranche".equals(pod.getMetadata().getLabels().get("app.kubernetes.io/managed-by"));
    }

    private static int gpus(Container container)
    {
        if (container.getResources() == null) {
            return 0;
        }
        // an extended resource's request equals its limit; either may be the one written down
        Map<String, Quantity> limits = container.getResources().getLimits();
        Map<String, Quantity> requests = container.getResources().getRequests();
        Quantity quantity = limits != null && limits.containsKey(GPU_RESOURCE) ? limits.get(GPU_RESOURCE)
                : requests != null ? requests.get(GPU_RESOURCE) : null;
        return quantity(quantity).intValue();
    }

    /** {@code foreignGpus}: how many of its GPUs pods outside Tranche hold. */
    static Node toNode(io.fabric8.kubernetes.api.model.Node node, int foreignGpus)
    {
        String name = node.getMetadata().getName();
        Map<String, Quantity> allocatable = node.getStatus() != null && node.getStatus().getAllocatable() != null
                ? node.getStatus().getAllocatable()
                : Map.of();
        long cpuMilli = quantity(allocatable.get("cpu")).multiply(BigDecimal.valueOf(1000)).longValue();
        long memoryMib = quantity(allocatable.get("memory")).divide(BigDecimal.valueOf(1024 * 1024), java.math.RoundingMode.DOWN).longValue();
        int gpuCount = Math.max(0, quantity(allocatable.get(GPU_RESOURCE)).intValue() - foreignGpus);
        Map<String, String> labels = node.getMetadata().getLabels() == null ? Map.of() : node.getMetadata().getLabels();
        String model = labels.getOrDefault(GPU_PRODUCT_LABEL, "unknown");
        long gpuMemoryMib = parseLong(labels.get(GPU_MEMORY_LABEL), UNKNOWN_GPU_MEMORY_MIB);
        List<Gpu> gpus = new ArrayList<>();
        for (int i = 0; i < gpuCount; i++) {
            gpus.add(new Gpu(i, model, gpuMemoryMib));
        }
        boolean cordoned = node.getSpec() != null && Boolean.TRUE.equals(node.getSpec().getUnschedulable());
        return new Node(name, cpuMilli, memoryMib, gpus, !cordoned && ready(node));
    }

    static boolean ready(io.fabric8.kubernetes.api.model.Node node)
    {
        if (node.getStatus() == null || node.getStatus().getConditions() == null) {
            return false;
        }
        for (NodeCondition condition : node.getStatus().getConditions()) {
            if ("Ready".equals(condition.getType())) {
                return "True".equals(condition.getStatus());
            }
        }
        return false;
    }

    private static BigDecimal quantity(Quantity quantity)
    {
        return quantity == null ? BigDecimal.ZERO : Quantity.getAmountInBytes(quantity);
    }

    private static long parseLong(String value, long fallback)
    {
        if (value == null) {
            return fallback;
        }
        try {
            return Long.parseLong(value.strip());
        }
        catch (NumberFormatException e) {
            return fallback;
        }
    }

    @Override
    public synchronized void close()
    {
        if (podInformer != null) {
            podInformer.close();
            podInformer = null;
        }
        if (nodeInformer != null) {
            nodeInformer.close();
            nodeInformer = null;
        }
    }
}
