package dev.gantry.http.upload;

import dev.gantry.core.error.ErrorCode;
import dev.gantry.core.error.GantryException;

import java.util.concurrent.Semaphore;

/** Admits at most a fixed number of uploads at once; one more is refused at once (503), never queued. */
public final class UploadSlots {
    private final int capacity;
    private final Semaphore permits;

    public UploadSlots(int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be >= 1, was " + capacity);
        }
        this.capacity = capacity;
        this.permits = new Semaphore(capacity);
    }

    /** A held slot; closing it (once, any thread) frees the slot. */
    public interface Slot extends AutoCloseable {
        @Override
        void close();
    }

    /**
     * Takes a slot for one upload.
     *
     * @throws GantryException UNAVAILABLE (503, Retry-After) when every slot is taken
     */
    public Slot acquire() {
        if (!permits.tryAcquire()) {
            throw new GantryException(ErrorCode.UNAVAILABLE, capacity + " uploads are already in progress, the most"
                    + " this server runs at once; retry when one has finished");
        }
        java.util.concurrent.atomic.AtomicBoolean released = new java.util.concurrent.atomic.AtomicBoolean();
        return () -> {
            if (released.compareAndSet(false, true)) {
                permits.release();
            }
        };
    }

    public int inProgress() {
        return capacity - permits.availablePermits();
    }
}
