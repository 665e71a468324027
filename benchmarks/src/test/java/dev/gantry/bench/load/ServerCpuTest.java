package dev.gantry.bench.load;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Reading a server's CPU and its JIT's part from /proc, and the warm-up's settling loop. */
class ServerCpuTest {

    /** A /proc/PID/task/TID/stat line: utime and stime are fields 14 and 15. */
    private static String stat(String name, long utime, long stime) {
        return "4242 (" + name + ") S 1 4242 4242 0 -1 4194368 1000 0 0 0 " + utime + " " + stime
                + " 0 0 20 0 45 0 12345 1000000 5000 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n";
    }

    @Test
    void ticksAreUserPlusSystemEvenWhenTheNameHoldsSpacesAndParentheses() {
        assertEquals(1659 + 3, ServerCpu.ticks(stat("C2 CompilerThre", 1659, 3)));
        assertEquals(40 + 2, ServerCpu.ticks(stat("a) b (c", 40, 2)));
    }

    @Test
    void systemTicksAreTheKernelsPartAlone() {
        assertEquals(3, ServerCpu.systemTicks(stat("C2 CompilerThre", 1659, 3)));
        assertEquals(2, ServerCpu.systemTicks(stat("a) b (c", 40, 2)));
    }

    @Test
    void onlyVertxEventLoopsCountAsTheEventLoop() {
        assertTrue(ServerCpu.isEventLoop(stat("vert.x-eventloo", 1, 0)));
        assertFalse(ServerCpu.isEventLoop(stat("vert.x-worker-t", 1, 0)));
        assertFalse(ServerCpu.isEventLoop(stat("gantry-infer-mi", 1, 0)));
        assertFalse(ServerCpu.isEventLoop(stat("C2 CompilerThre", 1, 0)));
    }

    @Test
    void onlyTheC1AndC2CompilerThreadsCountAsTheJit() {
        assertTrue(ServerCpu.isCompilerThread(stat("C2 CompilerThre", 1, 0)));
        assertTrue(ServerCpu.isCompilerThread(stat("C1 CompilerThre", 1, 0)));
        assertFalse(ServerCpu.isCompilerThread(stat("vert.x-eventloo", 1, 0)));
        assertFalse(ServerCpu.isCompilerThread(stat("gantry-infer-mi", 1, 0)));
        assertFalse(ServerCpu.isCompilerThread(stat("C2 Worker", 1, 0)));
    }

    @Test
    void readsThisJvmAndNothingForAProcessThatIsGone() throws Exception {
        ServerCpu self = ServerCpu.of(ProcessHandle.current().pid());
        assertNotNull(self);
        assertTrue(self.jitTicks() >= 0 && self.jitTicks() <= self.totalTicks() + 10, self.toString());
        assertTrue(self.systemTicks() >= 0 && self.systemTicks() <= self.totalTicks(), self.toString());
        // the threads are read after the process, so they may have run a few ticks more by then
        assertTrue(self.eventLoopTicks() >= 0 && self.jitTicks() + self.eventLoopTicks() <= self.totalTicks() + 10,
                self.toString());
        assertNull(ServerCpu.of(Long.MAX_VALUE));
    }

    @Test
    void countsTheCpuAVertxEventLoopSpends() throws Exception {
        io.vertx.core.Vertx vertx = io.vertx.core.Vertx.vertx();
        try {
            ServerCpu before = ServerCpu.of(ProcessHandle.current().pid());
            java.util.concurrent.CompletableFuture<Void> spun = new java.util.concurrent.CompletableFuture<>();
            vertx.runOnContext(v -> {
                long until = System.nanoTime() + 300_000_000L;
                while (System.nanoTime() < until) {
                    Thread.onSpinWait();
                }
                spun.complete(null);
            });
            spun.get(10, java.util.concurrent.TimeUnit.SECONDS);
            ServerCpu after = ServerCpu.of(ProcessHandle.current().pid());
            // 300 ms of spinning is 30 ticks at 100 Hz; the kernel may bill a few to other threads
            assertTrue(after.eventLoopTicks() - before.eventLoopTicks() >= 15, before + " -> " + after);
        } finally {
            vertx.close().await();
        }
    }

    @Test
    void theJitShareIsOfTheCpuUsedBetweenTwoSamples() {
        ServerCpu before = new ServerCpu(1_000, 100);
        assertEquals(0.25, new ServerCpu(1_400, 200).jitShareSince(before), 1e-9);
        assertEquals(0, new ServerCpu(1_000, 100).jitShareSince(before), 1e-9);
    }

    /** Samples that give each window the JIT shares asked for, 1,000 ticks of server CPU per window. */
    private static ServerCpu.Sampler windowsWithShares(double... shares) {
        Deque<ServerCpu> samples = new ArrayDeque<>();
        long total = 0;
        long jit = 0;
        for (double share : shares) {
            samples.add(new ServerCpu(total, jit));
            total += 1_000;
            jit += Math.round(share * 1_000);
            samples.add(new ServerCpu(total, jit));
        }
        return samples::poll;
    }

    @Test
    void aServerWhoseJitIsQuietInTheWarmUpsLastWindowGetsNoMoreLoad() throws Exception {
        List<Duration> windows = new ArrayList<>();
        ServerCpu.Settling s = ServerCpu.settle(windowsWithShares(0.01), windows::add, Duration.ofSeconds(60));
        assertEquals(List.of(ServerCpu.SETTLE_WINDOW), windows);
        assertEquals(Duration.ZERO, s.extra());
        assertTrue(s.settled());
        assertEquals(0.01, s.jitShare(), 1e-9);
    }

    @Test
    void aCompilingServerIsLoadedUntilItsJitGoesQuiet() throws Exception {
        List<Duration> windows = new ArrayList<>();
        ServerCpu.Settling s = ServerCpu.settle(windowsWithShares(0.17, 0.05, 0.02, 0.004), windows::add,
                Duration.ofSeconds(60));
        assertEquals(4, windows.size());
        assertEquals(Duration.ofSeconds(15), s.extra());
        assertTrue(s.settled());
        assertTrue(s.toString().startsWith("JIT settled after 15 s more load (JIT 0.4%"), s.toString());
    }

    @Test
    void theCapEndsTheLoadAndSaysTheJitDidNotSettle() throws Exception {
        List<Duration> windows = new ArrayList<>();
        ServerCpu.Settling s = ServerCpu.settle(windowsWithShares(0.5, 0.5, 0.5, 0.5, 0.5), windows::add,
                Duration.ofSeconds(10));
        assertEquals(3, windows.size());
        assertEquals(Duration.ofSeconds(10), s.extra());
        assertFalse(s.settled());
        assertTrue(s.toString().startsWith("JIT NOT settled after 10 s more load (JIT 50.0%"), s.toString());
    }

    @Test
    void aServerThatIsGoneEndsTheSettlingWithNoAnswer() throws Exception {
        assertNull(ServerCpu.settle(() -> null, l -> {
        }, Duration.ofSeconds(60)));
    }

    @Test
    void beforeSettling_leavesTheWarmUpLessTheFirstWindow_butAlwaysSomeLoadFirst() {
        assertEquals(Duration.ofSeconds(40), ServerCpu.beforeSettling(Duration.ofSeconds(45)));
        assertEquals(Duration.ofSeconds(2), ServerCpu.beforeSettling(Duration.ofSeconds(7)));
        // 5 s and less left nothing before: the arm then saw no answer and skipped the workload
        assertEquals(Duration.ofSeconds(2), ServerCpu.beforeSettling(Duration.ofSeconds(5)));
        assertEquals(Duration.ofSeconds(2), ServerCpu.beforeSettling(Duration.ofSeconds(3)));
        assertEquals(Duration.ofSeconds(1), ServerCpu.beforeSettling(Duration.ofSeconds(1)));
    }
}
