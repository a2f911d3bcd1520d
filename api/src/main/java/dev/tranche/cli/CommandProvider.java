package dev.tranche.cli;

import java.util.List;

/**
 * Adds subcommands to {@code tranche} from another module (the scheduler adds {@code server},
 * {@code demo} and {@code bench}), found with {@link java.util.ServiceLoader} so the client module
 * does not depend on the server.
 */
public interface CommandProvider
{
    /** picocli command objects (classes annotated with {@code @Command}). */
    List<Object> commands();
}
