package dev.gantry.core.engine;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.TensorInfo;
import dev.gantry.core.error.ErrorCode;
import dev.gantry.core.error.GantryException;
import dev.gantry.core.inference.Tensor;
import dev.gantry.core.model.DataType;

import java.lang.reflect.Array;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** Converts between Gantry tensors (raw little-endian bytes) and ONNX Runtime tensors. */
final class OrtTensors {
    private OrtTensors() {
    }

    static OnnxTensor toOrt(OrtEnvironment env, Tensor t) throws OrtException {
        OnnxJavaType javaType = OrtTypes.inputJavaType(t.datatype()).orElseThrow(() -> new GantryException(
                ErrorCode.UNSUPPORTED, "input '" + t.name() + "' is " + t.datatype()
                        + ": ONNX Runtime's Java API cannot create " + t.datatype() + " tensors"));
        if (t.datatype() == DataType.BYTES) {
            return OnnxTensor.createTensor(env, decodeUtf8(t), t.shape());
        }
        ByteBuffer src = t.data();
        ByteBuffer direct;
        if (src.isDirect() && ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN) {
            direct = src;
        } else {
            direct = ByteBuffer.allocateDirect(src.remaining()).order(ByteOrder.nativeOrder());
            direct.put(src).flip();
        }
        return OnnxTensor.createTensor(env, direct, t.shape(), javaType);
    }

    private static String[] decodeUtf8(Tensor t) {
        List<byte[]> elements = t.strings();
        String[] out = new String[elements.size()];
        var decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        for (int i = 0; i < out.length; i++) {
            try {
                CharBuffer chars = decoder.decode(ByteBuffer.wrap(elements.get(i)));
                out[i] = chars.toString();
            } catch (CharacterCodingException e) {
                throw GantryException.invalid("input '" + t.name() + "' element " + i
                        + " is not valid UTF-8; ONNX Runtime carries string tensors as UTF-8 text");
            }
        }
        return out;
    }

    static Tensor fromOrt(String name, OnnxTensor value) throws OrtException {
        TensorInfo info = value.getInfo();
        long[] shape = info.getShape();
        DataType type = OrtTypes.toDataType(info.onnxType).orElseThrow(() -> new GantryException(
                ErrorCode.UNSUPPORTED, "output '" + name + "' has element type " + OrtTypes.onnxName(info.onnxType)
                        + ", which Gantry cannot return"));
        if (type == DataType.BYTES) {
            List<byte[]> elements = new ArrayList<>();
            flattenStrings(value.getValue(), elements);
            return Tensor.ofStrings(name, shape, elements);
        }
        if (info.type == OnnxJavaType.UNKNOWN) {
            throw new GantryException(ErrorCode.UNSUPPORTED, "output '" + name + "' is " + type
                    + ", which ONNX Runtime's Java API cannot read");
        }
        ByteBuffer bytes = value.getByteBuffer();
        if (bytes.order() != ByteOrder.LITTLE_ENDIAN && type.byteSize() > 1) {
            bytes = swapToLittleEndian(bytes, type.byteSize());
        }
        return Tensor.of(name, type, shape, bytes);
    }

    private static void flattenStrings(Object value, List<byte[]> out) {
        if (value instanceof String s) {
            out.add(s.getBytes(StandardCharsets.UTF_8));
        } else if (value != null && value.getClass().isArray()) {
            int n = Array.getLength(value);
            for (int i = 0; i < n; i++) {
                flattenStrings(Array.get(value, i), out);
            }
        }
    }

    private static ByteBuffer swapToLittleEndian(ByteBuffer src, int width) {
        ByteBuffer dst = ByteBuffer.allocate(src.remaining()).order(ByteOrder.LITTLE_ENDIAN);
        byte[] element = new byte[width];
        while (src.remaining() >= width) {
            src.get(element);
            for (int i = width - 1; i >= 0; i--) {
                dst.put(element[i]);
            }
        }
        return dst.flip();
    }
}
