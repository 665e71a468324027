package dev.gantry.http.openai;

import com.fasterxml.jackson.core.JsonGenerator;
import dev.gantry.core.error.ErrorCode;
import dev.gantry.core.error.GantryException;
import dev.gantry.core.model.ModelId;
import dev.gantry.core.text.EmbeddingResult;
import dev.gantry.core.text.TextEmbedder;
import dev.gantry.http.auth.AccessControl;
import dev.gantry.http.auth.Caller;
import dev.gantry.http.auth.RouteGroup;
import dev.gantry.http.error.EarlyAnswer;
import dev.gantry.http.inference.BodyMemory;
import dev.gantry.http.inference.BodyReader;
import dev.gantry.http.inference.InferenceHandler;
import dev.gantry.http.json.Json;
import dev.gantry.http.logging.AccessLog;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.RoutingContext;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Base64;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.function.Function;

/** {@code POST /v1/embeddings}: OpenAI's embeddings API over the text models, on the same core as OIP requests. */
public final class EmbeddingsHandler implements Handler<RoutingContext> {
    /*
     * Access. The model is named in the body, so the key is checked in two steps: before the body is read,
     * that it may call inference routes at all (and the rate limit, as for OIP); once the body is parsed,
     * that it may use this model. Both through AccessControl's rules.
     *
     * Threads. The body is read on the event loop; parsing and tokenizing run on the named worker pool
     * (a tokenizer call is tens of microseconds per text, and the first call of a version loads its
     * tokenizer file); inference on the model's scheduler; the response is written back on the request's
     * context, encoded on the worker pool when large.
     */
    static final int OFFLOAD_FLOATS = 16 * 1024;

    private final TextEmbedder embedder;
    private final AccessControl access;
    private final dev.gantry.http.inference.BodyLimits limits;
    private final WorkerExecutor workers;
    private final BooleanSupplier admitting;
    private final AtomicInteger inflight;
    private final Function<ModelId, Map<String, String>> servedBy;
    private final dev.gantry.http.usage.UsageRecorder usage;

    public EmbeddingsHandler(TextEmbedder embedder, AccessControl access, dev.gantry.http.inference.BodyLimits limits,
                             WorkerExecutor workers, BooleanSupplier admitting, AtomicInteger inflight,
                             Function<ModelId, Map<String, String>> servedBy,
                             dev.gantry.http.usage.UsageRecorder usage) {
        this.usage = usage;
        this.embedder = embedder;
        this.access = access;
        this.limits = limits;
        this.workers = workers;
        this.admitting = admitting;
        this.inflight = inflight;
        this.servedBy = servedBy;
    }

    @Override
    public void handle(RoutingContext ctx) {
        Optional<Caller> caller = OpenAiAccess.admit(ctx, access, RouteGroup.INFERENCE, null);
        if (caller.isEmpty()) {
            return;
        }
        try {
            checkContentType(ctx.request().getHeader("Content-Type"));
            if (!admitting.getAsBoolean()) {
                throw new GantryException(ErrorCode.UNAVAILABLE, "server is shutting down and admits no new requests");
            }
        } catch (GantryException e) {
            EarlyAnswer.leaveBodyUnread(ctx);
            OpenAiErrors.send(ctx.response(), e);
            return;
        }
        Optional<dev.gantry.core.error.GantryException> overQuota = usage.admit(ctx);
        if (overQuota.isPresent()) {
            EarlyAnswer.leaveBodyUnread(ctx);
            OpenAiErrors.send(ctx.response(), overQuota.get());
            return;
        }
        // The body is held in the budget until the request ends, or, when the connection closes while the texts
        // are being embedded, until the embedding ends.
        BodyMemory.Lease held = limits.memory().lease();
        inflight.incrementAndGet();
        ctx.addEndHandler(ar -> {
            inflight.decrementAndGet();
            held.ended();
        });
        long[] bytesIn = {0};
        Optional<String> routingKey = Optional.ofNullable(ctx.request().getHeader(InferenceHandler.ROUTE_KEY_HEADER))
                .filter(h -> !h.isBlank());
        BodyReader.read(ctx.request(), limits.maxBytes(), ctx.vertx(), limits.timeout().toMillis(), held)
                .compose(body -> {
                    held.use();
                    return workers.executeBlocking(() -> {
                        bytesIn[0] = body.length();
                        EmbeddingsBody.Parsed parsed = EmbeddingsBody.parse(body, routingKey);
                        AccessControl.modelRefusal(RouteGroup.INFERENCE, caller.get(), parsed.request().model())
                                .ifPresent(refusal -> {
                                    throw refusal;
                                });
                        return new Started(parsed, embedder.embed(parsed.request()));
                    }, /* ordered= */ false);
                })
                .compose(started -> {
                    ctx.put(AccessLog.MODEL_KEY, started.parsed().request().model());
                    return Future.fromCompletionStage(started.result(), ctx.vertx().getOrCreateContext())
                            .compose(result -> {
                                ctx.put(AccessLog.VERSION_KEY, result.model().version());
                                servedBy.apply(result.model()).forEach(ctx.response()::putHeader);
                                ctx.response().putHeader("Gantry-Model-Version",
                                        Long.toString(result.model().version()));
                                return encode(started.parsed(), result).map(encoded -> {
                                    usage.completed(ctx, result.model(), result.vectors().size(), bytesIn[0],
                                            encoded.length(), result.promptTokens(), /* computeNanos= */ 0);
                                    return encoded;
                                });
                            });
                })
                .onSuccess(body -> {
                    if (!ctx.response().ended() && !ctx.response().closed()) {
                        ctx.response().putHeader("Content-Type", "application/json").end(body);
                    }
                })
                .onFailure(e -> {
                    usage.failed(ctx);
                    OpenAiErrors.send(ctx.response(), e);
                })
                .onComplete(ar -> held.done());
    }

    private record Started(EmbeddingsBody.Parsed parsed,
                           java.util.concurrent.CompletableFuture<EmbeddingResult> result) {
    }

    private Future<Buffer> encode(EmbeddingsBody.Parsed parsed, EmbeddingResult result) {
        long floats = result.vectors().stream().mapToLong(v -> v.length).sum();
        if (floats <= OFFLOAD_FLOATS) {
            try {
                return Future.succeededFuture(render(parsed, result));
            } catch (RuntimeException e) {
                return Future.failedFuture(e);
            }
        }
        return workers.executeBlocking(() -> render(parsed, result), /* ordered= */ false);
    }

    /** OpenAI's response: a list of embeddings in input order, the model as asked for, and the token usage. */
    static Buffer render(EmbeddingsBody.Parsed parsed, EmbeddingResult result) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(1024 + result.vectors().size() * 4096);
        try (JsonGenerator g = Json.MAPPER.getFactory().createGenerator(out)) {
            g.writeStartObject();
            g.writeStringField("object", "list");
            g.writeArrayFieldStart("data");
            for (int i = 0; i < result.vectors().size(); i++) {
                float[] v = result.vectors().get(i);
                g.writeStartObject();
                g.writeStringField("object", "embedding");
                g.writeNumberField("index", i);
                g.writeFieldName("embedding");
                if (parsed.base64()) {
                    ByteBuffer bytes = ByteBuffer.allocate(v.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
                    bytes.asFloatBuffer().put(v);
                    g.writeString(Base64.getEncoder().encodeToString(bytes.array()));
                } else {
                    g.writeStartArray();
                    for (float f : v) {
                        g.writeNumber(f);
                    }
                    g.writeEndArray();
                }
                g.writeEndObject();
            }
            g.writeEndArray();
            g.writeStringField("model", parsed.modelField());
            g.writeObjectFieldStart("usage");
            g.writeNumberField("prompt_tokens", result.promptTokens());
            g.writeNumberField("total_tokens", result.promptTokens());
            g.writeEndObject();
            g.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return Buffer.buffer(out.toByteArray());
    }

    private static void checkContentType(String contentType) {
        if (contentType == null) {
            return;
        }
        String type = contentType.split(";", 2)[0].trim().toLowerCase(Locale.ROOT);
        if (!type.isEmpty() && !type.equals("application/json")) {
            throw new GantryException(ErrorCode.UNSUPPORTED_MEDIA_TYPE, "Content-Type '" + contentType
                    + "' is not accepted; send application/json");
        }
    }
}
