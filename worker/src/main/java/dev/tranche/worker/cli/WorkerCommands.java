package dev.tranche.worker.cli;

import dev.tranche.cli.CommandProvider;

import java.util.List;

/** The commands the worker module adds to {@code tranche}. */
public final class WorkerCommands
        implements CommandProvider
{
    @Override
    public List<Object> commands()
    {
        return List.of(new TrainCommand(), new WorkerCommand(), new GpuReservationCommand());
    }
}
