package dev.tranche.scheduler.core.model;

import static java.util.Objects.requireNonNull;

/**
 * One GPU of a node. {@code index} is Tranche's number for it: the device index for local workers; on
 * Kubernetes a slot that a reservation pod fills with whatever device NVIDIA's device plugin gives it.
 */
public record Gpu(int index, String model, long memoryMib)
{
    public Gpu
    {
        requireNonNull(model, "model is null");
        if (index < 0) {
            throw new IllegalArgumentException("GPU index must not be negative, got " + index);
        }
        if (model.isBlank()) {
            throw new IllegalArgumentException("GPU model is blank");
        }
        if (memoryMib < 0) {
            throw new IllegalArgumentException("GPU memoryMib must not be negative, got " + memoryMib);
        }
    }
}
