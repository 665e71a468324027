package dev.gantry.http.hardening;

import dev.gantry.http.testing.Bodies;
import dev.gantry.http.testing.ServerFixture;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Gantry serves no WebSocket: a request asking to upgrade, with or without a compression extension, is answered
 * as the plain HTTP request it also is, never switched to another protocol.
 */
class WebSocketUpgradeTest {
    private static final String UPGRADE = "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
            + "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits, x-webkit-deflate-frame\r\n";

    static ServerFixture server;

    @BeforeAll
    static void start() {
        server = ServerFixture.shared();
    }

    @Test
    void upgradeOnAGetRoute_isAnsweredAsTheGet() {
        RawHttp.Reply r = RawHttp.exchange(server.server().port(),
                RawHttp.request("GET", "/v2/health/live", UPGRADE, new byte[0]), 10_000);
        assertEquals(RawHttp.Outcome.RESPONSE, r.outcome(), r.toString());
        assertEquals(200, r.status(), r.toString());
        assertTrue(r.bodyText().contains("\"live\":true"), r.bodyText());
        assertNull(r.header("Sec-WebSocket-Extensions"), r.toString());
        assertNull(r.header("Sec-WebSocket-Accept"), r.toString());
    }

    @Test
    void upgradeOnInference_isAnsweredWithTheModelsOutputs() {
        byte[] body = Bodies.fp32Request("features", new long[] {1, 64}, Bodies.randomFloats(64, 9), null)
                .getBytes(StandardCharsets.UTF_8);
        RawHttp.Reply r = RawHttp.exchange(server.server().port(), RawHttp.request("POST", "/v2/models/mlp/infer",
                UPGRADE + "Content-Type: application/json\r\n", body), 10_000);
        assertEquals(200, r.status(), r.toString());
        assertTrue(r.bodyText().contains("\"outputs\""), r.bodyText());
        assertNull(r.header("Sec-WebSocket-Extensions"), r.toString());
    }

    @Test
    void unknownPathWithUpgrade_is404() {
        RawHttp.Reply r = RawHttp.exchange(server.server().port(),
                RawHttp.request("GET", "/ws", UPGRADE, new byte[0]), 10_000);
        assertEquals(404, r.status(), r.toString());
    }
}
