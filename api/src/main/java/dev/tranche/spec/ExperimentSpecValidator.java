package dev.tranche.spec;

import dev.tranche.proto.v1.DatasetSpec;
import dev.tranche.proto.v1.ExperimentSpec;
import dev.tranche.proto.v1.GpuRequest;
import dev.tranche.proto.v1.ModelSpec;
import dev.tranche.proto.v1.ResourceRequest;
import dev.tranche.proto.v1.TrainingSpec;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The rules of an {@link ExperimentSpec} and its defaults. The scheduler is the authority (it calls
 * {@link #validateAndNormalize}); the CLI and the web form reuse it so a user sees the same message
 * everywhere. Messages name the field as written in YAML and the rule, then the value:
 * {@code resources.gpu.fraction must be in (0, 1]: got 1.5}.
 */
public final class ExperimentSpecValidator
{
    public static final Set<String> ARCHITECTURES = Set.of("lenet", "vgg", "resnet");
    public static final Set<String> DATASET_KINDS = Set.of("fashion-mnist", "mnist", "cifar10", "image-folder");
    public static final Set<String> OPTIMIZERS = Set.of("sgd", "nesterov", "adam", "rmsprop");
    public static final Set<String> PRIORITIES = Set.of("low", "normal", "high", "critical");
    public static final String AUTO = "auto";
    public static final int MAX_AVERAGING_FREQUENCY = 10_000;
    public static final String PARAMETER_AVERAGING = "parameter-averaging";
    public static final String GRADIENT_SHARING = "gradient-sharing";
    public static final Set<String> DATA_PARALLELISM = Set.of(PARAMETER_AVERAGING, GRADIENT_SHARING);
    public static final String COSINE = "cosine";
    public static final String CONSTANT = "constant";
    public static final Set<String> LEARNING_RATE_SCHEDULES = Set.of(COSINE, CONSTANT);

    public static final int MAX_REPLICAS = 64;
    public static final int MAX_GPUS_PER_REPLICA = 16;
    public static final long MAX_GPU_MEMORY_MIB = 1_048_576;
    public static final int MAX_CPU_MILLI = 1_024_000;
    public static final long MAX_MEMORY_MIB = 4_194_304;
    public static final int MAX_LABELS = 32;
    public static final int MAX_RETRIES = 10;
    public static final int MAX_EPOCHS = 1000;
    public static final int MAX_BATCH_SIZE = 65_536;
    public static final int MAX_PATH_LENGTH = 1024;
    public static final int MAX_SPEC_BYTES = 64 * 1024;

    private static final Pattern DNS_LABEL = Pattern.compile("[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?");
    private static final Pattern LABEL_KEY = Pattern.compile("[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?");
    private static final Pattern LABEL_VALUE = Pattern.compile("([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?");
    private static final Pattern GPU_MODEL = Pattern.compile("[A-Za-z0-9]([-A-Za-z0-9_. ]{0,62}[A-Za-z0-9])?");

    /** Checks every rule; on success returns the spec with every default filled in. */
    public ExperimentSpec validateAndNormalize(ExperimentSpec spec)
    {
        List<Violation> violations = validate(spec);
        if (!violations.isEmpty()) {
            throw new InvalidSpecException(violations);
        }
        return normalize(spec);
    }

    /** Every rule the spec breaks, in field order; empty when it is valid. */
    public List<Violation> validate(ExperimentSpec spec)
    {
        List<Violation> out = new ArrayList<>();
        if (spec.getSerializedSize() > MAX_SPEC_BYTES) {
            out.add(new Violation("spec", "must be at most " + MAX_SPEC_BYTES + " bytes: got " + spec.getSerializedSize()));
            return out;
        }
        dnsLabel(out, "name", spec.getName());
        dnsLabel(out, "project", spec.getProject());
        labels(out, spec.getLabelsMap());
        if (!spec.hasModel()) {
            out.add(new Violation("model", "is required"));
        }
        else {
            model(out, spec.getModel());
        }
        if (!spec.hasDataset()) {
            out.add(new Violation("dataset", "is required"));
        }
        else {
            dataset(out, spec.getDataset());
        }
        training(out, spec.getTraining());
        positiveIfSet(out, "replicas", spec.hasReplicas(), spec.getReplicas(), MAX_REPLICAS, "1");
        resources(out, spec.getResources());
        oneOfOrEmpty(out, "priority", spec.getPriority(), PRIORITIES);
        if (spec.hasMaxRetries()) {
            range(out, "max_retries", spec.getMaxRetries(), 0, MAX_RETRIES);
        }
        return out;
    }

    /** Fills every field the user left at its zero value with its documented default. */
    public ExperimentSpec normalize(ExperimentSpec spec)
    {
        ExperimentSpec.Builder builder = spec.toBuilder();
        if (!spec.hasReplicas()) {
            builder.setReplicas(1);
        }
        if (spec.getPriority().isEmpty()) {
            builder.setPriority("normal");
        }
        if (!spec.hasPreemptible()) {
            builder.setPreemptible(true);
        }
        if (!spec.hasMaxRetries()) {
            builder.setMaxRetries(2);
        }
        ModelSpec.Builder model = builder.getModelBuilder();
        if (model.getConvFiltersCount() == 0) {
            switch (model.getArchitecture()) {
                case "lenet" -> model.addAllConvFilters(List.of(20, 50));
                case "vgg" -> model.addAllConvFilters(List.of(32, 64, 128));
                case "resnet" -> model.addAllConvFilters(List.of(16, 32, 64));
                default -> { }
            }
        }
        if (!model.hasDenseUnits()) {
            model.setDenseUnits(model.getArchitecture().equals("lenet") ? 500 : 256);
        }
        if (!model.hasBlocksPerStage() && !model.getArchitecture().equals("lenet")) {
            model.setBlocksPerStage(2);
        }
        TrainingSpec.Builder training = builder.getTrainingBuilder();
        if (!training.hasEpochs()) {
            training.setEpochs(10);
        }
        if (!training.hasBatchSize()) {
            training.setBatchSize(64);
        }
        if (training.getOptimizer().isEmpty()) {
            training.setOptimizer("adam");
        }
        if (!training.hasLearningRate()) {
            training.setLearningRate(training.getOptimizer().equals("adam") || training.getOptimizer().equals("rmsprop") ? 0.001 : 0.01);
        }
        if (training.getDataParallelism().isEmpty()) {
            training.setDataParallelism(PARAMETER_AVERAGING);
        }
        if (training.getLearningRateSchedule().isEmpty()) {
            // gradient sharing's workers keep their own model for the whole run: no rate reaches them after the start
            training.setLearningRateSchedule(training.getDataParallelism().equals(GRADIENT_SHARING) ? CONSTANT : COSINE);
        }
        if (training.getAveragingFrequency().isEmpty()) {
            training.setAveragingFrequency(AUTO);
        }
        if (!builder.getDatasetBuilder().hasValidationFraction()) {
            builder.getDatasetBuilder().setValidationFraction(0.1);
        }
        ResourceRequest.Builder resources = builder.getResourcesBuilder();
        if (!resources.hasCpuMilli()) {
            resources.setCpuMilli(1000);
        }
        if (!resources.hasMemoryMib()) {
            resources.setMemoryMib(2048);
        }
        return builder.build();
    }

    private static void model(List<Violation> out, ModelSpec model)
    {
        if (!oneOf(out, "model.architecture", model.getArchitecture(), ARCHITECTURES)) {
            return;
        }
        int stages = model.getConvFiltersCount();
        if (model.getArchitecture().equals("lenet")) {
            if (stages != 0 && stages != 2) {
                out.add(new Violation("model.conv_filters", "must list 2 stages for lenet: got " + stages));
            }
            if (model.hasBlocksPerStage()) {
                out.add(new Violation("model.blocks_per_stage", "is not used by lenet: got " + model.getBlocksPerStage()));
            }
        }
        else {
            if (stages > 5) {
                out.add(new Violation("model.conv_filters", "must list 1 to 5 stages for " + model.getArchitecture() + ": got " + stages));
            }
            positiveIfSet(out, "model.blocks_per_stage", model.hasBlocksPerStage(), model.getBlocksPerStage(), 8, "2");
        }
        for (int i = 0; i < stages; i++) {
            range(out, "model.conv_filters[" + i + "]", model.getConvFilters(i), 1, 1024);
        }
        positiveIfSet(out, "model.dense_units", model.hasDenseUnits(), model.getDenseUnits(), 8192, model.getArchitecture().equals("lenet") ? "500" : "256");
        double dropout = model.getDropout();
        if (!(dropout >= 0 && dropout <= 0.9)) {
            out.add(new Violation("model.dropout", "must be in [0, 0.9]: got " + format(dropout)));
        }
    }

    private static void dataset(List<Violation> out, DatasetSpec dataset)
    {
        oneOf(out, "dataset.kind", dataset.getKind(), DATASET_KINDS);
        String location = dataset.getLocation();
        if (location.isEmpty()) {
            if (dataset.getKind().equals("image-folder")) {
                out.add(new Violation("dataset.location", "is required for image-folder"));
            }
        }
        else if (location.length() > MAX_PATH_LENGTH) {
            out.add(new Violation("dataset.location", "must be at most " + MAX_PATH_LENGTH + " characters: got " + location.length()));
        }
        else if (location.chars().anyMatch(Character::isISOControl)) {
            out.add(new Violation("dataset.location", "must not contain control characters such as NUL or a line break"));
        }
        else if (!location.startsWith("/")) {
            out.add(new Violation("dataset.location", "must be an absolute path: got " + quote(location)));
        }
        else if (!isNormalized(location)) {
            out.add(new Violation("dataset.location", "must be a plain absolute path, without \".\", \"..\", \"//\" or a trailing \"/\": got " + quote(location)
                    + "; write it as " + quote(normalizedOrRoot(location))));
        }
        range(out, "dataset.limit", dataset.getLimit(), 0, 100_000_000);
        range(out, "dataset.test_limit", dataset.getTestLimit(), 0, 100_000_000);
        double validation = dataset.getValidationFraction();
        if (dataset.hasValidationFraction() && !(validation >= 0 && validation <= 0.5)) {
            out.add(new Violation("dataset.validation_fraction", "must be in [0, 0.5] (the share of training images held out for validation): got "
                    + format(validation) + (validation > 0.5 && validation <= 50 ? "; write a share, e.g. 0.1 for 10%" : "")));
        }
    }

    private static void training(List<Violation> out, TrainingSpec training)
    {
        positiveIfSet(out, "training.epochs", training.hasEpochs(), training.getEpochs(), MAX_EPOCHS, "10");
        positiveIfSet(out, "training.batch_size", training.hasBatchSize(), training.getBatchSize(), MAX_BATCH_SIZE, "64");
        oneOfOrEmpty(out, "training.optimizer", training.getOptimizer(), OPTIMIZERS);
        double rate = training.getLearningRate();
        if (training.hasLearningRate() && !(rate > 0 && rate <= 10)) {
            out.add(new Violation("training.learning_rate", "must be in (0, 10]: got " + format(rate)
                    + (rate == 0 ? " (leave it out for the optimizer's default, 0.001 for adam and rmsprop, 0.01 for sgd and nesterov)" : "")));
        }
        if (training.getSeed() < 0) {
            out.add(new Violation("training.seed", "must not be negative: got " + training.getSeed()));
        }
        oneOfOrEmpty(out, "training.data_parallelism", training.getDataParallelism(), DATA_PARALLELISM);
        oneOfOrEmpty(out, "training.learning_rate_schedule", training.getLearningRateSchedule(), LEARNING_RATE_SCHEDULES);
        if (training.getLearningRateSchedule().equals(COSINE) && training.getDataParallelism().equals(GRADIENT_SHARING)) {
            out.add(new Violation("training.learning_rate_schedule", "cosine needs data_parallelism parameter-averaging: with gradient-sharing each "
                    + "worker keeps the rate it started with; use constant, or parameter-averaging"));
        }
        String averaging = training.getAveragingFrequency();
        if (!averaging.isEmpty() && !averaging.equals(AUTO) && averagingSteps(averaging).isEmpty()) {
            out.add(new Violation("training.averaging_frequency", "must be auto or a whole number of steps from 1 to " + MAX_AVERAGING_FREQUENCY
                    + ": got " + quote(averaging) + " (leave it out to let the worker choose from measured step and averaging times)"));
        }
        if (training.hasEarlyStopping()) {
            range(out, "training.early_stopping.patience", training.getEarlyStopping().getPatience(), 1, MAX_EPOCHS);
        }
    }

    /** The steps between averages a fixed {@code training.averaging_frequency} names; empty for auto or nonsense. */
    public static java.util.OptionalInt averagingSteps(String averagingFrequency)
    {
        if (!averagingFrequency.matches("[0-9]{1,6}")) {
            return java.util.OptionalInt.empty();
        }
        int steps = Integer.parseInt(averagingFrequency);
        return steps >= 1 && steps <= MAX_AVERAGING_FREQUENCY ? java.util.OptionalInt.of(steps) : java.util.OptionalInt.empty();
    }

    private static void resources(List<Violation> out, ResourceRequest resources)
    {
        if (resources.hasGpu()) {
            gpu(out, resources.getGpu());
        }
        positiveIfSet(out, "resources.cpu_milli", resources.hasCpuMilli(), resources.getCpuMilli(), MAX_CPU_MILLI, "1000");
        positiveIfSet(out, "resources.memory_mib", resources.hasMemoryMib(), resources.getMemoryMib(), MAX_MEMORY_MIB, "2048");
    }

    private static void gpu(List<Violation> out, GpuRequest gpu)
    {
        switch (gpu.getAmountCase()) {
            case FRACTION -> {
                double fraction = gpu.getFraction();
                if (!(fraction > 0 && fraction <= 1)) {
                    out.add(new Violation("resources.gpu.fraction", "must be in (0, 1]: got " + format(fraction)));
                }
                else if (new BigDecimal(Double.toString(fraction)).stripTrailingZeros().scale() > 3) {
                    out.add(new Violation("resources.gpu.fraction", "must have at most 3 decimals (milli-GPUs): got " + format(fraction)));
                }
            }
            case COUNT -> range(out, "resources.gpu.count", gpu.getCount(), 1, MAX_GPUS_PER_REPLICA);
            case MEMORY_MIB -> range(out, "resources.gpu.memory_mib", gpu.getMemoryMib(), 1, MAX_GPU_MEMORY_MIB);
            case AMOUNT_NOT_SET -> out.add(new Violation("resources.gpu", "must set one of fraction, count or memory_mib"));
        }
        if (gpu.getModelsCount() > 16) {
            out.add(new Violation("resources.gpu.models", "must list at most 16 models: got " + gpu.getModelsCount()));
            return;
        }
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < gpu.getModelsCount(); i++) {
            String model = gpu.getModels(i);
            if (!GPU_MODEL.matcher(model).matches()) {
                out.add(new Violation("resources.gpu.models[" + i + "]", "must be 1 to 64 letters, digits, '-', '_', '.' or spaces: got " + quote(model)));
            }
            else if (!seen.add(model)) {
                out.add(new Violation("resources.gpu.models[" + i + "]", "repeats " + quote(model)));
            }
        }
    }

    private static void labels(List<Violation> out, Map<String, String> labels)
    {
        if (labels.size() > MAX_LABELS) {
            out.add(new Violation("labels", "must have at most " + MAX_LABELS + " entries: got " + labels.size()));
            return;
        }
        labels.keySet().stream().sorted().forEach(key -> {
            if (!LABEL_KEY.matcher(key).matches()) {
                out.add(new Violation("labels", "key must be 1 to 63 letters, digits, '-', '_' or '.', starting and ending alphanumeric: got " + quote(key)));
            }
            else if (!LABEL_VALUE.matcher(labels.get(key)).matches()) {
                out.add(new Violation("labels." + key, "must be at most 63 letters, digits, '-', '_' or '.', starting and ending alphanumeric: got " + quote(labels.get(key))));
            }
        });
    }

    /** Project and experiment names share the Kubernetes DNS-label rule, so they fit in pod names and labels. */
    public static List<Violation> checkName(String field, String value)
    {
        List<Violation> out = new ArrayList<>();
        dnsLabel(out, field, value);
        return out;
    }

    private static void dnsLabel(List<Violation> out, String field, String value)
    {
        if (value.isEmpty()) {
            out.add(new Violation(field, "is required"));
        }
        else if (value.length() > 63) {
            out.add(new Violation(field, "must be at most 63 characters: got " + value.length()));
        }
        else if (!DNS_LABEL.matcher(value).matches()) {
            out.add(new Violation(field, "must be lower-case letters, digits and '-', starting and ending with a letter or digit: got " + quote(value)));
        }
    }

    private static boolean oneOf(List<Violation> out, String field, String value, Set<String> allowed)
    {
        if (value.isEmpty()) {
            out.add(new Violation(field, "is required (one of " + sorted(allowed) + ")"));
            return false;
        }
        if (!allowed.contains(value)) {
            out.add(new Violation(field, "must be one of " + sorted(allowed) + ": got " + quote(value)));
            return false;
        }
        return true;
    }

    private static void oneOfOrEmpty(List<Violation> out, String field, String value, Set<String> allowed)
    {
        if (!value.isEmpty() && !allowed.contains(value)) {
            out.add(new Violation(field, "must be one of " + sorted(allowed) + ": got " + quote(value)));
        }
    }

    private static void range(List<Violation> out, String field, long value, long min, long max)
    {
        if (value < min || value > max) {
            out.add(new Violation(field, "must be in [" + min + ", " + max + "]: got " + value));
        }
    }

    /**
     * For fields with a default where zero means nothing (no epochs, no memory): unset takes the
     * default; a value that is set, 0 included, must be in [1, max], so 0 is never silently replaced.
     */
    private static void positiveIfSet(List<Violation> out, String field, boolean set, long value, long max, String fallback)
    {
        if (set && (value < 1 || value > max)) {
            out.add(new Violation(field, "must be in [1, " + max + "]: got " + value + (value == 0 ? " (leave it out for the default, " + fallback + ")" : "")));
        }
    }

    private static String sorted(Set<String> values)
    {
        return String.join(", ", values.stream().sorted().toList());
    }

    private static String format(double value)
    {
        return Numbers.plain(value);
    }

    /** Quotes a user value, cut short so a huge value cannot flood an error message. */
    private static String quote(String value)
    {
        String shown = value.length() > 80 ? value.substring(0, 80) + "..." : value;
        return "\"" + shown.replace("\"", "\\\"") + "\"";
    }

    /** A path that names its folder one way only: what a dataset-root check can compare safely. */
    static boolean isNormalized(String path)
    {
        if (path.equals("/")) {
            return true;
        }
        if (path.endsWith("/")) {
            return false;
        }
        for (String segment : path.substring(1).split("/", -1)) {
            if (segment.isEmpty() || segment.equals(".") || segment.equals("..")) {
                return false;
            }
        }
        return true;
    }

    private static String normalizedOrRoot(String path)
    {
        String normalized = java.nio.file.Path.of(path).normalize().toString();
        return normalized.isEmpty() ? "/" : normalized;
    }
}
