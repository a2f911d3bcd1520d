package dev.tranche.scheduler.inventory;

/** Who holds how much of which GPU of a node. */
public record GpuHolder(int gpuIndex, String experimentId, String project, int replica, int milli) {}
