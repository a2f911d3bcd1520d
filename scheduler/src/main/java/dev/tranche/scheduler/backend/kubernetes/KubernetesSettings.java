package dev.tranche.scheduler.backend.kubernetes;

import java.util.Map;

import static java.util.Objects.requireNonNull;

/**
 * How the scheduler runs workers on Kubernetes: the namespace of its worker pods, their image, where
 * they checkpoint, and the address at which they reach the scheduler. Set in the manifests'
 * worker settings (deploy/kubernetes/scheduler/worker-settings.yaml).
 */
public record KubernetesSettings(String namespace, String workerImage, String checkpointRoot, String schedulerAddress)
{
    public KubernetesSettings
    {
        requireNonNull(namespace, "namespace is null");
        requireNonNull(workerImage, "workerImage is null");
        requireNonNull(checkpointRoot, "checkpointRoot is null");
        requireNonNull(schedulerAddress, "schedulerAddress is null");
        if (!namespace.matches("[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")) {
            throw new IllegalArgumentException("--kubernetes-namespace must be a DNS label: got \"" + namespace + "\"");
        }
        if (workerImage.isBlank() || !checkpointRoot.startsWith("/") || schedulerAddress.isBlank()) {
            throw new IllegalArgumentException("Kubernetes workers need TRANCHE_WORKER_IMAGE, an absolute TRANCHE_CHECKPOINT_ROOT and TRANCHE_SCHEDULER_ADDRESS");
        }
    }

    public static KubernetesSettings fromEnvironment(Map<String, String> environment, String namespace)
    {
        return new KubernetesSettings(
                namespace,
                environment.getOrDefault("TRANCHE_WORKER_IMAGE", "tranche/worker:dev"),
                environment.getOrDefault("TRANCHE_CHECKPOINT_ROOT", "/checkpoints"),
                environment.getOrDefault("TRANCHE_SCHEDULER_ADDRESS", "tranche-scheduler." + namespace + ".svc:50051"));
    }
}
