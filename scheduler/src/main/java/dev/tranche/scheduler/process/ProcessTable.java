package dev.tranche.scheduler.process;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A snapshot of this machine's processes with the session each belongs to, read from /proc (Linux).
 * A process started with setsid leads a session that all its descendants join and stay in, even
 * when the leader dies and they are re-parented: the session, not the process tree, is what holds
 * "every process of one replica" (or of one PostgreSQL server). The kernel does not give a session's
 * id to a new process while any member is alive, so a session id found alive is the one recorded.
 */
public final class ProcessTable
{
    private static final Path PROC = Path.of("/proc");

    private final List<Entry> entries;

    private ProcessTable(List<Entry> entries)
    {
        this.entries = List.copyOf(entries);
    }

    /** One live process: zombies (exited, not yet reaped) are left out. */
    public record Entry(long pid, long parent, long session, long startTicks) {}

    /** Reads the process table now: one pass over /proc. */
    public static ProcessTable read()
    {
        List<Entry> entries = new ArrayList<>();
        try (DirectoryStream<Path> processes = Files.newDirectoryStream(PROC, path -> path.getFileName().toString().chars().allMatch(Character::isDigit))) {
            for (Path process : processes) {
                entry(Long.parseLong(process.getFileName().toString())).ifPresent(entries::add);
            }
        }
        catch (IOException e) {
            // no /proc: nothing can be found (the local backend documents Linux)
        }
        return new ProcessTable(entries);
    }

    /** The live members of session {@code session}. */
    public List<Entry> session(long session)
    {
        return entries.stream().filter(entry -> entry.session() == session).toList();
    }

    /** Every live process. */
    public List<Entry> entries()
    {
        return entries;
    }

    /** One process read from /proc/PID/stat; empty if it is gone or a zombie. */
    public static Optional<Entry> entry(long pid)
    {
        String stat;
        try {
            stat = Files.readString(PROC.resolve(Long.toString(pid)).resolve("stat"));
        }
        catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
        // "pid (comm) state ppid pgrp session ... starttime(22)": comm may hold spaces and parentheses
        int close = stat.lastIndexOf(')');
        if (close < 0 || close + 2 >= stat.length()) {
            return Optional.empty();
        }
        String[] fields = stat.substring(close + 2).split(" ");
        if (fields.length < 20 || fields[0].equals("Z") || fields[0].equals("X")) {
            return Optional.empty();
        }
        try {
            return Optional.of(new Entry(pid, Long.parseLong(fields[1]), Long.parseLong(fields[3]), Long.parseLong(fields[19])));
        }
        catch (NumberFormatException e) {
            return Optional.empty();
        }
    }
}
