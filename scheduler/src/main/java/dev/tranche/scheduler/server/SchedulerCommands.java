package dev.tranche.scheduler.server;

import dev.tranche.cli.CommandProvider;
import dev.tranche.scheduler.bench.BenchCommand;
import dev.tranche.scheduler.simulation.SimulateCommand;

import java.util.List;

/** The commands the scheduler module adds to {@code tranche}. */
public final class SchedulerCommands
        implements CommandProvider
{
    @Override
    public List<Object> commands()
    {
        return List.of(new ServerCommand(), new DemoCommand(), new BenchCommand(), new AdminCommand(), new SimulateCommand());
    }
}
