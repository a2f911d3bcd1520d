package dev.tranche.scheduler.cli;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.tranche.client.TrancheClient;
import dev.tranche.proto.v1.ExperimentSpec;
import dev.tranche.proto.v1.ExperimentState;
import dev.tranche.proto.v1.GpuRequest;
import dev.tranche.proto.v1.WaitingReason;
import dev.tranche.scheduler.inventory.DeclaredInventory;
import dev.tranche.scheduler.testing.CliRun;
import dev.tranche.scheduler.testing.Specs;
import dev.tranche.scheduler.testing.TestingScheduler;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Why an experiment waits, typed from the scheduling core to the user: the reason's code and the
 * per-node fit counts, through PostgreSQL and gRPC, as `tranche describe` (table and JSON) and
 * `tranche list -o json` show them.
 */
final class WaitingReasonCliTest
{
    private TestingScheduler scheduler;
    private TrancheClient client;

    @TempDir
    Path files;

    @BeforeEach
    void start()
    {
        // 2 nodes with 1 GPU each
        scheduler = new TestingScheduler(Optional.of(DeclaredInventory.of(2, 1, 24 * 1024)));
        client = scheduler.client();
    }

    @AfterEach
    void stop()
    {
        scheduler.close();
    }

    @Test
    void anExperimentThatCannotBePlacedSaysWhyWithTheFitCounts()
            throws IOException
    {
        String first = submit("holder-1", 1);
        String second = submit("holder-2", 1);
        await().atMost(Duration.ofSeconds(30)).until(() -> client.get(first).getState() == ExperimentState.SCHEDULED
                && client.get(second).getState() == ExperimentState.SCHEDULED);
        String waits = submit("waits", 1);
        String tooBig = submit("too-big", 2);
        await().atMost(Duration.ofSeconds(30)).until(() -> client.get(waits).getWaiting().getReason() == WaitingReason.NO_FIT
                && client.get(tooBig).getWaiting().getReason() == WaitingReason.NEVER_FITS);

        JsonObject described = JsonParser.parseString(tranche("describe", waits, "-o", "json")).getAsJsonObject();
        JsonObject waiting = described.getAsJsonObject("waiting");
        assertThat(waiting.get("reason").getAsString()).isEqualTo("NO_FIT");
        assertThat(waiting.get("message").getAsString()).startsWith("no node fits 1 replica").contains("2 nodes lack free GPU");
        JsonArray failing = waiting.getAsJsonArray("nodes_failing");
        assertThat(failing).hasSize(1);
        assertThat(failing.get(0).getAsJsonObject().get("check").getAsString()).isEqualTo("INSUFFICIENT_GPU");
        assertThat(failing.get(0).getAsJsonObject().get("nodes").getAsInt()).isEqualTo(2);
        assertThat(waiting.has("fitting_nodes")).as("0 fitting nodes, left out of proto JSON").isFalse();
        assertThat(tranche("describe", waits)).contains("Waiting:     NO_FIT, nodes failing a check for one replica: INSUFFICIENT_GPU 2; 0 nodes fit one");

        // a gang of 2-GPU replicas on 1-GPU nodes: no cycle will ever place it, and the counts say why
        JsonObject never = JsonParser.parseString(tranche("describe", tooBig, "-o", "json")).getAsJsonObject().getAsJsonObject("waiting");
        assertThat(never.get("reason").getAsString()).isEqualTo("NEVER_FITS");
        assertThat(never.getAsJsonArray("nodes_failing").get(0).getAsJsonObject().get("check").getAsString()).isEqualTo("TOO_FEW_GPUS");
        assertThat(never.getAsJsonArray("nodes_failing").get(0).getAsJsonObject().get("nodes").getAsInt()).isEqualTo(2);

        // the list carries the same, and placed experiments carry none
        JsonObject list = JsonParser.parseString(tranche("list", "-o", "json")).getAsJsonObject();
        List<String> reasons = new ArrayList<>();
        list.getAsJsonArray("experiments").forEach(each -> {
            JsonObject experiment = each.getAsJsonObject();
            reasons.add(experiment.getAsJsonObject("spec").get("name").getAsString() + "="
                    + (experiment.has("waiting") ? experiment.getAsJsonObject("waiting").get("reason").getAsString() : "-"));
        });
        assertThat(reasons).containsExactlyInAnyOrder("holder-1=-", "holder-2=-", "waits=NO_FIT", "too-big=NEVER_FITS");

        // once room is made, the waiting one is placed and its reason goes with its new state
        client.cancel(first, "make room");
        await().atMost(Duration.ofSeconds(30)).until(() -> client.get(waits).getState() == ExperimentState.SCHEDULED);
        assertThat(client.get(waits).hasWaiting()).isFalse();
        assertThat(tranche("describe", waits)).doesNotContain("Waiting:");
    }

    @Test
    void aNewSubmissionIsQueuedWithTheReasonItWasGiven()
    {
        // before any cycle has considered it, the wait is QUEUED and says what submission said
        var experiment = client.submit(Specs.named("fresh", "default")).getExperiment();
        assertThat(experiment.getWaiting().getReason()).isEqualTo(WaitingReason.QUEUED);
        assertThat(experiment.getWaiting().getMessage()).isEqualTo(experiment.getReason()).isNotBlank();
    }

    private String submit(String name, int gpus)
    {
        ExperimentSpec spec = Specs.named(name, "default");
        spec = spec.toBuilder().setResources(spec.getResources().toBuilder().setGpu(GpuRequest.newBuilder().setCount(gpus))).build();
        return client.submit(spec).getExperiment().getId();
    }

    private String tranche(String... args)
            throws IOException
    {
        Path token = files.resolve("admin.token");
        if (!Files.exists(token)) {
            Files.writeString(token, TestingScheduler.ADMIN_TOKEN);
        }
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(List.of("--server", scheduler.target(), "--token-file", token.toString()));
        CliRun run = CliRun.of(all);
        assertThat(run.code()).as(run.err()).isZero();
        return run.out();
    }
}
