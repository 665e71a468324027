package dev.gantry.http.sizing;

import io.netty.channel.epoll.Epoll;

import java.util.Locale;
import java.util.Optional;

/**
 * How the event loops talk to the sockets ({@code --transport}): Netty's native epoll transport where it loads
 * (Linux x86-64; the library ships inside the server jar), Java NIO elsewhere or when asked.
 *
 * <p>Why epoll by default: on the MLP over JSON it answered 1.12x the requests at 0.91x the server CPU per request
 * of NIO, same build, alternating rounds (benchmarks/results/request-path-wakeups-20261130.md, row 1). Behaviour is the same
 * (the whole test suite runs on it); NIO stays selectable for a kernel or libc where the native library misbehaves.
 */
public enum NetworkTransport {
    EPOLL("epoll"),
    NIO("nio");

    private final String label;

    NetworkTransport(String label) {
        this.label = label;
    }

    /** The name used by {@code --transport}. */
    public String label() {
        return label;
    }

    /** What {@code auto} gives on this machine: epoll when its native library loads here, else NIO. */
    public static NetworkTransport derived() {
        return Epoll.isAvailable() ? EPOLL : NIO;
    }

    /** Why epoll cannot be used here, empty when it can. */
    public static Optional<String> epollUnavailable() {
        if (Epoll.isAvailable()) {
            return Optional.empty();
        }
        Throwable cause = Epoll.unavailabilityCause();
        return Optional.of(cause == null ? "unknown reason" : cause.toString());
    }

    /**
     * The transport for a {@code --transport} value: {@code auto}, {@code epoll} or {@code nio}.
     *
     * @throws IllegalArgumentException naming the problem: an unknown value, or epoll asked for where it does not
     *     load (with the loader's reason)
     */
    public static NetworkTransport of(String value) {
        String v = value == null ? "" : value.trim().toLowerCase(Locale.ROOT);
        return switch (v) {
            case "auto" -> derived();
            case "nio" -> NIO;
            case "epoll" -> {
                Optional<String> why = epollUnavailable();
                if (why.isPresent()) {
                    throw new IllegalArgumentException("epoll is not available on this machine (" + why.get()
                            + "); use auto or nio");
                }
                yield EPOLL;
            }
            default -> throw new IllegalArgumentException("must be one of auto, epoll, nio, was '" + value + "'");
        };
    }
}
