package io.keyrotor.consensus;

import io.keyrotor.storage.KeyStateStore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.OptionalLong;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.LongStream;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes a destroyed version's wrapped KEK leave every file of this node's data directory within a
 * bound ({@link ConsensusConfig#destroyScrubWithin()}). Apply only clears the KEK from the live
 * record; the old bytes are still in the Raft log segments (the entry that created the version), in
 * RocksDB's older table and write-ahead log files, and in the snapshots (checkpoints that link
 * those table files). Each node scrubs its own files after it applies a destruction, on this
 * class's own thread, so apply never waits for file work:
 *
 * <ol>
 *   <li><b>Close the log segment.</b> Ratis deletes only closed segments. When this node's open
 *       segment starts at or before the destruction, the leader steps down (asked by its own
 *       scrubber, or by a follower's once half the bound has passed): the next term's first entry
 *       closes the open segment on every member.
 *   <li><b>Rewrite the state store</b> ({@link KeyStateStore#scrubDestroyedMaterial}): flush the
 *       memtables (the write-ahead logs holding the old record become obsolete and are deleted),
 *       then compact the key records' family so the table files holding it are replaced.
 *   <li><b>Snapshot and purge.</b> A fresh snapshot at the applied index (past the destruction),
 *       after which Ratis purges the log up to it (purge gap 1, up to the snapshot index), and the
 *       older snapshots, which link the old table files, are deleted.
 *   <li><b>Check.</b> Done when no Raft log segment starts at or before the destruction's index and
 *       a snapshot past it exists; otherwise it tries again shortly.
 * </ol>
 *
 * <p>Destructions that arrive while one scrub waits are covered by the same scrub. A node that
 * restarts before it scrubbed replays the destruction from its log (entries after its snapshot), so
 * the scrub is requested again. If a scrub is still unfinished when the bound has passed, it logs a
 * warning and goes on trying.
 */
final class DestructionScrubber implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(DestructionScrubber.class);
  private static final Pattern SEGMENT = Pattern.compile("log_(?:inprogress_)?(\\d+)(?:-\\d+)?");

  /** What the scrubber needs of its Raft member. */
  interface Member {
    KeyStateStore store();

    boolean isLeader();

    /** Asks the leader to step down, so a new term closes every member's open log segment. */
    void askLeaderToStepDown();

    /** Takes a fresh snapshot of the state store now; returns its index. */
    long takeFreshSnapshot();

    /** Deletes every snapshot older than the one at {@code index}. */
    void deleteSnapshotsBefore(long index) throws IOException;

    /** The directory tree holding the Raft log segments. */
    Path raftDirectory();
  }

  private final Duration bound;
  private final long retryMillis;
  private final ScheduledExecutorService executor;
  private final AtomicLong pending = new AtomicLong(-1);
  private final AtomicLong scrubbedThrough = new AtomicLong(-1);
  private final AtomicBoolean scheduled = new AtomicBoolean();
  private final AtomicLong scrubs = new AtomicLong();
  private volatile Member member;
  private volatile long pendingSinceNanos;
  private volatile long lastStepDownNanos;
  private volatile boolean warned;

  DestructionScrubber(Duration bound) {
    this.bound = bound;
    // Coalesce a burst of destructions and retry at a twentieth of the bound: several tries fit.
    this.retryMillis = Math.max(200, Math.min(5_000, bound.toMillis() / 20));
    this.executor =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "keyrotor-destroy-scrub");
              t.setDaemon(true);
              return t;
            });
  }

  /** Called by apply (quick, never blocks): the entry at {@code index} destroyed a version. */
  void destroyApplied(long index) {
    long before = pending.getAndAccumulate(index, Math::max);
    if (before <= scrubbedThrough.get()) {
      pendingSinceNanos = System.nanoTime();
      warned = false;
    }
    schedule();
  }

  /** Starts scrubbing through {@code raftMember} (destructions applied before are kept). */
  void attach(Member raftMember) {
    this.member = raftMember;
    if (pending.get() > scrubbedThrough.get()) {
      schedule();
    }
  }

  /** The highest log index of a destruction this node has scrubbed, -1 before any. */
  long scrubbedThrough() {
    return scrubbedThrough.get();
  }

  /** The highest log index of a destruction applied on this node, -1 before any. */
  long destroyedThrough() {
    return pending.get();
  }

  /** Scrubs completed since start. */
  long scrubs() {
    return scrubs.get();
  }

  private void schedule() {
    if (member != null && scheduled.compareAndSet(false, true)) {
      try {
        var unused = executor.schedule(this::run, retryMillis, TimeUnit.MILLISECONDS);
      } catch (java.util.concurrent.RejectedExecutionException e) {
        scheduled.set(false); // closing
      }
    }
  }

  private void run() {
    scheduled.set(false);
    long target = pending.get();
    if (target <= scrubbedThrough.get()) {
      return;
    }
    boolean done = false;
    try {
      done = scrub(member, target);
    } catch (RuntimeException | IOException e) {
      LOG.warn("Scrubbing destroyed key material (through index {}) failed; retrying", target, e);
    }
    if (done) {
      scrubbedThrough.accumulateAndGet(target, Math::max);
      scrubs.incrementAndGet();
      LOG.info("Destroyed key material through log index {} scrubbed from this node", target);
    } else {
      warnIfLate(target);
    }
    if (pending.get() > scrubbedThrough.get()) {
      schedule();
    }
  }

  private boolean scrub(Member raft, long target) throws IOException {
    OptionalLong firstSegment = firstSegmentStart(raft.raftDirectory());
    OptionalLong openSegment = openSegmentStart(raft.raftDirectory());
    if (openSegment.isPresent() && openSegment.getAsLong() <= target) {
      closeOpenSegment(raft);
      return false;
    }
    raft.store().scrubDestroyedMaterial();
    long snapshot = raft.takeFreshSnapshot();
    if (snapshot < target) {
      return false;
    }
    raft.deleteSnapshotsBefore(snapshot);
    if (firstSegment.isPresent() && firstSegment.getAsLong() <= target) {
      // Ratis purges after the snapshot, asynchronously: look again on the next try.
      firstSegment = firstSegmentStart(raft.raftDirectory());
    }
    return firstSegment.isEmpty() || firstSegment.getAsLong() > target;
  }

  /**
   * The leader steps down (at most once per quarter of the bound): its scrubber asks at once, a
   * follower's only after half the bound, in case the leader's own scrub cannot.
   */
  private void closeOpenSegment(Member raft) {
    long now = System.nanoTime();
    long sincePending = now - pendingSinceNanos;
    long sinceStepDown = now - lastStepDownNanos;
    boolean mine = raft.isLeader() || sincePending > bound.toNanos() / 2;
    if (mine && (lastStepDownNanos == 0 || sinceStepDown > bound.toNanos() / 4)) {
      lastStepDownNanos = now;
      LOG.info(
          "Asking the leader to step down: a new term closes the Raft log segment that still"
              + " holds destroyed key material");
      raft.askLeaderToStepDown();
    }
  }

  private void warnIfLate(long target) {
    if (!warned && System.nanoTime() - pendingSinceNanos > bound.toNanos()) {
      warned = true;
      LOG.warn(
          "Destroyed key material (through log index {}) is not yet scrubbed from this node's data"
              + " directory after {}; still trying",
          target,
          bound);
    }
  }

  /** The start index of the Raft log's open segment, if there is one. */
  static OptionalLong openSegmentStart(Path raftDirectory) throws IOException {
    return segmentStarts(raftDirectory, true).min();
  }

  /** The smallest start index of any Raft log segment, open or closed. */
  static OptionalLong firstSegmentStart(Path raftDirectory) throws IOException {
    return segmentStarts(raftDirectory, false).min();
  }

  /** Start indexes of the segments in {@code <raft>/<group>/current} (Ratis's layout). */
  private static LongStream segmentStarts(Path raftDirectory, boolean openOnly) throws IOException {
    if (!Files.isDirectory(raftDirectory)) {
      return LongStream.empty();
    }
    LongStream.Builder starts = LongStream.builder();
    try (Stream<Path> groups = Files.list(raftDirectory)) {
      for (Path group : (Iterable<Path>) groups::iterator) {
        Path current = group.resolve("current");
        if (!Files.isDirectory(current)) {
          continue;
        }
        try (Stream<Path> files = Files.list(current)) {
          files
              .map(p -> p.getFileName().toString())
              .filter(name -> !openOnly || name.startsWith("log_inprogress_"))
              .map(SEGMENT::matcher)
              .filter(Matcher::matches)
              .forEach(m -> starts.add(Long.parseLong(m.group(1))));
        }
      }
    }
    return starts.build();
  }

  /**
   * Stops the scrubber and waits (at most 10 s) for a run in progress, which may be deleting old
   * snapshots, to end: a node's close returns only when nothing writes to its directory.
   */
  @Override
  public void close() {
    executor.shutdownNow();
    try {
      if (!executor.awaitTermination(10, TimeUnit.SECONDS)) {
        LOG.warn("The destruction scrubber was still running 10 s after it was stopped");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
