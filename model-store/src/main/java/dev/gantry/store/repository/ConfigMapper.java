package dev.gantry.store.repository;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.MissingNode;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;
import java.util.regex.Pattern;

/**
 * Maps the tree of a config.json, or of a config.pbtxt read by {@link PbtxtParser}, to a {@link ModelConfig}.
 *
 * <p>Both formats share one tree shape, except that a repeated Triton field written once in pbtxt is a single
 * value rather than a one-element array; {@link #repeated} reads either. Keys Triton knows but Gantry does not
 * use are reported as {@code "ignored: <path>"}, anything else as {@code "unknown key: <path>"}.
 */
final class ConfigMapper {
    static final String GANTRY_PARAMETER_PREFIX = "gantry.";

    private static final Pattern INTEGER = Pattern.compile("[+-]?[0-9]+");
    private static final String ONNX_PLATFORM = "onnxruntime_onnx";
    private static final String ONNX_BACKEND = "onnxruntime";

    private static final Set<String> IGNORED_TOP_LEVEL = Set.of(
            "runtime", "input", "batch_input", "batch_output", "optimization",
            "sequence_batching", "ensemble_scheduling", "response_cache", "model_transaction_policy",
            "model_repository_agents", "model_operations", "cc_model_filenames", "metric_tags", "model_metrics");
    private static final Set<String> IGNORED_DYNAMIC_BATCHING = Set.of(
            "preserve_ordering", "priority_levels", "default_priority_level", "priority_queue_policy");
    private static final Set<String> IGNORED_QUEUE_POLICY = Set.of("timeout_action", "allow_timeout_override");
    private static final Set<String> IGNORED_OUTPUT = Set.of(
            "data_type", "dims", "reshape", "is_shape_tensor", "is_non_linear_format_io");
    private static final Set<String> IGNORED_INSTANCE_GROUP = Set.of(
            "name", "rate_limiter", "host_policy", "profile", "passive", "secondary_devices");

    private final String source;
    private final String modelName;
    private final List<String> warnings = new ArrayList<>();

    private ConfigMapper(String source, String modelName) {
        this.source = source;
        this.modelName = modelName;
    }

    static ModelConfig map(JsonNode root, String source, String modelName) throws ModelConfigException {
        return new ConfigMapper(source, modelName).config(root);
    }

    private ModelConfig config(JsonNode root) throws ModelConfigException {
        if (!root.isObject()) {
            throw error("the configuration must be an object, was " + root);
        }
        Optional<String> name = Optional.empty();
        int maxBatchSize = 0;
        Optional<DynamicBatching> dynamicBatching = Optional.empty();
        List<InstanceGroup> instanceGroups = List.of();
        VersionPolicy versionPolicy = VersionPolicy.defaults();
        String defaultModelFilename = ModelConfig.DEFAULT_MODEL_FILENAME;
        OptionsBuilder options = new OptionsBuilder();
        List<OutputConfig> outputs = List.of();
        List<WarmupSample> warmup = List.of();
        for (Map.Entry<String, JsonNode> field : fields(root)) {
            String key = field.getKey();
            JsonNode value = field.getValue();
            switch (key) {
                case "name" -> name = Optional.of(string(value, key));
                case "platform" -> requireOnnx(value, key, ONNX_PLATFORM);
                case "backend" -> requireOnnx(value, key, ONNX_BACKEND);
                case "max_batch_size" -> maxBatchSize = integer(value, key);
                case "dynamic_batching" -> dynamicBatching = Optional.of(dynamicBatching(value, key));
                case "instance_group" -> instanceGroups = instanceGroups(value, key);
                case "version_policy" -> versionPolicy = versionPolicy(value, key);
                case "default_model_filename" -> defaultModelFilename = string(value, key);
                case "parameters" -> parameters(value, key, options);
                case "gantry" -> gantryBlock(value, key, options);
                case "output" -> outputs = outputs(value, key);
                case "model_warmup" -> warmup = warmup(value, key);
                default -> reportUnused(key, IGNORED_TOP_LEVEL.contains(key));
            }
        }
        if (name.isPresent() && !name.get().equals(modelName)) {
            throw error("name must match the model directory '" + modelName + "', was '" + name.get() + "'");
        }
        Optional<String> finalName = name;
        int finalMaxBatchSize = maxBatchSize;
        Optional<DynamicBatching> finalBatching = dynamicBatching;
        List<InstanceGroup> finalGroups = instanceGroups;
        VersionPolicy finalPolicy = versionPolicy;
        String finalFilename = defaultModelFilename;
        GantryOptions gantry = build("gantry.", options::build);
        List<OutputConfig> finalOutputs = outputs;
        List<WarmupSample> finalWarmup = warmup;
        return build("", () -> new ModelConfig(finalName, finalMaxBatchSize, finalBatching, finalGroups,
                finalPolicy, finalFilename, gantry, finalWarmup, warnings, finalOutputs, /* fromFile= */ true));
    }

    private void requireOnnx(JsonNode value, String path, String expected) throws ModelConfigException {
        String actual = string(value, path);
        if (!actual.equals(expected)) {
            throw error(path + " must be '" + expected + "' (Gantry serves ONNX Runtime models), was '" + actual + "'");
        }
    }

    private DynamicBatching dynamicBatching(JsonNode node, String path) throws ModelConfigException {
        long maxQueueDelay = 0;
        List<Integer> preferred = new ArrayList<>();
        int maxQueueSize = 0;
        long defaultTimeout = 0;
        for (Map.Entry<String, JsonNode> field : fields(object(node, path))) {
            String key = field.getKey();
            String fieldPath = path + "." + key;
            JsonNode value = field.getValue();
            switch (key) {
                case "max_queue_delay_microseconds" -> maxQueueDelay = longInteger(value, fieldPath);
                case "preferred_batch_size" -> {
                    for (JsonNode size : repeated(value)) {
                        preferred.add(integer(size, fieldPath));
                    }
                }
                // Gantry also takes the two queue-policy fields flat under dynamic_batching (a shorthand for
                // Triton's default_queue_policy block); the nested form wins when both are given.
                case "max_queue_size" -> maxQueueSize = maxQueueSize != 0 ? maxQueueSize : integer(value, fieldPath);
                case "default_timeout_microseconds" ->
                        defaultTimeout = defaultTimeout != 0 ? defaultTimeout : longInteger(value, fieldPath);
                case "default_queue_policy" -> {
                    for (Map.Entry<String, JsonNode> policy : fields(object(value, fieldPath))) {
                        String policyKey = policy.getKey();
                        String policyPath = fieldPath + "." + policyKey;
                        switch (policyKey) {
                            case "max_queue_size" -> maxQueueSize = integer(policy.getValue(), policyPath);
                            case "default_timeout_microseconds" ->
                                    defaultTimeout = longInteger(policy.getValue(), policyPath);
                            default -> reportUnused(policyPath, IGNORED_QUEUE_POLICY.contains(policyKey));
                        }
                    }
                }
                default -> reportUnused(fieldPath, IGNORED_DYNAMIC_BATCHING.contains(key));
            }
        }
        long delay = maxQueueDelay;
        int queueSize = maxQueueSize;
        long timeout = defaultTimeout;
        return build(path + ".", () -> new DynamicBatching(delay, preferred, queueSize, timeout));
    }

    /**
     * Triton's {@code model_warmup}: repeated samples, each with {@code name}, {@code batch_size} and
     * {@code inputs}, a map in JSON and repeated {@code {key, value}} entries in pbtxt.
     */
    private List<WarmupSample> warmup(JsonNode node, String path) throws ModelConfigException {
        List<WarmupSample> samples = new ArrayList<>();
        List<JsonNode> entries = repeated(node);
        for (int i = 0; i < entries.size(); i++) {
            String samplePath = path + "[" + i + "]";
            String name = "sample " + i;
            int batchSize = 1;
            List<WarmupSample.Input> inputs = new ArrayList<>();
            for (Map.Entry<String, JsonNode> field : fields(object(entries.get(i), samplePath))) {
                String key = field.getKey();
                String fieldPath = samplePath + "." + key;
                switch (key) {
                    case "name" -> name = string(field.getValue(), fieldPath);
                    case "batch_size" -> batchSize = integer(field.getValue(), fieldPath);
                    case "inputs" -> {
                        JsonNode value = field.getValue();
                        if (value.isObject() && !value.path("key").isTextual()) {
                            for (Map.Entry<String, JsonNode> input : fields(value)) {
                                inputs.add(warmupInput(input.getKey(), input.getValue(), fieldPath));
                            }
                        } else {
                            for (JsonNode entry : repeated(value)) {
                                object(entry, fieldPath);
                                JsonNode inputName = entry.get("key");
                                if (inputName == null || entry.get("value") == null) {
                                    throw error(fieldPath + " entry must have a key and a value, was " + entry);
                                }
                                inputs.add(warmupInput(string(inputName, fieldPath + ".key"), entry.get("value"),
                                        fieldPath));
                            }
                        }
                    }
                    case "count" -> reportUnused(fieldPath, true);
                    default -> reportUnused(fieldPath, false);
                }
            }
            String sampleName = name;
            int rows = batchSize;
            samples.add(build(samplePath + ".", () -> new WarmupSample(sampleName, rows, inputs)));
        }
        return samples;
    }

    private WarmupSample.Input warmupInput(String name, JsonNode node, String path) throws ModelConfigException {
        String inputPath = path + "." + name;
        String dataType = null;
        List<Long> dims = new ArrayList<>();
        WarmupSample.Source source = null;
        String file = null;
        for (Map.Entry<String, JsonNode> field : fields(object(node, inputPath))) {
            String key = field.getKey();
            String fieldPath = inputPath + "." + key;
            JsonNode value = field.getValue();
            switch (key) {
                case "data_type" -> {
                    String type = string(value, fieldPath);
                    if (!type.startsWith("TYPE_")) {
                        throw error(fieldPath + " must be a Triton data type such as TYPE_FP32, was '" + type + "'");
                    }
                    dataType = type.substring("TYPE_".length());
                }
                case "dims" -> {
                    for (JsonNode d : repeated(value)) {
                        dims.add(longInteger(d, fieldPath));
                    }
                }
                case "zero_data", "random_data", "input_data_file" -> {
                    if (source != null) {
                        throw error(inputPath + " must have one of zero_data, random_data or input_data_file");
                    }
                    if (key.equals("input_data_file")) {
                        source = WarmupSample.Source.FILE;
                        file = string(value, fieldPath);
                    } else if (bool(value, fieldPath)) {
                        source = key.equals("zero_data") ? WarmupSample.Source.ZERO : WarmupSample.Source.RANDOM;
                    }
                }
                default -> reportUnused(fieldPath, false);
            }
        }
        if (dataType == null) {
            throw error(inputPath + " must have a data_type");
        }
        if (source == null) {
            throw error(inputPath + " must have one of zero_data, random_data or input_data_file");
        }
        String type = dataType;
        WarmupSample.Source from = source;
        String fileName = file;
        return build(inputPath + ".", () -> new WarmupSample.Input(name, type, dims, from, fileName));
    }

    private List<InstanceGroup> instanceGroups(JsonNode node, String path) throws ModelConfigException {
        List<InstanceGroup> groups = new ArrayList<>();
        List<JsonNode> entries = repeated(node);
        for (int i = 0; i < entries.size(); i++) {
            String groupPath = path + "[" + i + "]";
            int count = 1;
            InstanceGroup.Kind kind = InstanceGroup.Kind.KIND_CPU;
            List<Integer> gpus = new ArrayList<>();
            for (Map.Entry<String, JsonNode> field : fields(object(entries.get(i), groupPath))) {
                String key = field.getKey();
                String fieldPath = groupPath + "." + key;
                switch (key) {
                    case "count" -> count = integer(field.getValue(), fieldPath);
                    case "kind" -> kind = kind(field.getValue(), fieldPath);
                    case "gpus" -> {
                        for (JsonNode gpu : repeated(field.getValue())) {
                            gpus.add(integer(gpu, fieldPath));
                        }
                    }
                    default -> reportUnused(fieldPath, IGNORED_INSTANCE_GROUP.contains(key));
                }
            }
            int groupCount = count;
            InstanceGroup.Kind groupKind = kind;
            groups.add(build(groupPath + ".", () -> new InstanceGroup(groupCount, groupKind, gpus)));
        }
        return groups;
    }

    /**
     * Triton's {@code output} entries: Gantry reads {@code name} and {@code label_filename} (the classification
     * extension's labels); the types and shapes come from the model file itself, so the rest is reported ignored.
     */
    private List<OutputConfig> outputs(JsonNode node, String path) throws ModelConfigException {
        List<OutputConfig> outputs = new ArrayList<>();
        List<JsonNode> entries = repeated(node);
        boolean reportedIgnored = false;
        for (int i = 0; i < entries.size(); i++) {
            String outputPath = path + "[" + i + "]";
            String name = null;
            Optional<String> labels = Optional.empty();
            for (Map.Entry<String, JsonNode> field : fields(object(entries.get(i), outputPath))) {
                String key = field.getKey();
                String fieldPath = outputPath + "." + key;
                switch (key) {
                    case "name" -> name = string(field.getValue(), fieldPath);
                    case "label_filename" -> {
                        String file = string(field.getValue(), fieldPath);
                        labels = file.isEmpty() ? Optional.empty() : Optional.of(file);
                    }
                    default -> {
                        boolean known = IGNORED_OUTPUT.contains(key);
                        if (!known || !reportedIgnored) {
                            reportUnused(known ? path : fieldPath, known);
                            reportedIgnored |= known;
                        }
                    }
                }
            }
            if (name == null) {
                throw error(outputPath + " must have a name");
            }
            String outputName = name;
            Optional<String> labelFile = labels;
            outputs.add(build(outputPath + ".", () -> new OutputConfig(outputName, labelFile)));
        }
        return outputs;
    }

    private InstanceGroup.Kind kind(JsonNode value, String path) throws ModelConfigException {
        String text = string(value, path);
        for (InstanceGroup.Kind kind : InstanceGroup.Kind.values()) {
            if (kind.name().equals(text)) {
                return kind;
            }
        }
        throw error(path + " must be one of KIND_CPU, KIND_GPU, KIND_AUTO, was '" + text + "'");
    }

    private VersionPolicy versionPolicy(JsonNode node, String path) throws ModelConfigException {
        VersionPolicy policy = VersionPolicy.defaults();
        String chosen = null;
        for (Map.Entry<String, JsonNode> field : fields(object(node, path))) {
            String key = field.getKey();
            String fieldPath = path + "." + key;
            switch (key) {
                case "latest", "all", "specific" -> {
                    if (chosen != null) {
                        throw error(path + " must have one of latest, all or specific, was both "
                                + chosen + " and " + key);
                    }
                    chosen = key;
                    policy = versionPolicyOf(key, object(field.getValue(), fieldPath), fieldPath);
                }
                default -> reportUnused(fieldPath, false);
            }
        }
        return policy;
    }

    private VersionPolicy versionPolicyOf(String kind, JsonNode body, String path) throws ModelConfigException {
        switch (kind) {
            case "latest" -> {
                int numVersions = 1;
                for (Map.Entry<String, JsonNode> field : fields(body)) {
                    if (field.getKey().equals("num_versions")) {
                        numVersions = integer(field.getValue(), path + ".num_versions");
                    } else {
                        reportUnused(path + "." + field.getKey(), false);
                    }
                }
                int n = numVersions;
                return build(path + ".", () -> new VersionPolicy.Latest(n));
            }
            case "specific" -> {
                List<Long> versions = new ArrayList<>();
                for (Map.Entry<String, JsonNode> field : fields(body)) {
                    if (field.getKey().equals("versions")) {
                        for (JsonNode version : repeated(field.getValue())) {
                            versions.add(longInteger(version, path + ".versions"));
                        }
                    } else {
                        reportUnused(path + "." + field.getKey(), false);
                    }
                }
                return build(path + ".", () -> new VersionPolicy.Specific(versions));
            }
            default -> {
                for (Map.Entry<String, JsonNode> field : fields(body)) {
                    reportUnused(path + "." + field.getKey(), false);
                }
                return new VersionPolicy.All();
            }
        }
    }

    /** Triton's {@code parameters}: a map in JSON, repeated {@code {key, value}} entries in pbtxt. */
    private void parameters(JsonNode node, String path, OptionsBuilder options) throws ModelConfigException {
        if (node.isObject() && !node.path("key").isTextual()) {
            for (Map.Entry<String, JsonNode> entry : fields(node)) {
                parameter(entry.getKey(), entry.getValue(), path, options);
            }
            return;
        }
        for (JsonNode entry : repeated(node)) {
            object(entry, path);
            JsonNode key = entry.get("key");
            if (key == null) {
                throw error(path + " entry must have a key, was " + entry);
            }
            JsonNode value = entry.get("value");
            parameter(string(key, path + ".key"), value == null ? MissingNode.getInstance() : value, path, options);
        }
    }

    private void parameter(String key, JsonNode value, String path, OptionsBuilder options)
            throws ModelConfigException {
        String parameterPath = path + "." + key;
        if (!key.startsWith(GANTRY_PARAMETER_PREFIX)) {
            reportUnused(parameterPath, true);
            return;
        }
        JsonNode stringValue = value.get("string_value");
        if (stringValue == null) {
            throw error(parameterPath + " must have a string_value, was " + value);
        }
        String option = key.substring(GANTRY_PARAMETER_PREFIX.length());
        if (!options.set(option, stringValue, parameterPath + ".string_value")) {
            reportUnused(parameterPath, false);
        }
    }

    private void gantryBlock(JsonNode node, String path, OptionsBuilder options) throws ModelConfigException {
        for (Map.Entry<String, JsonNode> field : fields(object(node, path))) {
            String fieldPath = path + "." + field.getKey();
            if (!options.set(field.getKey(), field.getValue(), fieldPath)) {
                reportUnused(fieldPath, false);
            }
        }
    }

    private final class OptionsBuilder {
        private boolean allowNonInvariantBatching;
        private Optional<Integer> intraOpThreads = Optional.empty();
        private Optional<Integer> interOpThreads = Optional.empty();
        private Optional<Boolean> allowSpinning = Optional.empty();
        private Optional<TextOptions> text = Optional.empty();
        private boolean processIsolation;
        private Optional<Integer> maxBatchElements = Optional.empty();

        /** Sets the named option and answers true, or answers false if there is no option by that name. */
        boolean set(String option, JsonNode value, String path) throws ModelConfigException {
            switch (option) {
                case "allow_non_invariant_batching" -> allowNonInvariantBatching = bool(value, path);
                case "intra_op_threads" -> intraOpThreads = Optional.of(integer(value, path));
                case "inter_op_threads" -> interOpThreads = Optional.of(integer(value, path));
                case "allow_spinning" -> allowSpinning = Optional.of(bool(value, path));
                case "text" -> text = Optional.of(text(value, path));
                case "max_batch_elements" -> maxBatchElements = Optional.of(integer(value, path));
                case "isolation" -> {
                    String mode = string(value, path);
                    if (!mode.equals("process") && !mode.equals("in_process")) {
                        throw error(path + " must be 'process' or 'in_process', was '" + mode + "'");
                    }
                    processIsolation = mode.equals("process");
                }
                default -> {
                    return false;
                }
            }
            return true;
        }

        GantryOptions build() {
            return new GantryOptions(allowNonInvariantBatching, intraOpThreads, interOpThreads, allowSpinning,
                    text, processIsolation, maxBatchElements);
        }
    }

    /** The {@code gantry.text} block; in Triton's parameters, {@code gantry.text} holds the same JSON as a string. */
    private TextOptions text(JsonNode node, String path) throws ModelConfigException {
        JsonNode block = node;
        if (node.isTextual()) {
            try {
                block = new com.fasterxml.jackson.databind.ObjectMapper().readTree(node.textValue());
            } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                throw error(path + " must be a JSON object, was " + node);
            }
        }
        String task = TextOptions.EMBEDDING;
        String tokenizer = TextOptions.DEFAULT_TOKENIZER;
        TextOptions.Pooling pooling = TextOptions.Pooling.MEAN;
        boolean normalize = true;
        int maxTokens = TextOptions.DEFAULT_MAX_TOKENS;
        for (Map.Entry<String, JsonNode> field : fields(object(block, path))) {
            String fieldPath = path + "." + field.getKey();
            JsonNode value = field.getValue();
            switch (field.getKey()) {
                case "task" -> task = string(value, fieldPath);
                case "tokenizer" -> tokenizer = string(value, fieldPath);
                case "pooling" -> pooling = pooling(value, fieldPath);
                case "normalize" -> normalize = bool(value, fieldPath);
                case "max_tokens" -> maxTokens = integer(value, fieldPath);
                default -> reportUnused(fieldPath, false);
            }
        }
        String t = task;
        String file = tokenizer;
        TextOptions.Pooling p = pooling;
        boolean n = normalize;
        int max = maxTokens;
        return build(path + ".", () -> new TextOptions(t, file, p, n, max));
    }

    private TextOptions.Pooling pooling(JsonNode value, String path) throws ModelConfigException {
        String text = string(value, path);
        for (TextOptions.Pooling p : TextOptions.Pooling.values()) {
            if (p.wireName().equals(text)) {
                return p;
            }
        }
        throw error(path + " must be 'mean' or 'cls', was '" + text + "'");
    }

    private void reportUnused(String path, boolean knownToTriton) {
        warnings.add((knownToTriton ? "ignored: " : "unknown key: ") + path);
    }

    private <T> T build(String pathPrefix, Supplier<T> constructor) throws ModelConfigException {
        try {
            return constructor.get();
        } catch (IllegalArgumentException e) {
            throw error(pathPrefix + e.getMessage());
        }
    }

    private static Iterable<Map.Entry<String, JsonNode>> fields(JsonNode node) {
        return node.properties();
    }

    private static List<JsonNode> repeated(JsonNode node) {
        List<JsonNode> values = new ArrayList<>();
        if (node.isArray()) {
            node.forEach(values::add);
        } else if (!node.isNull()) {
            values.add(node);
        }
        return values;
    }

    private JsonNode object(JsonNode node, String path) throws ModelConfigException {
        if (!node.isObject()) {
            throw error(path + " must be an object, was " + node);
        }
        return node;
    }

    private String string(JsonNode node, String path) throws ModelConfigException {
        if (!node.isTextual()) {
            throw error(path + " must be a string, was " + node);
        }
        return node.textValue();
    }

    private boolean bool(JsonNode node, String path) throws ModelConfigException {
        if (node.isBoolean()) {
            return node.booleanValue();
        }
        if (node.isTextual()) {
            String text = node.textValue().toLowerCase(Locale.ROOT);
            if (text.equals("true") || text.equals("false")) {
                return Boolean.parseBoolean(text);
            }
        }
        throw error(path + " must be true or false, was " + node);
    }

    private int integer(JsonNode node, String path) throws ModelConfigException {
        BigInteger value = integral(node, path);
        if (value.bitLength() >= Integer.SIZE) {
            throw error(path + " must be an integer in the range of int, was " + node);
        }
        return value.intValue();
    }

    private long longInteger(JsonNode node, String path) throws ModelConfigException {
        BigInteger value = integral(node, path);
        if (value.bitLength() >= Long.SIZE) {
            throw error(path + " must be an integer in the range of int64, was " + node);
        }
        return value.longValue();
    }

    /** Accepts JSON integers and strings of digits, the JSON form Triton gives int64 fields. */
    private BigInteger integral(JsonNode node, String path) throws ModelConfigException {
        if (node.isIntegralNumber()) {
            return node.bigIntegerValue();
        }
        if (node.isTextual() && INTEGER.matcher(node.textValue().strip()).matches()) {
            return new BigInteger(node.textValue().strip());
        }
        throw error(path + " must be an integer, was " + node);
    }

    private ModelConfigException error(String message) {
        return new ModelConfigException(source + ": " + message);
    }
}
