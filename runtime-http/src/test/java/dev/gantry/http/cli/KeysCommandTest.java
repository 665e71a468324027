package dev.gantry.http.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code gantry keys} on a data directory's key file. */
class KeysCommandTest {
    private static String run(Path data, int expectedCode, String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(List.of("--data", data.toString()));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = KeysCommand.run(all, Map.of(), new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        String text = out.toString(StandardCharsets.UTF_8) + err.toString(StandardCharsets.UTF_8);
        assertEquals(expectedCode, code, text);
        return text;
    }

    @Test
    void list_showsARevokedKeyWithoutExpiry_asRevoked(@TempDir Path data) {
        Matcher m = Pattern.compile("key ([0-9a-f]{12}) ").matcher(run(data, 0, "create", "--name", "bot", "--role",
                "invoke"));
        assertTrue(m.find());
        run(data, 0, "revoke", m.group(1));
        String listed = run(data, 0, "list");
        assertTrue(listed.contains("bot") && listed.contains("revoked "), listed);
    }

    @Test
    void catalogPasswordFile_withoutACatalog_isRefused(@TempDir Path data) {
        String out = run(data, 1, "list", "--catalog-password-file", data.resolve("pw").toString());
        assertTrue(out.contains("only used with --catalog"), out);
    }
}
