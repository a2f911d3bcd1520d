package dev.tranche.spec;

import dev.tranche.proto.v1.ExperimentSpec;

import java.nio.file.Path;
import java.util.Map;

/**
 * Reads an experiment spec from YAML (or JSON, which is YAML too). Field names are the protobuf
 * names of {@link ExperimentSpec} ({@code batch_size}, or {@code batchSize}); an unknown field, a
 * duplicate key or a value of the wrong type is an error that names the file and the field path.
 * The rules of the values themselves are {@link ExperimentSpecValidator}'s.
 */
public final class ExperimentSpecFiles
{
    private ExperimentSpecFiles() {}

    public static ExperimentSpec read(Path file)
    {
        return parse(YamlFiles.read(file, "a spec file"), file.toString());
    }

    /** Parses spec text; {@code source} names it in error messages. */
    public static ExperimentSpec parse(String text, String source)
    {
        Object document = YamlFiles.load(text, source, "a spec", 4);
        if (document == null) {
            throw new SpecFormatException(source + ": is empty");
        }
        if (!(document instanceof Map<?, ?> map)) {
            throw new SpecFormatException(source + ": must be a mapping of spec fields (name, project, model, ...), not " + MessageReader.describe(document));
        }
        ExperimentSpec.Builder builder = ExperimentSpec.newBuilder();
        try {
            MessageReader.merge(map, builder);
        }
        catch (IllegalArgumentException e) {
            throw new SpecFormatException(source + ": " + e.getMessage(), e);
        }
        return builder.build();
    }
}
