package dev.gantry.store.repository;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class ModelConfigParserTest {

    static Stream<Arguments> equivalentConfigs() {
        return Stream.of(
                Arguments.of("empty", "{}", ""),
                Arguments.of("batching",
                        """
                        {"name": "m", "max_batch_size": 8,
                         "dynamic_batching": {"max_queue_delay_microseconds": 100, "preferred_batch_size": [4, 8],
                           "default_queue_policy": {"max_queue_size": 64, "default_timeout_microseconds": "5000"}}}
                        """,
                        """
                        name: "m"
                        max_batch_size: 8
                        dynamic_batching {
                          max_queue_delay_microseconds: 100
                          preferred_batch_size: [ 4, 8 ]
                          default_queue_policy { max_queue_size: 64 default_timeout_microseconds: 5000 }
                        }
                        """),
                Arguments.of("queue policy written flat, as Gantry's shorthand",
                        """
                        {"max_batch_size": 8, "dynamic_batching": {"max_queue_size": 64,
                           "default_timeout_microseconds": 5000}}
                        """,
                        """
                        max_batch_size: 8
                        dynamic_batching { default_queue_policy { max_queue_size: 64 default_timeout_microseconds: 5000 } }
                        """),
                Arguments.of("empty dynamic batching block", "{\"dynamic_batching\": {}}", "dynamic_batching { }"),
                Arguments.of("one preferred size written once",
                        "{\"max_batch_size\": 4, \"dynamic_batching\": {\"preferred_batch_size\": [4]}}",
                        "max_batch_size: 4 dynamic_batching { preferred_batch_size: 4 }"),
                Arguments.of("instance groups",
                        """
                        {"instance_group": [{"count": 2, "kind": "KIND_GPU", "gpus": [0, 1]}, {"kind": "KIND_CPU"}]}
                        """,
                        """
                        instance_group [
                          { count: 2, kind: KIND_GPU, gpus: [ 0, 1 ] },
                          { kind: KIND_CPU }
                        ]
                        """),
                Arguments.of("instance groups by repetition",
                        "{\"instance_group\": [{\"count\": 3, \"gpus\": [2]}, {\"kind\": \"KIND_AUTO\"}]}",
                        "instance_group { count: 3 gpus: 2 }\ninstance_group { kind: KIND_AUTO }"),
                Arguments.of("latest policy", "{\"version_policy\": {\"latest\": {\"num_versions\": 2}}}",
                        "version_policy: { latest: { num_versions: 2 } }"),
                Arguments.of("all policy", "{\"version_policy\": {\"all\": {}}}", "version_policy { all { } }"),
                Arguments.of("specific policy", "{\"version_policy\": {\"specific\": {\"versions\": [\"1\", 3]}}}",
                        "version_policy { specific { versions: 1 versions: 3 } }"),
                Arguments.of("gantry options",
                        """
                        {"gantry": {"allow_non_invariant_batching": true, "intra_op_threads": 2,
                                    "inter_op_threads": 1, "allow_spinning": false, "max_batch_elements": 1024}}
                        """,
                        """
                        parameters { key: "gantry.allow_non_invariant_batching" value { string_value: "true" } }
                        parameters { key: "gantry.intra_op_threads" value { string_value: "2" } }
                        parameters { key: "gantry.inter_op_threads" value { string_value: "1" } }
                        parameters { key: "gantry.allow_spinning" value { string_value: "false" } }
                        parameters { key: "gantry.max_batch_elements" value { string_value: "1024" } }
                        """),
                Arguments.of("default model file name", "{\"default_model_filename\": \"net.onnx\"}",
                        "default_model_filename: 'net.onnx'"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("equivalentConfigs")
    void parse_jsonAndPbtxtForms_produceEqualConfigs(String label, String json, String pbtxt) throws Exception {
        assertEquals(ModelConfigParser.parseJson(json, "m"), ModelConfigParser.parsePbtxt(pbtxt, "m"));
    }

    @Test
    void parse_emptyConfig_givesTritonDefaults() throws Exception {
        ModelConfig config = ModelConfigParser.parseJson("{}", "m");

        assertEquals(0, config.maxBatchSize());
        assertEquals(List.of(), config.warnings());
        assertEquals(true, config.fromFile(), "an empty file is still a configuration: it is not auto-completed");
        assertEquals(List.of(new InstanceGroup(1, InstanceGroup.Kind.KIND_CPU, List.of())), config.instanceGroups());
        assertEquals(new VersionPolicy.Latest(1), config.versionPolicy());
        assertEquals("model.onnx", config.defaultModelFilename());
        assertEquals(Optional.empty(), config.dynamicBatching());
    }

    @Test
    void parse_emptyDynamicBatchingBlock_enablesBatchingWithDefaults() throws Exception {
        ModelConfig config = ModelConfigParser.parseJson("{\"dynamic_batching\": {}}", "m");

        assertEquals(Optional.of(DynamicBatching.defaults()), config.dynamicBatching());
    }

    @Test
    void parse_gantryOptionsInJson_areRead() throws Exception {
        ModelConfig config = ModelConfigParser.parseJson(
                "{\"gantry\": {\"allow_non_invariant_batching\": true, \"intra_op_threads\": \"4\"}}", "m");

        assertEquals(new GantryOptions(true, Optional.of(4), Optional.empty(), Optional.empty(), Optional.empty(), false,
                Optional.empty()), config.gantry());
    }

    @Test
    void parse_maxBatchElements_isReadFromTheGantryBlock_andAbsentMeansNoLimit() throws Exception {
        assertEquals(Optional.of(1024), ModelConfigParser.parseJson(
                "{\"max_batch_size\": 32, \"gantry\": {\"max_batch_elements\": 1024}}", "m").gantry().maxBatchElements());
        assertEquals(Optional.empty(), ModelConfigParser.parseJson("{\"max_batch_size\": 32}", "m").gantry()
                .maxBatchElements());
    }

    @Test
    void parse_gantryTextBlock_readsTheEmbeddingSettings() throws Exception {
        ModelConfig config = ModelConfigParser.parseJson("""
                {"gantry": {"text": {"task": "embedding", "tokenizer": "tok.json", "pooling": "cls",
                                     "normalize": false, "max_tokens": 128}}}""", "m");

        assertEquals(Optional.of(new TextOptions("embedding", "tok.json", TextOptions.Pooling.CLS, false, 128)),
                config.gantry().text());
    }

    @Test
    void parse_gantryTextBlockEmpty_takesTheDefaults() throws Exception {
        ModelConfig config = ModelConfigParser.parseJson("{\"gantry\": {\"text\": {}}}", "m");

        assertEquals(Optional.of(new TextOptions("embedding", "tokenizer.json", TextOptions.Pooling.MEAN, true, 512)),
                config.gantry().text());
    }

    @Test
    void parse_gantryTextAsTritonParameter_readsTheJsonString() throws Exception {
        ModelConfig config = ModelConfigParser.parsePbtxt("""
                parameters { key: "gantry.text" value { string_value: "{\\"pooling\\": \\"cls\\"}" } }
                """, "m");

        assertEquals(TextOptions.Pooling.CLS, config.gantry().text().orElseThrow().pooling());
    }

    @Test
    void parse_gantryTextWithUnknownPooling_failsNamingTheField() {
        ModelConfigException e = assertThrows(ModelConfigException.class, () -> ModelConfigParser.parseJson(
                "{\"gantry\": {\"text\": {\"pooling\": \"max\"}}}", "m"));

        assertTrue(e.getMessage().contains("gantry.text.pooling must be 'mean' or 'cls', was 'max'"), e.getMessage());
    }

    @Test
    void parse_gantryTextWithTokenizerInAnotherDirectory_isRefused() {
        ModelConfigException e = assertThrows(ModelConfigException.class, () -> ModelConfigParser.parseJson(
                "{\"gantry\": {\"text\": {\"tokenizer\": \"../x.json\"}}}", "m"));

        assertTrue(e.getMessage().contains("gantry.text.tokenizer must be a file name"), e.getMessage());
    }

    @Test
    void parse_tritonOnnxConfigPbtxt_readsTheFieldsGantryUses() throws Exception {
        String pbtxt = """
                # A config as Triton's model analyzer writes it
                name: "densenet_onnx"
                platform: "onnxruntime_onnx"
                max_batch_size : 16
                input [
                  {
                    name: "data_0"
                    data_type: TYPE_FP32
                    format: FORMAT_NCHW
                    dims: [ 3, 224, 224 ]
                    reshape { shape: [ 1, 3, 224, 224 ] }
                  }
                ]
                output [
                  {
                    name: "fc6_1"
                    data_type: TYPE_FP32
                    dims: [ 1000 ]
                    label_filename: "densenet_labels.txt"
                  }
                ]
                instance_group [
                  {
                    name: "densenet_onnx_0"
                    count: 2
                    kind: KIND_GPU
                    gpus: [ 0 ]
                  }
                ]
                dynamic_batching {
                  preferred_batch_size: [ 4, 8 ]
                  max_queue_delay_microseconds: 100
                  preserve_ordering: false
                }
                version_policy: { specific: { versions: [1, 3] } }
                optimization { execution_accelerators {
                  gpu_execution_accelerator : [ { name : "tensorrt"
                    parameters { key: "precision_mode" value: "FP16" } } ]
                } }
                parameters { key: "intra_op_thread_count" value: { string_value: "0" } }
                model_warmup [{ name: "zeros", batch_size: 1, inputs { key: "data_0"
                  value: { data_type: TYPE_FP32, dims: [3, 224, 224], zero_data: true } } }]
                """;

        ModelConfig config = ModelConfigParser.parsePbtxt(pbtxt, "densenet_onnx");

        assertEquals(Optional.of("densenet_onnx"), config.name());
        assertEquals(16, config.maxBatchSize());
        assertEquals(Optional.of(new DynamicBatching(100, List.of(4, 8), 0, 0)), config.dynamicBatching());
        assertEquals(List.of(new InstanceGroup(2, InstanceGroup.Kind.KIND_GPU, List.of(0))), config.instanceGroups());
        assertEquals(new VersionPolicy.Specific(List.of(1L, 3L)), config.versionPolicy());
        assertEquals(List.of(new OutputConfig("fc6_1", Optional.of("densenet_labels.txt"))), config.outputs());
        assertEquals(true, config.fromFile());
        assertEquals(List.of("ignored: input", "ignored: output", "ignored: instance_group[0].name",
                "ignored: dynamic_batching.preserve_ordering", "ignored: optimization",
                "ignored: parameters.intra_op_thread_count"), config.warnings());
        assertEquals(List.of(new WarmupSample("zeros", 1, List.of(new WarmupSample.Input("data_0", "FP32",
                List.of(3L, 224L, 224L), WarmupSample.Source.ZERO, null)))), config.warmup());
    }

    @Test
    void parse_isolationProcess_asksForAWorkerProcess() throws Exception {
        ModelConfig config = ModelConfigParser.parseJson("{\"gantry\": {\"isolation\": \"process\"}}", "m");

        assertTrue(config.gantry().processIsolation());
    }

    @Test
    void parse_unknownIsolation_isRefusedNamingTheValue() {
        ModelConfigException e = assertThrows(ModelConfigException.class,
                () -> ModelConfigParser.parseJson("{\"gantry\": {\"isolation\": \"vm\"}}", "m"));

        assertTrue(e.getMessage().contains("gantry.isolation must be 'process' or 'in_process', was 'vm'"),
                e.getMessage());
    }

    @Test
    void parse_modelWarmupInJson_readsEachInputBySource() throws Exception {
        ModelConfig config = ModelConfigParser.parseJson("""
                {"max_batch_size": 8, "model_warmup": [{"name": "s", "batch_size": 2, "inputs": {
                  "a": {"data_type": "TYPE_INT64", "dims": [4], "random_data": true},
                  "b": {"data_type": "TYPE_INT64", "dims": ["4"], "input_data_file": "b.raw"}}}]}
                """, "div");

        assertEquals(List.of(new WarmupSample("s", 2, List.of(
                new WarmupSample.Input("a", "INT64", List.of(4L), WarmupSample.Source.RANDOM, null),
                new WarmupSample.Input("b", "INT64", List.of(4L), WarmupSample.Source.FILE, "b.raw")))),
                config.warmup());
    }

    @Test
    void parse_modelWarmupFileOutsideWarmupDirectory_isRefusedNamingTheField() {
        ModelConfigException e = assertThrows(ModelConfigException.class, () -> ModelConfigParser.parseJson("""
                {"model_warmup": [{"inputs": {"a": {"data_type": "TYPE_FP32", "dims": [1],
                  "input_data_file": "../secret"}}}]}
                """, "m"));

        assertTrue(e.getMessage().contains("model_warmup[0].inputs.a.input_data_file must be a file name"),
                e.getMessage());
    }

    @Test
    void parse_unknownKeys_areReportedWithTheirPath() throws Exception {
        ModelConfig config = ModelConfigParser.parseJson("""
                {"max_batch_sise": 4, "dynamic_batching": {"foo": 1},
                 "instance_group": [{"count": 1, "bar": true}], "gantry": {"threads": 2},
                 "version_policy": {"latest": {"num_versions": 1, "baz": 0}}}
                """, "m");

        assertEquals(List.of("unknown key: max_batch_sise", "unknown key: dynamic_batching.foo",
                "unknown key: instance_group[0].bar", "unknown key: gantry.threads",
                "unknown key: version_policy.latest.baz"), config.warnings());
    }

    @Test
    void parse_unknownGantryParameter_isReported() throws Exception {
        ModelConfig config = ModelConfigParser.parsePbtxt(
                "parameters { key: \"gantry.threads\" value { string_value: \"2\" } }", "m");

        assertEquals(List.of("unknown key: parameters.gantry.threads"), config.warnings());
    }

    @Test
    void parse_tritonKeysGantryDoesNotUse_areReportedAsIgnored() throws Exception {
        ModelConfig config = ModelConfigParser.parseJson("""
                {"input": [], "output": [], "sequence_batching": {}, "response_cache": {"enable": true},
                 "parameters": {"foo": {"string_value": "1"}}}
                """, "m");

        assertEquals(List.of("ignored: input", "ignored: sequence_batching",
                "ignored: response_cache", "ignored: parameters.foo"), config.warnings());
    }

    @Test
    void parse_onnxPlatformAndBackend_areAcceptedWithoutWarning() throws Exception {
        ModelConfig config = ModelConfigParser.parseJson(
                "{\"platform\": \"onnxruntime_onnx\", \"backend\": \"onnxruntime\"}", "m");

        assertEquals(List.of(), config.warnings());
    }

    static Stream<Arguments> invalidJsonConfigs() {
        return Stream.of(
                Arguments.of("{\"max_batch_size\": \"abc\"}", "config.json: max_batch_size must be an integer, was \"abc\""),
                Arguments.of("{\"max_batch_size\": -3}", "config.json: max_batch_size must be >= 0, was -3"),
                Arguments.of("{\"max_batch_size\": 4.5}", "config.json: max_batch_size must be an integer, was 4.5"),
                Arguments.of("{\"max_batch_size\": 3000000000}",
                        "config.json: max_batch_size must be an integer in the range of int, was 3000000000"),
                Arguments.of("{\"name\": \"other\"}",
                        "config.json: name must match the model directory 'm', was 'other'"),
                Arguments.of("{\"platform\": \"tensorflow_savedmodel\"}", "config.json: platform must be "
                        + "'onnxruntime_onnx' (Gantry serves ONNX Runtime models), was 'tensorflow_savedmodel'"),
                Arguments.of("{\"backend\": \"python\"}", "config.json: backend must be "
                        + "'onnxruntime' (Gantry serves ONNX Runtime models), was 'python'"),
                Arguments.of("{\"max_batch_size\": 4, \"dynamic_batching\": {\"preferred_batch_size\": [2, 8]}}",
                        "config.json: dynamic_batching.preferred_batch_size must be <= max_batch_size 4, was 8"),
                Arguments.of("{\"dynamic_batching\": {\"preferred_batch_size\": [0]}}",
                        "config.json: dynamic_batching.preferred_batch_size must be >= 1, was 0"),
                Arguments.of("{\"dynamic_batching\": {\"max_queue_delay_microseconds\": -1}}",
                        "config.json: dynamic_batching.max_queue_delay_microseconds must be >= 0, was -1"),
                Arguments.of("{\"dynamic_batching\": {\"default_queue_policy\": {\"max_queue_size\": -5}}}",
                        "config.json: dynamic_batching.default_queue_policy.max_queue_size must be >= 0, was -5"),
                Arguments.of("{\"dynamic_batching\": 5}", "config.json: dynamic_batching must be an object, was 5"),
                Arguments.of("{\"instance_group\": [{\"count\": 0}]}",
                        "config.json: instance_group[0].count must be >= 1, was 0"),
                Arguments.of("{\"instance_group\": [{}, {\"kind\": \"KIND_MODEL\"}]}",
                        "config.json: instance_group[1].kind must be one of KIND_CPU, KIND_GPU, KIND_AUTO, "
                                + "was 'KIND_MODEL'"),
                Arguments.of("{\"instance_group\": [{\"gpus\": [-1]}]}",
                        "config.json: instance_group[0].gpus must be >= 0, was -1"),
                Arguments.of("{\"version_policy\": {\"latest\": {\"num_versions\": 0}}}",
                        "config.json: version_policy.latest.num_versions must be >= 1, was 0"),
                Arguments.of("{\"version_policy\": {\"specific\": {\"versions\": []}}}",
                        "config.json: version_policy.specific.versions must not be empty, was []"),
                Arguments.of("{\"version_policy\": {\"specific\": {\"versions\": [2, -1]}}}",
                        "config.json: version_policy.specific.versions must be >= 1, was -1"),
                Arguments.of("{\"version_policy\": {\"latest\": {}, \"all\": {}}}",
                        "config.json: version_policy must have one of latest, all or specific, was both latest and all"),
                Arguments.of("{\"default_model_filename\": \"../model.onnx\"}",
                        "config.json: default_model_filename must be a file name without a directory, "
                                + "was '../model.onnx'"),
                Arguments.of("{\"gantry\": {\"intra_op_threads\": 0}}",
                        "config.json: gantry.intra_op_threads must be >= 1, was 0"),
                Arguments.of("{\"gantry\": {\"max_batch_elements\": 0}}",
                        "config.json: gantry.max_batch_elements must be >= 1, was 0"),
                Arguments.of("{\"gantry\": {\"max_batch_elements\": 1.5}}",
                        "config.json: gantry.max_batch_elements must be an integer, was 1.5"),
                Arguments.of("{\"gantry\": {\"allow_spinning\": \"yes\"}}",
                        "config.json: gantry.allow_spinning must be true or false, was \"yes\""),
                Arguments.of("[]", "config.json: the configuration must be an object, was []"),
                Arguments.of("{\"max_batch_size\": 1, \"max_batch_size\": 2}",
                        "config.json: line 1, column 39: Duplicate field 'max_batch_size'"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("invalidJsonConfigs")
    void parseJson_invalidValue_failsNamingFieldAndValue(String json, String message) {
        ModelConfigException e = assertThrows(ModelConfigException.class,
                () -> ModelConfigParser.parseJson(json, "m"));

        assertEquals(message, e.getMessage());
    }

    static Stream<Arguments> invalidPbtxtConfigs() {
        return Stream.of(
                Arguments.of("max_batch_size: -3", "config.pbtxt: max_batch_size must be >= 0, was -3"),
                Arguments.of("max_batch_size: 4 max_batch_size: 8",
                        "config.pbtxt: max_batch_size must be an integer, was [4,8]"),
                Arguments.of("instance_group { kind: KIND_TPU }",
                        "config.pbtxt: instance_group[0].kind must be one of KIND_CPU, KIND_GPU, KIND_AUTO, "
                                + "was 'KIND_TPU'"),
                Arguments.of("parameters { key: \"gantry.inter_op_threads\" value { string_value: \"two\" } }",
                        "config.pbtxt: parameters.gantry.inter_op_threads.string_value must be an integer, "
                                + "was \"two\""));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("invalidPbtxtConfigs")
    void parsePbtxt_invalidValue_failsNamingFieldAndValue(String pbtxt, String message) {
        ModelConfigException e = assertThrows(ModelConfigException.class,
                () -> ModelConfigParser.parsePbtxt(pbtxt, "m"));

        assertEquals(message, e.getMessage());
    }

    @Test
    void parseJson_malformedJson_namesLineAndColumn() {
        ModelConfigException e = assertThrows(ModelConfigException.class,
                () -> ModelConfigParser.parseJson("{\n  \"max_batch_size\": 4,\n}", "m"));

        assertTrue(e.getMessage().startsWith("config.json: line 3, column "), e.getMessage());
    }

    @Test
    void parseJson_emptyText_isReported() {
        ModelConfigException e = assertThrows(ModelConfigException.class,
                () -> ModelConfigParser.parseJson("  ", "m"));

        assertEquals("config.json: the file is empty", e.getMessage());
    }

    @Test
    void parse_outputLabelFilename_isRead_andOtherOutputFieldsAreReportedIgnoredOnce() throws Exception {
        ModelConfig config = ModelConfigParser.parseJson("""
                {"output": [{"name": "scores", "data_type": "TYPE_FP32", "dims": [4], "label_filename": "l.txt"},
                            {"name": "other", "data_type": "TYPE_FP32", "label_filename": ""}]}
                """, "m");

        assertEquals(List.of(new OutputConfig("scores", Optional.of("l.txt")), new OutputConfig("other",
                Optional.empty())), config.outputs());
        assertEquals(List.of("ignored: output"), config.warnings());
    }

    @Test
    void parse_labelFilenameOutsideTheModelDirectory_isRefusedNamingTheField() {
        ModelConfigException e = org.junit.jupiter.api.Assertions.assertThrows(ModelConfigException.class,
                () -> ModelConfigParser.parseJson("{\"output\": [{\"name\": \"s\", \"label_filename\": \"../x\"}]}",
                        "m"));
        assertTrue(e.getMessage().contains("output[0].label_filename must be a file in the model directory"),
                e.getMessage());
    }

    @Test
    void parse_outputWithoutName_isRefused() {
        org.junit.jupiter.api.Assertions.assertThrows(ModelConfigException.class,
                () -> ModelConfigParser.parseJson("{\"output\": [{\"label_filename\": \"l.txt\"}]}", "m"));
    }
}
