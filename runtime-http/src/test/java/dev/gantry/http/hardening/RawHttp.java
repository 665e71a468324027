package dev.gantry.http.hardening;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/** HTTP/1.1 over a plain socket, so a test controls every byte sent and sees exactly what comes back. */
public final class RawHttp {
    private static final int MAX_HEAD = 64 * 1024;

    private RawHttp() {
    }

    /** How an exchange ended. */
    public enum Outcome {
        /** A complete response (status line, headers and the whole body its Content-Length announced). */
        RESPONSE,
        /** The server closed the connection before sending a byte. */
        CLOSED_WITHOUT_RESPONSE,
        /** The connection was reset before a response arrived. */
        RESET,
        /** Nothing complete arrived within the read timeout. */
        TIMEOUT,
        /** The reply did not start with "HTTP/" (an HTTP/2 preface answered with frames, for instance). */
        NOT_HTTP1,
        /** A response started but ended before its head or announced body was complete. */
        TRUNCATED
    }

    public record Reply(Outcome outcome, int status, Map<String, String> headers, byte[] body, String detail) {
        public String bodyText() {
            return new String(body, StandardCharsets.UTF_8);
        }

        public String header(String name) {
            return headers.get(name.toLowerCase(Locale.ROOT));
        }

        @Override
        public String toString() {
            String text = bodyText();
            return outcome + (status > 0 ? " " + status : "") + (detail.isEmpty() ? "" : " (" + detail + ")")
                    + (text.isEmpty() ? "" : " " + (text.length() > 300 ? text.substring(0, 300) + "..." : text));
        }

        public static Reply of(Outcome o, String detail) {
            return new Reply(o, 0, Map.of(), new byte[0], detail);
        }
    }

    /**
     * A well-formed request with a Content-Length body, as the bytes a client sends: {@code headers} are extra
     * header lines, each ending in CRLF (or empty).
     */
    public static byte[] request(String method, String path, String headers, byte[] body) {
        byte[] head = (method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + headers + "Content-Length: "
                + body.length + "\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1);
        byte[] request = Arrays.copyOf(head, head.length + body.length);
        System.arraycopy(body, 0, request, head.length, body.length);
        return request;
    }

    public static Socket connect(int port, int readTimeoutMs) throws IOException {
        Socket s = new Socket();
        s.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
        s.setSoTimeout(readTimeoutMs);
        s.setTcpNoDelay(true);
        return s;
    }

    /** Sends {@code request} on a new connection and reads one response; never throws for network trouble. */
    public static Reply exchange(int port, byte[] request, int readTimeoutMs) {
        try (Socket s = connect(port, readTimeoutMs)) {
            boolean writeFailed = false;
            try {
                OutputStream out = s.getOutputStream();
                out.write(request);
                out.flush();
            } catch (IOException e) {
                writeFailed = true; // the server may answer and close before reading everything
            }
            Reply r = read(new BufferedInputStream(s.getInputStream()));
            return writeFailed && r.outcome() != Outcome.RESPONSE
                    ? new Reply(r.outcome(), r.status(), r.headers(), r.body(), r.detail() + " after a failed write")
                    : r;
        } catch (IOException e) {
            return Reply.of(Outcome.RESET, "connect: " + e);
        }
    }

    /** Reads one response (skipping 100 Continue); a network failure becomes the matching outcome. */
    public static Reply read(InputStream in) {
        try {
            while (true) {
                byte[] head = readHead(in);
                if (head == null) {
                    return Reply.of(Outcome.CLOSED_WITHOUT_RESPONSE, "");
                }
                String text = new String(head, StandardCharsets.ISO_8859_1);
                if (!text.startsWith("HTTP/")) {
                    return Reply.of(Outcome.NOT_HTTP1, "first bytes: " + printable(text));
                }
                if (!text.endsWith("\r\n\r\n")) {
                    return Reply.of(Outcome.TRUNCATED, "head: " + printable(text));
                }
                String[] lines = text.split("\r\n");
                String[] statusLine = lines[0].split(" ", 3);
                int status = Integer.parseInt(statusLine[1]);
                Map<String, String> headers = new LinkedHashMap<>();
                for (int i = 1; i < lines.length; i++) {
                    int colon = lines[i].indexOf(':');
                    if (colon > 0) {
                        headers.put(lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT),
                                lines[i].substring(colon + 1).trim());
                    }
                }
                if (status == 100) {
                    continue;
                }
                byte[] body = new byte[0];
                String length = headers.get("content-length");
                if (length != null) {
                    int n = Integer.parseInt(length);
                    body = in.readNBytes(n);
                    if (body.length < n) {
                        return new Reply(Outcome.TRUNCATED, status, headers, body, "body " + body.length + " of " + n
                                + " bytes");
                    }
                } else if ("chunked".equalsIgnoreCase(headers.get("transfer-encoding"))) {
                    body = readChunked(in);
                }
                return new Reply(Outcome.RESPONSE, status, headers, body, "");
            }
        } catch (SocketTimeoutException e) {
            return Reply.of(Outcome.TIMEOUT, e.getMessage());
        } catch (EOFException e) {
            return Reply.of(Outcome.TRUNCATED, e.getMessage());
        } catch (SocketException e) {
            return Reply.of(Outcome.RESET, e.getMessage());
        } catch (IOException | RuntimeException e) {
            return Reply.of(Outcome.TRUNCATED, e.toString());
        }
    }

    /** The head up to and including the blank line; what arrived before EOF otherwise; null if nothing did. */
    private static byte[] readHead(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int matched = 0;
        while (head.size() < MAX_HEAD) {
            int b = in.read();
            if (b < 0) {
                return head.size() == 0 ? null : head.toByteArray();
            }
            head.write(b);
            if (head.size() == 5 && !head.toString(StandardCharsets.ISO_8859_1).equals("HTTP/")) {
                return head.toByteArray();
            }
            matched = (b == '\r' && (matched == 0 || matched == 2)) || (b == '\n' && (matched == 1 || matched == 3))
                    ? matched + 1 : (b == '\r' ? 1 : 0);
            if (matched == 4) {
                return head.toByteArray();
            }
        }
        return head.toByteArray();
    }

    private static byte[] readChunked(InputStream in) throws IOException {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        while (true) {
            String size = readLine(in);
            int n = Integer.parseInt(size.split(";", 2)[0].trim(), 16);
            if (n == 0) {
                while (!readLine(in).isEmpty()) {
                    // trailers
                }
                return body.toByteArray();
            }
            byte[] chunk = in.readNBytes(n);
            if (chunk.length < n) {
                throw new EOFException("chunk " + chunk.length + " of " + n + " bytes");
            }
            body.writeBytes(chunk);
            readLine(in);
        }
    }

    private static String readLine(InputStream in) throws IOException {
        StringBuilder sb = new StringBuilder();
        int b;
        while ((b = in.read()) != '\n') {
            if (b < 0) {
                throw new EOFException("connection closed inside a chunked body");
            }
            if (b != '\r') {
                sb.append((char) b);
            }
        }
        return sb.toString();
    }

    static String printable(String s) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < s.length() && i < 120; i++) {
            char c = s.charAt(i);
            sb.append(c >= 0x20 && c < 0x7f ? String.valueOf(c) : String.format("\\x%02x", (int) c & 0xff));
        }
        return s.length() > 120 ? sb + "..." : sb.toString();
    }
}
