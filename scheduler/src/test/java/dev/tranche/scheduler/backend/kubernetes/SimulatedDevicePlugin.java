package dev.tranche.scheduler.backend.kubernetes;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodStatusBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

/**
 * Plays NVIDIA's device plugin and the kubelet for tests on the mock API server: each node has its own
 * devices with UUIDs Tranche cannot guess, handed out in an order unrelated to Tranche's GPU indices.
 * Granting a reservation pod a device does what the kubelet and the pod's {@code tranche
 * gpu-reservation} command would: the pod runs, and publishes the device with the same JSON merge
 * patch the command sends (worker/.../PodAnnotatorTest checks that request).
 */
public final class SimulatedDevicePlugin
{
    private final KubernetesClient client;
    private final String namespace;
    private final Map<String, List<String>> devicesByNode = new LinkedHashMap<>();

    public SimulatedDevicePlugin(KubernetesClient client, String namespace)
    {
        this.client = client;
        this.namespace = namespace;
    }

    /** The node's devices, last first: so the first reservation (Tranche's GPU 0) gets the node's last device. */
    public List<String> devices(String node, int count)
    {
        return devicesByNode.computeIfAbsent(node, ignored -> {
            List<String> devices = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                devices.add(0, "GPU-" + UUID.randomUUID());
            }
            return devices;
        });
    }

    /** Gives every reservation pod that waits a free device of its node; returns reservation name to device. */
    public Map<String, String> grantAll()
    {
        Map<String, String> granted = new LinkedHashMap<>();
        List<Pod> reservations = client.pods().inNamespace(namespace).withLabel("app.kubernetes.io/name", GpuReservations.APP).list().getItems();
        for (Pod reservation : reservations) {
            if (GpuReservations.device(reservation).isPresent() || GpuReservations.ended(reservation) || reservation.getMetadata().getDeletionTimestamp() != null) {
                continue;
            }
            String node = reservation.getSpec().getNodeName();
            Set<String> taken = new HashSet<>();
            for (Pod other : client.pods().inNamespace(namespace).withLabel("app.kubernetes.io/name", GpuReservations.APP).list().getItems()) {
                if (node.equals(other.getSpec().getNodeName()) && !GpuReservations.ended(other)) {
                    GpuReservations.device(other).ifPresent(taken::add);
                }
            }
            String device = devices(node, 8).stream().filter(candidate -> !taken.contains(candidate)).findFirst()
                    .orElseThrow(() -> new IllegalStateException("no free device on " + node));
            publish(reservation.getMetadata().getName(), device);
            granted.put(reservation.getMetadata().getName(), device);
        }
        return granted;
    }

    /** What the kubelet and the reservation pod's command do once the device plugin allocated {@code device}. */
    public void publish(String reservation, String device)
    {
        kubeletWrite(() -> {
            Pod pod = client.pods().inNamespace(namespace).withName(reservation).get();
            pod.setStatus(new PodStatusBuilder().withPhase("Running").build());
            client.pods().inNamespace(namespace).resource(pod).updateStatus();
        });
        kubeletWrite(() -> client.pods().inNamespace(namespace).withName(reservation)
                .patch(PatchContext.of(PatchType.JSON_MERGE), "{\"metadata\":{\"annotations\":{\"" + GpuReservations.DEVICE_ANNOTATION + "\":\"" + device + "\"}}}"));
    }

    /** The kubelet evicting a reservation pod (node pressure): it fails with the kubelet's reason. */
    public void evict(String reservation)
    {
        kubeletWrite(() -> {
            Pod pod = client.pods().inNamespace(namespace).withName(reservation).get();
            pod.setStatus(new PodStatusBuilder().withPhase("Failed").withReason("Evicted").withMessage("The node was low on resource: memory.").build());
            client.pods().inNamespace(namespace).resource(pod).updateStatus();
        });
    }

    /**
     * A status write as the kubelet makes it: retried when the call gets no answer. The kubelet's status
     * manager retries too; here it also rides over fabric8's mock server 8.0.0, which now and then never
     * answers a request with a body under load (seen once in CI: a PUT .../status timed out after 10 s).
     */
    private static void kubeletWrite(Runnable write)
    {
        for (int attempt = 1; ; attempt++) {
            try {
                write.run();
                return;
            }
            catch (KubernetesClientException e) {
                boolean noAnswer = e.getMessage() != null && e.getMessage().contains("timeout period");
                if (!noAnswer || attempt == 3) {
                    throw e;
                }
            }
        }
    }
}
