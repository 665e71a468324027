package dev.gantry.store.artifact;

import dev.gantry.store.artifact.ArtifactException.Reason;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * An archive entry's name, checked and split into segments. Only plain relative names survive: absolute paths,
 * drive letters, backslashes, {@code ..} and NUL are refused rather than repaired, since an archive that holds
 * them was made by a tool to avoid or by someone probing the server.
 *
 * @param raw      the name as the archive spells it, for messages
 * @param segments the name's segments, with empty and {@code .} segments dropped; empty for the root itself
 */
record EntryPath(String raw, List<String> segments) {
    /** The longest file name most file systems accept. */
    private static final int MAX_SEGMENT_BYTES = 255;
    private static final Pattern DRIVE = Pattern.compile("^[A-Za-z]:.*", Pattern.DOTALL);

    EntryPath {
        segments = List.copyOf(segments);
    }

    static EntryPath parse(String raw) throws ArtifactException {
        if (raw == null || raw.isEmpty()) {
            throw unsafe(String.valueOf(raw), "has an empty name");
        }
        if (raw.indexOf('\0') >= 0) {
            throw unsafe(raw, "has a NUL character in its name");
        }
        if (raw.startsWith("/")) {
            throw unsafe(raw, "is an absolute path");
        }
        if (raw.indexOf('\\') >= 0) {
            throw unsafe(raw, "has a backslash in its name");
        }
        if (DRIVE.matcher(raw).matches()) {
            throw unsafe(raw, "starts with a drive letter");
        }
        List<String> segments = new ArrayList<>();
        for (String segment : raw.split("/")) {
            if (segment.equals("..")) {
                throw unsafe(raw, "has a '..' segment");
            }
            if (segment.getBytes(StandardCharsets.UTF_8).length > MAX_SEGMENT_BYTES) {
                throw new ArtifactException(Reason.INVALID, "bundle entry '" + raw + "' has a name segment longer than "
                        + MAX_SEGMENT_BYTES + " bytes");
            }
            if (!segment.isEmpty() && !segment.equals(".")) {
                segments.add(segment);
            }
        }
        return new EntryPath(raw, segments);
    }

    /** The archive's root directory itself, as in {@code ./}. */
    boolean isRoot() {
        return segments.isEmpty();
    }

    /**
     * Whether any segment is hidden, or it is macOS Finder metadata; such entries are skipped, which also keeps
     * a bundle from planting the store's own hidden sidecar.
     */
    boolean isSkipped() {
        return segments.stream().anyMatch(s -> s.startsWith(".")) || segments.get(0).equals("__MACOSX");
    }

    /** The normalized relative name, '/'-separated. */
    String name() {
        return String.join("/", segments);
    }

    private static ArtifactException unsafe(String raw, String problem) {
        return new ArtifactException(Reason.UNSAFE_ARCHIVE, "bundle entry '" + raw + "' " + problem);
    }
}
