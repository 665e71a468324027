package dev.gantry.core.testing;

import dev.gantry.core.tracing.TraceSpan;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/** A span fake that records its children, links, attributes and whether it ended. */
public final class RecordingSpan implements TraceSpan {
    public final String name;
    public final RecordingSpan parent;
    public final List<TraceSpan> links;
    public final List<RecordingSpan> children = new CopyOnWriteArrayList<>();
    public final Map<String, Object> attributes = new ConcurrentHashMap<>();
    public volatile boolean ended;
    public volatile String failure;

    public RecordingSpan(String name) {
        this(name, null, List.of());
    }

    private RecordingSpan(String name, RecordingSpan parent, List<TraceSpan> links) {
        this.name = name;
        this.parent = parent;
        this.links = List.copyOf(links);
    }

    @Override
    public boolean isRecording() {
        return true;
    }

    @Override
    public TraceSpan child(String childName) {
        return child(childName, List.of());
    }

    @Override
    public TraceSpan child(String childName, List<TraceSpan> childLinks) {
        RecordingSpan c = new RecordingSpan(childName, this, childLinks);
        children.add(c);
        return c;
    }

    @Override
    public TraceSpan set(String key, String value) {
        attributes.put(key, value);
        return this;
    }

    @Override
    public TraceSpan set(String key, long value) {
        attributes.put(key, value);
        return this;
    }

    @Override
    public void fail(String message) {
        failure = message;
    }

    @Override
    public void end() {
        ended = true;
    }

    /** The children named {@code childName}. */
    public List<RecordingSpan> children(String childName) {
        return children.stream().filter(c -> c.name.equals(childName)).toList();
    }
}
