package dev.gantry.store.onnx;

/** An ONNX tensor element type ({@code TensorProto.DataType}) with its code and size in bytes. */
public enum ElemType {
    FLOAT(1, 4),
    UINT8(2, 1),
    INT8(3, 1),
    UINT16(4, 2),
    INT16(5, 2),
    INT32(6, 4),
    INT64(7, 8),
    STRING(8, 0),
    BOOL(9, 1),
    FLOAT16(10, 2),
    DOUBLE(11, 8),
    UINT32(12, 4),
    UINT64(13, 8),
    BFLOAT16(16, 2);

    private final int code;
    private final int byteSize;

    ElemType(int code, int byteSize) {
        this.code = code;
        this.byteSize = byteSize;
    }

    /** The {@code TensorProto.DataType} number. */
    public int code() {
        return code;
    }

    /** Bytes per element in {@code raw_data}; 0 for STRING, which has no fixed size. */
    public int byteSize() {
        return byteSize;
    }
}
