package dev.gantry.bench.direct;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;

import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The yardstick: what a team without a serving platform would write. A plain Vert.x HTTP server with one
 * inference route; each request is parsed with Jackson, run as one {@code session.run} on a worker pool (never
 * on the event loop), and answered as JSON. No batching, no queue bound, no versions, no metrics. It accepts
 * the same OIP v2 JSON body as Gantry ({@code POST /v2/models/{model}/infer}, FP32 and INT64 inputs with flat
 * or nested {@code data}) so one load generator drives both.
 *
 * <p>Run: {@code java -cp benchmarks/target/benchmarks.jar dev.gantry.bench.direct.DirectCallServer
 * --models models --model mlp --model minilm --port 8090 [--host 127.0.0.1] [--workers 2]
 * [--intra-op-threads 1] [--event-loops 1]}. Every model is read from {@code <models>/<name>/1/model.onnx}.
 * Prints {@code DirectCallServer ready on http://H:P} when listening.
 */
public final class DirectCallServer {
    private final Map<String, OrtSession> sessions;
    private final OrtEnvironment env = OrtEnvironment.getEnvironment();
    private final ObjectMapper mapper = new ObjectMapper();
    private final WorkerExecutor workers;

    private DirectCallServer(Map<String, OrtSession> sessions, WorkerExecutor workers) {
        this.sessions = sessions;
        this.workers = workers;
    }

    public static void main(String[] args) throws Exception {
        String host = "127.0.0.1";
        int port = 8090;
        Path models = Path.of("models");
        List<String> names = new ArrayList<>();
        int workerCount = 2;
        int intraOp = 1;
        int eventLoops = 1;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--host" -> host = args[++i];
                case "--port" -> port = Integer.parseInt(args[++i]);
                case "--models" -> models = Path.of(args[++i]);
                case "--model" -> names.add(args[++i]);
                case "--workers" -> workerCount = Integer.parseInt(args[++i]);
                case "--intra-op-threads" -> intraOp = Integer.parseInt(args[++i]);
                case "--event-loops" -> eventLoops = Integer.parseInt(args[++i]);
                default -> throw new IllegalArgumentException("unknown argument '" + args[i] + "'; see the javadoc of "
                        + DirectCallServer.class.getName());
            }
        }
        if (names.isEmpty()) {
            throw new IllegalArgumentException("name at least one model with --model NAME");
        }
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        Map<String, OrtSession> sessions = new HashMap<>();
        for (String name : names) {
            Path file = models.resolve(name).resolve("1").resolve("model.onnx");
            if (!Files.isRegularFile(file)) {
                throw new IllegalArgumentException("model '" + name + "': " + file + " does not exist");
            }
            OrtSession.SessionOptions options = new OrtSession.SessionOptions();
            options.setIntraOpNumThreads(intraOp);
            options.setInterOpNumThreads(1);
            options.addConfigEntry("session.intra_op.allow_spinning", "0");
            options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            sessions.put(name, env.createSession(file.toString(), options));
        }
        Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(eventLoops));
        DirectCallServer server = new DirectCallServer(sessions,
                vertx.createSharedWorkerExecutor("ort", workerCount));
        Router router = Router.router(vertx);
        router.get("/v2/health/ready").handler(rc -> rc.response().end());
        router.post("/v2/models/:model/infer").handler(BodyHandler.create().setBodyLimit(256L << 20))
                .handler(server::infer);
        HttpServer http = vertx.createHttpServer().requestHandler(router);
        http.listen(port, host).toCompletionStage().toCompletableFuture().join();
        System.out.println("DirectCallServer ready on http://" + host + ":" + http.actualPort() + " serving "
                + names + " with " + workerCount + " workers, " + intraOp + " intra-op thread(s), " + eventLoops
                + " event loop(s)");
    }

    private void infer(RoutingContext rc) {
        String model = rc.pathParam("model");
        OrtSession session = sessions.get(model);
        if (session == null) {
            rc.response().setStatusCode(404).end("{\"error\":\"unknown model '" + model + "'\"}");
            return;
        }
        Buffer body = rc.body().buffer();
        workers.executeBlocking(() -> run(model, session, body), /* ordered= */ false).onComplete(ar -> {
            if (ar.succeeded()) {
                rc.response().putHeader("content-type", "application/json").end(ar.result());
            } else {
                int status = ar.cause() instanceof IllegalArgumentException ? 400 : 500;
                rc.response().setStatusCode(status).putHeader("content-type", "application/json")
                        .end(new io.vertx.core.json.JsonObject().put("error", String.valueOf(ar.cause().getMessage()))
                                .encode());
            }
        });
    }

    private Buffer run(String model, OrtSession session, Buffer body) throws Exception {
        JsonNode request = mapper.readTree(body.getBytes());
        Map<String, OnnxTensor> feed = new LinkedHashMap<>();
        try {
            for (JsonNode input : request.path("inputs")) {
                String name = input.path("name").asText();
                long[] shape = mapper.treeToValue(input.path("shape"), long[].class);
                List<JsonNode> values = new ArrayList<>();
                flatten(input.path("data"), values);
                NodeInfo info = session.getInputInfo().get(name);
                if (info == null) {
                    throw new IllegalArgumentException("model '" + model + "' has no input '" + name + "'");
                }
                feed.put(name, toTensor(name, ((TensorInfo) info.getInfo()).type, shape, values));
            }
            try (OrtSession.Result result = session.run(feed)) {
                Map<String, Object> response = new LinkedHashMap<>();
                response.put("model_name", model);
                response.put("model_version", "1");
                List<Map<String, Object>> outputs = new ArrayList<>();
                for (Map.Entry<String, OnnxValue> e : result) {
                    OnnxTensor t = (OnnxTensor) e.getValue();
                    Map<String, Object> out = new LinkedHashMap<>();
                    out.put("name", e.getKey());
                    out.put("datatype", "FP32");
                    out.put("shape", t.getInfo().getShape());
                    FloatBuffer fb = t.getFloatBuffer();
                    float[] data = new float[fb.remaining()];
                    fb.get(data);
                    out.put("data", data);
                    outputs.add(out);
                }
                response.put("outputs", outputs);
                return Buffer.buffer(mapper.writeValueAsBytes(response));
            }
        } finally {
            feed.values().forEach(OnnxTensor::close);
        }
    }

    private OnnxTensor toTensor(String name, ai.onnxruntime.OnnxJavaType type, long[] shape, List<JsonNode> values)
            throws OrtException {
        long expected = 1;
        for (long d : shape) {
            expected *= d;
        }
        if (expected != values.size()) {
            throw new IllegalArgumentException("input '" + name + "' has shape of " + expected + " elements but "
                    + values.size() + " values");
        }
        switch (type) {
            case FLOAT -> {
                float[] a = new float[values.size()];
                for (int i = 0; i < a.length; i++) {
                    a[i] = (float) values.get(i).asDouble();
                }
                return OnnxTensor.createTensor(env, FloatBuffer.wrap(a), shape);
            }
            case INT64 -> {
                long[] a = new long[values.size()];
                for (int i = 0; i < a.length; i++) {
                    a[i] = values.get(i).asLong();
                }
                return OnnxTensor.createTensor(env, LongBuffer.wrap(a), shape);
            }
            default -> throw new IllegalArgumentException("input '" + name + "' is " + type
                    + "; this server takes FP32 and INT64 inputs only");
        }
    }

    private static void flatten(JsonNode node, List<JsonNode> out) {
        if (node.isArray()) {
            for (JsonNode n : node) {
                flatten(n, out);
            }
        } else {
            out.add(node);
        }
    }
}
