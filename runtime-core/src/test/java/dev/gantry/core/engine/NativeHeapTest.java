package dev.gantry.core.engine;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** Trimming the C heap goes through the JVM's diagnostic command, without native code of ours. */
class NativeHeapTest {
    @Test
    void trim_runsTheJvmsDiagnosticCommand_andSaysHowLongItTook() {
        String answer = NativeHeap.trim();

        assertTrue(answer.matches("(?s).* in \\d+\\.\\d ms"), answer);
        assertTrue(!System.getProperty("os.name").startsWith("Linux") || answer.startsWith("Trim native heap"),
                answer);
    }
}
