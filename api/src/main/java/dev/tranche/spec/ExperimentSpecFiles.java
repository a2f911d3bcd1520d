package dev.tranche.spec;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import com.google.protobuf.Descriptors;
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
            JsonFormat.parser().merge(message((Map<?, ?>) document, source, "", ExperimentSpec.getDescriptor()).toString(), builder);
        }
        catch (InvalidProtocolBufferException e) {
            throw new SpecFormatException(source + ": " + e.getMessage().replace("tranche.v1.", ""), e);
        }
        return builder.build();
    }

    /**
     * A YAML mapping to a JSON object for {@code message}, checking each value's shape against its
     * field on the way: protobuf's JSON parser would quietly take a one-element list for a single value.
     * Unknown field names pass through, for the parser's own "Cannot find field" message.
     */
    private static JsonObject message(Map<?, ?> map, String source, String path, Descriptors.Descriptor message)
    {
        JsonObject object = new JsonObject();
        for (Map.Entry<?, ?> entry : map.entrySet()) {
            if (!(entry.getKey() instanceof String key)) {
                throw new SpecFormatException(source + ": " + (path.isEmpty() ? "" : path + ": ") + "keys must be text: got " + entry.getKey());
            }
            String childPath = path.isEmpty() ? key : path + "." + key;
            Descriptors.FieldDescriptor field = message == null ? null : fieldNamed(message, key);
            object.add(key, field == null ? plain(entry.getValue(), source, childPath) : field(entry.getValue(), source, childPath, field));
        }
        return object;
    }

    private static JsonElement field(Object value, String source, String path, Descriptors.FieldDescriptor field)
    {
        if (value == null) {
            return JsonNull.INSTANCE;
        }
        if (field.isMapField()) {
            if (!(value instanceof Map<?, ?> map)) {
                throw new SpecFormatException(source + ": " + path + " takes a mapping of keys to values");
            }
            return message(map, source, path, null);
        }
        if (field.isRepeated()) {
            if (!(value instanceof List<?> list)) {
                throw new SpecFormatException(source + ": " + path + " takes a list, e.g. [" + value + "]");
            }
            JsonArray array = new JsonArray();
            for (int i = 0; i < list.size(); i++) {
                array.add(single(list.get(i), source, path + "[" + i + "]", field));
            }
            return array;
        }
        return single(value, source, path, field);
    }

    private static JsonElement single(Object value, String source, String path, Descriptors.FieldDescriptor field)
    {
        if (value instanceof List<?>) {
            throw new SpecFormatException(source + ": " + path + " takes a single value, not a list");
        }
        boolean isMessage = field.getJavaType() == Descriptors.FieldDescriptor.JavaType.MESSAGE;
        if (value instanceof Map<?, ?> map) {
            if (!isMessage) {
                throw new SpecFormatException(source + ": " + path + " takes a single value, not a mapping");
            }
            return message(map, source, path, field.getMessageType());
        }
        if (isMessage && value != null) {
            throw new SpecFormatException(source + ": " + path + " takes a mapping of fields, not " + describe(value));
        }
        return plain(value, source, path);
    }

    private static JsonElement plain(Object value, String source, String path)
    {
        if (value == null) {
            return JsonNull.INSTANCE;
        }
        if (value instanceof Map<?, ?> map) {
            return message(map, source, path, null);
        }
        if (value instanceof List<?> list) {
            JsonArray array = new JsonArray();
            for (int i = 0; i < list.size(); i++) {
                array.add(plain(list.get(i), source, path + "[" + i + "]"));
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

    /** By protobuf name or JSON (camelCase) name; unknown names are left to the parser's own message. */
    private static Descriptors.FieldDescriptor fieldNamed(Descriptors.Descriptor message, String key)
    {
        Descriptors.FieldDescriptor field = message.findFieldByName(key);
        if (field != null) {
            return field;
        }
        for (Descriptors.FieldDescriptor candidate : message.getFields()) {
            if (candidate.getJsonName().equals(key)) {
                return candidate;
            }
        }
        return null;
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
