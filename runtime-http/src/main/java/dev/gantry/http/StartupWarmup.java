package dev.gantry.http;

import dev.gantry.core.lifecycle.ModelVersionState;
import dev.gantry.core.model.ModelId;
import dev.gantry.http.logging.WarmupRequests;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.net.PemTrustOptions;
import io.vertx.core.net.SocketAddress;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Before the server reports ready, sends it up to two thousand requests over loopback that read, or that ask for a
 * traffic change and a rollback the server must refuse, so the first real change later does not stall serving.
 */
final class StartupWarmup {
    /*
     * Why: under the hot swap benchmark (classifier, 25,000 req/s open loop, one server core) the p99 of the
     * 10 s holding four traffic changes was 2.3-5.6x the steady window's. -Xlog:deoptimization showed ~90
     * compiled methods thrown away when the first admin PUT arrived: Netty's request decoder had only ever seen
     * POST (HttpMethod.valueOf's other branches were compiled as traps), the router's path patterns, Vert.x's
     * header and future code; the admin handler itself ran for the first time (class loading, interpreter).
     * Serving slowed until the compiler caught up, and the open-loop queue grew. When the same server had been
     * sent three refused admin PUTs during its warm-up, the swap window's p99 fell to 0.9x the steady one.
     *
     * So the server sends itself those requests at start: a PUT of a traffic policy with an expected revision
     * no deployment can have (409, refused before anything is written) and a rollback to a revision that cannot
     * exist, to the first READY model, interleaved with reads, enough rounds that the decoder is compiled with
     * a profile that has seen GET, PUT and POST. Nothing is written: no revision, no audit entry. With API keys
     * the admin requests carry no key and end at 401, which still warms the decoder and the router. A mutating
     * request that is not refused (impossible by construction) stops the warm-up and is logged as an error. On a
     * shared catalogue each refused change reads the database once (this server must have caught up first); a
     * server that has not caught up is not ready anyway, and the request's timeout bounds the wait.
     */
    static final String USER_AGENT = "gantry-startup-warmup";
    /*
     * The headers of common HTTP clients, one set per request in turn. With only the warm-up's own headers the
     * decoder's profile knew one client, and the first admin call from another (the hot swap harness's
     * java.net.http client) still threw away Netty's HttpObjectDecoder.readHeaders and splitHeader and Vert.x's
     * HeadersMultiMap.getAll at the first real PUT, beside a dozen JDK, H2 and Jackson methods the change itself
     * ran for the first time (-Xlog:deoptimization, 12-04). Servers meet many clients; the warm-up now shows a
     * few typical ones, with Host and Content-Length capitalized as they write them (Vert.x's client writes them
     * in lower case, and the harness's still trapped Vert.x's splitHeaderName and getAll on the capitalized
     * names). The values imitate those clients' defaults; none of them changes what is answered.
     */
    static final List<Map<String, String>> CLIENT_HEADERS = List.of(
            ordered("User-Agent", USER_AGENT),
            ordered("User-Agent", "curl/8.5.0", "Accept", "*/*"),
            ordered("User-Agent", "python-requests/2.32.3", "Accept-Encoding", "gzip, deflate", "Accept", "*/*",
                    "Connection", "keep-alive"),
            ordered("User-Agent", "Java-http-client/21.0.5"),
            ordered("User-Agent", "Go-http-client/1.1", "Accept-Encoding", "gzip"));

    /** Headers in the order given (names and values alternating), as a client writes them. */
    private static Map<String, String> ordered(String... namesAndValues) {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < namesAndValues.length; i += 2) {
            m.put(namesAndValues[i], namesAndValues[i + 1]);
        }
        return Collections.unmodifiableMap(m);
    }
    /*
     * 400 rounds, not the 64 first chosen: HotSpot records branch profiles only once a method has run a few
     * hundred times (then C1's profiling code takes over), so with 320 requests most of them fell before the
     * decoder's profile existed, and the first real PUT still trapped in HttpMethod.valueOf, fromNetty and the
     * header splitter (-Xlog:deoptimization, hot swap arm: 4-6 decoder traps at the harness's first GET and at
     * the first PUT). With 2,000 requests one was left (HeadersMultiMap.getAll, at the first PUT). The warm-up
     * then took about 2 s on one pinned core (0.8-1.2 s before), once per process: later servers in the same
     * JVM find the code compiled.
     */
    static final int ROUNDS = 400;
    /** The time limits the server runs the warm-up with. */
    static final Limits LIMITS = new Limits(15_000, 5_000);
    /** No revision ever reaches this, so a change that expects it is refused (409) before anything is written. */
    static final long NO_REVISION = Long.MAX_VALUE;
    /** How {@link Result#stoppedBy} starts when the server accepted a change it had to refuse. */
    static final String ACCEPTED = "a change that had to be refused was accepted: ";
    private static final Logger log = LoggerFactory.getLogger(StartupWarmup.class);

    /** One request of the warm-up; {@code label} names it in the result's counts. */
    record Call(String label, HttpMethod method, boolean admin, String path, String body, boolean mutating) {
    }

    /** How the warm-up went: the count of each answer ("traffic 409"), the time it took, why it stopped early. */
    record Result(Map<String, Integer> statuses, long millis, Optional<String> stoppedBy) {
        static Result notRun(String why) {
            return new Result(Map.of(), 0, Optional.of(why));
        }
    }

    /**
     * @param deadlineMillis the longest the warm-up may hold readiness back, whatever happens to its requests
     * @param requestMillis the longest one request may wait for a connection, and then for each part of its answer
     */
    record Limits(long deadlineMillis, long requestMillis) {
    }

    private StartupWarmup() {
    }

    /** The requests for {@code model} (the first READY version), or only reads when nothing is READY. */
    static List<Call> calls(Optional<ModelId> model) {
        List<Call> calls = new ArrayList<>();
        for (int round = 0; round < ROUNDS; round++) {
            calls.add(new Call("live", HttpMethod.GET, false, "/v2/health/live", null, false));
            calls.add(new Call("ready", HttpMethod.GET, false, "/v2/health/ready", null, false));
            if (model.isPresent()) {
                String name = model.get().name();
                calls.add(new Call("model", HttpMethod.GET, true, "/admin/v1/models/" + name, null, false));
                calls.add(new Call("traffic", HttpMethod.PUT, true, "/admin/v1/models/" + name + "/traffic",
                        "{\"routes\":[{\"version\":\"" + model.get().version() + "\",\"weight\":100}],"
                                + "\"expected_revision\":" + NO_REVISION + ",\"reason\":\"start-up warm-up\"}",
                        true));
                calls.add(new Call("rollback", HttpMethod.POST, true, "/admin/v1/models/" + name + "/rollback",
                        "{\"to_revision\":" + NO_REVISION + "}", true));
            }
        }
        return calls;
    }

    /**
     * The warm-up of a server listening on {@code configuredHost} (a wildcard address is reached on loopback),
     * against the first READY version of {@code versions}, or with reads only when none is READY.
     */
    static Future<Result> forServer(Vertx vertx, String configuredHost, int port, int adminPort,
                                    Optional<Path> tlsCert, Collection<ModelVersionState> versions) {
        Optional<ModelId> model = versions.stream().filter(ModelVersionState::isReady).map(ModelVersionState::id)
                .sorted().findFirst();
        String host = switch (configuredHost) {
            case "0.0.0.0", "" -> "127.0.0.1";
            case "::", "[::]" -> "::1";
            default -> configuredHost;
        };
        return run(vertx, host, port, adminPort, tlsCert, calls(model), LIMITS);
    }

    /**
     * Sends {@code calls} one after another to {@code host} (HTTP on {@code port}, admin routes on
     * {@code adminPort}). Never fails: a refused connection, a timeout or an error ends the warm-up early with
     * the reason, and so does a mutating request the server accepted.
     */
    static Future<Result> run(Vertx vertx, String host, int port, int adminPort, Optional<Path> tlsCert,
                              List<Call> calls, Limits limits) {
        /*
         * Every client call is made on the event loop of one context: a Vert.x client used from the model loader
         * thread that finishes the start sometimes never got a connection (benchmarks/results/
         * startup-warmup-20261201.txt, 8).
         */
        Promise<Result> result = Promise.promise();
        try {
            vertx.getOrCreateContext().runOnContext(v -> {
                try {
                    runOnLoop(vertx, host, port, adminPort, tlsCert, calls, limits).onComplete(result);
                } catch (RuntimeException e) {
                    result.tryComplete(stoppedBy(e));
                }
            });
        } catch (RuntimeException e) {
            result.tryComplete(stoppedBy(e)); // Vert.x is closing: the server is being stopped
        }
        return result.future();
    }

    private static Result stoppedBy(RuntimeException e) {
        log.warn("start-up warm-up not run: {}", e.toString());
        return Result.notRun(e.toString());
    }

    private static Future<Result> runOnLoop(Vertx vertx, String host, int port, int adminPort,
                                            Optional<Path> tlsCert, List<Call> calls, Limits limits) {
        HttpClientOptions options = new HttpClientOptions().setKeepAlive(true);
        tlsCert.ifPresent(cert -> options.setSsl(true).setVerifyHost(false)
                .setTrustOptions(new PemTrustOptions().addCertPath(cert.toString())));
        HttpClientAgent client = vertx.createHttpClient(options);
        /* only this context's event loop touches it: the requests, their answers and the deadline all run there */
        Map<String, Integer> statuses = new TreeMap<>();
        long start = System.nanoTime();
        /* whatever the server or the network does, the warm-up never holds readiness back for longer */
        Promise<Optional<String>> done = Promise.promise();
        long timer = vertx.setTimer(limits.deadlineMillis(), t -> done.tryComplete(
                Optional.of("not finished after " + limits.deadlineMillis() + " ms")));
        /* keeps these requests out of the access log and traces, and only these (WarmupRequests) */
        String token = WarmupRequests.begin();
        new Sender(client, host, port, adminPort, calls, limits, statuses, done, token).sendFrom(0);
        return done.future()
                .andThen(r -> {
                    WarmupRequests.end(token);
                    vertx.cancelTimer(timer);
                    client.close();
                })
                .map(stopped -> {
                    Result r = new Result(Map.copyOf(statuses), (System.nanoTime() - start) / 1_000_000, stopped);
                    int sent = r.statuses().values().stream().mapToInt(Integer::intValue).sum();
                    if (stopped.filter(s -> s.startsWith(ACCEPTED)).isPresent()) {
                        log.error("start-up warm-up stopped: {}", stopped.get());
                    } else if (stopped.isPresent()) {
                        log.warn("start-up warm-up stopped early after {} requests in {} ms: {} {}", sent,
                                r.millis(), stopped.get(), statuses);
                    } else {
                        log.info("start-up warm-up: {} requests in {} ms {}", sent, r.millis(), statuses);
                    }
                    return r;
                });
    }

    /*
     * One call at a time, the next sent from the answer's callback, so the stack stays one call deep however
     * many calls there are. (A chain of compose() links built up front, as the 64-round warm-up had, runs its
     * remaining links one inside another once one of them ends the run: some 14,000 frames at 400 rounds.)
     */
    private record Sender(HttpClientAgent client, String host, int port, int adminPort, List<Call> calls,
                          Limits limits, Map<String, Integer> statuses, Promise<Optional<String>> done,
                          String token) {
        void sendFrom(int index) {
            if (done.future().isComplete()) {
                return; // the deadline passed
            }
            if (index == calls.size()) {
                done.tryComplete(Optional.empty());
                return;
            }
            Call call = calls.get(index);
            Future<Integer> answer;
            try {
                answer = send(call, CLIENT_HEADERS.get(index % CLIENT_HEADERS.size()));
            } catch (RuntimeException e) { // the client is closing: the server is being stopped
                done.tryComplete(Optional.of(e.toString()));
                return;
            }
            answer.onComplete(ar -> {
                if (ar.failed()) {
                    done.tryComplete(Optional.of(String.valueOf(ar.cause().getMessage())));
                    return;
                }
                int status = ar.result();
                statuses.merge(call.label() + " " + status, 1, Integer::sum);
                if (call.mutating() && status / 100 == 2) {
                    done.tryComplete(Optional.of(ACCEPTED + call.method() + " " + call.path() + " answered "
                            + status));
                    return;
                }
                sendFrom(index + 1);
            });
        }

        private Future<Integer> send(Call call, Map<String, String> clientHeaders) {
            int to = call.admin() ? adminPort : port;
            /*
             * The connection goes to host:port; the Host header names an IPv6 literal in brackets, which the
             * client would not add itself. setTimeout bounds both the wait for a connection (the pool's included)
             * and the wait for each part of the answer.
             */
            String hostName = host.indexOf(':') >= 0 ? "[" + host + "]" : host;
            RequestOptions ro = new RequestOptions().setMethod(call.method())
                    .setServer(SocketAddress.inetSocketAddress(to, host))
                    .setHost(hostName).setPort(to).setURI(call.path())
                    .setTimeout(limits.requestMillis());
            // Vert.x writes host and content-length in lower case; the other clients capitalize them, Host first
            boolean other = !USER_AGENT.equals(clientHeaders.get("User-Agent"));
            if (other) {
                ro.putHeader("Host", hostName + ":" + to);
            }
            clientHeaders.forEach(ro::putHeader);
            ro.putHeader(WarmupRequests.HEADER, token);
            return client.request(ro).compose(req -> {
                if (call.body() == null) {
                    return req.send();
                }
                Buffer body = Buffer.buffer(call.body());
                req.putHeader("Content-Type", "application/json");
                if (other) {
                    req.putHeader("Content-Length", Integer.toString(body.length()));
                }
                return req.send(body);
            }).compose(resp -> resp.body().map(b -> resp.statusCode()));
        }
    }
}
