package dev.tranche.bench;

import dev.tranche.cli.CommandProvider;

import java.util.List;

/** Adds {@code tranche bench} to the command line when this module is on the class path (`./tranche bench ...`). */
public final class BenchCommands
        implements CommandProvider
{
    @Override
    public List<Object> commands()
    {
        return List.of(new BenchCommand());
    }
}
