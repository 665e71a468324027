package dev.gantry.http.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.SplittableRandom;

/** Builds OIP request bodies and reads responses in tests. */
public final class Bodies {
    public static final ObjectMapper JSON = new ObjectMapper();

    private Bodies() {
    }

    public static JsonNode parse(String json) {
        try {
            return JSON.readTree(json);
        } catch (Exception e) {
            throw new AssertionError("not JSON: " + json, e);
        }
    }

    public static float[] randomFloats(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] f = new float[n];
        for (int i = 0; i < n; i++) {
            f[i] = (float) (r.nextDouble() * 2 - 1);
        }
        return f;
    }

    /** {"inputs":[{"name":..,"shape":..,"datatype":"FP32","data":[..]}]} with optional extra top-level JSON. */
    public static String fp32Request(String input, long[] shape, float[] data, String extra) {
        StringBuilder sb = new StringBuilder("{");
        if (extra != null && !extra.isEmpty()) {
            sb.append(extra).append(',');
        }
        sb.append("\"inputs\":[{\"name\":\"").append(input).append("\",\"shape\":")
                .append(Arrays.toString(shape)).append(",\"datatype\":\"FP32\",\"data\":[");
        for (int i = 0; i < data.length; i++) {
            if (i > 0) {
                sb.append(',');
            }
            sb.append(data[i]);
        }
        return sb.append("]}]}").toString();
    }

    /** A binary-extension body: JSON header then raw little-endian floats; returns header length via out[0]. */
    public static byte[] fp32Binary(String input, long[] shape, float[] data, String outputsJson, long[] headerLen) {
        String header = "{\"inputs\":[{\"name\":\"" + input + "\",\"shape\":" + Arrays.toString(shape)
                + ",\"datatype\":\"FP32\",\"parameters\":{\"binary_data_size\":" + (data.length * 4) + "}}]"
                + (outputsJson == null ? "" : "," + outputsJson) + "}";
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(data.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : data) {
            b.putFloat(f);
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(h);
        out.writeBytes(b.array());
        headerLen[0] = h.length;
        return out.toByteArray();
    }

    public static float[] floats(JsonNode data) {
        float[] f = new float[data.size()];
        for (int i = 0; i < f.length; i++) {
            f[i] = data.get(i).floatValue();
        }
        return f;
    }

    public static float[] floatsLE(byte[] bytes, int offset, int count) {
        ByteBuffer b = ByteBuffer.wrap(bytes, offset, count * 4).order(ByteOrder.LITTLE_ENDIAN);
        float[] f = new float[count];
        for (int i = 0; i < count; i++) {
            f[i] = b.getFloat();
        }
        return f;
    }
}
