package dev.tranche.scheduler.backend.kubernetes;

import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.EnvVarBuilder;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.client.KubernetesClient;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static java.util.Objects.requireNonNull;

/**
 * The pods through which Tranche takes GPUs from NVIDIA's device plugin. Each GPU that Tranche hands
 * out (whole or in fractions) is first reserved by one small pod bound to its node that asks for
 * {@code nvidia.com/gpu: 1}; the device plugin picks the device, and the pod ({@code tranche
 * gpu-reservation} in the worker image) publishes what it got in its own annotation
 * {@value #DEVICE_ANNOTATION}. Workers on that GPU are then pinned to that device, never to an index
 * Tranche guessed, so Tranche's GPUs and the device plugin's other pods cannot meet on one device.
 *
 * <p>A reservation is owned (non-controller owner references) by the gangs and worker pods that use
 * it, so Kubernetes' garbage collector removes it once the last of them is gone; the scheduler also
 * deletes it itself ({@link KubernetesLauncher#syncDevices}) as soon as no placed gang holds its GPU.
 */
final class GpuReservations
{
    static final String APP = "tranche-gpu-reservation";
    static final String GPU_INDEX_LABEL = "tranche.dev/gpu-index";
    /** On a reservation: the device the device plugin gave it, as its {@code NVIDIA_VISIBLE_DEVICES} named it. */
    static final String DEVICE_ANNOTATION = "tranche.dev/gpu-device";
    /** On a gang's ConfigMap and its worker pods: the reservations they stand on, comma-separated. */
    static final String RESERVATIONS_ANNOTATION = "tranche.dev/gpu-reservations";
    /** On a worker pod: the devices it was given, in the order of {@link #RESERVATIONS_ANNOTATION}. */
    static final String DEVICES_ANNOTATION = "tranche.dev/gpu-devices";
    static final String SERVICE_ACCOUNT = "tranche-gpu-reservation";
    static final String PRIORITY_CLASS = "tranche-gpu-reservation";

    private final KubernetesClient client;
    private final String namespace;
    private final String image;

    GpuReservations(KubernetesClient client, String namespace, String image)
    {
        this.client = requireNonNull(client, "client is null");
        this.namespace = requireNonNull(namespace, "namespace is null");
        this.image = requireNonNull(image, "image is null");
    }

    /** "tranche-gpu-gpu-a-3"; a node name too long for a pod name is replaced by a digest of it. */
    static String name(String node, int index)
    {
        String name = "tranche-gpu-" + node + "-" + index;
        if (name.length() <= 253) {
            return name;
        }
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(node.getBytes(StandardCharsets.UTF_8));
            return "tranche-gpu-" + HexFormat.of().formatHex(digest, 0, 16) + "-" + index;
        }
        catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Makes sure the reservation of GPU {@code index} on {@code node} exists and counts {@code owner}
     * among its users; returns its device once the reservation pod has published it. A reservation
     * that has ended (evicted, failed) is deleted so that the next call creates it afresh.
     */
    Optional<String> ensure(String node, int index, OwnerReference owner)
    {
        String name = name(node, index);
        Pod existing = client.pods().inNamespace(namespace).withName(name).get();
        if (existing == null) {
            client.pods().inNamespace(namespace).resource(pod(node, index, owner)).create();
            return Optional.empty();
        }
        if (existing.getMetadata().getDeletionTimestamp() != null) {
            return Optional.empty();    // the previous one is still going away
        }
        if (ended(existing)) {
            client.pods().inNamespace(namespace).withName(name).delete();
            return Optional.empty();
        }
        adopt(existing, List.of(owner));
        return device(existing);
    }

    /** Adds {@code owners} to the reservation's owner references (those it already has are left as they are). */
    void adopt(String name, List<OwnerReference> owners)
    {
        Pod existing = client.pods().inNamespace(namespace).withName(name).get();
        if (existing != null) {
            adopt(existing, owners);
        }
    }

    private void adopt(Pod reservation, List<OwnerReference> owners)
    {
        List<String> known = reservation.getMetadata().getOwnerReferences().stream().map(OwnerReference::getUid).toList();
        List<OwnerReference> missing = owners.stream().filter(owner -> !known.contains(owner.getUid())).toList();
        if (missing.isEmpty()) {
            return;
        }
        client.pods().inNamespace(namespace).withName(reservation.getMetadata().getName())
                .edit(pod -> new PodBuilder(pod).editMetadata().addAllToOwnerReferences(missing).endMetadata().build());
    }

    /** Every reservation pod in the namespace. */
    List<Pod> list()
    {
        return client.pods().inNamespace(namespace).withLabel("app.kubernetes.io/name", APP).list().getItems();
    }

    Pod get(String name)
    {
        return client.pods().inNamespace(namespace).withName(name).get();
    }

    void delete(String name)
    {
        client.pods().inNamespace(namespace).withName(name).withGracePeriod(0).delete();
    }

    static Optional<String> device(Pod reservation)
    {
        Map<String, String> annotations = reservation.getMetadata().getAnnotations();
        String device = annotations == null ? null : annotations.get(DEVICE_ANNOTATION);
        return device == null || device.isBlank() ? Optional.empty() : Optional.of(device.strip());
    }

    /** Tranche's GPU index of a reservation; -1 for a pod that carries none (not one the scheduler made: no GPU holds it). */
    static int index(Pod reservation)
    {
        String index = reservation.getMetadata().getLabels() == null ? null : reservation.getMetadata().getLabels().get(GPU_INDEX_LABEL);
        try {
            return index == null ? -1 : Integer.parseInt(index);
        }
        catch (NumberFormatException e) {
            return -1;
        }
    }

    static boolean ended(Pod pod)
    {
        String phase = pod.getStatus() == null ? null : pod.getStatus().getPhase();
        return "Failed".equals(phase) || "Succeeded".equals(phase);
    }

    static boolean ownedBy(Pod reservation, String uid)
    {
        return reservation.getMetadata().getOwnerReferences().stream().anyMatch(owner -> uid.equals(owner.getUid()));
    }

    /** Why a reservation pod ended, in the kubelet's words ("Evicted: The node was low on resource: memory."). */
    static String why(Pod pod)
    {
        if (pod.getStatus() != null) {
            String reason = pod.getStatus().getReason();
            String message = pod.getStatus().getMessage();
            if (reason != null || message != null) {
                return (reason == null ? "" : reason) + (reason != null && message != null ? ": " : "") + (message == null ? "" : message);
            }
            if (pod.getStatus().getContainerStatuses() != null) {
                for (ContainerStatus status : pod.getStatus().getContainerStatuses()) {
                    if (status.getState() != null && status.getState().getTerminated() != null) {
                        return "exit code " + status.getState().getTerminated().getExitCode();
                    }
                }
            }
        }
        return "no reason reported";
    }

    static OwnerReference ownerReference(String kind, String name, String uid)
    {
        // not a controller, and not blocking the owner's deletion: a reservation has one owner per user
        return new OwnerReferenceBuilder().withApiVersion("v1").withKind(kind).withName(name).withUid(uid)
                .withController(false).withBlockOwnerDeletion(false).build();
    }

    private Pod pod(String node, int index, OwnerReference owner)
    {
        List<io.fabric8.kubernetes.api.model.EnvVar> env = new ArrayList<>();
        env.add(new EnvVarBuilder().withName("TRANCHE_POD_NAME").withNewValueFrom().withNewFieldRef().withFieldPath("metadata.name").endFieldRef().endValueFrom().build());
        // a small JVM for a command that makes one HTTP call and then sleeps (replaces the image's flags for Spark)
        env.add(new EnvVarBuilder().withName("JAVA_TOOL_OPTIONS").withValue("-XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xmx48m -Xss512k").build());
        env.add(new EnvVarBuilder().withName("TRANCHE_POD_NAMESPACE").withNewValueFrom().withNewFieldRef().withFieldPath("metadata.namespace").endFieldRef().endValueFrom().build());
        return new PodBuilder()
                .withNewMetadata()
                .withName(name(node, index))
                .addToLabels("app.kubernetes.io/name", APP)
                .addToLabels("app.kubernetes.io/managed-by", "tranche")
                .addToLabels(GPU_INDEX_LABEL, Integer.toString(index))
                .withOwnerReferences(owner)
                .endMetadata()
                .withNewSpec()
                .withNodeName(node)
                .withPriorityClassName(PRIORITY_CLASS)
                .withServiceAccountName(SERVICE_ACCOUNT)
                .withAutomountServiceAccountToken(true)
                .withRestartPolicy("Never")
                .withTerminationGracePeriodSeconds(5L)
                .addNewContainer()
                .withName("reservation")
                .withImage(image)
                .withArgs("gpu-reservation")
                .withEnv(env)
                .withNewResources()
                .withRequests(Map.of("cpu", new Quantity("10m"), "memory", new Quantity("192Mi")))
                .withLimits(Map.of("memory", new Quantity("192Mi"), KubernetesInventory.GPU_RESOURCE, new Quantity("1")))
                .endResources()
                .withNewSecurityContext().withAllowPrivilegeEscalation(false)
                .withNewCapabilities().withDrop("ALL").endCapabilities().endSecurityContext()
                .endContainer()
                .endSpec()
                .build();
    }
}
