package dev.tranche.scheduler.backend.kubernetes;

import dev.tranche.scheduler.backend.GangStatus;
import dev.tranche.scheduler.backend.LaunchRequest;
import dev.tranche.scheduler.backend.ReplicaLaunch;
import dev.tranche.scheduler.backend.RunAttempt;
import dev.tranche.scheduler.core.model.Node;
import io.fabric8.kubernetes.api.model.ContainerStateBuilder;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.PodStatusBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.fabric8.mockwebserver.http.RecordedRequest;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** The Kubernetes backend against fabric8's mock API server in CRUD mode, with realistic node objects. */
@EnableKubernetesMockClient(crud = true)
final class KubernetesBackendTest
{
    private static final dev.tranche.scheduler.backend.GangPorts PORTS = new dev.tranche.scheduler.backend.GangPorts(17004, 17005, 17006, 17007);

    private static final String NAMESPACE = "tranche";

    KubernetesClient client;
    KubernetesMockServer server;
    SimulatedDevicePlugin devicePlugin;

    @BeforeEach
    void nodes()
    {
        devicePlugin = new SimulatedDevicePlugin(client, NAMESPACE);
        client.nodes().list().getItems().forEach(node -> client.nodes().resource(node).delete());
        client.pods().inAnyNamespace().list().getItems().forEach(pod -> client.pods().resource(pod).delete());
        client.secrets().inAnyNamespace().list().getItems().forEach(secret -> client.secrets().resource(secret).delete());
        client.nodes().resource(gpuNode("gpu-a", 8, "NVIDIA-H100-80GB-HBM3", "81559", true, false)).create();
        client.nodes().resource(gpuNode("gpu-b", 4, "NVIDIA-A100-SXM4-40GB", "40960", true, false)).create();
        client.nodes().resource(gpuNode("cordoned", 8, "NVIDIA-H100-80GB-HBM3", "81559", true, true)).create();
        client.nodes().resource(gpuNode("not-ready", 8, "NVIDIA-H100-80GB-HBM3", "81559", false, false)).create();
        client.nodes().resource(new NodeBuilder().withNewMetadata().withName("cpu-only").endMetadata()
                .withNewStatus().withAllocatable(Map.of("cpu", new Quantity("16"), "memory", new Quantity("64Gi")))
                .addNewCondition().withType("Ready").withStatus("True").endCondition().endStatus().build()).create();
    }

    @Test
    void discoversGpuCapacityModelsAndMemoryFromNodeObjects()
    {
        Map<String, Node> nodes = new KubernetesInventory(client, NAMESPACE).discover().stream().collect(Collectors.toMap(Node::name, node -> node));
        Node h100 = nodes.get("gpu-a");
        assertThat(h100.gpus()).hasSize(8).allSatisfy(gpu -> {
            assertThat(gpu.model()).isEqualTo("NVIDIA-H100-80GB-HBM3");
            assertThat(gpu.memoryMib()).isEqualTo(81559);
        });
        assertThat(h100.cpuMilli()).isEqualTo(63_500);
        assertThat(h100.memoryMib()).isEqualTo(500 * 1024);
        assertThat(h100.schedulable()).isTrue();
        assertThat(nodes.get("gpu-b").gpus()).hasSize(4).allSatisfy(gpu -> assertThat(gpu.memoryMib()).isEqualTo(40960));
        assertThat(nodes.get("cordoned").schedulable()).isFalse();
        assertThat(nodes.get("not-ready").schedulable()).isFalse();
        assertThat(nodes.get("cpu-only").gpus()).isEmpty();
        assertThat(nodes.get("cpu-only").schedulable()).isTrue();
    }

    @Test
    void gpusThatPodsOutsideTrancheHoldAreNotOffered()
    {
        client.pods().inNamespace("other-team").resource(gpuPod("two", "gpu-a", "Running", 2, 0)).create();
        // the kubelet counts the larger of the biggest init container and the sum of the containers
        client.pods().inNamespace("other-team").resource(gpuPod("init-three", "gpu-b", "Pending", 1, 3)).create();
        client.pods().inNamespace("other-team").resource(gpuPod("finished", "gpu-a", "Succeeded", 4, 0)).create();
        client.pods().inNamespace("other-team").resource(gpuPod("unbound", null, "Pending", 4, 0)).create();
        // in Tranche's namespace but not Tranche's: counted
        client.pods().inNamespace(NAMESPACE).resource(gpuPod("someone-elses", "gpu-a", "Running", 1, 0)).create();
        // Tranche's own reservation: its GPU is Tranche's
        Pod reservation = gpuPod("tranche-gpu-gpu-a-0", "gpu-a", "Running", 1, 0);
        reservation.getMetadata().setLabels(Map.of("app.kubernetes.io/name", "tranche-gpu-reservation", "app.kubernetes.io/managed-by", "tranche"));
        client.pods().inNamespace(NAMESPACE).resource(reservation).create();

        Map<String, Node> nodes = new KubernetesInventory(client, NAMESPACE).discover().stream().collect(Collectors.toMap(Node::name, node -> node));
        assertThat(nodes.get("gpu-a").gpus()).extracting(dev.tranche.scheduler.core.model.Gpu::index).containsExactly(0, 1, 2, 3, 4);
        assertThat(nodes.get("gpu-b").gpus()).hasSize(1);
        assertThat(nodes.get("cordoned").gpus()).hasSize(8);
    }

    @Test
    void theWatchedInventoryFollowsNewCordonedNotReadyAndDeletedNodes()
    {
        AtomicReference<List<Node>> latest = new AtomicReference<>(List.of());
        try (KubernetesInventory inventory = new KubernetesInventory(client, NAMESPACE)) {
            inventory.watch(latest::set);
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(names(latest.get())).hasSize(5));

            client.nodes().resource(gpuNode("gpu-new", 2, "NVIDIA-L4", "23034", true, false)).create();
            await().atMost(Duration.ofSeconds(10)).until(() -> names(latest.get()).contains("gpu-new"));

            client.nodes().withName("gpu-a").edit(node -> new NodeBuilder(node).editOrNewSpec().withUnschedulable(true).endSpec().build());
            await().atMost(Duration.ofSeconds(10)).until(() -> !node(latest.get(), "gpu-a").schedulable());

            // the kubelet reports NotReady through the status subresource
            io.fabric8.kubernetes.api.model.Node notReady = new NodeBuilder(client.nodes().withName("gpu-b").get())
                    .editStatus().editFirstCondition().withStatus("False").endCondition().endStatus().build();
            client.nodes().resource(notReady).updateStatus();
            await().atMost(Duration.ofSeconds(10)).until(() -> !node(latest.get(), "gpu-b").schedulable());

            client.nodes().withName("gpu-new").delete();
            await().atMost(Duration.ofSeconds(10)).until(() -> !names(latest.get()).contains("gpu-new"));
        }
    }

    @Test
    void launchCreatesOnePodPerReplicaBoundToItsNodeWithTheEnvironmentContract()
    {
        KubernetesLauncher launcher = new KubernetesLauncher(client, NAMESPACE, "tranche/worker:test", "/checkpoints");
        launch(launcher, new LaunchRequest("exp-gang000001", 1, "vision", "{\"name\": \"gang\"}", List.of(
                new ReplicaLaunch(0, "gpu-a", Map.of(3, 500), 2000, 4096, 81559),
                new ReplicaLaunch(1, "gpu-b", Map.of(0, 1000, 1, 1000), 4000, 8192, 40960)),
                "tranche-scheduler.tranche.svc:50051", "tw1.credential", PORTS));

        Pod rank0 = client.pods().inNamespace(NAMESPACE).withName("exp-gang000001-a1-0").get();
        Pod rank1 = client.pods().inNamespace(NAMESPACE).withName("exp-gang000001-a1-1").get();
        assertThat(rank0.getSpec().getNodeName()).isEqualTo("gpu-a");
        assertThat(rank1.getSpec().getNodeName()).isEqualTo("gpu-b");
        assertThat(rank0.getMetadata().getLabels()).containsEntry("tranche.dev/experiment", "exp-gang000001")
                .containsEntry("tranche.dev/project", "vision").containsEntry("tranche.dev/rank", "0");
        assertThat(rank0.getMetadata().getOwnerReferences()).singleElement().satisfies(owner -> {
            assertThat(owner.getKind()).isEqualTo("ConfigMap");
            assertThat(owner.getName()).isEqualTo("tranche-exp-gang000001-a1");
        });
        Map<String, String> env0 = env(rank0);
        assertThat(env0).containsEntry("TRANCHE_EXPERIMENT_ID", "exp-gang000001")
                .containsEntry("TRANCHE_RANK", "0")
                .containsEntry("TRANCHE_WORLD_SIZE", "2")
                .containsEntry("TRANCHE_MASTER_ADDRESS", "exp-gang000001-a1-0.tranche-exp-gang000001-a1.tranche.svc:17004")
                // the ports the scheduler allocated to the gang
                .containsEntry("TRANCHE_DRIVER_PORT", "17005")
                .containsEntry("TRANCHE_BLOCK_MANAGER_PORT", "17006")
                .containsEntry("TRANCHE_GRADIENT_PORT", "17007")
                // inside the container its one device is CUDA's device 0
                .containsEntry("TRANCHE_GPU_IDS", "0")
                .containsEntry("TRANCHE_GPU_FRACTION", "0.5")
                .containsEntry("TRANCHE_GPU_MEMORY_MIB", "40779")
                .containsEntry("TRANCHE_SCHEDULER_ADDRESS", "tranche-scheduler.tranche.svc:50051")
                .containsEntry("TRANCHE_CHECKPOINT_DIR", "/checkpoints/exp-gang000001")
                // the device the device plugin gave the reservation of GPU 3, not Tranche's index
                .containsEntry("NVIDIA_VISIBLE_DEVICES", reservedDevice("tranche-gpu-gpu-a-3"));
        assertThat(env0).doesNotContainKeys("TRANCHE_SCHEDULER_TLS", "TRANCHE_SCHEDULER_CA");
        // the credential comes from the gang's Secret (see theCredentialIsInASecretOwnedByTheGang...)
        assertThat(rank0.getSpec().getContainers().get(0).getEnv()).filteredOn(var -> var.getName().equals("TRANCHE_CREDENTIAL")).singleElement()
                .satisfies(var -> assertThat(var.getValueFrom().getSecretKeyRef().getName()).isEqualTo("tranche-exp-gang000001-a1-credential"));
        assertThat(Serialization.asYaml(rank0)).doesNotContain("tw1.credential");
        assertThat(rank0.getSpec().getVolumes()).extracting(io.fabric8.kubernetes.api.model.Volume::getName).containsExactly("spec");
        assertThat(env(rank1)).containsEntry("TRANCHE_RANK", "1").containsEntry("TRANCHE_GPU_IDS", "0,1").containsEntry("TRANCHE_GPU_FRACTION", "1.0");
        assertThat(env(rank1)).containsEntry("NVIDIA_VISIBLE_DEVICES", reservedDevice("tranche-gpu-gpu-b-0") + "," + reservedDevice("tranche-gpu-gpu-b-1"));
        // whole GPUs and fractions alike are taken from the device plugin by their reservations, not by the workers
        assertThat(rank1.getSpec().getContainers().get(0).getResources().getLimits()).doesNotContainKey("nvidia.com/gpu");
        assertThat(rank0.getSpec().getContainers().get(0).getResources().getLimits()).doesNotContainKey("nvidia.com/gpu");
        assertThat(rank0.getSpec().getContainers().get(0).getArgs()).containsExactly("worker", "-f", "/etc/tranche/spec.json");
        assertThat(client.services().inNamespace(NAMESPACE).withName("tranche-exp-gang000001-a1").get().getSpec().getClusterIP()).isEqualTo("None");
        assertThat(client.configMaps().inNamespace(NAMESPACE).withName("tranche-exp-gang000001-a1").get().getData()).containsEntry("spec.json", "{\"name\": \"gang\"}");
    }

    @Test
    void workersOfATlsSchedulerTrustTheCaOfAConfigMapMountedIntoTheirPods()
    {
        KubernetesLauncher launcher = new KubernetesLauncher(client, NAMESPACE, "tranche/worker:test", "/checkpoints", false, Optional.of("tranche-scheduler-ca"));
        launch(launcher, twoReplicas("exp-tlsca00001", "gpu-a"));
        for (int rank = 0; rank < 2; rank++) {
            Pod pod = client.pods().inNamespace(NAMESPACE).withName("exp-tlsca00001-a1-" + rank).get();
            assertThat(env(pod)).containsEntry("TRANCHE_SCHEDULER_CA", "/etc/tranche-scheduler-ca/ca.crt").containsEntry("TRANCHE_SCHEDULER_TLS", "1");
            assertThat(pod.getSpec().getVolumes()).anySatisfy(volume -> {
                assertThat(volume.getName()).isEqualTo("scheduler-ca");
                assertThat(volume.getConfigMap().getName()).isEqualTo("tranche-scheduler-ca");
            });
            assertThat(pod.getSpec().getContainers().get(0).getVolumeMounts()).anySatisfy(mount -> {
                assertThat(mount.getName()).isEqualTo("scheduler-ca");
                assertThat(mount.getMountPath()).isEqualTo("/etc/tranche-scheduler-ca");
                assertThat(mount.getReadOnly()).isTrue();
            }).anySatisfy(mount -> assertThat(mount.getMountPath()).isEqualTo("/etc/tranche"));
        }
    }

    @Test
    void workersOfATlsSchedulerWithAPublicCertificateTrustTheSystemsCas()
    {
        KubernetesLauncher launcher = new KubernetesLauncher(client, NAMESPACE, "tranche/worker:test", "/checkpoints", true, Optional.empty());
        launch(launcher, twoReplicas("exp-tlssys0001", "gpu-a"));
        Pod pod = client.pods().inNamespace(NAMESPACE).withName("exp-tlssys0001-a1-0").get();
        assertThat(env(pod)).containsEntry("TRANCHE_SCHEDULER_TLS", "1").doesNotContainKey("TRANCHE_SCHEDULER_CA");
        assertThat(pod.getSpec().getVolumes()).extracting(io.fabric8.kubernetes.api.model.Volume::getName).containsExactly("spec");
    }

    @Test
    void workerPodsGetTheConfiguredPreemptionGraceToCheckpoint()
    {
        KubernetesLauncher launcher = new KubernetesLauncher(client, NAMESPACE, "tranche/worker:test", "/checkpoints", false, Optional.empty(),
                java.time.Duration.ofSeconds(150));
        launch(launcher, twoReplicas("exp-grace00001", "gpu-a"));
        assertThat(client.pods().inNamespace(NAMESPACE).withName("exp-grace00001-a1-1").get().getSpec().getTerminationGracePeriodSeconds()).isEqualTo(150L);
        KubernetesLauncher defaults = new KubernetesLauncher(client, NAMESPACE, "tranche/worker:test", "/checkpoints");
        launch(defaults, twoReplicas("exp-grace00002", "gpu-a"));
        assertThat(client.pods().inNamespace(NAMESPACE).withName("exp-grace00002-a1-0").get().getSpec().getTerminationGracePeriodSeconds()).isEqualTo(60L);
    }

    @Test
    void podPhasesAndExitCodesMapToTheGangsState()
    {
        KubernetesLauncher launcher = new KubernetesLauncher(client, NAMESPACE, "tranche/worker:test", "/checkpoints");
        assertThat(launcher.status(run("exp-phases0001")).phase()).isEqualTo(GangStatus.Phase.GONE);
        launch(launcher, twoReplicas("exp-phases0001", "gpu-a"));
        assertThat(launcher.status(run("exp-phases0001")).phase()).isEqualTo(GangStatus.Phase.STARTING);

        phase("exp-phases0001-a1-0", "Running", null);
        assertThat(launcher.status(run("exp-phases0001"))).satisfies(status -> {
            assertThat(status.phase()).isEqualTo(GangStatus.Phase.STARTING);
            assertThat(status.reason()).isEqualTo("1 of 2 workers started");
        });
        // a pod whose node stopped reporting it: not up, and told apart from one still starting
        phase("exp-phases0001-a1-1", "Unknown", null);
        assertThat(launcher.status(run("exp-phases0001"))).satisfies(status -> {
            assertThat(status.phase()).isEqualTo(GangStatus.Phase.UNREACHABLE);
            assertThat(status.reason()).isEqualTo("1 of 2 workers started; the state of pod exp-phases0001-a1-1 is unknown: its node does not report it");
        });
        phase("exp-phases0001-a1-1", "Running", null);
        assertThat(launcher.status(run("exp-phases0001")).phase()).isEqualTo(GangStatus.Phase.RUNNING);

        phase("exp-phases0001-a1-1", "Failed", 137);
        assertThat(launcher.status(run("exp-phases0001"))).satisfies(status -> {
            assertThat(status.phase()).isEqualTo(GangStatus.Phase.FAILED);
            assertThat(status.reason()).isEqualTo("worker exp-phases0001-a1-1 failed: exit code 137 (OOMKilled)");
        });

        // a rank > 0 ends by itself only after its master (rank 0) is gone; ending while rank 0 runs, it lost the master
        launch(launcher, twoReplicas("exp-phases0003", "gpu-a"));
        phase("exp-phases0003-a1-0", "Running", null);
        phase("exp-phases0003-a1-1", "Succeeded", 0);
        assertThat(launcher.status(run("exp-phases0003"))).satisfies(status -> {
            assertThat(status.phase()).isEqualTo(GangStatus.Phase.WORKER_LOST);
            assertThat(status.reason()).isEqualTo("worker 1 of 2 (pod exp-phases0003-a1-1) was lost (it exited while worker 0 still trains: "
                    + "it lost touch with worker 0's Spark master, and the training cannot finish without it)");
        });
        // the usual end: rank 0 first, the others a few seconds later
        phase("exp-phases0003-a1-0", "Succeeded", 0);
        phase("exp-phases0003-a1-1", "Running", null);
        assertThat(launcher.status(run("exp-phases0003")).phase()).isEqualTo(GangStatus.Phase.RUNNING);

        launch(launcher, twoReplicas("exp-phases0002", "gpu-a"));
        phase("exp-phases0002-a1-0", "Succeeded", 0);
        phase("exp-phases0002-a1-1", "Succeeded", 0);
        assertThat(launcher.status(run("exp-phases0002")).phase()).isEqualTo(GangStatus.Phase.SUCCEEDED);
    }

    @Test
    void aLostNodeNamesTheExperimentsToRequeue()
    {
        KubernetesLauncher launcher = new KubernetesLauncher(client, NAMESPACE, "tranche/worker:test", "/checkpoints");
        launch(launcher, twoReplicas("exp-onnodea001", "gpu-a"));
        launch(launcher, twoReplicas("exp-onnodeb001", "gpu-b"));
        client.nodes().withName("gpu-a").delete();
        assertThat(launcher.experimentsOn("gpu-a")).containsExactly("exp-onnodea001");
        assertThat(launcher.experimentsOn("gpu-b")).containsExactly("exp-onnodeb001");
    }

    @Test
    void preemptionDeletesTheGangsPodsWithAGracePeriod()
    {
        KubernetesLauncher launcher = new KubernetesLauncher(client, NAMESPACE, "tranche/worker:test", "/checkpoints");
        launch(launcher, twoReplicas("exp-preempt001", "gpu-a"));
        launch(launcher, twoReplicas("exp-survivor01", "gpu-a"));
        launcher.stop(run("exp-preempt001"), Duration.ofSeconds(45));
        await().atMost(Duration.ofSeconds(10)).until(() -> client.pods().inNamespace(NAMESPACE).withLabel("tranche.dev/experiment", "exp-preempt001").list().getItems().isEmpty());
        assertThat(client.configMaps().inNamespace(NAMESPACE).withName("tranche-exp-preempt001-a1").get()).isNull();
        assertThat(client.secrets().inNamespace(NAMESPACE).withName("tranche-exp-preempt001-a1-credential").get()).isNull();
        assertThat(client.secrets().inNamespace(NAMESPACE).withName("tranche-exp-survivor01-a1-credential").get()).isNotNull();
        assertThat(launcher.status(run("exp-preempt001")).phase()).isEqualTo(GangStatus.Phase.GONE);
        assertThat(client.pods().inNamespace(NAMESPACE).withLabel("tranche.dev/experiment", "exp-survivor01").list().getItems()).hasSize(2);
    }

    /**
     * An experiment placed again while its previous attempt's pods still checkpoint: each attempt is a
     * gang of its own (pods, ConfigMap, Service, Secret named and labelled with the attempt), and
     * stopping the old attempt deletes its objects only.
     */
    @Test
    void eachAttemptIsAGangOfItsOwnAndStoppingTheOldOneLeavesTheNewOne()
    {
        KubernetesLauncher launcher = new KubernetesLauncher(client, NAMESPACE, "tranche/worker:test", "/checkpoints");
        String id = "exp-attempts01";
        RunAttempt first = new RunAttempt(id, 1);
        RunAttempt second = new RunAttempt(id, 2);
        launch(launcher, twoReplicas(id, "gpu-a"));
        phase(id + "-a1-0", "Running", null);
        phase(id + "-a1-1", "Running", null);
        launch(launcher, new LaunchRequest(id, 2, "vision", "{}", List.of(
                new ReplicaLaunch(0, "gpu-b", Map.of(0, 250), 1000, 2048, 40960),
                new ReplicaLaunch(1, "gpu-b", Map.of(0, 250), 1000, 2048, 40960)),
                "scheduler:50051", "tw1.second", PORTS));

        assertThat(podNames(id)).containsExactlyInAnyOrder(id + "-a1-0", id + "-a1-1", id + "-a2-0", id + "-a2-1");
        Pod rank0 = client.pods().inNamespace(NAMESPACE).withName(id + "-a2-0").get();
        assertThat(rank0.getMetadata().getLabels()).containsEntry("tranche.dev/experiment", id).containsEntry("tranche.dev/attempt", "2");
        assertThat(rank0.getSpec().getSubdomain()).isEqualTo("tranche-" + id + "-a2");
        assertThat(env(rank0)).containsEntry("TRANCHE_MASTER_ADDRESS", id + "-a2-0.tranche-" + id + "-a2.tranche.svc:17004");
        assertThat(client.services().inNamespace(NAMESPACE).withName("tranche-" + id + "-a2").get().getSpec().getSelector())
                .isEqualTo(Map.of("tranche.dev/experiment", id, "tranche.dev/attempt", "2"));
        // each attempt's status is its own pods'
        assertThat(launcher.status(first).phase()).isEqualTo(GangStatus.Phase.RUNNING);
        assertThat(launcher.status(second).phase()).isEqualTo(GangStatus.Phase.STARTING);
        assertThat(launcher.workers()).containsOnlyKeys(first, second).containsEntry(first, Set.of("gpu-a")).containsEntry(second, Set.of("gpu-b"));

        launcher.stop(first, Duration.ofSeconds(30));
        await().atMost(Duration.ofSeconds(10)).until(() -> podNames(id).equals(Set.of(id + "-a2-0", id + "-a2-1")));
        assertThat(client.configMaps().inNamespace(NAMESPACE).withName("tranche-" + id + "-a1").get()).isNull();
        assertThat(client.services().inNamespace(NAMESPACE).withName("tranche-" + id + "-a1").get()).isNull();
        assertThat(client.secrets().inNamespace(NAMESPACE).withName("tranche-" + id + "-a1-credential").get()).isNull();
        assertThat(client.configMaps().inNamespace(NAMESPACE).withName("tranche-" + id + "-a2").get()).isNotNull();
        assertThat(client.services().inNamespace(NAMESPACE).withName("tranche-" + id + "-a2").get()).isNotNull();
        assertThat(credential(client.secrets().inNamespace(NAMESPACE).withName("tranche-" + id + "-a2-credential").get())).isEqualTo("tw1.second");
        assertThat(launcher.status(first).phase()).isEqualTo(GangStatus.Phase.GONE);
        assertThat(launcher.workers()).containsOnlyKeys(second);
    }

    /** Pods of a scheduler from before attempts were counted (no attempt in their names or labels) are attempt 0. */
    @Test
    void podsWithoutAnAttemptAreAttemptZero()
    {
        KubernetesLauncher launcher = new KubernetesLauncher(client, NAMESPACE, "tranche/worker:test", "/checkpoints");
        String id = "exp-attempt001";
        launch(launcher, new LaunchRequest(id, 0, "vision", "{}", List.of(new ReplicaLaunch(0, "gpu-a", Map.of(0, 250), 1000, 2048, 81559)),
                "scheduler:50051", "tw1.x", PORTS));
        assertThat(podNames(id)).containsExactly(id + "-0");
        assertThat(client.pods().inNamespace(NAMESPACE).withName(id + "-0").get().getMetadata().getLabels()).doesNotContainKey("tranche.dev/attempt");
        assertThat(client.configMaps().inNamespace(NAMESPACE).withName("tranche-" + id).get()).isNotNull();
        assertThat(launcher.workers()).containsOnlyKeys(new RunAttempt(id, 0));
        assertThat(launcher.status(new RunAttempt(id, 0)).phase()).isEqualTo(GangStatus.Phase.STARTING);
        assertThat(launcher.status(new RunAttempt(id, 1)).phase()).isEqualTo(GangStatus.Phase.GONE);
        launcher.stop(new RunAttempt(id, 0), Duration.ZERO);
        await().atMost(Duration.ofSeconds(10)).until(() -> podNames(id).isEmpty());
        assertThat(client.configMaps().inNamespace(NAMESPACE).withName("tranche-" + id).get()).isNull();
    }

    /** A launch cut short (one pod of two created), or a pod deleted: not RUNNING on the pod that exists, but a gang that lost a worker. */
    @Test
    void aGangMissingAPodIsStartingNotRunning()
    {
        KubernetesLauncher launcher = new KubernetesLauncher(client, NAMESPACE, "tranche/worker:test", "/checkpoints");
        String id = "exp-partial001";
        launch(launcher, twoReplicas(id, "gpu-a"));
        client.pods().inNamespace(NAMESPACE).withName(id + "-a1-1").delete();
        await().atMost(Duration.ofSeconds(10)).until(() -> podNames(id).equals(Set.of(id + "-a1-0")));
        phase(id + "-a1-0", "Running", null);
        assertThat(launcher.status(run(id))).satisfies(status -> {
            assertThat(status.phase()).isEqualTo(GangStatus.Phase.WORKER_LOST);
            assertThat(status.reason()).isEqualTo("worker 1 of 2 (pod " + id + "-a1-1) was lost (its pod is gone)");
        });
    }

    /** An attempt whose pods never came (its launch waits for devices) is listed without nodes, so that a stop cleans it up. */
    @Test
    void anAttemptWithoutPodsIsListedSoThatItIsCleanedUp()
    {
        KubernetesLauncher launcher = new KubernetesLauncher(client, NAMESPACE, "tranche/worker:test", "/checkpoints");
        String id = "exp-waiting001";
        launcher.launch(twoReplicas(id, "gpu-a"));
        assertThat(podNames(id)).isEmpty();
        assertThat(launcher.workers()).containsEntry(run(id), Set.of());
        launcher.stop(run(id), Duration.ZERO);
        assertThat(client.configMaps().inNamespace(NAMESPACE).withName("tranche-" + id + "-a1").get()).isNull();
        assertThat(launcher.workers()).doesNotContainKey(run(id));
    }

    @Test
    void theCredentialIsInASecretOwnedByTheGangThatThePodsReferenceNotInTheirSpec()
    {
        KubernetesLauncher launcher = new KubernetesLauncher(client, NAMESPACE, "tranche/worker:test", "/checkpoints");
        launch(launcher, new LaunchRequest("exp-secret0001", 1, "vision", "{}", List.of(
                new ReplicaLaunch(0, "gpu-a", Map.of(0, 250), 1000, 2048, 81559),
                new ReplicaLaunch(1, "gpu-a", Map.of(1, 250), 1000, 2048, 81559)),
                "scheduler:50051", "tw1.not-in-the-pod-spec", PORTS));

        ConfigMap owner = client.configMaps().inNamespace(NAMESPACE).withName("tranche-exp-secret0001-a1").get();
        Secret secret = client.secrets().inNamespace(NAMESPACE).withName("tranche-exp-secret0001-a1-credential").get();
        assertThat(secret).isNotNull();
        assertThat(secret.getType()).isEqualTo("Opaque");
        assertThat(secret.getImmutable()).isTrue();
        assertThat(credential(secret)).isEqualTo("tw1.not-in-the-pod-spec");
        assertThat(secret.getMetadata().getLabels()).isEqualTo(owner.getMetadata().getLabels())
                .containsEntry("tranche.dev/experiment", "exp-secret0001").containsEntry("tranche.dev/project", "vision")
                .containsEntry("app.kubernetes.io/managed-by", "tranche").doesNotContainKey("tranche.dev/rank");
        // owned like the gang's Service and pods: by its ConfigMap, so the garbage collector removes it with the gang
        assertThat(secret.getMetadata().getOwnerReferences()).singleElement().satisfies(ownedBy -> {
            assertThat(ownedBy.getKind()).isEqualTo("ConfigMap");
            assertThat(ownedBy.getName()).isEqualTo("tranche-exp-secret0001-a1");
            assertThat(ownedBy.getUid()).isEqualTo(owner.getMetadata().getUid());
            assertThat(ownedBy.getController()).isTrue();
        });
        assertThat(secret.getMetadata().getOwnerReferences())
                .isEqualTo(client.services().inNamespace(NAMESPACE).withName("tranche-exp-secret0001-a1").get().getMetadata().getOwnerReferences());

        for (int rank = 0; rank < 2; rank++) {
            Pod pod = client.pods().inNamespace(NAMESPACE).withName("exp-secret0001-a1-" + rank).get();
            assertThat(pod.getSpec().getContainers().get(0).getEnv()).filteredOn(var -> var.getName().equals("TRANCHE_CREDENTIAL")).singleElement()
                    .satisfies(var -> {
                        assertThat(var.getValue()).isNull();
                        assertThat(var.getValueFrom().getSecretKeyRef().getName()).isEqualTo("tranche-exp-secret0001-a1-credential");
                        assertThat(var.getValueFrom().getSecretKeyRef().getKey()).isEqualTo("credential");
                        assertThat(var.getValueFrom().getSecretKeyRef().getOptional()).isFalse();
                    });
            // what `kubectl get pod -o yaml` shows has it nowhere
            assertThat(Serialization.asYaml(pod)).doesNotContain("tw1.not-in-the-pod-spec")
                    .doesNotContain(Base64.getEncoder().encodeToString("tw1.not-in-the-pod-spec".getBytes(StandardCharsets.UTF_8)));
        }
    }

    @Test
    void stoppingTheGangDeletesItsSecretAndARelaunchReplacesItInsteadOfAddingASecond()
    {
        KubernetesLauncher launcher = new KubernetesLauncher(client, NAMESPACE, "tranche/worker:test", "/checkpoints");
        launch(launcher, twoReplicas("exp-relaunch01", "gpu-a"));
        launch(launcher, twoReplicas("exp-bystander1", "gpu-b"));
        assertThat(secrets("exp-relaunch01")).hasSize(1);

        // a retry: the failed run is stopped, then the experiment is launched again
        launcher.stop(run("exp-relaunch01"), Duration.ZERO);
        await().atMost(Duration.ofSeconds(10)).until(() -> client.pods().inNamespace(NAMESPACE).withLabel("tranche.dev/experiment", "exp-relaunch01").list().getItems().isEmpty());
        assertThat(secrets("exp-relaunch01")).isEmpty();
        assertThat(client.secrets().inNamespace(NAMESPACE).withName("tranche-exp-relaunch01-a1-credential").get()).isNull();
        launch(launcher, twoReplicas("exp-relaunch01", "gpu-a"));
        assertThat(secrets("exp-relaunch01")).singleElement().satisfies(secret -> assertThat(ownerUid(secret)).isEqualTo(configMapUid("exp-relaunch01")));

        // its pods vanished without a stop (say, the scheduler restarted meanwhile): the leftover Secret is replaced too
        client.pods().inNamespace(NAMESPACE).withLabel("tranche.dev/experiment", "exp-relaunch01").delete();
        await().atMost(Duration.ofSeconds(10)).until(() -> client.pods().inNamespace(NAMESPACE).withLabel("tranche.dev/experiment", "exp-relaunch01").list().getItems().isEmpty());
        launch(launcher, twoReplicas("exp-relaunch01", "gpu-a"));
        assertThat(secrets("exp-relaunch01")).singleElement().satisfies(secret -> {
            assertThat(ownerUid(secret)).isEqualTo(configMapUid("exp-relaunch01"));
            assertThat(credential(secret)).isEqualTo("tw1.x");
        });
        assertThat(client.pods().inNamespace(NAMESPACE).withLabel("tranche.dev/experiment", "exp-relaunch01").list().getItems()).hasSize(2);
        assertThat(secrets("exp-bystander1")).hasSize(1);
        assertThat(client.secrets().inNamespace(NAMESPACE).list().getItems()).hasSize(2);
    }

    @Test
    void onSecretsTheLauncherOnlyUsesWhatItsRbacRoleGrants()
            throws IOException, InterruptedException
    {
        Set<String> granted = new TreeSet<>();
        try (InputStream rbac = Files.newInputStream(Path.of("..", "deploy", "kubernetes", "scheduler", "rbac.yaml"))) {
            for (HasMetadata item : client.load(rbac).items()) {
                if (item instanceof Role role) {
                    for (PolicyRule rule : role.getRules()) {
                        if (rule.getResources().contains("secrets")) {
                            assertThat(rule.getApiGroups()).containsExactly("");
                            assertThat(rule.getResourceNames()).isNullOrEmpty();
                            granted.addAll(rule.getVerbs());
                        }
                    }
                }
            }
        }
        // not get, list or watch: those would read every Secret of the namespace (the database password, the admin token)
        assertThat(granted).containsExactly("create", "delete");

        while (server.takeRequest(10, TimeUnit.MILLISECONDS) != null) {
            // what earlier tests asked for
        }
        KubernetesLauncher launcher = new KubernetesLauncher(client, NAMESPACE, "tranche/worker:test", "/checkpoints");
        launch(launcher, twoReplicas("exp-rbac000001", "gpu-a"));
        launcher.stop(run("exp-rbac000001"), Duration.ZERO);
        await().atMost(Duration.ofSeconds(10)).until(() -> client.pods().inNamespace(NAMESPACE).withLabel("tranche.dev/experiment", "exp-rbac000001").list().getItems().isEmpty());
        launch(launcher, twoReplicas("exp-rbac000001", "gpu-a"));
        launcher.stop(run("exp-rbac000001"), Duration.ZERO);
        Set<String> used = new TreeSet<>();
        for (RecordedRequest request = server.takeRequest(10, TimeUnit.MILLISECONDS); request != null; request = server.takeRequest(10, TimeUnit.MILLISECONDS)) {
            if (request.getPath().contains("/secrets")) {
                assertThat(request.getPath()).startsWith("/api/v1/namespaces/" + NAMESPACE + "/secrets");
                used.add(switch (request.getMethod()) {
                    case "POST" -> "create";
                    case "DELETE" -> "delete";
                    case "PUT" -> "update";
                    case "PATCH" -> "patch";
                    default -> request.getPath().contains("watch=") ? "watch" : request.getPath().matches(".*/secrets/[^/?]+.*") ? "get" : "list";
                });
            }
        }
        assertThat(used).containsExactly("create", "delete");
    }

    @Test
    void onPodsTheLauncherUsesOnlyWhatItsRoleGrantsAndReservationPodsMayOnlyPatch()
            throws IOException, InterruptedException
    {
        Map<String, Set<String>> podVerbs = new java.util.HashMap<>();
        Set<String> serviceAccounts = new TreeSet<>();
        Set<String> priorityClasses = new TreeSet<>();
        Map<String, String> boundTo = new java.util.HashMap<>();
        for (String file : List.of("rbac.yaml", "gpu-reservation.yaml")) {
            try (InputStream manifest = Files.newInputStream(Path.of("..", "deploy", "kubernetes", "scheduler", file))) {
                for (HasMetadata item : client.load(manifest).items()) {
                    if (item instanceof Role role) {
                        for (PolicyRule rule : role.getRules()) {
                            if (rule.getResources().contains("pods")) {
                                assertThat(rule.getResourceNames()).isNullOrEmpty();
                                podVerbs.computeIfAbsent(role.getMetadata().getName(), name -> new TreeSet<>()).addAll(rule.getVerbs());
                            }
                        }
                    }
                    if (item instanceof io.fabric8.kubernetes.api.model.rbac.RoleBinding binding) {
                        boundTo.put(binding.getSubjects().get(0).getName(), binding.getRoleRef().getName());
                    }
                    if (item instanceof io.fabric8.kubernetes.api.model.ServiceAccount account) {
                        serviceAccounts.add(account.getMetadata().getName());
                    }
                    if (item instanceof io.fabric8.kubernetes.api.model.scheduling.v1.PriorityClass priority) {
                        priorityClasses.add(priority.getMetadata().getName());
                        assertThat(priority.getValue()).isBetween(1, 1_000_000_000);
                    }
                }
            }
        }
        // what a reservation pod runs as: the one verb it needs, on nothing but pods
        assertThat(serviceAccounts).contains(GpuReservations.SERVICE_ACCOUNT);
        assertThat(priorityClasses).containsExactly(GpuReservations.PRIORITY_CLASS);
        assertThat(podVerbs.get(boundTo.get(GpuReservations.SERVICE_ACCOUNT))).containsExactly("patch");

        while (server.takeRequest(10, TimeUnit.MILLISECONDS) != null) {
            // what earlier tests asked for
        }
        KubernetesLauncher launcher = new KubernetesLauncher(client, NAMESPACE, "tranche/worker:test", "/checkpoints");
        launch(launcher, new LaunchRequest("exp-podverbs01", 1, "vision", "{}", List.of(
                new ReplicaLaunch(0, "gpu-a", Map.of(0, 500), 1000, 2048, 81559),
                new ReplicaLaunch(1, "gpu-a", Map.of(1, 1000, 2, 1000), 1000, 2048, 81559)), "scheduler:50051", "tw1.x", PORTS));
        launcher.status(run("exp-podverbs01"));
        // no launcher.tail here: fabric8's mock server (8.0.0, CRUD mode) has twice stopped answering every
        // request soon after a GET .../pods/<name>/log in this test (and could not be closed); log reads are
        // outside this verb count anyway
        devicePlugin.evict("tranche-gpu-gpu-a-1");
        launcher.status(run("exp-podverbs01"));
        launcher.stop(run("exp-podverbs01"), Duration.ZERO);
        launcher.syncDevices(Map.of());
        launcher.workers();
        Set<String> used = new TreeSet<>();
        for (RecordedRequest request = server.takeRequest(10, TimeUnit.MILLISECONDS); request != null; request = server.takeRequest(10, TimeUnit.MILLISECONDS)) {
            String path = request.getPath();
            // the simulated device plugin's own calls (status, the reservation's annotation) are not the launcher's
            if (path.contains("/pods") && !path.contains("/status") && !path.contains("/log") && !(request.getMethod().equals("PATCH")
                    && request.getHeader("Content-Type").startsWith("application/merge-patch+json"))) {
                assertThat(path).startsWith("/api/v1/namespaces/" + NAMESPACE + "/pods");
                used.add(switch (request.getMethod()) {
                    case "POST" -> "create";
                    case "DELETE" -> "delete";
                    case "PUT" -> "update";
                    case "PATCH" -> "patch";
                    default -> path.contains("watch=") ? "watch" : path.matches(".*/pods/[^/?]+.*") ? "get" : "list";
                });
            }
        }
        assertThat(used).contains("create", "patch", "delete", "get", "list");
        assertThat(podVerbs.get("tranche-worker-manager")).containsAll(used);
    }

    @Test
    void aReservationThatEndsBeforePublishingItsDeviceLosesTheWaitingGangAndIsReplacedOnTheNextLaunch()
    {
        KubernetesLauncher launcher = new KubernetesLauncher(client, NAMESPACE, "tranche/worker:test", "/checkpoints");
        LaunchRequest request = twoReplicas("exp-nodevice01", "gpu-a");
        launcher.launch(request);
        assertThat(client.pods().inNamespace(NAMESPACE).withLabel("tranche.dev/experiment", "exp-nodevice01").list().getItems()).isEmpty();
        assertThat(launcher.status(run("exp-nodevice01")).phase()).isEqualTo(GangStatus.Phase.GONE);

        // the kubelet refuses it: another pod got the node's last device first
        Pod refused = client.pods().inNamespace(NAMESPACE).withName("tranche-gpu-gpu-a-0").get();
        refused.setStatus(new PodStatusBuilder().withPhase("Failed").withReason("UnexpectedAdmissionError")
                .withMessage("Allocate failed due to requested number of devices unavailable for nvidia.com/gpu. Requested: 1, Available: 0").build());
        client.pods().inNamespace(NAMESPACE).resource(refused).updateStatus();
        assertThat(launcher.status(run("exp-nodevice01"))).satisfies(status -> {
            assertThat(status.phase()).isEqualTo(GangStatus.Phase.LOST);
            assertThat(status.reason()).isEqualTo("GPU reservation tranche-gpu-gpu-a-0 on node gpu-a ended before the device plugin's device could be used "
                    + "(UnexpectedAdmissionError: Allocate failed due to requested number of devices unavailable for nvidia.com/gpu. Requested: 1, Available: 0)");
        });

        // requeued and placed there again: the ended reservation is deleted, and the next launch makes a fresh one
        launcher.stop(run("exp-nodevice01"), Duration.ZERO);
        String refusedUid = refused.getMetadata().getUid();
        launcher.launch(request);
        await().atMost(Duration.ofSeconds(10)).until(() -> {
            Pod fresh = client.pods().inNamespace(NAMESPACE).withName("tranche-gpu-gpu-a-0").get();
            return fresh != null && !fresh.getMetadata().getUid().equals(refusedUid) && !GpuReservations.ended(fresh);
        });
        launch(launcher, request);
        assertThat(client.pods().inNamespace(NAMESPACE).withLabel("tranche.dev/experiment", "exp-nodevice01").list().getItems()).hasSize(2);
        assertThat(launcher.status(run("exp-nodevice01")).phase()).isEqualTo(GangStatus.Phase.STARTING);
    }

    // One log read per test, and last: fabric8's mock server now and then leaves the request after a
    // log read unanswered (a 10 s timeout, about one run in six when the three cases shared one test).
    // Rank 0's container runs and is ready, rank 1's waits to start (launchedForLogs)
    @Test
    void logsAreTheWorkersTail()
    {
        KubernetesLauncher launcher = launchedForLogs();
        server.expect().get().withPath(logPath(0))
                .andReturn(200, "epoch 1/5 step 10 loss 0.61\nepoch 1/5 step 20 loss 0.48\n").always();
        assertThat(launcher.tail("exp-logs00001", 0, 2)).containsExactly("epoch 1/5 step 10 loss 0.61", "epoch 1/5 step 20 loss 0.48");
    }

    @Test
    void logsAreNothingYetWhileTheContainerWaitsToStart()
            throws InterruptedException
    {
        KubernetesLauncher launcher = launchedForLogs();
        assertThat(launcher.tail("exp-logs00001", 1, 2)).isEmpty();
        // read from the pod's status: no log request, and no readiness watch before one
        assertThat(server.getLastRequest().getPath()).doesNotContain("/log").doesNotContain("watch=true");
    }

    @Test
    void logsAreNothingWhenTheContainerStoppedSinceItsStatusWasRead()
    {
        KubernetesLauncher launcher = launchedForLogs();
        // what the API server answers for a container that is not running (restarting)
        server.expect().get().withPath(logPath(0))
                .andReturn(400, "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\",\"reason\":\"BadRequest\",\"code\":400,"
                        + "\"message\":\"container \\\"worker\\\" in pod \\\"exp-logs00001-0\\\" is waiting to start: CrashLoopBackOff\"}").always();
        assertThat(launcher.tail("exp-logs00001", 0, 2)).isEmpty();
    }

    @Test
    void logsOfAWorkerThatDoesNotExistAreNothing()
    {
        assertThat(launchedForLogs().tail("exp-logs00001", 2, 2)).isEmpty();
    }

    private KubernetesLauncher launchedForLogs()
    {
        KubernetesLauncher launcher = new KubernetesLauncher(client, NAMESPACE, "tranche/worker:test", "/checkpoints");
        launch(launcher, new LaunchRequest("exp-logs00001", 1, "vision", "{\"name\": \"logs\"}", List.of(
                new ReplicaLaunch(0, "gpu-a", Map.of(0, 1000), 2000, 4096, 81559),
                new ReplicaLaunch(1, "gpu-a", Map.of(1, 1000), 2000, 4096, 81559)),
                "tranche-scheduler.tranche.svc:50051", "tw1.credential", PORTS));
        // as the kubelet reports them, through the status subresource
        Pod running = new PodBuilder(client.pods().inNamespace(NAMESPACE).withName("exp-logs00001-a1-0").get())
                .withNewStatus().withPhase("Running")
                .addNewCondition().withType("Ready").withStatus("True").endCondition()
                .addNewContainerStatus().withName("worker").withReady(true).withNewState().withNewRunning().endRunning().endState().endContainerStatus()
                .endStatus().build();
        client.pods().inNamespace(NAMESPACE).resource(running).updateStatus();
        Pod waiting = new PodBuilder(client.pods().inNamespace(NAMESPACE).withName("exp-logs00001-a1-1").get())
                .withNewStatus().withPhase("Pending")
                .addNewContainerStatus().withName("worker").withReady(false).withNewState().withNewWaiting().withReason("ContainerCreating").endWaiting()
                .endState().endContainerStatus()
                .endStatus().build();
        client.pods().inNamespace(NAMESPACE).resource(waiting).updateStatus();
        return launcher;
    }

    private static String logPath(int rank)
    {
        return "/api/v1/namespaces/" + NAMESPACE + "/pods/exp-logs00001-a1-" + rank + "/log?pretty=false&tailLines=2";
    }

    /** Launches as the controller does: again once the simulated device plugin has given the reservations their devices. */
    private void launch(KubernetesLauncher launcher, LaunchRequest request)
    {
        launcher.launch(request);
        if (client.pods().inNamespace(NAMESPACE).withName(KubernetesLauncher.podName(request.run(), 0)).get() == null) {
            devicePlugin.grantAll();
            launcher.launch(request);
        }
    }

    private Set<String> podNames(String experimentId)
    {
        return client.pods().inNamespace(NAMESPACE).withLabel("tranche.dev/experiment", experimentId).list().getItems().stream()
                .map(pod -> pod.getMetadata().getName()).collect(Collectors.toSet());
    }

    private List<Secret> secrets(String experimentId)
    {
        return client.secrets().inNamespace(NAMESPACE).withLabel("tranche.dev/experiment", experimentId).list().getItems();
    }

    private String reservedDevice(String reservation)
    {
        return GpuReservations.device(client.pods().inNamespace(NAMESPACE).withName(reservation).get()).orElseThrow();
    }

    private String configMapUid(String experimentId)
    {
        return client.configMaps().inNamespace(NAMESPACE).withName("tranche-" + experimentId + "-a1").get().getMetadata().getUid();
    }

    private static String ownerUid(Secret secret)
    {
        return secret.getMetadata().getOwnerReferences().get(0).getUid();
    }

    private static String credential(Secret secret)
    {
        return new String(Base64.getDecoder().decode(secret.getData().get("credential")), StandardCharsets.UTF_8);
    }

    private void phase(String pod, String phase, Integer exitCode)
    {
        Pod current = client.pods().inNamespace(NAMESPACE).withName(pod).get();
        PodStatusBuilder status = new PodStatusBuilder().withPhase(phase);
        if (exitCode != null) {
            status.withContainerStatuses(new ContainerStatusBuilder().withName("worker")
                    .withState(new ContainerStateBuilder().withNewTerminated().withExitCode(exitCode).withReason(exitCode == 137 ? "OOMKilled" : "Completed").endTerminated().build())
                    .build());
        }
        current.setStatus(status.build());
        client.pods().inNamespace(NAMESPACE).resource(current).updateStatus();
    }

    /** Attempt 1 of the experiment: what each test launches (the attempts test aside). */
    private static RunAttempt run(String id)
    {
        return new RunAttempt(id, 1);
    }

    private static LaunchRequest twoReplicas(String id, String node)
    {
        return new LaunchRequest(id, 1, "vision", "{}", List.of(
                new ReplicaLaunch(0, node, Map.of(0, 250), 1000, 2048, 81559),
                new ReplicaLaunch(1, node, Map.of(0, 250), 1000, 2048, 81559)),
                "scheduler:50051", "tw1.x", PORTS);
    }

    /** The variables with a literal value (not the ones read from a Secret). */
    private static Map<String, String> env(Pod pod)
    {
        return pod.getSpec().getContainers().get(0).getEnv().stream().filter(var -> var.getValueFrom() == null)
                .collect(Collectors.toMap(EnvVar::getName, EnvVar::getValue));
    }

    private static List<String> names(List<Node> nodes)
    {
        return nodes.stream().map(Node::name).toList();
    }

    private static Node node(List<Node> nodes, String name)
    {
        return nodes.stream().filter(node -> node.name().equals(name)).findFirst().orElseThrow();
    }

    private static Pod gpuPod(String name, String node, String phase, int gpus, int initGpus)
    {
        return new io.fabric8.kubernetes.api.model.PodBuilder().withNewMetadata().withName(name).endMetadata()
                .withNewSpec().withNodeName(node)
                .addNewInitContainer().withName("fetch").withImage("their/image")
                .withNewResources().withRequests(Map.of("nvidia.com/gpu", new Quantity(Integer.toString(initGpus)))).endResources().endInitContainer()
                .addNewContainer().withName("train").withImage("their/image")
                .withNewResources().withLimits(Map.of("nvidia.com/gpu", new Quantity(Integer.toString(gpus)))).endResources().endContainer()
                .addNewContainer().withName("sidecar").withImage("their/sidecar").endContainer()
                .endSpec()
                .withNewStatus().withPhase(phase).endStatus()
                .build();
    }

    private static io.fabric8.kubernetes.api.model.Node gpuNode(String name, int gpus, String product, String memoryMib, boolean ready, boolean cordoned)
    {
        return new NodeBuilder()
                .withNewMetadata().withName(name)
                .addToLabels("nvidia.com/gpu.product", product)
                .addToLabels("nvidia.com/gpu.memory", memoryMib)
                .addToLabels("nvidia.com/gpu.count", Integer.toString(gpus))
                .endMetadata()
                .withNewSpec().withUnschedulable(cordoned).endSpec()
                .withNewStatus()
                .withCapacity(Map.of("cpu", new Quantity("64"), "memory", new Quantity("512Gi"), "nvidia.com/gpu", new Quantity(Integer.toString(gpus))))
                .withAllocatable(Map.of("cpu", new Quantity("63500m"), "memory", new Quantity("500Gi"), "nvidia.com/gpu", new Quantity(Integer.toString(gpus))))
                .addNewCondition().withType("Ready").withStatus(ready ? "True" : "False").endCondition()
                .endStatus()
                .build();
    }
}
