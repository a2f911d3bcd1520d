package dev.tranche.spec;

import dev.tranche.proto.v1.ExperimentSpec;
import dev.tranche.proto.v1.GpuRequest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

final class ExperimentSpecFilesTest
{
    static final Path EXAMPLE = Path.of("..", "docs", "examples", "fashion-mnist-lenet.yaml");

    @TempDir
    Path directory;

    @Test
    void readsTheDocumentedExample()
    {
        ExperimentSpec spec = ExperimentSpecFiles.read(EXAMPLE);
        assertThat(spec.getName()).isEqualTo("fashion-mnist-lenet");
        assertThat(spec.getProject()).isEqualTo("default");
        assertThat(spec.getModel().getArchitecture()).isEqualTo("lenet");
        assertThat(spec.getModel().getConvFiltersList()).containsExactly(20, 50);
        assertThat(spec.getDataset().getKind()).isEqualTo("fashion-mnist");
        assertThat(spec.getDataset().getLimit()).isEqualTo(10_000);
        assertThat(spec.getTraining().getEpochs()).isEqualTo(2);
        assertThat(spec.getReplicas()).isEqualTo(1);
        assertThat(spec.getResources().getGpu().getAmountCase()).isEqualTo(GpuRequest.AmountCase.FRACTION);
        assertThat(spec.getResources().getGpu().getFraction()).isEqualTo(0.5);
        assertThat(spec.getLabelsMap()).containsEntry("team", "vision");
        assertThat(new ExperimentSpecValidator().validate(spec)).isEmpty();
    }

    /** The scheduler hands its workers the spec as protobuf JSON, which writes 64-bit numbers (the seed) as strings. */
    @Test
    void readsTheSpecJsonTheSchedulerWritesForItsWorkers()
            throws Exception
    {
        ExperimentSpec spec = new ExperimentSpecValidator().validateAndNormalize(ExperimentSpecFiles.read(EXAMPLE));
        spec = spec.toBuilder().setTraining(spec.getTraining().toBuilder().setSeed(7)).build();
        String json = com.google.protobuf.util.JsonFormat.printer().preservingProtoFieldNames().print(spec);
        assertThat(json).contains("\"seed\": \"7\"");
        assertThat(ExperimentSpecFiles.parse(json, "spec.json")).isEqualTo(spec);
        assertThatThrownBy(() -> ExperimentSpecFiles.parse("name: x\nreplicas: \"2\"", "inline")).hasMessageContaining("replicas must be a whole number");
    }

    @Test
    void acceptsCamelCaseAndJson()
    {
        ExperimentSpec spec = ExperimentSpecFiles.parse("{\"name\": \"j\", \"training\": {\"batchSize\": 32}, \"resources\": {\"gpu\": {\"count\": 2}}}", "inline");
        assertThat(spec.getTraining().getBatchSize()).isEqualTo(32);
        assertThat(spec.getResources().getGpu().getCount()).isEqualTo(2);
    }

    @Test
    void namesTheFileAndTheProblem()
            throws IOException
    {
        assertFormatError("gpus: 3\n", "gpus is not a field (the fields are name, project, labels, model, dataset, training, replicas, resources, priority, preemptible, max_retries)");
        assertFormatError("name: a\nname: b\n", "is not valid YAML");
        assertFormatError("replicas: many\n", "replicas must be a whole number: got text \"many\"");
        assertFormatError("- a\n- b\n", "must be a mapping of spec fields (name, project, model, ...), not a list");
        assertFormatError("just text\n", "must be a mapping of spec fields (name, project, model, ...), not text \"just text\"");
        assertFormatError("", "is empty");
        assertFormatError("# only a comment\n", "is empty");
        assertFormatError("model: {architecture: [lenet]}\n", "model.architecture takes a single value, not a list");
        assertFormatError("model: {conv_filters: 20}\n", "model.conv_filters takes a list, e.g. [20]");
        assertFormatError("model: lenet\n", "model takes a mapping of fields (architecture, conv_filters, dense_units, blocks_per_stage, dropout): got text \"lenet\"");
        assertFormatError("replicas: {count: 2}\n", "replicas takes a single value, not a mapping");
        assertFormatError("labels: [a, b]\n", "labels takes a mapping of keys to values");
        assertFormatError("1: x\n", "field names must be text: got number 1");
    }

    @Test
    void namesTheFieldPathAndSuggestsTheNearestName()
            throws IOException
    {
        assertFormatError("training: {batchsize: 32}\n", "training.batchsize is not a field of training; did you mean batch_size?");
        assertFormatError("training: {epoch: 3}\n", "training.epoch is not a field of training; did you mean epochs?");
        assertFormatError("training: {learningRat: 0.1}\n", "did you mean learning_rate?");
        assertFormatError("resources: {gpu: {fractoin: 0.5}}\n", "resources.gpu.fractoin is not a field of resources.gpu; did you mean fraction?");
        assertFormatError("training: {lr: 0.1}\n",
                "training.lr is not a field of training (the fields are epochs, batch_size, optimizer, learning_rate, seed, data_parallelism, averaging_frequency, early_stopping, learning_rate_schedule)");
        assertFormatError("training: {batch_size: 32, batchSize: 64}\n", "training.batchSize is set twice (also as training.batch_size)");
    }

    @Test
    void saysOneOfConflictsInPlainWords()
            throws IOException
    {
        assertFormatError("resources: {gpu: {fraction: 0.5, count: 2}}\n",
                "resources.gpu takes only one of fraction, count or memory_mib: got both fraction and count");
    }

    @Test
    void refusesValuesOfTheWrongType()
            throws IOException
    {
        assertFormatError("labels: {team: 5}\n", "labels.team must be text: got number 5 (write it in quotes: \"5\")");
        assertFormatError("labels: {team: true}\n", "labels.team must be text: got true");
        assertFormatError("labels: {team: [a]}\n", "labels.team takes a single value, not a list");
        assertFormatError("preemptible: \"true\"\n", "preemptible must be true or false: got text \"true\"");
        assertFormatError("resources: {gpu: {fraction: 50%}}\n", "resources.gpu.fraction must be a number: got text \"50%\"");
        assertFormatError("training: {epochs: 2.5}\n", "training.epochs must be a whole number: got number 2.5");
        assertFormatError("training: {epochs: 99999999999}\n", "training.epochs must be a whole number in [-2147483648, 2147483647]: got 99999999999");
        assertFormatError("name: 42\n", "name must be text: got number 42");
        for (String text : List.of("training: {batchsize: 32}\n", "resources: {gpu: {fraction: 0.5, count: 2}}\n", "preemptible: \"true\"\n",
                "resources: {gpu: {fraction: 50%}}\n", "replicas: many\n")) {
            Path file = Files.writeString(directory.resolve("leak.yaml"), text);
            // never protobuf's words or a Java class
            assertThatThrownBy(() -> ExperimentSpecFiles.read(file)).message()
                    .doesNotContain("Cannot find field").doesNotContain("TrainingSpec").doesNotContain("GpuRequest")
                    .doesNotContain("oneof").doesNotContain("Not a double").doesNotContain("java.").doesNotContain("com.google");
        }
    }

    @Test
    void deepNestingAndSelfReferencingAliasesAreOneLineErrors()
            throws IOException
    {
        String deep = "[".repeat(10_000) + "]".repeat(10_000) + "\n";
        assertFormatError("name: " + deep, "line 1: nests more than 32 levels deep; a spec needs no more than 4");
        assertFormatError(deep, "nests more than 32 levels deep");
        assertFormatError("labels: &a {x: *a}\n", "line 1: alias *a refers to the list or mapping it is in; a spec cannot contain itself");
        assertFormatError("model: &m\n  architecture: lenet\n  conv_filters: [*m]\n", "line 3: alias *m refers to the list or mapping it is in");
        for (String text : List.of("name: " + deep, "labels: &a {x: *a}\n")) {
            Path file = Files.writeString(directory.resolve("one-line.yaml"), text);
            assertThatThrownBy(() -> ExperimentSpecFiles.read(file)).isInstanceOf(SpecFormatException.class).message().doesNotContain("\n");
        }
    }

    @Test
    void aPipeIsReadNoFurtherThanTheLimit()
            throws Exception
    {
        Path fifo = directory.resolve("spec.fifo");
        Process mkfifo = new ProcessBuilder("mkfifo", fifo.toString()).start();
        assertThat(mkfifo.waitFor()).isZero();
        // a pipe has no size to check up front; the writer would go on for ever
        Thread writer = new Thread(() -> {
            try (var out = Files.newOutputStream(fifo)) {
                out.write("name: x\n".getBytes(java.nio.charset.StandardCharsets.UTF_8));
                byte[] comment = ("#".repeat(1023) + "\n").getBytes(java.nio.charset.StandardCharsets.UTF_8);
                for (int i = 0; i < 4096; i++) {
                    out.write(comment);
                }
            }
            catch (IOException e) {
                // the reader stopped reading: expected
            }
        });
        writer.setDaemon(true);
        writer.start();
        assertThatThrownBy(() -> ExperimentSpecFiles.read(fifo)).isInstanceOf(SpecFormatException.class)
                .hasMessage(fifo + ": is more than 1048576 bytes; a spec file may be at most 1048576");
    }

    @Test
    void refusesMissingDirectoryAndBinaryFiles()
            throws IOException
    {
        assertThatThrownBy(() -> ExperimentSpecFiles.read(directory.resolve("absent.yaml")))
                .isInstanceOf(SpecFormatException.class).hasMessage(directory.resolve("absent.yaml") + ": no such file");
        assertThatThrownBy(() -> ExperimentSpecFiles.read(directory))
                .isInstanceOf(SpecFormatException.class).hasMessage(directory + ": is a directory, not a spec file");
        Path binary = directory.resolve("binary.yaml");
        Files.write(binary, new byte[] {(byte) 0xff, (byte) 0xfe, 0, 1});
        assertThatThrownBy(() -> ExperimentSpecFiles.read(binary)).isInstanceOf(SpecFormatException.class).hasMessage(binary + ": is not UTF-8 text");
        Path huge = directory.resolve("huge.yaml");
        Files.writeString(huge, "name: x\n" + "#".repeat(2 * 1024 * 1024));
        assertThatThrownBy(() -> ExperimentSpecFiles.read(huge)).isInstanceOf(SpecFormatException.class).hasMessageContaining("a spec file may be at most");
    }

    private void assertFormatError(String text, String message)
            throws IOException
    {
        Path file = Files.writeString(directory.resolve("spec-" + Math.abs(text.hashCode()) + ".yaml"), text);
        assertThatThrownBy(() -> ExperimentSpecFiles.read(file))
                .isInstanceOf(SpecFormatException.class)
                .hasMessageStartingWith(file + ": ")
                .hasMessageContaining(message);
    }
}
