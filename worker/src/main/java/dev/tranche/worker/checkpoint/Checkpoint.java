package dev.tranche.worker.checkpoint;

import dev.tranche.worker.model.Models;
import dev.tranche.worker.model.Net;

import java.nio.file.Path;

import static java.util.Objects.requireNonNull;

/**
 * A restored training state: the network with its updater state, and where training stood.
 * {@code epochsDone} epochs are complete and {@code batchesDone} batches of the next one; the data
 * order and the random streams are derived from {@code seed}, the epoch and the batch, so they need
 * no more than these numbers to continue exactly. {@code shape} is the images and classes the model
 * was built for, where the checkpoint records them.
 */
public record Checkpoint(Path file, Net net, int epochsDone, int batchesDone, long seed, long rngState, java.util.Optional<CheckpointStore.Best> best,
        java.util.Optional<Models.Shape> shape)
{
    public Checkpoint(Path file, Net net, int epochsDone, int batchesDone, long seed, long rngState)
    {
        this(file, net, epochsDone, batchesDone, seed, rngState, java.util.Optional.empty(), java.util.Optional.empty());
    }

    public Checkpoint
    {
        requireNonNull(best, "best is null");
        requireNonNull(shape, "shape is null");
        requireNonNull(file, "file is null");
        requireNonNull(net, "net is null");
        if (epochsDone < 0 || batchesDone < 0) {
            throw new IllegalArgumentException("negative position: epoch " + epochsDone + ", batch " + batchesDone);
        }
    }
}
