package dev.tranche.bench;

import dev.tranche.scheduler.simulation.TraceFormatException;
import dev.tranche.scheduler.core.model.GpuRequest;
import dev.tranche.scheduler.core.model.Node;
import dev.tranche.scheduler.core.model.ResourceRequest;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TestOpenbTraceReader
{
    @Test
    void readsNodes()
    {
        List<Node> nodes = OpenbTraceReader.readNodes("nodes.csv", """
                sn,cpu_milli,memory_mib,gpu,model
                node-0,64000,262144,2,V100M16
                cpu-only,32000,131072,0,
                """);

        assertThat(nodes).hasSize(2);
        assertThat(nodes.get(0).name()).isEqualTo("node-0");
        assertThat(nodes.get(0).gpus()).hasSize(2);
        assertThat(nodes.get(0).gpus().get(1).model()).isEqualTo("V100M16");
        assertThat(nodes.get(0).gpus().get(1).memoryMib()).isEqualTo(16_384);
        assertThat(nodes.get(1).gpus()).isEmpty();
    }

    @Test
    void readsTasksWithExtraColumnsAndModelLists()
    {
        List<TraceTask> tasks = OpenbTraceReader.readTasks("pods.csv", """
                name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,pod_phase,creation_time,deletion_time,scheduled_time
                p0,12000,16384,1,460,,LS,Running,0,12537496,0
                p1,6000,12288,2,1000,V100M16|V100M32,LS,Running,1,2,1
                p2,8000,30517,0,0,,BE,Running,1,2,1
                p3,8000,30517,1,1000,,BE,Running,1,2,1
                """);

        assertThat(tasks).extracting(TraceTask::toRequest).containsExactly(
                new ResourceRequest(GpuRequest.fraction(460), 12_000, 16_384),
                new ResourceRequest(GpuRequest.whole(2).onModels(Set.of("V100M16", "V100M32")), 6_000, 12_288),
                new ResourceRequest(GpuRequest.none(), 8_000, 30_517),
                new ResourceRequest(GpuRequest.whole(1), 8_000, 30_517));
        assertThat(tasks).extracting(TraceTask::requestedGpuMilli).containsExactly(460L, 2000L, 0L, 1000L);
    }

    /** Several official lists of the openb family have no gpu_spec column; the simulator also reads lists without gpu_milli or memory_mib. */
    @Test
    void optionalColumnsMayBeMissing()
    {
        List<TraceTask> withoutSpec = OpenbTraceReader.readTasks("pods.csv", """
                name,cpu_milli,memory_mib,num_gpu,gpu_milli,qos,pod_phase,creation_time,deletion_time,scheduled_time
                p0,12000,16384,1,460,LS,Running,0,12537496,0
                p1,6000,12288,0,0,LS,Running,1,2,1
                """);
        assertThat(withoutSpec).extracting(TraceTask::toRequest).containsExactly(
                new ResourceRequest(GpuRequest.fraction(460), 12_000, 16_384),
                new ResourceRequest(GpuRequest.none(), 6_000, 12_288));

        List<TraceTask> bare = OpenbTraceReader.readTasks("pods.csv", """
                name,cpu_milli,num_gpu
                p0,12000,2
                """);
        assertThat(bare).extracting(TraceTask::toRequest).containsExactly(new ResourceRequest(GpuRequest.whole(2), 12_000, 0));
    }

    @Test
    void badNumbersNameFileLineAndColumn()
    {
        assertThatThrownBy(() -> OpenbTraceReader.readNodes("nodes.csv", """
                sn,cpu_milli,memory_mib,gpu,model
                node-0,64000,262144,2,P100
                node-1,lots,262144,2,P100
                """))
                .isInstanceOf(TraceFormatException.class)
                .hasMessage("nodes.csv line 3 column 2 (cpu_milli): expected a non-negative integer, got 'lots'");
    }

    @Test
    void badValuesNameTheLine()
    {
        assertThatThrownBy(() -> OpenbTraceReader.readTasks("pods.csv", """
                name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec
                p0,1000,1024,1,1500,
                """))
                .isInstanceOf(TraceFormatException.class)
                .hasMessage("pods.csv line 2: task p0 asks 1500 gpu_milli; must be 1..1000 when num_gpu > 0");
    }

    @Test
    void missingColumnsAndRaggedRowsAreReported()
    {
        assertThatThrownBy(() -> OpenbTraceReader.readTasks("pods.csv", "name,cpu_milli\np0,1\n"))
                .hasMessage("pods.csv line 1: missing column 'num_gpu'; header is 'name,cpu_milli'");
        assertThatThrownBy(() -> OpenbTraceReader.readNodes("nodes.csv", "sn,cpu_milli,memory_mib,gpu,model\nn0,1,2\n"))
                .hasMessage("nodes.csv line 2: expected 5 columns, found 3");
        assertThatThrownBy(() -> OpenbTraceReader.readNodes("nodes.csv", ""))
                .hasMessage("nodes.csv: the file is empty; expected a header with sn,cpu_milli,memory_mib,gpu,model");
    }
}
