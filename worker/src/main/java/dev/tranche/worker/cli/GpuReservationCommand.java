package dev.tranche.worker.cli;

import dev.tranche.worker.reservation.PodAnnotator;
import dev.tranche.worker.reservation.ReservedDevice;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/**
 * What a GPU reservation pod runs (docs/kubernetes.md): it learns which device NVIDIA's device
 * plugin gave it, publishes that on its own pod as the annotation {@code tranche.dev/gpu-device}, and
 * then holds the device by staying alive until the scheduler deletes it.
 */
@Command(name = "gpu-reservation", description = {
        "Inside a Tranche GPU reservation pod on Kubernetes: publish the device NVIDIA's device plugin gave this pod",
        "(annotation tranche.dev/gpu-device on the pod itself), then hold it until the pod is deleted. Not for people to run."})
final class GpuReservationCommand
        implements Callable<Integer>
{
    static final String DEVICE_ANNOTATION = "tranche.dev/gpu-device";
    private static final int ATTEMPTS = 8;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call()
            throws InterruptedException
    {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        Map<String, String> environment = System.getenv();
        try {
            String pod = required(environment, "TRANCHE_POD_NAME");
            String namespace = Optional.ofNullable(environment.get("TRANCHE_POD_NAMESPACE")).filter(value -> !value.isBlank())
                    .orElseGet(() -> read(PodAnnotator.SERVICE_ACCOUNT.resolve("namespace")));
            ReservedDevice device = ReservedDevice.find(Optional.ofNullable(environment.get("NVIDIA_VISIBLE_DEVICES")), Path.of("/proc/driver/nvidia/gpus"));
            publish(PodAnnotator.inCluster(environment, PodAnnotator.SERVICE_ACCOUNT), namespace, pod, device);
            out.println("holding device " + device.id() + " for Tranche; published on pod " + namespace + "/" + pod + " as " + DEVICE_ANNOTATION);
            out.flush();
        }
        catch (IOException | RuntimeException e) {
            // the pod fails with this as its last words; the scheduler sees the reservation ended and requeues its users
            err.println("gpu-reservation: " + e.getMessage());
            err.flush();
            return 1;
        }
        // hold the device until the pod is deleted (SIGTERM ends the JVM)
        new CountDownLatch(1).await();
        return 0;
    }

    /** Retries a refused or failed call a few times (the API server restarting, say) before giving up. */
    static void publish(PodAnnotator annotator, String namespace, String pod, ReservedDevice device)
            throws IOException, InterruptedException
    {
        long backoffMillis = 500;
        for (int attempt = 1; ; attempt++) {
            try {
                annotator.annotate(namespace, pod, DEVICE_ANNOTATION, device.id());
                return;
            }
            catch (IOException e) {
                if (attempt == ATTEMPTS) {
                    throw new IOException("could not publish device " + device.id() + " after " + ATTEMPTS + " attempts: " + e.getMessage(), e);
                }
                Thread.sleep(backoffMillis);
                backoffMillis = Math.min(backoffMillis * 2, 10_000);
            }
        }
    }

    private static String required(Map<String, String> environment, String name)
    {
        String value = environment.get(name);
        if (value == null || value.isBlank()) {
            throw new IllegalStateException(name + " is not set: the reservation pod passes its name through the downward API");
        }
        return value.strip();
    }

    private static String read(Path file)
    {
        try {
            return Files.readString(file).strip();
        }
        catch (IOException e) {
            throw new IllegalStateException("TRANCHE_POD_NAMESPACE is not set and " + file + " cannot be read: " + e.getMessage(), e);
        }
    }
}
