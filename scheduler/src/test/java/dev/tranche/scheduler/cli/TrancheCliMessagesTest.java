package dev.tranche.scheduler.cli;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.tranche.cli.Tranche;
import dev.tranche.proto.v1.MetricBatch;
import dev.tranche.proto.v1.MetricPoint;
import dev.tranche.scheduler.testing.MetricStreams;
import dev.tranche.scheduler.testing.TestingScheduler;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.StreamSupport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;
import static org.awaitility.Awaitility.await;

/** What the CLI says when something is wrong or unusual, against a real scheduler: the words and the exit code. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
final class TrancheCliMessagesTest
{
    private static final Path EXAMPLE = Path.of("..", "docs", "examples", "fashion-mnist-lenet.yaml");

    private TestingScheduler scheduler;

    @TempDir
    Path files;

    @BeforeAll
    void start()
    {
        assumeThat(System.getenv("TRANCHE_TOKEN")).isNull();
        assumeThat(System.getenv("TRANCHE_SERVER")).isNull();
        scheduler = new TestingScheduler();
    }

    @AfterAll
    void stop()
    {
        if (scheduler != null) {
            scheduler.close();
        }
    }

    record Run(int exitCode, String out, String err) {}

    private static Run run(StringWriter out, String... args)
    {
        StringWriter err = new StringWriter();
        CommandLine commandLine = Tranche.commandLine();
        commandLine.setOut(new PrintWriter(out, true));
        commandLine.setErr(new PrintWriter(err, true));
        int code = commandLine.execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    /** As the admin, against the scheduler (unless the arguments name a --server). */
    private Run tranche(String... args)
    {
        return tranche(new StringWriter(), args);
    }

    private Run tranche(StringWriter out, String... args)
    {
        List<String> all = new ArrayList<>(List.of(args));
        if (!all.contains("--server")) {
            all.addAll(List.of("--server", scheduler.target()));
        }
        all.addAll(List.of("--token-file", file("admin.token", TestingScheduler.ADMIN_TOKEN).toString(),
                "--credentials", files.resolve("no-credentials").toString()));
        return run(out, all.toArray(String[]::new));
    }

    private Path file(String name, String text)
    {
        try {
            return Files.writeString(files.resolve(name), text);
        }
        catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String example(String name, String training)
    {
        return """
                name: %s
                project: default
                model: {architecture: lenet}
                dataset: {kind: fashion-mnist, limit: 100}
                training: %s
                """.formatted(name, training);
    }

    @Test
    void specErrorsNameTheFieldAndNeverAProtobufType()
            throws IOException
    {
        Run typo = tranche("submit", "-f", file("typo.yaml", example("typo", "{batchsize: 32}")).toString());
        assertThat(typo.exitCode()).isEqualTo(Tranche.EXIT_USAGE);
        assertThat(typo.err()).isEqualTo("error: " + files.resolve("typo.yaml") + ": training.batchsize is not a field of training; did you mean batch_size?\n");

        Run oneOf = tranche("submit", "-f", file("choice.yaml", example("choice", "{epochs: 1}") + "resources: {gpu: {fraction: 0.5, count: 1}}\n").toString());
        assertThat(oneOf.exitCode()).isEqualTo(Tranche.EXIT_USAGE);
        assertThat(oneOf.err()).contains("resources.gpu takes only one of fraction, count or memory_mib: got both fraction and count")
                .doesNotContain("oneof").doesNotContain("GpuRequest");

        Run preemptible = tranche("submit", "-f", file("bool.yaml", example("bool", "{epochs: 1}") + "preemptible: \"true\"\n").toString());
        assertThat(preemptible.exitCode()).isEqualTo(Tranche.EXIT_USAGE);
        assertThat(preemptible.err()).contains("preemptible must be true or false: got text \"true\"");

        // today: StackOverflowError and exit 1
        Run deep = tranche("submit", "-f", file("deep.yaml", "name: " + "[".repeat(10_000) + "]".repeat(10_000) + "\n").toString());
        assertThat(deep.exitCode()).isEqualTo(Tranche.EXIT_USAGE);
        assertThat(deep.err()).isEqualTo("error: " + files.resolve("deep.yaml") + ": line 1: nests more than 32 levels deep; a spec needs no more than 4\n");
        Run alias = tranche("submit", "-f", file("alias.yaml", "labels: &a {x: *a}\n").toString());
        assertThat(alias.exitCode()).isEqualTo(Tranche.EXIT_USAGE);
        assertThat(alias.err()).hasLineCount(1).contains("alias *a refers to the list or mapping it is in");
        assertThat(scheduler.count("SELECT count(*) FROM experiments WHERE name IN ('typo', 'choice', 'bool')")).isZero();
    }

    @Test
    void zeroEpochsOrLearningRateIsRefusedNotReplacedByTheDefault()
            throws IOException
    {
        Run epochs = tranche("submit", "-f", file("zero-epochs.yaml", example("zero-epochs", "{epochs: 0}")).toString());
        assertThat(epochs.exitCode()).isEqualTo(Tranche.EXIT_SERVER_ERROR);
        assertThat(epochs.err()).contains("INVALID_ARGUMENT: training.epochs must be in [1, 1000]: got 0 (leave it out for the default, 10)");
        Run rate = tranche("submit", "-f", file("zero-rate.yaml", example("zero-rate", "{epochs: 1, learning_rate: 0}")).toString());
        assertThat(rate.exitCode()).isEqualTo(Tranche.EXIT_SERVER_ERROR);
        assertThat(rate.err()).contains("training.learning_rate must be in (0, 10]: got 0");
        assertThat(scheduler.count("SELECT count(*) FROM experiments WHERE name LIKE 'zero-%'")).isZero();

        // one epoch, said in the singular
        Run one = tranche("submit", "-f", file("one-epoch.yaml", example("one-epoch", "{epochs: 1}")).toString());
        assertThat(one.exitCode()).as(one.err()).isZero();
        String id = one.out().split(" ")[1].replace(":", "");
        assertThat(tranche("describe", id).out()).contains("Training:    1 epoch, batch ").doesNotContain("1 epochs");
    }

    @Test
    void metricsForAnUnknownSeriesSayWhichSeriesThereAre()
            throws Exception
    {
        Run submit = tranche("submit", "-f", EXAMPLE.toString());
        String id = submit.out().split(" ")[1].replace(":", "");
        String credential = scheduler.server().workerCredential(id);
        MetricStreams.report(scheduler.target(), List.of(MetricBatch.newBuilder().setExperimentId(id).setCredential(credential)
                .addPoints(MetricPoint.newBuilder().setName("loss").setEpoch(1).setStep(10).setValue(0.5))
                .addPoints(MetricPoint.newBuilder().setName("test_accuracy").setEpoch(1).setStep(10).setValue(0.8))
                .build()));

        Run unknown = tranche("metrics", id, "-n", "accuracy");
        assertThat(unknown.exitCode()).isZero();
        assertThat(unknown.out()).isEqualTo("No points for accuracy in " + id + "; the series it has are: loss, test_accuracy.\n");
        assertThat(tranche("metrics", id, "-n", "test_accuracy").out()).contains("test_accuracy").contains("0.8");

        Run none = tranche("metrics", tranche("submit", "-f", EXAMPLE.toString(), "--request-id", "no-metrics").out().split(" ")[1].replace(":", ""),
                "-n", "accuracy");
        assertThat(none.out()).endsWith("; it has reported no metrics yet.\n");
    }

    @Test
    void watchingAProjectNeverPrintsAnUnspecifiedState()
            throws Exception
    {
        assertThat(tranche("projects", "create", "watched").exitCode()).isZero();
        StringWriter out = new StringWriter();
        Thread watch = new Thread(() -> tranche(out, "watch", "--project", "watched"));
        watch.start();
        try {
            // the watch is open once it has answered; then a submit makes a transition from no state
            Thread.sleep(1000);
            String spec = Files.readString(EXAMPLE).replace("project: default", "project: watched");
            Run submit = tranche("submit", "-f", file("watched.yaml", spec).toString());
            assertThat(submit.exitCode()).as(submit.err()).isZero();
            String id = submit.out().split(" ")[1].replace(":", "");
            assertThat(tranche("cancel", id).exitCode()).isZero();
            await().atMost(Duration.ofSeconds(20)).until(() -> out.toString().contains("-> CANCELLED"));
            assertThat(out.toString()).contains(id + "  - -> PENDING  ").doesNotContain("UNSPECIFIED");
        }
        finally {
            watch.interrupt();
            watch.join(10_000);
        }
    }

    @Test
    void theHttpPortIsNamedAsSuch()
    {
        Run run = tranche("list", "--server", "127.0.0.1:" + scheduler.httpPort());
        assertThat(run.exitCode()).isEqualTo(Tranche.EXIT_UNREACHABLE);
        assertThat(run.err()).startsWith("error: the server answered in plain HTTP, not gRPC: --server (or $TRANCHE_SERVER) looks like the scheduler's HTTP (dashboard) port.")
                .contains("gRPC port").doesNotContain("http2 exception").doesNotContain("INTERNAL");
    }

    @Test
    void quotaSetChangesOnlyTheFieldsNamed()
    {
        assertThat(tranche("projects", "create", "vision").exitCode()).isZero();
        assertThat(tranche("quota", "set", "vision", "--deserved", "2", "--limit", "4", "--weight", "3").out()).isEqualTo("vision: deserved 2, limit 4, weight 3\n");

        // today: "Missing required option: '--deserved=GPUS'"; now the service's own rule
        Run zero = tranche("quota", "set", "vision", "--weight", "0");
        assertThat(zero.exitCode()).isEqualTo(Tranche.EXIT_SERVER_ERROR);
        assertThat(zero.err()).contains("over_quota_weight must be in (0, 1000]").doesNotContain("--deserved");
        Run weight = tranche("quota", "set", "vision", "--weight", "0.5");
        assertThat(weight.exitCode()).as(weight.err()).isZero();
        assertThat(weight.out()).isEqualTo("vision: deserved 2, limit 4, weight 0.5\n");
        assertThat(tranche("quota", "set", "vision", "--deserved", "1.5").out()).isEqualTo("vision: deserved 1.5, limit 4, weight 0.5\n");
        assertThat(tranche("quota", "set", "vision", "--limit", "none").out()).isEqualTo("vision: deserved 1.5, limit none, weight 0.5\n");
        assertThat(tranche("quota", "get", "vision").out()).isEqualTo("vision: deserved 1.5, limit none, weight 0.5\n");

        Run nothing = tranche("quota", "set", "vision");
        assertThat(nothing.exitCode()).isEqualTo(Tranche.EXIT_USAGE);
        assertThat(nothing.err()).startsWith("error: nothing to set: pass --deserved, --limit or --weight");
        Run badLimit = tranche("quota", "set", "vision", "--limit", "lots");
        assertThat(badLimit.exitCode()).isEqualTo(Tranche.EXIT_USAGE);
        assertThat(badLimit.err()).startsWith("error: --limit must be a number of GPUs or 'none': got 'lots'");
    }

    @Test
    void creatingAProjectInADepartmentAuditsTheProject()
    {
        assertThat(tranche("departments", "create", "research").exitCode()).isZero();
        Run create = tranche("projects", "create", "nlp", "--department", "research");
        assertThat(create.exitCode()).as(create.err()).isZero();

        JsonArray events = JsonParser.parseString(tranche("audit", "-o", "json").out()).getAsJsonObject().getAsJsonArray("events");
        JsonObject created = StreamSupport.stream(events.spliterator(), false)
                .map(JsonElement::getAsJsonObject)
                .filter(event -> event.get("action").getAsString().equals("tranche.v1.AdminService/CreateProject"))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no CreateProject in " + events));
        assertThat(created.get("target").getAsString()).isEqualTo("nlp");
    }

    @Test
    void helpTextIsWholeSentences()
    {
        Run help = run(new StringWriter(), "--help");
        // a wrapped summary continues on the next line, indented: join the pieces back up
        String joined = help.out().replaceAll("\n {10,}", " ");
        for (String line : joined.substring(joined.indexOf("Commands:")).lines().skip(1).toList()) {
            assertThat(line.strip()).as("the summary of a command").matches(".*[.)]$");
        }
        assertThat(joined).doesNotContain("~/. ").doesNotContain(". md");
        Run demo = run(new StringWriter(), "demo", "--help");
        assertThat(demo.out().replaceAll("\n(?! *-)", " ")).contains("Shows their progress; Ctrl-C stops it all.");
        assertThat(run(new StringWriter(), "logout", "--help").out().replaceAll("\n {0,}", " ")).contains("~/.config/tranche/credentials");
        // no help page breaks a word: "0.5" / "-GPU", "~/." / "tranche", "benchmarks." / "md"
        List<String> broken = new ArrayList<>();
        // picocli reads descriptions as format strings: a lone % breaks one, with only a warning on stderr
        java.io.ByteArrayOutputStream warnings = new java.io.ByteArrayOutputStream();
        java.io.PrintStream err = System.err;
        System.setErr(new java.io.PrintStream(warnings, true, java.nio.charset.StandardCharsets.UTF_8));
        try {
            everyHelpPage(Tranche.commandLine(), broken);
        }
        finally {
            System.setErr(err);
        }
        assertThat(broken).isEmpty();
        assertThat(warnings.toString(java.nio.charset.StandardCharsets.UTF_8)).as("picocli's warnings while rendering every help page").isEmpty();
    }

    private static void everyHelpPage(CommandLine command, List<String> broken)
    {
        List<String> lines = command.getUsageMessage(CommandLine.Help.Ansi.OFF).lines().toList();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            String next = i + 1 < lines.size() ? lines.get(i + 1).strip() : "";
            boolean continuation = i + 1 < lines.size() && lines.get(i + 1).startsWith("        ");
            if (line.matches("^ {8,}-[A-Za-z].*") || line.endsWith("/.") || continuation && line.matches(".*\\w\\.$") && next.matches("^(md|yaml|json|html|txt|config|tranche)\\b.*")) {
                broken.add(command.getCommandName() + ": " + line + " / " + next);
            }
        }
        command.getSubcommands().values().stream().distinct().forEach(sub -> everyHelpPage(sub, broken));
    }
}
