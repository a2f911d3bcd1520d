package dev.tranche.scheduler.service;

import java.util.concurrent.ConcurrentHashMap;

/** Streams open at once per key (a caller's token), bounded, so one caller cannot hold the server's memory with streams it never reads. */
final class OpenStreams
{
    private final int limit;
    private final ConcurrentHashMap<String, Integer> open = new ConcurrentHashMap<>();

    OpenStreams(int limit)
    {
        if (limit < 1) {
            throw new IllegalArgumentException("limit must be at least 1: got " + limit);
        }
        this.limit = limit;
    }

    /** Counts one more stream under the key, unless the key already has its limit open. */
    boolean tryOpen(String key)
    {
        boolean[] opened = {false};
        open.compute(key, (ignored, count) -> {
            int now = count == null ? 0 : count;
            if (now >= limit) {
                return count;
            }
            opened[0] = true;
            return now + 1;
        });
        return opened[0];
    }

    /** One stream under the key ended; call once per successful {@link #tryOpen}. */
    void close(String key)
    {
        open.computeIfPresent(key, (ignored, count) -> count <= 1 ? null : count - 1);
    }
}
