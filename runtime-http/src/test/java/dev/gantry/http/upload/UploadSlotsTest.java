package dev.gantry.http.upload;

import dev.gantry.core.error.ErrorCode;
import dev.gantry.core.error.GantryException;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class UploadSlotsTest {
    @Test
    void acquire_pastCapacity_isRefusedUnavailable_notQueued() {
        UploadSlots slots = new UploadSlots(2);
        slots.acquire();
        slots.acquire();

        GantryException e = assertThrows(GantryException.class, slots::acquire);

        assertEquals(ErrorCode.UNAVAILABLE, e.code());
        assertEquals("2 uploads are already in progress, the most this server runs at once; retry when one has"
                + " finished", e.getMessage());
    }

    @Test
    void closingASlot_freesIt_once() {
        UploadSlots slots = new UploadSlots(1);
        UploadSlots.Slot slot = slots.acquire();

        slot.close();
        slot.close();

        assertEquals(0, slots.inProgress());
        slots.acquire();
        assertThrows(GantryException.class, slots::acquire);
    }
}
