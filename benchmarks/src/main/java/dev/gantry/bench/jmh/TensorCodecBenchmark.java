package dev.gantry.bench.jmh;

import dev.gantry.bench.oip.OipBodies;
import dev.gantry.bench.oip.Payloads;
import dev.gantry.core.inference.InferenceResponse;
import dev.gantry.core.inference.Tensor;
import dev.gantry.core.model.ModelId;
import dev.gantry.http.inference.CodecLimits;
import dev.gantry.http.inference.DecodedRequest;
import dev.gantry.http.inference.EncodedResponse;
import dev.gantry.http.inference.OipCodec;
import dev.gantry.http.inference.OutputEncoding;
import io.vertx.core.buffer.Buffer;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;

/**
 * Cost of Gantry's OIP codec per request, JSON against the binary tensor extension: decoding a request body
 * into an {@code InferenceRequest} and encoding an {@code InferenceResponse}, for a small FP32 tensor [1,64]
 * (the mlp model's input), the mlp model's 8 scores [1,8] ({@code scores}: below OipCodec's direct-array size, so
 * its JSON goes through the generator) and a 600 KB FP32 tensor [1,153600]. No HTTP, no model: codec only, one
 * thread.
 *
 * <p>Run: {@code java -jar benchmarks/target/benchmarks.jar TensorCodecBenchmark}
 * (add {@code -p size=large} for one size; {@code -prof gc} for allocation per operation).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 5, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g", "--enable-native-access=ALL-UNNAMED"})
public class TensorCodecBenchmark {
    @Param({"small", "scores", "large"})
    public String size;

    private OipCodec codec;
    private Buffer jsonBody;
    private Buffer binaryBody;
    private OptionalLong binaryHeaderLength;
    private InferenceResponse response;
    private OutputEncoding binaryOutputs;

    @Setup
    public void setUp() {
        codec = new OipCodec(CodecLimits.defaults());
        Tensor tensor = switch (size) {
            case "small" -> Payloads.fp32("input", 1, Payloads.MLP_FEATURES);
            case "scores" -> Payloads.fp32("input", 1, 8);
            default -> Payloads.fp32("input", 1, Payloads.LARGE_FP32_ELEMENTS);
        };
        jsonBody = Buffer.buffer(OipBodies.json(List.of(tensor)).bytes());
        OipBodies.Body binary = OipBodies.binary(List.of(tensor));
        binaryBody = Buffer.buffer(binary.bytes());
        binaryHeaderLength = binary.headerLength();
        response = new InferenceResponse(new ModelId("identity_fp32", 1), "", List.of(tensor.withName("output")));
        binaryOutputs = new OutputEncoding(/* binaryByDefault= */ true, java.util.Map.of());
        /* Guard: both bodies must decode to the same tensor, or the comparison is meaningless. */
        Tensor fromJson = codec.decodeRequest(jsonBody, OptionalLong.empty()).request().inputs().get(0);
        Tensor fromBinary = codec.decodeRequest(binaryBody, binaryHeaderLength).request().inputs().get(0);
        if (!fromJson.contentEquals(tensor) || !fromBinary.contentEquals(tensor)) {
            throw new IllegalStateException("JSON and binary bodies do not decode to the source tensor");
        }
    }

    @Benchmark
    public DecodedRequest decodeJson() {
        return codec.decodeRequest(jsonBody, OptionalLong.empty());
    }

    @Benchmark
    public DecodedRequest decodeBinary() {
        return codec.decodeRequest(binaryBody, binaryHeaderLength);
    }

    @Benchmark
    public EncodedResponse encodeJson() {
        return codec.encodeResponse(response, OutputEncoding.json());
    }

    @Benchmark
    public EncodedResponse encodeBinary() {
        return codec.encodeResponse(response, binaryOutputs);
    }
}
