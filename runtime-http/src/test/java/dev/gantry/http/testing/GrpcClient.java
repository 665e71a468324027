package dev.gantry.http.testing;

import com.google.protobuf.ByteString;
import dev.gantry.core.inference.Tensor;
import dev.gantry.core.model.DataType;
import dev.gantry.http.grpc.proto.GRPCInferenceServiceGrpc;
import dev.gantry.http.grpc.proto.InferTensorContents;
import dev.gantry.http.grpc.proto.ModelInferRequest;
import dev.gantry.http.grpc.proto.ModelInferResponse;
import dev.gantry.http.grpc.proto.ModelStreamInferResponse;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * A grpc-java client (the official implementation, independent of the server's Vert.x stack) for one server,
 * and conversions between core tensors and the protocol's typed and raw contents.
 */
public final class GrpcClient implements AutoCloseable {
    private final ManagedChannel channel;

    public GrpcClient(int port) {
        this.channel = Grpc.newChannelBuilderForAddress("127.0.0.1", port, InsecureChannelCredentials.create())
                .maxInboundMessageSize(64 << 20).build();
    }

    public GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub stub() {
        return GRPCInferenceServiceGrpc.newBlockingStub(channel).withDeadlineAfter(60, TimeUnit.SECONDS);
    }

    /** A stub that sends {@code metadata} (e.g. authorization, gantry-route-key) with every call. */
    public GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub stub(Map<String, String> metadata) {
        return stub().withInterceptors(MetadataUtils.newAttachHeadersInterceptor(metadata(metadata)));
    }

    public GRPCInferenceServiceGrpc.GRPCInferenceServiceStub asyncStub(Map<String, String> metadata) {
        return GRPCInferenceServiceGrpc.newStub(channel)
                .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(metadata(metadata)));
    }

    public static Map<String, String> bearer(String token) {
        return Map.of("authorization", "Bearer " + token);
    }

    private static Metadata metadata(Map<String, String> entries) {
        Metadata m = new Metadata();
        entries.forEach((k, v) -> m.put(Metadata.Key.of(k, Metadata.ASCII_STRING_MARSHALLER), v));
        return m;
    }

    /** Sends {@code requests} on one ModelStreamInfer call and collects every answer until the server ends it. */
    public List<ModelStreamInferResponse> stream(Map<String, String> metadata, List<ModelInferRequest> requests) {
        List<ModelStreamInferResponse> answers = new ArrayList<>();
        CompletableFuture<Void> done = new CompletableFuture<>();
        StreamObserver<ModelInferRequest> out = asyncStub(metadata).withDeadlineAfter(60, TimeUnit.SECONDS)
                .modelStreamInfer(new StreamObserver<>() {
                    @Override
                    public void onNext(ModelStreamInferResponse value) {
                        synchronized (answers) {
                            answers.add(value);
                        }
                    }

                    @Override
                    public void onError(Throwable t) {
                        done.completeExceptionally(t);
                    }

                    @Override
                    public void onCompleted() {
                        done.complete(null);
                    }
                });
        requests.forEach(out::onNext);
        out.onCompleted();
        done.orTimeout(60, TimeUnit.SECONDS).join();
        synchronized (answers) {
            return List.copyOf(answers);
        }
    }

    /** The status a call fails with; fails the test if it succeeds. */
    public static Status failure(Supplier<?> call) {
        return assertThrows(StatusRuntimeException.class, call::get).getStatus();
    }

    // ---- tensors <-> protocol ----

    /** A request carrying {@code inputs} as raw_input_contents. */
    public static ModelInferRequest raw(String model, List<Tensor> inputs) {
        ModelInferRequest.Builder b = ModelInferRequest.newBuilder().setModelName(model);
        for (Tensor t : inputs) {
            input(b, t);
            b.addRawInputContents(ByteString.copyFrom(rawBytes(t)));
        }
        return b.build();
    }

    /** A request carrying {@code inputs} as typed contents. */
    public static ModelInferRequest typed(String model, List<Tensor> inputs) {
        ModelInferRequest.Builder b = ModelInferRequest.newBuilder().setModelName(model);
        for (Tensor t : inputs) {
            input(b, t).setContents(contents(t));
        }
        return b.build();
    }

    private static ModelInferRequest.InferInputTensor.Builder input(ModelInferRequest.Builder b, Tensor t) {
        ModelInferRequest.InferInputTensor.Builder in = b.addInputsBuilder().setName(t.name())
                .setDatatype(t.datatype().name());
        for (long d : t.shape()) {
            in.addShape(d);
        }
        return in;
    }

    /** The OIP binary layout of a tensor (BYTES: 4-byte little-endian length before each element). */
    public static byte[] rawBytes(Tensor t) {
        if (t.datatype().isFixedSize()) {
            ByteBuffer d = t.data();
            byte[] out = new byte[d.remaining()];
            d.get(out);
            return out;
        }
        int size = 0;
        for (byte[] s : t.strings()) {
            size += 4 + s.length;
        }
        ByteBuffer out = ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
        t.strings().forEach(s -> out.putInt(s.length).put(s));
        return out.array();
    }

    public static InferTensorContents contents(Tensor t) {
        InferTensorContents.Builder c = InferTensorContents.newBuilder();
        if (t.datatype() == DataType.BYTES) {
            t.strings().forEach(s -> c.addBytesContents(ByteString.copyFrom(s)));
            return c.build();
        }
        ByteBuffer b = t.data();
        while (b.hasRemaining()) {
            switch (t.datatype()) {
                case BOOL -> c.addBoolContents(b.get() != 0);
                case INT8 -> c.addIntContents(b.get());
                case INT16 -> c.addIntContents(b.getShort());
                case INT32 -> c.addIntContents(b.getInt());
                case INT64 -> c.addInt64Contents(b.getLong());
                case UINT8 -> c.addUintContents(b.get() & 0xFF);
                case UINT16 -> c.addUintContents(b.getShort() & 0xFFFF);
                case UINT32 -> c.addUintContents(b.getInt());
                case UINT64 -> c.addUint64Contents(b.getLong());
                case FP32 -> c.addFp32Contents(b.getFloat());
                case FP64 -> c.addFp64Contents(b.getDouble());
                default -> throw new IllegalArgumentException("no typed contents for " + t.datatype());
            }
        }
        return c.build();
    }

    /** Each output's bytes in the OIP binary layout, whichever way the response carried them. */
    public static List<byte[]> outputBytes(ModelInferResponse r) {
        List<byte[]> out = new ArrayList<>();
        for (int i = 0; i < r.getOutputsCount(); i++) {
            if (r.getRawOutputContentsCount() > 0) {
                out.add(r.getRawOutputContents(i).toByteArray());
                continue;
            }
            ModelInferResponse.InferOutputTensor o = r.getOutputs(i);
            DataType type = DataType.fromName(o.getDatatype()).orElseThrow();
            InferTensorContents c = o.getContents();
            long[] shape = o.getShapeList().stream().mapToLong(Long::longValue).toArray();
            if (type == DataType.BYTES) {
                List<byte[]> elements = c.getBytesContentsList().stream().map(ByteString::toByteArray).toList();
                out.add(rawBytes(Tensor.ofStrings(o.getName(), shape, elements)));
                continue;
            }
            int n = (int) Tensor.elementCount(shape);
            ByteBuffer b = ByteBuffer.allocate(n * type.byteSize()).order(ByteOrder.LITTLE_ENDIAN);
            for (int k = 0; k < n; k++) {
                switch (type) {
                    case BOOL -> b.put((byte) (c.getBoolContents(k) ? 1 : 0));
                    case INT8 -> b.put((byte) c.getIntContents(k));
                    case INT16 -> b.putShort((short) c.getIntContents(k));
                    case INT32 -> b.putInt(c.getIntContents(k));
                    case INT64 -> b.putLong(c.getInt64Contents(k));
                    case UINT8 -> b.put((byte) c.getUintContents(k));
                    case UINT16 -> b.putShort((short) c.getUintContents(k));
                    case UINT32 -> b.putInt(c.getUintContents(k));
                    case UINT64 -> b.putLong(c.getUint64Contents(k));
                    case FP32 -> b.putFloat(c.getFp32Contents(k));
                    case FP64 -> b.putDouble(c.getFp64Contents(k));
                    default -> throw new IllegalArgumentException("no typed contents for " + type);
                }
            }
            out.add(b.array());
        }
        return out;
    }

    @Override
    public void close() {
        channel.shutdownNow();
        try {
            channel.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
