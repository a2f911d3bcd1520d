package dev.tranche.scheduler.execution;

import dev.tranche.client.TrancheClient;
import dev.tranche.proto.v1.Experiment;
import dev.tranche.proto.v1.ExperimentSpec;
import dev.tranche.proto.v1.ExperimentState;
import dev.tranche.proto.v1.Gpu;
import dev.tranche.proto.v1.GpuShare;
import dev.tranche.proto.v1.Node;
import dev.tranche.scheduler.backend.kubernetes.KubernetesInventory;
import dev.tranche.scheduler.backend.kubernetes.KubernetesLauncher;
import dev.tranche.scheduler.backend.kubernetes.SimulatedDevicePlugin;
import dev.tranche.scheduler.experiment.ExperimentEventBus;
import dev.tranche.scheduler.inventory.DeclaredInventory;
import dev.tranche.scheduler.metrics.WorkerCredentials;
import dev.tranche.scheduler.store.ClusterRepository;
import dev.tranche.scheduler.store.ExperimentRepository;
import dev.tranche.scheduler.testing.Specs;
import dev.tranche.scheduler.testing.TestingScheduler;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * GPU sharing on a Kubernetes node through a real scheduler (gRPC, scheduling loop, PostgreSQL) and
 * the Kubernetes backend on fabric8's CRUD mock. The test plays NVIDIA's device plugin: it gives the
 * reservation pods device UUIDs of its own choosing, unrelated to Tranche's GPU indices.
 */
@EnableKubernetesMockClient(crud = true)
final class KubernetesGpuSharingTest
{
    private static final String NAMESPACE = "tranche";

    KubernetesClient kubernetes;

    @org.junit.jupiter.api.io.TempDir
    java.nio.file.Path files;

    private TestingScheduler scheduler;
    private TrancheClient client;
    private ExecutionController controller;
    private SimulatedDevicePlugin devicePlugin;

    private void start(Optional<DeclaredInventory> inventory)
    {
        scheduler = new TestingScheduler(inventory);
        client = scheduler.client();
        devicePlugin = new SimulatedDevicePlugin(kubernetes, NAMESPACE);
        controller = new ExecutionController(
                new KubernetesLauncher(kubernetes, NAMESPACE, "tranche/worker:test", "/checkpoints"),
                new ClusterRepository(scheduler.dataSource()),
                new ExperimentRepository(scheduler.dataSource()),
                new ExperimentEventBus(),
                new WorkerCredentials(new byte[32]),
                "tranche-scheduler:50051",
                Duration.ofSeconds(30),
                node -> true,
                new dev.tranche.scheduler.store.GangPortRepository(scheduler.dataSource()));
    }

    @AfterEach
    void stop()
    {
        if (scheduler != null) {
            scheduler.close();
        }
        kubernetes.pods().inAnyNamespace().list().getItems().forEach(pod -> kubernetes.pods().resource(pod).delete());
        kubernetes.nodes().list().getItems().forEach(node -> kubernetes.nodes().resource(node).delete());
    }

    @Test
    void fractionsAndWholeGpusRunOnlyOnTheDevicesTheirReservationsWereGiven()
    {
        start(Optional.of(DeclaredInventory.of(1, 3, 24 * 1024)));
        // three GPUs: the two halves must share one for the two whole GPUs to fit
        String half1 = placed(Specs.named("half-1", "default"));
        String half2 = placed(Specs.named("half-2", "default"));
        String whole = placed(whole(Specs.named("whole", "default"), 2));
        Map<String, Set<Integer>> gpusOf = gpusByExperiment();
        assertThat(gpusOf.get(half1)).hasSize(1).isEqualTo(gpusOf.get(half2));
        assertThat(gpusOf.get(whole)).hasSize(2).doesNotContainAnyElementsOf(gpusOf.get(half1));

        controller.reconcile();
        // one reservation per GPU, each asking the device plugin for one device; no worker starts before its device is known
        List<Pod> reservations = reservations();
        assertThat(reservations).extracting(pod -> pod.getMetadata().getName())
                .containsExactlyInAnyOrderElementsOf(List.of(0, 1, 2).stream().map(index -> "tranche-gpu-local-1-" + index).toList());
        assertThat(reservations).allSatisfy(reservation -> {
            assertThat(reservation.getSpec().getNodeName()).isEqualTo("local-1");
            assertThat(reservation.getSpec().getContainers().get(0).getResources().getLimits()).containsEntry("nvidia.com/gpu", new Quantity("1"));
            assertThat(reservation.getSpec().getContainers().get(0).getArgs()).containsExactly("gpu-reservation");
            assertThat(reservation.getSpec().getPriorityClassName()).isEqualTo("tranche-gpu-reservation");
            assertThat(reservation.getSpec().getServiceAccountName()).isEqualTo("tranche-gpu-reservation");
            assertThat(reservation.getMetadata().getOwnerReferences()).isNotEmpty().allSatisfy(owner -> assertThat(owner.getController()).isFalse());
        });
        assertThat(workerPods()).isEmpty();
        controller.reconcile();
        assertThat(workerPods()).isEmpty();
        assertThat(client.get(half1).getState()).isEqualTo(ExperimentState.SCHEDULED);

        Map<String, String> granted = devicePlugin.grantAll();
        assertThat(granted).hasSize(3);
        controller.reconcile();

        Map<Integer, String> deviceOf = new HashMap<>();
        granted.forEach((name, device) -> deviceOf.put(Integer.parseInt(name.substring(name.lastIndexOf('-') + 1)), device));
        assertThat(deviceOf.values()).allSatisfy(device -> assertThat(device).startsWith("GPU-"));
        String shared = deviceOf.get(gpusOf.get(half1).iterator().next());
        // every fraction's NVIDIA_VISIBLE_DEVICES is its reservation's device; the two halves share one reservation
        assertThat(env(pod(half1))).containsEntry("NVIDIA_VISIBLE_DEVICES", shared).containsEntry("TRANCHE_GPU_IDS", "0");
        assertThat(env(pod(half2))).containsEntry("NVIDIA_VISIBLE_DEVICES", shared);
        Pod sharedReservation = kubernetes.pods().inNamespace(NAMESPACE).withName("tranche-gpu-local-1-" + gpusOf.get(half1).iterator().next()).get();
        assertThat(sharedReservation.getMetadata().getOwnerReferences()).extracting(OwnerReference::getUid)
                .contains(pod(half1).getMetadata().getUid(), pod(half2).getMetadata().getUid());
        // the whole-GPU replica is pinned to its two reservations' devices, which no fraction names
        Set<String> wholeDevices = Set.of(env(pod(whole)).get("NVIDIA_VISIBLE_DEVICES").split(","));
        assertThat(wholeDevices).containsExactlyInAnyOrderElementsOf(gpusOf.get(whole).stream().map(deviceOf::get).toList())
                .doesNotContain(shared);
        assertThat(env(pod(whole))).containsEntry("TRANCHE_GPU_IDS", "0,1");
        // devices the test chose, never Tranche's indices; no worker asks the device plugin for anything itself
        for (Pod worker : workerPods()) {
            // each listed device is one the plugin gave (a UUID may well end in "0", so look at whole entries)
            assertThat(env(worker).get("NVIDIA_VISIBLE_DEVICES").split(",")).allSatisfy(device -> assertThat(device).startsWith("GPU-").isIn(granted.values()));
            assertThat(worker.getSpec().getContainers().get(0).getResources().getLimits()).doesNotContainKey("nvidia.com/gpu");
        }

        // `tranche nodes` and the GPU map show the real devices
        Map<Integer, String> listed = new HashMap<>();
        for (Gpu gpu : node("local-1").getGpusList()) {
            listed.put(gpu.getIndex(), gpu.getDeviceId());
        }
        assertThat(listed).isEqualTo(deviceOf);
        String table = tranche("nodes");
        assertThat(table.lines().findFirst().orElseThrow()).containsPattern("NODE\\s+GPU\\s+DEVICE\\s+MODEL");
        deviceOf.forEach((index, device) -> assertThat(table).containsPattern("local-1\\s+" + index + "\\s+" + device + "\\s"));
    }

    /** `tranche nodes` as a person runs it, against this scheduler. */
    private String tranche(String command)
    {
        java.nio.file.Path token;
        try {
            token = files.resolve("admin.token");
            java.nio.file.Files.writeString(token, TestingScheduler.ADMIN_TOKEN);
        }
        catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        java.io.StringWriter out = new java.io.StringWriter();
        picocli.CommandLine commandLine = dev.tranche.cli.Tranche.commandLine();
        commandLine.setOut(new java.io.PrintWriter(out, true));
        int code = commandLine.execute(command, "--server", scheduler.target(), "--token-file", token.toString());
        assertThat(code).isZero();
        return out.toString();
    }

    @Test
    void aLostReservationStopsAndRequeuesItsFractionsWithTheReason()
    {
        start(Optional.of(DeclaredInventory.of(1, 3, 24 * 1024)));
        String half1 = placed(Specs.named("half-1", "default"));
        String half2 = placed(Specs.named("half-2", "default"));
        String whole = placed(whole(Specs.named("whole", "default"), 2));
        running();
        int sharedIndex = gpusByExperiment().get(half1).iterator().next();
        String sharedReservation = "tranche-gpu-local-1-" + sharedIndex;
        String device = env(pod(half1)).get("NVIDIA_VISIBLE_DEVICES");

        // the kubelet evicts the reservation of the GPU the two halves share
        devicePlugin.evict(sharedReservation);
        controller.reconcile();
        String reason = "GPU reservation " + sharedReservation + " (device " + device + " on node local-1) was evicted or ended: Evicted: "
                + "The node was low on resource: memory.; back in the queue, it resumes from its last checkpoint";
        for (String id : List.of(half1, half2)) {
            assertThat(lastPendingReason(client.get(id))).isEqualTo(reason);
            assertThat(client.get(id).getHistoryList()).extracting(step -> step.getTo()).containsSubsequence(ExperimentState.RUNNING, ExperimentState.PENDING);
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> pods(half1).isEmpty() && pods(half2).isEmpty());
        // the whole-GPU experiment stands on other reservations: untouched
        assertThat(client.get(whole).getState()).isEqualTo(ExperimentState.RUNNING);
        assertThat(pods(whole)).hasSize(1);

        // a reservation deleted outright (by hand, say) is lost as well
        String wholeReservation = "tranche-gpu-local-1-" + gpusByExperiment().get(whole).iterator().next();
        kubernetes.pods().inNamespace(NAMESPACE).withName(wholeReservation).delete();
        await().atMost(Duration.ofSeconds(10)).until(() -> kubernetes.pods().inNamespace(NAMESPACE).withName(wholeReservation).get() == null);
        controller.reconcile();
        assertThat(lastPendingReason(client.get(whole))).startsWith("GPU reservation " + wholeReservation + " (device GPU-").endsWith(
                " on node local-1) was deleted; back in the queue, it resumes from its last checkpoint");
        // no attempt is counted against them: they were not at fault
        assertThat(scheduler.count("SELECT coalesce(sum(failed_attempts), 0) FROM experiments")).isZero();

        // requeued, they are placed again and relaunched on fresh reservations: the ended one is replaced, not reused
        await().atMost(Duration.ofSeconds(20)).until(() -> Set.of(half1, half2, whole).stream().allMatch(id -> client.get(id).getState() == ExperimentState.SCHEDULED));
        await().atMost(Duration.ofSeconds(10)).until(() -> workerPods().isEmpty());
        for (int pass = 0; pass < 4 && workerPods().size() < 3; pass++) {
            controller.reconcile();
            devicePlugin.grantAll();
        }
        controller.reconcile();
        assertThat(workerPods()).hasSize(3);
        assertThat(reservations()).hasSize(3).allSatisfy(reservation -> assertThat(reservation.getStatus().getPhase()).isEqualTo("Running"));
    }

    @Test
    void anOrphanReservationIsDeletedWithinOneReconcile()
    {
        start(Optional.of(DeclaredInventory.of(1, 3, 24 * 1024)));
        String alone = placed(Specs.named("alone", "default").toBuilder()
                .setResources(Specs.example().getResources().toBuilder().setGpu(dev.tranche.proto.v1.GpuRequest.newBuilder().setFraction(1))).build());
        String stays = placed(Specs.named("stays", "default"));
        running();
        String aloneReservation = "tranche-gpu-local-1-" + gpusByExperiment().get(alone).iterator().next();
        String staysReservation = "tranche-gpu-local-1-" + gpusByExperiment().get(stays).iterator().next();
        // left behind by a scheduler that crashed between creating it and placing anything there
        kubernetes.pods().inNamespace(NAMESPACE).resource(new PodBuilder().withNewMetadata().withName("tranche-gpu-local-1-9")
                .addToLabels("app.kubernetes.io/name", "tranche-gpu-reservation").addToLabels("tranche.dev/gpu-index", "9").endMetadata()
                .withNewSpec().withNodeName("local-1").addNewContainer().withName("reservation").withImage("tranche/worker:test").endContainer().endSpec()
                .build()).create();

        client.cancel(alone, "");
        controller.reconcile();
        await().atMost(Duration.ofSeconds(10)).until(() -> pods(alone).isEmpty());
        // no fraction is left on its GPU: one pass deletes it, and the stray one; the other GPU's reservation stays
        controller.reconcile();
        await().atMost(Duration.ofSeconds(10)).until(() -> kubernetes.pods().inNamespace(NAMESPACE).withName(aloneReservation).get() == null);
        assertThat(kubernetes.pods().inNamespace(NAMESPACE).withName("tranche-gpu-local-1-9").get()).isNull();
        assertThat(reservations()).extracting(pod -> pod.getMetadata().getName()).containsExactly(staysReservation);
        assertThat(node("local-1").getGpusList()).filteredOn(gpu -> !gpu.getDeviceId().isEmpty()).singleElement()
                .satisfies(gpu -> assertThat(gpu.getHoldersList()).extracting(GpuShare::getExperimentId).containsExactly(stays));
        assertThat(client.get(stays).getState()).isEqualTo(ExperimentState.RUNNING);
    }

    @Test
    void gpusThatPodsOutsideTrancheHoldAreNotOffered()
    {
        start(Optional.empty());
        kubernetes.nodes().resource(gpuNode("gpu-k", 4)).create();
        ClusterRepository cluster = new ClusterRepository(scheduler.dataSource());
        try (KubernetesInventory inventory = new KubernetesInventory(kubernetes, NAMESPACE)) {
            inventory.watch(cluster::registerNodes);
            await().atMost(Duration.ofSeconds(10)).until(() -> node("gpu-k").getGpusCount() == 4);

            // another team's job takes three of the node's GPUs through the device plugin
            kubernetes.pods().inNamespace("other-team").resource(gpuPod("their-training", "gpu-k", 3)).create();
            await().atMost(Duration.ofSeconds(10)).until(() -> node("gpu-k").getGpusCount() == 1);

            String two = client.submit(whole(Specs.named("needs-two", "default"), 2)).getExperiment().getId();
            await().during(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(10)).until(() -> client.get(two).getState() == ExperimentState.PENDING);

            // their job ends: the GPUs are Tranche's to give again
            kubernetes.pods().inNamespace("other-team").withName("their-training").delete();
            await().atMost(Duration.ofSeconds(10)).until(() -> node("gpu-k").getGpusCount() == 4);
            await().atMost(Duration.ofSeconds(20)).until(() -> client.get(two).getState() == ExperimentState.SCHEDULED);
        }
    }

    private void running()
    {
        controller.reconcile();
        devicePlugin.grantAll();
        controller.reconcile();
        for (Pod worker : workerPods()) {
            worker.setStatus(new io.fabric8.kubernetes.api.model.PodStatusBuilder().withPhase("Running").build());
            kubernetes.pods().inNamespace(NAMESPACE).resource(worker).updateStatus();
        }
        controller.reconcile();
        assertThat(workerPods()).isNotEmpty().allSatisfy(worker ->
                assertThat(client.get(worker.getMetadata().getLabels().get("tranche.dev/experiment")).getState()).isEqualTo(ExperimentState.RUNNING));
    }

    private static String lastPendingReason(Experiment experiment)
    {
        return experiment.getHistoryList().stream().filter(step -> step.getTo() == ExperimentState.PENDING).reduce((a, b) -> b).orElseThrow().getReason();
    }

    /** Tranche's GPU indices each experiment holds, as `tranche nodes` lists them. */
    private Map<String, Set<Integer>> gpusByExperiment()
    {
        Map<String, Set<Integer>> gpus = new HashMap<>();
        for (Node node : client.listNodes().getNodesList()) {
            for (Gpu gpu : node.getGpusList()) {
                for (GpuShare share : gpu.getHoldersList()) {
                    gpus.computeIfAbsent(share.getExperimentId(), id -> new HashSet<>()).add(gpu.getIndex());
                }
            }
        }
        return gpus;
    }

    private Node node(String name)
    {
        return client.listNodes().getNodesList().stream().filter(node -> node.getName().equals(name)).findFirst()
                .orElse(Node.newBuilder().setName(name).build());
    }

    private String placed(ExperimentSpec spec)
    {
        String id = client.submit(spec).getExperiment().getId();
        await().atMost(Duration.ofSeconds(20)).until(() -> client.get(id).getState() == ExperimentState.SCHEDULED);
        return id;
    }

    private static ExperimentSpec whole(ExperimentSpec spec, int gpus)
    {
        return spec.toBuilder().setResources(spec.getResources().toBuilder().setGpu(dev.tranche.proto.v1.GpuRequest.newBuilder().setCount(gpus))).build();
    }

    private List<Pod> reservations()
    {
        return kubernetes.pods().inNamespace(NAMESPACE).withLabel("app.kubernetes.io/name", "tranche-gpu-reservation").list().getItems();
    }

    private List<Pod> workerPods()
    {
        return kubernetes.pods().inNamespace(NAMESPACE).withLabel("tranche.dev/experiment").list().getItems().stream()
                .filter(pod -> pod.getMetadata().getDeletionTimestamp() == null).toList();
    }

    private List<Pod> pods(String experimentId)
    {
        return kubernetes.pods().inNamespace(NAMESPACE).withLabel("tranche.dev/experiment", experimentId).list().getItems();
    }

    /** Rank 0 of the experiment's newest attempt (null if it has none). */
    private Pod pod(String experimentId)
    {
        return pods(experimentId).stream()
                .filter(pod -> "0".equals(pod.getMetadata().getLabels().get("tranche.dev/rank")) && pod.getMetadata().getDeletionTimestamp() == null)
                .max(java.util.Comparator.comparingInt(pod -> Integer.parseInt(pod.getMetadata().getLabels().getOrDefault("tranche.dev/attempt", "0"))))
                .orElse(null);
    }

    private static Map<String, String> env(Pod pod)
    {
        return pod.getSpec().getContainers().get(0).getEnv().stream().filter(var -> var.getValueFrom() == null)
                .collect(Collectors.toMap(EnvVar::getName, EnvVar::getValue));
    }

    private static Pod gpuPod(String name, String node, int gpus)
    {
        return new PodBuilder().withNewMetadata().withName(name).endMetadata()
                .withNewSpec().withNodeName(node)
                .addNewContainer().withName("train").withImage("their/image")
                .withNewResources().withLimits(Map.of("nvidia.com/gpu", new Quantity(Integer.toString(gpus)))).endResources().endContainer()
                .endSpec()
                .withNewStatus().withPhase("Running").endStatus()
                .build();
    }

    private static io.fabric8.kubernetes.api.model.Node gpuNode(String name, int gpus)
    {
        return new NodeBuilder()
                .withNewMetadata().withName(name).addToLabels("nvidia.com/gpu.product", "NVIDIA-H100-80GB-HBM3").addToLabels("nvidia.com/gpu.memory", "81559").endMetadata()
                .withNewStatus()
                .withAllocatable(Map.of("cpu", new Quantity("64"), "memory", new Quantity("512Gi"), "nvidia.com/gpu", new Quantity(Integer.toString(gpus))))
                .addNewCondition().withType("Ready").withStatus("True").endCondition()
                .endStatus()
                .build();
    }
}
