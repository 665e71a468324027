package dev.gantry.http;

import dev.gantry.http.cli.AdminCommand;
import dev.gantry.http.cli.RolloutCommand;
import dev.gantry.http.cli.KeysCommand;
import dev.gantry.http.cli.PushCommand;

import java.util.Arrays;
import java.util.List;

/**
 * {@code gantry serve [options]} runs the server until SIGTERM or SIGINT, then drains and exits 0;
 * {@code gantry keys ...} manages API keys.
 */
public final class Main {
    private Main() {
    }

    public static void main(String[] args) {
        List<String> rest = Arrays.asList(args);
        String command = rest.isEmpty() || rest.get(0).startsWith("-") ? "serve" : rest.get(0);
        if (!rest.isEmpty() && !rest.get(0).startsWith("-")) {
            rest = rest.subList(1, rest.size());
        }
        switch (command) {
            case "serve" -> serve(rest);
            case "keys" -> System.exit(KeysCommand.run(rest, System.getenv(), System.out, System.err));
            case "push" -> System.exit(PushCommand.run(rest, System.getenv(), System.out, System.err));
            case "rollout" -> System.exit(RolloutCommand.run(rest, System.getenv(), System.out, System.err));
            case "models", "load", "unload", "traffic", "history", "rollback", "version", "card", "request-approval",
                 "approve", "reject", "suspend", "resume", "deprecate", "catalog", "audit" ->
                    System.exit(AdminCommand.run(command, rest, System.getenv(), System.out, System.err));
            default -> {
                System.err.println("gantry: unknown command '" + command + "'; commands are serve, keys, push, models, load, unload, traffic,"
                        + " history, rollback, version, card, request-approval, approve, reject, suspend, resume,"
                        + " deprecate, catalog, audit, rollout");
                System.exit(2);
            }
        }
    }

    private static void serve(List<String> args) {
        if (args.contains("--help") || args.contains("-h")) {
            System.out.print(ServerConfigParser.usage());
            return;
        }
        ServerConfig config;
        try {
            config = ServerConfigParser.parse(args, System.getenv());
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
        Runnable drainAndExit = () -> {
            server.stop().join();
            System.exit(0);
        };
        /*
         * SIGTERM and SIGINT drain and then exit 0: a shutdown hook alone would leave the JVM's exit status at
         * 128+signal, which process managers read as a crash.
         */
        for (String name : List.of("TERM", "INT")) {
            try {
                sun.misc.Signal.handle(new sun.misc.Signal(name),
                        sig -> Thread.ofPlatform().name("gantry-shutdown").start(drainAndExit));
            } catch (IllegalArgumentException e) {
                Runtime.getRuntime().addShutdownHook(Thread.ofPlatform().name("gantry-shutdown")
                        .unstarted(() -> server.stop().join()));
            }
        }
    }
}
