package dev.gantry.bench.load;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** The arms' definitions: what each server is driven with. */
class ServerArmTest {
    private static ServerArm arm(String name) {
        return ServerArm.all().stream().filter(a -> a.name().equals(name)).findFirst().orElseThrow();
    }

    /*
     * Target 16.4 divides gantry-batching's resident memory after its run by the direct server's: both must have
     * served the same kinds of requests, the 600 KB JSON tensor included. The direct server speaks neither the
     * binary extension, gRPC nor /v1/embeddings, so those stay Gantry's alone.
     */
    @Test
    void directArm_servesEveryOipJsonWorkloadOfGantryBatching() {
        ServerArm direct = arm("direct");
        for (Workload w : arm("gantry-batching").workloads()) {
            if (w.transport() == Workload.Transport.JSON && w != Workload.EMBEDDINGS) {
                assertTrue(direct.workloads().contains(w), "direct does not serve " + w.label());
            }
        }
    }

    @Test
    void directArm_loadsTheLargeTensorModel_evenWhenOnlyOtherWorkloadsAreSelected() {
        assertTrue(arm("direct").models(List.of(Workload.MLP)).contains("identity_fp32"));
    }
}
