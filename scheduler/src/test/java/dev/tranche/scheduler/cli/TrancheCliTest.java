package dev.tranche.scheduler.cli;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.tranche.cli.Tranche;
import dev.tranche.scheduler.testing.CliRun;
import dev.tranche.scheduler.testing.TestingScheduler;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The tranche CLI against a real scheduler: output, JSON, exit codes and the server's messages. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
final class TrancheCliTest
{
    private static final Path EXAMPLE = Path.of("..", "docs", "examples", "fashion-mnist-lenet.yaml");

    private TestingScheduler scheduler;

    @TempDir
    Path files;

    @BeforeAll
    void start()
    {
        scheduler = new TestingScheduler();
    }

    @AfterAll
    void stop()
    {
        scheduler.close();
    }

    private Path adminTokenFile()
    {
        Path file = files.resolve("admin.token");
        try {
            if (!java.nio.file.Files.exists(file)) {
                java.nio.file.Files.writeString(file, TestingScheduler.ADMIN_TOKEN);
            }
        }
        catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return file;
    }

    private CliRun tranche(String... args)
    {
        List<String> all = new ArrayList<>(List.of(args));
        boolean needsServer = !all.isEmpty() && !all.contains("--server") && !all.get(0).equals("help") && !all.contains("--help");
        if (needsServer) {
            all.add("--server");
            all.add(scheduler.target());
            all.add("--token-file");
            all.add(adminTokenFile().toString());
        }
        return CliRun.of(all);
    }

    @Test
    void submitListDescribeCancel()
    {
        CliRun submit = tranche("submit", "-f", EXAMPLE.toString());
        assertThat(submit.code()).as(submit.err()).isZero();
        assertThat(submit.out()).matches("submitted exp-[0-9a-z]{10}: fashion-mnist-lenet in project default, PENDING \\(0.5 GPU\\)\\n");
        String id = submit.out().substring("submitted ".length(), "submitted ".length() + 14);

        CliRun list = tranche("list");
        assertThat(list.code()).isZero();
        assertThat(list.out()).startsWith("ID").contains(id).contains("fashion-mnist-lenet").contains("PENDING").contains("0.5 GPU");

        CliRun describe = tranche("describe", id);
        assertThat(describe.code()).isZero();
        assertThat(describe.out()).contains("ID:          " + id).contains("Replicas:    1, each 0.5 GPU, 2 CPU, 4096 MiB")
                .contains("Attempts:    none yet").contains("GPU time:    0.00 GPU-hours, all attempts")
                .contains("Timeline:").contains("submitted; waiting for the scheduler");

        CliRun cancel = tranche("cancel", id, "--reason", "testing");
        assertThat(cancel.code()).isZero();
        assertThat(cancel.out()).isEqualTo(id + ": CANCELLED (cancelled by user: testing)\n");

        CliRun cancelled = tranche("list", "--state", "cancelled", "-o", "json");
        assertThat(cancelled.code()).isZero();
        JsonObject json = JsonParser.parseString(cancelled.out()).getAsJsonObject();
        assertThat(json.getAsJsonArray("experiments")).hasSize(1);
        assertThat(json.getAsJsonArray("experiments").get(0).getAsJsonObject().get("id").getAsString()).isEqualTo(id);
    }

    @Test
    void usagePrintsEachProjectsShareAndWaitsAndRefusesABadPeriod()
    {
        scheduler.server().sampleUsage();
        CliRun usage = tranche("usage");
        assertThat(usage.code()).as(usage.err()).isZero();
        assertThat(usage.out()).startsWith("PROJECT").contains("default").contains("of its GPUs allocated on average over");
        CliRun json = tranche("usage", "--days", "1", "-o", "json");
        assertThat(json.code()).as(json.err()).isZero();
        JsonObject parsed = JsonParser.parseString(json.out()).getAsJsonObject();
        assertThat(parsed.getAsJsonArray("projects")).isNotEmpty();
        assertThat(parsed.getAsJsonArray("projects").get(0).getAsJsonObject().has("at")).isTrue();
        CliRun bad = tranche("usage", "--days", "91");
        assertThat(bad.code()).isEqualTo(1);
        assertThat(bad.err()).contains("days must be between 1 and 90 (0 means 7): got 91");
    }

    @Test
    void submitPrintsJsonOnRequestAndIsIdempotentWithRequestId()
    {
        CliRun first = tranche("submit", "-f", EXAMPLE.toString(), "--request-id", "cli-1", "-o", "json");
        CliRun second = tranche("submit", "-f", EXAMPLE.toString(), "--request-id", "cli-1", "-o", "json");
        JsonObject a = JsonParser.parseString(first.out()).getAsJsonObject();
        JsonObject b = JsonParser.parseString(second.out()).getAsJsonObject();
        assertThat(a.get("created").getAsBoolean()).isTrue();
        assertThat(b.has("created")).isFalse();   // false is the default, left out of proto JSON
        assertThat(b.getAsJsonObject("experiment").get("id")).isEqualTo(a.getAsJsonObject("experiment").get("id"));
        assertThat(tranche("submit", "-f", EXAMPLE.toString(), "--request-id", "cli-1").out()).startsWith("already submitted ");
    }

    @Test
    void serverRefusalsExitOneWithTheServersMessage()
            throws IOException
    {
        Path spec = files.resolve("too-much.yaml");
        Files.writeString(spec, Files.readString(EXAMPLE).replace("fraction: 0.5", "fraction: 1.5"));
        CliRun run = tranche("submit", "-f", spec.toString());
        assertThat(run.code()).isEqualTo(Tranche.EXIT_SERVER_ERROR);
        assertThat(run.err()).isEqualTo("error: INVALID_ARGUMENT: resources.gpu.fraction must be in (0, 1]: got 1.5\n");

        CliRun missing = tranche("describe", "exp-0000000000");
        assertThat(missing.code()).isEqualTo(Tranche.EXIT_SERVER_ERROR);
        assertThat(missing.err()).isEqualTo("error: NOT_FOUND: experiment exp-0000000000 does not exist\n");
    }

    @Test
    void badFilesAndUsageExitTwo()
            throws IOException
    {
        Path unknownField = files.resolve("unknown.yaml");
        Files.writeString(unknownField, "name: x\nproject: default\ngpus: 3\n");
        CliRun run = tranche("submit", "-f", unknownField.toString());
        assertThat(run.code()).isEqualTo(Tranche.EXIT_USAGE);
        assertThat(run.err()).contains(unknownField + ": gpus is not a field (the fields are name, project, labels, ");

        Path wrongType = files.resolve("wrong-type.yaml");
        Files.writeString(wrongType, "name: x\nreplicas: many\n");
        assertThat(tranche("submit", "-f", wrongType.toString()).err()).contains(wrongType + ": replicas must be a whole number: got text \"many\"");

        Path brokenYaml = files.resolve("broken.yaml");
        Files.writeString(brokenYaml, "name: [unclosed\n");
        CliRun broken = tranche("submit", "-f", brokenYaml.toString());
        assertThat(broken.code()).isEqualTo(Tranche.EXIT_USAGE);
        assertThat(broken.err()).contains(brokenYaml + ": is not valid YAML");

        CliRun absent = tranche("submit", "-f", files.resolve("absent.yaml").toString());
        assertThat(absent.code()).isEqualTo(Tranche.EXIT_USAGE);
        assertThat(absent.err()).contains("absent.yaml: no such file");

        CliRun badState = tranche("list", "--state", "sleeping");
        assertThat(badState.code()).isEqualTo(Tranche.EXIT_USAGE);
        assertThat(badState.err()).contains("unknown state 'sleeping'");

        CliRun noFile = tranche("submit");
        assertThat(noFile.code()).isEqualTo(Tranche.EXIT_USAGE);
        assertThat(noFile.err()).contains("Missing required option: '--file=SPEC'");
    }

    @Test
    void unreachableServerExitsThreeAndSaysHowToStartOne()
            throws IOException
    {
        int closedPort;
        try (ServerSocket socket = new ServerSocket(0)) {
            closedPort = socket.getLocalPort();
        }
        CliRun run = tranche("list", "--server", "127.0.0.1:" + closedPort);
        assertThat(run.code()).isEqualTo(Tranche.EXIT_UNREACHABLE);
        assertThat(run.err()).startsWith("error: cannot reach the Tranche server").contains("./tranche server");
    }

    @Test
    void projectsAndQuotas()
    {
        assertThat(tranche("projects", "create", "cli-team", "--description", "from the CLI").out())
                .isEqualTo("created project cli-team (deserved 0, limit none, weight 1)\n");
        assertThat(tranche("quota", "set", "cli-team", "--deserved", "4", "--limit", "8", "--weight", "2").out())
                .isEqualTo("cli-team: deserved 4, limit 8, weight 2\n");
        assertThat(tranche("quota", "get", "cli-team").out()).isEqualTo("cli-team: deserved 4, limit 8, weight 2\n");
        CliRun projects = tranche("projects");
        assertThat(projects.out()).contains("default").containsPattern("cli-team\\s+-\\s+4\\s+8\\s+2\\s+from the CLI");
        assertThat(tranche("quota", "list").out()).containsPattern("PROJECT\\s+DESERVED\\s+LIMIT\\s+WEIGHT\\s+USED\\s+OVER QUOTA\\s+PENDING")
                .containsPattern("cli-team\\s+4\\s+8\\s+2\\s+0\\s+0\\s+0");
        assertThat(tranche("departments", "create", "research").out()).isEqualTo("created department research\n");
        assertThat(tranche("departments", "quota", "research", "--deserved", "2", "--limit", "4").out()).isEqualTo("research: deserved 2, limit 4\n");
        assertThat(tranche("projects", "create", "cli-member", "--department", "research").code()).isZero();
        assertThat(tranche("projects").out()).containsPattern("cli-member\\s+research");
        assertThat(tranche("nodes").out()).startsWith("No nodes.");
        CliRun bad = tranche("quota", "set", "cli-team", "--deserved", "4", "--limit", "2");
        assertThat(bad.code()).isEqualTo(Tranche.EXIT_SERVER_ERROR);
        assertThat(bad.err()).contains("quota.limit_gpus must be at least deserved_gpus");
    }
}
