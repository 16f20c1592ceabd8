package io.keyrotor.consensus;

import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Stops a node whose Raft server stopped on its own.
 *
 * <p>Ratis closes a server, and leaves the process running, when the JVM or its host was paused for
 * longer than {@code raft.server.close.threshold} (60 s by default: a frozen container, a stopped
 * process, a virtual machine's migration, a very long garbage collection), and closes a division
 * when applying an entry failed. Such a node answers every proposal "this node is shutting down",
 * reports nothing applied, and never catches up again, while its process looks alive to the
 * supervisor that would restart it. The watchdog asks every {@code interval} whether the server
 * still runs and, the first time it does not while the node has not been asked to stop, reports it
 * to the node's fatal error handler (which halts the process in production: the supervisor restarts
 * it, and Ratis recovers the node from its log and snapshot).
 */
final class RaftServerWatchdog implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(RaftServerWatchdog.class);

  /** How often a node checks its own Raft server. */
  static final Duration INTERVAL = Duration.ofMillis(500);

  private final String nodeId;
  private final BooleanSupplier serverRunning;
  private final FatalErrorHandler fatalErrorHandler;
  private final ScheduledExecutorService timer;
  private final AtomicBoolean finished = new AtomicBoolean();

  /**
   * Starts watching. {@code serverRunning} answers whether the node's Raft server and its division
   * still run.
   */
  RaftServerWatchdog(
      String nodeId,
      BooleanSupplier serverRunning,
      FatalErrorHandler fatalErrorHandler,
      Duration interval) {
    this.nodeId = nodeId;
    this.serverRunning = serverRunning;
    this.fatalErrorHandler = fatalErrorHandler;
    this.timer =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread thread = new Thread(r, "keyrotor-raft-watchdog-" + nodeId);
              thread.setDaemon(true);
              return thread;
            });
    long millis = interval.toMillis();
    var unused = timer.scheduleWithFixedDelay(this::check, millis, millis, TimeUnit.MILLISECONDS);
  }

  private void check() {
    if (finished.get() || serverRunning.getAsBoolean()) {
      return;
    }
    // Only once, and never after close(): a stop the node asked for is not a failure.
    if (finished.compareAndSet(false, true)) {
      String message =
          "node "
              + nodeId
              + ": its Raft server stopped while the node was running (Ratis closes it after a"
              + " JVM or host pause longer than raft.server.close.threshold, or when applying an"
              + " entry failed: see the log above); the node stops so that it can be restarted";
      LOG.error(message);
      timer.shutdown();
      fatalErrorHandler.onFatalError(message, null);
    }
  }

  /** Stops watching: the node is stopping its Raft server itself. */
  @Override
  public void close() {
    finished.set(true);
    timer.shutdownNow();
  }
}
