package dev.gantry.http.inference;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PoolArenaMetric;
import io.netty.buffer.PooledByteBufAllocator;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.buffer.BufferInternal;

/**
 * Where an inference response's body is written: a heap buffer, or for a body of 64 KB to 1 MB pooled direct
 * memory that the caller gives back with {@link Body#release()} once the body was sent or dropped.
 *
 * <p>Why large bodies are pooled: a heap body (Vert.x's {@code Buffer.buffer(n)}) is zeroed when allocated, and
 * Netty copies it to direct memory before the socket write. Past 64 KB, the largest size its default (adaptive)
 * allocator pools, that direct copy is a fresh {@code ByteBuffer.allocateDirect}, zeroed again and freed after
 * the write. A MiniLM s16 answer (~70 KB of JSON) thus crossed memory five times; JFR under that load put the
 * two allocations and their zeroing at ~12% of the event loop's samples. A pooled direct body is written once and
 * sent as it is (Netty passes direct buffers through), and its memory is reused, not allocated, per response.
 * Smaller bodies (an MLP's few hundred bytes) stay on the heap, where Netty's copy is pooled and cheap.
 * Alternating windows against the heap bodies, server on one core: MiniLM s16 1.029x the requests at 0.974x the
 * CPU per request, 600 KB binary answers 1.25x at 0.80x, the MLP unchanged
 * (benchmarks/results/pooled-response-bodies-20261202.txt).
 */
final class ResponseBodies {
    /** Bodies of at least this many bytes are pooled: past the largest size Netty's adaptive allocator pools. */
    static final int POOLED_MIN_BYTES = 64 * 1024 + 1;
    /**
     * Bodies sized past this stay on the heap as before. A body is sized for its longest possible text (16 bytes a
     * float) and takes that much of a 4 MB chunk: a 2.4 MB body (600 KB of floats as JSON) would hold a chunk of its
     * own, 64 in flight 256 MB of chunks. Up to 1 MB, four or more share a chunk, and the pool's memory stays near
     * what its bodies hold.
     */
    static final int POOLED_MAX_BYTES = 1 << 20;

    /*
     * One allocator for response bodies alone, so its live count is ours (tests read it) and its memory is
     * bounded apart from Netty's: two arenas of 4 MB chunks (8 KB pages << 9), no per-thread caches (they
     * cache only buffers of up to 32 KB, which are never pooled here). An arena keeps its first chunk; the
     * others are freed when they empty.
     */
    private static final PooledByteBufAllocator POOL = new PooledByteBufAllocator(/* preferDirect= */ true,
            /* nHeapArena= */ 0, /* nDirectArena= */ 2, /* pageSize= */ 8192, /* maxOrder= */ 9,
            /* smallCacheSize= */ 0, /* normalCacheSize= */ 0, /* useCacheForAllThreads= */ false);

    /** Heap bodies for every size: for callers that do not release (tests, benchmarks of the codec alone). */
    static final ResponseBodies HEAP = new ResponseBodies(false);
    /** Pooled direct bodies from {@link #POOLED_MIN_BYTES} to {@link #POOLED_MAX_BYTES}: the caller releases each. */
    static final ResponseBodies POOLED = new ResponseBodies(true);

    private final boolean pooled;

    private ResponseBodies(boolean pooled) {
        this.pooled = pooled;
    }

    /** A body with room for {@code capacity} bytes (it grows past them if it must). */
    Body allocate(int capacity) {
        if (!pooled || capacity < POOLED_MIN_BYTES || capacity > POOLED_MAX_BYTES) {
            return new Body(Buffer.buffer(capacity), null);
        }
        ByteBuf memory = POOL.directBuffer(capacity);
        return new Body(BufferInternal.buffer(memory), memory);
    }

    /** Pooled bodies allocated since the start, in every arena. */
    static long allocated() {
        long n = 0;
        for (PoolArenaMetric arena : POOL.metric().directArenas()) {
            n += arena.numAllocations();
        }
        return n;
    }

    /** Pooled bodies allocated and not yet released, in every arena. */
    static long live() {
        long n = 0;
        for (PoolArenaMetric arena : POOL.metric().directArenas()) {
            n += arena.numActiveAllocations();
        }
        return n;
    }

    /**
     * A response body and, when it is pooled, the memory behind it.
     *
     * @param buffer the body to append to and send
     * @param memory the pooled memory, or null for a heap body
     */
    record Body(Buffer buffer, ByteBuf memory) {
        /** Returns the memory to the pool; nothing for a heap body. Call once, after the body's last use. */
        void release() {
            if (memory != null) {
                memory.release();
            }
        }

        /** What gives this body's memory back: {@link #release()}, or for a heap body the shared no-op. */
        Runnable releaser() {
            return memory != null ? this::release : EncodedResponse.HEAP;
        }
    }
}
