package dev.gantry.http.hardening;

import dev.gantry.core.access.Role;
import dev.gantry.http.auth.KeyStore;
import dev.gantry.http.testing.ServerFixture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The inference fast path answers exactly as the full router: each request is sent once on its plain path
 * ({@code /v2/models/add_fp32/infer}, which takes the fast path) and once with one character of the model name
 * percent-encoded ({@code /v2/models/add_fp3%32/infer}, the same route reached through the full router), and
 * the two answers must have the same status, headers and body, and the status the table expects.
 */
class FastPathEquivalenceTest {
    static final String BODY = "{\"inputs\":[{\"name\":\"a\",\"shape\":[1,4],\"datatype\":\"FP32\",\"data\":[1,2,3,4]},"
            + "{\"name\":\"b\",\"shape\":[1,4],\"datatype\":\"FP32\",\"data\":[1,1,1,1]}]}";
    static final long MAX_BODY = 4096;

    @TempDir
    static Path data;
    static ServerFixture keyed;
    static String invoke;
    static String otherModel;

    @BeforeAll
    static void start() throws Exception {
        keyed = ServerFixture.start(ServerFixture.config(ServerFixture.MODELS, data).withMaxBodyBytes(MAX_BODY),
                dev.gantry.core.lifecycle.ExecutorFactory.onnxRuntime());
        KeyStore keys = keyed.server().keys();
        invoke = keys.create("caller", Set.of(Role.INVOKE), Set.of(), Optional.empty(), Optional.empty()).token();
        otherModel = keys.create("narrow", Set.of(Role.INVOKE), Set.of("mlp"), Optional.empty(), Optional.empty())
                .token();
    }

    @AfterAll
    static void stop() {
        keyed.close();
    }

    /** A case: expected status, path template ({m} is the model), extra head lines, body ("" for none). */
    static Stream<Arguments> keyedCases() {
        String auth = "Authorization: Bearer %s\r\n";
        return Stream.of(
                Arguments.of("good request", 200, "/v2/models/{m}/infer", auth.formatted(invoke), BODY),
                Arguments.of("good request, versioned", 200, "/v2/models/{m}/versions/1/infer", auth.formatted(invoke), BODY),
                Arguments.of("bad JSON", 400, "/v2/models/{m}/infer", auth.formatted(invoke), "{\"inputs\":[{"),
                Arguments.of("unknown model", 404, "/v2/models/no_such_{m}/infer", auth.formatted(invoke), BODY),
                Arguments.of("unknown version", 404, "/v2/models/{m}/versions/99/infer", auth.formatted(invoke), BODY),
                Arguments.of("malformed version", 400, "/v2/models/{m}/versions/x1/infer", auth.formatted(invoke), BODY),
                Arguments.of("no key", 401, "/v2/models/{m}/infer", "", BODY),
                Arguments.of("wrong key", 401, "/v2/models/{m}/infer",
                        auth.formatted("gantry_0123456789ab_notARealSecretButWellFormedAAAAAAAAAAAAAAAAAAA"), BODY),
                Arguments.of("key limited to another model", 403, "/v2/models/{m}/infer", auth.formatted(otherModel), BODY),
                Arguments.of("cross-site POST", 403, "/v2/models/{m}/infer",
                        auth.formatted(invoke) + "Origin: http://evil.example\r\n", BODY),
                Arguments.of("wrong content type", 415, "/v2/models/{m}/infer",
                        auth.formatted(invoke).replace("\r\n", "\r\nX-Case: type\r\n"), BODY),
                Arguments.of("declared body over the limit", 413, "/v2/models/{m}/infer", auth.formatted(invoke),
                        null));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("keyedCases")
    void keyedServer_fastPathAndRouterAnswerAlike(String name, int status, String path, String head, String body) {
        assertSameAnswer(keyed, status, path, head, body);
    }

    static Stream<Arguments> openCases() {
        return Stream.of(
                Arguments.of("good request", 200, "/v2/models/{m}/infer", "", BODY),
                Arguments.of("foreign Host without keys", 403, "/v2/models/{m}/infer", "", BODY));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("openCases")
    void serverWithoutKeys_fastPathAndRouterAnswerAlike(String name, int status, String path, String head,
                                                       String body) {
        assertSameAnswer(ServerFixture.shared(), status, path, head, body);
    }

    private static void assertSameAnswer(ServerFixture server, int status, String path, String head, String body) {
        String host = status == 403 && head.isEmpty() ? "evil.example" : "127.0.0.1";
        RawHttp.Reply fast = exchange(server, path.replace("{m}", "add_fp32"), host, head, body);
        RawHttp.Reply routed = exchange(server, path.replace("{m}", "add_fp3%32"), host, head, body);
        assertEquals(status, fast.status(), fast.toString());
        assertEquals(fast.status(), routed.status(), routed.toString());
        assertEquals(new TreeMap<>(fast.headers()), new TreeMap<>(routed.headers()));
        assertEquals(new String(fast.body(), StandardCharsets.UTF_8), new String(routed.body(), StandardCharsets.UTF_8));
    }

    private static RawHttp.Reply exchange(ServerFixture server, String path, String host, String head, String body) {
        String type = head.contains("X-Case: type") ? "text/plain" : "application/json";
        String length = body == null ? "Content-Length: " + (MAX_BODY * 4) + "\r\n"
                : "Content-Length: " + body.getBytes(StandardCharsets.UTF_8).length + "\r\n";
        String request = "POST " + path + " HTTP/1.1\r\nHost: " + host + "\r\nContent-Type: " + type + "\r\n" + length
                + head + "\r\n" + (body == null ? "" : body);
        return RawHttp.exchange(server.server().port(), request.getBytes(StandardCharsets.UTF_8), 20_000);
    }

}
