package dev.tranche.scheduler.security;

import java.util.List;

/** Where audit entries are appended and read back, newest first; the store package implements it. */
public interface AuditStore
{
    void append(List<AuditEntry> entries);

    List<AuditEntry> list(int limit, long beforeId, boolean deniedOnly);
}
