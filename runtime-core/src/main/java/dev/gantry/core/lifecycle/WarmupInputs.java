package dev.gantry.core.lifecycle;

import dev.gantry.core.error.GantryException;
import dev.gantry.core.inference.Tensor;
import dev.gantry.core.model.DataType;
import dev.gantry.store.repository.ModelConfig;
import dev.gantry.store.repository.WarmupSample;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/** Turns a config's {@code model_warmup} samples into input tensors. */
public final class WarmupInputs {
    /*
     * As in Triton: when the model has a batch dimension (max_batch_size > 0) the sample's batch_size is
     * prepended to each input's dims; input_data_file names a file in <model>/warmup/ holding the raw
     * little-endian values of the whole sample (batch_size rows). For the batch-invariance check a sample is
     * stretched to the rows the check needs: random data is drawn afresh for every row (so rows differ), zero
     * data stays zero, and a file's rows are repeated in turn.
     */
    private WarmupInputs() {
    }

    /** The sample's inputs, {@code rows} rows each when the model has a batch dimension. */
    public static List<Tensor> of(Path modelDir, ModelConfig config, WarmupSample sample, int rows, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        List<Tensor> inputs = new ArrayList<>();
        boolean batched = config.maxBatchSize() > 0;
        for (WarmupSample.Input in : sample.inputs()) {
            DataType type = DataType.fromName(in.dataType().equals("STRING") ? "BYTES" : in.dataType())
                    .orElseThrow(() -> GantryException.unavailable("model_warmup sample '" + sample.name()
                            + "': input '" + in.name() + "' has data_type TYPE_" + in.dataType()
                            + ", which Gantry does not know"));
            long[] shape = new long[in.dims().size() + (batched ? 1 : 0)];
            int d = 0;
            if (batched) {
                shape[d++] = rows;
            }
            for (long dim : in.dims()) {
                shape[d++] = dim;
            }
            inputs.add(switch (in.source()) {
                case ZERO -> zeros(in.name(), type, shape);
                case RANDOM -> SyntheticInputs.tensor(in.name(), type, shape, 1, 3, random);
                case FILE -> fromFile(modelDir, sample, in, type, shape, batched ? sample.batchSize() : 1);
            });
        }
        return inputs;
    }

    /**
     * The inputs of one smoke inference: the config's first warm-up sample, else one row guessed from the
     * signature (integers from {1, 2}); empty when the signature has an input Gantry cannot make up.
     */
    public static java.util.Optional<List<Tensor>> smoke(dev.gantry.store.repository.ModelEntry entry,
                                                         dev.gantry.core.model.ModelSignature signature) {
        ModelConfig config = entry.config();
        if (!config.warmup().isEmpty()) {
            WarmupSample sample = config.warmup().get(0);
            return java.util.Optional.of(of(entry.directory(), config, sample, sample.batchSize(), 3));
        }
        if (!signature.inputs().stream().allMatch(dev.gantry.core.model.TensorSpec::isSupported)) {
            return java.util.Optional.empty();
        }
        return java.util.Optional.of(SyntheticInputs.generate(signature, 1, 8, 1, 3, 3));
    }

    private static Tensor zeros(String name, DataType type, long[] shape) {
        int n = Math.toIntExact(Tensor.elementCount(shape));
        if (type == DataType.BYTES) {
            List<byte[]> empty = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                empty.add(new byte[0]);
            }
            return Tensor.ofStrings(name, shape, empty);
        }
        return Tensor.of(name, type, shape, ByteBuffer.allocate(n * type.byteSize()).order(ByteOrder.LITTLE_ENDIAN));
    }

    private static Tensor fromFile(Path modelDir, WarmupSample sample, WarmupSample.Input in, DataType type,
                                   long[] shape, int fileRows) {
        Path file = modelDir.resolve("warmup").resolve(in.file());
        if (type == DataType.BYTES) {
            throw GantryException.unavailable("model_warmup sample '" + sample.name() + "': input '" + in.name()
                    + "' reads " + file + ", but Gantry reads warm-up files for fixed-size types only");
        }
        long rowElements = in.dims().stream().mapToLong(Long::longValue).reduce(1, Math::multiplyExact);
        long expected = rowElements * fileRows * type.byteSize();
        byte[] bytes;
        try {
            if (Files.size(file) != expected) {
                throw GantryException.unavailable("model_warmup sample '" + sample.name() + "': " + file + " holds "
                        + Files.size(file) + " bytes, but input '" + in.name() + "' needs " + expected);
            }
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw GantryException.unavailable("model_warmup sample '" + sample.name() + "': cannot read " + file
                    + ": " + e.getMessage());
        }
        int rows = shape.length > in.dims().size() ? Math.toIntExact(shape[0]) : 1;
        int rowBytes = Math.toIntExact(rowElements * type.byteSize());
        ByteBuffer data = ByteBuffer.allocate(rows * rowBytes).order(ByteOrder.LITTLE_ENDIAN);
        for (int r = 0; r < rows; r++) {
            data.put(bytes, (r % fileRows) * rowBytes, rowBytes);
        }
        return Tensor.of(in.name(), type, shape, data.flip());
    }
}
