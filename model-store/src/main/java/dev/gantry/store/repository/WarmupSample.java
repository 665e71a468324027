package dev.gantry.store.repository;

import java.util.List;
import java.util.Objects;

/**
 * One entry of Triton's {@code model_warmup}: a request Gantry runs while loading the model, instead of inputs
 * it would otherwise guess from the signature.
 *
 * @param name      the sample's name, for messages
 * @param batchSize Triton's {@code batch_size}: rows prepended to each input's dims when the model has a batch
 *                  dimension ({@code max_batch_size > 0}); ignored otherwise
 * @param inputs    one entry per model input
 */
public record WarmupSample(String name, int batchSize, List<Input> inputs) {
    public WarmupSample {
        Objects.requireNonNull(name, "name");
        Checks.atLeast("batch_size", batchSize, 1);
        inputs = List.copyOf(inputs);
        if (inputs.isEmpty()) {
            throw new IllegalArgumentException("inputs must name at least one input");
        }
    }

    /** Where an input's values come from: Triton's {@code zero_data}, {@code random_data}, {@code input_data_file}. */
    public enum Source { ZERO, RANDOM, FILE }

    /**
     * One input of a sample.
     *
     * @param name     the model input
     * @param dataType Triton's {@code data_type} without its {@code TYPE_} prefix ("FP32", "INT64", "STRING")
     * @param dims     the shape without the batch dimension
     * @param source   where the values come from
     * @param file     for {@link Source#FILE}: a file name in the model's {@code warmup/} directory holding the
     *                 raw little-endian values; empty otherwise
     */
    public record Input(String name, String dataType, List<Long> dims, Source source, String file) {
        public Input {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(dataType, "dataType");
            dims = List.copyOf(dims);
            for (long d : dims) {
                if (d < 1) {
                    throw new IllegalArgumentException("dims must be >= 1, was " + dims);
                }
            }
            Objects.requireNonNull(source, "source");
            if (source == Source.FILE && (file == null || file.isBlank() || file.contains("/")
                    || file.contains("\\") || file.equals("..") || file.equals("."))) {
                throw new IllegalArgumentException("input_data_file must be a file name in the model's warmup"
                        + " directory, was '" + file + "'");
            }
            file = source == Source.FILE ? file : "";
        }
    }
}
