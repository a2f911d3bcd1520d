package dev.tranche.spec;

import dev.tranche.proto.v1.ExperimentSpec;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;
import org.snakeyaml.engine.v2.api.lowlevel.Parse;
import org.snakeyaml.engine.v2.common.Anchor;
import org.snakeyaml.engine.v2.events.AliasEvent;
import org.snakeyaml.engine.v2.events.CollectionEndEvent;
import org.snakeyaml.engine.v2.events.CollectionStartEvent;
import org.snakeyaml.engine.v2.events.Event;
import org.snakeyaml.engine.v2.exceptions.Mark;
import org.snakeyaml.engine.v2.exceptions.YamlEngineException;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Reads an experiment spec from YAML (or JSON, which is YAML too). Field names are the protobuf
 * names of {@link ExperimentSpec} ({@code batch_size}, or {@code batchSize}); an unknown field, a
 * duplicate key or a value of the wrong type is an error that names the file and the field path.
 * The rules of the values themselves are {@link ExperimentSpecValidator}'s.
 */
public final class ExperimentSpecFiles
{
    static final int MAX_FILE_BYTES = 1024 * 1024;

    private ExperimentSpecFiles() {}

    public static ExperimentSpec read(Path file)
    {
        byte[] bytes;
        try {
            if (Files.isDirectory(file)) {
                throw new SpecFormatException(file + ": is a directory, not a spec file");
            }
            long size = Files.size(file);
            if (size > MAX_FILE_BYTES) {
                throw new SpecFormatException(file + ": is " + size + " bytes; a spec file may be at most " + MAX_FILE_BYTES);
            }
            // a pipe or device reports no size: read one byte past the limit at most, never all of it
            try (InputStream in = Files.newInputStream(file)) {
                bytes = in.readNBytes(MAX_FILE_BYTES + 1);
            }
            if (bytes.length > MAX_FILE_BYTES) {
                throw new SpecFormatException(file + ": is more than " + MAX_FILE_BYTES + " bytes; a spec file may be at most " + MAX_FILE_BYTES);
            }
        }
        catch (NoSuchFileException e) {
            throw new SpecFormatException(file + ": no such file");
        }
        catch (IOException e) {
            throw new SpecFormatException(file + ": cannot be read: " + e.getMessage(), e);
        }
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(bytes)).toString();
        }
        catch (CharacterCodingException e) {
            throw new SpecFormatException(file + ": is not UTF-8 text");
        }
        return parse(text, file.toString());
    }

    /** Parses spec text; {@code source} names it in error messages. */
    public static ExperimentSpec parse(String text, String source)
    {
        if (text.length() > MAX_FILE_BYTES) {
            throw new SpecFormatException(source + ": is more than " + MAX_FILE_BYTES + " characters; a spec may be at most " + MAX_FILE_BYTES);
        }
        Object document;
        try {
            LoadSettings settings = LoadSettings.builder()
                    .setAllowDuplicateKeys(false)
                    .setMaxAliasesForCollections(10)
                    .setLabel(source)
                    .build();
            // the composer recurses once per level: look at the shape first, without recursion
            checkShape(settings, text, source);
            document = new Load(settings).loadFromString(text);
        }
        catch (YamlEngineException e) {
            throw new SpecFormatException(source + ": is not valid YAML: " + yamlProblem(e), e);
        }
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

    /** Refuses nesting deeper than a spec can use and an alias inside the collection it names, with the line. */
    private static void checkShape(LoadSettings settings, String text, String source)
    {
        Deque<Optional<Anchor>> open = new ArrayDeque<>();
        for (Event event : new Parse(settings).parseString(text)) {
            if (event instanceof CollectionStartEvent start) {
                open.push(start.getAnchor());
                if (open.size() > MessageReader.MAX_DEPTH) {
                    throw new SpecFormatException(source + ": " + at(event) + "nests more than " + MessageReader.MAX_DEPTH
                            + " levels deep; a spec needs no more than 4");
                }
            }
            else if (event instanceof CollectionEndEvent) {
                open.pop();
            }
            else if (event instanceof AliasEvent alias && open.stream().anyMatch(anchor -> anchor.equals(Optional.of(alias.getAlias())))) {
                throw new SpecFormatException(source + ": " + at(event) + "alias *" + alias.getAlias().getValue()
                        + " refers to the list or mapping it is in; a spec cannot contain itself");
            }
        }
    }

    private static String at(Event event)
    {
        return event.getStartMark().map(Mark::getLine).map(line -> "line " + (line + 1) + ": ").orElse("");
    }

    /** The YAML library's complaint without Java class names; tags (which name Java types) get a plain answer. */
    private static String yamlProblem(YamlEngineException e)
    {
        String message = e.getMessage() == null ? "" : e.getMessage().strip();
        if (message.contains("could not determine a constructor for the tag")) {
            return "explicit tags (!!...) are not allowed in a spec; write plain values";
        }
        message = message.replaceAll("\\b(?:[a-z_][a-z0-9_]*\\.)+[A-Z]\\w*(?:Exception|Error)\\b:?\\s*", "").strip();
        return message.isEmpty() ? "malformed" : message;
    }
}
