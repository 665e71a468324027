package dev.gantry.core.isolation;

import dev.gantry.core.error.ErrorCode;
import dev.gantry.core.error.GantryException;
import dev.gantry.core.inference.Tensor;
import dev.gantry.core.model.DataType;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The frames between the server and a model's worker process. A request: the requested output names, then the
 * input tensors. A response: status 0 and the output tensors, or status 1, an error code and a message. A tensor:
 * name, datatype, rank, dims, then for BYTES the element count and each element length-prefixed, else the raw
 * little-endian bytes length-prefixed. Both ends are Gantry processes of one build; the worker trusts the server.
 */
final class TensorFrames {
    private TensorFrames() {
    }

    static void writeRequest(DataOutputStream out, List<Tensor> inputs, Set<String> outputs) throws IOException {
        out.writeInt(outputs.size());
        for (String o : outputs) {
            out.writeUTF(o);
        }
        writeTensors(out, inputs);
        out.flush();
    }

    static Set<String> readOutputs(DataInputStream in) throws IOException {
        int n = in.readInt();
        Set<String> outputs = new LinkedHashSet<>();
        for (int i = 0; i < n; i++) {
            outputs.add(in.readUTF());
        }
        return outputs;
    }

    static void writeResult(DataOutputStream out, List<Tensor> outputs) throws IOException {
        out.writeByte(0);
        writeTensors(out, outputs);
        out.flush();
    }

    static void writeError(DataOutputStream out, GantryException e) throws IOException {
        out.writeByte(1);
        out.writeUTF(e.code().name());
        out.writeUTF(String.valueOf(e.getMessage()));
        out.flush();
    }

    /** The outputs, or the worker's error thrown as it was thrown there. */
    static List<Tensor> readResult(DataInputStream in) throws IOException {
        if (in.readByte() == 0) {
            return readTensors(in);
        }
        ErrorCode code = ErrorCode.valueOf(in.readUTF());
        throw new GantryException(code, in.readUTF());
    }

    static void writeTensors(DataOutputStream out, List<Tensor> tensors) throws IOException {
        out.writeInt(tensors.size());
        for (Tensor t : tensors) {
            out.writeUTF(t.name());
            out.writeUTF(t.datatype().name());
            out.writeInt(t.rank());
            for (long d : t.shape()) {
                out.writeLong(d);
            }
            if (t.datatype() == DataType.BYTES) {
                List<byte[]> strings = t.strings();
                out.writeInt(strings.size());
                for (byte[] s : strings) {
                    out.writeInt(s.length);
                    out.write(s);
                }
            } else {
                ByteBuffer data = t.data().duplicate();
                byte[] bytes = new byte[data.remaining()];
                data.get(bytes);
                out.writeInt(bytes.length);
                out.write(bytes);
            }
        }
    }

    static List<Tensor> readTensors(DataInputStream in) throws IOException {
        int n = in.readInt();
        List<Tensor> tensors = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            String name = in.readUTF();
            DataType type = DataType.valueOf(in.readUTF());
            long[] shape = new long[in.readInt()];
            for (int d = 0; d < shape.length; d++) {
                shape[d] = in.readLong();
            }
            if (type == DataType.BYTES) {
                int count = in.readInt();
                List<byte[]> strings = new ArrayList<>(count);
                for (int s = 0; s < count; s++) {
                    byte[] b = new byte[in.readInt()];
                    in.readFully(b);
                    strings.add(b);
                }
                tensors.add(Tensor.ofStrings(name, shape, strings));
            } else {
                byte[] b = new byte[in.readInt()];
                in.readFully(b);
                tensors.add(Tensor.of(name, type, shape, ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN)));
            }
        }
        return tensors;
    }
}
