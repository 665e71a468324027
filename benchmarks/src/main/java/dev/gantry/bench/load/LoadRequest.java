package dev.gantry.bench.load;

import com.google.protobuf.ByteString;
import dev.gantry.bench.oip.OipBodies;
import dev.gantry.core.inference.Tensor;
import dev.gantry.http.grpc.proto.ModelInferRequest;
import io.vertx.core.buffer.Buffer;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.Objects;
import java.util.OptionalLong;

/**
 * One request the load generator sends over and over: an HTTP/1.1 request, or a gRPC unary call over HTTP/2.
 *
 * @param path the request URI, e.g. {@code /v2/models/mlp/infer} or {@code /inference.GRPCInferenceService/ModelInfer}
 * @param body the request body (for gRPC: the length-prefixed protobuf message)
 * @param headerLength the {@code Inference-Header-Content-Length} to send, or empty for a plain JSON body
 * @param grpc whether this is a gRPC call, sent to the server's gRPC port
 */
public record LoadRequest(String path, Buffer body, OptionalLong headerLength, boolean grpc) {
    public static final String GRPC_MODEL_INFER = "/inference.GRPCInferenceService/ModelInfer";

    public LoadRequest {
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(body, "body");
        Objects.requireNonNull(headerLength, "headerLength");
    }

    /** An HTTP/1.1 request. */
    public LoadRequest(String path, Buffer body, OptionalLong headerLength) {
        this(path, body, headerLength, false);
    }

    /** An OpenAI-style {@code POST /v1/embeddings} of one sentence. */
    public static LoadRequest embeddings(String model, String sentence) {
        com.fasterxml.jackson.databind.node.ObjectNode body = new com.fasterxml.jackson.databind.ObjectMapper()
                .createObjectNode().put("model", model).put("input", sentence);
        return new LoadRequest("/v1/embeddings", Buffer.buffer(body.toString()), OptionalLong.empty());
    }

    /** An OIP inference request for {@code model}. */
    public static LoadRequest infer(String model, OipBodies.Body body) {
        return new LoadRequest("/v2/models/" + model + "/infer", Buffer.buffer(body.bytes()), body.headerLength());
    }

    /**
     * A gRPC ModelInfer call for {@code model} with its inputs as raw_input_contents, as Triton's client sends
     * them; framed as gRPC frames a message (a zero compression flag, a 4-byte big-endian length, the bytes).
     */
    public static LoadRequest grpcInfer(String model, List<Tensor> inputs) {
        ModelInferRequest.Builder b = ModelInferRequest.newBuilder().setModelName(model);
        for (Tensor t : inputs) {
            ModelInferRequest.InferInputTensor.Builder in = b.addInputsBuilder().setName(t.name())
                    .setDatatype(t.datatype().name());
            for (long d : t.shape()) {
                in.addShape(d);
            }
            ByteBuffer data = t.data();
            b.addRawInputContents(ByteString.copyFrom(data));
        }
        byte[] message = b.build().toByteArray();
        Buffer framed = Buffer.buffer(5 + message.length).appendByte((byte) 0).appendInt(message.length)
                .appendBytes(message);
        return new LoadRequest(GRPC_MODEL_INFER, framed, OptionalLong.empty(), true);
    }
}
