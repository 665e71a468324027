package dev.gantry.http.usage;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gantry.core.error.ErrorCode;
import dev.gantry.core.error.GantryException;
import dev.gantry.http.auth.ApiKey;
import dev.gantry.http.auth.Caller;
import dev.gantry.http.auth.KeyStore;
import dev.gantry.core.access.Role;
import dev.gantry.http.error.ErrorMapper;
import dev.gantry.http.json.Json;
import dev.gantry.store.usage.UsageGroup;
import dev.gantry.store.usage.UsageQuery;
import io.vertx.core.WorkerExecutor;
import io.vertx.ext.web.RoutingContext;

import java.time.Clock;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * {@code GET /admin/v1/usage?key=&model=&from=&to=&group_by=}: usage added up from the per-minute aggregates.
 * An admin key (or anyone on a server without keys) sees every key's usage; any other key sees only its own.
 */
public final class UsageHandler {
    private final UsageRecorder usage;
    private final KeyStore keys;
    private final WorkerExecutor workers;
    private final Clock clock;

    public UsageHandler(UsageRecorder usage, KeyStore keys, WorkerExecutor workers, Clock clock) {
        this.usage = usage;
        this.keys = keys;
        this.workers = workers;
        this.clock = clock;
    }

    public void get(RoutingContext ctx) {
        UsageQuery query;
        try {
            query = query(ctx);
        } catch (GantryException e) {
            ErrorMapper.send(ctx.response(), e);
            return;
        }
        workers.executeBlocking(() -> usage.meter().query(query), /* ordered= */ false)
                .onSuccess(groups -> Json.send(ctx.response(), 200, render(query, groups)))
                .onFailure(e -> ErrorMapper.send(ctx, e));
    }

    UsageQuery query(RoutingContext ctx) {
        Caller caller = ctx.get(Caller.CONTEXT_KEY);
        boolean seesAll = caller == null || caller.key().isEmpty() || caller.key().get().roles().contains(Role.ADMIN);
        Optional<String> key = param(ctx, "key").map(this::keyIdOf);
        if (!seesAll) {
            ApiKey own = caller.key().get();
            if (key.isPresent() && !key.get().equals(own.id())) {
                throw new GantryException(ErrorCode.FORBIDDEN, "key '" + own.name() + "' may only read its own usage;"
                        + " reading another key's usage needs the admin role");
            }
            key = Optional.of(own.id());
        }
        long now = Math.floorDiv(clock.millis(), 60_000L);
        long from = param(ctx, "from").map(v -> minute(v, "from", false)).orElse(0L);
        long to = param(ctx, "to").map(v -> minute(v, "to", true)).orElse(now + 1);
        if (to < from) {
            throw new GantryException(ErrorCode.INVALID_ARG, "'to' (" + param(ctx, "to").orElse("now")
                    + ") is before 'from' (" + param(ctx, "from").orElse("") + ")");
        }
        Set<UsageQuery.GroupBy> groupBy = EnumSet.noneOf(UsageQuery.GroupBy.class);
        for (String g : param(ctx, "group_by").orElse("key,model,version").split(",")) {
            if (g.isBlank()) {
                continue;
            }
            try {
                groupBy.add(UsageQuery.GroupBy.valueOf(g.trim().toUpperCase(Locale.ROOT)));
            } catch (IllegalArgumentException e) {
                throw new GantryException(ErrorCode.INVALID_ARG, "group_by '" + g.trim() + "' is not one of key, model,"
                        + " version, minute, day");
            }
        }
        if (groupBy.contains(UsageQuery.GroupBy.MINUTE) && groupBy.contains(UsageQuery.GroupBy.DAY)) {
            throw new GantryException(ErrorCode.INVALID_ARG, "group_by takes minute or day, not both");
        }
        return new UsageQuery(from, to, key, param(ctx, "model"), groupBy);
    }

    /** A key named by id or by name; an unknown one is kept as given (its usage may outlive the key). */
    private String keyIdOf(String idOrName) {
        if (keys.find(idOrName).isPresent()) {
            return idOrName;
        }
        return keys.list().stream().filter(k -> k.name().equals(idOrName)).map(ApiKey::id).findFirst()
                .orElse(idOrName);
    }

    /** An ISO-8601 instant (2026-11-30T01:00:00Z) or a UTC date (2026-11-30), as an epoch minute. */
    private static long minute(String v, String name, boolean roundUp) {
        try {
            Instant t = v.length() == 10 ? LocalDate.parse(v).atStartOfDay(ZoneOffset.UTC).toInstant() : Instant.parse(v);
            long ms = t.toEpochMilli();
            return roundUp ? Math.floorDiv(ms + 59_999, 60_000L) : Math.floorDiv(ms, 60_000L);
        } catch (DateTimeParseException e) {
            throw new GantryException(ErrorCode.INVALID_ARG, "'" + name + "' must be an ISO-8601 instant "
                    + "(2026-11-30T01:00:00Z) or a date (2026-11-30), was '" + v + "'");
        }
    }

    private static Optional<String> param(RoutingContext ctx, String name) {
        String v = ctx.queryParams().get(name);
        return v == null || v.isBlank() ? Optional.empty() : Optional.of(v.trim());
    }

    private ObjectNode render(UsageQuery q, List<UsageGroup> groups) {
        Map<String, String> names = keys.list().stream().collect(Collectors.toMap(ApiKey::id, ApiKey::name,
                (a, b) -> a));
        ObjectNode root = Json.object();
        root.put("from", Instant.ofEpochSecond(q.fromMinute() * 60).toString());
        root.put("to", Instant.ofEpochSecond(q.toMinute() * 60).toString());
        q.keyId().ifPresent(k -> root.put("key", k));
        q.model().ifPresent(m -> root.put("model", m));
        ArrayNode by = root.putArray("group_by");
        q.groupBy().forEach(g -> by.add(g.name().toLowerCase(Locale.ROOT)));
        ArrayNode rows = root.putArray("usage");
        Function<Long, String> time = m -> Instant.ofEpochSecond(m * 60).toString();
        for (UsageGroup g : groups) {
            ObjectNode n = rows.addObject();
            g.keyId().ifPresent(k -> {
                n.put("key", k);
                if (names.containsKey(k)) {
                    n.put("key_name", names.get(k));
                }
            });
            g.model().ifPresent(m -> n.put("model", m));
            g.version().ifPresent(v -> n.put("version", v));
            g.epochMinute().ifPresent(m -> n.put(q.groupBy().contains(UsageQuery.GroupBy.DAY) ? "day" : "minute",
                    time.apply(m)));
            n.put("requests", g.counts().requests());
            n.put("rows", g.counts().rows());
            n.put("bytes_in", g.counts().bytesIn());
            n.put("bytes_out", g.counts().bytesOut());
            n.put("tokens", g.counts().tokens());
            n.put("compute_seconds", g.counts().computeNanos() / 1e9);
            n.put("cost", g.counts().cost());
        }
        return root;
    }
}
