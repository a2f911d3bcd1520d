package dev.tranche.spec;

import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.EnumValueDescriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Descriptors.OneofDescriptor;
import com.google.protobuf.Message;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Fills a protobuf message from values parsed out of YAML or JSON (maps, lists, text, numbers,
 * booleans), checking every name and type on the way. Problems are told in the user's words: the
 * field path as written ({@code training.batchsize}), the rule, a suggestion for a near-miss name;
 * never a protobuf type or Java class. A {@code null} value leaves its field unset.
 */
final class MessageReader
{
    /** Deeper than any spec needs; stops a self-referencing structure from recursing forever. */
    static final int MAX_DEPTH = 32;

    /** Text fields that take a word or a whole number, e.g. {@code averaging_frequency: auto} or {@code 20}. */
    private static final java.util.Set<String> NUMBER_OR_WORD = java.util.Set.of("tranche.v1.TrainingSpec.averaging_frequency");

    private MessageReader() {}

    /** Fills {@code builder} from {@code map}; a problem throws {@link IllegalArgumentException} whose message starts with the field path. */
    static void merge(Map<?, ?> map, Message.Builder builder)
    {
        merge(map, builder, "", 0);
    }

    private static void merge(Map<?, ?> map, Message.Builder builder, String path, int depth)
    {
        checkDepth(path, depth);
        Descriptor type = builder.getDescriptorForType();
        Map<FieldDescriptor, String> written = new HashMap<>();
        Map<OneofDescriptor, FieldDescriptor> chosen = new HashMap<>();
        for (Map.Entry<?, ?> entry : map.entrySet()) {
            if (!(entry.getKey() instanceof String key)) {
                throw problem(path, "field names must be text: got " + describe(entry.getKey()));
            }
            String fieldPath = join(path, key);
            FieldDescriptor field = fieldNamed(type, key);
            if (field == null) {
                throw problem(fieldPath, "is not a field" + (path.isEmpty() ? "" : " of " + path) + suggestion(type, key));
            }
            String previous = written.put(field, key);
            if (previous != null) {
                throw problem(fieldPath, "is set twice (also as " + join(path, previous) + ")");
            }
            Object value = entry.getValue();
            if (value == null) {
                continue;
            }
            OneofDescriptor oneof = field.getRealContainingOneof();
            if (oneof != null) {
                FieldDescriptor other = chosen.putIfAbsent(oneof, field);
                if (other != null) {
                    throw problem(path.isEmpty() ? fieldPath : path, "takes only one of " + alternatives(oneof) + ": got both "
                            + other.getName() + " and " + field.getName());
                }
            }
            set(builder, field, value, fieldPath, depth);
        }
    }

    private static void set(Message.Builder builder, FieldDescriptor field, Object value, String path, int depth)
    {
        if (field.isMapField()) {
            if (!(value instanceof Map<?, ?> map)) {
                throw problem(path, "takes a mapping of keys to values: got " + describe(value));
            }
            FieldDescriptor keyField = field.getMessageType().findFieldByName("key");
            FieldDescriptor valueField = field.getMessageType().findFieldByName("value");
            for (Map.Entry<?, ?> entry : map.entrySet()) {
                if (entry.getKey() == null || entry.getKey() instanceof Map<?, ?> || entry.getKey() instanceof List<?>) {
                    throw problem(path, "keys must be text: got " + describe(entry.getKey()));
                }
                String entryPath = path + "." + entry.getKey();
                if (entry.getValue() == null) {
                    throw problem(entryPath, "has no value");
                }
                Message.Builder pair = builder.newBuilderForField(field);
                pair.setField(keyField, single(pair, keyField, entry.getKey(), path + " key " + entry.getKey(), depth));
                pair.setField(valueField, single(pair, valueField, entry.getValue(), entryPath, depth));
                builder.addRepeatedField(field, pair.build());
            }
            return;
        }
        if (field.isRepeated()) {
            if (!(value instanceof List<?> list)) {
                throw problem(path, "takes a list, e.g. [" + (value instanceof Map<?, ?> ? "..." : String.valueOf(value)) + "]: got " + describe(value));
            }
            for (int i = 0; i < list.size(); i++) {
                if (list.get(i) == null) {
                    throw problem(path + "[" + i + "]", "is empty");
                }
                builder.addRepeatedField(field, single(builder, field, list.get(i), path + "[" + i + "]", depth));
            }
            return;
        }
        builder.setField(field, single(builder, field, value, path, depth));
    }

    /** One value of {@code field}'s type (for a list, one element). */
    private static Object single(Message.Builder builder, FieldDescriptor field, Object value, String path, int depth)
    {
        if (value instanceof List<?> && field.getJavaType() != FieldDescriptor.JavaType.MESSAGE) {
            throw problem(path, "takes a single value, not a list");
        }
        if (value instanceof Map<?, ?> && field.getJavaType() != FieldDescriptor.JavaType.MESSAGE) {
            throw problem(path, "takes a single value, not a mapping");
        }
        switch (field.getJavaType()) {
            case MESSAGE -> {
                if (!(value instanceof Map<?, ?> map)) {
                    throw problem(path, "takes a mapping of fields (" + fieldNames(field.getMessageType()) + "): got " + describe(value));
                }
                Message.Builder child = builder.newBuilderForField(field);
                merge(map, child, path, depth + 1);
                return child.build();
            }
            case STRING -> {
                if (value instanceof String text) {
                    return text;
                }
                if (NUMBER_OR_WORD.contains(field.getFullName()) && (value instanceof Integer || value instanceof Long || value instanceof java.math.BigInteger)) {
                    // "auto" or a count: the validator checks the count's range
                    return value.toString();
                }
                throw problem(path, "must be text: got " + describe(value) + " (write it in quotes: \"" + value + "\")");
            }
            case BOOLEAN -> {
                if (value instanceof Boolean bool) {
                    return bool;
                }
                throw problem(path, "must be true or false: got " + describe(value));
            }
            case INT, LONG -> {
                long min = field.getJavaType() == FieldDescriptor.JavaType.INT ? Integer.MIN_VALUE : Long.MIN_VALUE;
                long max = field.getJavaType() == FieldDescriptor.JavaType.INT ? Integer.MAX_VALUE : Long.MAX_VALUE;
                BigInteger number;
                if (value instanceof Integer || value instanceof Long) {
                    number = BigInteger.valueOf(((Number) value).longValue());
                }
                else if (value instanceof BigInteger big) {
                    number = big;
                }
                else if (field.getJavaType() == FieldDescriptor.JavaType.LONG && value instanceof String text && text.matches("-?[0-9]{1,20}")) {
                    // protobuf's JSON writes 64-bit numbers as strings: the spec.json the scheduler hands its workers does
                    number = new BigInteger(text);
                }
                else {
                    throw problem(path, "must be a whole number: got " + describe(value));
                }
                if (number.compareTo(BigInteger.valueOf(min)) < 0 || number.compareTo(BigInteger.valueOf(max)) > 0) {
                    throw problem(path, "must be a whole number in [" + min + ", " + max + "]: got " + number);
                }
                return field.getJavaType() == FieldDescriptor.JavaType.INT ? (Object) number.intValue() : (Object) number.longValue();
            }
            case DOUBLE, FLOAT -> {
                if (value instanceof Number number) {
                    return field.getJavaType() == FieldDescriptor.JavaType.DOUBLE ? (Object) number.doubleValue() : (Object) number.floatValue();
                }
                throw problem(path, "must be a number: got " + describe(value));
            }
            case ENUM -> {
                if (value instanceof String text) {
                    for (EnumValueDescriptor candidate : field.getEnumType().getValues()) {
                        if (candidate.getName().equalsIgnoreCase(text)) {
                            return candidate;
                        }
                    }
                }
                throw problem(path, "must be one of " + field.getEnumType().getValues().stream().skip(1)
                        .map(v -> v.getName().toLowerCase(Locale.ROOT)).collect(Collectors.joining(", ")) + ": got " + describe(value));
            }
            default -> throw problem(path, "cannot be set from a spec");
        }
    }

    private static void checkDepth(String path, int depth)
    {
        if (depth > MAX_DEPTH) {
            throw problem(path, "nests more than " + MAX_DEPTH + " levels deep");
        }
    }

    /** By protobuf name ({@code batch_size}) or JSON name ({@code batchSize}). */
    private static FieldDescriptor fieldNamed(Descriptor type, String key)
    {
        FieldDescriptor field = type.findFieldByName(key);
        if (field != null) {
            return field;
        }
        for (FieldDescriptor candidate : type.getFields()) {
            if (candidate.getJsonName().equals(key)) {
                return candidate;
            }
        }
        return null;
    }

    /** "; did you mean batch_size?" for a near miss, else the names there are. */
    static String suggestion(Descriptor type, String key)
    {
        String wanted = normalized(key);
        FieldDescriptor best = type.getFields().stream()
                .min(Comparator.comparingInt(candidate -> distance(wanted, normalized(candidate.getName()))))
                .orElse(null);
        if (best != null) {
            int distance = distance(wanted, normalized(best.getName()));
            if (distance == 0 || distance <= 2 && distance * 3 <= wanted.length()) {
                return "; did you mean " + best.getName() + "?";
            }
        }
        return " (the fields are " + fieldNames(type) + ")";
    }

    private static String fieldNames(Descriptor type)
    {
        return type.getFields().stream().map(FieldDescriptor::getName).collect(Collectors.joining(", "));
    }

    private static String alternatives(OneofDescriptor oneof)
    {
        List<String> names = new ArrayList<>();
        oneof.getFields().forEach(field -> names.add(field.getName()));
        if (names.size() < 2) {
            return String.join("", names);
        }
        return String.join(", ", names.subList(0, names.size() - 1)) + " or " + names.get(names.size() - 1);
    }

    private static String normalized(String name)
    {
        return name.toLowerCase(Locale.ROOT).replace("_", "").replace("-", "");
    }

    /** Edit distance (insertions, deletions, substitutions and swaps of neighbours). */
    private static int distance(String a, String b)
    {
        int[][] d = new int[a.length() + 1][b.length() + 1];
        for (int i = 0; i <= a.length(); i++) {
            d[i][0] = i;
        }
        for (int j = 0; j <= b.length(); j++) {
            d[0][j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                d[i][j] = Math.min(Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1), d[i - 1][j - 1] + cost);
                if (i > 1 && j > 1 && a.charAt(i - 1) == b.charAt(j - 2) && a.charAt(i - 2) == b.charAt(j - 1)) {
                    d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
                }
            }
        }
        return d[a.length()][b.length()];
    }

    /** How a value reads in a message: {@code text "50%"}, {@code number 5}, {@code a list}. */
    static String describe(Object value)
    {
        if (value == null) {
            return "nothing";
        }
        if (value instanceof String text) {
            String shown = text.length() > 80 ? text.substring(0, 80) + "..." : text;
            return "text \"" + shown.replace("\"", "\\\"") + "\"";
        }
        if (value instanceof Boolean bool) {
            return bool.toString();
        }
        if (value instanceof Double number) {
            return "number " + Numbers.plain(number);
        }
        if (value instanceof Number number) {
            return "number " + number;
        }
        if (value instanceof List<?>) {
            return "a list";
        }
        if (value instanceof Map<?, ?>) {
            return "a mapping";
        }
        return "a value of another kind";
    }

    private static String join(String path, String key)
    {
        return path.isEmpty() ? key : path + "." + key;
    }

    private static IllegalArgumentException problem(String path, String message)
    {
        return new IllegalArgumentException(path.isEmpty() ? message : path + " " + message);
    }
}
