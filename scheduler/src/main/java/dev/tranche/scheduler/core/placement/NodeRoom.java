package dev.tranche.scheduler.core.placement;

import dev.tranche.scheduler.core.model.Gpu;
import dev.tranche.scheduler.core.model.GpuRequest;
import dev.tranche.scheduler.core.model.Node;

/**
 * What the fit checks read of a node: the room it has now ({@link NodeShape}), or all of it as if it
 * were empty ({@link #empty}). One set of checks ({@link Placer}'s) reads either, so "why not now" and
 * "why never" cannot disagree about what a check means.
 */
interface NodeRoom
{
    boolean schedulable();

    long cpuFree();

    long memoryFree();

    int gpuCount();

    int gpuFree(int position);

    String gpuModel(int position);

    long gpuMemoryMib(int position);

    /** The node with nothing on it, cordoned or not: what it could ever take. */
    static NodeRoom empty(Node node)
    {
        return new NodeRoom()
        {
            @Override
            public boolean schedulable()
            {
                return true;
            }

            @Override
            public long cpuFree()
            {
                return node.cpuMilli();
            }

            @Override
            public long memoryFree()
            {
                return node.memoryMib();
            }

            @Override
            public int gpuCount()
            {
                return node.gpus().size();
            }

            @Override
            public int gpuFree(int position)
            {
                return GpuRequest.MILLI_PER_GPU;
            }

            @Override
            public String gpuModel(int position)
            {
                return gpu(position).model();
            }

            @Override
            public long gpuMemoryMib(int position)
            {
                return gpu(position).memoryMib();
            }

            private Gpu gpu(int position)
            {
                return node.gpus().get(position);
            }
        };
    }
}
