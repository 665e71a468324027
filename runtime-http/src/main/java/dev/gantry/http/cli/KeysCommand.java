package dev.gantry.http.cli;

import dev.gantry.core.error.GantryException;
import dev.gantry.http.params.Durations;
import dev.gantry.http.auth.ApiKey;
import dev.gantry.http.auth.KeyStore;
import dev.gantry.core.access.Role;
import dev.gantry.core.keys.SharedKeys;
import dev.gantry.store.catalog.CatalogLocation;

import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * {@code gantry keys bootstrap|create|list|rotate|revoke}: manages the key file in the data directory directly,
 * so it works with the server stopped (the first key) or running (which picks changes up within a second). Given
 * a shared catalogue ({@code --catalog jdbc:postgresql://...}, or {@code GANTRY_CATALOG}), it changes the keys in
 * that database instead, each change audited as the local operator in its own transaction; every server sharing
 * it picks the change up within a second.
 */
public final class KeysCommand {
    private KeysCommand() {
    }

    public static final String USAGE = """
            Usage:
              gantry keys bootstrap [--name NAME]            first admin key; refused once any key exists
              gantry keys create --name NAME --role ROLE [--role ROLE]... [--model M]... [--expires-in 90d] [--rate N]
              gantry keys list
              gantry keys rotate ID                           new secret, old one stops working
              gantry keys revoke ID
            Every form takes --data DIR (default: $GANTRY_DATA, else ./data). Roles: invoke, deploy, approve, admin.
            Servers sharing a PostgreSQL catalogue keep their keys there: give the same --catalog URL (or
            $GANTRY_CATALOG), --catalog-password-file FILE (or $GANTRY_CATALOG_PASSWORD_FILE, else
            $GANTRY_CATALOG_PASSWORD; user $GANTRY_CATALOG_USER) and --audit-key-file FILE (or
            $GANTRY_AUDIT_KEY_FILE, default <data>/audit.key) as the servers.
            A key's token is printed once, when it is created or rotated; only its hash is stored.
            """;

    /** Runs the command; returns the process exit code. */
    public static int run(List<String> args, Map<String, String> env, PrintStream out, PrintStream err) {
        if (args.isEmpty() || args.contains("--help") || args.contains("-h")) {
            out.print(USAGE);
            return args.isEmpty() ? 2 : 0;
        }
        String sub = args.get(0);
        List<String> rest = new ArrayList<>(args.subList(1, args.size()));
        try {
            Path data = Path.of(option(rest, "--data").orElse(env.getOrDefault("GANTRY_DATA", "data")));
            Optional<String> catalog = option(rest, "--catalog").or(() -> nonBlank(env.get("GANTRY_CATALOG")));
            Optional<Path> passwordFile = option(rest, "--catalog-password-file")
                    .or(() -> nonBlank(env.get("GANTRY_CATALOG_PASSWORD_FILE"))).map(Path::of);
            Optional<Path> auditKey = option(rest, "--audit-key-file")
                    .or(() -> nonBlank(env.get("GANTRY_AUDIT_KEY_FILE"))).map(Path::of);
            if (catalog.isEmpty()) {
                if (passwordFile.isPresent()) {
                    throw GantryException.invalid("--catalog-password-file is only used with --catalog "
                            + "jdbc:postgresql://...");
                }
                return run(sub, rest, data.toString(), KeyStore.open(data, Clock.systemUTC()), out, err);
            }
            Path keyFile = auditKey.orElse(data.resolve("audit.key"));
            if (!java.nio.file.Files.isReadable(keyFile)) {
                // Never make one: a new random key would sign entries the servers cannot verify.
                throw GantryException.invalid("the audit key file " + keyFile + " does not exist or cannot be read;"
                        + " give the servers' --audit-key-file (or GANTRY_AUDIT_KEY_FILE)");
            }
            try (SharedKeys shared = SharedKeys.open(CatalogLocation.postgres(catalog.get().strip(), passwordFile, env),
                    data, auditKey)) {
                KeyStore keys = KeyStore.shared(Clock.systemUTC());
                keys.bind(shared);
                return run(sub, rest, "the catalogue", keys, out, err);
            }
        } catch (GantryException | IllegalArgumentException e) {
            err.println("gantry keys: " + e.getMessage());
            return 1;
        }
    }

    private static Optional<String> nonBlank(String s) {
        return Optional.ofNullable(s).filter(v -> !v.isBlank());
    }

    private static int run(String sub, List<String> rest, String where, KeyStore keys, PrintStream out,
                           PrintStream err) {
        try {
            switch (sub) {
                case "bootstrap" -> {
                    if (!keys.isEmpty()) {
                        err.println("gantry keys: keys already exist in " + where + "; use 'gantry keys create' with an"
                                + " admin key's access, or the admin API");
                        return 1;
                    }
                    String name = option(rest, "--name").orElse("admin");
                    noLeftovers(rest);
                    printCreated(keys.create(name, Set.of(Role.ADMIN), Set.of(), Optional.empty(), Optional.empty()),
                            out);
                }
                case "create" -> {
                    String name = option(rest, "--name").orElseThrow(() -> GantryException.invalid("--name is required"));
                    Set<Role> roles = new TreeSet<>();
                    for (String r : options(rest, "--role")) {
                        roles.add(Role.fromWire(r).orElseThrow(() -> GantryException.invalid("unknown role '" + r
                                + "'; roles are invoke, deploy, approve, admin")));
                    }
                    Set<String> models = new TreeSet<>(options(rest, "--model"));
                    Optional<Instant> expires = option(rest, "--expires-in")
                            .map(d -> Durations.fromNow("--expires-in", d, Instant.now()));
                    Optional<Double> rate = option(rest, "--rate").map(Double::parseDouble);
                    noLeftovers(rest);
                    printCreated(keys.create(name, roles, models, expires, rate), out);
                }
                case "list" -> {
                    noLeftovers(rest);
                    out.printf("%-14s %-24s %-26s %-18s %s%n", "ID", "NAME", "ROLES", "MODELS", "STATUS");
                    for (ApiKey k : keys.list()) {
                        String status = k.revoked().map(t -> "revoked " + t)
                                .orElseGet(() -> k.isActive(Instant.now()) ? k.expires().map(e -> "active until " + e)
                                        .orElse("active") : "expired " + k.expires().orElseThrow());
                        out.printf("%-14s %-24s %-26s %-18s %s%n", k.id(), k.name(),
                                k.roles().stream().map(Role::wireName).sorted().toList(),
                                k.models().isEmpty() ? "all" : String.join(",", k.models()), status);
                    }
                }
                case "rotate" -> {
                    String id = positional(rest, "rotate");
                    printCreated(keys.rotate(id), out);
                }
                case "revoke" -> {
                    String id = positional(rest, "revoke");
                    ApiKey k = keys.revoke(id);
                    out.println("revoked " + k.id() + " (" + k.name() + ")");
                }
                default -> {
                    err.println("gantry keys: unknown command '" + sub + "'");
                    err.print(USAGE);
                    return 2;
                }
            }
            return 0;
        } catch (GantryException | IllegalArgumentException e) {
            err.println("gantry keys: " + e.getMessage());
            return 1;
        }
    }

    private static void printCreated(KeyStore.Created c, PrintStream out) {
        ApiKey k = c.key();
        out.println("key " + k.id() + " (" + k.name() + ", roles " + k.roles().stream().map(Role::wireName).sorted()
                .toList() + (k.models().isEmpty() ? "" : ", models " + k.models()) + ")");
        out.println("token (shown once; store it now): " + c.token());
    }

    private static Optional<String> option(List<String> args, String flag) {
        List<String> all = options(args, flag);
        if (all.size() > 1) {
            throw GantryException.invalid(flag + " given more than once");
        }
        return all.stream().findFirst();
    }

    private static List<String> options(List<String> args, String flag) {
        List<String> values = new ArrayList<>();
        for (int i = 0; i < args.size(); ) {
            String a = args.get(i);
            if (a.equals(flag)) {
                if (i + 1 >= args.size()) {
                    throw GantryException.invalid(flag + " needs a value");
                }
                values.add(args.get(i + 1));
                args.remove(i);
                args.remove(i);
            } else if (a.startsWith(flag + "=")) {
                values.add(a.substring(flag.length() + 1));
                args.remove(i);
            } else {
                i++;
            }
        }
        return values;
    }

    private static String positional(List<String> args, String command) {
        if (args.size() != 1 || args.get(0).startsWith("--")) {
            throw GantryException.invalid("'" + command + "' takes one key id, got " + args);
        }
        return args.get(0);
    }

    private static void noLeftovers(List<String> args) {
        if (!args.isEmpty()) {
            throw GantryException.invalid("unexpected arguments " + args);
        }
    }
}
