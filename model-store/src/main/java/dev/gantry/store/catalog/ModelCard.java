package dev.gantry.store.catalog;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * What a model version is for and what it must not be used for, who owns it, where it came from and how it
 * scored. Absent fields are empty; {@code metrics} values are {@link BigDecimal} or {@link String}.
 */
public record ModelCard(Optional<String> owner, Optional<String> description, Optional<String> intendedUse,
                        Optional<String> outOfScopeUses, Optional<String> limitations, Optional<String> riskNotes,
                        Optional<RiskTier> riskTier, Optional<String> license, Optional<Lineage> lineage,
                        List<String> tags, SortedMap<String, Object> metrics) {
    /** The top-level field names, as in JSON. */
    public static final List<String> FIELDS = List.of("owner", "description", "intended_use", "out_of_scope_uses",
            "limitations", "risk_notes", "risk_tier", "license", "lineage", "tags", "metrics");
    /** The names a card policy may require: the top-level fields with lineage split into its parts. */
    public static final List<String> REQUIRABLE_FIELDS = List.of("owner", "description", "intended_use",
            "out_of_scope_uses", "limitations", "risk_notes", "risk_tier", "license", "lineage.source",
            "lineage.training_run", "lineage.datasets", "tags", "metrics");
    public static final ModelCard EMPTY = new ModelCard(Optional.empty(), Optional.empty(), Optional.empty(),
            Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty(),
            Optional.empty(), List.of(), new TreeMap<>());
    private static final ObjectMapper MAPPER = new ObjectMapper();

    public ModelCard {
        Objects.requireNonNull(owner, "owner");
        Objects.requireNonNull(description, "description");
        Objects.requireNonNull(intendedUse, "intended_use");
        Objects.requireNonNull(outOfScopeUses, "out_of_scope_uses");
        Objects.requireNonNull(limitations, "limitations");
        Objects.requireNonNull(riskNotes, "risk_notes");
        Objects.requireNonNull(riskTier, "risk_tier");
        Objects.requireNonNull(license, "license");
        Objects.requireNonNull(lineage, "lineage");
        Objects.requireNonNull(tags, "tags");
        Objects.requireNonNull(metrics, "metrics");
        for (int i = 0; i < tags.size(); i++) {
            if (tags.get(i) == null) {
                throw new IllegalArgumentException("tags[" + i + "] must be a string, was null");
            }
        }
        tags = List.copyOf(tags);
        TreeMap<String, Object> m = new TreeMap<>();
        for (Map.Entry<String, Object> e : metrics.entrySet()) {
            if (e.getKey() == null || e.getKey().isBlank()) {
                throw new IllegalArgumentException("metrics names must not be blank, was " + Checks.quote(e.getKey()));
            }
            Object v = e.getValue();
            if (v instanceof Number n && !(v instanceof BigDecimal)) {
                v = new BigDecimal(n.toString());
            }
            if (!(v instanceof BigDecimal) && !(v instanceof String)) {
                throw new IllegalArgumentException("metrics." + e.getKey() + " must be a number or a string, was " + v);
            }
            m.put(e.getKey(), v);
        }
        metrics = Collections.unmodifiableSortedMap(m);
    }

    /**
     * Parses a card; absent and {@code null} fields are empty.
     *
     * @throws IllegalArgumentException naming the unknown field, or the field and the value of the wrong type
     */
    public static ModelCard fromJson(String json) {
        return EMPTY.withPatch(parse(json));
    }

    /** Reads JSON text into a tree, for {@link #withPatch(JsonNode)}. */
    public static JsonNode parse(String json) {
        try {
            JsonNode n = MAPPER.readTree(json);
            if (n == null) {
                throw new IllegalArgumentException("a model card must be a JSON object, was empty");
            }
            return n;
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("model card is not valid JSON: " + e.getOriginalMessage());
        }
    }

    /** The card as a JSON object with the fields in {@link #FIELDS} order; empty fields are left out. */
    public String toJson() {
        ObjectNode o = MAPPER.createObjectNode();
        owner.ifPresent(v -> o.put("owner", v));
        description.ifPresent(v -> o.put("description", v));
        intendedUse.ifPresent(v -> o.put("intended_use", v));
        outOfScopeUses.ifPresent(v -> o.put("out_of_scope_uses", v));
        limitations.ifPresent(v -> o.put("limitations", v));
        riskNotes.ifPresent(v -> o.put("risk_notes", v));
        riskTier.ifPresent(v -> o.put("risk_tier", v.wireName()));
        license.ifPresent(v -> o.put("license", v));
        lineage.filter(l -> !l.isEmpty()).ifPresent(l -> {
            ObjectNode n = o.putObject("lineage");
            l.source().ifPresent(v -> n.put("source", v));
            l.trainingRun().ifPresent(v -> n.put("training_run", v));
            if (!l.datasets().isEmpty()) {
                ArrayNode a = n.putArray("datasets");
                l.datasets().forEach(a::add);
            }
        });
        if (!tags.isEmpty()) {
            ArrayNode a = o.putArray("tags");
            tags.forEach(a::add);
        }
        if (!metrics.isEmpty()) {
            ObjectNode n = o.putObject("metrics");
            metrics.forEach((k, v) -> {
                if (v instanceof BigDecimal d) {
                    n.put(k, d);
                } else {
                    n.put(k, (String) v);
                }
            });
        }
        try {
            return MAPPER.writeValueAsString(o);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot encode a model card", e);
        }
    }

    /**
     * As {@link #withPatch(JsonNode)}, from the patch's JSON text.
     *
     * @throws IllegalArgumentException when the text is not JSON, or as {@link #withPatch(JsonNode)}
     */
    public ModelCard withPatch(String patchJson) {
        return withPatch(parse(patchJson));
    }

    /**
     * This card changed by a JSON merge patch (RFC 7396): a field set to {@code null} is removed, {@code lineage}
     * and {@code metrics} are merged key by key, arrays are replaced.
     *
     * @throws IllegalArgumentException naming the unknown field, or the field and the value of the wrong type
     */
    public ModelCard withPatch(JsonNode patch) {
        if (patch == null || !patch.isObject()) {
            throw new IllegalArgumentException("a model card patch must be a JSON object, was "
                    + (patch == null ? "null" : patch.getNodeType().name().toLowerCase(java.util.Locale.ROOT)));
        }
        Optional<String> ow = owner;
        Optional<String> de = description;
        Optional<String> iu = intendedUse;
        Optional<String> oo = outOfScopeUses;
        Optional<String> li = limitations;
        Optional<String> rn = riskNotes;
        Optional<RiskTier> rt = riskTier;
        Optional<String> lc = license;
        Optional<Lineage> ln = lineage;
        List<String> tg = tags;
        SortedMap<String, Object> me = metrics;
        for (Iterator<Map.Entry<String, JsonNode>> it = patch.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String f = e.getKey();
            JsonNode v = e.getValue();
            switch (f) {
                case "owner" -> ow = text(f, v);
                case "description" -> de = text(f, v);
                case "intended_use" -> iu = text(f, v);
                case "out_of_scope_uses" -> oo = text(f, v);
                case "limitations" -> li = text(f, v);
                case "risk_notes" -> rn = text(f, v);
                case "license" -> lc = text(f, v);
                case "risk_tier" -> rt = text(f, v).map(s -> RiskTier.fromWire(s).orElseThrow(() ->
                        new IllegalArgumentException("card field 'risk_tier' must be one of [low, medium, high], was "
                                + v)));
                case "lineage" -> ln = lineage(ln.orElse(Lineage.EMPTY), v);
                case "tags" -> tg = strings(f, v);
                case "metrics" -> me = metrics(me, v);
                default -> throw new IllegalArgumentException("unknown card field '" + f + "'; the fields are " + FIELDS);
            }
        }
        return new ModelCard(ow, de, iu, oo, li, rn, rt, lc, ln, tg, me);
    }

    /**
     * The value of a {@linkplain #REQUIRABLE_FIELDS requirable field} as canonical text, empty when the field is
     * absent, blank or an empty list or map. Lists and maps are encoded with length prefixes, so the text of two
     * different values always differs.
     *
     * @throws IllegalArgumentException for a name not in {@link #REQUIRABLE_FIELDS}
     */
    public Optional<String> value(String field) {
        Optional<String> v = switch (field) {
            case "owner" -> owner;
            case "description" -> description;
            case "intended_use" -> intendedUse;
            case "out_of_scope_uses" -> outOfScopeUses;
            case "limitations" -> limitations;
            case "risk_notes" -> riskNotes;
            case "risk_tier" -> riskTier.map(RiskTier::wireName);
            case "license" -> license;
            case "lineage.source" -> lineage.flatMap(Lineage::source);
            case "lineage.training_run" -> lineage.flatMap(Lineage::trainingRun);
            case "lineage.datasets" -> lineage.map(l -> encode(l.datasets()));
            case "tags" -> Optional.of(encode(tags));
            case "metrics" -> Optional.of(encodeMetrics());
            default -> throw new IllegalArgumentException("unknown card field '" + field + "'; the fields are "
                    + REQUIRABLE_FIELDS);
        };
        return v.filter(s -> !s.isBlank());
    }

    private String encodeMetrics() {
        StringBuilder b = new StringBuilder();
        metrics.forEach((k, v) -> {
            String s = v instanceof BigDecimal d ? d.stripTrailingZeros().toPlainString() : "\"" + v;
            b.append(k.length()).append(':').append(k).append('=').append(s.length()).append(':').append(s).append(';');
        });
        return b.toString();
    }

    private static String encode(List<String> items) {
        StringBuilder b = new StringBuilder();
        for (String s : items) {
            b.append(s.length()).append(':').append(s).append(';');
        }
        return b.toString();
    }

    private static Optional<String> text(String field, JsonNode v) {
        if (v.isNull()) {
            return Optional.empty();
        }
        if (!v.isTextual()) {
            throw new IllegalArgumentException("card field '" + field + "' must be a string or null, was " + v);
        }
        return Optional.of(v.asText());
    }

    private static List<String> strings(String field, JsonNode v) {
        if (v.isNull()) {
            return List.of();
        }
        if (!v.isArray()) {
            throw new IllegalArgumentException("card field '" + field + "' must be an array of strings or null, was "
                    + v);
        }
        List<String> out = new ArrayList<>();
        for (int i = 0; i < v.size(); i++) {
            if (!v.get(i).isTextual()) {
                throw new IllegalArgumentException("card field '" + field + "[" + i + "]' must be a string, was "
                        + v.get(i));
            }
            out.add(v.get(i).asText());
        }
        return out;
    }

    private static Optional<Lineage> lineage(Lineage base, JsonNode v) {
        if (v.isNull()) {
            return Optional.empty();
        }
        if (!v.isObject()) {
            throw new IllegalArgumentException("card field 'lineage' must be an object or null, was " + v);
        }
        Optional<String> source = base.source();
        Optional<String> run = base.trainingRun();
        List<String> datasets = base.datasets();
        for (Iterator<Map.Entry<String, JsonNode>> it = v.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            switch (e.getKey()) {
                case "source" -> source = text("lineage.source", e.getValue());
                case "training_run" -> run = text("lineage.training_run", e.getValue());
                case "datasets" -> datasets = strings("lineage.datasets", e.getValue());
                default -> throw new IllegalArgumentException("unknown card field 'lineage." + e.getKey()
                        + "'; lineage has [source, training_run, datasets]");
            }
        }
        Lineage l = new Lineage(source, run, datasets);
        return l.isEmpty() ? Optional.empty() : Optional.of(l);
    }

    private static SortedMap<String, Object> metrics(SortedMap<String, Object> base, JsonNode v) {
        if (v.isNull()) {
            return new TreeMap<>();
        }
        if (!v.isObject()) {
            throw new IllegalArgumentException("card field 'metrics' must be an object or null, was " + v);
        }
        TreeMap<String, Object> out = new TreeMap<>(base);
        for (Iterator<Map.Entry<String, JsonNode>> it = v.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            JsonNode m = e.getValue();
            if (m.isNull()) {
                out.remove(e.getKey());
            } else if (m.isNumber()) {
                out.put(e.getKey(), m.decimalValue());
            } else if (m.isTextual()) {
                out.put(e.getKey(), m.asText());
            } else {
                throw new IllegalArgumentException("card field 'metrics." + e.getKey()
                        + "' must be a number, a string or null, was " + m);
            }
        }
        return out;
    }
}
