package dev.tranche.worker.cli;

import dev.tranche.worker.train.EpochResult;
import dev.tranche.worker.train.TrainingEvents;

import java.io.PrintWriter;

import static java.util.Objects.requireNonNull;

/** Progress for people: one line per group of steps and per epoch. */
final class ConsoleEvents
        implements TrainingEvents
{
    private final PrintWriter out;

    ConsoleEvents(PrintWriter out)
    {
        this.out = requireNonNull(out, "out is null");
    }

    @Override
    public void step(int epoch, int epochs, int batch, int batches, long step, double loss, double imagesPerSecond, double learningRate, double etaSeconds)
    {
        out.printf("epoch %d/%d  batch %d/%d  loss %.4f  %.0f images/s  ETA %s%n", epoch, epochs, batch, batches, loss, imagesPerSecond, duration(etaSeconds));
        out.flush();
    }

    @Override
    public void epoch(EpochResult r)
    {
        out.printf("epoch %d/%d done in %s: train loss %.4f, validation loss %.4f, validation accuracy %.4f, %.0f images/s%n",
                r.epoch(), r.epochs(), duration(r.seconds()), r.trainLoss(), r.validationLoss(), r.validationAccuracy(), r.imagesPerSecond());
        out.flush();
    }

    @Override
    public void info(String message)
    {
        out.println(message);
        out.flush();
    }

    static String duration(double seconds)
    {
        if (!Double.isFinite(seconds) || seconds < 0) {
            return "?";
        }
        long s = Math.round(seconds);
        return s >= 3600 ? String.format("%dh%02dm", s / 3600, s / 60 % 60) : s >= 60 ? String.format("%dm%02ds", s / 60, s % 60) : s + "s";
    }
}
