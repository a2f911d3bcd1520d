package dev.tranche.scheduler.simulation;

import dev.tranche.scheduler.simulation.TraceFormatException;
import dev.tranche.scheduler.core.model.GpuRequest;
import dev.tranche.scheduler.core.model.Node;
import dev.tranche.scheduler.core.model.ReplicaPlacement;
import dev.tranche.scheduler.core.model.RunningAllocation;
import dev.tranche.scheduler.outcome.Outcomes;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.PriorityQueue;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TestSimulator
{
    private static Path excerpt()
            throws URISyntaxException
    {
        return Path.of(TestSimulator.class.getResource("/simulation/philly-excerpt.csv").toURI());
    }

    private static Simulator.Settings settings(int nodes, int gpus, String policy)
    {
        return new Simulator.Settings(nodes, gpus, policy, Optional.empty(), 1800, 60, "fgd");
    }

    @Test
    void invariantsHoldAtEveryCycleForEveryPolicy()
            throws Exception
    {
        List<TraceJob> trace = TraceReader.philly(excerpt(), 8);
        for (String policy : Simulator.POLICIES) {
            int[] cycles = new int[1];
            int[] eventsBefore = new int[1];
            Simulator.Result result = new Simulator(trace, settings(4, 8, policy), view -> {
                cycles[0]++;
                checkCluster(view);
                // the protocol runs a cycle only where a job arrives or finishes; the old completion
                // time of a preempted attempt is neither
                int events = view.arrived() + view.finished();
                assertThat(events).as(policy + ": something arrived or finished before the cycle at t=" + view.now()).isGreaterThan(eventsBefore[0]);
                eventsBefore[0] = events;
            }).run();
            assertThat(cycles[0]).as(policy).isEqualTo(result.cycles()).isGreaterThan(50);
            assertThat(result.summary().jobs() + result.dropped()).as(policy + ": every job finished or dropped").isEqualTo(trace.size());
            assertThat(result.dropped()).as(policy + ": jobs above 32 GPUs").isEqualTo((int) trace.stream().filter(job -> job.gpuMilli() > 32_000).count());
        }
    }

    private static void checkCluster(Simulator.CycleView view)
    {
        Map<String, Node> nodes = new HashMap<>();
        view.nodes().forEach(node -> nodes.put(node.name(), node));
        Map<String, Integer> milli = new HashMap<>();
        Set<String> ids = new HashSet<>();
        for (RunningAllocation allocation : view.running()) {
            assertThat(ids.add(allocation.experimentId())).as("running once: " + allocation.experimentId()).isTrue();
            TraceJob job = view.jobsById().get(allocation.experimentId());
            assertThat(allocation.replicas()).as("gang whole: " + job.id()).hasSize(job.replicas());
            for (ReplicaPlacement replica : allocation.replicas()) {
                Node node = nodes.get(replica.node());
                assertThat(node).as("known node").isNotNull();
                assertThat(replica.gpuMilli()).as("replica of " + job.id() + " holds what it asked").hasSize(job.gpu().count());
                replica.gpuMilli().forEach((gpu, amount) -> {
                    assertThat(gpu).isBetween(0, node.gpus().size() - 1);
                    milli.merge(replica.node() + "/" + gpu, amount, Integer::sum);
                });
            }
        }
        milli.forEach((gpu, amount) -> assertThat(amount).as("GPU " + gpu + " at t=" + view.now() + " never over-committed").isLessThanOrEqualTo(1000));
        assertThat(view.pending() + view.running().size() + view.finished() + view.dropped()).as("nothing lost at t=" + view.now()).isEqualTo(view.arrived());
        view.decisions().placements().forEach(placement -> assertThat(placement.replicas()).hasSize(view.jobsById().get(placement.experimentId()).replicas()));
    }

    @Test
    void fifoOnOnePoolFollowsTheReplayProtocol()
            throws Exception
    {
        List<TraceJob> trace = TraceReader.philly(excerpt(), 24);
        Simulator.Result result = new Simulator(trace, settings(1, 24, "fifo"), Simulator.CycleCheck.NONE).run();
        double[] expected = referenceFifo(trace, 24);
        assertThat(result.summary().preemptions()).isZero();
        assertThat(result.summary().avgJctSeconds()).isCloseTo(expected[0], org.assertj.core.data.Offset.offset(1e-6));
        assertThat(result.summary().avgWaitSeconds()).isCloseTo(expected[1], org.assertj.core.data.Offset.offset(1e-6));
        assertThat(result.summary().avgWaitSeconds()).as("the pool is contended").isGreaterThan(60);
    }

    /** The README's protocol written out plainly, on one pool of GPUs: [avg JCT, avg wait]. */
    private static double[] referenceFifo(List<TraceJob> trace, int gpus)
    {
        List<TraceJob> queue = new ArrayList<>();
        PriorityQueue<double[]> running = new PriorityQueue<>((a, b) -> Double.compare(a[0], b[0]));
        int free = gpus;
        int next = 0;
        double jct = 0;
        double wait = 0;
        int count = 0;
        while (next < trace.size() || !running.isEmpty()) {
            double t = Math.min(next < trace.size() ? trace.get(next).arrivalSecond() : Double.POSITIVE_INFINITY,
                    running.isEmpty() ? Double.POSITIVE_INFINITY : running.peek()[0]);
            while (!running.isEmpty() && running.peek()[0] == t) {
                free += (int) running.poll()[1];
            }
            while (next < trace.size() && trace.get(next).arrivalSecond() == t) {
                TraceJob job = trace.get(next++);
                if (job.gpuMilli() <= gpus * 1000L) {
                    queue.add(job);
                }
            }
            List<TraceJob> left = new ArrayList<>();
            for (TraceJob job : queue) {
                int need = (int) (job.gpuMilli() / 1000);
                if (need <= free) {
                    free -= need;
                    running.add(new double[] {t + job.durationSeconds(), need});
                    jct += t + job.durationSeconds() - job.arrivalSecond();
                    wait += t - job.arrivalSecond();
                    count++;
                }
                else {
                    left.add(job);
                }
            }
            queue = left;
        }
        return new double[] {jct / count, wait / count};
    }

    @Test
    void theBacklogWindowChangesNoOutcome()
            throws Exception
    {
        List<TraceJob> trace = TraceReader.philly(excerpt(), 8);
        for (String policy : Simulator.POLICIES) {
            // several sizes: how congested the cluster is decides how much the window leaves out
            for (int nodes : new int[] {1, 2, 3, 5}) {
                Outcomes.Summary windowed = new Simulator(trace, settings(nodes, 8, policy), Simulator.CycleCheck.NONE, true).run().summary();
                Outcomes.Summary whole = new Simulator(trace, settings(nodes, 8, policy), Simulator.CycleCheck.NONE, false).run().summary();
                assertThat(windowed).as(policy + " on " + nodes + " x 8 GPUs").isEqualTo(whole);
            }
        }
    }

    @Test
    void lasAndTrancheBeatFifoOnACongestedExcerpt()
            throws Exception
    {
        List<TraceJob> trace = TraceReader.philly(excerpt(), 8);
        Map<String, Outcomes.Summary> results = new HashMap<>();
        for (String policy : Simulator.POLICIES) {
            results.put(policy, new Simulator(trace, settings(2, 8, policy), Simulator.CycleCheck.NONE).run().summary());
        }
        assertThat(results.get("las").avgJctSeconds()).isLessThan(results.get("fifo").avgJctSeconds());
        assertThat(results.get("las").preemptions()).isPositive();
        assertThat(results.get("sjf-oracle").avgJctSeconds()).isLessThan(results.get("fifo").avgJctSeconds());
        assertThat(results.get("fifo").preemptions()).isZero();
        assertThat(results.get("sjf-oracle").preemptions()).isZero();
    }

    @Test
    void trancheFormatReadsFractionsAndNamesBadFields(@TempDir Path dir)
            throws IOException
    {
        Path good = dir.resolve("history.csv");
        Files.writeString(good, TraceReader.TRANCHE_HEADER + "\n2026-11-30T08:00:10Z,vision,2,0.25,600,1\n2026-11-30T08:00:00Z,nlp,1,4,60,\n");
        List<TraceJob> jobs = TraceReader.tranche(good);
        assertThat(jobs).extracting(TraceJob::project).containsExactly("nlp", "vision");
        assertThat(jobs.get(1).gpu()).isEqualTo(GpuRequest.fraction(250));
        assertThat(jobs.get(1).arrivalSecond()).isEqualTo(10);
        assertThat(jobs.get(1).priority()).isEqualTo(1);

        Path bad = dir.resolve("bad.csv");
        Files.writeString(bad, TraceReader.TRANCHE_HEADER + "\n2026-11-30T08:00:00Z,nlp,1,4,60,0\n2026-11-30T08:00:00Z,nlp,1,1.5,60,0\n");
        assertThatThrownBy(() -> TraceReader.tranche(bad)).isInstanceOf(TraceFormatException.class)
                .hasMessageContaining("line 3 column 4 (gpus)").hasMessageContaining("1.5");
        Path philly = dir.resolve("philly.csv");
        Files.writeString(philly, "timestamp,duration,num_gpus,gpu_time,cluster\n2017-10-03 noon,10,1,10,a\n");
        assertThatThrownBy(() -> TraceReader.philly(philly, 8)).hasMessageContaining("line 2 column 1 (timestamp)");
    }
}
