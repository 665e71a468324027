package dev.gantry.http;

import dev.gantry.core.lifecycle.ExecutorFactory;
import dev.gantry.http.testing.ServerFixture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every answer tells the client how long an idle connection lives: one Keep-Alive header, a second under the
 * header timeout (so a client that honours it stops reusing the connection before the server closes it), on the
 * inference path and every other route, for answers and refusals alike.
 */
class KeepAliveHeaderTest {
    private static final String ADD = "{\"inputs\":[{\"name\":\"a\",\"shape\":[1,4],\"datatype\":\"FP32\","
            + "\"data\":[1,2,3,4]},{\"name\":\"b\",\"shape\":[1,4],\"datatype\":\"FP32\",\"data\":[1,1,1,1]}]}";
    private static final Pattern KEEP_ALIVE = Pattern.compile("(?im)^keep-alive:[ \\t]*([^\\r\\n]*)");

    static ServerConfig config;
    static ServerFixture server;

    @BeforeAll
    static void start() throws Exception {
        config = ServerFixture.config(ServerFixture.MODELS, Path.of("target", "test-data", "keep-alive-header"));
        server = ServerFixture.start(config, ExecutorFactory.onnxRuntime());
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "POST /v2/models/add_fp32/infer 200",
            "POST /v2/models/add_fp32/versions/1/infer 200",
            "POST /v2/models/no_such_model/infer 404",
            "POST /v2/models/add%5Ffp32/infer 200",
            "GET /v2/health/ready 200",
            "GET /v2/models/add_fp32 200",
            "GET /no/such/route 404"})
    void everyAnswer_carriesOneKeepAliveHeader_belowTheHeaderTimeout(String line) throws Exception {
        String[] parts = line.split(" ");
        String body = parts[0].equals("POST") ? ADD : "";
        String response = ServerFixture.raw(server.server().port(), parts[0] + " " + parts[1] + " HTTP/1.1\r\n"
                + "Host: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: " + body.length()
                + "\r\nConnection: close\r\n\r\n" + body);

        assertTrue(response.startsWith("HTTP/1.1 " + parts[2]), response);
        Matcher m = KEEP_ALIVE.matcher(response.substring(0, response.indexOf("\r\n\r\n") + 2));
        List<String> values = m.results().map(r -> r.group(1)).toList();
        long expected = Math.max(1, config.limits().headerTimeout().toMillis() / 1000 - 1);
        assertEquals(List.of("timeout=" + expected), values, response);
    }
}
