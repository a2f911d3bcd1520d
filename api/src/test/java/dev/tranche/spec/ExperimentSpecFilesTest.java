package dev.tranche.spec;

import dev.tranche.proto.v1.ExperimentSpec;
import dev.tranche.proto.v1.GpuRequest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

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
        assertFormatError("gpus: 3\n", "Cannot find field: gpus in message ExperimentSpec");
        assertFormatError("name: a\nname: b\n", "is not valid YAML");
        assertFormatError("replicas: many\n", "Not an int32 value: \"many\"");
        assertFormatError("- a\n- b\n", "must be a mapping of spec fields (name, project, model, ...), not a list");
        assertFormatError("just text\n", "must be a mapping of spec fields (name, project, model, ...), not a text value");
        assertFormatError("", "is empty");
        assertFormatError("# only a comment\n", "is empty");
        assertFormatError("model: {architecture: [lenet]}\n", "model.architecture takes a single value, not a list");
        assertFormatError("model: {conv_filters: 20}\n", "model.conv_filters takes a list, e.g. [20]");
        assertFormatError("model: lenet\n", "model takes a mapping of fields, not text value");
        assertFormatError("replicas: {count: 2}\n", "replicas takes a single value, not a mapping");
        assertFormatError("labels: [a, b]\n", "labels takes a mapping of keys to values");
        assertFormatError("1: x\n", "keys must be text: got 1");
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
