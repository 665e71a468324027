package dev.gantry.http.hardening;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gantry.http.testing.Bodies;
import dev.gantry.http.testing.ServerFixture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.ConnectException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code gantry serve} in its own JVM, stopped with SIGTERM under load: it drains and exits 0, and every request
 * is either answered completely, refused with 503 before admission, or refused at connect once the port is closed.
 */
class GracefulShutdownTest {
    private static final int DRAIN_TIMEOUT_MS = 20_000;
    private static final int CLIENTS = 8;
    private static final int MINILM_CLIENTS = 3;
    private static final int SEQUENCE = 128;

    private Process process;
    private Path logFile;

    @AfterEach
    void killIfStillRunning() {
        if (process != null && process.isAlive()) {
            process.destroyForcibly();
        }
    }

    /** What each client saw; a client stops at its first refusal. */
    private static final class Tally {
        final AtomicInteger ok = new AtomicInteger();
        final AtomicInteger okAfterSignal = new AtomicInteger();
        final AtomicInteger inFlightAtSignalAnswered = new AtomicInteger();
        final AtomicInteger refused503 = new AtomicInteger();
        final AtomicInteger refusedConnect = new AtomicInteger();
        final List<String> failures = Collections.synchronizedList(new ArrayList<>());
        final AtomicLong signalledAt = new AtomicLong(Long.MAX_VALUE);
        final List<AtomicInteger> answeredClients = new ArrayList<>();

        Tally() {
            for (int c = 0; c < CLIENTS; c++) {
                answeredClients.add(new AtomicInteger());
            }
        }
    }

    @Test
    void sigtermUnderLoad_drainsAdmittedRequests_refusesNewOnes_andExitsZero() throws Exception {
        int port = freePort();
        Path data = Files.createTempDirectory(Path.of("target"), "shutdown-data");
        logFile = data.resolveSibling(data.getFileName() + ".log");
        String java = ProcessHandle.current().info().command().orElse(Path.of(System.getProperty("java.home"), "bin",
                "java").toString());
        process = new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED", "-Xmx1g",
                "-cp", System.getProperty("java.class.path"), "dev.gantry.http.Main", "serve",
                "--port", Integer.toString(port), "--models", "../models", "--data", data.toString(),
                "--access-log", "off", "--grpc-port", "0", "--drain-timeout-ms", Integer.toString(DRAIN_TIMEOUT_MS),
                "--sandbox-verdicts", ServerFixture.SANDBOX_VERDICTS.toAbsolutePath().toString())
                .redirectErrorStream(true).redirectOutput(logFile.toFile()).start();
        long readyBy = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (!log().contains("Gantry ready") && process.isAlive() && System.nanoTime() < readyBy) {
            Thread.sleep(50);
        }
        assertTrue(log().contains("Gantry ready"), () -> "the server never said 'Gantry ready':\n" + log());

        Tally tally = new Tally();
        ExecutorService clients = Executors.newFixedThreadPool(CLIENTS);
        for (int c = 0; c < CLIENTS; c++) {
            boolean minilm = c < MINILM_CLIENTS;
            int client = c;
            clients.execute(() -> drive(port, minilm, client, tally));
        }
        /* Steady load first: every client has been answered a few times (bounded), then a little more. */
        long loadUntil = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < loadUntil && tally.failures.isEmpty()
                && tally.answeredClients.stream().mapToInt(AtomicInteger::get).min().orElse(0) < 5) {
            Thread.sleep(20);
        }
        Thread.sleep(300);
        int okBefore = tally.ok.get();

        long signalled = System.nanoTime();
        tally.signalledAt.set(signalled);
        CompletableFuture<Process> exited = process.onExit();
        process.destroy(); // SIGTERM
        Process p = exited.get(DRAIN_TIMEOUT_MS + 10_000, TimeUnit.MILLISECONDS);
        long drainMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - signalled);
        clients.shutdown();
        boolean clientsStopped = clients.awaitTermination(30, TimeUnit.SECONDS);

        System.out.println("server log from the signal on:\n" + drainLog());
        System.out.printf("graceful shutdown: drained and exited with %d in %d ms after SIGTERM; %d answered 200 before"
                        + " the signal, %d after it (%d of them in flight at the signal), %d refused with 503, %d refused"
                        + " at connect, %d other failures%n", p.exitValue(), drainMs, okBefore,
                tally.okAfterSignal.get(), tally.inFlightAtSignalAnswered.get(), tally.refused503.get(),
                tally.refusedConnect.get(), tally.failures.size());
        assertTrue(tally.failures.isEmpty(), () -> "requests neither answered nor cleanly refused: " + tally.failures);
        assertEquals(0, p.exitValue(), () -> "exit status; server log:\n" + log());
        assertTrue(drainMs < DRAIN_TIMEOUT_MS, "drain took " + drainMs + " ms");
        assertTrue(clientsStopped, "clients still sending 30 s after the server exited");
        assertEquals(CLIENTS, tally.refused503.get() + tally.refusedConnect.get(), "clients that ended with a refusal");
        assertTrue(okBefore > 0, "no request was answered before the signal");
    }

    private static void drive(int port, boolean minilm, int clientIndex, Tally tally) {
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(5)).build();
        SplittableRandom random = new SplittableRandom(clientIndex);
        String model = minilm ? "minilm" : "mlp";
        URI uri = URI.create("http://127.0.0.1:" + port + "/v2/models/" + model + "/infer");
        long stopAt = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        while (System.nanoTime() < stopAt) {
            String body = minilm ? minilmRequest(random)
                    : Bodies.fp32Request("features", new long[] {1, 64}, Bodies.randomFloats(64, random.nextLong()), null);
            long sentAt = System.nanoTime();
            HttpResponse<String> r;
            try {
                r = client.send(HttpRequest.newBuilder(uri).header("Content-Type", "application/json")
                        .timeout(Duration.ofSeconds(DRAIN_TIMEOUT_MS / 1000 + 10))
                        .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
            } catch (ConnectException e) {
                tally.refusedConnect.incrementAndGet();
                return;
            } catch (IOException e) {
                tally.failures.add(model + " request sent " + sinceSignal(sentAt, tally) + ": " + e);
                return;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            if (r.statusCode() == 503) {
                tally.refused503.incrementAndGet();
                return;
            }
            String problem = r.statusCode() == 200 ? checkOutput(r.body(), minilm)
                    : "status " + r.statusCode() + ": " + r.body();
            if (problem != null) {
                tally.failures.add(model + " request sent " + sinceSignal(sentAt, tally) + ": " + problem);
                return;
            }
            tally.ok.incrementAndGet();
            tally.answeredClients.get(clientIndex).incrementAndGet();
            if (System.nanoTime() > tally.signalledAt.get()) {
                tally.okAfterSignal.incrementAndGet();
                if (sentAt < tally.signalledAt.get()) {
                    tally.inFlightAtSignalAnswered.incrementAndGet();
                }
            }
        }
        tally.failures.add(model + " client never saw a refusal within 90 s");
    }

    private static String sinceSignal(long sentAt, Tally tally) {
        long signal = tally.signalledAt.get();
        return signal == Long.MAX_VALUE ? "before SIGTERM" : TimeUnit.NANOSECONDS.toMillis(sentAt - signal)
                + " ms after SIGTERM (now " + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - signal) + " ms)";
    }

    /** Null when a 200 body has the expected output; what is wrong otherwise. */
    private static String checkOutput(String body, boolean minilm) {
        JsonNode out;
        try {
            out = Bodies.JSON.readTree(body).get("outputs").get(0);
        } catch (Exception | AssertionError e) {
            return "200 with a body that is not the expected JSON (" + body.length() + " chars): " + e;
        }
        JsonNode shape = out.get("shape");
        long elements = 1;
        for (JsonNode d : shape) {
            elements *= d.asLong();
        }
        boolean ok = minilm ? shape.toString().equals("[1," + SEQUENCE + ",384]") : shape.size() == 2
                && shape.get(0).asLong() == 1 && out.get("name").asText().equals("scores");
        return ok && out.get("data").size() == elements ? null : "200 with output shape " + shape + " and "
                + out.get("data").size() + " values";
    }

    private static String minilmRequest(SplittableRandom r) {
        StringBuilder ids = new StringBuilder("101");
        for (int i = 1; i < SEQUENCE - 1; i++) {
            ids.append(',').append(1996 + r.nextInt(20000));
        }
        ids.append(",102");
        String ones = String.join(",", Collections.nCopies(SEQUENCE, "1"));
        String zeros = String.join(",", Collections.nCopies(SEQUENCE, "0"));
        String shape = "[1," + SEQUENCE + "]";
        return "{\"inputs\":["
                + "{\"name\":\"input_ids\",\"shape\":" + shape + ",\"datatype\":\"INT64\",\"data\":[" + ids + "]},"
                + "{\"name\":\"attention_mask\",\"shape\":" + shape + ",\"datatype\":\"INT64\",\"data\":[" + ones + "]},"
                + "{\"name\":\"token_type_ids\",\"shape\":" + shape + ",\"datatype\":\"INT64\",\"data\":[" + zeros
                + "]}]}";
    }

    /** The child's stdout and stderr so far (the whole run is short, so the file is small). */
    private String log() {
        try {
            return Files.readString(logFile, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }

    private String drainLog() {
        String all = log();
        int from = all.indexOf("draining");
        return from < 0 ? all : all.substring(all.lastIndexOf('\n', from) + 1);
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
