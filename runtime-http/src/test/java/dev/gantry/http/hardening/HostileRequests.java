package dev.gantry.http.hardening;

import dev.gantry.http.fixtures.MalformedRequests;
import dev.gantry.http.testing.Bodies;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.GZIPOutputStream;

/**
 * Generates malformed and hostile HTTP requests for the Gantry test models, byte for byte: from valid templates
 * by mutation and by construction. Request {@code i} of seed {@code s} depends on {@code (s, i)} alone, so any
 * one of them can be replayed.
 */
final class HostileRequests {
    /** One generated request: what it is, its bytes, and whether it is malformed at the HTTP/1.1 level. */
    /**
     * One generated request.
     *
     * @param expect the status class its answer must have when the test can know it: "401" (no usable credential),
     *     "403" (a key that may not use the route or model), "authorized" (neither 401 nor 403); empty when the
     *     outcome depends on what the mutation did to the request
     */
    record Hostile(int index, String category, String summary, byte[] bytes, boolean httpMalformed, String expect) {
        @Override
        public String toString() {
            return "#" + index + " [" + category + "] " + summary;
        }
    }

    private static final String[] CATEGORIES = {"body", "corpus", "headers", "paths", "encodings", "binary",
            "dimensions", "auth", "raw"};
    private static final int[] WEIGHTS = {28, 12, 13, 8, 7, 10, 8, 9, 5};
    private static final Pattern NUMBER = Pattern.compile("-?\\d+(\\.\\d+)?([eE][-+]?\\d+)?");
    private static final String[] HOSTILE_NUMBERS = {"1e999999", "-1e400", "1e-400", "123456789012345678901234567890123",
            "9223372036854775808", "-9223372036854775809", "NaN", "-NaN", "Infinity", "-Infinity", "\"NaN\"",
            "\"Infinity\"", "\"-Infinity\"", "0x1F", "1.", ".5", "-", "+1", "01", "1e", "1E+", "-0", "1_000", "true",
            "null", "\"1\"", "[]", "{}", "1".repeat(5000), "4.9e-324", "1.7976931348623157e309", "18446744073709551616"};
    private static final String[] HOSTILE_VALUES = {"null", "true", "false", "\"FP32\"", "\"\"", "[]", "{}", "[[]]",
            "[null]", "-1", "[-1]", "[-1,-1]", "[1.5]", "[\"1\"]", "[true]", "1e999", "\"x\"", "0", "[0]",
            "[" + "1,".repeat(70) + "1]", "{\"binary_data_size\":-1}", "\"BYTES\"", "\"INT64\"", "\"fp32\"",
            "\"FP33\"", "[{}]", "\"" + "a".repeat(10_000) + "\"", "[1e999]", "[\"NaN\"]", "{\"inputs\":[]}"};
    private static final String[] KEYS = {"shape", "datatype", "data", "name", "inputs", "parameters", "outputs",
            "id", "binary_data_size", "binary_data_output", "binary_data"};
    private static final String[] WHOLE_BODIES = {"", "null", "[]", "{}", "\"str\"", "1", "{\"inputs\":null}",
            "{\"inputs\":{}}", "{\"inputs\":[]}", "{\"inputs\":[null]}", "{\"inputs\":[1]}", "{\"inputs\":[{}]}",
            "{\"inputs\":\"features\"}", "{\"outputs\":[]}", "{\"inputs\":[{\"name\":null}]}", " ", "\n\n\n",
            "{\"inputs\":[{\"name\":\"features\"}]}", "{\"inputs\":[],\"inputs\":[]}", "\u0000", "{\"\u0000\":1}"};

    private final String invokeToken;
    private final String adminToken;
    private final String scopedToken;
    private final List<MalformedRequests.MalformedRequest> corpus = MalformedRequests.corpus();

    HostileRequests(String invokeToken, String adminToken, String scopedToken) {
        this.scopedToken = scopedToken;
        this.invokeToken = invokeToken;
        this.adminToken = adminToken;
    }

    /** Request {@code index} of the run seeded with {@code seed}. */
    Hostile generate(long seed, int index) {
        SplittableRandom r = new SplittableRandom(seed ^ (0x9E3779B97F4A7C15L * (index + 1)));
        int pick = r.nextInt(Arrays.stream(WEIGHTS).sum());
        int c = 0;
        while (pick >= WEIGHTS[c]) {
            pick -= WEIGHTS[c++];
        }
        Req q = switch (CATEGORIES[c]) {
            case "body" -> mutatedBody(r);
            case "corpus" -> corpusSeed(r);
            case "headers" -> headers(r);
            case "paths" -> paths(r);
            case "encodings" -> encodings(r);
            case "binary" -> binary(r);
            case "dimensions" -> dimensions(r);
            case "auth" -> auth(r);
            default -> raw(r);
        };
        return new Hostile(index, CATEGORIES[c], q.summary, q.bytes(), q.httpMalformed, q.expect);
    }

    // ---------------------------------------------------------------- request bytes

    private static final class Req {
        String method = "POST";
        String target;
        String version = "HTTP/1.1";
        final List<String[]> headers = new ArrayList<>();
        List<byte[]> rawHeaderLines = new ArrayList<>();
        byte[] body = new byte[0];
        boolean autoLength = true;
        byte[] raw;
        String summary;
        boolean httpMalformed;
        String expect = "";

        Req(String target, String summary) {
            this.target = target;
            this.summary = summary;
        }

        Req header(String name, String value) {
            headers.add(new String[] {name, value});
            return this;
        }

        boolean has(String name) {
            return headers.stream().anyMatch(h -> h[0].equalsIgnoreCase(name));
        }

        void remove(String name) {
            headers.removeIf(h -> h[0].equalsIgnoreCase(name));
        }

        byte[] bytes() {
            if (raw != null) {
                return raw;
            }
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            out.writeBytes((method + " " + target + " " + version + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
            if (!has("Host")) {
                out.writeBytes("Host: 127.0.0.1\r\n".getBytes(StandardCharsets.ISO_8859_1));
            }
            for (String[] h : headers) {
                out.writeBytes((h[0] + ": " + h[1] + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
            }
            for (byte[] line : rawHeaderLines) {
                out.writeBytes(line);
            }
            if (autoLength && !has("Content-Length") && !has("Transfer-Encoding")) {
                out.writeBytes(("Content-Length: " + body.length + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
            }
            out.writeBytes("Connection: close\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
            out.writeBytes(body);
            return out.toByteArray();
        }
    }

    private static String infer(String model) {
        return "/v2/models/" + model + "/infer";
    }

    /** A valid request (a template) for one of the test models, authorized with a key most of the time. */
    private Req template(SplittableRandom r, String summary) {
        int rows = 1 + r.nextInt(3);
        String model;
        String body;
        switch (r.nextInt(5)) {
            case 0, 1 -> {
                model = MalformedRequests.MLP;
                body = Bodies.fp32Request("features", new long[] {rows, 64}, Bodies.randomFloats(rows * 64,
                        r.nextLong()), r.nextBoolean() ? "\"id\":\"fuzz\"" : null);
            }
            case 2 -> {
                model = MalformedRequests.ADD;
                float[] a = Bodies.randomFloats(rows * 4, r.nextLong());
                body = "{\"inputs\":[" + input("a", "FP32", rows + ",4", floats(a)) + ","
                        + input("b", "FP32", rows + ",4", floats(a)) + "]"
                        + (r.nextBoolean() ? ",\"outputs\":[{\"name\":\"sum\",\"parameters\":{\"binary_data\":"
                        + r.nextBoolean() + "}}]" : "") + "}";
            }
            case 3 -> {
                model = MalformedRequests.STRINGS;
                body = "{\"inputs\":[" + input("input", "BYTES", "1,2", "[\"ab\",\"c\\u00e9\"]") + "]}";
            }
            default -> {
                model = MalformedRequests.INT64;
                body = "{\"inputs\":[" + input("input", "INT64", "1,3", "[1,-2," + r.nextLong() + "]") + "],"
                        + "\"parameters\":{\"binary_data_output\":" + r.nextBoolean() + "}}";
            }
        }
        Req q = new Req(infer(model), model + " " + summary);
        q.body = body.getBytes(StandardCharsets.UTF_8);
        q.header("Content-Type", "application/json");
        authorize(q, r);
        return q;
    }

    private void authorize(Req q, SplittableRandom r) {
        int p = r.nextInt(10);
        if (p < 8) {
            q.header("Authorization", "Bearer " + invokeToken);
        } else if (p == 8) {
            q.header("Authorization", "Bearer " + adminToken);
        } else {
            q.summary += " (no key)";
        }
    }

    private static String input(String name, String datatype, String shape, String data) {
        return "{\"name\":\"" + name + "\",\"shape\":[" + shape + "],\"datatype\":\"" + datatype + "\",\"data\":"
                + data + "}";
    }

    private static String floats(float[] f) {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < f.length; i++) {
            sb.append(i == 0 ? "" : ",").append(f[i]);
        }
        return sb.append(']').toString();
    }

    // ---------------------------------------------------------------- categories

    private Req mutatedBody(SplittableRandom r) {
        Req q = template(r, "body");
        int n = r.nextInt(4) == 0 ? 2 + r.nextInt(3) : 1;
        StringBuilder what = new StringBuilder();
        for (int i = 0; i < n; i++) {
            q.body = mutate(q.body, r, what);
        }
        q.summary += what;
        return q;
    }

    private Req corpusSeed(SplittableRandom r) {
        MalformedRequests.MalformedRequest m = corpus.get(r.nextInt(corpus.size()));
        Req q = new Req(infer(m.model()), "corpus '" + m.description() + "'");
        q.body = m.body();
        if (m.contentType() != null) {
            q.header("Content-Type", m.contentType());
        }
        m.headers().forEach(q::header);
        authorize(q, r);
        if (r.nextInt(3) == 0) {
            StringBuilder what = new StringBuilder();
            q.body = mutate(q.body, r, what);
            q.summary += what;
        }
        return q;
    }

    private Req headers(SplittableRandom r) {
        Req q = template(r, "headers");
        int len = q.body.length;
        switch (r.nextInt(8)) {
            case 0 -> {
                q.remove("Content-Type");
                String[] types = {null, "application/json; charset=utf-16", "text/plain", "application/octet-stream",
                        "application/vnd.sagemaker-triton.binary+json", "APPLICATION/JSON", "application/json;;;",
                        "; charset=utf-8", "*/*", "", "application/json\t", "application/json, text/plain",
                        "multipart/form-data; boundary=x", "application/x-www-form-urlencoded",
                        "application/json; charset=\"" + "x".repeat(2000) + "\"", "x".repeat(12_000),
                        "y".repeat(20_000), garbage(r, 1 + r.nextInt(200)), "\u0000application/json"};
                String t = types[r.nextInt(types.length)];
                if (t != null) {
                    q.header("Content-Type", t);
                }
                if (r.nextInt(4) == 0) {
                    q.header("Content-Type", r.nextBoolean() ? "application/json" : "text/html");
                }
                q.summary += " Content-Type " + (t == null ? "missing" : "'" + RawHttp.printable(t) + "'")
                        + (q.headers.stream().filter(h -> h[0].equals("Content-Type")).count() > 1 ? " twice" : "");
                q.httpMalformed = t != null && (t.length() > 10_000 || t.indexOf('\u0000') >= 0);
            }
            case 1, 2 -> {
                String[] lengths = {"-1", "-0", "+5", "99999999999999999999", "9223372036854775807",
                        "9223372036854775808", "1e3", "abc", "", " " + len, "0x10", len + ", " + len, len + ",0",
                        "0", Integer.toString(Math.max(0, len - 1 - r.nextInt(Math.max(1, len)))),
                        Integer.toString(len + 1 + r.nextInt(50)), Long.toString((8L << 20) + 1), "2147483648",
                        "4294967296", len + " " + len, "١٢"};
                String v = lengths[r.nextInt(lengths.length)];
                q.header("Content-Length", v);
                if (r.nextInt(5) == 0) {
                    q.header("Content-Length", Integer.toString(r.nextBoolean() ? len : len + 7));
                }
                if (r.nextInt(8) == 0) {
                    q.header("Transfer-Encoding", "chunked");
                }
                q.summary += " Content-Length " + q.headers.stream().filter(h -> h[0].startsWith("Content-Len")
                        || h[0].startsWith("Transfer")).map(h -> h[0] + "='" + RawHttp.printable(h[1]) + "'").toList()
                        + " body " + len;
                q.httpMalformed = true;
            }
            case 3, 4 -> {
                String[] lies = {"-1", Integer.toString(len + 1 + r.nextInt(1000)), "abc", "0", "",
                        "99999999999999999999", "1.5", Integer.toString(len / 2), Integer.toString(len),
                        "9223372036854775807", "-9223372036854775808", " 12 ", "0x20", Integer.toString(r.nextInt(64))};
                String v = lies[r.nextInt(lies.length)];
                q.header(MalformedRequests.HEADER_LENGTH, v);
                if (r.nextInt(5) == 0) {
                    q.header(MalformedRequests.HEADER_LENGTH, Integer.toString(len));
                }
                if (r.nextBoolean()) {
                    q.remove("Content-Type");
                    q.header("Content-Type", "application/octet-stream");
                }
                q.summary += " Inference-Header-Content-Length '" + v + "' body " + len;
            }
            case 5 -> {
                int count = 50 + r.nextInt(1500);
                for (int i = 0; i < count; i++) {
                    q.header("X-Fuzz-" + i, Long.toHexString(r.nextLong()));
                }
                q.summary += " " + count + " extra headers";
                q.httpMalformed = count * 28 > 16_000;
            }
            case 6 -> {
                String[][] odd = {{"Expect", "100-continue"}, {"Expect", "garbage"}, {"Connection", "Upgrade, HTTP2-Settings"},
                        {"Upgrade", "h2c"}, {"Upgrade", "websocket"}, {"Host", ""}, {"Host", "a b c"},
                        {"Host", garbage(r, 50)}, {"Content-Encoding", "identity"}, {"Accept-Encoding", "gzip"},
                        {"Connection", garbage(r, 30)}, {"Keep-Alive", "timeout=-1"}, {"Trailer", "Content-Length"},
                        {"X-Forwarded-For", "127.0.0.1, " + "9".repeat(5000)}, {"Cookie", "a=" + "b".repeat(8000)}};
                String[] h = odd[r.nextInt(odd.length)];
                q.header(h[0], h[1]);
                if (h[0].equals("Upgrade") || h[0].equals("Connection")) {
                    q.header("HTTP2-Settings", "AAMAAABkAAQAAP__");
                }
                q.summary += " " + h[0] + ": '" + RawHttp.printable(h[1]) + "'";
                q.httpMalformed = h[0].equals("Host") || h[1].indexOf('\u0000') >= 0;
            }
            default -> {
                String name = new String[] {"Content-Type", "Authorization", "X-Huge", "Inference-Header-Content-Length",
                        "Accept"}[r.nextInt(5)];
                int size = new int[] {8_000, 15_000, 16_500, 40_000, 200_000}[r.nextInt(5)];
                q.remove(name);
                q.header(name, "a".repeat(size));
                q.summary += " " + name + " of " + size + " bytes";
                q.httpMalformed = size > 15_000;
            }
        }
        return q;
    }

    private Req paths(SplittableRandom r) {
        Req q = template(r, "paths");
        String model = q.target.split("/")[3];
        String[] targets = {"/v2/models/nosuchmodel/infer", "/v2/models/../models/" + model + "/infer",
                "/v2/models/%2e%2e/infer", "/v2/models/%2e%2e%2f%2e%2e%2fetc%2fpasswd/infer",
                "/v2/models/..%2f..%2f/infer", "/v2/models/%zz/infer", "/v2/models/%/infer", "/v2/models/%00/infer",
                "/v2/models/%ff%fe/infer", "/v2/models/" + model + "%00/infer", "/v2/models/" + "m".repeat(5000) + "/infer",
                "/v2/models/" + "m".repeat(9000) + "/infer", "/v2/models/" + model + "/versions/-1/infer",
                "/v2/models/" + model + "/versions/0/infer", "/v2/models/" + model + "/versions/1e9/infer",
                "/v2/models/" + model + "/versions/99999999999999999999/infer",
                "/v2/models/" + model + "/versions/9223372036854775807/infer",
                "/v2/models/" + model + "/versions/1.0/infer", "/v2/models/" + model + "/versions/%20/infer",
                "/v2/models/" + model + "/versions//infer", "/v2/models/" + model + "/versions/2/infer",
                "/v2/models/" + model + "/versions/0x1/infer", "/v2/models/" + model + "/versions/+1/infer",
                "/v2/models/" + model + "/versions/%31/infer", "//v2/models/" + model + "/infer",
                "/v2/models/" + model + "/infer?x=%%&y", "/v2/models/" + model + "/infer#frag",
                "http://127.0.0.1/v2/models/" + model + "/infer", "*", "/v2/models//infer", "/v2/models/ /infer",
                "/v2/models/" + model + "/infer/", "/v2/models/" + model + "/./infer", "/v2/models/" + model + "/../infer",
                "/v2/models/" + model + "/INFER", "/V2/models/" + model + "/infer", "/v2/models/" + model,
                "/v2/models/" + model + "/ready", "/v2/models/" + model + "/versions/-1", "/v2/health/live/../../x",
                "/metrics", "/v2", "/admin/v1/keys", "/admin/v1/keys/../keys", "/admin/v1/keys/%00/rotate",
                "/admin/v1/keys/000000000000/revoke", "/v2/models/" + model + "/infer;jsessionid=1",
                "/v2/models/\u00e9/infer", "/v2/models/" + "%41".repeat(600) + "/infer",
                "/v2/models/" + model + "/versions/1/infer?" + "q".repeat(3000)};
        q.target = targets[r.nextInt(targets.length)];
        if (r.nextInt(4) == 0) {
            String[] methods = {"GET", "PUT", "DELETE", "OPTIONS", "TRACE", "PATCH", "HEAD", "FOO", "post", "CONNECT"};
            q.method = methods[r.nextInt(methods.length)];
        }
        if (q.target.startsWith("/admin/v1/keys") && q.method.equals("POST") && r.nextBoolean()) {
            q.body = ("{\"name\":\"fuzz-" + Long.toHexString(r.nextLong()) + "\",\"roles\":[\"invoke\"]}")
                    .getBytes(StandardCharsets.UTF_8);
        }
        q.summary += " " + q.method + " " + RawHttp.printable(q.target);
        q.httpMalformed = q.target.length() > 8000 || q.method.equals("CONNECT") || q.target.indexOf(' ') >= 0
                || q.target.indexOf('\u00e9') >= 0;
        return q;
    }

    private Req encodings(SplittableRandom r) {
        Req q = template(r, "encodings");
        byte[] body = q.body;
        if (r.nextInt(3) == 0) {
            String enc = new String[] {"gzip", "deflate", "br", "gzip, gzip", "compress", garbage(r, 10)}[r.nextInt(6)];
            q.header("Content-Encoding", enc);
            int kind = r.nextInt(3);
            q.body = kind == 0 ? gzip(body) : kind == 1 ? randomBytes(r, 1 + r.nextInt(500))
                    : Arrays.copyOf(gzip(body), 1 + r.nextInt(gzip(body).length));
            q.summary += " Content-Encoding '" + RawHttp.printable(enc) + "' " + new String[] {"gzip of the body",
                    "random bytes", "truncated gzip"}[kind];
            q.httpMalformed = enc.indexOf('\u0000') >= 0;
            return q;
        }
        String te = new String[] {"chunked", "chunked", "chunked", "gzip, chunked", "chunked, gzip", "identity",
                "xchunked", "Chunked", "chunked, chunked", " chunked"}[r.nextInt(10)];
        q.header("Transfer-Encoding", te);
        if (r.nextInt(6) == 0) {
            q.header("Content-Length", Integer.toString(body.length));
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int flaw = r.nextInt(12);
        String[] flaws = {"valid chunks", "size 'zz'", "size -1", "size FFFFFFFFFFFFFFFFFF", "size larger than data",
                "no final chunk", "extension garbage", "size 0x10", "no CRLF after data", "trailer garbage",
                "size with spaces", "huge size 7FFFFFFF"};
        int pos = 0;
        boolean first = true;
        while (pos < body.length) {
            int n = Math.min(body.length - pos, 1 + r.nextInt(400));
            String size = Integer.toHexString(n);
            if (first) {
                size = switch (flaw) {
                    case 1 -> "zz";
                    case 2 -> "-1";
                    case 3 -> "FFFFFFFFFFFFFFFFFF";
                    case 4 -> Integer.toHexString(n + 100);
                    case 6 -> size + ";" + garbage(r, 20).replace("\r", "").replace("\n", "");
                    case 7 -> "0x" + size;
                    case 10 -> " " + size + " ";
                    case 11 -> "7FFFFFFF";
                    default -> size;
                };
            }
            out.writeBytes((size + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
            out.write(body, pos, n);
            if (!(first && flaw == 8)) {
                out.writeBytes("\r\n".getBytes(StandardCharsets.ISO_8859_1));
            }
            first = false;
            pos += n;
        }
        if (flaw != 5) {
            out.writeBytes((flaw == 9 ? "0\r\nX-T: " + garbage(r, 10).replace("\r\n", "") + "\r\nbad\r\n\r\n"
                    : "0\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
        }
        q.body = out.toByteArray();
        q.summary += " Transfer-Encoding '" + te + "' " + flaws[flaw] + (q.has("Content-Length") ? " plus Content-Length" : "");
        q.httpMalformed = true;
        return q;
    }

    private Req binary(SplittableRandom r) {
        int rows = 1 + r.nextInt(2);
        Req q;
        String header;
        byte[] blob;
        int kind = r.nextInt(3);
        if (kind == 0) {
            float[] f = Bodies.randomFloats(rows * 64, r.nextLong());
            blob = le(f);
            q = new Req(infer(MalformedRequests.MLP), "mlp binary");
            header = "{\"inputs\":[{\"name\":\"features\",\"shape\":[" + rows + ",64],\"datatype\":\"FP32\","
                    + "\"parameters\":{\"binary_data_size\":%SIZE%}}]%OUT%}";
        } else if (kind == 1) {
            float[] f = Bodies.randomFloats(rows * 4, r.nextLong());
            blob = concat(le(f), le(f));
            q = new Req(infer(MalformedRequests.ADD), "add_fp32 binary");
            header = "{\"inputs\":[{\"name\":\"a\",\"shape\":[" + rows + ",4],\"datatype\":\"FP32\","
                    + "\"parameters\":{\"binary_data_size\":" + (rows * 16) + "}},{\"name\":\"b\",\"shape\":[" + rows
                    + ",4],\"datatype\":\"FP32\",\"parameters\":{\"binary_data_size\":%SIZE%}}]%OUT%}";
            blob = Arrays.copyOf(blob, blob.length);
        } else {
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            String[] strings = {"ab", "", "hello"};
            int lie = r.nextInt(6);
            for (int i = 0; i < strings.length; i++) {
                byte[] s = strings[i].getBytes(StandardCharsets.UTF_8);
                int prefix = i == 1 ? switch (lie) {
                    case 0 -> 0xFFFFFFFF;
                    case 1 -> 0x7FFFFFFF;
                    case 2 -> s.length + 1 + r.nextInt(100);
                    case 3 -> 1_000_000;
                    default -> s.length;
                } : s.length;
                b.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(prefix).array());
                b.writeBytes(s);
            }
            blob = b.toByteArray();
            if (lie == 4) {
                blob = Arrays.copyOf(blob, blob.length - 2); // a length prefix cut short
            }
            q = new Req(infer(MalformedRequests.STRINGS), "identity_string binary BYTES prefix " + new String[] {
                    "0xFFFFFFFF", "0x7FFFFFFF", "overrunning", "1000000", "truncated", "valid"}[lie]);
            header = "{\"inputs\":[{\"name\":\"input\",\"shape\":[1,3],\"datatype\":\"BYTES\","
                    + "\"parameters\":{\"binary_data_size\":%SIZE%}}]%OUT%}";
        }
        int own = kind == 1 ? blob.length / 2 : blob.length;
        String[] sizes = {Integer.toString(own), Integer.toString(own + 1 + r.nextInt(1000)),
                Integer.toString(Math.max(0, own - 1 - r.nextInt(Math.max(1, own)))), "-1", "0", "\"abc\"", "1e20",
                "9223372036854775807", "-9223372036854775808", "1.5", "null", "[4]", Integer.toString(own) + ",\"binary_data_size\":4"};
        String size = sizes[r.nextInt(sizes.length)];
        String out = r.nextBoolean() ? "" : ",\"parameters\":{\"binary_data_output\":" + r.nextBoolean() + "}";
        byte[] h = header.replace("%SIZE%", size).replace("%OUT%", out).getBytes(StandardCharsets.UTF_8);
        byte[] body = concat(h, blob);
        int cut = r.nextInt(4);
        if (cut == 0) {
            body = Arrays.copyOf(body, h.length + r.nextInt(blob.length + 1));
        } else if (cut == 1) {
            body = concat(body, randomBytes(r, 1 + r.nextInt(64)));
        }
        q.body = body;
        String[] ihcl = {Integer.toString(h.length), Integer.toString(h.length), Integer.toString(h.length),
                "-1", Integer.toString(body.length + 1 + r.nextInt(100)), "abc", "0", Integer.toString(h.length / 2),
                Integer.toString(h.length + 3), Integer.toString(body.length)};
        String hl = ihcl[r.nextInt(ihcl.length)];
        q.header(MalformedRequests.HEADER_LENGTH, hl);
        q.header("Content-Type", r.nextBoolean() ? "application/octet-stream" : "application/json");
        authorize(q, r);
        q.summary += " binary_data_size " + size + (cut == 0 ? " blob truncated" : cut == 1 ? " extra bytes" : "")
                + " header length " + hl + " of body " + body.length;
        return q;
    }

    private Req dimensions(SplittableRandom r) {
        String[] shapes = {"1000000000000", "1000000000000,64", "-1", "-1,64", "4611686018427387904,4611686018427387904",
                "2147483648,64", "0,64", "9223372036854775807,64", "1,-64", "3037000500,3037000500", "65536,65536,65536",
                String.join(",", java.util.Collections.nCopies(64, "2")), "", "1,64,1", "1.0,64", "1e12,64",
                "99999999999999999999,64", "-9223372036854775808,64", "262144,64", "16777217,4", "1,4611686018427387904",
                "2,4,0", "0", "1,0"};
        String shape = shapes[r.nextInt(shapes.length)];
        int model = r.nextInt(4);
        String name = MalformedRequests.MODELS.get(model);
        String datatype = new String[] {"FP32", "FP32", "BYTES", "INT64"}[model];
        String[] inputs = model == 1 ? new String[] {"a", "b"} : new String[] {model == 0 ? "features" : "input"};
        String data = model == 2 ? "[\"x\"]" : r.nextBoolean() ? "[]" : "[1,2,3,4]";
        boolean binary = r.nextInt(3) == 0;
        StringBuilder body = new StringBuilder("{\"inputs\":[");
        for (int i = 0; i < inputs.length; i++) {
            body.append(i == 0 ? "" : ",").append("{\"name\":\"").append(inputs[i]).append("\",\"shape\":[")
                    .append(shape).append("],\"datatype\":\"").append(datatype).append('"');
            body.append(binary ? ",\"parameters\":{\"binary_data_size\":16}}" : ",\"data\":" + data + "}");
        }
        body.append("]}");
        Req q = new Req(infer(name), name + " dimensions [" + (shape.length() > 60 ? shape.substring(0, 60) + "..." : shape)
                + "]" + (binary ? " binary" : " data " + data));
        byte[] h = body.toString().getBytes(StandardCharsets.UTF_8);
        if (binary) {
            q.body = concat(h, new byte[16 * inputs.length]);
            q.header(MalformedRequests.HEADER_LENGTH, Integer.toString(h.length));
            q.header("Content-Type", "application/octet-stream");
        } else {
            q.body = h;
            q.header("Content-Type", "application/json");
        }
        q.header("Authorization", "Bearer " + (r.nextBoolean() ? invokeToken : adminToken));
        return q;
    }

    private Req auth(SplittableRandom r) {
        Req q = template(r, "auth");
        q.remove("Authorization");
        q.summary = q.summary.replace(" (no key)", "");
        String token = r.nextBoolean() ? invokeToken : adminToken;
        char[] flipped = token.toCharArray();
        flipped[8 + r.nextInt(flipped.length - 8)] ^= 1;
        String[] values = {null, "", "Bearer", "Bearer ", "Bearer " + base64(r, 1 + r.nextInt(100)),
                "Basic " + Base64.getEncoder().encodeToString("admin:admin".getBytes(StandardCharsets.UTF_8)),
                "Basic " + base64(r, 30), garbage(r, 1 + r.nextInt(100)), "Bearer " + "A".repeat(8_000),
                "Bearer " + "A".repeat(20_000), "Bearer gantry_" + hex(r, 12) + "_" + base64(r, 32),
                "Bearer gantry_" + token.substring(7, 19) + "_" + base64(r, 32), "Bearer " + new String(flipped),
                "Bearer " + token + " extra", "bearer    " + token, "BEARER " + token, "Bearer\t" + token,
                "Digest username=\"x\"", "Bearer " + token.substring(0, token.length() - 1),
                "Bearer gantry_", "Bearer gantry__", "Bearer gantry_zzzzzzzzzzzz_x", "Bearer \u00e9\u00e8",
                "Bearer " + token + "\u0000", "Token " + token, token};
        String v = values[r.nextInt(values.length)];
        if (v != null) {
            q.header("Authorization", v);
        }
        if (r.nextInt(8) == 0) {
            q.header("Authorization", "Bearer " + (r.nextBoolean() ? token : base64(r, 20)));
        }
        int route = r.nextInt(10);
        if (route == 0) {
            q.method = "GET";
            q.target = new String[] {"/v2/models/mlp", "/v2/models/mlp/ready", "/v2/health/ready", "/metrics",
                    "/admin/v1/keys", "/v2"}[r.nextInt(6)];
            q.body = new byte[0];
        } else if (route == 1) {
            q.target = "/admin/v1/keys";
            q.body = (r.nextBoolean() ? "{\"name\":\"fuzz-" + Long.toHexString(r.nextLong()) + "\",\"roles\":[\""
                    + new String[] {"invoke", "admin", "root", ""}[r.nextInt(4)] + "\"]}" : "{\"name\":")
                    .getBytes(StandardCharsets.UTF_8);
        }
        q.summary += " " + q.method + " " + q.target + " Authorization " + (v == null ? "missing"
                : "'" + RawHttp.printable(v.replace(invokeToken, "<invoke key>").replace(adminToken, "<admin key>")) + "'")
                + (q.headers.stream().filter(h -> h[0].equals("Authorization")).count() > 1 ? " twice" : "");
        // Control characters in a header value make the request malformed HTTP (the codec refuses it with 400).
        q.httpMalformed = v != null && (v.length() > 15_000
                || v.chars().anyMatch(ch -> (ch < 0x20 && ch != '\t') || ch == 0x7f));
        String first = v != null ? v : q.headers.stream().filter(h -> h[0].equals("Authorization")).map(h -> h[1])
                .findFirst().orElse(null);
        boolean open = q.target.equals("/v2/health/ready") || q.target.equals("/metrics") || q.target.equals("/v2");
        boolean credential = first != null && first.matches("(?i)bearer\\s+" + java.util.regex.Pattern.quote(token));
        if (open) {
            q.expect = "authorized";
        } else if (!credential) {
            q.expect = "401";
        } else if (q.target.equals("/admin/v1/keys") && token.equals(invokeToken)) {
            q.expect = "403";
        } else {
            q.expect = "authorized";
        }
        if (!q.httpMalformed && r.nextInt(4) == 0 && !open && !q.target.equals("/admin/v1/keys")
                && !q.target.contains("/add_fp32")) {
            // A valid key limited to another model: 403 naming the model, whatever the body.
            q.remove("Authorization");
            q.header("Authorization", "Bearer " + scopedToken);
            q.summary += " (key limited to add_fp32)";
            q.expect = "403";
        }
        return q;
    }

    private Req raw(SplittableRandom r) {
        Req valid = template(r, "raw");
        byte[] full = valid.bytes();
        Req q = new Req(valid.target, "raw");
        q.httpMalformed = true;
        String t = valid.target;
        String auth = "Authorization: Bearer " + invokeToken + "\r\n";
        String[] heads = {"POST\r\n\r\n", "POST " + t + "\r\n\r\n", "POST " + t + " HTTP/1.1 extra\r\n\r\n",
                "POST  " + t + "  HTTP/1.1\r\n\r\n", "post " + t + " HTTP/1.1\r\n" + auth + "\r\n",
                "POST " + t + " HTTP/9.9\r\n\r\n", "POST " + t + " HTTP/1.0\r\n" + auth + "Content-Length: 2\r\n\r\n{}",
                "POST\t" + t + "\tHTTP/1.1\r\n\r\n", "POST " + t + " HTTP/1.1\n" + auth.replace("\r", "")
                + "Content-Length: 2\n\n{}", "POST " + t + " HTTP/1.1\r\nNoColonHere\r\n\r\n",
                "POST " + t + " HTTP/1.1\r\nContent-Length : 2\r\n\r\n{}", "POST " + t + " HTTP/1.1\r\nX-A: 1\r\n folded\r\n\r\n",
                "POST " + t + " HTTP/1.1\r\n:\r\n\r\n", "POST /" + "a".repeat(10_000) + " HTTP/1.1\r\n\r\n",
                "\r\n\r\n\r\nGET /v2/health/live HTTP/1.1\r\n\r\n", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
                "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", "POST " + t + " HTTP/1.1\r\nX\u0000Y: z\r\n\r\n",
                "POST " + t + " HTTP/1.1\r\n" + "X: y\r\n".repeat(5000) + "\r\n", "\u0016\u0003\u0001\u0002\u0000\u0001",
                "GET /v2/health/live HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
                "POST " + t + " HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n0\r\n\r\n",
                "GET /v2/health/live HTTP/1.1\r\n\r\nGARBAGE garbage garbage\r\n\r\n"};
        int kind = r.nextInt(heads.length + 3);
        if (kind < heads.length) {
            q.raw = heads[kind].getBytes(StandardCharsets.ISO_8859_1);
            q.summary += " '" + RawHttp.printable(heads[kind].replace(invokeToken, "<invoke key>")) + "'";
        } else if (kind == heads.length) {
            q.raw = randomBytes(r, 1 + r.nextInt(2000));
            q.summary += " " + q.raw.length + " random bytes";
        } else {
            int headEnd = indexOf(full, "\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
            q.raw = full.clone();
            int flips = 1 + r.nextInt(4);
            StringBuilder at = new StringBuilder();
            for (int i = 0; i < flips; i++) {
                int p = r.nextInt(headEnd + 4);
                q.raw[p] = (byte) r.nextInt(256);
                at.append(i == 0 ? "" : ",").append(p);
            }
            if (r.nextBoolean()) {
                q.raw = Arrays.copyOf(q.raw, r.nextInt(q.raw.length));
                at.append(" truncated to ").append(q.raw.length);
            }
            q.summary += " valid request with head bytes changed at " + at;
        }
        return q;
    }

    // ---------------------------------------------------------------- body mutations

    private static byte[] mutate(byte[] b, SplittableRandom r, StringBuilder what) {
        String s = new String(b, StandardCharsets.UTF_8);
        switch (r.nextInt(14)) {
            case 0 -> {
                if (b.length == 0) {
                    return b;
                }
                byte[] c = b.clone();
                int n = 1 + r.nextInt(5);
                for (int i = 0; i < n; i++) {
                    c[r.nextInt(c.length)] = (byte) r.nextInt(256);
                }
                what.append(", ").append(n).append(" bytes replaced");
                return c;
            }
            case 1 -> {
                if (b.length == 0) {
                    return b;
                }
                byte[] c = b.clone();
                c[r.nextInt(c.length)] ^= (byte) (1 << r.nextInt(8));
                what.append(", one bit flipped");
                return c;
            }
            case 2 -> {
                int n = b.length == 0 ? 0 : r.nextInt(b.length);
                what.append(", truncated to ").append(n);
                return Arrays.copyOf(b, n);
            }
            case 3 -> {
                int p = r.nextInt(b.length + 1);
                what.append(", random bytes inserted at ").append(p);
                return concat(concat(Arrays.copyOf(b, p), randomBytes(r, 1 + r.nextInt(8))),
                        Arrays.copyOfRange(b, p, b.length));
            }
            case 4 -> {
                int d = new int[] {63, 64, 65, 100, 1000, 10_000, 100_000}[r.nextInt(7)];
                int form = r.nextInt(4);
                what.append(", nested ").append(d).append(" deep (form ").append(form).append(')');
                return (switch (form) {
                    case 0 -> "[".repeat(d) + "]".repeat(d);
                    case 1 -> s.replaceFirst("\"data\":\\[", "\"data\":" + "[".repeat(d)) + "]".repeat(d - 1);
                    case 2 -> "{\"a\":".repeat(d) + "1" + "}".repeat(d);
                    default -> s.replaceFirst("\"parameters\":\\{|\\{", "{\"p\":" + "[".repeat(d));
                }).getBytes(StandardCharsets.UTF_8);
            }
            case 5 -> {
                List<int[]> spans = new ArrayList<>();
                Matcher m = NUMBER.matcher(s);
                while (m.find()) {
                    spans.add(new int[] {m.start(), m.end()});
                }
                if (spans.isEmpty()) {
                    return b;
                }
                int[] span = spans.get(r.nextInt(spans.size()));
                String v = HOSTILE_NUMBERS[r.nextInt(HOSTILE_NUMBERS.length)];
                what.append(", number '").append(s, span[0], span[1]).append("' -> '")
                        .append(v.length() > 30 ? v.substring(0, 30) + "..." : v).append('\'');
                return (s.substring(0, span[0]) + v + s.substring(span[1])).getBytes(StandardCharsets.UTF_8);
            }
            case 6 -> {
                String key = KEYS[r.nextInt(KEYS.length)];
                int k = s.indexOf("\"" + key + "\":");
                if (k < 0) {
                    return b;
                }
                int start = k + key.length() + 3;
                int end = valueEnd(s, start);
                String v = HOSTILE_VALUES[r.nextInt(HOSTILE_VALUES.length)];
                what.append(", ").append(key).append(" -> ").append(v.length() > 30 ? v.substring(0, 30) + "..." : v);
                return (s.substring(0, start) + v + s.substring(end)).getBytes(StandardCharsets.UTF_8);
            }
            case 7 -> {
                String key = KEYS[r.nextInt(5)];
                int k = s.indexOf("\"" + key + "\":");
                if (k < 0) {
                    return b;
                }
                int end = valueEnd(s, k + key.length() + 3);
                String dup = r.nextBoolean() ? s.substring(k, end) : "\"" + key + "\":"
                        + HOSTILE_VALUES[r.nextInt(HOSTILE_VALUES.length)];
                what.append(", duplicate key ").append(key);
                return (s.substring(0, k) + dup + "," + s.substring(k)).getBytes(StandardCharsets.UTF_8);
            }
            case 8 -> {
                byte[][] bad = {{(byte) 0xC3, 0x28}, {(byte) 0xFF}, {(byte) 0xED, (byte) 0xA0, (byte) 0x80},
                        {(byte) 0xC0, (byte) 0xAF}, {(byte) 0xF4, (byte) 0x90, (byte) 0x80, (byte) 0x80},
                        {(byte) 0xE2, (byte) 0x82}, {(byte) 0x80}, {(byte) 0xF0, (byte) 0x9F, (byte) 0x98}};
                int p = s.indexOf("\"name\":\"");
                p = p < 0 ? r.nextInt(b.length + 1) : new String(b, StandardCharsets.UTF_8).substring(0, p + 8)
                        .getBytes(StandardCharsets.UTF_8).length;
                byte[] x = bad[r.nextInt(bad.length)];
                what.append(", invalid UTF-8 at ").append(p);
                return concat(concat(Arrays.copyOf(b, p), x), Arrays.copyOfRange(b, p, b.length));
            }
            case 9 -> {
                Charset[] cs = {StandardCharsets.UTF_16LE, StandardCharsets.UTF_16BE, Charset.forName("UTF-32LE"),
                        Charset.forName("UTF-32BE"), StandardCharsets.UTF_8};
                byte[][] boms = {{(byte) 0xFF, (byte) 0xFE}, {(byte) 0xFE, (byte) 0xFF},
                        {(byte) 0xFF, (byte) 0xFE, 0, 0}, {0, 0, (byte) 0xFE, (byte) 0xFF},
                        {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF}};
                int i = r.nextInt(cs.length);
                boolean bom = i == 4 || r.nextBoolean();
                what.append(", re-encoded ").append(cs[i]).append(bom ? " with BOM" : "");
                byte[] e = s.getBytes(cs[i]);
                return bom ? concat(boms[i], e) : e;
            }
            case 10 -> {
                String v = WHOLE_BODIES[r.nextInt(WHOLE_BODIES.length)];
                what.append(", body replaced by '").append(RawHttp.printable(v)).append('\'');
                return v.getBytes(StandardCharsets.UTF_8);
            }
            case 11 -> {
                what.append(", body sent twice");
                return concat(b, r.nextBoolean() ? b : randomBytes(r, 1 + r.nextInt(20)));
            }
            case 12 -> {
                int n = new int[] {1000, 100_000, 1_000_000}[r.nextInt(3)];
                what.append(", data of ").append(n).append(" elements");
                return s.replaceFirst("\"data\":\\[", "\"data\":[" + "0,".repeat(n)).getBytes(StandardCharsets.UTF_8);
            }
            default -> {
                int p = r.nextInt(s.length() + 1);
                int q = Math.min(s.length(), p + 1 + r.nextInt(20));
                what.append(", chars ").append(p).append("..").append(q).append(" deleted");
                return (s.substring(0, p) + s.substring(q)).getBytes(StandardCharsets.UTF_8);
            }
        }
    }

    /** End of the JSON value starting at {@code start} (good enough for the templates: no brackets in strings). */
    private static int valueEnd(String s, int start) {
        int depth = 0;
        boolean inString = false;
        for (int i = start; i < s.length(); i++) {
            char c = s.charAt(i);
            if (inString) {
                if (c == '\\') {
                    i++;
                } else if (c == '"') {
                    inString = false;
                    if (depth == 0) {
                        return i + 1;
                    }
                }
            } else if (c == '"') {
                inString = true;
            } else if (c == '[' || c == '{') {
                depth++;
            } else if (c == ']' || c == '}') {
                if (depth == 0) {
                    return i;
                }
                if (--depth == 0) {
                    return i + 1;
                }
            } else if (c == ',' && depth == 0) {
                return i;
            }
        }
        return s.length();
    }

    // ---------------------------------------------------------------- helpers

    private static String garbage(SplittableRandom r, int n) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < n; i++) {
            int c = r.nextInt(256);
            sb.append(c == '\r' || c == '\n' ? 'x' : (char) c);
        }
        return sb.toString();
    }

    private static String base64(SplittableRandom r, int bytes) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(randomBytes(r, bytes));
    }

    private static String hex(SplittableRandom r, int digits) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < digits; i++) {
            sb.append(Character.forDigit(r.nextInt(16), 16));
        }
        return sb.toString();
    }

    private static byte[] randomBytes(SplittableRandom r, int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) r.nextInt(256);
        }
        return b;
    }

    private static byte[] le(float[] f) {
        ByteBuffer b = ByteBuffer.allocate(f.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float x : f) {
            b.putFloat(x);
        }
        return b.array();
    }

    static byte[] concat(byte[] a, byte[] b) {
        byte[] c = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }

    private static byte[] gzip(byte[] b) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream z = new GZIPOutputStream(out)) {
            z.write(b);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return out.toByteArray();
    }

    private static int indexOf(byte[] hay, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= hay.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (hay[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return hay.length - 4;
    }

    /** The request kinds, for the test's report. */
    static List<String> categories() {
        return List.of(CATEGORIES);
    }

    static Map<String, Integer> weights() {
        Map<String, Integer> m = new java.util.LinkedHashMap<>();
        for (int i = 0; i < CATEGORIES.length; i++) {
            m.put(CATEGORIES[i], WEIGHTS[i]);
        }
        return m;
    }
}
