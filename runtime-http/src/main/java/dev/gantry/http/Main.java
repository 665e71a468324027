package dev.gantry.http;

import java.util.Arrays;
import java.util.List;

/** {@code gantry serve [options]}: starts the server and runs until SIGTERM/SIGINT, then drains and exits 0. */
public final class Main {
    private Main() {
    }

    public static void main(String[] args) {
        List<String> rest = Arrays.asList(args);
        if (!rest.isEmpty() && rest.get(0).equals("serve")) {
            rest = rest.subList(1, rest.size());
        }
        if (rest.contains("--help") || rest.contains("-h")) {
            System.out.print(ServerConfigParser.usage());
            return;
        }
        ServerConfig config;
        try {
            config = ServerConfigParser.parse(rest, System.getenv());
        } catch (ServerConfigParser.ConfigException e) {
            System.err.println("gantry: " + e.getMessage());
            System.exit(2);
            return;
        }
        GantryServer server = GantryServer.create(config);
        try {
            server.start().toCompletionStage().toCompletableFuture().join();
        } catch (RuntimeException e) {
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            System.err.println("gantry: " + cause.getMessage());
            System.exit(1);
            return;
        }
        Runtime.getRuntime().addShutdownHook(Thread.ofPlatform().name("gantry-shutdown").unstarted(
                () -> server.stop().join()));
    }
}
