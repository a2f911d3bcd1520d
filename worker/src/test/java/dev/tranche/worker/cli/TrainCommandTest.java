package dev.tranche.worker.cli;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.tranche.cli.Tranche;
import dev.tranche.proto.v1.MetricBatch;
import dev.tranche.proto.v1.MetricPoint;
import dev.tranche.proto.v1.MetricsServiceGrpc;
import dev.tranche.proto.v1.ReportAck;
import dev.tranche.worker.data.Fixtures;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** The train command in this JVM, through the same picocli tree the launcher runs. */
class TrainCommandTest
{
    @TempDir
    Path dir;

    @Test
    void jsonEndsWithTheResultAndMetricsReachTheService()
            throws IOException, InterruptedException
    {
        Fixtures.idx(dir.resolve("data"), 256, 64, true);
        Path spec = dir.resolve("spec.yaml");
        Files.writeString(spec, """
                name: cli-test
                project: default
                model: {architecture: lenet, conv_filters: [4, 8], dense_units: 32}
                dataset: {kind: mnist, location: %s, limit: 5000}
                training: {epochs: 5, batch_size: 32}
                """.formatted(dir.resolve("data")));
        List<MetricBatch> received = new CopyOnWriteArrayList<>();
        Server server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)).addService(new MetricsServiceGrpc.MetricsServiceImplBase()
        {
            @Override
            public StreamObserver<MetricBatch> report(StreamObserver<ReportAck> responses)
            {
                return new StreamObserver<>()
                {
                    @Override
                    public void onNext(MetricBatch batch)
                    {
                        received.add(batch);
                    }

                    @Override
                    public void onError(Throwable t) {}

                    @Override
                    public void onCompleted()
                    {
                        responses.onNext(ReportAck.getDefaultInstance());
                        responses.onCompleted();
                    }
                };
            }
        }).build().start();
        try {
            StringWriter out = new StringWriter();
            StringWriter err = new StringWriter();
            CommandLine cli = Tranche.commandLine();
            cli.setOut(new PrintWriter(out));
            cli.setErr(new PrintWriter(err));
            int code = cli.execute("train", "-f", spec.toString(), "--epochs", "1", "--limit", "128", "--workers", "2",
                    "--metrics-server", "127.0.0.1:" + server.getPort(), "-o", "json");
            assertThat(code).as(err.toString()).isZero();
            String[] lines = out.toString().strip().split("\n");
            JsonObject result = JsonParser.parseString(lines[lines.length - 1]).getAsJsonObject();
            assertThat(result.get("epochs").getAsInt()).isEqualTo(1);
            // a tenth of the 128 held out for validation
            assertThat(result.get("train_images").getAsInt()).isEqualTo(115);
            assertThat(result.get("validation_images").getAsInt()).isEqualTo(13);
            assertThat(result.get("model_epoch").getAsInt()).isEqualTo(1);
            assertThat(result.get("test_accuracy").getAsDouble()).isBetween(0.0, 1.0);
            assertThat(result.get("images_per_second").getAsDouble()).isPositive();
            assertThat(err.toString()).contains("epoch 1/1  batch 4/4").contains("device: CPU");
        }
        finally {
            server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
        assertThat(received).isNotEmpty().allSatisfy(b -> assertThat(b.getExperimentId()).isEqualTo("cli-test"));
        assertThat(received.stream().flatMap(b -> b.getPointsList().stream()).map(MetricPoint::getName))
                .contains("loss", "images_per_second", "learning_rate", "train_loss", "validation_loss", "validation_accuracy", "test_loss", "test_accuracy",
                        "epoch_seconds");
        // the test images are looked at once, at the end
        assertThat(received.stream().flatMap(b -> b.getPointsList().stream()).filter(p -> p.getName().equals("test_accuracy"))).hasSize(1);
    }

    @Test
    void seedsReportEachSeedAndTheMeanAndDeviation()
            throws IOException
    {
        Fixtures.idx(dir.resolve("data"), 160, 32, true);
        Path spec = dir.resolve("spec.yaml");
        Files.writeString(spec, """
                name: seeds
                project: default
                model: {architecture: lenet, conv_filters: [4, 8], dense_units: 16}
                dataset: {kind: mnist, location: %s}
                training: {epochs: 1, batch_size: 32}
                """.formatted(dir.resolve("data")));
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cli = Tranche.commandLine();
        cli.setOut(new PrintWriter(out));
        cli.setErr(new PrintWriter(err));
        int code = cli.execute("train", "-f", spec.toString(), "--seeds", "1,2", "--workers", "1", "-o", "json");
        assertThat(code).as(err.toString()).isZero();
        String[] lines = out.toString().strip().split("\n");
        JsonObject result = JsonParser.parseString(lines[lines.length - 1]).getAsJsonObject();
        assertThat(result.getAsJsonArray("runs")).hasSize(2);
        double first = result.getAsJsonArray("runs").get(0).getAsJsonObject().get("test_accuracy").getAsDouble();
        double second = result.getAsJsonArray("runs").get(1).getAsJsonObject().get("test_accuracy").getAsDouble();
        assertThat(result.getAsJsonArray("runs").get(1).getAsJsonObject().get("seed").getAsLong()).isEqualTo(2);
        assertThat(result.get("test_accuracy_mean").getAsDouble()).isCloseTo((first + second) / 2, org.assertj.core.data.Offset.offset(1e-9));
        assertThat(result.get("test_accuracy_std").getAsDouble()).isCloseTo(Math.abs(first - second) / Math.sqrt(2), org.assertj.core.data.Offset.offset(1e-9));
    }

    @Test
    void badAveragingFrequencyIsRefusedWithTheField()
            throws IOException
    {
        Path spec = dir.resolve("spec.yaml");
        Files.writeString(spec, """
                name: bad
                project: default
                model: {architecture: lenet}
                dataset: {kind: mnist}
                """);
        StringWriter err = new StringWriter();
        CommandLine cli = Tranche.commandLine();
        cli.setErr(new PrintWriter(err));
        int code = cli.execute("train", "-f", spec.toString(), "--averaging-frequency", "often");
        assertThat(code).isEqualTo(2);
        assertThat(err.toString()).contains("training.averaging_frequency").contains("auto or a whole number");
    }

    @Test
    void brokenDataSetFailsWithTheFileAndTheProblem()
            throws IOException
    {
        Fixtures.idx(dir.resolve("data"), 64, 16, false);
        Files.write(dir.resolve("data").resolve("t10k-images-idx3-ubyte"), new byte[] {0, 0, 8, 3, 0, 0, 0, 16});
        Path spec = dir.resolve("spec.yaml");
        Files.writeString(spec, """
                name: broken
                project: default
                model: {architecture: lenet}
                dataset: {kind: mnist, location: %s}
                """.formatted(dir.resolve("data")));
        StringWriter err = new StringWriter();
        CommandLine cli = Tranche.commandLine();
        cli.setOut(new PrintWriter(new StringWriter()));
        cli.setErr(new PrintWriter(err));
        int code = cli.execute("train", "-f", spec.toString());
        assertThat(code).isEqualTo(1);
        assertThat(err.toString()).contains("t10k-images-idx3-ubyte: truncated: the IDX header is incomplete");
    }

    @Test
    void invalidSpecIsRefusedWithTheField()
            throws IOException
    {
        Path spec = dir.resolve("spec.yaml");
        Files.writeString(spec, """
                name: bad
                project: default
                model: {architecture: lenet}
                dataset: {kind: mnist}
                training: {epochs: 0, batch_size: -1}
                """);
        StringWriter err = new StringWriter();
        CommandLine cli = Tranche.commandLine();
        cli.setErr(new PrintWriter(err));
        int code = cli.execute("train", "-f", spec.toString(), "--epochs", "2000");
        assertThat(code).isEqualTo(2);
        assertThat(err.toString()).contains("training.epochs").contains("training.batch_size");
    }
}
