package io.keyrotor.server.dataplane;

import com.google.rpc.Code;
import io.keyrotor.api.v1.ErrorReason;
import io.keyrotor.proto.internal.v1.CommandResult;
import io.keyrotor.proto.internal.v1.KeyRecord;
import io.keyrotor.proto.internal.v1.KeyVersionRecord;
import io.keyrotor.storage.EncryptionLimits;
import io.keyrotor.storage.KeyVersions;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BiPredicate;

/**
 * The encryptions this node may still perform under each key version: blocks reserved through the
 * log ({@code ReserveEncryptions}) before they are used, so the data plane never encrypts past a
 * version's limit ({@link EncryptionLimits}) whatever the other nodes do, and a node that crashes
 * loses only the unused part of its blocks, which stays counted as used.
 *
 * <p>The hot path ({@link #acquire}) is one compare-and-set on the version's counter. When half of
 * the current block is used, the next one is proposed in the background, so under steady traffic no
 * call waits for the log. A call waits (the data plane resumes it on its slow path once the block
 * applied) only when this node has no block for the version yet: its first encryption under a
 * version, or after a restart. The block size adapts to this node's rate: about {@code
 * usage.reservation-period} of its traffic under the version, at least {@code
 * usage.reservation-block}, at most a sixteenth of the limit, never more than is left.
 *
 * <p>Blocks are handed out only from this process's own proposals, never from applied entries: a
 * restarted node replays its earlier reservations but never reuses them.
 */
public final class EncryptionReservations {
  /** Proposes a reservation through the log; completes with the result of its application. */
  @FunctionalInterface
  public interface Proposer {
    CompletableFuture<CommandResult> reserve(String keyName, int version, long count);
  }

  /**
   * How blocks are sized.
   *
   * @param minimumBlock the smallest block ({@code usage.reservation-block})
   * @param period how much of this node's traffic under a version a block should last ({@code
   *     usage.reservation-period}); zero: every block is the minimum
   */
  public record Settings(long minimumBlock, Duration period) {
    public Settings {
      if (minimumBlock < 1) {
        throw new IllegalArgumentException("the minimum block is at least 1");
      }
      if (period.isNegative()) {
        throw new IllegalArgumentException("the period must not be negative");
      }
    }

    /** 1,000 encryptions at least, about 10 seconds of traffic. */
    public static Settings defaults() {
      return new Settings(1_000, Duration.ofSeconds(10));
    }
  }

  /** Reserves nothing and refuses nothing: tools and benchmarks that run no cluster. */
  public static final EncryptionReservations UNLIMITED =
      new EncryptionReservations(null, Settings.defaults());

  private record Slot(String keyName, int version) {}

  private final Proposer proposerOrNull;
  private final Settings settings;
  private final Map<Slot, Ledger> ledgers = new ConcurrentHashMap<>();

  /**
   * @param proposer proposes this node's reservations
   * @param settings the block sizes
   */
  public EncryptionReservations(Proposer proposer, Settings settings) {
    this.proposerOrNull = proposer;
    this.settings = settings;
  }

  /**
   * Takes one encryption under {@code version} of {@code key} (the version the data plane is about
   * to encrypt under, as applied at {@code nowMillis}), or says why it cannot now.
   *
   * @throws NeedsReservation when this node has none left for the version but may get more: retry
   *     once its future completed
   * @throws DataPlaneException {@link ErrorReason#ENCRYPTION_LIMIT_REACHED} when the version has
   *     none left to reserve
   */
  void acquire(KeyRecord key, KeyVersionRecord version, long nowMillis) throws DataPlaneException {
    if (proposerOrNull == null) {
      return;
    }
    long limit = EncryptionLimits.limit(key);
    long counted = EncryptionLimits.counted(version);
    if (counted > limit) {
      // A policy lowered the limit below what is already reserved: what was used is unknown.
      throw limitReached(key, version, limit, nowMillis);
    }
    Ledger ledger =
        ledgers.computeIfAbsent(
            new Slot(key.getName(), version.getVersion()),
            s -> new Ledger(s.keyName(), s.version()));
    if (take(ledger, key, version)) {
      return;
    }
    // The applied count may already include a block of this node whose grant has not reached the
    // ledger yet: wait for the request in flight rather than refuse what is about to arrive.
    CompletableFuture<Void> pending = ledger.inFlight.get();
    if (pending != null) {
      throw new NeedsReservation(pending);
    }
    // A grant lands before its request leaves inFlight: one that landed since the first attempt is
    // usable now.
    if (take(ledger, key, version)) {
      return;
    }
    if (limit - counted <= 0 || ledger.refusedAtCounted == counted) {
      throw limitReached(key, version, limit, nowMillis);
    }
    throw new NeedsReservation(ledger.requestMore(key, version));
  }

  /** Takes one from the ledger, asking ahead for the next block once half of the last is used. */
  private static boolean take(Ledger ledger, KeyRecord key, KeyVersionRecord version) {
    if (!ledger.tryTake()) {
      return false;
    }
    if (ledger.left() <= ledger.lastBlock / 2) {
      var unusedAhead = ledger.requestMore(key, version);
    }
    return true;
  }

  /**
   * Forgets the ledgers of versions {@code keep} rejects (superseded, gone): their rest is lost.
   */
  void retain(BiPredicate<String, Integer> keep) {
    ledgers.keySet().removeIf(slot -> !keep.test(slot.keyName(), slot.version()));
  }

  /** The encryptions this node holds in reserve under a version, for tests and status. */
  long heldInReserve(String keyName, int version) {
    Ledger ledger = ledgers.get(new Slot(keyName, version));
    return ledger == null ? 0 : ledger.left();
  }

  private static DataPlaneException limitReached(
      KeyRecord key, KeyVersionRecord version, long limit, long nowMillis) {
    String name = key.getName();
    Optional<KeyVersionRecord> next =
        KeyVersions.pendingAt(key, nowMillis).filter(p -> p.getVersion() > version.getVersion());
    String what =
        "version "
            + version.getVersion()
            + " of key \""
            + name
            + "\" reached its limit of "
            + limit
            + " encryptions (AES-GCM with random nonces must not encrypt more under one key); ";
    if (next.isPresent()) {
      long wait = Math.max(1, next.get().getActivationTimeUnixMillis() - nowMillis);
      return new DataPlaneException(
          ErrorReason.ENCRYPTION_LIMIT_REACHED,
          what
              + "version "
              + next.get().getVersion()
              + " takes over when it activates, in "
              + wait
              + " ms: retry then",
          Map.of(
              "key",
              name,
              "version",
              Integer.toString(version.getVersion()),
              "limit",
              Long.toString(limit),
              "retry_after_millis",
              Long.toString(wait)));
    }
    return new DataPlaneException(
        ErrorReason.ENCRYPTION_LIMIT_REACHED,
        what + "no newer version is active or pending yet: rotate the key",
        Map.of(
            "key", name, "version", Integer.toString(version.getVersion()), "limit", "" + limit));
  }

  private static DataPlaneException refusal(CommandResult result) {
    ErrorReason reason;
    try {
      reason = ErrorReason.valueOf(result.getOutcome().getReason());
    } catch (IllegalArgumentException e) {
      reason = ErrorReason.REJECTED;
    }
    return new DataPlaneException(
        reason, "the reservation of encryptions was refused: " + result.getOutcome().getMessage());
  }

  /** What this node holds under one version: granted by its own proposals, and used. */
  private final class Ledger {
    private final String keyName;
    private final int version;
    private final AtomicLong used = new AtomicLong();
    // Grows only in the completion of the one request in flight (the owner of inFlight).
    private final AtomicLong granted = new AtomicLong();
    private volatile long lastBlock;
    // The version's counted encryptions (as this node saw them) when a request was last refused:
    // until the applied count moves, asking again would be refused again.
    private volatile long refusedAtCounted = -1;
    private final AtomicReference<CompletableFuture<Void>> inFlight = new AtomicReference<>();
    // Guarded by inFlight: the rate of this node under the version, for the next block's size.
    private long usedAtLastRequest;
    private long lastRequestNanos;

    Ledger(String keyName, int version) {
      this.keyName = keyName;
      this.version = version;
    }

    boolean tryTake() {
      while (true) {
        long taken = used.get();
        if (taken >= granted.get()) {
          return false;
        }
        if (used.compareAndSet(taken, taken + 1)) {
          return true;
        }
      }
    }

    long left() {
      return Math.max(0, granted.get() - used.get());
    }

    /** The request in flight, or a new one for the next block. */
    CompletableFuture<Void> requestMore(KeyRecord key, KeyVersionRecord record) {
      CompletableFuture<Void> current = inFlight.get();
      if (current != null) {
        return current;
      }
      CompletableFuture<Void> mine = new CompletableFuture<>();
      if (!inFlight.compareAndSet(null, mine)) {
        CompletableFuture<Void> other = inFlight.get();
        return other != null ? other : CompletableFuture.completedFuture(null);
      }
      long counted = EncryptionLimits.counted(record);
      long remaining = EncryptionLimits.remaining(key, record);
      if (remaining == 0) {
        refusedAtCounted = counted;
        inFlight.set(null);
        mine.complete(null);
        return mine;
      }
      long count = Math.min(remaining, nextBlock(EncryptionLimits.limit(key)));
      CompletableFuture<CommandResult> proposed;
      try {
        proposed = proposerOrNull.reserve(keyName, version, count);
      } catch (RuntimeException e) {
        proposed = CompletableFuture.failedFuture(e);
      }
      var unusedDone =
          proposed.whenComplete(
              (result, failure) -> {
                Throwable problem = failure;
                if (failure == null && result.getOutcome().getCode() == Code.OK_VALUE) {
                  lastBlock = count;
                  granted.addAndGet(count);
                } else if (failure == null
                    && result
                        .getOutcome()
                        .getReason()
                        .equals(ErrorReason.ENCRYPTION_LIMIT_REACHED.name())) {
                  refusedAtCounted = counted;
                } else if (failure == null) {
                  // Refused for another reason (the version was disabled meanwhile, ...).
                  problem = refusal(result);
                }
                inFlight.set(null);
                if (problem != null) {
                  mine.completeExceptionally(problem);
                } else {
                  mine.complete(null);
                }
              });
      return mine;
    }

    private long nextBlock(long limit) {
      long now = System.nanoTime();
      long usedNow = used.get();
      long wanted = 0;
      if (lastRequestNanos != 0 && !settings.period().isZero()) {
        double seconds = Math.max(1e-3, (now - lastRequestNanos) / 1e9);
        double perSecond = (usedNow - usedAtLastRequest) / seconds;
        wanted =
            (long) Math.min(Long.MAX_VALUE / 2.0, perSecond * settings.period().toMillis() / 1e3);
      }
      usedAtLastRequest = usedNow;
      lastRequestNanos = now;
      long cap = Math.max(settings.minimumBlock(), limit / 16);
      return Math.max(settings.minimumBlock(), Math.min(wanted, cap));
    }
  }

  /**
   * Thrown when this node has no encryption left under a version and asked for a block: the work
   * runs again once {@link #future()} completed (exceptionally when the proposal failed).
   */
  static final class NeedsReservation extends RuntimeException {
    private static final long serialVersionUID = 1L;

    @SuppressWarnings("serial") // never serialized: a signal inside the data plane
    private final CompletableFuture<Void> future;

    NeedsReservation(CompletableFuture<Void> future) {
      super("needs a reservation of encryptions", null, false, false);
      this.future = future;
    }

    CompletableFuture<Void> future() {
      return future;
    }
  }
}
