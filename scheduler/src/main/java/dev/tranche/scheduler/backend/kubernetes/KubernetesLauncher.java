package dev.tranche.scheduler.backend.kubernetes;

import dev.tranche.scheduler.backend.ExecutionBackend;
import dev.tranche.scheduler.backend.GangStatus;
import dev.tranche.scheduler.backend.LaunchRequest;
import dev.tranche.scheduler.backend.ReplicaLaunch;
import dev.tranche.scheduler.backend.RunAttempt;
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
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.PodResource;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

import static java.util.Objects.requireNonNull;

/**
 * Runs a placed gang as pods: one pod per replica, bound to the node the scheduler chose (the
 * kube-scheduler is not asked), with the worker's environment contract. Every GPU the gang uses is
 * first reserved from NVIDIA's device plugin ({@link GpuReservations}), and the workers are pinned to
 * the devices the reservations were given. Each run attempt (each placement of the experiment) is a
 * gang of its own: a ConfigMap per attempt holds the spec and owns the attempt's pods, the headless
 * Service through which the replicas find each other and the Secret that holds the worker credential
 * (which the pods read through a secretKeyRef, so it is not in their spec), so deleting it cleans the
 * attempt up. Their names carry the attempt ({@code tranche-<experiment>-a<N>}, pods
 * {@code <experiment>-a<N>-<rank>}) and so does the label {@value #ATTEMPT_LABEL}, so an earlier
 * attempt's pods, still checkpointing, are never taken for a later one's and stopping them never
 * touches the later one. Attempt 0 (placed before attempts were counted) has the names and labels of
 * that time: no attempt in either.
 */
public final class KubernetesLauncher
        implements ExecutionBackend, WorkerLogs
{
    static final String EXPERIMENT_LABEL = "tranche.dev/experiment";
    static final String PROJECT_LABEL = "tranche.dev/project";
    static final String RANK_LABEL = "tranche.dev/rank";
    static final String ATTEMPT_LABEL = "tranche.dev/attempt";
    // where a worker pod finds the scheduler's CA: the ConfigMap's key ca.crt, mounted beside (not inside) the spec's /etc/tranche
    static final String SCHEDULER_CA_DIRECTORY = "/etc/tranche-scheduler-ca";
    static final String SCHEDULER_CA_KEY = "ca.crt";
    // the key of the gang's Secret that holds TRANCHE_CREDENTIAL
    static final String CREDENTIAL_KEY = "credential";
    // what a worker pod gets to checkpoint when none is configured (the server passes --preemption-grace)
    static final Duration DEFAULT_GRACE = Duration.ofSeconds(60);

    private final KubernetesClient client;
    private final String namespace;
    private final String workerImage;
    private final String checkpointRoot;
    private final Optional<String> schedulerCaConfigMap;
    private final SchedulerTrust schedulerTrust;
    private final GpuReservations reservations;
    private final Duration grace;

    /** Plaintext workers. */
    public KubernetesLauncher(KubernetesClient client, String namespace, String workerImage, String checkpointRoot)
    {
        this(client, namespace, workerImage, checkpointRoot, false, Optional.empty(), DEFAULT_GRACE);
    }

    /**
     * Workers that reach the scheduler over TLS when {@code schedulerTls}, trusting the system's CAs in
     * their image, or the {@code ca.crt} of {@code schedulerCaConfigMap} (in the workers' namespace),
     * which is mounted into every worker pod.
     */
    public KubernetesLauncher(KubernetesClient client, String namespace, String workerImage, String checkpointRoot, boolean schedulerTls,
            Optional<String> schedulerCaConfigMap)
    {
        this(client, namespace, workerImage, checkpointRoot, schedulerTls, schedulerCaConfigMap, DEFAULT_GRACE);
    }

    /** @param grace the worker pods' termination grace period: how long they get to checkpoint when the kubelet stops them */
    public KubernetesLauncher(KubernetesClient client, String namespace, String workerImage, String checkpointRoot, boolean schedulerTls,
            Optional<String> schedulerCaConfigMap, Duration grace)
    {
        this.grace = requireNonNull(grace, "grace is null");
        this.client = requireNonNull(client, "client is null");
        this.namespace = requireNonNull(namespace, "namespace is null");
        this.workerImage = requireNonNull(workerImage, "workerImage is null");
        this.checkpointRoot = requireNonNull(checkpointRoot, "checkpointRoot is null");
        this.schedulerCaConfigMap = requireNonNull(schedulerCaConfigMap, "schedulerCaConfigMap is null");
        this.schedulerTrust = schedulerCaConfigMap.isPresent() ? SchedulerTrust.caFile(SCHEDULER_CA_DIRECTORY + "/" + SCHEDULER_CA_KEY)
                : schedulerTls ? SchedulerTrust.systemCas() : SchedulerTrust.PLAINTEXT;
        this.reservations = new GpuReservations(client, namespace, workerImage);
    }

    /**
     * Reserves every GPU the gang uses from the device plugin (one reservation pod per GPU), and once
     * every reservation has published its device, creates the gang's pods pinned to those devices. Until
     * then it creates no worker pod: the controller calls again on its next pass (the gang is GONE to it).
     */
    @Override
    public void launch(LaunchRequest request)
    {
        RunAttempt run = request.run();
        String group = groupName(run);
        Set<String> reservationNames = new TreeSet<>();
        for (ReplicaLaunch replica : request.replicas()) {
            replica.gpuMilli().keySet().forEach(index -> reservationNames.add(GpuReservations.name(replica.node(), index)));
        }
        ConfigMap owner = client.configMaps().inNamespace(namespace).resource(new ConfigMapBuilder()
                        .withNewMetadata().withName(group).withLabels(labels(request, -1))
                        .withAnnotations(reservationNames.isEmpty() ? Map.of() : Map.of(GpuReservations.RESERVATIONS_ANNOTATION, String.join(",", reservationNames)))
                        .endMetadata()
                        .addToData("spec.json", request.specJson())
                        .build())
                .createOr(existing -> existing.update());
        OwnerReference ownedBy = new OwnerReferenceBuilder()
                .withApiVersion("v1").withKind("ConfigMap").withName(group).withUid(owner.getMetadata().getUid())
                .withController(true).withBlockOwnerDeletion(true)
                .build();
        Map<String, String> devices = reserve(request, GpuReservations.ownerReference("ConfigMap", group, owner.getMetadata().getUid()));
        if (devices.size() < reservationNames.size()) {
            return;     // not every device published yet: no worker may start on a guess
        }
        client.services().inNamespace(namespace).resource(new ServiceBuilder()
                        .withNewMetadata().withName(group).withLabels(labels(request, -1)).withOwnerReferences(ownedBy).endMetadata()
                        .withNewSpec().withClusterIP("None").withSelector(selector(run)).withPublishNotReadyAddresses(true)
                        .addNewPort().withName("spark").withPort(request.ports().sparkMaster()).endPort()
                        .addNewPort().withName("driver").withPort(request.ports().driver()).endPort()
                        .addNewPort().withName("block-manager").withPort(request.ports().blockManager()).endPort()
                        .addNewPort().withName("gradient").withProtocol("UDP").withPort(request.ports().gradientSharing()).endPort()
                        .endSpec()
                        .build())
                .createOr(existing -> existing.update());
        // the credential lives in a Secret, not in the pod spec that anyone who may get pods can read. It is immutable:
        // a relaunch deletes the previous run's and creates it afresh (so the scheduler needs no update, get or list on Secrets)
        client.secrets().inNamespace(namespace).withName(credentialSecretName(run)).delete();
        client.secrets().inNamespace(namespace).resource(new SecretBuilder()
                        .withNewMetadata().withName(credentialSecretName(run)).withLabels(labels(request, -1)).withOwnerReferences(ownedBy).endMetadata()
                        .withType("Opaque")
                        .withImmutable(true)
                        .addToData(CREDENTIAL_KEY, Base64.getEncoder().encodeToString(request.credential().getBytes(StandardCharsets.UTF_8)))
                        .build())
                .create();
        List<String> peers = new ArrayList<>();
        for (ReplicaLaunch replica : request.replicas()) {
            peers.add(podName(run, replica.rank()) + "." + group + "." + namespace + ".svc");
        }
        Map<String, List<OwnerReference>> users = new HashMap<>();
        for (ReplicaLaunch replica : request.replicas()) {
            Pod created = client.pods().inNamespace(namespace).resource(pod(request, replica, ownedBy, peers, devices)).create();
            for (int index : new TreeSet<>(replica.gpuMilli().keySet())) {
                users.computeIfAbsent(GpuReservations.name(replica.node(), index), name -> new ArrayList<>())
                        .add(GpuReservations.ownerReference("Pod", created.getMetadata().getName(), created.getMetadata().getUid()));
            }
        }
        // each reservation now lives as long as the last worker pod on its GPU (and the gang's ConfigMap)
        users.forEach(reservations::adopt);
    }

    /** The device of each reservation the gang needs that has published one, by reservation name. */
    private Map<String, String> reserve(LaunchRequest request, OwnerReference gang)
    {
        Map<String, String> devices = new HashMap<>();
        Map<String, Map<String, String>> byNode = new HashMap<>();
        for (ReplicaLaunch replica : request.replicas()) {
            for (int index : new TreeSet<>(replica.gpuMilli().keySet())) {
                String name = GpuReservations.name(replica.node(), index);
                if (devices.containsKey(name)) {
                    continue;
                }
                Optional<String> device = reservations.ensure(replica.node(), index, gang);
                if (device.isEmpty()) {
                    continue;
                }
                String other = byNode.computeIfAbsent(replica.node(), node -> new HashMap<>()).put(device.get(), name);
                if (other != null) {
                    // a device plugin that shares GPUs itself (time-slicing, MPS) hands one device to several pods
                    throw new IllegalStateException("the device plugin gave device " + device.get() + " on node " + replica.node() + " to both " + other
                            + " and " + name + "; turn off GPU sharing (time-slicing, MPS) in the device plugin on the nodes Tranche uses");
                }
                devices.put(name, device.get());
            }
        }
        return devices;
    }

    private Pod pod(LaunchRequest request, ReplicaLaunch replica, OwnerReference ownedBy, List<String> peers, Map<String, String> devices)
    {
        List<String> names = new TreeSet<>(replica.gpuMilli().keySet()).stream().map(index -> GpuReservations.name(replica.node(), index)).toList();
        List<String> deviceIds = names.stream().map(devices::get).toList();
        String id = request.experimentId();
        RunAttempt run = request.run();
        List<EnvVar> env = new ArrayList<>();
        env.add(env("TRANCHE_EXPERIMENT_ID", id));
        env.add(env("TRANCHE_RANK", Integer.toString(replica.rank())));
        env.add(env("TRANCHE_WORLD_SIZE", Integer.toString(request.replicas().size())));
        env.add(env("TRANCHE_MASTER_ADDRESS", peers.get(0) + ":" + request.ports().sparkMaster()));
        new java.util.TreeMap<>(request.ports().environment()).forEach((name, value) -> env.add(env(name, value)));
        env.add(env("TRANCHE_PEERS", String.join(",", peers)));
        // inside the container CUDA numbers the devices it was given from 0
        env.add(env("TRANCHE_GPU_IDS", String.join(",", java.util.stream.IntStream.range(0, names.size()).mapToObj(Integer::toString).toList())));
        env.add(env("TRANCHE_GPU_FRACTION", Double.toString(replica.gpuFraction())));
        if (replica.gpuMemoryMib() > 0 && !replica.gpuMilli().isEmpty()) {
            long share = replica.wholeGpus() ? replica.gpuMemoryMib() : replica.gpuMemoryMib() * replica.gpuMilli().values().iterator().next() / 1000;
            env.add(env("TRANCHE_GPU_MEMORY_MIB", Long.toString(share)));
        }
        env.add(env("TRANCHE_SCHEDULER_ADDRESS", request.schedulerAddress()));
        schedulerTrust.environment().forEach((name, value) -> env.add(env(name, value)));
        env.add(new EnvVarBuilder().withName("TRANCHE_CREDENTIAL")
                .withNewValueFrom().withNewSecretKeyRef().withName(credentialSecretName(run)).withKey(CREDENTIAL_KEY).withOptional(false).endSecretKeyRef().endValueFrom()
                .build());
        env.add(env("TRANCHE_CHECKPOINT_DIR", checkpointRoot + "/" + id));
        // the devices the device plugin gave the GPUs' reservations; whole GPUs and fractions alike, so Tranche asks the
        // device plugin for each GPU once, and what it hands anyone else is never one of these
        env.add(env("NVIDIA_VISIBLE_DEVICES", deviceIds.isEmpty() ? "void" : String.join(",", deviceIds)));
        Map<String, Quantity> requests = new HashMap<>();
        requests.put("cpu", new Quantity(replica.cpuMilli() + "m"));
        requests.put("memory", new Quantity(replica.memoryMib() + "Mi"));
        Map<String, Quantity> limits = new HashMap<>(Map.of("memory", new Quantity(replica.memoryMib() + "Mi")));
        List<Volume> volumes = new ArrayList<>(List.of(new VolumeBuilder().withName("spec").withNewConfigMap().withName(groupName(run)).endConfigMap().build()));
        List<VolumeMount> mounts = new ArrayList<>(List.of(new VolumeMountBuilder().withName("spec").withMountPath("/etc/tranche").withReadOnly(true).build()));
        schedulerCaConfigMap.ifPresent(name -> {
            volumes.add(new VolumeBuilder().withName("scheduler-ca").withNewConfigMap().withName(name).endConfigMap().build());
            mounts.add(new VolumeMountBuilder().withName("scheduler-ca").withMountPath(SCHEDULER_CA_DIRECTORY).withReadOnly(true).build());
        });
        return new PodBuilder()
                .withNewMetadata()
                .withName(podName(run, replica.rank()))
                .withLabels(labels(request, replica.rank()))
                .withAnnotations(names.isEmpty() ? Map.of() : Map.of(
                        GpuReservations.RESERVATIONS_ANNOTATION, String.join(",", names),
                        GpuReservations.DEVICES_ANNOTATION, String.join(",", deviceIds)))
                .withOwnerReferences(ownedBy)
                .endMetadata()
                .withNewSpec()
                .withNodeName(replica.node())
                .withHostname(podName(run, replica.rank()))
                .withSubdomain(groupName(run))
                .withRestartPolicy("Never")
                .withTerminationGracePeriodSeconds(grace.toSeconds())
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

    /**
     * Stops the attempt's gang: SIGTERM, {@code grace} to checkpoint, then the kubelet kills what is
     * left. Only this attempt's pods, ConfigMap, Service and Secret: another attempt's are not touched.
     */
    @Override
    public void stop(RunAttempt run, Duration grace)
    {
        for (Pod pod : pods(run)) {
            if (pod.getMetadata().getDeletionTimestamp() == null) {
                client.pods().inNamespace(namespace).withName(pod.getMetadata().getName()).withGracePeriod(grace.toSeconds()).delete();
            }
        }
        client.configMaps().inNamespace(namespace).withName(groupName(run)).delete();
        // the garbage collector would remove these with the ConfigMap; deleting them here does not wait for that
        client.services().inNamespace(namespace).withName(groupName(run)).delete();
        client.secrets().inNamespace(namespace).withName(credentialSecretName(run)).delete();
    }

    /** The attempt's worker pods, those being deleted included. */
    private List<Pod> pods(RunAttempt run)
    {
        // selected by the API server, so that a status read does not fetch every earlier attempt's pods;
        // attempt 0 (before attempts were counted) is the pods without the label. The check here only
        // drops a label that is not a number, which the selector cannot tell.
        var pods = client.pods().inNamespace(namespace).withLabels(selector(run));
        return (run.attempt() == 0 ? pods.withoutLabel(ATTEMPT_LABEL) : pods).list().getItems().stream()
                .filter(pod -> attempt(pod.getMetadata()) == run.attempt())
                .toList();
    }

    /** The attempt an object of a gang belongs to: its label, or 0 for one made before attempts were counted. */
    private static int attempt(io.fabric8.kubernetes.api.model.ObjectMeta metadata)
    {
        String attempt = metadata.getLabels() == null ? null : metadata.getLabels().get(ATTEMPT_LABEL);
        try {
            return attempt == null ? 0 : Integer.parseInt(attempt);
        }
        catch (NumberFormatException e) {
            return 0;
        }
    }

    /**
     * The gang's state from its pods' phases and exit codes; LOST when a GPU reservation its workers
     * stand on (or, before they start, wait for) was deleted, evicted or ended; WORKER_LOST when a
     * worker pod is missing (deleted, being deleted) or was evicted while the gang has others.
     */
    @Override
    public GangStatus status(RunAttempt run)
    {
        String experimentId = run.experimentId();
        // pods being deleted belong to a stopped run: for the experiment's state they are gone already
        List<Pod> pods = pods(run).stream()
                .filter(pod -> pod.getMetadata().getDeletionTimestamp() == null)
                .toList();
        if (pods.isEmpty()) {
            return unpublishedReservationEnded(run)
                    .map(reason -> new GangStatus(experimentId, GangStatus.Phase.LOST, reason))
                    .orElseGet(() -> gangStatus(run, pods));
        }
        GangStatus status = gangStatus(run, pods);
        if (!RESERVATIONS_ASKED.contains(status.phase())) {
            return status;
        }
        return lostReservation(pods).map(reason -> new GangStatus(experimentId, GangStatus.Phase.LOST, reason)).orElse(status);
    }

    // gangs with workers that hold (or wait for) their device reservations: only these can have lost one
    private static final Set<GangStatus.Phase> RESERVATIONS_ASKED = EnumSet.of(GangStatus.Phase.STARTING, GangStatus.Phase.UNREACHABLE, GangStatus.Phase.RUNNING,
            GangStatus.Phase.WORKER_LOST);

    /** A launch waiting for its reservations, one of which ended before publishing (the device plugin had no device for it, say). */
    private Optional<String> unpublishedReservationEnded(RunAttempt run)
    {
        ConfigMap gang = client.configMaps().inNamespace(namespace).withName(groupName(run)).get();
        if (gang == null || gang.getMetadata().getAnnotations() == null || !gang.getMetadata().getAnnotations().containsKey(GpuReservations.RESERVATIONS_ANNOTATION)) {
            return Optional.empty();
        }
        for (String name : gang.getMetadata().getAnnotations().get(GpuReservations.RESERVATIONS_ANNOTATION).split(",")) {
            Pod reservation = reservations.get(name);
            // only one this launch created or joined: an ended one left from before is replaced by the launch
            if (reservation != null && reservation.getMetadata().getDeletionTimestamp() == null && GpuReservations.ended(reservation)
                    && GpuReservations.ownedBy(reservation, gang.getMetadata().getUid())) {
                return Optional.of("GPU reservation " + name + " on node " + reservation.getSpec().getNodeName() + " ended before the device plugin's device could be used ("
                        + GpuReservations.why(reservation) + ")");
            }
        }
        return Optional.empty();
    }

    /** Why the device under one of these running workers is no longer reserved for them, if it is not. */
    private Optional<String> lostReservation(List<Pod> pods)
    {
        Map<String, Optional<Pod>> seen = new HashMap<>();
        for (Pod pod : pods) {
            Map<String, String> annotations = pod.getMetadata().getAnnotations() == null ? Map.of() : pod.getMetadata().getAnnotations();
            if (!annotations.containsKey(GpuReservations.RESERVATIONS_ANNOTATION)) {
                continue;
            }
            String[] names = annotations.get(GpuReservations.RESERVATIONS_ANNOTATION).split(",");
            String[] devices = annotations.getOrDefault(GpuReservations.DEVICES_ANNOTATION, "").split(",");
            for (int i = 0; i < names.length; i++) {
                String name = names[i];
                String device = i < devices.length ? devices[i] : "";
                String holds = "GPU reservation " + name + " (device " + device + " on node " + pod.getSpec().getNodeName() + ")";
                Optional<Pod> reservation = seen.computeIfAbsent(name, ignored -> Optional.ofNullable(reservations.get(name)));
                if (reservation.isEmpty()) {
                    return Optional.of(holds + " was deleted");
                }
                if (reservation.get().getMetadata().getDeletionTimestamp() != null) {
                    return Optional.of(holds + " is being deleted");
                }
                if (GpuReservations.ended(reservation.get())) {
                    return Optional.of(holds + " was evicted or ended: " + GpuReservations.why(reservation.get()));
                }
                Optional<String> now = GpuReservations.device(reservation.get());
                if (now.isPresent() && !now.get().equals(device)) {
                    return Optional.of(holds + " now holds device " + now.get() + " instead");
                }
            }
        }
        return Optional.empty();
    }

    /**
     * Deletes reservations of GPUs that no placed gang holds and no running worker uses (the garbage
     * collector would too, once their owners are gone; this does not wait for it), and reports the
     * device of every live reservation.
     */
    @Override
    public Map<String, Map<Integer, String>> syncDevices(Map<String, Set<Integer>> held)
    {
        Set<String> used = new HashSet<>();
        for (Pod pod : client.pods().inNamespace(namespace).withLabel(EXPERIMENT_LABEL).list().getItems()) {
            Map<String, String> annotations = pod.getMetadata().getAnnotations();
            if (annotations != null && annotations.containsKey(GpuReservations.RESERVATIONS_ANNOTATION) && !GpuReservations.ended(pod)) {
                used.addAll(List.of(annotations.get(GpuReservations.RESERVATIONS_ANNOTATION).split(",")));
            }
        }
        Map<String, Map<Integer, String>> devices = new TreeMap<>();
        for (Pod reservation : reservations.list()) {
            String name = reservation.getMetadata().getName();
            String node = reservation.getSpec().getNodeName() == null ? "" : reservation.getSpec().getNodeName();
            int index = GpuReservations.index(reservation);
            boolean deleting = reservation.getMetadata().getDeletionTimestamp() != null;
            if (!held.getOrDefault(node, Set.of()).contains(index) && !used.contains(name)) {
                if (!deleting) {
                    reservations.delete(name);
                }
                continue;
            }
            if (!deleting && !GpuReservations.ended(reservation)) {
                GpuReservations.device(reservation).ifPresent(device -> devices.computeIfAbsent(node, ignored -> new TreeMap<>()).put(index, device));
            }
        }
        return devices;
    }

    /**
     * RUNNING only once every worker of the gang runs (or has finished): the gang's size is what its
     * pods were told (TRANCHE_WORLD_SIZE), so a gang with a worker pod missing (deleted, or a launch
     * cut short) is WORKER_LOST, not RUNNING on the ones that exist; so is one with a pod the node
     * took away (evicted, preempted by the kubelet, node shutdown), which is not the worker's failure,
     * and one whose rank > 0 pod succeeded while rank 0 still runs (it lost its master).
     * A pod that failed by itself makes the gang FAILED. A pod in phase Unknown (its node stopped
     * reporting) is not up: the gang is UNREACHABLE, and the controller decides how long it may stay so.
     */
    static GangStatus gangStatus(RunAttempt run, List<Pod> pods)
    {
        String experimentId = run.experimentId();
        if (pods.isEmpty()) {
            return new GangStatus(experimentId, GangStatus.Phase.GONE, "no worker pods exist");
        }
        int workers = pods.size();
        for (Pod pod : pods) {
            workers = Math.max(workers, worldSize(pod));
        }
        int running = 0;
        int succeeded = 0;
        boolean rankZeroRunning = false;
        Optional<Pod> endedRankAboveZero = Optional.empty();
        Optional<String> unknown = Optional.empty();
        Optional<GangStatus> lost = Optional.empty();
        Set<Integer> ranks = new HashSet<>();
        for (Pod pod : pods) {
            rank(pod).ifPresent(ranks::add);
            String phase = pod.getStatus() == null || pod.getStatus().getPhase() == null ? "Pending" : pod.getStatus().getPhase();
            switch (phase) {
                case "Failed" -> {
                    Optional<String> disrupted = disrupted(pod);
                    if (disrupted.isEmpty()) {
                        return new GangStatus(experimentId, GangStatus.Phase.FAILED, "worker " + pod.getMetadata().getName() + " failed: " + exit(pod));
                    }
                    if (lost.isEmpty()) {
                        lost = Optional.of(GangStatus.workerLost(experimentId, rank(pod).orElse(-1), workers, "pod " + pod.getMetadata().getName(), disrupted.get()));
                    }
                }
                case "Running" -> {
                    running++;
                    rankZeroRunning |= rank(pod).orElse(-1) == 0;
                }
                case "Succeeded" -> {
                    succeeded++;
                    if (rank(pod).orElse(0) > 0 && endedRankAboveZero.isEmpty()) {
                        endedRankAboveZero = Optional.of(pod);
                    }
                }
                case "Unknown" -> unknown = unknown.or(() -> Optional.of(pod.getMetadata().getName()));
                default -> { }
            }
        }
        if (lost.isPresent()) {
            return lost.get();
        }
        // (a pod without a rank label says nothing of which rank is missing: then only the count tells, below)
        for (int rank = 0; ranks.size() == pods.size() && rank < workers; rank++) {
            if (!ranks.contains(rank)) {
                return GangStatus.workerLost(experimentId, rank, workers, "pod " + podName(run, rank), "its pod is gone");
            }
        }
        if (succeeded == workers) {
            return GangStatus.succeeded(experimentId, workers);
        }
        if (rankZeroRunning && endedRankAboveZero.isPresent()) {
            return GangStatus.endedBeforeRankZero(experimentId, rank(endedRankAboveZero.get()).orElseThrow(), workers,
                    "pod " + endedRankAboveZero.get().getMetadata().getName());
        }
        if (running + succeeded == workers) {
            return GangStatus.running(experimentId, running, workers);
        }
        String started = (running + succeeded) + " of " + workers + " workers started";
        return unknown.map(pod -> new GangStatus(experimentId, GangStatus.Phase.UNREACHABLE,
                        started + "; the state of pod " + pod + " is unknown: its node does not report it"))
                .orElseGet(() -> new GangStatus(experimentId, GangStatus.Phase.STARTING, started));
    }

    // the reasons a kubelet gives a pod it ended for its node's sake, not the worker's: node pressure, a critical pod, node shutdown
    private static final Set<String> DISRUPTION_REASONS = Set.of("Evicted", "Preempting", "Shutdown", "NodeShutdown", "Terminated");

    /** How the pod was taken away from outside (evicted, say), if it was: "evicted: The node was low on resource: memory.". */
    private static Optional<String> disrupted(Pod pod)
    {
        String reason = pod.getStatus().getReason();
        String message = pod.getStatus().getMessage();
        if (reason != null && DISRUPTION_REASONS.contains(reason)) {
            String what = reason.equals("Evicted") ? "evicted" : reason.equals("Preempting") ? "preempted by its node" : "its node shut down";
            return Optional.of(message == null || message.isBlank() ? what : what + ": " + message.strip());
        }
        if (pod.getStatus().getConditions() != null) {
            for (io.fabric8.kubernetes.api.model.PodCondition condition : pod.getStatus().getConditions()) {
                // set by Kubernetes (1.26 and later) on a pod it ends for a disruption: eviction, preemption, a node's taint or shutdown
                if ("DisruptionTarget".equals(condition.getType()) && "True".equals(condition.getStatus())) {
                    return Optional.of("disrupted" + (condition.getMessage() == null || condition.getMessage().isBlank() ? "" : ": " + condition.getMessage().strip()));
                }
            }
        }
        return Optional.empty();
    }

    /** The worker's rank, from its label. */
    private static Optional<Integer> rank(Pod pod)
    {
        String rank = pod.getMetadata().getLabels() == null ? null : pod.getMetadata().getLabels().get(RANK_LABEL);
        try {
            return rank == null ? Optional.empty() : Optional.of(Integer.parseInt(rank));
        }
        catch (NumberFormatException e) {
            return Optional.empty();
        }
    }

    /** The size of the gang a worker pod was started in (its TRANCHE_WORLD_SIZE), 0 if it does not say. */
    private static int worldSize(Pod pod)
    {
        if (pod.getSpec() == null || pod.getSpec().getContainers() == null) {
            return 0;
        }
        for (io.fabric8.kubernetes.api.model.Container container : pod.getSpec().getContainers()) {
            for (EnvVar variable : container.getEnv() == null ? List.<EnvVar>of() : container.getEnv()) {
                if ("TRANCHE_WORLD_SIZE".equals(variable.getName()) && variable.getValue() != null) {
                    try {
                        return Integer.parseInt(variable.getValue().strip());
                    }
                    catch (NumberFormatException e) {
                        return 0;
                    }
                }
            }
        }
        return 0;
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

    /**
     * Every attempt with worker pods, by the nodes they are on, and every attempt whose gang exists
     * without pods (its ConfigMap: a launch that waits for its devices, say), with no nodes, so that
     * an attempt that never got its pods is cleaned up by a stop as well.
     */
    @Override
    public Map<RunAttempt, Set<String>> workers()
    {
        Map<RunAttempt, Set<String>> workers = new TreeMap<>();
        for (ConfigMap gang : client.configMaps().inNamespace(namespace).withLabel(EXPERIMENT_LABEL).list().getItems()) {
            workers.computeIfAbsent(new RunAttempt(gang.getMetadata().getLabels().get(EXPERIMENT_LABEL), attempt(gang.getMetadata())), run -> new TreeSet<>());
        }
        for (Pod pod : client.pods().inNamespace(namespace).withLabel(EXPERIMENT_LABEL).list().getItems()) {
            workers.computeIfAbsent(new RunAttempt(pod.getMetadata().getLabels().get(EXPERIMENT_LABEL), attempt(pod.getMetadata())), run -> new TreeSet<>())
                    .add(pod.getSpec().getNodeName() == null ? "" : pod.getSpec().getNodeName());
        }
        return workers;
    }

    /** The log of rank {@code rank} of the experiment's newest attempt that has a pod of that rank. */
    @Override
    public List<String> tail(String experimentId, int rank, int lines)
    {
        Optional<Pod> newest = client.pods().inNamespace(namespace).withLabel(EXPERIMENT_LABEL, experimentId).withLabel(RANK_LABEL, Integer.toString(rank))
                .list().getItems().stream()
                .max(java.util.Comparator.comparingInt(candidate -> attempt(candidate.getMetadata())));
        if (newest.isEmpty()) {
            return List.of();
        }
        PodResource worker = client.pods().inNamespace(namespace).withName(newest.get().getMetadata().getName());
        Pod pod = newest.get();
        // no container has run yet (image pull, creation): it has printed nothing, and asking would
        // cost more than the answer, as fabric8 first watches a pod that is not ready
        if (pod == null || !anyContainerStarted(pod)) {
            return List.of();
        }
        String log;
        try {
            log = worker.tailingLines(lines).getLog();
        }
        catch (KubernetesClientException e) {
            // 400: the container is not running after all (it restarts: the status read above is
            // older than the API server's answer); 404: the pod went away since the lookup. Neither
            // is an error for a reader, and `tranche logs -f` keeps polling through them
            if (e.getCode() == 400 || e.getCode() == 404) {
                return List.of();
            }
            throw e;
        }
        return log == null ? List.of() : log.lines().toList();
    }

    private static boolean anyContainerStarted(Pod pod)
    {
        if (pod.getStatus() == null || pod.getStatus().getContainerStatuses() == null) {
            return false;
        }
        for (ContainerStatus status : pod.getStatus().getContainerStatuses()) {
            boolean runningOrEnded = status.getState() != null && (status.getState().getRunning() != null || status.getState().getTerminated() != null);
            boolean ranBefore = status.getLastState() != null && status.getLastState().getTerminated() != null;
            if (runningOrEnded || ranBefore) {
                return true;
            }
        }
        return false;
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

    /** "exp-7k2m9q4xz1-a2-0": rank 0 of attempt 2 ("exp-7k2m9q4xz1-0" for attempt 0). */
    static String podName(RunAttempt run, int rank)
    {
        return run.experimentId() + attemptSuffix(run) + "-" + rank;
    }

    /** The name of the attempt's ConfigMap and Service: "tranche-exp-7k2m9q4xz1-a2" ("tranche-exp-7k2m9q4xz1" for attempt 0). */
    static String groupName(RunAttempt run)
    {
        return "tranche-" + run.experimentId() + attemptSuffix(run);
    }

    /** "-a2" in the names of attempt 2's objects; nothing for attempt 0, named as before attempts were counted. */
    private static String attemptSuffix(RunAttempt run)
    {
        return run.attempt() == 0 ? "" : "-a" + run.attempt();
    }

    static String credentialSecretName(RunAttempt run)
    {
        return groupName(run) + "-credential";
    }

    /** What the attempt's Service selects: its own pods, not those of the experiment's other attempts. */
    private static Map<String, String> selector(RunAttempt run)
    {
        return run.attempt() == 0 ? Map.of(EXPERIMENT_LABEL, run.experimentId()) : Map.of(EXPERIMENT_LABEL, run.experimentId(), ATTEMPT_LABEL, Integer.toString(run.attempt()));
    }

    private static Map<String, String> labels(LaunchRequest request, int rank)
    {
        Map<String, String> labels = new HashMap<>();
        labels.put("app.kubernetes.io/name", "tranche-worker");
        labels.put("app.kubernetes.io/managed-by", "tranche");
        labels.put(EXPERIMENT_LABEL, request.experimentId());
        labels.put(PROJECT_LABEL, request.project());
        if (request.attempt() > 0) {
            labels.put(ATTEMPT_LABEL, Integer.toString(request.attempt()));
        }
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
