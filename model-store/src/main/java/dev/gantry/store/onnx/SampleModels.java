package dev.gantry.store.onnx;

import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.core.util.Separators;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/** Writes the sample model repository: each model's {@code 1/model.onnx} and {@code config.json}. */
public final class SampleModels {

    /*
     * Everything here is a pure function of the code: the MLP weights come from SplittableRandom(42), the
     * JSON is printed with fixed separators and "\n" line ends, and only the listed models' two files are
     * written. Other directories under the root (minilm, built from Maven jars) are left alone.
     */

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final ObjectWriter PRETTY = JSON.writer(prettyPrinter());
    private static final long SEED = 42;

    private SampleModels() {
    }

    /** Entry point: {@code SampleModels [root]}, where root defaults to {@code models}. */
    public static void main(String[] args) throws IOException {
        Path root = Path.of(args.length > 0 ? args[0] : "models");
        writeAll(root);
        System.out.println("wrote " + all().size() + " sample models under " + root.toAbsolutePath().normalize());
    }

    /**
     * (Re)writes every sample model's {@code <root>/<name>/<version>/model.onnx} and
     * {@code <root>/<name>/config.json}.
     */
    public static void writeAll(Path root) throws IOException {
        for (SampleModel model : all()) {
            Path dir = root.resolve(model.name());
            for (int v = 1; v <= model.versions().size(); v++) {
                Files.createDirectories(dir.resolve(Integer.toString(v)));
                Files.write(dir.resolve(Integer.toString(v)).resolve("model.onnx"),
                        OnnxModel.of(model.versions().get(v - 1)).toBytes());
            }
            Files.writeString(dir.resolve("config.json"), PRETTY.writeValueAsString(model.config()) + "\n",
                    StandardCharsets.UTF_8);
        }
    }

    /** The names of the sample models, in the order they are written. */
    public static List<String> names() {
        return all().stream().map(SampleModel::name).toList();
    }

    /** A sample model: its versions' graphs (version 1 first) and its config.json. */
    record SampleModel(String name, List<OnnxGraph> versions, ObjectNode config) {
        SampleModel(String name, OnnxGraph graph, ObjectNode config) {
            this(name, List.of(graph), config);
        }

        OnnxGraph graph() {
            return versions.get(0);
        }
    }

    static List<SampleModel> all() {
        List<SampleModel> models = new ArrayList<>();
        models.add(new SampleModel("mlp", mlp(), mlpConfig()));
        models.add(new SampleModel("add_fp32", add("add_fp32", ElemType.FLOAT, 4), batched(32)));
        for (TypeName t : List.of(TypeName.BOOL, TypeName.INT8, TypeName.INT16, TypeName.INT32, TypeName.INT64,
                TypeName.UINT8, TypeName.FP16, TypeName.FP32, TypeName.FP64, TypeName.STRING)) {
            String name = "identity_" + t.suffix;
            models.add(new SampleModel(name, identity(name, t.type, -1), batched(16)));
        }
        for (TypeName t : List.of(TypeName.INT32, TypeName.INT64, TypeName.FP16, TypeName.FP64)) {
            String name = "add_" + t.suffix;
            models.add(new SampleModel(name, add(name, t.type, -1), batched(16)));
        }
        models.add(new SampleModel("scale_dynamic", scaleDynamic(), scaleDynamicConfig()));
        models.add(new SampleModel("identity_uint32", identity("identity_uint32", ElemType.UINT32, 4),
                config(0)));
        models.add(new SampleModel("fixed_shape", fixedShape(), config(0)));
        models.add(new SampleModel("classifier", List.of(classifier(7), classifier(8)), classifierConfig()));
        return models;
    }

    /** The type suffixes of the sample model names. */
    private enum TypeName {
        BOOL("bool", ElemType.BOOL),
        INT8("int8", ElemType.INT8),
        INT16("int16", ElemType.INT16),
        INT32("int32", ElemType.INT32),
        INT64("int64", ElemType.INT64),
        UINT8("uint8", ElemType.UINT8),
        FP16("fp16", ElemType.FLOAT16),
        FP32("fp32", ElemType.FLOAT),
        FP64("fp64", ElemType.DOUBLE),
        STRING("string", ElemType.STRING);

        final String suffix;
        final ElemType type;

        TypeName(String suffix, ElemType type) {
            this.suffix = suffix;
            this.type = type;
        }
    }

    static OnnxGraph mlp() {
        SplittableRandom random = new SplittableRandom(SEED);
        int[] widths = {64, 256, 256, 8};
        OnnxGraph.Builder graph = OnnxGraph.builder("mlp").input("features", ElemType.FLOAT, -1, widths[0]);
        String previous = "features";
        for (int layer = 0; layer < widths.length - 1; layer++) {
            int in = widths[layer];
            int out = widths[layer + 1];
            String weight = "fc" + layer + ".weight";
            String bias = "fc" + layer + ".bias";
            graph.initializer(Initializer.floats(weight, uniform(random, in * out, 1 / Math.sqrt(in)), out, in))
                    .initializer(Initializer.floats(bias, uniform(random, out, 0.01), out));
            boolean last = layer == widths.length - 2;
            String linear = last ? "scores" : "fc" + layer;
            graph.node("Gemm", List.of(previous, weight, bias), linear, Attribute.ofInt("transB", 1));
            if (!last) {
                previous = "relu" + layer;
                graph.node("Relu", List.of(linear), previous);
            }
        }
        return graph.output("scores", ElemType.FLOAT, -1, widths[widths.length - 1]).build();
    }

    /**
     * A small classifier, 16 features -> 32 -> 4 class scores, in two versions that differ only in their
     * weights: the sample for traffic splits, shadow comparison (argmax agreement) and rollback.
     */
    static OnnxGraph classifier(long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        OnnxGraph.Builder graph = OnnxGraph.builder("classifier").input("features", ElemType.FLOAT, -1, 16)
                .initializer(Initializer.floats("fc0.weight", uniform(random, 32 * 16, 0.25), 32, 16))
                .initializer(Initializer.floats("fc0.bias", uniform(random, 32, 0.01), 32))
                .initializer(Initializer.floats("fc1.weight", uniform(random, 4 * 32, 1 / Math.sqrt(32)), 4, 32))
                .initializer(Initializer.floats("fc1.bias", uniform(random, 4, 0.01), 4));
        graph.node("Gemm", List.of("features", "fc0.weight", "fc0.bias"), "fc0", Attribute.ofInt("transB", 1));
        graph.node("Relu", List.of("fc0"), "relu0");
        graph.node("Gemm", List.of("relu0", "fc1.weight", "fc1.bias"), "scores", Attribute.ofInt("transB", 1));
        return graph.output("scores", ElemType.FLOAT, -1, 4).build();
    }

    private static ObjectNode classifierConfig() {
        ObjectNode config = config(32);
        config.putObject("dynamic_batching");
        config.putObject("version_policy").putObject("all");
        return config;
    }

    private static float[] uniform(SplittableRandom random, int count, double bound) {
        float[] values = new float[count];
        for (int i = 0; i < count; i++) {
            values[i] = (float) random.nextDouble(-bound, bound);
        }
        return values;
    }

    static OnnxGraph add(String name, ElemType type, long width) {
        return OnnxGraph.builder(name)
                .input("a", type, -1, width)
                .input("b", type, -1, width)
                .node("Add", List.of("a", "b"), "sum")
                .output("sum", type, -1, width)
                .build();
    }

    /**
     * {@code quotient = a / b} elementwise on integers: a kernel that traps (SIGFPE) inside ONNX Runtime when
     * {@code b} holds a zero. Not in the sample repository; the fault-containment tests build it.
     */
    public static OnnxGraph integerDiv(String name, ElemType type) {
        return binary(name, "Div", type, "quotient");
    }

    /** {@code remainder = a mod b} elementwise on integers ({@code fmod=0}); traps like {@link #integerDiv}. */
    public static OnnxGraph integerMod(String name, ElemType type) {
        return binary(name, "Mod", type, "remainder");
    }

    private static OnnxGraph binary(String name, String op, ElemType type, String output) {
        return OnnxGraph.builder(name)
                .input("a", type, -1, 4)
                .input("b", type, -1, 4)
                .node(op, List.of("a", "b"), output)
                .output(output, type, -1, 4)
                .build();
    }

    static OnnxGraph identity(String name, ElemType type, long width) {
        return OnnxGraph.builder(name)
                .input("input", type, -1, width)
                .node("Identity", List.of("input"), "output")
                .output("output", type, -1, width)
                .build();
    }

    static OnnxGraph scaleDynamic() {
        return OnnxGraph.builder("scale_dynamic")
                .input("x", ElemType.FLOAT, -1, -1)
                .initializer(Initializer.scalar("scale", 2.0f))
                .node("Mul", List.of("x", "scale"), "y")
                .output("y", ElemType.FLOAT, -1, -1)
                .build();
    }

    static OnnxGraph fixedShape() {
        return OnnxGraph.builder("fixed_shape")
                .input("x", ElemType.FLOAT, 2, 3)
                .node("Relu", List.of("x"), "y")
                .output("y", ElemType.FLOAT, 2, 3)
                .build();
    }

    private static ObjectNode config(int maxBatchSize) {
        return JSON.createObjectNode().put("max_batch_size", maxBatchSize);
    }

    private static ObjectNode batched(int maxBatchSize) {
        ObjectNode config = config(maxBatchSize);
        config.putObject("dynamic_batching");
        return config;
    }

    private static ObjectNode mlpConfig() {
        ObjectNode config = config(64);
        config.putObject("dynamic_batching")
                .put("max_queue_delay_microseconds", 0)
                .put("max_queue_size", 1024);
        config.putArray("instance_group").addObject()
                .put("count", 1)
                .put("kind", "KIND_CPU");
        return config;
    }

    private static ObjectNode scaleDynamicConfig() {
        ObjectNode config = config(16);
        config.putObject("dynamic_batching").put("max_queue_delay_microseconds", 2000);
        return config;
    }

    private static DefaultPrettyPrinter prettyPrinter() {
        DefaultIndenter indenter = new DefaultIndenter("  ", "\n");
        Separators separators = Separators.createDefaultInstance()
                .withObjectFieldValueSpacing(Separators.Spacing.AFTER)
                .withObjectEmptySeparator("")
                .withArrayEmptySeparator("");
        return new DefaultPrettyPrinter(separators)
                .withObjectIndenter(indenter)
                .withArrayIndenter(indenter);
    }
}
