package dev.gantry.bench.jmh;

import dev.gantry.core.routing.RandomSource;
import dev.gantry.core.routing.TrafficSplitter;
import dev.gantry.store.deployment.Route;
import dev.gantry.store.deployment.TrafficPolicy;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Cost of one routing decision for an unversioned request: a weighted random pick, and a sticky pick by
 * routing key (weighted rendezvous hashing over every route), for policies of 2 and 8 routes. No HTTP, no
 * model: the splitter alone, one thread, 1,024 distinct keys cycled so the hash sees varied input.
 *
 * <p>Run: {@code java -jar benchmarks/target/benchmarks.jar RoutingBenchmark}
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Xms512m", "-Xmx512m"})
public class RoutingBenchmark {
    @Param({"2", "8"})
    public int routes;

    private TrafficSplitter splitter;
    private final RandomSource random = RandomSource.threadLocal();
    private String[] keys;
    private int next;

    @Setup
    public void setUp() {
        List<Route> rs = new ArrayList<>();
        for (int v = 1; v <= routes; v++) {
            rs.add(new Route(v, v == 1 ? 90 : 10));
        }
        splitter = TrafficSplitter.of(TrafficPolicy.of(rs, List.of()));
        keys = new String[1024];
        for (int i = 0; i < keys.length; i++) {
            keys[i] = "user-" + (i * 7919);
        }
    }

    @Benchmark
    public long weighted() {
        return splitter.pick(random);
    }

    @Benchmark
    public long sticky() {
        next = (next + 1) & (keys.length - 1);
        return splitter.pickSticky(keys[next]);
    }
}
