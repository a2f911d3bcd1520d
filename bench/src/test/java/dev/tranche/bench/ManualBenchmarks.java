package dev.tranche.bench;

import dev.tranche.scheduler.core.model.Node;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Run by hand, not by the build (the measurements behind docs/scheduling-core.md):
 * <pre>
 * ./mvnw -B -q -o -pl scheduler test-compile
 * CP=scheduler/target/classes:scheduler/target/test-classes
 * java -cp $CP dev.tranche.bench.ManualBenchmarks placement /work/shared/traces/alibaba-openb fgd,best-fit
 * java -Xmx6g -cp $CP dev.tranche.bench.ManualBenchmarks scale 10000 100000 1000 20
 * java -cp $CP dev.tranche.bench.ManualBenchmarks reclaim 500 4000 200
 * </pre>
 */
public final class ManualBenchmarks
{
    private ManualBenchmarks() {}

    public static void main(String[] args)
    {
        if (args.length == 0) {
            throw new IllegalArgumentException("usage: placement <openb dir> <policies> | scale <nodes> <pending> <submissions/s> <cycles> | reclaim <nodes> <running> <repetitions>");
        }
        switch (args[0]) {
            case "placement" -> {
                Path dir = Path.of(args[1]);
                List<Node> nodes = OpenbTraceReader.readNodes(dir.resolve("openb_node_list_gpu_node.csv"));
                List<TraceTask> tasks = OpenbTraceReader.readTasks(dir.resolve("openb_pod_list_default.csv"));
                List<Long> seeds = new ArrayList<>();
                for (long seed = 42; seed <= 51; seed++) {
                    seeds.add(seed);
                }
                for (String policy : args[2].split(",")) {
                    PlacementBenchmark.Result result = PlacementBenchmark.run(nodes, tasks, policy, 1.3, seeds);
                    System.out.printf(Locale.ROOT, "%-12s alloc@100%%=%.2f alloc@130%%=%.2f sweep(10 seeds)=%.2fs placed/seed=%.0f failed/seed=%.0f%n",
                            result.policy(), result.allocAt100(), result.allocAt130(), result.wallSeconds(), result.placed(), result.failed());
                }
            }
            case "scale" -> System.out.println(ScaleBenchmark.run(Integer.parseInt(args[1]), Integer.parseInt(args[2]), Integer.parseInt(args[3]), Integer.parseInt(args[4]), "fgd", 42));
            case "reclaim" -> System.out.println(ScaleBenchmark.reclaim(Integer.parseInt(args[1]), Integer.parseInt(args[2]), Integer.parseInt(args[3]), Integer.parseInt(args[3]), 42));
            default -> throw new IllegalArgumentException("unknown benchmark " + args[0]);
        }
    }
}
