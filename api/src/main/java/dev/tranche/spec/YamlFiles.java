package dev.tranche.spec;

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
import java.util.Optional;

/**
 * Reads the YAML files people write (experiment specs, the quotas of {@code tranche simulate}) with
 * the same guards: at most {@link #MAX_FILE_BYTES}, UTF-8, no duplicate keys, a bounded nesting depth
 * and no alias inside what it names. The library's composer recurses once per level, so the shape is
 * checked first, without recursion. Errors are {@link SpecFormatException}s naming the source.
 */
public final class YamlFiles
{
    static final int MAX_FILE_BYTES = 1024 * 1024;

    private YamlFiles() {}

    /**
     * The file's text.
     *
     * @param kind what the file is, for messages: "a spec file"
     */
    public static String read(Path file, String kind)
    {
        byte[] bytes;
        try {
            if (Files.isDirectory(file)) {
                throw new SpecFormatException(file + ": is a directory, not " + kind);
            }
            long size = Files.size(file);
            if (size > MAX_FILE_BYTES) {
                throw new SpecFormatException(file + ": is " + size + " bytes; " + kind + " may be at most " + MAX_FILE_BYTES);
            }
            // a pipe or device reports no size: read one byte past the limit at most, never all of it
            try (InputStream in = Files.newInputStream(file)) {
                bytes = in.readNBytes(MAX_FILE_BYTES + 1);
            }
            if (bytes.length > MAX_FILE_BYTES) {
                throw new SpecFormatException(file + ": is more than " + MAX_FILE_BYTES + " bytes; " + kind + " may be at most " + MAX_FILE_BYTES);
            }
        }
        catch (NoSuchFileException e) {
            throw new SpecFormatException(file + ": no such file");
        }
        catch (IOException e) {
            throw new SpecFormatException(file + ": cannot be read: " + e.getMessage(), e);
        }
        try {
            return StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(bytes)).toString();
        }
        catch (CharacterCodingException e) {
            throw new SpecFormatException(file + ": is not UTF-8 text");
        }
    }

    /**
     * The document: maps, lists and scalars, or null when empty.
     *
     * @param source names the text in messages
     * @param kind what the text is, for messages: "a spec"
     * @param levels how many levels the text needs, said when it nests too deep
     */
    public static Object load(String text, String source, String kind, int levels)
    {
        if (text.length() > MAX_FILE_BYTES) {
            throw new SpecFormatException(source + ": is more than " + MAX_FILE_BYTES + " characters; " + kind + " may be at most " + MAX_FILE_BYTES);
        }
        try {
            LoadSettings settings = LoadSettings.builder()
                    .setAllowDuplicateKeys(false)
                    .setMaxAliasesForCollections(10)
                    .setLabel(source)
                    .build();
            checkShape(settings, text, source, kind, levels);
            return new Load(settings).loadFromString(text);
        }
        catch (YamlEngineException e) {
            throw new SpecFormatException(source + ": is not valid YAML: " + yamlProblem(e, kind), e);
        }
    }

    /** Refuses nesting deeper than {@link MessageReader#MAX_DEPTH} and an alias inside the collection it names, with the line. */
    private static void checkShape(LoadSettings settings, String text, String source, String kind, int levels)
    {
        Deque<Optional<Anchor>> open = new ArrayDeque<>();
        for (Event event : new Parse(settings).parseString(text)) {
            if (event instanceof CollectionStartEvent start) {
                open.push(start.getAnchor());
                if (open.size() > MessageReader.MAX_DEPTH) {
                    throw new SpecFormatException(source + ": " + at(event) + "nests more than " + MessageReader.MAX_DEPTH
                            + " levels deep; " + kind + " needs no more than " + levels);
                }
            }
            else if (event instanceof CollectionEndEvent) {
                open.pop();
            }
            else if (event instanceof AliasEvent alias && open.stream().anyMatch(anchor -> anchor.equals(Optional.of(alias.getAlias())))) {
                throw new SpecFormatException(source + ": " + at(event) + "alias *" + alias.getAlias().getValue()
                        + " refers to the list or mapping it is in; " + kind + " cannot contain itself");
            }
        }
    }

    private static String at(Event event)
    {
        return event.getStartMark().map(Mark::getLine).map(line -> "line " + (line + 1) + ": ").orElse("");
    }

    /** The YAML library's complaint without Java class names; tags (which name Java types) get a plain answer. */
    private static String yamlProblem(YamlEngineException e, String kind)
    {
        String message = e.getMessage() == null ? "" : e.getMessage().strip();
        if (message.contains("could not determine a constructor for the tag")) {
            return "explicit tags (!!...) are not allowed in " + kind + "; write plain values";
        }
        message = message.replaceAll("\\b(?:[a-z_][a-z0-9_]*\\.)+[A-Z]\\w*(?:Exception|Error)\\b:?\\s*", "").strip();
        return message.isEmpty() ? "malformed" : message;
    }
}
