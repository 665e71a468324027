package dev.gantry.http.inference;

import dev.gantry.core.error.ErrorCode;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The body memory budget's accounting: what requests hold, what is refused, what comes back. */
class BodyMemoryTest {
    @Test
    void aLeaseGrowsWithinTheBudget_andIsRefusedPastIt_whileOthersHoldBytes() {
        BodyMemory memory = new BodyMemory(1000);
        BodyMemory.Lease a = memory.lease();
        BodyMemory.Lease b = memory.lease();
        assertTrue(a.grow(600));
        assertTrue(b.grow(400));
        assertEquals(1000, memory.held());
        assertFalse(b.grow(1), "past the budget with another request holding bytes");
        assertEquals(400, b.held(), "a refused chunk holds nothing");
        assertEquals(1000, memory.held());
        assertEquals(ErrorCode.RESOURCE_EXHAUSTED, b.refused().code());
        assertEquals(1, memory.refusals());
        a.close();
        assertEquals(400, memory.held());
        assertTrue(b.grow(600));
        b.close();
        assertEquals(0, memory.held());
    }

    @Test
    void aLeaseAlone_growsPastTheBudget() {
        BodyMemory memory = new BodyMemory(1000);
        BodyMemory.Lease alone = memory.lease();
        assertTrue(alone.grow(800));
        assertTrue(alone.grow(800), "nothing else holds bytes");
        assertEquals(1600, memory.held());
        BodyMemory.Lease other = memory.lease();
        assertFalse(other.grow(1));
        alone.close();
        assertTrue(other.grow(1));
        assertEquals(1, memory.refusals(), "growing alone past the budget is no refusal");
    }

    @Test
    void closingTwice_givesBackOnce_andAClosedLeaseHoldsNothingMore() {
        BodyMemory memory = new BodyMemory(1000);
        BodyMemory.Lease a = memory.lease();
        BodyMemory.Lease b = memory.lease();
        a.grow(300);
        b.grow(200);
        a.close();
        a.close();
        assertEquals(200, memory.held());
        assertFalse(a.grow(10));
        assertEquals(200, memory.held());
        assertEquals(0, memory.refusals(), "a closed lease growing is not refused for the budget");
    }

    @Test
    void aRequestThatEndsWhileItsBodyIsInUse_holdsItsShareUntilTheWorkIsDone() {
        BodyMemory memory = new BodyMemory(1000);
        BodyMemory.Lease idle = memory.lease();
        idle.grow(100);
        idle.done();
        idle.ended();
        assertEquals(0, memory.held(), "ended with no work using it: given back at once");

        BodyMemory.Lease busy = memory.lease();
        busy.grow(300);
        busy.use();
        busy.use();
        busy.ended();
        assertTrue(busy.hasEnded());
        assertEquals(300, memory.held(), "two pieces of work still use it");
        busy.done();
        assertEquals(300, memory.held());
        busy.done();
        assertEquals(0, memory.held(), "the last piece of work gave it back");
    }

    @Test
    void theDefaultIsAThirdOfTheHeap_andABudgetMustBePositive() {
        assertEquals((long) (Runtime.getRuntime().maxMemory() / 3.0), BodyMemory.ofHeap().budget());
        assertThrows(IllegalArgumentException.class, () -> new BodyMemory(0));
    }
}
