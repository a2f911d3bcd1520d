package dev.tranche.spec;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import dev.tranche.proto.v1.ExperimentSpec;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;
import org.snakeyaml.engine.v2.exceptions.YamlEngineException;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Reads an experiment spec from YAML (or JSON, which is YAML too). Field names are the protobuf
 * names of {@link ExperimentSpec} ({@code batch_size}, or {@code batchSize}); an unknown field, a
 * duplicate key or a value of the wrong type is an error that names the file. The rules of the values
 * themselves are {@link ExperimentSpecValidator}'s.
 */
public final class ExperimentSpecFiles
{
    private static final int MAX_FILE_BYTES = 1024 * 1024;

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
            bytes = Files.readAllBytes(file);
        }
        catch (NoSuchFileException e) {
            throw new SpecFormatException(file + ": no such file");
        }
        catch (IOException e) {
            throw new SpecFormatException(file + ": cannot be read: " + e.getMessage(), e);
        }
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().decode(java.nio.ByteBuffer.wrap(bytes)).toString();
        }
        catch (CharacterCodingException e) {
            throw new SpecFormatException(file + ": is not UTF-8 text");
        }
        return parse(text, file.toString());
    }

    /** Parses spec text; {@code source} names it in error messages. */
    public static ExperimentSpec parse(String text, String source)
    {
        Object document;
        try {
            LoadSettings settings = LoadSettings.builder()
                    .setAllowDuplicateKeys(false)
                    .setMaxAliasesForCollections(10)
                    .setLabel(source)
                    .build();
            document = new Load(settings).loadFromString(text);
        }
        catch (YamlEngineException e) {
            throw new SpecFormatException(source + ": is not valid YAML: " + e.getMessage().strip(), e);
        }
        if (document == null) {
            throw new SpecFormatException(source + ": is empty");
        }
        if (!(document instanceof Map<?, ?>)) {
            throw new SpecFormatException(source + ": must be a mapping of spec fields (name, project, model, ...), not a " + describe(document));
        }
        ExperimentSpec.Builder builder = ExperimentSpec.newBuilder();
        try {
            JsonFormat.parser().merge(toJson(document, source, "").toString(), builder);
        }
        catch (InvalidProtocolBufferException e) {
            throw new SpecFormatException(source + ": " + e.getMessage().replace("tranche.v1.", ""), e);
        }
        return builder.build();
    }

    private static JsonElement toJson(Object value, String source, String path)
    {
        if (value == null) {
            return JsonNull.INSTANCE;
        }
        if (value instanceof Map<?, ?> map) {
            JsonObject object = new JsonObject();
            for (Map.Entry<?, ?> entry : map.entrySet()) {
                if (!(entry.getKey() instanceof String key)) {
                    throw new SpecFormatException(source + ": " + (path.isEmpty() ? "" : path + ": ") + "keys must be text: got " + entry.getKey());
                }
                object.add(key, toJson(entry.getValue(), source, path.isEmpty() ? key : path + "." + key));
            }
            return object;
        }
        if (value instanceof List<?> list) {
            JsonArray array = new JsonArray();
            for (int i = 0; i < list.size(); i++) {
                array.add(toJson(list.get(i), source, path + "[" + i + "]"));
            }
            return array;
        }
        if (value instanceof String text) {
            return new JsonPrimitive(text);
        }
        if (value instanceof Boolean bool) {
            return new JsonPrimitive(bool);
        }
        if (value instanceof Integer || value instanceof Long || value instanceof BigInteger || value instanceof Double) {
            return new JsonPrimitive((Number) value);
        }
        throw new SpecFormatException(source + ": " + path + ": unsupported value " + describe(value));
    }

    private static String describe(Object value)
    {
        if (value instanceof List<?>) {
            return "list";
        }
        if (value instanceof String) {
            return "text value";
        }
        return value.getClass().getSimpleName().toLowerCase(java.util.Locale.ROOT);
    }
}
