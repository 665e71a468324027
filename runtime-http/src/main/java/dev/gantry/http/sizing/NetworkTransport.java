package dev.gantry.http.sizing;

import io.netty.channel.epoll.Epoll;
import io.netty.channel.uring.IoUring;
import io.vertx.core.transport.Transport;

import java.util.Locale;
import java.util.Optional;

/**
 * How the event loops talk to the sockets ({@code --transport}): Netty's io_uring transport where the kernel allows
 * it, else Netty's native epoll transport where it loads (Linux x86-64; both libraries ship inside the server jar),
 * Java NIO elsewhere or when asked.
 *
 * <p>Why io_uring first: on the MLP over JSON it answered 1.19x the requests of epoll at 0.84x the server CPU per
 * request, same server, alternating rounds (benchmarks/results/transport-io_uring-20261202.txt): a loop hands its
 * reads and writes to the kernel through shared rings rather than one system call each. Where io_uring is refused
 * (Docker's default seccomp profile, {@code kernel.io_uring_disabled}, kernels before Netty's minimum) Netty's
 * probe says so and {@code auto} takes epoll, which answered 1.12x the requests of NIO at 0.91x its CPU per request
 * (benchmarks/results/request-path-wakeups-20261130.md, row 1). Behaviour is the same on all three (the whole test
 * suite runs on the derived one, and one test serves on each); epoll and NIO stay selectable for a kernel or libc
 * where a native library misbehaves.
 */
public enum NetworkTransport {
    IO_URING("io_uring", Transport.IO_URING),
    EPOLL("epoll", Transport.EPOLL),
    NIO("nio", Transport.NIO);

    private final String label;
    private final Transport vertx;

    NetworkTransport(String label, Transport vertx) {
        this.label = label;
        this.vertx = vertx;
    }

    /** The name used by {@code --transport}. */
    public String label() {
        return label;
    }

    /** The Vert.x transport to build the event loops on. */
    public Transport vertx() {
        return vertx;
    }

    /** Whether this is one of Netty's native transports (Vert.x then reports a native transport in use). */
    public boolean isNative() {
        return this != NIO;
    }

    /** What {@code auto} gives here: io_uring where the kernel allows it, else epoll where it loads, else NIO. */
    public static NetworkTransport derived() {
        return IoUring.isAvailable() ? IO_URING : Epoll.isAvailable() ? EPOLL : NIO;
    }

    /** Why this transport cannot be used here, empty when it can (always empty for NIO). */
    public Optional<String> unavailable() {
        return switch (this) {
            case IO_URING -> IoUring.isAvailable() ? Optional.empty()
                    : Optional.of(reason(IoUring.unavailabilityCause()));
            case EPOLL -> Epoll.isAvailable() ? Optional.empty()
                    : Optional.of(reason(Epoll.unavailabilityCause()));
            case NIO -> Optional.empty();
        };
    }

    private static String reason(Throwable cause) {
        return cause == null ? "unknown reason" : cause.toString();
    }

    /**
     * The transport for a {@code --transport} value: {@code auto}, {@code io_uring}, {@code epoll} or {@code nio}.
     *
     * @throws IllegalArgumentException naming the problem: an unknown value, or a native transport asked for where it
     *     cannot run (with Netty's reason)
     */
    public static NetworkTransport of(String value) {
        String v = value == null ? "" : value.trim().toLowerCase(Locale.ROOT);
        NetworkTransport t = switch (v) {
            case "auto" -> derived();
            case "io_uring" -> IO_URING;
            case "epoll" -> EPOLL;
            case "nio" -> NIO;
            default -> throw new IllegalArgumentException("must be one of auto, io_uring, epoll, nio, was '" + value
                    + "'");
        };
        Optional<String> why = t.unavailable();
        if (why.isPresent()) {
            throw new IllegalArgumentException(t.label + " is not available on this machine (" + why.get()
                    + "); use auto, or " + (t == IO_URING ? "epoll or nio" : "nio"));
        }
        return t;
    }
}
