package dev.gantry.core.scheduling;

import dev.gantry.core.error.ErrorCode;
import dev.gantry.core.error.GantryException;
import dev.gantry.core.inference.InferenceRequest;
import dev.gantry.core.inference.InferenceResponse;
import dev.gantry.core.inference.RequestContext;
import dev.gantry.core.inference.Tensor;
import dev.gantry.core.metrics.InferenceMetrics;
import dev.gantry.core.model.ModelId;
import dev.gantry.core.tracing.TraceSpan;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One bounded queue per model version, drained by one thread per instance; each thread takes the oldest
 * request and, when batching is on, the queued requests that can share its execution.
 */
public final class DynamicBatchScheduler implements Scheduler {
    /*
     * Grouping. The oldest request opens a batch. Requests join it when every input has the same datatype and
     * the same dimensions after the first (so rows can be stacked along dimension 0) and the rows fit in
     * max_batch_size. With max_batch_elements set, they must also fit in the rows whose largest input holds at
     * most that many elements: past a size, a bigger batch costs more per row, not less (MiniLM at 128 tokens runs
     * 0.87x the rows per second at 32 rows as at 8), so the batch is capped by its elements (tokens, for a text
     * encoder) rather than its rows alone. A request above the cap by itself runs alone. Requests that cannot
     * join stay queued, in order, for the next batch. A batch is
     * dispatched at once when it is full or reaches a preferred size; otherwise the thread waits for more
     * until the oldest request has waited max_queue_delay (0: take what is queued, never wait).
     *
     * Adaptive delay. The delay is only spent under load. A request admitted while the scheduler is idle (its
     * queue empty and fewer instances busy than instance_group.count) opens a batch with whatever is queued
     * when a thread takes it and is dispatched without waiting: at light load a lone request pays no delay. A
     * request admitted under load (others queued before it, or every instance busy) opens a batch that waits
     * for more while they keep arriving: until the oldest has waited max_queue_delay, or no request has been
     * admitted for a quarter of it (the arrivals have paused: with a fixed number of clients, every one of them
     * may already be in the batch, and waiting out the whole delay would only idle the model), so batches grow
     * when requests arrive faster than executions finish.
     *
     * Timeouts. A request with a timeout has a deadline. One sweep task per scheduler is armed for the earliest
     * deadline of the queue (re-armed earlier when a request with an earlier deadline arrives); when it runs it
     * removes every queued request whose deadline has passed, answers it DEADLINE_EXCEEDED without running, and
     * re-arms for the earliest deadline left. A thread that dequeues an already expired request answers it the
     * same way. Once an execution has started, it finishes. There is no timer task per request: scheduling and
     * cancelling one for every request cost two wake-ups of the timer thread per request (profile-before-
     * hotpath.md); the sweep runs about once per timeout period under steady traffic. With a default timeout, the
     * sweep stays armed while the queue is empty too, a default timeout ahead (armed at start and re-armed by a
     * sweep that found nothing): a version that has been idle then finds it armed at its first request, like a
     * busy one. Otherwise that request took the arming branch in enqueue, which a busy version's compiled code
     * had never taken, and threw the compiled enqueue away at the first requests a traffic change sent to a
     * standby version (-Xlog:deoptimization under the hot swap benchmark, 12-04).
     *
     * Execution timeouts. Each worker has one watchdog task, armed when an execution starts and none is armed.
     * When it runs it fails the execution in progress if that execution has run past the timeout, otherwise it
     * re-arms for the current execution's own limit, or stays unarmed when the worker is idle.
     *
     * Locking. One lock guards the queue and the counters; it is never held during model execution.
     *
     * Counting. `executing` counts every request taken off the queue and not yet answered, including the ones
     * a thread holds while it waits for its batch to fill: that wait releases the lock, and a request in
     * neither the queue nor the count would let stop() report drained (and the executor be closed) before it
     * ran.
     *
     * Wake-ups. Idle threads (queue empty) wait on `available`, threads gathering a batch on `changed`. An
     * enqueue wakes one idle thread, not all of them, so a request on an idle scheduler costs one wake-up to
     * reach a model thread and one hand-off back to the caller's thread (the completion of its future), whatever
     * instance_group.count is. It wakes the gathering threads only when the rows admitted since one of them last
     * looked could fill its batch, or when preferred batch sizes are set (any arrival may reach one): a gathering
     * thread is not woken for every arrival (under load that was a context switch per request on the core the
     * event loop needs); it looks again when the arrivals pause or its delay runs out. A request one gathering
     * thread cannot join is taken by an idle one, or by the next thread to finish. Under load a worker that
     * finishes an execution takes the next batch without sleeping, and an enqueue with no waiter wakes nobody.
     * An enqueue on a thread with a DeferredWakeups sink (an event loop) leaves the wake-up to the end of that
     * thread's burst of work: one wake-up for every request the burst admitted.
     *
     * Tracing. A request whose span records gets a queue span from admission to the start of its execution.
     * Each execution gets one batch span, child of the span of the first traced request in it (the one that
     * opened it, usually) and linked to the span of every traced request it serves, with a model-run span
     * under it. Untraced requests carry TraceSpan.NONE, and an execution with no traced request creates no
     * span and no list.
     */
    private static final Logger log = LoggerFactory.getLogger(DynamicBatchScheduler.class);

    private final ModelId model;
    private final ModelExecutor executor;
    private final BatchPolicy policy;
    private final InferenceMetrics metrics;
    private final ScheduledExecutorService timers;
    private final Ticker ticker;
    private final ReentrantLock lock = new ReentrantLock();
    /** Signalled when a thread gathering a batch should look at the queue again. */
    private final Condition changed = lock.newCondition();
    /** Signalled (one waiter) when a request arrives for idle threads, (all) when the scheduler stops. */
    private final Condition available = lock.newCondition();
    private final ArrayDeque<Pending> queue = new ArrayDeque<>();
    /** Requests taken off the queue and not yet answered: in a batch being gathered or executing. */
    private final AtomicInteger executing = new AtomicInteger();
    /** Threads gathering or executing a batch; with the queue, what tells an idle scheduler from a loaded one. */
    private final AtomicInteger busyWorkers = new AtomicInteger();
    private final List<Thread> workers = new ArrayList<>();
    private final CompletableFuture<Void> drained = new CompletableFuture<>();
    private boolean accepting = true;
    /** Threads waiting for their batch to grow, the rows the fullest of them still lacks, and rows admitted
     *  since one of them last looked; guarded by lock. */
    private int gatherers;
    private int gatherNeed;
    private int arrivedRows;
    /** Ticker time of the latest admission; guarded by lock. */
    private long lastAdmitted;
    private int liveWorkers;
    /** The armed deadline sweep and the deadline it is armed for; guarded by lock. */
    private ScheduledFuture<?> sweep;
    private long sweepAt;
    /** Counts armings; a sweep runs as the current one only if none came after its own. Guarded by lock. */
    private long sweepGeneration;

    private DynamicBatchScheduler(ModelId model, ModelExecutor executor, BatchPolicy policy, InferenceMetrics metrics,
                                  ScheduledExecutorService timers, Ticker ticker) {
        this.model = model;
        this.executor = executor;
        this.policy = policy;
        this.metrics = metrics;
        this.timers = timers;
        this.ticker = ticker;
    }

    /**
     * Starts a scheduler with {@code policy.instanceCount()} threads.
     *
     * @param timers runs queue-timeout timers; shared between schedulers
     */
    public static DynamicBatchScheduler start(ModelId model, ModelExecutor executor, BatchPolicy policy,
                                              InferenceMetrics metrics, ScheduledExecutorService timers,
                                              Ticker ticker) {
        DynamicBatchScheduler s = new DynamicBatchScheduler(model, executor, policy, metrics, timers, ticker);
        metrics.pendingGauge(s::queuedCount);
        s.lock.lock();
        try {
            s.armIdleSweep(ticker.read());
        } finally {
            s.lock.unlock();
        }
        s.liveWorkers = policy.instanceCount();
        for (int i = 0; i < policy.instanceCount(); i++) {
            Thread t = Thread.ofPlatform().daemon(true).name("gantry-infer-" + model.name() + "-" + model.version()
                    + "-" + i).unstarted(s::workLoop);
            s.workers.add(t);
        }
        s.workers.forEach(Thread::start);
        return s;
    }

    public BatchPolicy policy() {
        return policy;
    }

    @Override
    public CompletableFuture<InferenceResponse> enqueue(InferenceRequest request) {
        return enqueue(request, RequestContext.untraced());
    }

    @Override
    public CompletableFuture<InferenceResponse> enqueue(InferenceRequest request, RequestContext context) {
        long now = ticker.read();
        Pending p = new Pending(request, rowsOf(request), now, context);
        long timeoutMicros = request.timeoutMicros().orElse(policy.defaultTimeoutMicros());
        DeferredWakeups.Sink sink = DeferredWakeups.current();
        lock.lock();
        try {
            if (!accepting) {
                return failed(p, new GantryException(ErrorCode.UNAVAILABLE, "model '" + model.name() + "' version "
                        + model.version() + " is shutting down and admits no new requests"));
            }
            if (queue.size() >= policy.maxQueueSize()) {
                return failed(p, new GantryException(ErrorCode.RESOURCE_EXHAUSTED, "model '" + model.name()
                        + "' version " + model.version() + " has " + queue.size()
                        + " requests queued, its max_queue_size; retry later"));
            }
            p.underLoad = !queue.isEmpty() || busyWorkers.get() >= policy.instanceCount();
            queue.addLast(p);
            lastAdmitted = now;
            arrivedRows += p.rows;
            if (timeoutMicros > 0) {
                p.deadline = now + TimeUnit.MICROSECONDS.toNanos(timeoutMicros);
                if (sweep == null || p.deadline - sweepAt < 0) {
                    armSweep(p.deadline, now);
                }
            }
            if (sink == null) {
                signalArrivals();
            }
        } finally {
            lock.unlock();
        }
        if (sink != null) {
            sink.defer(wakeAfterBurst);
        }
        return p.future;
    }

    /**
     * Wakes idle threads for what is queued (one per queued request, at most one per instance: a burst's wake-up
     * may cover more requests than one batch takes), and the gathering ones when the rows that arrived could fill
     * a batch; under lock.
     */
    private void signalArrivals() {
        for (int i = Math.min(queue.size(), policy.instanceCount()); i > 0; i--) {
            available.signal();
        }
        if (gatherers > 0 && (arrivedRows >= gatherNeed || !policy.preferredBatchSizes().isEmpty())) {
            changed.signalAll();
        }
    }

    /** The wake-up of the requests a burst admitted ({@link DeferredWakeups}): one per burst, not per request. */
    private final Runnable wakeAfterBurst = () -> {
        lock.lock();
        try {
            signalArrivals();
        } finally {
            lock.unlock();
        }
    };

    private CompletableFuture<InferenceResponse> failed(Pending p, GantryException e) {
        p.endQueueSpan(e.getMessage());
        metrics.requestFailed(e.code(), 0);
        p.future.completeExceptionally(e);
        return p.future;
    }

    /** Arms the deadline sweep for {@code deadline}, replacing a later one; the caller holds the lock. */
    private void armSweep(long deadline, long now) {
        if (sweep != null) {
            sweep.cancel(/* mayInterruptIfRunning= */ false);
        }
        sweepAt = deadline;
        long generation = ++sweepGeneration;
        sweep = timers.schedule(() -> sweepExpired(generation), Math.max(0, deadline - now), TimeUnit.NANOSECONDS);
    }

    /**
     * With a default timeout, arms the sweep that long ahead while nothing is queued; the caller holds the lock.
     * An idle version's sweep thus wakes the shared timer thread once per default timeout. Timers that no longer
     * take tasks (the server is stopping) leave it unarmed.
     */
    private void armIdleSweep(long now) {
        if (accepting && policy.defaultTimeoutMicros() > 0) {
            try {
                armSweep(now + TimeUnit.MICROSECONDS.toNanos(policy.defaultTimeoutMicros()), now);
            } catch (RejectedExecutionException e) {
                sweep = null;
            }
        }
    }

    /**
     * Answers every queued request whose deadline has passed and re-arms for the earliest one left. A sweep that
     * was replaced while it waited for the lock (its cancel came too late) still answers what has expired, but
     * leaves the arming to the sweep that replaced it: otherwise each such race would leave one more sweep
     * re-arming itself for as long as the version is idle.
     */
    private void sweepExpired(long generation) {
        List<Pending> expired = new ArrayList<>(0);
        lock.lock();
        try {
            boolean current = generation == sweepGeneration;
            if (current) {
                sweep = null;
            }
            long now = ticker.read();
            long earliest = 0;
            boolean any = false;
            for (Iterator<Pending> it = queue.iterator(); it.hasNext(); ) {
                Pending p = it.next();
                if (p.deadline == 0) {
                    continue;
                }
                if (now - p.deadline >= 0) {
                    it.remove();
                    expired.add(p);
                } else if (!any || p.deadline - earliest < 0) {
                    earliest = p.deadline;
                    any = true;
                }
            }
            if (current) {
                if (any) {
                    armSweep(earliest, now);
                } else {
                    armIdleSweep(now);
                }
            }
            if (!expired.isEmpty()) {
                changed.signalAll();
            }
        } finally {
            lock.unlock();
        }
        expired.forEach(this::answerExpired);
    }

    private void answerExpired(Pending p) {
        long waited = ticker.read() - p.admitted;
        p.endQueueSpan("deadline exceeded in the queue");
        metrics.requestFailed(ErrorCode.DEADLINE_EXCEEDED, waited);
        p.future.completeExceptionally(new GantryException(ErrorCode.DEADLINE_EXCEEDED, "request waited "
                + TimeUnit.NANOSECONDS.toMicros(waited) + " us in the queue of model '" + model.name() + "' version "
                + model.version() + ", past its timeout; it was not executed"));
        checkDrained();
    }

    @Override
    public int inflightCount() {
        return queuedCount() + executing.get();
    }

    @Override
    public int queuedCount() {
        lock.lock();
        try {
            return queue.size();
        } finally {
            lock.unlock();
        }
    }

    @Override
    public CompletableFuture<Void> stop(Duration drainTimeout) {
        lock.lock();
        try {
            accepting = false;
            changed.signalAll();
            available.signalAll();
        } finally {
            lock.unlock();
        }
        checkDrained();
        timers.schedule(this::abandonQueued, drainTimeout.toNanos(), TimeUnit.NANOSECONDS);
        return drained;
    }

    private void abandonQueued() {
        List<Pending> left;
        lock.lock();
        try {
            left = new ArrayList<>(queue);
            queue.clear();
            changed.signalAll();
            available.signalAll();
        } finally {
            lock.unlock();
        }
        for (Pending p : left) {
            p.endQueueSpan("unloaded before it ran");
            metrics.requestFailed(ErrorCode.UNAVAILABLE, ticker.read() - p.admitted);
            p.future.completeExceptionally(new GantryException(ErrorCode.UNAVAILABLE, "model '" + model.name()
                    + "' version " + model.version() + " was unloaded before this request could run"));
        }
        if (!left.isEmpty()) {
            log.warn("{}: drain timeout passed with {} requests still queued; they were answered UNAVAILABLE",
                    model, left.size());
        }
        checkDrained();
    }

    private void checkDrained() {
        boolean done;
        lock.lock();
        try {
            done = !accepting && queue.isEmpty() && executing.get() == 0;
            if (done && sweep != null) {
                sweep.cancel(/* mayInterruptIfRunning= */ false);
                sweep = null;
            }
        } finally {
            lock.unlock();
        }
        if (done) {
            drained.complete(null);
        }
    }

    private void workLoop() {
        Watchdog watchdog = new Watchdog();
        try {
            try {
                executor.attachThread();
            } catch (RuntimeException e) {
                log.warn("{}: preparing {} for its executor failed; its first run will do it: {}", model,
                        Thread.currentThread().getName(), e.toString());
            }
            while (true) {
                List<Pending> batch = nextBatch();
                if (batch == null) {
                    return;
                }
                try {
                    execute(batch, watchdog);
                } finally {
                    executing.addAndGet(-batch.size());
                    busyWorkers.decrementAndGet();
                    checkDrained();
                }
            }
        } finally {
            lock.lock();
            try {
                liveWorkers--;
            } finally {
                lock.unlock();
            }
        }
    }

    /** Blocks until a batch is ready; null once stopped and the queue is empty. */
    private List<Pending> nextBatch() {
        lock.lock();
        try {
            while (true) {
                while (queue.isEmpty()) {
                    if (!accepting) {
                        return null;
                    }
                    available.awaitUninterruptibly();
                }
                Pending first = queue.pollFirst();
                if (first.deadline != 0 && ticker.read() - first.deadline >= 0) {
                    lock.unlock();
                    try {
                        answerExpired(first);
                    } finally {
                        lock.lock();
                    }
                    continue;
                }
                executing.incrementAndGet();
                busyWorkers.incrementAndGet();
                List<Pending> batch = new ArrayList<>();
                batch.add(first);
                int rows = first.rows;
                if (policy.batchAcrossRequests()) {
                    int limit = policy.rowLimit(first.request, first.rows);
                    long delay = first.underLoad ? TimeUnit.MICROSECONDS.toNanos(policy.maxQueueDelayMicros()) : 0;
                    long waitUntil = first.admitted + delay;
                    long pause = delay / 4;
                    while (true) {
                        rows = gather(first, batch, rows, limit);
                        if (rows >= limit || policy.preferredBatchSizes().contains(rows)) {
                            break;
                        }
                        long now = ticker.read();
                        // lastAdmitted is never before first.admitted: first's own enqueue set it.
                        long until = lastAdmitted + pause - waitUntil < 0 ? lastAdmitted + pause : waitUntil;
                        long remaining = until - now;
                        if (remaining <= 0 || !accepting) {
                            break;
                        }
                        gatherNeed = gatherers == 0 ? limit - rows : Math.min(gatherNeed, limit - rows);
                        arrivedRows = 0;
                        gatherers++;
                        try {
                            changed.awaitNanos(remaining);
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                            break;
                        } finally {
                            gatherers--;
                        }
                    }
                }
                // A member whose timeout passed while the batch was filling has still not run: answer it
                // now instead of executing it.
                List<Pending> expired = new ArrayList<>(0);
                long now = ticker.read();
                for (Iterator<Pending> it = batch.iterator(); it.hasNext(); ) {
                    Pending p = it.next();
                    if (p.deadline != 0 && now - p.deadline >= 0) {
                        it.remove();
                        executing.decrementAndGet();
                        expired.add(p);
                    }
                }
                if (!expired.isEmpty()) {
                    lock.unlock();
                    try {
                        expired.forEach(this::answerExpired);
                    } finally {
                        lock.lock();
                    }
                }
                if (batch.isEmpty()) {
                    busyWorkers.decrementAndGet();
                    continue;
                }
                return batch;
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * Moves the queued requests that can join {@code first}'s batch into it, oldest first, while it holds at most
     * {@code limit} rows; returns the batch's rows. Requests that join have the same dimensions after the first
     * as {@code first}, so the same elements per row, and the row limit is also the element limit.
     */
    private int gather(Pending first, List<Pending> batch, int rows, int limit) {
        long now = ticker.read();
        for (Iterator<Pending> it = queue.iterator(); it.hasNext() && rows < limit; ) {
            Pending p = it.next();
            if (p.deadline != 0 && now - p.deadline >= 0) {
                continue;
            }
            if (rows + p.rows <= limit && compatible(first.request, p.request)) {
                it.remove();
                executing.incrementAndGet();
                batch.add(p);
                rows += p.rows;
            }
        }
        return rows;
    }

    private static boolean compatible(InferenceRequest a, InferenceRequest b) {
        if (a.inputs().size() != b.inputs().size()) {
            return false;
        }
        for (Tensor ta : a.inputs()) {
            Tensor tb = b.input(ta.name()).orElse(null);
            if (tb == null || ta.datatype() != tb.datatype() || ta.rank() != tb.rank()) {
                return false;
            }
            long[] sa = ta.shape();
            long[] sb = tb.shape();
            if (!Arrays.equals(sa, 1, sa.length, sb, 1, sb.length)) {
                return false;
            }
        }
        return true;
    }

    private void execute(List<Pending> batch, Watchdog watchdog) {
        long start = ticker.read();
        for (Pending p : batch) {
            metrics.queued(start - p.admitted);
            p.endQueueSpan(null);
        }
        run(batch, start, watchdog);
    }

    private void run(List<Pending> batch, long start, Watchdog watchdog) {
        int[] rows = new int[batch.size()];
        int totalRows = 0;
        for (int i = 0; i < rows.length; i++) {
            rows[i] = batch.get(i).rows;
            totalRows += rows[i];
        }
        TraceSpan batchSpan = batchSpan(batch, totalRows);
        TraceSpan runSpan = batchSpan.child("gantry.model.run").set(TraceSpan.MODEL, model.name())
                .set(TraceSpan.VERSION, model.version()).set(TraceSpan.BATCH_SIZE, totalRows);
        List<List<Tensor>> perRequest;
        ExecutionPhases phases = new ExecutionPhases();
        watchdog.started(batch, start);
        try {
            List<Tensor> inputs = batch.size() == 1 ? batch.get(0).request.inputs() : stack(batch);
            phases.addInput(ticker.read() - start);
            List<Tensor> outputs = executor.run(inputs, outputUnion(batch), phases);
            runSpan.end();
            long splitting = ticker.read();
            List<List<Tensor>> all = batch.size() == 1 ? List.of(outputs) : unstack(outputs, rows);
            perRequest = new ArrayList<>(all.size());
            for (int i = 0; i < all.size(); i++) {
                perRequest.add(select(all.get(i), batch.get(i).request.requestedOutputs()));
            }
            phases.addOutput(ticker.read() - splitting);
        } catch (RuntimeException | Error e) {
            long failedAfter = ticker.read() - start;
            metrics.executed(totalRows, batch.size(), failedAfter);
            runSpan.fail(e.toString());
            runSpan.end();
            batchSpan.fail(e.toString());
            batchSpan.end();
            shareCompute(batch, rows, totalRows, failedAfter);
            if (batch.size() > 1) {
                // One request's inputs may be what made the batch fail: run each alone so that only the
                // request at fault gets the error.
                watchdog.finished();
                for (Pending p : batch) {
                    run(List.of(p), ticker.read(), watchdog);
                }
                return;
            }
            GantryException failure = e instanceof GantryException g ? g : internal(e);
            failAll(batch, failure);
            return;
        } finally {
            watchdog.finished();
        }
        long end = ticker.read();
        metrics.executed(totalRows, batch.size(), end - start, phases.inputNanos(), phases.outputNanos());
        batchSpan.end();
        shareCompute(batch, rows, totalRows, end - start);
        for (int i = 0; i < batch.size(); i++) {
            Pending p = batch.get(i);
            List<Tensor> outs = perRequest.get(i);
            // Metrics first, so that whoever waits on the future sees them; a request the watchdog already
            // answered is not counted twice.
            if (!p.future.isDone()) {
                metrics.requestSucceeded(end - p.admitted, p.rows);
                p.future.complete(new InferenceResponse(model, p.request.id(), outs));
            }
        }
    }

    /** One span for this execution, or NONE when none of its requests is traced. */
    private TraceSpan batchSpan(List<Pending> batch, int totalRows) {
        Pending opener = null;
        List<TraceSpan> links = null;
        for (Pending p : batch) {
            if (p.context.span().isRecording()) {
                if (opener == null) {
                    opener = p;
                    links = new ArrayList<>(batch.size());
                }
                links.add(p.context.span());
            }
        }
        if (opener == null) {
            return TraceSpan.NONE;
        }
        return opener.context.span().child("gantry.batch", links).set(TraceSpan.MODEL, model.name())
                .set(TraceSpan.VERSION, model.version()).set(TraceSpan.BATCH_SIZE, totalRows)
                .set(TraceSpan.BATCH_REQUESTS, batch.size());
    }

    /** Splits one execution's duration between its requests by rows; the last takes the rounding remainder. */
    private static void shareCompute(List<Pending> batch, int[] rows, int totalRows, long nanos) {
        if (batch.size() == 1) {
            batch.get(0).context.addComputeNanos(nanos);
            return;
        }
        long given = 0;
        for (int i = 0; i < batch.size(); i++) {
            long share = i == batch.size() - 1 ? nanos - given
                    : totalRows == 0 ? nanos / batch.size() : nanos * rows[i] / totalRows;
            batch.get(i).context.addComputeNanos(share);
            given += share;
        }
    }

    private static List<Tensor> stack(List<Pending> batch) {
        List<Tensor> stacked = new ArrayList<>();
        for (Tensor t : batch.get(0).request.inputs()) {
            List<Tensor> parts = new ArrayList<>(batch.size());
            for (Pending p : batch) {
                parts.add(p.request.input(t.name()).orElseThrow());
            }
            stacked.add(Batches.concat(t.name(), parts));
        }
        return stacked;
    }

    private static List<List<Tensor>> unstack(List<Tensor> outputs, int[] rows) {
        List<List<Tensor>> per = new ArrayList<>(rows.length);
        for (int i = 0; i < rows.length; i++) {
            per.add(new ArrayList<>(outputs.size()));
        }
        for (Tensor out : outputs) {
            List<Tensor> parts = Batches.split(out, rows);
            for (int i = 0; i < rows.length; i++) {
                per.get(i).add(parts.get(i));
            }
        }
        return per;
    }

    private static Set<String> outputUnion(List<Pending> batch) {
        Set<String> union = new LinkedHashSet<>();
        for (Pending p : batch) {
            if (p.request.requestedOutputs().isEmpty()) {
                return Set.of();
            }
            union.addAll(p.request.requestedOutputs());
        }
        return union;
    }

    private static List<Tensor> select(List<Tensor> outputs, Set<String> wanted) {
        if (wanted.isEmpty()) {
            return outputs;
        }
        Set<String> names = new HashSet<>(wanted);
        return outputs.stream().filter(t -> names.contains(t.name())).toList();
    }

    private GantryException internal(Throwable e) {
        log.error("{}: execution failed", model, e);
        return new GantryException(ErrorCode.INTERNAL, "model '" + model.name() + "' version " + model.version()
                + " failed to execute: " + e);
    }

    private void failAll(List<Pending> batch, GantryException e) {
        long now = ticker.read();
        for (Pending p : batch) {
            if (!p.future.isDone()) {
                metrics.requestFailed(e.code(), now - p.admitted);
                p.future.completeExceptionally(e);
            }
        }
    }

    private int rowsOf(InferenceRequest r) {
        if (policy.maxBatchSize() == 0 || r.inputs().isEmpty() || r.inputs().get(0).rank() == 0) {
            return 1;
        }
        return (int) Math.max(1, r.inputs().get(0).dim(0));
    }

    /** One worker's execution watchdog: at most one armed task, re-armed lazily (see the class comment). */
    private final class Watchdog implements Runnable {
        private List<Pending> running;
        private long started;
        private boolean armed;

        synchronized void started(List<Pending> batch, long now) {
            if (policy.executionTimeoutMicros() <= 0) {
                return;
            }
            running = batch;
            started = now;
            if (!armed) {
                armed = true;
                timers.schedule(this, policy.executionTimeoutMicros(), TimeUnit.MICROSECONDS);
            }
        }

        synchronized void finished() {
            running = null;
        }

        @Override
        public void run() {
            List<Pending> late;
            synchronized (this) {
                if (running == null) {
                    armed = false;
                    return;
                }
                long due = started + TimeUnit.MICROSECONDS.toNanos(policy.executionTimeoutMicros()) - ticker.read();
                if (due > 0) {
                    timers.schedule(this, due, TimeUnit.NANOSECONDS);
                    return;
                }
                late = running;
                running = null;
                armed = false;
            }
            failAll(late, new GantryException(ErrorCode.MODEL_TIMEOUT, "model '" + model.name() + "' version "
                    + model.version() + " did not finish within "
                    + TimeUnit.MICROSECONDS.toMillis(policy.executionTimeoutMicros())
                    + " ms; the request was abandoned"));
        }
    }

    private static final class Pending {
        final InferenceRequest request;
        final int rows;
        final long admitted;
        final CompletableFuture<InferenceResponse> future = new CompletableFuture<>();
        final RequestContext context;
        /** Admission to the start of execution; NONE for an untraced request. */
        final TraceSpan queueSpan;
        long deadline;
        /** Admitted while others were queued or every instance was busy: its batch may wait to grow. */
        boolean underLoad;

        Pending(InferenceRequest request, int rows, long admitted, RequestContext context) {
            this.request = request;
            this.rows = rows;
            this.admitted = admitted;
            this.context = context;
            this.queueSpan = context.span().child("gantry.queue");
        }

        void endQueueSpan(String failure) {
            if (failure != null) {
                queueSpan.fail(failure);
            }
            queueSpan.end();
        }
    }
}
