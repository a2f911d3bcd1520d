package dev.tranche.scheduler.cli;

import dev.tranche.cli.CommandProvider;
import dev.tranche.scheduler.server.AdminCommand;
import dev.tranche.scheduler.server.DemoCommand;
import dev.tranche.scheduler.server.ServerCommand;
import dev.tranche.scheduler.simulation.SimulateCommand;

import java.util.List;

/**
 * The commands the scheduler module adds to {@code tranche}: the top of the module's package graph
 * (it may import every command's package; none imports it back).
 */
public final class SchedulerCommands
        implements CommandProvider
{
    @Override
    public List<Object> commands()
    {
        return List.of(new ServerCommand(), new DemoCommand(), new AdminCommand(), new SimulateCommand());
    }
}
