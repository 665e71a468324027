package dev.gantry.core.inference;

import dev.gantry.core.error.ErrorCode;
import dev.gantry.core.error.GantryException;
import dev.gantry.core.model.DataType;
import dev.gantry.core.model.ModelSignature;
import dev.gantry.core.model.TensorSpec;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

/** Checks a request against a model's signature before it is admitted, so the engine only sees valid input. */
public final class InputValidator {
    private InputValidator() {
    }

    /**
     * @param maxBatchSize the model's max_batch_size: when positive, dimension 0 of every input is the batch
     *     dimension, must agree across inputs and lie in [1, maxBatchSize]
     * @throws GantryException INVALID_ARG naming the input and what is wrong
     */
    private static boolean appearsBefore(List<Tensor> inputs, int n) {
        String name = inputs.get(n).name();
        for (int i = 0; i < n; i++) {
            if (inputs.get(i).name().equals(name)) {
                return true;
            }
        }
        return false;
    }

    public static void validate(InferenceRequest request, ModelSignature signature, int maxBatchSize) {
        for (TensorSpec spec : signature.inputs()) {
            if (!spec.isSupported()) {
                throw new GantryException(ErrorCode.INVALID_ARG, spec.unsupportedReason().orElseThrow());
            }
        }
        List<Tensor> inputs = request.inputs();
        /* Duplicates by pairs below 8 inputs (no set per request), by a set above. */
        Set<String> seen = inputs.size() > 8 ? new HashSet<>() : null;
        long batch = -1;
        for (int n = 0; n < inputs.size(); n++) {
            Tensor t = inputs.get(n);
            if (seen != null ? !seen.add(t.name()) : appearsBefore(inputs, n)) {
                throw GantryException.invalid("input '" + t.name() + "' appears more than once");
            }
            TensorSpec spec = signature.input(t.name()).orElseThrow(() -> GantryException.invalid(
                    "unknown input '" + t.name() + "'; the model's inputs are " + names(signature)));
            DataType expected = spec.datatype().orElseThrow();
            if (t.datatype() != expected) {
                throw GantryException.invalid("input '" + t.name() + "' expects " + expected + ", got " + t.datatype());
            }
            if (expected == DataType.BYTES) {
                checkUtf8(t);
            }
            long[] want = spec.shape();
            long[] got = t.shape();
            if (want.length != got.length) {
                throw GantryException.invalid("input '" + t.name() + "' expects rank " + want.length + " shape "
                        + shapeText(want) + ", got " + Shapes.describe(got));
            }
            for (int i = 0; i < want.length; i++) {
                if (want[i] >= 0 && want[i] != got[i]) {
                    throw GantryException.invalid("input '" + t.name() + "' expects shape " + shapeText(want)
                            + ", got " + Shapes.describe(got) + " (dimension " + i + ")");
                }
            }
            if (maxBatchSize > 0 && got.length > 0) {
                if (got[0] < 1 || got[0] > maxBatchSize) {
                    throw GantryException.invalid("input '" + t.name() + "' has batch dimension " + got[0]
                            + "; this model takes 1 to " + maxBatchSize + " rows per request (max_batch_size)");
                }
                if (batch >= 0 && got[0] != batch) {
                    throw GantryException.invalid("input '" + t.name() + "' has " + got[0]
                            + " rows but another input has " + batch + "; all inputs must have the same batch size");
                }
                batch = got[0];
            }
        }
        // Every input is distinct and declared (checked above), so one is missing exactly when there are fewer.
        if (inputs.size() < signature.inputs().size()) {
            for (TensorSpec spec : signature.inputs()) {
                if (request.input(spec.name()).isEmpty()) {
                    throw GantryException.invalid("missing input '" + spec.name() + "'; the model's inputs are "
                            + names(signature));
                }
            }
        }
        for (String out : request.requestedOutputs()) {
            if (signature.output(out).isEmpty()) {
                throw GantryException.invalid("unknown output '" + out + "'; the model's outputs are "
                        + signature.outputs().stream().map(TensorSpec::name).toList());
            }
        }
    }

    /*
     * ONNX Runtime's Java API creates string tensors only from java.lang.String (OnnxTensor.createTensor(env,
     * String[], shape)) and reads them back as String, so an element must be text: UTF-8 of any width
     * (embedded NULs and 4-byte sequences included) comes back byte for byte, other bytes cannot be carried.
     * Refused here, before the request is queued, rather than in the batch that would carry it.
     */
    private static void checkUtf8(Tensor t) {
        java.nio.charset.CharsetDecoder decoder = java.nio.charset.StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(java.nio.charset.CodingErrorAction.REPORT)
                .onUnmappableCharacter(java.nio.charset.CodingErrorAction.REPORT);
        List<byte[]> elements = t.strings();
        for (int i = 0; i < elements.size(); i++) {
            byte[] e = elements.get(i);
            if (isAscii(e)) {
                continue;
            }
            try {
                decoder.reset().decode(java.nio.ByteBuffer.wrap(e));
            } catch (java.nio.charset.CharacterCodingException bad) {
                throw GantryException.invalid("input '" + t.name() + "' element " + i + " is not valid UTF-8;"
                        + " ONNX Runtime's Java API carries BYTES (string) tensors as text, so only UTF-8 reaches"
                        + " the model");
            }
        }
    }

    private static boolean isAscii(byte[] e) {
        for (byte b : e) {
            if (b < 0) {
                return false;
            }
        }
        return true;
    }

    private static String names(ModelSignature s) {
        return s.inputs().stream().map(TensorSpec::name).toList().toString();
    }

    private static String shapeText(long[] shape) {
        return Shapes.describe(shape).replace("-1", "*");
    }
}
