package dev.gantry.http.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.Console;
import java.io.FileNotFoundException;
import java.io.PrintStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Flow;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * {@code gantry push --model M --version V FILE}: uploads a model ({@code .onnx}, or a {@code .tar.gz}/{@code .zip}
 * bundle) as a new version, streaming the file from disk with a progress bar on stderr.
 */
public final class PushCommand {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long REDRAW_INTERVAL_NANOS = 100_000_000L;
    private static final int BAR_WIDTH = 30;

    public static final String USAGE = """
            Usage:
              gantry push --model MODEL --version VERSION FILE [--url URL] [--key TOKEN] [--progress]
            Uploads FILE (a .onnx model, or a .tar.gz/.tgz or .zip bundle with model.onnx and optional config.json,
            card.json and tokenizer files) as version VERSION of MODEL. Versions are immutable: pushing the same bytes
            again succeeds without change, different bytes are refused.
            Options: --url URL (default $GANTRY_URL or http://127.0.0.1:8080), --key TOKEN (default $GANTRY_KEY),
            --progress to draw the progress bar even when stderr is not a terminal.
            """;

    private PushCommand() {
    }

    /** What to push where, parsed from the command line and the environment. */
    record Options(String model, long version, Path file, String url, String key, boolean progress) {
        /** {@code PUT} target: {@code {url}/admin/v1/models/{model}/versions/{version}}. */
        URI target() {
            String segment = URLEncoder.encode(model, StandardCharsets.UTF_8).replace("+", "%20");
            return URI.create(url + "/admin/v1/models/" + segment + "/versions/" + version);
        }
    }

    /** Runs the command; returns the process exit code. */
    public static int run(List<String> args, Map<String, String> env, PrintStream out, PrintStream err) {
        return run(args, env, out, err, err == System.err && stderrIsTerminal());
    }

    static int run(List<String> args, Map<String, String> env, PrintStream out, PrintStream err, boolean terminal) {
        if (args.contains("--help") || args.contains("-h")) {
            out.print(USAGE);
            return 0;
        }
        Options options;
        try {
            options = parse(args, env);
        } catch (IllegalArgumentException e) {
            err.println("gantry push: " + e.getMessage());
            err.print(USAGE);
            return 2;
        }
        try {
            if (!Files.isRegularFile(options.file())) {
                throw new FileNotFoundException(options.file() + " is not a file");
            }
            long size = Files.size(options.file());
            Progress progress = options.progress() || terminal
                    ? new Progress(size, System::nanoTime, err::print)
                    : null;
            HttpRequest.Builder request = HttpRequest.newBuilder(options.target())
                    .header("Content-Type", "application/octet-stream")
                    .PUT(body(options.file(), progress));
            if (options.key() != null && !options.key().isBlank()) {
                request.header("Authorization", "Bearer " + options.key());
            }
            HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                    .connectTimeout(Duration.ofSeconds(10)).build();
            HttpResponse<String> response = client.send(request.build(), HttpResponse.BodyHandlers.ofString());
            if (progress != null) {
                progress.finish();
            }
            if (response.statusCode() >= 400) {
                err.println("gantry push: " + response.statusCode() + " " + errorMessage(response.body()));
                return 1;
            }
            out.println(pretty(response.body()));
            return 0;
        } catch (java.net.ConnectException e) {
            err.println("gantry push: cannot connect to the server at " + options.url() + " (" + e.getMessage()
                    + "); is it running? Set --url or GANTRY_URL");
            return 1;
        } catch (FileNotFoundException e) {
            err.println("gantry push: " + e.getMessage());
            return 1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            err.println("gantry push: interrupted");
            return 1;
        } catch (Exception e) {
            err.println("gantry push: " + e);
            return 1;
        }
    }

    /** Parses {@code --model M --version V FILE [--url URL] [--key TOKEN] [--progress]}. */
    static Options parse(List<String> args, Map<String, String> env) {
        List<String> rest = new ArrayList<>(args);
        boolean progress = rest.remove("--progress");
        String url = take(rest, "--url", env.getOrDefault("GANTRY_URL", "http://127.0.0.1:8080"));
        String key = take(rest, "--key", env.get("GANTRY_KEY"));
        String model = take(rest, "--model", null);
        String version = take(rest, "--version", null);
        for (String arg : rest) {
            if (arg.startsWith("-") && !arg.equals("-")) {
                throw new IllegalArgumentException("unknown option '" + arg + "'");
            }
        }
        if (model == null || model.isBlank()) {
            throw new IllegalArgumentException("--model is required");
        }
        if (version == null) {
            throw new IllegalArgumentException("--version is required");
        }
        if (!version.matches("[1-9][0-9]{0,17}")) {
            throw new IllegalArgumentException("--version must be a positive integer, got '" + version + "'");
        }
        if (rest.size() != 1) {
            throw new IllegalArgumentException(rest.isEmpty() ? "FILE is required"
                    : "expected one FILE, got " + rest);
        }
        if (!url.startsWith("http://") && !url.startsWith("https://")) {
            throw new IllegalArgumentException("--url must start with http:// or https://, got '" + url + "'");
        }
        while (url.endsWith("/")) {
            url = url.substring(0, url.length() - 1);
        }
        return new Options(model, Long.parseLong(version), Path.of(rest.get(0)), url, key, progress);
    }

    /**
     * The progress line without its leading carriage return: {@code [#########-----] 62% 12.3 MB / 19.8 MB},
     * with a bar {@code width} cells wide.
     */
    static String progressBar(long sent, long total, int width) {
        double fraction = total <= 0 ? 1.0 : Math.min(1.0, Math.max(0.0, (double) sent / total));
        int filled = (int) Math.floor(fraction * width);
        int percent = (int) Math.floor(fraction * 100);
        return "[" + "#".repeat(filled) + "-".repeat(width - filled) + "] " + percent + "% "
                + bytes(Math.min(sent, Math.max(total, 0))) + " / " + bytes(total);
    }

    /** A byte count in decimal units with one decimal: {@code 999 B}, {@code 12.3 MB}, {@code 1.5 GB}. */
    static String bytes(long count) {
        if (count < 1000) {
            return count + " B";
        }
        String[] units = {"kB", "MB", "GB", "TB"};
        double value = count;
        int unit = -1;
        while (value >= 999.95 && unit < units.length - 1) {
            value /= 1000;
            unit++;
        }
        return String.format(Locale.ROOT, "%.1f %s", value, units[unit]);
    }

    /** Redraws the progress line as bytes go out, at most every 100 ms, and once more at the end. */
    static final class Progress {
        private final long total;
        private final LongSupplier nanoTime;
        private final Consumer<String> sink;
        private long sent;
        private long lastDrawn;
        private boolean drawn;
        private boolean finished;

        Progress(long total, LongSupplier nanoTime, Consumer<String> sink) {
            this.total = total;
            this.nanoTime = nanoTime;
            this.sink = sink;
        }

        /** Starts over: the client sends the body again after a redirect. */
        synchronized void restart() {
            sent = 0;
        }

        synchronized void advance(long bytes) {
            sent += bytes;
            long now = nanoTime.getAsLong();
            if (!drawn || now - lastDrawn >= REDRAW_INTERVAL_NANOS) {
                draw(now);
            }
        }

        /** Draws the final state and ends the line, once. */
        synchronized void finish() {
            if (finished) {
                return;
            }
            finished = true;
            draw(nanoTime.getAsLong());
            sink.accept(System.lineSeparator());
        }

        private void draw(long now) {
            lastDrawn = now;
            drawn = true;
            sink.accept("\r" + progressBar(sent, total, BAR_WIDTH));
        }
    }

    /** The file as the body, read in chunks from disk, reporting each chunk to {@code progress} if there is one. */
    private static HttpRequest.BodyPublisher body(Path file, Progress progress) throws FileNotFoundException {
        HttpRequest.BodyPublisher fromFile = HttpRequest.BodyPublishers.ofFile(file);
        if (progress == null) {
            return fromFile;
        }
        return new HttpRequest.BodyPublisher() {
            @Override
            public long contentLength() {
                return fromFile.contentLength();
            }

            @Override
            public void subscribe(Flow.Subscriber<? super ByteBuffer> subscriber) {
                progress.restart();
                fromFile.subscribe(new Flow.Subscriber<>() {
                    @Override
                    public void onSubscribe(Flow.Subscription subscription) {
                        subscriber.onSubscribe(subscription);
                    }

                    @Override
                    public void onNext(ByteBuffer chunk) {
                        long size = chunk.remaining();
                        subscriber.onNext(chunk);
                        progress.advance(size);
                    }

                    @Override
                    public void onError(Throwable failure) {
                        subscriber.onError(failure);
                    }

                    @Override
                    public void onComplete() {
                        subscriber.onComplete();
                    }
                });
            }
        };
    }

    private static String errorMessage(String body) {
        try {
            JsonNode json = JSON.readTree(body);
            if (json != null && json.has("error")) {
                return json.get("error").asText();
            }
        } catch (JsonProcessingException e) {
            // not JSON: show it as it came
        }
        return body.isBlank() ? "(no message)" : body.strip();
    }

    private static String pretty(String body) {
        try {
            return body.isBlank() ? "{}" : JSON.writerWithDefaultPrettyPrinter().writeValueAsString(JSON.readTree(body));
        } catch (JsonProcessingException e) {
            return body;
        }
    }

    /**
     * Whether stderr is a terminal. Java 21 can only ask whether a console is attached (stdin and stdout);
     * from Java 22, where a console is attached even when redirected, {@code Console.isTerminal()} tells.
     */
    private static boolean stderrIsTerminal() {
        Console console = System.console();
        if (console == null) {
            return false;
        }
        try {
            return (Boolean) Console.class.getMethod("isTerminal").invoke(console);
        } catch (ReflectiveOperationException e) {
            return true;
        }
    }

    private static String take(List<String> args, String flag, String fallback) {
        for (int i = 0; i < args.size(); i++) {
            if (args.get(i).equals(flag)) {
                if (i + 1 >= args.size()) {
                    throw new IllegalArgumentException(flag + " needs a value");
                }
                String value = args.get(i + 1);
                args.remove(i);
                args.remove(i);
                return value;
            }
            if (args.get(i).startsWith(flag + "=")) {
                return args.remove(i).substring(flag.length() + 1);
            }
        }
        return fallback;
    }
}
