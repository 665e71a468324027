package dev.gantry.bench.load;

import dev.gantry.bench.oip.OipBodies;
import dev.gantry.bench.oip.Payloads;
import dev.gantry.core.inference.Tensor;

import java.util.List;
import java.util.function.IntFunction;

/** A request shape the load benchmark sends: a model, the body of each request and how it travels. */
public enum Workload {
    /** The mlp model, one row of 64 FP32 features per request, JSON. */
    MLP("mlp", "mlp", Transport.JSON, Payloads::mlp),
    /** The same request with the binary tensor extension, request and response. */
    MLP_BINARY("mlp-binary", "mlp", Transport.BINARY, Payloads::mlp),
    /** The same request as a gRPC ModelInfer call (raw_input_contents), on the server's gRPC port. */
    MLP_GRPC("mlp-grpc", "mlp", Transport.GRPC, Payloads::mlp),
    /** fp32 MiniLM-L6, one sequence of 16 tokens per request, JSON. */
    MINILM_16("minilm-s16", "minilm", Transport.JSON, rows -> Payloads.minilm(rows, 16)),
    /**
     * The same MiniLM request with the binary tensor extension both ways: beside minilm-s16 it shows what the JSON
     * text of the answer's 6,144 floats costs.
     */
    MINILM_16_BINARY("minilm-s16-binary", "minilm", Transport.BINARY, rows -> Payloads.minilm(rows, 16)),
    /** fp32 MiniLM-L6, one sequence of 128 tokens per request, JSON. */
    MINILM_128("minilm-s128", "minilm", Transport.JSON, rows -> Payloads.minilm(rows, 128)),
    /** Quantized MiniLM-L6 (Gantry does not batch it: not batch-invariant), 16 tokens, JSON. */
    MINILM_Q_16("minilm-q-s16", "minilm-q", Transport.JSON, rows -> Payloads.minilm(rows, 16)),
    /** A 600 KB FP32 tensor [1,153600] through identity_fp32, JSON both ways. */
    LARGE_JSON("fp32-600k-json", "identity_fp32", Transport.JSON,
            rows -> List.of(Payloads.fp32("input", rows, Payloads.LARGE_FP32_ELEMENTS))),
    /** The same tensor with the binary tensor extension, request and response. */
    LARGE_BINARY("fp32-600k-binary", "identity_fp32", Transport.BINARY,
            rows -> List.of(Payloads.fp32("input", rows, Payloads.LARGE_FP32_ELEMENTS))),
    /**
     * The same fp32 MiniLM as a text model: one sentence per {@code POST /v1/embeddings} request (tokenized,
     * run and pooled by Gantry); in process, the same tokenizer, ORT and pooling without a server.
     */
    EMBEDDINGS("minilm-embeddings", "minilm", Transport.JSON, rows -> Payloads.minilm(rows, 16)),
    /** The two-version classifier (input {@code features} FP32 [-1,16]), one row per request, JSON: hot swap. */
    CLASSIFIER("classifier", "classifier", Transport.JSON, rows -> List.of(Payloads.fp32("features", rows, 16)));

    /** How a workload's requests travel. */
    public enum Transport {
        /** HTTP/1.1, OIP JSON both ways. */
        JSON,
        /** HTTP/1.1, the OIP binary tensor extension both ways. */
        BINARY,
        /** gRPC (HTTP/2), inference.GRPCInferenceService/ModelInfer with raw contents. */
        GRPC
    }

    private final String label;
    private final String model;
    private final Transport transport;
    private final IntFunction<List<Tensor>> inputs;

    Workload(String label, String model, Transport transport, IntFunction<List<Tensor>> inputs) {
        this.label = label;
        this.model = model;
        this.transport = transport;
        this.inputs = inputs;
    }

    public Transport transport() {
        return transport;
    }

    public String label() {
        return label;
    }

    public String model() {
        return model;
    }

    /** The inputs of {@code rows} rows, for in-process runs. */
    public List<Tensor> inputs(int rows) {
        return inputs.apply(rows);
    }

    /** The request: one row. */
    public LoadRequest request() {
        if (this == EMBEDDINGS) {
            return LoadRequest.embeddings(model, dev.gantry.bench.text.InProcessEmbedder.SENTENCE);
        }
        List<Tensor> one = inputs(1);
        return switch (transport) {
            case JSON -> LoadRequest.infer(model, OipBodies.json(one));
            case BINARY -> LoadRequest.infer(model, OipBodies.binary(one));
            case GRPC -> LoadRequest.grpcInfer(model, one);
        };
    }

    public static Workload byLabel(String label) {
        for (Workload w : values()) {
            if (w.label.equals(label)) {
                return w;
            }
        }
        throw new IllegalArgumentException("unknown workload '" + label + "'; known: "
                + java.util.Arrays.stream(values()).map(Workload::label).toList());
    }
}
