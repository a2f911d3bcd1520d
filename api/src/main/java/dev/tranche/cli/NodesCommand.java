package dev.tranche.cli;

import dev.tranche.proto.v1.Gpu;
import dev.tranche.proto.v1.GpuShare;
import dev.tranche.proto.v1.Node;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "nodes", description = "Every node and GPU: milli-GPUs used and which experiments hold them.")
final class NodesCommand
        implements Callable<Integer>
{
    @Spec
    CommandSpec spec;

    @Mixin
    ClientOptions client;

    @Override
    public Integer call()
    {
        return client.show(spec, tranche -> tranche.listNodes(), (out, nodes) -> {
            if (nodes.getNodesCount() == 0) {
                out.println("No nodes. Declare some with 'tranche server --local-nodes 2 --gpus-per-node 4', or connect an execution backend.");
                return;
            }
            // the device column only where a backend reports devices (Kubernetes: what the device plugin gave each reserved GPU)
            boolean devices = nodes.getNodesList().stream().flatMap(node -> node.getGpusList().stream()).anyMatch(gpu -> !gpu.getDeviceId().isEmpty());
            Table table = devices ? new Table("NODE", "GPU", "DEVICE", "MODEL", "MEMORY", "USED", "HELD BY") : new Table("NODE", "GPU", "MODEL", "MEMORY", "USED", "HELD BY");
            long totalMilli = 0;
            long usedMilli = 0;
            for (Node node : nodes.getNodesList()) {
                String name = node.getName() + (node.getSchedulable() ? "" : " (unschedulable)");
                if (node.getGpusCount() == 0) {
                    List<String> cells = new ArrayList<>(List.of(name));
                    while (cells.size() < (devices ? 7 : 6)) {
                        cells.add("-");
                    }
                    table.row(cells.toArray(String[]::new));
                }
                for (Gpu gpu : node.getGpusList()) {
                    List<String> holders = new ArrayList<>();
                    for (GpuShare share : gpu.getHoldersList()) {
                        holders.add(share.getExperimentId() + (share.getReplica() > 0 ? "/" + share.getReplica() : "") + " " + Formats.number(share.getMilli() / 1000.0)
                                + " (" + share.getProject() + ")");
                    }
                    List<String> cells = new ArrayList<>(List.of(name, Integer.toString(gpu.getIndex())));
                    if (devices) {
                        cells.add(gpu.getDeviceId().isEmpty() ? "-" : gpu.getDeviceId());
                    }
                    cells.addAll(List.of(gpu.getModel(), gpu.getMemoryMib() / 1024 + " GiB",
                            bar(gpu.getUsedMilli()) + " " + gpu.getUsedMilli() + "/1000", holders.isEmpty() ? "-" : String.join(", ", holders)));
                    table.row(cells.toArray(String[]::new));
                    totalMilli += 1000;
                    usedMilli += gpu.getUsedMilli();
                }
            }
            table.print(out);
            out.printf("%d nodes, %s of %s GPUs allocated%n", nodes.getNodesCount(), Formats.number(usedMilli / 1000.0), Formats.number(totalMilli / 1000.0));
        });
    }

    /** A ten-cell bar, so fragmentation shows at a glance. */
    private static String bar(int milli)
    {
        int filled = (int) Math.round(milli / 100.0);
        return "[" + "#".repeat(filled) + ".".repeat(10 - filled) + "]";
    }
}
