package dev.gantry.store.artifact;

import dev.gantry.store.artifact.ArtifactException.Reason;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;

/** What an upload is, told by its first bytes rather than by a file name the client chose. */
enum ArtifactKind {
    ONNX,
    TAR_GZ,
    ZIP;

    /*
     * An ONNX file is a protobuf ModelProto, which has no magic number. Writers emit fields in field-number
     * order, so a model starts with the tag of its lowest-numbered field present: 0x08 (ir_version, varint) in
     * practice. The other accepted tags are the remaining ModelProto fields 2-8 and 14 with their wire types, for
     * writers that leave ir_version out. This turns away text, HTML error pages and other archives cheaply;
     * whether the graph is valid is the runtime's question when it loads the version.
     */
    private static final int[] MODEL_PROTO_FIRST_TAGS = {0x08, 0x12, 0x1a, 0x22, 0x28, 0x32, 0x3a, 0x42, 0x72};

    static ArtifactKind detect(Path upload) throws IOException {
        byte[] head = head(upload, 4);
        if (head.length >= 2 && (head[0] & 0xff) == 0x1f && (head[1] & 0xff) == 0x8b) {
            return TAR_GZ;
        }
        if (head.length >= 4 && head[0] == 'P' && head[1] == 'K' && head[2] == 3 && head[3] == 4) {
            return ZIP;
        }
        return ONNX;
    }

    /** Refuses {@code file} unless it starts like an ONNX ModelProto; {@code what} names it in the message. */
    static void checkOnnx(Path file, String what) throws ArtifactException, IOException {
        byte[] head = head(file, 8);
        if (head.length == 0) {
            throw new ArtifactException(Reason.INVALID, what + " is empty");
        }
        int first = head[0] & 0xff;
        for (int tag : MODEL_PROTO_FIRST_TAGS) {
            if (first == tag && head.length >= 2) {
                return;
            }
        }
        throw new ArtifactException(Reason.INVALID, what + " is not an ONNX model: it starts with bytes "
                + HexFormat.ofDelimiter(" ").formatHex(head)
                + ", and an ONNX ModelProto starts with 08 (ir_version); a bundle must be a .tar.gz/.tgz or .zip");
    }

    private static byte[] head(Path file, int count) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            return in.readNBytes(count);
        }
    }
}
