package dev.tranche.scheduler.server;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Optional;

/**
 * Makes one scheduler the only user of a home directory. The operating system drops the lock when
 * the process dies, however it dies, so a killed scheduler never blocks the next one.
 */
final class HomeLock
        implements AutoCloseable
{
    private final FileChannel channel;
    private final FileLock lock;

    private HomeLock(FileChannel channel, FileLock lock)
    {
        this.channel = channel;
        this.lock = lock;
    }

    static HomeLock acquire(Path home)
    {
        return tryAcquire(home).orElseThrow(() -> new IllegalStateException("another Tranche scheduler is running with home " + home
                + "; stop it, or give this one its own --home (or $TRANCHE_HOME)"));
    }

    /** The lock, or empty while a scheduler holds it. */
    static Optional<HomeLock> tryAcquire(Path home)
    {
        Path file = home.resolve("scheduler.lock");
        try {
            Files.createDirectories(home);
            FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            FileLock lock;
            try {
                lock = channel.tryLock();
            }
            catch (IOException | RuntimeException e) {
                channel.close();
                throw e;
            }
            if (lock == null) {
                channel.close();
                return Optional.empty();
            }
            return Optional.of(new HomeLock(channel, lock));
        }
        catch (IOException e) {
            throw new UncheckedIOException("cannot lock " + file, e);
        }
    }

    @Override
    public void close()
    {
        try {
            lock.release();
            channel.close();
        }
        catch (IOException ignored) {
            // the lock goes with the process anyway
        }
    }
}
