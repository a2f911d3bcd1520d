package dev.tranche.scheduler.backend.kubernetes;

import dev.tranche.scheduler.core.model.Gpu;
import dev.tranche.scheduler.core.model.Node;
import io.fabric8.kubernetes.api.model.NodeCondition;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

import static java.util.Objects.requireNonNull;

/**
 * The GPU inventory of a Kubernetes cluster: every node's allocatable CPU, memory and
 * {@code nvidia.com/gpu}, with the GPU model and memory from the labels NVIDIA's GPU feature
 * discovery puts on nodes. A cordoned or NotReady node is unschedulable; a deleted one is gone.
 */
public final class KubernetesInventory
        implements AutoCloseable
{
    static final String GPU_RESOURCE = "nvidia.com/gpu";
    static final String GPU_PRODUCT_LABEL = "nvidia.com/gpu.product";
    static final String GPU_MEMORY_LABEL = "nvidia.com/gpu.memory";
    private static final long UNKNOWN_GPU_MEMORY_MIB = 16 * 1024;

    private final KubernetesClient client;
    private SharedIndexInformer<io.fabric8.kubernetes.api.model.Node> informer;

    public KubernetesInventory(KubernetesClient client)
    {
        this.client = requireNonNull(client, "client is null");
    }

    public List<Node> discover()
    {
        List<Node> nodes = new ArrayList<>();
        for (io.fabric8.kubernetes.api.model.Node node : client.nodes().list().getItems()) {
            nodes.add(toNode(node));
        }
        return nodes;
    }

    /** Calls {@code onChange} with the whole inventory whenever a node is added, changed or deleted. */
    public synchronized void watch(Consumer<List<Node>> onChange)
    {
        if (informer != null) {
            throw new IllegalStateException("already watching");
        }
        // the informer calls back before inform() returns: keep the inventory here, not in its store
        Map<String, Node> nodes = new java.util.concurrent.ConcurrentSkipListMap<>();
        informer = client.nodes().inform(new ResourceEventHandler<>()
        {
            @Override
            public void onAdd(io.fabric8.kubernetes.api.model.Node node)
            {
                nodes.put(node.getMetadata().getName(), toNode(node));
                onChange.accept(List.copyOf(nodes.values()));
            }

            @Override
            public void onUpdate(io.fabric8.kubernetes.api.model.Node before, io.fabric8.kubernetes.api.model.Node after)
            {
                nodes.put(after.getMetadata().getName(), toNode(after));
                onChange.accept(List.copyOf(nodes.values()));
            }

            @Override
            public void onDelete(io.fabric8.kubernetes.api.model.Node node, boolean finalStateUnknown)
            {
                nodes.remove(node.getMetadata().getName());
                onChange.accept(List.copyOf(nodes.values()));
            }
        });
    }

    static Node toNode(io.fabric8.kubernetes.api.model.Node node)
    {
        String name = node.getMetadata().getName();
        Map<String, Quantity> allocatable = node.getStatus() != null && node.getStatus().getAllocatable() != null
                ? node.getStatus().getAllocatable()
                : Map.of();
        long cpuMilli = quantity(allocatable.get("cpu")).multiply(BigDecimal.valueOf(1000)).longValue();
        long memoryMib = quantity(allocatable.get("memory")).divide(BigDecimal.valueOf(1024 * 1024), java.math.RoundingMode.DOWN).longValue();
        int gpuCount = quantity(allocatable.get(GPU_RESOURCE)).intValue();
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
        if (informer != null) {
            informer.close();
            informer = null;
        }
    }
}
