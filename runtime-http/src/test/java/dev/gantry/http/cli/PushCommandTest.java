package dev.gantry.http.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class PushCommandTest {
    private static final Map<String, String> NO_ENV = Map.of();

    @TempDir
    Path dir;

    private HttpServer server;

    @AfterEach
    void stopServer() {
        if (server != null) {
            server.stop(0);
        }
    }

    @Test
    void parse_fullCommandLine_takesEveryOption() {
        PushCommand.Options options = PushCommand.parse(List.of("--model", "resnet", "--version", "3",
                "resnet.tar.gz", "--url", "https://gantry.example:8443/", "--key", "gk_secret", "--progress"), NO_ENV);

        assertEquals(new PushCommand.Options("resnet", 3, Path.of("resnet.tar.gz"), "https://gantry.example:8443",
                "gk_secret", true), options);
        assertEquals(URI.create("https://gantry.example:8443/admin/v1/models/resnet/versions/3"), options.target());
    }

    @Test
    void parse_withoutUrlOrKey_takesThemFromTheEnvironment() {
        PushCommand.Options options = PushCommand.parse(List.of("model.onnx", "--model=iris", "--version=12"),
                Map.of("GANTRY_URL", "http://10.0.0.5:8080", "GANTRY_KEY", "gk_env"));

        assertEquals(new PushCommand.Options("iris", 12, Path.of("model.onnx"), "http://10.0.0.5:8080", "gk_env",
                false), options);
    }

    @Test
    void parse_withoutUrlAnywhere_usesLocalhost() {
        PushCommand.Options options = PushCommand.parse(List.of("--model", "iris", "--version", "1", "m.onnx"),
                NO_ENV);

        assertEquals("http://127.0.0.1:8080", options.url());
        assertEquals(null, options.key());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "--version 1 m.onnx                       | --model is required",
            "--model iris m.onnx                      | --version is required",
            "--model iris --version 0 m.onnx          | --version must be a positive integer, got '0'",
            "--model iris --version v2 m.onnx         | --version must be a positive integer, got 'v2'",
            "--model iris --version 1                 | FILE is required",
            "--model iris --version 1 a.onnx b.onnx   | expected one FILE, got [a.onnx, b.onnx]",
            "--model iris --version 1 m.onnx --force  | unknown option '--force'",
            "--model iris --version 1 m.onnx --url    | --url needs a value",
            "--model iris --version 1 m.onnx --url x  | --url must start with http:// or https://, got 'x'"})
    void parse_badCommandLine_isRefusedWithAMessageNamingTheProblem(String args, String message) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> PushCommand.parse(List.of(args.split(" ")), NO_ENV));

        assertEquals(message, e.getMessage());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "0         | 19800000 | 10 | [----------] 0% 0 B / 19.8 MB",
            "12300000  | 19800000 | 10 | [######----] 62% 12.3 MB / 19.8 MB",
            "19800000  | 19800000 | 10 | [##########] 100% 19.8 MB / 19.8 MB",
            "512       | 1024     | 4  | [##--] 50% 512 B / 1.0 kB",
            "0         | 0        | 4  | [####] 100% 0 B / 0 B",
            "999999999 | 2000000000 | 4 | [#---] 49% 1.0 GB / 2.0 GB"})
    void progressBar_rendersBarPercentAndSizes(long sent, long total, int width, String expected) {
        assertEquals(expected, PushCommand.progressBar(sent, total, width));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "0 | 0 B", "999 | 999 B", "1000 | 1.0 kB", "999949 | 999.9 kB", "999950 | 1.0 MB",
            "12345678 | 12.3 MB", "4294967296 | 4.3 GB"})
    void bytes_usesDecimalUnitsWithOneDecimal(long count, String expected) {
        assertEquals(expected, PushCommand.bytes(count));
    }

    @Test
    void progress_redrawsAtMostEvery100MillisecondsAndOnceAtTheEnd() {
        AtomicLong now = new AtomicLong();
        List<String> drawn = new ArrayList<>();
        PushCommand.Progress progress = new PushCommand.Progress(4000, now::get, drawn::add);

        progress.advance(1000);
        now.addAndGet(50_000_000);
        progress.advance(1000);
        now.addAndGet(60_000_000);
        progress.advance(1000);
        progress.advance(1000);
        progress.finish();
        progress.finish();

        assertEquals(List.of(
                "\r" + PushCommand.progressBar(1000, 4000, 30),
                "\r" + PushCommand.progressBar(3000, 4000, 30),
                "\r" + PushCommand.progressBar(4000, 4000, 30),
                System.lineSeparator()), drawn);
    }

    @Test
    void run_badArguments_exitsWith2AndPrintsUsage() {
        Output output = new Output();

        int code = PushCommand.run(List.of("--model", "iris"), NO_ENV, output.out, output.err, false);

        assertEquals(2, code);
        assertTrue(output.err().startsWith("gantry push: --version is required"), output.err());
        assertTrue(output.err().contains("Usage:"), output.err());
    }

    @Test
    void run_missingFile_exitsWith1NamingIt() {
        Output output = new Output();
        Path missing = dir.resolve("missing.onnx");

        int code = PushCommand.run(List.of("--model", "iris", "--version", "1", missing.toString()), NO_ENV,
                output.out, output.err, false);

        assertEquals(1, code);
        assertEquals("gantry push: " + missing + " is not a file" + System.lineSeparator(), output.err());
    }

    @Test
    void run_streamsTheFileWithKeyAndContentTypeAndPrintsTheResponse() throws IOException {
        byte[] model = new byte[300_000];
        model[0] = 0x08;
        Path file = Files.write(dir.resolve("model.onnx"), model);
        AtomicReference<String> seen = new AtomicReference<>();
        AtomicReference<byte[]> received = new AtomicReference<>();
        serve(exchange -> {
            seen.set(exchange.getRequestMethod() + " " + exchange.getRequestURI() + " "
                    + exchange.getRequestHeaders().getFirst("Content-Type") + " "
                    + exchange.getRequestHeaders().getFirst("Authorization"));
            received.set(exchange.getRequestBody().readAllBytes());
            return new Reply(201, "{\"outcome\":\"CREATED\"}");
        });
        Output output = new Output();

        int code = PushCommand.run(List.of("--model", "iris", "--version", "4", file.toString(), "--progress"),
                Map.of("GANTRY_URL", url(), "GANTRY_KEY", "gk_test"), output.out, output.err, false);

        assertEquals(0, code, output.err());
        assertEquals("PUT /admin/v1/models/iris/versions/4 application/octet-stream Bearer gk_test", seen.get());
        assertArrayEquals(model, received.get());
        assertTrue(output.out().contains("\"outcome\" : \"CREATED\""), output.out());
        assertTrue(output.err().contains("[##############################] 100% 300.0 kB / 300.0 kB"), output.err());
    }

    @Test
    void run_serverRefuses_exitsWith1PrintingTheServersMessage() throws IOException {
        Path file = Files.write(dir.resolve("model.onnx"), new byte[] {8, 1});
        serve(exchange -> {
            exchange.getRequestBody().readAllBytes();
            return new Reply(409, "{\"error\":\"version iris/1 already exists with sha256 abc\"}");
        });
        Output output = new Output();

        int code = PushCommand.run(List.of("--model", "iris", "--version", "1", file.toString(), "--url", url()),
                NO_ENV, output.out, output.err, false);

        assertEquals(1, code);
        assertEquals("gantry push: 409 version iris/1 already exists with sha256 abc" + System.lineSeparator(),
                output.err());
        assertEquals("", output.out());
    }

    private record Reply(int status, String body) {
    }

    private interface Handler {
        Reply handle(com.sun.net.httpserver.HttpExchange exchange) throws IOException;
    }

    private void serve(Handler handler) throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", exchange -> {
            Reply reply = handler.handle(exchange);
            byte[] body = reply.body().getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().add("Content-Type", "application/json");
            exchange.sendResponseHeaders(reply.status(), body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        });
        server.start();
    }

    private String url() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    private static final class Output {
        final ByteArrayOutputStream outBytes = new ByteArrayOutputStream();
        final ByteArrayOutputStream errBytes = new ByteArrayOutputStream();
        final PrintStream out = new PrintStream(outBytes, true, StandardCharsets.UTF_8);
        final PrintStream err = new PrintStream(errBytes, true, StandardCharsets.UTF_8);

        String out() {
            return outBytes.toString(StandardCharsets.UTF_8);
        }

        String err() {
            return errBytes.toString(StandardCharsets.UTF_8);
        }
    }
}
