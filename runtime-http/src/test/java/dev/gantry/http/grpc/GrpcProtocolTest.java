package dev.gantry.http.grpc;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.ByteString;
import dev.gantry.core.inference.Tensor;
import dev.gantry.core.model.DataType;
import dev.gantry.http.grpc.proto.GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub;
import dev.gantry.http.grpc.proto.InferParameter;
import dev.gantry.http.grpc.proto.InferTensorContents;
import dev.gantry.http.grpc.proto.ModelConfig;
import dev.gantry.http.grpc.proto.ModelConfigRequest;
import dev.gantry.http.grpc.proto.ModelInferRequest;
import dev.gantry.http.grpc.proto.ModelInferResponse;
import dev.gantry.http.grpc.proto.ModelInstanceGroup;
import dev.gantry.http.grpc.proto.ModelMetadataRequest;
import dev.gantry.http.grpc.proto.ModelMetadataResponse;
import dev.gantry.http.grpc.proto.ModelReadyRequest;
import dev.gantry.http.grpc.proto.ModelStatistics;
import dev.gantry.http.grpc.proto.ModelStatisticsRequest;
import dev.gantry.http.grpc.proto.ModelStreamInferResponse;
import dev.gantry.http.grpc.proto.RepositoryIndexRequest;
import dev.gantry.http.grpc.proto.RepositoryIndexResponse;
import dev.gantry.http.grpc.proto.ServerLiveRequest;
import dev.gantry.http.grpc.proto.ServerMetadataRequest;
import dev.gantry.http.grpc.proto.ServerMetadataResponse;
import dev.gantry.http.grpc.proto.ServerReadyRequest;
import dev.gantry.http.json.Json;
import dev.gantry.http.testing.Bodies;
import dev.gantry.http.testing.GrpcClient;
import dev.gantry.http.testing.ServerFixture;
import io.grpc.Status;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every RPC of inference.GRPCInferenceService against the bundled models, through grpc-java: the answers are
 * the HTTP answers for the same input, bit for bit, in raw and in typed contents, and failures carry the
 * mapped status with the HTTP message.
 */
class GrpcProtocolTest {
    static ServerFixture server;
    static GrpcClient client;
    static GRPCInferenceServiceBlockingStub grpc;

    @BeforeAll
    static void start() {
        server = ServerFixture.shared();
        client = new GrpcClient(server.server().grpcPort());
        grpc = client.stub();
    }

    @AfterAll
    static void stop() {
        client.close();
    }

    static Stream<String> bundledModels() throws IOException {
        try (Stream<Path> dirs = Files.list(ServerFixture.MODELS)) {
            return dirs.filter(Files::isDirectory).map(p -> p.getFileName().toString())
                    .filter(name -> !name.startsWith(".")).sorted().toList().stream();
        }
    }

    // ---- health and server metadata ----

    @Test
    void serverLive_isTrue() {
        assertTrue(grpc.serverLive(ServerLiveRequest.getDefaultInstance()).getLive());
    }

    @Test
    void serverReady_isTrueOnceModelsSettled() {
        assertTrue(grpc.serverReady(ServerReadyRequest.getDefaultInstance()).getReady());
    }

    @Test
    void serverMetadata_namesGantryItsVersionAndExtensions() {
        ServerMetadataResponse m = grpc.serverMetadata(ServerMetadataRequest.getDefaultInstance());
        assertEquals("gantry", m.getName());
        assertEquals(dev.gantry.http.GantryServer.VERSION, m.getVersion());
        assertTrue(m.getExtensionsList().contains("model_repository"), m.getExtensionsList().toString());
        assertTrue(m.getExtensionsList().contains("statistics"), m.getExtensionsList().toString());
    }

    // ---- model readiness and metadata ----

    @Test
    void modelReady_bundledModel_isTrue() {
        assertTrue(grpc.modelReady(ModelReadyRequest.newBuilder().setName("mlp").build()).getReady());
        assertTrue(grpc.modelReady(ModelReadyRequest.newBuilder().setName("mlp").setVersion("1").build()).getReady());
    }

    @Test
    void modelReady_unknownModel_isNotFoundWithTheHttpMessage() {
        Status s = GrpcClient.failure(() -> grpc.modelReady(ModelReadyRequest.newBuilder().setName("nope").build()));
        assertEquals(Status.Code.NOT_FOUND, s.getCode());
        assertEquals(httpError(server.get("/v2/models/nope/ready")), s.getDescription());
    }

    @ParameterizedTest
    @MethodSource("bundledModels")
    void modelMetadata_isTheHttpMetadata(String model) {
        ModelMetadataResponse m = grpc.modelMetadata(ModelMetadataRequest.newBuilder().setName(model).build());
        JsonNode http = Bodies.parse(server.get("/v2/models/" + model).body());
        assertEquals(model, m.getName());
        assertEquals(http.get("platform").asText(), m.getPlatform());
        List<String> versions = new ArrayList<>();
        http.get("versions").forEach(v -> versions.add(v.asText()));
        assertEquals(versions, m.getVersionsList());
        assertEquals(withoutNotes(http.get("inputs")), tensors(m.getInputsList()).toString());
        assertEquals(withoutNotes(http.get("outputs")), tensors(m.getOutputsList()).toString());
    }

    /** The OIP fields of HTTP's tensor metadata, without Gantry's "unsupported" note. */
    private static String withoutNotes(JsonNode tensors) {
        ArrayNode copy = tensors.deepCopy();
        copy.forEach(t -> ((ObjectNode) t).remove("unsupported"));
        return copy.toString();
    }

    private static ArrayNode tensors(List<ModelMetadataResponse.TensorMetadata> list) {
        ArrayNode a = Json.MAPPER.createArrayNode();
        for (ModelMetadataResponse.TensorMetadata t : list) {
            ObjectNode o = a.addObject().put("name", t.getName()).put("datatype", t.getDatatype());
            ArrayNode shape = o.putArray("shape");
            t.getShapeList().forEach(shape::add);
        }
        return a;
    }

    // ---- inference: the same bytes as over HTTP ----

    @ParameterizedTest
    @MethodSource("bundledModels")
    void modelInfer_rawContents_answersAsHttpBinaryDoes(String model) {
        List<Tensor> inputs = inputsFor(model);
        assertSameOutcome(http(model, inputs), () -> grpc.modelInfer(GrpcClient.raw(model, inputs)), true);
    }

    @ParameterizedTest
    @MethodSource("bundledModels")
    void modelInfer_typedContents_answersAsHttpBinaryDoes(String model) {
        List<Tensor> inputs = inputsFor(model);
        if (inputs.stream().anyMatch(t -> t.datatype() == DataType.FP16)) {
            return; // FP16 has no typed contents field: raw only (covered by the raw test)
        }
        assertSameOutcome(http(model, inputs), () -> grpc.modelInfer(GrpcClient.typed(model, inputs)), false);
    }

    @Test
    void modelInfer_bytesElements_comeBackExactly_inRawAndTypedContents() {
        Tensor in = Tensor.ofStrings("input", new long[] {2, 2}, List.of("a".getBytes(StandardCharsets.UTF_8),
                "h\u00e9llo".getBytes(StandardCharsets.UTF_8), new byte[0], "\u2603 z".getBytes(StandardCharsets.UTF_8)));
        for (ModelInferRequest r : List.of(GrpcClient.raw("identity_string", List.of(in)),
                GrpcClient.typed("identity_string", List.of(in)))) {
            ModelInferResponse answer = grpc.modelInfer(r);
            assertArrayEquals(GrpcClient.rawBytes(in), GrpcClient.outputBytes(answer).get(0));
        }
    }

    @Test
    void modelInfer_bytesThatAreNotUtf8_areRefusedAsOverHttp() {
        Tensor in = Tensor.ofStrings("input", new long[] {1, 2}, List.of(new byte[] {(byte) 0xFF, 0x00},
                new byte[] {(byte) 0xC3}));
        Status s = GrpcClient.failure(() -> grpc.modelInfer(GrpcClient.typed("identity_string", List.of(in))));
        assertEquals(Status.Code.INVALID_ARGUMENT, s.getCode());
        assertEquals(http("identity_string", List.of(in)).error(), s.getDescription());
    }

    @Test
    void modelInfer_typedRequest_getsTypedOutputs_rawRequest_getsRawOutputs() {
        List<Tensor> inputs = inputsFor("mlp");
        ModelInferResponse typed = grpc.modelInfer(GrpcClient.typed("mlp", inputs));
        assertEquals(0, typed.getRawOutputContentsCount());
        assertTrue(typed.getOutputs(0).getContents().getFp32ContentsCount() > 0);
        ModelInferResponse raw = grpc.modelInfer(GrpcClient.raw("mlp", inputs));
        assertEquals(raw.getOutputsCount(), raw.getRawOutputContentsCount());
        ModelInferResponse asked = grpc.modelInfer(GrpcClient.typed("mlp", inputs).toBuilder()
                .putParameters("binary_data_output", InferParameter.newBuilder().setBoolParam(true).build()).build());
        assertEquals(asked.getOutputsCount(), asked.getRawOutputContentsCount());
    }

    @Test
    void modelInfer_echoesTheIdAndNamesTheVersionThatServed() {
        ModelInferResponse r = grpc.modelInfer(GrpcClient.raw("classifier", inputsFor("classifier")).toBuilder()
                .setId("req-7").setModelVersion("1").build());
        assertEquals("req-7", r.getId());
        assertEquals("classifier", r.getModelName());
        assertEquals("1", r.getModelVersion());
    }

    @Test
    void modelInfer_requestedOutputsOnly() {
        List<Tensor> inputs = inputsFor("mlp");
        ModelMetadataResponse m = grpc.modelMetadata(ModelMetadataRequest.newBuilder().setName("mlp").build());
        String first = m.getOutputs(0).getName();
        ModelInferResponse r = grpc.modelInfer(GrpcClient.raw("mlp", inputs).toBuilder()
                .addOutputs(ModelInferRequest.InferRequestedOutputTensor.newBuilder().setName(first)).build());
        assertEquals(1, r.getOutputsCount());
        assertEquals(first, r.getOutputs(0).getName());
    }

    @Test
    void modelInfer_withRouteKeyMetadata_isServed() {
        ModelInferResponse r = client.stub(Map.of("gantry-route-key", "user-42"))
                .modelInfer(GrpcClient.raw("mlp", inputsFor("mlp")));
        assertEquals("mlp", r.getModelName());
    }

    // ---- inference: failures as over HTTP ----

    @Test
    void modelInfer_unknownModel_isNotFound() {
        Status s = GrpcClient.failure(() -> grpc.modelInfer(GrpcClient.raw("nope", inputsFor("mlp"))));
        assertEquals(Status.Code.NOT_FOUND, s.getCode());
        assertEquals("unknown model 'nope'", s.getDescription());
    }

    @Test
    void modelInfer_versionNotLoaded_isNotFound() {
        Status s = GrpcClient.failure(() -> grpc.modelInfer(GrpcClient.raw("mlp", inputsFor("mlp")).toBuilder()
                .setModelVersion("9").build()));
        assertEquals(Status.Code.NOT_FOUND, s.getCode());
        assertTrue(s.getDescription().contains("has no version 9"), s.getDescription());
    }

    @Test
    void modelInfer_unknownDatatype_isInvalidArgument() {
        ModelInferRequest r = GrpcClient.raw("mlp", inputsFor("mlp"));
        ModelInferRequest sent = r.toBuilder().setInputs(0, r.getInputs(0).toBuilder().setDatatype("FP8")).build();
        Status s = GrpcClient.failure(() -> grpc.modelInfer(sent));
        assertEquals(Status.Code.INVALID_ARGUMENT, s.getCode());
        assertTrue(s.getDescription().contains("has unknown datatype 'FP8'"), s.getDescription());
    }

    @Test
    void modelInfer_datatypeTheModelDoesNotTake_isInvalidArgumentWithTheHttpMessage() {
        Tensor wrong = Tensor.of(inputsFor("mlp").get(0).name(), DataType.INT32, inputsFor("mlp").get(0).shape(),
                ByteBuffer.allocate(inputsFor("mlp").get(0).data().remaining()));
        Status s = GrpcClient.failure(() -> grpc.modelInfer(GrpcClient.raw("mlp", List.of(wrong))));
        assertEquals(Status.Code.INVALID_ARGUMENT, s.getCode());
        assertEquals(http("mlp", List.of(wrong)).error(), s.getDescription());
    }

    @Test
    void modelInfer_typedContentsInAnotherTypesField_isInvalidArgument() {
        Tensor in = inputsFor("mlp").get(0);
        ModelInferRequest r = GrpcClient.typed("mlp", List.of(in));
        r = r.toBuilder().setInputs(0, r.getInputs(0).toBuilder().setContents(InferTensorContents.newBuilder()
                .addIntContents(1))).build();
        ModelInferRequest sent = r;
        Status s = GrpcClient.failure(() -> grpc.modelInfer(sent));
        assertEquals(Status.Code.INVALID_ARGUMENT, s.getCode());
        assertEquals("input '" + in.name() + "' is FP32: its elements go in fp32_contents, got int_contents",
                s.getDescription());
    }

    @Test
    void modelInfer_typedContentsWithTooFewElements_isInvalidArgument() {
        Tensor in = inputsFor("mlp").get(0);
        ModelInferRequest r = GrpcClient.typed("mlp", List.of(in));
        ModelInferRequest sent = r.toBuilder().setInputs(0, r.getInputs(0).toBuilder().setContents(
                InferTensorContents.newBuilder().addFp32Contents(1f))).build();
        Status s = GrpcClient.failure(() -> grpc.modelInfer(sent));
        assertEquals(Status.Code.INVALID_ARGUMENT, s.getCode());
        assertEquals("input '" + in.name() + "' data has 1 elements but shape " + Arrays.toString(in.shape())
                + " needs " + in.elementCount(), s.getDescription());
    }

    @Test
    void modelInfer_rawContentsOfTheWrongSize_isInvalidArgument() {
        Tensor in = inputsFor("mlp").get(0);
        ModelInferRequest r = GrpcClient.raw("mlp", List.of(in));
        ModelInferRequest sent = r.toBuilder().setRawInputContents(0, ByteString.copyFrom(new byte[3])).build();
        Status s = GrpcClient.failure(() -> grpc.modelInfer(sent));
        assertEquals(Status.Code.INVALID_ARGUMENT, s.getCode());
        assertEquals("input '" + in.name() + "' raw_input_contents size is 3 but FP32" + Arrays.toString(in.shape())
                + " needs exactly " + in.byteSize() + " bytes", s.getDescription());
    }

    @Test
    void modelInfer_shapeOverTheElementLimit_isRefusedBeforeAllocating() {
        ModelInferRequest r = ModelInferRequest.newBuilder().setModelName("mlp").addInputs(
                ModelInferRequest.InferInputTensor.newBuilder().setName("x").setDatatype("FP32")
                        .addShape(1L << 20).addShape(1L << 20)).addRawInputContents(ByteString.EMPTY).build();
        Status s = GrpcClient.failure(() -> grpc.modelInfer(r));
        assertEquals(Status.Code.INVALID_ARGUMENT, s.getCode());
        assertTrue(s.getDescription().contains("the limit is"), s.getDescription());
    }

    // ---- configuration, statistics, repository ----

    @Test
    void modelConfig_mlp_showsTheBatchPolicyInForceInTritonsForm() {
        ModelConfig c = grpc.modelConfig(ModelConfigRequest.newBuilder().setName("mlp").build()).getConfig();
        JsonNode batching = Bodies.parse(server.get("/v2/models/mlp").body()).get("batching");
        assertEquals("mlp", c.getName());
        assertEquals("onnxruntime_onnx", c.getPlatform());
        assertEquals(batching.get("max_batch_size").asInt(), c.getMaxBatchSize());
        assertEquals(batching.get("dynamic_batching").asBoolean(), c.hasDynamicBatching());
        assertEquals(batching.get("max_queue_size").asInt(), c.getDynamicBatching().getDefaultQueuePolicy()
                .getMaxQueueSize());
        assertEquals(ModelInstanceGroup.Kind.KIND_CPU, c.getInstanceGroup(0).getKind());
        assertEquals(batching.get("instance_count").asInt(), c.getInstanceGroup(0).getCount());
        ModelMetadataResponse m = grpc.modelMetadata(ModelMetadataRequest.newBuilder().setName("mlp").build());
        // dims leave out the batch dimension, as Triton writes them
        assertEquals(m.getInputs(0).getShapeList().subList(1, m.getInputs(0).getShapeCount()),
                c.getInput(0).getDimsList());
        assertEquals(dev.gantry.http.grpc.proto.DataType.TYPE_FP32, c.getInput(0).getDataType());
    }

    @ParameterizedTest
    @MethodSource("bundledModels")
    void modelConfig_batchingIsTheOneTheHttpMetadataReports(String model) {
        JsonNode http = Bodies.parse(server.get("/v2/models/" + model).body());
        ModelConfig c = grpc.modelConfig(ModelConfigRequest.newBuilder().setName(model).build()).getConfig();
        JsonNode batching = http.get("batching");
        if (batching == null) {
            assertEquals(0, c.getMaxBatchSize(), "a version that is not READY has no batch policy yet");
            return;
        }
        assertEquals(batching.get("max_batch_size").asInt(), c.getMaxBatchSize());
        assertEquals(batching.get("dynamic_batching").asBoolean(), c.hasDynamicBatching());
        assertEquals(http.get("inputs").size(), c.getInputCount());
        assertEquals(http.get("outputs").size(), c.getOutputCount());
    }

    @Test
    void modelConfig_unknownModel_isNotFound() {
        Status s = GrpcClient.failure(() -> grpc.modelConfig(ModelConfigRequest.newBuilder().setName("nope").build()));
        assertEquals(Status.Code.NOT_FOUND, s.getCode());
    }

    @Test
    void modelStatistics_countTheInferencesServed() {
        ModelStatisticsRequest req = ModelStatisticsRequest.newBuilder().setName("add_fp32").build();
        ModelStatistics before = grpc.modelStatistics(req).getModelStats(0);
        for (int i = 0; i < 3; i++) {
            grpc.modelInfer(GrpcClient.raw("add_fp32", inputsFor("add_fp32")));
        }
        ModelStatistics after = grpc.modelStatistics(req).getModelStats(0);
        assertEquals("add_fp32", after.getName());
        assertEquals(3, after.getInferenceStats().getSuccess().getCount()
                - before.getInferenceStats().getSuccess().getCount());
        assertTrue(after.getInferenceStats().getSuccess().getNs() > before.getInferenceStats().getSuccess().getNs());
        assertTrue(after.getInferenceCount() - before.getInferenceCount() >= 3);
        assertTrue(after.getExecutionCount() > before.getExecutionCount());
        assertTrue(after.getLastInference() > 0);
    }

    @Test
    void modelStatistics_areTheNumbersHttpShows_batchStatsAndInputOutputTimesIncluded() {
        for (int i = 0; i < 2; i++) {
            grpc.modelInfer(GrpcClient.raw("add_fp32", inputsFor("add_fp32")));
        }
        ModelStatistics g = grpc.modelStatistics(ModelStatisticsRequest.newBuilder().setName("add_fp32")
                .setVersion("1").build()).getModelStats(0);
        JsonNode h = Bodies.parse(server.get("/v2/models/add_fp32/versions/1/stats").body()).get("model_stats").get(0);
        assertEquals(h.get("inference_count").longValue(), g.getInferenceCount());
        assertEquals(h.get("execution_count").longValue(), g.getExecutionCount());
        assertEquals(h.get("last_inference").longValue(), g.getLastInference());
        JsonNode hs = h.get("inference_stats");
        var gs = g.getInferenceStats();
        List<dev.gantry.http.grpc.proto.StatisticDuration> grpcDurations = List.of(gs.getSuccess(), gs.getFail(),
                gs.getQueue(), gs.getComputeInput(), gs.getComputeInfer(), gs.getComputeOutput());
        List<String> names = List.of("success", "fail", "queue", "compute_input", "compute_infer", "compute_output");
        for (int i = 0; i < names.size(); i++) {
            assertEquals(hs.get(names.get(i)).get("count").longValue(), grpcDurations.get(i).getCount(), names.get(i));
            assertEquals(hs.get(names.get(i)).get("ns").longValue(), grpcDurations.get(i).getNs(), names.get(i));
        }
        assertTrue(gs.getComputeInput().getNs() > 0, gs.toString());
        assertTrue(gs.getComputeOutput().getNs() > 0, gs.toString());
        assertEquals(h.get("batch_stats").size(), g.getBatchStatsCount());
        assertTrue(g.getBatchStatsCount() > 0);
        for (int i = 0; i < g.getBatchStatsCount(); i++) {
            JsonNode hb = h.get("batch_stats").get(i);
            assertEquals(hb.get("batch_size").longValue(), g.getBatchStats(i).getBatchSize());
            assertEquals(hb.get("compute_infer").get("count").longValue(),
                    g.getBatchStats(i).getComputeInfer().getCount());
            assertEquals(hb.get("compute_input").get("ns").longValue(), g.getBatchStats(i).getComputeInput().getNs());
        }
    }

    @Test
    void modelStatistics_ofAnUnknownModel_isNotFound() {
        Status s = GrpcClient.failure(() -> grpc.modelStatistics(ModelStatisticsRequest.newBuilder().setName("nope")
                .build()));
        assertEquals(Status.Code.NOT_FOUND, s.getCode());
    }

    @Test
    void modelStatistics_withoutAName_coversEveryLoadedVersion() {
        List<ModelStatistics> all = grpc.modelStatistics(ModelStatisticsRequest.getDefaultInstance())
                .getModelStatsList();
        assertTrue(all.stream().anyMatch(s -> s.getName().equals("mlp") && s.getVersion().equals("1")));
        assertTrue(all.stream().anyMatch(s -> s.getName().equals("minilm")));
    }

    @Test
    void repositoryIndex_listsTheBundledModelsReady() {
        RepositoryIndexResponse index = grpc.repositoryIndex(RepositoryIndexRequest.newBuilder().setReady(true)
                .build());
        assertTrue(index.getModelsList().stream().anyMatch(m -> m.getName().equals("mlp")
                && m.getVersion().equals("1") && m.getState().equals("READY")), index.toString());
        assertTrue(index.getModelsList().stream().allMatch(m -> m.getState().equals("READY")));
    }

    // ---- streaming ----

    @Test
    void modelStreamInfer_answersEveryRequestInOrder_andAFailedOneDoesNotEndTheStream() {
        List<ModelInferRequest> requests = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            String model = i % 2 == 0 ? "mlp" : "add_fp32";
            requests.add(GrpcClient.raw(i == 3 ? "nope" : model, inputsFor(model)).toBuilder().setId("r" + i).build());
        }
        List<ModelStreamInferResponse> answers = client.stream(Map.of(), requests);
        assertEquals(6, answers.size());
        for (int i = 0; i < 6; i++) {
            ModelStreamInferResponse a = answers.get(i);
            assertEquals("r" + i, a.getInferResponse().getId());
            if (i == 3) {
                assertEquals("unknown model 'nope'", a.getErrorMessage());
                continue;
            }
            assertEquals("", a.getErrorMessage());
            ModelInferResponse unary = grpc.modelInfer(requests.get(i));
            assertEquals(GrpcClient.outputBytes(unary).size(), GrpcClient.outputBytes(a.getInferResponse()).size());
            for (int k = 0; k < unary.getOutputsCount(); k++) {
                assertArrayEquals(GrpcClient.outputBytes(unary).get(k),
                        GrpcClient.outputBytes(a.getInferResponse()).get(k));
            }
        }
    }

    // ---- helpers ----

    /** Deterministic inputs for a model, shaped from its metadata (dynamic dimensions as 2). */
    static List<Tensor> inputsFor(String model) {
        ModelMetadataResponse m = grpc.modelMetadata(ModelMetadataRequest.newBuilder().setName(model).build());
        List<Tensor> inputs = new ArrayList<>();
        for (ModelMetadataResponse.TensorMetadata t : m.getInputsList()) {
            long[] shape = t.getShapeList().stream().mapToLong(d -> d < 0 ? 2 : d).toArray();
            int n = (int) Tensor.elementCount(shape);
            DataType type = DataType.fromName(t.getDatatype()).orElseThrow();
            String name = t.getName();
            if (type == DataType.BYTES) {
                List<byte[]> s = new ArrayList<>();
                for (int i = 0; i < n; i++) {
                    s.add(("s" + i).getBytes(StandardCharsets.UTF_8));
                }
                inputs.add(Tensor.ofStrings(name, shape, s));
                continue;
            }
            ByteBuffer b = ByteBuffer.allocate(n * type.byteSize()).order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < n; i++) {
                long v = name.contains("type") ? 0 : name.contains("mask") ? 1
                        : name.contains("ids") ? 101 + (i * 37L) % 5000 : (i % 61) - 30;
                switch (type) {
                    case BOOL -> b.put((byte) (i % 2));
                    case INT8 -> b.put((byte) v);
                    case UINT8 -> b.put((byte) Math.abs(v));
                    case INT16, UINT16 -> b.putShort((short) Math.abs(v));
                    case INT32, UINT32 -> b.putInt((int) v);
                    case INT64, UINT64 -> b.putLong(v);
                    case FP16 -> b.putShort(Float.floatToFloat16(i * 0.25f - 1));
                    case FP32 -> b.putFloat(i * 0.37f - 1.5f);
                    case FP64 -> b.putDouble(i * 0.37 - 1.5);
                    default -> throw new IllegalStateException(type.name());
                }
            }
            inputs.add(Tensor.of(name, type, shape, b.flip()));
        }
        return inputs;
    }

    /** An HTTP answer: the output bytes of a 200, or the error message of anything else. */
    record HttpAnswer(int status, List<String> names, List<byte[]> outputs, String error) {
    }

    /** Posts {@code inputs} with the binary tensor extension, asking for binary outputs. */
    static HttpAnswer http(String model, List<Tensor> inputs) {
        ObjectNode root = Json.object();
        ArrayNode in = root.putArray("inputs");
        byte[][] blobs = new byte[inputs.size()][];
        for (int i = 0; i < inputs.size(); i++) {
            Tensor t = inputs.get(i);
            blobs[i] = GrpcClient.rawBytes(t);
            ObjectNode o = in.addObject().put("name", t.name()).put("datatype", t.datatype().name());
            ArrayNode shape = o.putArray("shape");
            for (long d : t.shape()) {
                shape.add(d);
            }
            o.putObject("parameters").put("binary_data_size", blobs[i].length);
        }
        root.putObject("parameters").put("binary_data_output", true);
        byte[] header = root.toString().getBytes(StandardCharsets.UTF_8);
        java.io.ByteArrayOutputStream body = new java.io.ByteArrayOutputStream();
        body.writeBytes(header);
        for (byte[] b : blobs) {
            body.writeBytes(b);
        }
        HttpResponse<byte[]> r = server.post("/v2/models/" + model + "/infer", body.toByteArray(), Map.of(
                "Content-Type", "application/octet-stream", "Inference-Header-Content-Length", "" + header.length));
        if (r.statusCode() != 200) {
            return new HttpAnswer(r.statusCode(), List.of(), List.of(),
                    Bodies.parse(new String(r.body(), StandardCharsets.UTF_8)).get("error").asText());
        }
        int h = Integer.parseInt(r.headers().firstValue("Inference-Header-Content-Length").orElseThrow());
        JsonNode json = Bodies.parse(new String(r.body(), 0, h, StandardCharsets.UTF_8));
        List<String> names = new ArrayList<>();
        List<byte[]> outputs = new ArrayList<>();
        int at = h;
        for (JsonNode o : json.get("outputs")) {
            int size = o.get("parameters").get("binary_data_size").asInt();
            names.add(o.get("name").asText());
            outputs.add(Arrays.copyOfRange(r.body(), at, at + size));
            at += size;
        }
        return new HttpAnswer(200, names, outputs, null);
    }

    private static String httpError(HttpResponse<String> r) {
        return Bodies.parse(r.body()).get("error").asText();
    }

    static Status.Code codeFor(int httpStatus) {
        return switch (httpStatus) {
            case 400 -> Status.Code.INVALID_ARGUMENT;
            case 404 -> Status.Code.NOT_FOUND;
            case 429 -> Status.Code.RESOURCE_EXHAUSTED;
            case 503 -> Status.Code.UNAVAILABLE;
            default -> throw new AssertionError("unexpected HTTP status " + httpStatus);
        };
    }

    private static void assertSameOutcome(HttpAnswer http, java.util.function.Supplier<ModelInferResponse> call,
                                          boolean raw) {
        if (http.status() != 200) {
            Status s = GrpcClient.failure(call::get);
            assertEquals(codeFor(http.status()), s.getCode(), s.toString());
            assertEquals(http.error(), s.getDescription());
            return;
        }
        ModelInferResponse r = call.get();
        assertEquals(raw ? r.getOutputsCount() : 0, r.getRawOutputContentsCount(), "raw_output_contents entries");
        assertEquals(http.names(), r.getOutputsList().stream().map(ModelInferResponse.InferOutputTensor::getName)
                .toList());
        List<byte[]> got = GrpcClient.outputBytes(r);
        for (int i = 0; i < got.size(); i++) {
            assertArrayEquals(http.outputs().get(i), got.get(i), "output " + http.names().get(i));
        }
        assertFalse(got.isEmpty());
    }
}
