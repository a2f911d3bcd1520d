package dev.tranche.scheduler.backend.kubernetes;

import java.util.Locale;
import java.util.Map;
import java.util.Optional;

import static java.util.Objects.requireNonNull;

/**
 * How the scheduler runs workers on Kubernetes: the namespace of its worker pods, their image, where
 * they checkpoint, the address at which they reach the scheduler, and, when the scheduler serves
 * TLS, how they trust it: the system's CAs in their image ({@code workerSchedulerTls}), or the
 * {@code ca.crt} of a ConfigMap mounted into each worker pod. Set in the manifests' worker settings
 * (deploy/kubernetes/scheduler/worker-settings.yaml).
 */
public record KubernetesSettings(String namespace, String workerImage, String checkpointRoot, String schedulerAddress, boolean workerSchedulerTls,
        Optional<String> workerSchedulerCaConfigMap)
{
    public static final String WORKER_SCHEDULER_TLS = "TRANCHE_WORKER_SCHEDULER_TLS";
    public static final String WORKER_SCHEDULER_CA_CONFIGMAP = "TRANCHE_WORKER_SCHEDULER_CA_CONFIGMAP";

    public KubernetesSettings
    {
        requireNonNull(namespace, "namespace is null");
        requireNonNull(workerImage, "workerImage is null");
        requireNonNull(checkpointRoot, "checkpointRoot is null");
        requireNonNull(schedulerAddress, "schedulerAddress is null");
        requireNonNull(workerSchedulerCaConfigMap, "workerSchedulerCaConfigMap is null");
        workerSchedulerCaConfigMap.ifPresent(name -> {
            if (!name.matches("[a-z0-9]([-.a-z0-9]{0,251}[a-z0-9])?")) {
                throw new IllegalArgumentException(WORKER_SCHEDULER_CA_CONFIGMAP + " must name a ConfigMap (lower-case letters, digits, '-' and '.'): got \"" + name + "\"");
            }
        });
        if (!namespace.matches("[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")) {
            throw new IllegalArgumentException("--kubernetes-namespace must be a DNS label: got \"" + namespace + "\"");
        }
        if (workerImage.isBlank() || !checkpointRoot.startsWith("/") || schedulerAddress.isBlank()) {
            throw new IllegalArgumentException("Kubernetes workers need TRANCHE_WORKER_IMAGE, an absolute TRANCHE_CHECKPOINT_ROOT and TRANCHE_SCHEDULER_ADDRESS");
        }
    }

    /** Plaintext workers. */
    public KubernetesSettings(String namespace, String workerImage, String checkpointRoot, String schedulerAddress)
    {
        this(namespace, workerImage, checkpointRoot, schedulerAddress, false, Optional.empty());
    }

    public static KubernetesSettings fromEnvironment(Map<String, String> environment, String namespace)
    {
        String tls = environment.getOrDefault(WORKER_SCHEDULER_TLS, "").strip().toLowerCase(Locale.ROOT);
        if (!tls.matches("|0|1|false|true")) {
            throw new IllegalArgumentException(WORKER_SCHEDULER_TLS + " must be 1 (workers use TLS, trusting the system's CAs in their image) or 0: got '" + tls + "'");
        }
        String caConfigMap = environment.getOrDefault(WORKER_SCHEDULER_CA_CONFIGMAP, "").strip();
        return new KubernetesSettings(
                namespace,
                environment.getOrDefault("TRANCHE_WORKER_IMAGE", "tranche/worker:dev"),
                environment.getOrDefault("TRANCHE_CHECKPOINT_ROOT", "/checkpoints"),
                environment.getOrDefault("TRANCHE_SCHEDULER_ADDRESS", "tranche-scheduler." + namespace + ".svc:50051"),
                tls.equals("1") || tls.equals("true"),
                caConfigMap.isEmpty() ? Optional.empty() : Optional.of(caConfigMap));
    }
}
