package dev.tranche.scheduler.backend.kubernetes;

import dev.tranche.scheduler.backend.ExecutionBackend;
import dev.tranche.scheduler.backend.GangStatus;
import dev.tranche.scheduler.backend.LaunchRequest;
import dev.tranche.scheduler.backend.ReplicaLaunch;
import dev.tranche.scheduler.backend.SchedulerTrust;
import dev.tranche.scheduler.backend.WorkerLogs;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.ContainerStateTerminated;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.EnvVarBuilder;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeBuilder;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.VolumeMountBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

import static java.util.Objects.requireNonNull;

/**
 * Runs a placed gang as pods: one pod per replica, bound to the node the scheduler chose (the
 * kube-scheduler is not asked), with the worker's environment contract. A ConfigMap per experiment
 * holds the spec and owns the pods, the headless Service through which the replicas find each
 * other and the Secret that holds the experiment's worker credential (which the pods read through a
 * secretKeyRef, so it is not in their spec), so deleting it cleans everything up.
 */
public final class KubernetesLauncher
        implements ExecutionBackend, WorkerLogs
{
    static final String EXPERIMENT_LABEL = "tranche.dev/experiment";
    static final String PROJECT_LABEL = "tranche.dev/project";
    static final String RANK_LABEL = "tranche.dev/rank";
    private static final int SPARK_MASTER_PORT = 7077;
    // where a worker pod finds the scheduler's CA: the ConfigMap's key ca.crt, mounted beside (not inside) the spec's /etc/tranche
    static final String SCHEDULER_CA_DIRECTORY = "/etc/tranche-scheduler-ca";
    static final String SCHEDULER_CA_KEY = "ca.crt";
    // the key of the gang's Secret that holds TRANCHE_CREDENTIAL
    static final String CREDENTIAL_KEY = "credential";

    private final KubernetesClient client;
    private final String namespace;
    private final String workerImage;
    private final String checkpointRoot;
    private final Optional<String> schedulerCaConfigMap;
    private final SchedulerTrust schedulerTrust;

    /** Plaintext workers. */
    public KubernetesLauncher(KubernetesClient client, String namespace, String workerImage, String checkpointRoot)
    {
        this(client, namespace, workerImage, checkpointRoot, false, Optional.empty());
    }

    /**
     * Workers that reach the scheduler over TLS when {@code schedulerTls}, trusting the system's CAs in
     * their image, or the {@code ca.crt} of {@code schedulerCaConfigMap} (in the workers' namespace),
     * which is mounted into every worker pod.
     */
    public KubernetesLauncher(KubernetesClient client, String namespace, String workerImage, String checkpointRoot, boolean schedulerTls,
            Optional<String> schedulerCaConfigMap)
    {
        this.client = requireNonNull(client, "client is null");
        this.namespace = requireNonNull(namespace, "namespace is null");
        this.workerImage = requireNonNull(workerImage, "workerImage is null");
        this.checkpointRoot = requireNonNull(checkpointRoot, "checkpointRoot is null");
        this.schedulerCaConfigMap = requireNonNull(schedulerCaConfigMap, "schedulerCaConfigMap is null");
        this.schedulerTrust = schedulerCaConfigMap.isPresent() ? SchedulerTrust.caFile(SCHEDULER_CA_DIRECTORY + "/" + SCHEDULER_CA_KEY)
                : schedulerTls ? SchedulerTrust.systemCas() : SchedulerTrust.PLAINTEXT;
    }

    @Override
    public void launch(LaunchRequest request)
    {
        String id = request.experimentId();
        String group = "tranche-" + id;
        ConfigMap owner = client.configMaps().inNamespace(namespace).resource(new ConfigMapBuilder()
                        .withNewMetadata().withName(group).withLabels(labels(request, -1)).endMetadata()
                        .addToData("spec.json", request.specJson())
                        .build())
                .createOr(existing -> existing.update());
        OwnerReference ownedBy = new OwnerReferenceBuilder()
                .withApiVersion("v1").withKind("ConfigMap").withName(group).withUid(owner.getMetadata().getUid())
                .withController(true).withBlockOwnerDeletion(true)
                .build();
        client.services().inNamespace(namespace).resource(new ServiceBuilder()
                        .withNewMetadata().withName(group).withLabels(labels(request, -1)).withOwnerReferences(ownedBy).endMetadata()
                        .withNewSpec().withClusterIP("None").withSelector(Map.of(EXPERIMENT_LABEL, id)).withPublishNotReadyAddresses(true)
                        .addNewPort().withName("spark").withPort(SPARK_MASTER_PORT).endPort().endSpec()
                        .build())
                .createOr(existing -> existing.update());
        // the credential lives in a Secret, not in the pod spec that anyone who may get pods can read. It is immutable:
        // a relaunch deletes the previous run's and creates it afresh (so the scheduler needs no update, get or list on Secrets)
        client.secrets().inNamespace(namespace).withName(credentialSecretName(id)).delete();
        client.secrets().inNamespace(namespace).resource(new SecretBuilder()
                        .withNewMetadata().withName(credentialSecretName(id)).withLabels(labels(request, -1)).withOwnerReferences(ownedBy).endMetadata()
                        .withType("Opaque")
                        .withImmutable(true)
                        .addToData(CREDENTIAL_KEY, Base64.getEncoder().encodeToString(request.credential().getBytes(StandardCharsets.UTF_8)))
                        .build())
                .create();
        List<String> peers = new ArrayList<>();
        for (ReplicaLaunch replica : request.replicas()) {
            peers.add(podName(id, replica.rank()) + "." + group + "." + namespace + ".svc");
        }
        for (ReplicaLaunch replica : request.replicas()) {
            client.pods().inNamespace(namespace).resource(pod(request, replica, ownedBy, peers)).create();
        }
    }

    private Pod pod(LaunchRequest request, ReplicaLaunch replica, OwnerReference ownedBy, List<String> peers)
    {
        String id = request.experimentId();
        List<EnvVar> env = new ArrayList<>();
        env.add(env("TRANCHE_EXPERIMENT_ID", id));
        env.add(env("TRANCHE_RANK", Integer.toString(replica.rank())));
        env.add(env("TRANCHE_WORLD_SIZE", Integer.toString(request.replicas().size())));
        env.add(env("TRANCHE_MASTER_ADDRESS", peers.get(0) + ":" + SPARK_MASTER_PORT));
        env.add(env("TRANCHE_PEERS", String.join(",", peers)));
        env.add(env("TRANCHE_GPU_IDS", replica.gpuIds()));
        env.add(env("TRANCHE_GPU_FRACTION", Double.toString(replica.gpuFraction())));
        if (replica.gpuMemoryMib() > 0 && !replica.gpuMilli().isEmpty()) {
            long share = replica.wholeGpus() ? replica.gpuMemoryMib() : replica.gpuMemoryMib() * replica.gpuMilli().values().iterator().next() / 1000;
            env.add(env("TRANCHE_GPU_MEMORY_MIB", Long.toString(share)));
        }
        env.add(env("TRANCHE_SCHEDULER_ADDRESS", request.schedulerAddress()));
        schedulerTrust.environment().forEach((name, value) -> env.add(env(name, value)));
        env.add(new EnvVarBuilder().withName("TRANCHE_CREDENTIAL")
                .withNewValueFrom().withNewSecretKeyRef().withName(credentialSecretName(id)).withKey(CREDENTIAL_KEY).withOptional(false).endSecretKeyRef().endValueFrom()
                .build());
        env.add(env("TRANCHE_CHECKPOINT_DIR", checkpointRoot + "/" + id));
        // the device plugin hands out whole GPUs only: fractional replicas get their GPU by index instead
        env.add(env("NVIDIA_VISIBLE_DEVICES", replica.gpuMilli().isEmpty() ? "void" : replica.gpuIds()));
        Map<String, Quantity> requests = new HashMap<>();
        requests.put("cpu", new Quantity(replica.cpuMilli() + "m"));
        requests.put("memory", new Quantity(replica.memoryMib() + "Mi"));
        Map<String, Quantity> limits = new HashMap<>(Map.of("memory", new Quantity(replica.memoryMib() + "Mi")));
        if (replica.wholeGpus()) {
            limits.put(KubernetesInventory.GPU_RESOURCE, new Quantity(Integer.toString(replica.gpuMilli().size())));
        }
        List<Volume> volumes = new ArrayList<>(List.of(new VolumeBuilder().withName("spec").withNewConfigMap().withName("tranche-" + id).endConfigMap().build()));
        List<VolumeMount> mounts = new ArrayList<>(List.of(new VolumeMountBuilder().withName("spec").withMountPath("/etc/tranche").withReadOnly(true).build()));
        schedulerCaConfigMap.ifPresent(name -> {
            volumes.add(new VolumeBuilder().withName("scheduler-ca").withNewConfigMap().withName(name).endConfigMap().build());
            mounts.add(new VolumeMountBuilder().withName("scheduler-ca").withMountPath(SCHEDULER_CA_DIRECTORY).withReadOnly(true).build());
        });
        return new PodBuilder()
                .withNewMetadata()
                .withName(podName(id, replica.rank()))
                .withLabels(labels(request, replica.rank()))
                .withOwnerReferences(ownedBy)
                .endMetadata()
                .withNewSpec()
                .withNodeName(replica.node())
                .withHostname(podName(id, replica.rank()))
                .withSubdomain("tranche-" + id)
                .withRestartPolicy("Never")
                .withTerminationGracePeriodSeconds(60L)
                .addNewContainer()
                .withName("worker")
                .withImage(workerImage)
                .withArgs("worker", "-f", "/etc/tranche/spec.json")
                .withEnv(env)
                .withNewResources().withRequests(requests).withLimits(limits).endResources()
                .withVolumeMounts(mounts)
                .endContainer()
                .withVolumes(volumes)
                .endSpec()
                .build();
    }

    /** Stops the gang: SIGTERM, {@code grace} to checkpoint, then the kubelet kills what is left. */
    @Override
    public void stop(String experimentId, Duration grace)
    {
        client.pods().inNamespace(namespace).withLabel(EXPERIMENT_LABEL, experimentId).withGracePeriod(grace.toSeconds()).delete();
        client.configMaps().inNamespace(namespace).withName("tranche-" + experimentId).delete();
        // the garbage collector would remove it with the ConfigMap; deleting it here does not wait for that
        client.secrets().inNamespace(namespace).withName(credentialSecretName(experimentId)).delete();
    }

    /** The gang's state from its pods' phases and exit codes. */
    @Override
    public GangStatus status(String experimentId)
    {
        // pods being deleted belong to a stopped run: for the experiment's state they are gone already
        return gangStatus(experimentId, client.pods().inNamespace(namespace).withLabel(EXPERIMENT_LABEL, experimentId).list().getItems().stream()
                .filter(pod -> pod.getMetadata().getDeletionTimestamp() == null)
                .toList());
    }

    static GangStatus gangStatus(String experimentId, List<Pod> pods)
    {
        if (pods.isEmpty()) {
            return new GangStatus(experimentId, GangStatus.Phase.GONE, "no worker pods exist");
        }
        int running = 0;
        int succeeded = 0;
        for (Pod pod : pods) {
            String phase = pod.getStatus() == null || pod.getStatus().getPhase() == null ? "Pending" : pod.getStatus().getPhase();
            switch (phase) {
                case "Failed" -> {
                    return new GangStatus(experimentId, GangStatus.Phase.FAILED, "worker " + pod.getMetadata().getName() + " failed: " + exit(pod));
                }
                case "Running" -> running++;
                case "Succeeded" -> succeeded++;
                default -> { }
            }
        }
        if (succeeded == pods.size()) {
            return GangStatus.succeeded(experimentId, pods.size());
        }
        if (running + succeeded == pods.size()) {
            return GangStatus.running(experimentId, running, pods.size());
        }
        return new GangStatus(experimentId, GangStatus.Phase.STARTING, (running + succeeded) + " of " + pods.size() + " workers started");
    }

    private static String exit(Pod pod)
    {
        if (pod.getStatus().getContainerStatuses() != null) {
            for (ContainerStatus status : pod.getStatus().getContainerStatuses()) {
                ContainerStateTerminated terminated = status.getState() == null ? null : status.getState().getTerminated();
                if (terminated != null) {
                    return "exit code " + terminated.getExitCode() + (terminated.getReason() == null ? "" : " (" + terminated.getReason() + ")")
                            + (terminated.getMessage() == null ? "" : ": " + terminated.getMessage());
                }
            }
        }
        return pod.getStatus().getReason() == null ? "no exit code reported" : pod.getStatus().getReason();
    }

    @Override
    public Map<String, Set<String>> workers()
    {
        Map<String, Set<String>> workers = new java.util.TreeMap<>();
        for (Pod pod : client.pods().inNamespace(namespace).withLabel(EXPERIMENT_LABEL).list().getItems()) {
            workers.computeIfAbsent(pod.getMetadata().getLabels().get(EXPERIMENT_LABEL), id -> new TreeSet<>())
                    .add(pod.getSpec().getNodeName() == null ? "" : pod.getSpec().getNodeName());
        }
        return workers;
    }

    @Override
    public List<String> tail(String experimentId, int rank, int lines)
    {
        Pod pod = client.pods().inNamespace(namespace).withName(podName(experimentId, rank)).get();
        if (pod == null) {
            return List.of();
        }
        String log = client.pods().inNamespace(namespace).withName(podName(experimentId, rank)).tailingLines(lines).getLog();
        return log == null ? List.of() : log.lines().toList();
    }

    /** Experiments with a worker on {@code node}: when the node is lost they go back to the queue. */
    public Set<String> experimentsOn(String node)
    {
        Set<String> experiments = new TreeSet<>();
        for (Pod pod : client.pods().inNamespace(namespace).withLabel(EXPERIMENT_LABEL).list().getItems()) {
            if (node.equals(pod.getSpec().getNodeName())) {
                experiments.add(pod.getMetadata().getLabels().get(EXPERIMENT_LABEL));
            }
        }
        return experiments;
    }

    static String podName(String experimentId, int rank)
    {
        return experimentId + "-" + rank;
    }

    static String credentialSecretName(String experimentId)
    {
        return "tranche-" + experimentId + "-credential";
    }

    private static Map<String, String> labels(LaunchRequest request, int rank)
    {
        Map<String, String> labels = new HashMap<>();
        labels.put("app.kubernetes.io/name", "tranche-worker");
        labels.put("app.kubernetes.io/managed-by", "tranche");
        labels.put(EXPERIMENT_LABEL, request.experimentId());
        labels.put(PROJECT_LABEL, request.project());
        if (rank >= 0) {
            labels.put(RANK_LABEL, Integer.toString(rank));
        }
        return labels;
    }

    private static EnvVar env(String name, String value)
    {
        return new EnvVar(name, value, null);
    }
}
