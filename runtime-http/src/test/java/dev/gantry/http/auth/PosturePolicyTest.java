package dev.gantry.http.auth;

import dev.gantry.core.access.Role;
import dev.gantry.http.GantryServer;
import dev.gantry.http.ServerConfig;
import dev.gantry.http.testing.ServerFixture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The safe default: no keys means loopback only, unless the operator insists. */
class PosturePolicyTest {
    @Test
    void nonLoopbackAddressWithNoKeys_refusesToStart(@TempDir Path data) throws Exception {
        GantryServer server = GantryServer.create(ServerFixture.config(ServerFixture.MODELS, data).withHost("0.0.0.0"));
        Throwable e = server.start().toCompletionStage().toCompletableFuture()
                .handle((ok, err) -> err).get(30, TimeUnit.SECONDS);
        assertTrue(e != null && e.getMessage().contains("refusing to serve on 0.0.0.0 with no API keys"),
                String.valueOf(e));
    }

    @Test
    void nonLoopbackAddressWithNoKeys_startsWhenInsecureIsGiven(@TempDir Path data) throws Exception {
        ServerConfig config = ServerFixture.config(ServerFixture.MODELS, data).withHost("0.0.0.0");
        ServerConfig.Security s = config.security();
        config = config.withSecurity(new ServerConfig.Security(true, s.openHealth(), s.openMetrics(), s.accessLog(),
                s.tlsCert(), s.tlsKey(), s.adminPort(), s.rateLimit(), s.rateBurst()));
        GantryServer server = GantryServer.create(config);
        server.start().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        server.stop().get(30, TimeUnit.SECONDS);
    }

    @Test
    void nonLoopbackAddressWithAKey_starts(@TempDir Path data) throws Exception {
        KeyStore.open(data, java.time.Clock.systemUTC()).create("root", Set.of(Role.ADMIN), Set.of(), Optional.empty(),
                Optional.empty());
        GantryServer server = GantryServer.create(ServerFixture.config(ServerFixture.MODELS, data).withHost("0.0.0.0"));
        server.start().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        assertEquals(false, server.keys().isEmpty());
        server.stop().get(30, TimeUnit.SECONDS);
    }
}
