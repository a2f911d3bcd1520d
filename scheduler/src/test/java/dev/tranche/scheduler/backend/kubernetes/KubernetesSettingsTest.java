package dev.tranche.scheduler.backend.kubernetes;

import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The worker settings the scheduler reads from its environment (deploy/kubernetes/scheduler/worker-settings.yaml). */
final class KubernetesSettingsTest
{
    @Test
    void defaultsArePlaintextWorkers()
    {
        KubernetesSettings settings = KubernetesSettings.fromEnvironment(Map.of(), "tranche");
        assertThat(settings.workerImage()).isEqualTo("tranche/worker:dev");
        assertThat(settings.checkpointRoot()).isEqualTo("/checkpoints");
        assertThat(settings.schedulerAddress()).isEqualTo("tranche-scheduler.tranche.svc:50051");
        assertThat(settings.workerSchedulerTls()).isFalse();
        assertThat(settings.workerSchedulerCaConfigMap()).isEmpty();
    }

    @Test
    void workerTlsSettings()
    {
        assertThat(KubernetesSettings.fromEnvironment(Map.of("TRANCHE_WORKER_SCHEDULER_TLS", "1"), "tranche").workerSchedulerTls()).isTrue();
        assertThat(KubernetesSettings.fromEnvironment(Map.of("TRANCHE_WORKER_SCHEDULER_TLS", "true"), "tranche").workerSchedulerTls()).isTrue();
        assertThat(KubernetesSettings.fromEnvironment(Map.of("TRANCHE_WORKER_SCHEDULER_TLS", "0"), "tranche").workerSchedulerTls()).isFalse();
        assertThat(KubernetesSettings.fromEnvironment(Map.of("TRANCHE_WORKER_SCHEDULER_CA_CONFIGMAP", "tranche-scheduler-ca"), "tranche")
                .workerSchedulerCaConfigMap()).contains("tranche-scheduler-ca");
        assertThat(KubernetesSettings.fromEnvironment(Map.of("TRANCHE_WORKER_SCHEDULER_CA_CONFIGMAP", " "), "tranche").workerSchedulerCaConfigMap()).isEmpty();
    }

    @Test
    void badWorkerTlsSettingsAreNamed()
    {
        assertThatThrownBy(() -> KubernetesSettings.fromEnvironment(Map.of("TRANCHE_WORKER_SCHEDULER_TLS", "yes"), "tranche"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("TRANCHE_WORKER_SCHEDULER_TLS must be 1 (workers use TLS, trusting the system's CAs in their image) or 0: got 'yes'");
        assertThatThrownBy(() -> KubernetesSettings.fromEnvironment(Map.of("TRANCHE_WORKER_SCHEDULER_CA_CONFIGMAP", "/etc/ca.pem"), "tranche"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("TRANCHE_WORKER_SCHEDULER_CA_CONFIGMAP must name a ConfigMap (lower-case letters, digits, '-' and '.'): got \"/etc/ca.pem\"");
        assertThat(new KubernetesSettings("tranche", "img", "/c", "s:1").workerSchedulerCaConfigMap()).isEqualTo(Optional.empty());
    }
}
