package dev.gantry.store.catalog;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

class MigrationsTest {
    @Test
    void statements_dropCommentLines_andSplitAtLineEndingSemicolons() {
        String script = "-- a comment\nCREATE TABLE a (\n  x INT -- inline\n);\n\nCREATE INDEX i ON a (x);\n";
        assertEquals(List.of("CREATE TABLE a (\n  x INT -- inline\n)", "CREATE INDEX i ON a (x)"),
                Migrations.statements(script));
    }
}
