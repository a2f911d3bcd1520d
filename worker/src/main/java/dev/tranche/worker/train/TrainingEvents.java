package dev.tranche.worker.train;

import java.util.List;

/** What training reports as it goes: the console and the metrics client both listen. */
public interface TrainingEvents
{
    /** After a group of steps: where training is, the last loss, throughput and the time left. */
    default void step(int epoch, int epochs, int batch, int batches, long step, double loss, double imagesPerSecond, double learningRate, double etaSeconds) {}

    default void epoch(EpochResult result) {}

    /** Once, at the end: the final model (of epoch {@code modelEpoch}, the best on validation) on the test images. */
    default void test(int modelEpoch, double loss, double accuracy) {}

    default void info(String message) {}

    static TrainingEvents all(List<TrainingEvents> listeners)
    {
        List<TrainingEvents> copy = List.copyOf(listeners);
        return new TrainingEvents()
        {
            @Override
            public void step(int epoch, int epochs, int batch, int batches, long step, double loss, double imagesPerSecond, double learningRate, double etaSeconds)
            {
                copy.forEach(l -> l.step(epoch, epochs, batch, batches, step, loss, imagesPerSecond, learningRate, etaSeconds));
            }

            @Override
            public void epoch(EpochResult result)
            {
                copy.forEach(l -> l.epoch(result));
            }

            @Override
            public void test(int modelEpoch, double loss, double accuracy)
            {
                copy.forEach(l -> l.test(modelEpoch, loss, accuracy));
            }

            @Override
            public void info(String message)
            {
                copy.forEach(l -> l.info(message));
            }
        };
    }
}
