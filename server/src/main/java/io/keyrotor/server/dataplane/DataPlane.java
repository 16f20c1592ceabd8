package io.keyrotor.server.dataplane;

import io.keyrotor.api.v1.ErrorReason;
import io.keyrotor.consensus.RaftNode;
import io.keyrotor.proto.internal.v1.KeyRecord;
import io.keyrotor.proto.internal.v1.KeyVersionRecord;
import io.keyrotor.server.rotation.UsageCounter;
import io.keyrotor.storage.KeyVersions;
import io.keyrotor.storage.Validation;
import io.keyrotor.storage.VersionUse;
import java.security.DrbgParameters;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.function.Function;

/**
 * The data plane of one node: envelope encryption under the replicated keys, served from the node's
 * applied state after a linearizable read barrier, never through the Raft log.
 *
 * <p>Every call:
 *
 * <ol>
 *   <li>validates what it can without state (sizes, key names, contexts, ciphertext structure);
 *   <li>passes the {@link ReadGate} (leader lease on the leader; ReadIndex on a follower), so it
 *       sees every write that completed before it started;
 *   <li>reads the key from the applied state and asks {@link VersionUse} whether the version may be
 *       used so at this node's clock: the primary encrypts; primary and decrypt-only versions
 *       decrypt; every other state refuses with FAILED_PRECONDITION;
 *   <li>refuses keys of zones this node does not hold;
 *   <li>takes the key-encryption key from the {@link KekCache} (an HSM unwrap on a miss, on the
 *       slow-path executor) and runs AES-256-GCM over the {@link CiphertextFormat} envelope.
 * </ol>
 *
 * On a cache hit the work runs on the thread that completed the barrier and takes no lock shared by
 * all requests. Failures are {@link DataPlaneException}s (or, from the barrier, the consensus
 * layer's exceptions), never plaintext.
 *
 * <p>Its inputs and results are its own (key names, versions, context maps, bytes, {@link
 * DataKeySpec}); the gRPC adapter ({@code io.keyrotor.server.api.DataPlaneCalls}) converts. For
 * benchmarks and tools, {@link #decrypt(byte[], Map)} is the same work as the gRPC Decrypt without
 * gRPC: barrier, cache, AES-GCM, on the calling thread.
 */
public final class DataPlane {
  /** Largest plaintext of Encrypt (and of the ciphertext of Decrypt): 64 KiB. */
  public static final int MAX_PAYLOAD_BYTES = 64 * 1024;

  /** Most items of one BatchDecrypt or BatchReEncrypt call. */
  public static final int MAX_BATCH_ITEMS = 10_000;

  /** Largest ciphertext Decrypt and ReEncrypt accept. */
  public static final int MAX_CIPHERTEXT_BYTES =
      CiphertextFormat.ciphertextLength(CiphertextFormat.MAX_KEY_NAME_LENGTH, MAX_PAYLOAD_BYTES);

  /** How often one call retries after its key-encryption key was evicted under it. */
  private static final int MAX_EVICTION_RETRIES = 3;

  private static final ThreadLocal<SecureRandom> RANDOM =
      ThreadLocal.withInitial(DataPlane::newRandom);

  private final ReadGate gate;
  private final Function<String, Optional<KeyRecord>> keys;
  private final Set<String> zones;
  private final KekCache keks;
  private final Clock clock;
  private final Executor slowPath;
  private final UsageCounter usage;

  /**
   * @param gate the read barrier every call passes first
   * @param keys a key by name from the applied state (read after the barrier)
   * @param zones the zones this node serves: its configured zones (all held by its HSM)
   * @param keks the cache of unwrapped key-encryption keys
   * @param clock the clock at which version states are evaluated
   * @param slowPath where HSM unwraps and batches run (never a Raft thread)
   */
  public DataPlane(
      ReadGate gate,
      Function<String, Optional<KeyRecord>> keys,
      Set<String> zones,
      KekCache keks,
      Clock clock,
      Executor slowPath) {
    this(gate, keys, zones, keks, clock, slowPath, UsageCounter.NONE);
  }

  /**
   * @param usage counts every encryption and data key per version (usage-based rotation)
   */
  public DataPlane(
      ReadGate gate,
      Function<String, Optional<KeyRecord>> keys,
      Set<String> zones,
      KekCache keks,
      Clock clock,
      Executor slowPath,
      UsageCounter usage) {
    this.gate = gate;
    this.keys = keys;
    this.zones = Set.copyOf(zones);
    this.keks = keks;
    this.clock = clock;
    this.slowPath = slowPath;
    this.usage = usage;
  }

  /**
   * The data plane of a Raft member: its read barrier (with {@code followerReads} deciding what a
   * follower does), its applied state, and HSM unwraps and batches on {@code slowPath}.
   */
  public static DataPlane of(
      RaftNode raft,
      ReadGate.FollowerReads followerReads,
      Set<String> zones,
      KekCache keks,
      Clock clock,
      Executor slowPath,
      UsageCounter usage) {
    return new DataPlane(
        ReadGate.of(raft, followerReads),
        name -> raft.state().key(name),
        zones,
        keks,
        clock,
        slowPath,
        usage);
  }

  /**
   * Drops (and zeroes) cached key-encryption keys of versions that can no longer be used. Apply
   * already drops them as commands disable versions; this also catches state that arrived by
   * snapshot installation. Cheap: run it every few seconds.
   */
  public void dropUnusableKeks() {
    keks.retainUsable(this::stillUsable);
  }

  /** The outcome of one item of a batch call: a result or the reason it failed. */
  public record ItemOutcome<T>(T resultOrNull, DataPlaneException errorOrNull) {}

  // ---------------------------------------------------------------- inputs and results

  /**
   * One decryption: a keyrotor ciphertext (the key and version come from its header) and the
   * encryption context it was sealed with.
   */
  public record Decryption(byte[] ciphertext, Map<String, String> context) {}

  /**
   * One re-encryption: open {@code ciphertext} under {@code context}, seal the plaintext under the
   * primary of {@code destinationKeyName} (empty: the ciphertext's own key) with {@code
   * destinationContextOrNull} (null: the same context; empty: no context).
   */
  public record ReEncryption(
      byte[] ciphertext,
      Map<String, String> context,
      String destinationKeyName,
      Map<String, String> destinationContextOrNull) {}

  /**
   * A fresh data key: its plaintext (null when not asked for; the caller owns the array and zeroes
   * it when done) and the data key sealed under version {@code keyVersion} of the key.
   */
  public record DataKey(
      String keyName, int keyVersion, byte[] plaintextOrNull, byte[] wrappedDataKey) {}

  /** A payload sealed under version {@code keyVersion} of the key. */
  public record Encrypted(String keyName, int keyVersion, byte[] ciphertext) {}

  /** An opened ciphertext; the caller owns {@code plaintext} and zeroes it when done. */
  public record Decrypted(String keyName, int keyVersion, byte[] plaintext) {}

  /**
   * A ciphertext opened under {@code sourceKeyVersion} and sealed again under {@code keyVersion}.
   */
  public record ReEncrypted(
      String keyName, int sourceKeyVersion, int keyVersion, byte[] ciphertext) {}

  /** One unit of work after the barrier; {@code mayUnwrap} false means "cache hits only". */
  @FunctionalInterface
  private interface Work<T> {
    T run(boolean mayUnwrap) throws DataPlaneException;
  }

  /** Thrown (preallocated) when work needs an HSM unwrap but may not do it on this thread. */
  private static final class NeedsUnwrap extends RuntimeException {
    private static final long serialVersionUID = 1L;
    static final NeedsUnwrap INSTANCE = new NeedsUnwrap();

    private NeedsUnwrap() {
      super("needs an HSM unwrap", null, false, false);
    }
  }

  /** Thrown (preallocated) when the key-encryption key was zeroed by an eviction while in use. */
  private static final class KekEvicted extends RuntimeException {
    private static final long serialVersionUID = 1L;
    static final KekEvicted INSTANCE = new KekEvicted();

    private KekEvicted() {
      super("key-encryption key evicted while in use", null, false, false);
    }
  }

  // ---------------------------------------------------------------- the operations

  /**
   * GenerateDataKey: a fresh data key of {@code spec}, sealed under the key's primary with {@code
   * context}; its plaintext too when {@code withPlaintext}.
   */
  public CompletableFuture<DataKey> generateDataKeyAsync(
      String keyName, Map<String, String> context, DataKeySpec spec, boolean withPlaintext) {
    try {
      String name = keyName(keyName);
      byte[] encodedContext = CiphertextFormat.encodeContext(context);
      int length = spec.lengthBytes();
      return serve(
          name, mayUnwrap -> generate(name, encodedContext, length, withPlaintext, mayUnwrap));
    } catch (DataPlaneException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  /**
   * Encrypt: a small payload (at most {@link #MAX_PAYLOAD_BYTES}) under the key's primary version.
   * {@code plaintext} is read, never kept or changed: the caller zeroes it once this completes.
   */
  public CompletableFuture<Encrypted> encryptAsync(
      String keyName, byte[] plaintext, Map<String, String> context) {
    try {
      String name = keyName(keyName);
      if (plaintext.length > MAX_PAYLOAD_BYTES) {
        throw payloadTooLarge("plaintext", plaintext.length);
      }
      byte[] encodedContext = CiphertextFormat.encodeContext(context);
      return serve(name, mayUnwrap -> encrypted(name, encodedContext, plaintext, mayUnwrap));
    } catch (DataPlaneException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  /** Decrypt: the key and version come from the ciphertext's header. */
  public CompletableFuture<Decrypted> decryptAsync(byte[] ciphertext, Map<String, String> context) {
    try {
      CiphertextFormat.Parsed parsed = parseCiphertext(ciphertext);
      byte[] encodedContext = CiphertextFormat.encodeContext(context);
      return serve(parsed.keyName(), mayUnwrap -> decrypted(parsed, encodedContext, mayUnwrap));
    } catch (DataPlaneException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  /**
   * Decrypt on the calling thread, without gRPC: waits for the read barrier (on a leader with a
   * valid lease: at once), then cache lookup (an HSM unwrap on a miss) and AES-GCM. The in-process
   * entry point of the "server-side Decrypt work" benchmark.
   */
  public Decrypted decrypt(byte[] ciphertext, Map<String, String> context)
      throws DataPlaneException {
    CiphertextFormat.Parsed parsed = parseCiphertext(ciphertext);
    byte[] encodedContext = CiphertextFormat.encodeContext(context);
    awaitGate(parsed.keyName());
    return attempt(mayUnwrap -> decrypted(parsed, encodedContext, mayUnwrap), true);
  }

  /** ReEncrypt: decrypt and seal again under the destination's primary, inside this node. */
  public CompletableFuture<ReEncrypted> reEncryptAsync(ReEncryption request) {
    try {
      PreparedReEncryption prepared = prepare(request);
      return serve(prepared.source.keyName(), mayUnwrap -> reEncrypted(prepared, mayUnwrap));
    } catch (DataPlaneException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  /** Many decrypts after one barrier, each with its own outcome. */
  public CompletableFuture<List<ItemOutcome<Decrypted>>> batchDecryptAsync(List<Decryption> items) {
    if (items.size() > MAX_BATCH_ITEMS) {
      return CompletableFuture.failedFuture(batchTooLarge(items.size()));
    }
    return gate.await(null)
        .thenApplyAsync(
            ignored -> {
              List<ItemOutcome<Decrypted>> out = new ArrayList<>(items.size());
              for (Decryption item : items) {
                try {
                  CiphertextFormat.Parsed parsed = parseCiphertext(item.ciphertext());
                  byte[] context = CiphertextFormat.encodeContext(item.context());
                  out.add(
                      new ItemOutcome<>(
                          attempt(mayUnwrap -> decrypted(parsed, context, mayUnwrap), true), null));
                } catch (DataPlaneException e) {
                  out.add(new ItemOutcome<>(null, e));
                }
              }
              return out;
            },
            slowPath);
  }

  /** Many re-encrypts after one barrier, each with its own outcome. */
  public CompletableFuture<List<ItemOutcome<ReEncrypted>>> batchReEncryptAsync(
      List<ReEncryption> items) {
    if (items.size() > MAX_BATCH_ITEMS) {
      return CompletableFuture.failedFuture(batchTooLarge(items.size()));
    }
    return gate.await(null)
        .thenApplyAsync(
            ignored -> {
              List<ItemOutcome<ReEncrypted>> out = new ArrayList<>(items.size());
              for (ReEncryption item : items) {
                try {
                  PreparedReEncryption prepared = prepare(item);
                  out.add(
                      new ItemOutcome<>(
                          attempt(mayUnwrap -> reEncrypted(prepared, mayUnwrap), true), null));
                } catch (DataPlaneException e) {
                  out.add(new ItemOutcome<>(null, e));
                }
              }
              return out;
            },
            slowPath);
  }

  // ---------------------------------------------------------------- running work after the gate

  /**
   * Passes the gate, then runs {@code work} on the thread that completed it if every key it needs
   * is cached; otherwise again on the slow-path executor, where it may ask the HSM.
   */
  private <T> CompletableFuture<T> serve(String keyName, Work<T> work) {
    return gate.await(keyName)
        .thenCompose(
            ignored -> {
              try {
                return CompletableFuture.completedFuture(attempt(work, false));
              } catch (NeedsUnwrap slow) {
                return CompletableFuture.supplyAsync(
                    () -> {
                      try {
                        return attempt(work, true);
                      } catch (DataPlaneException e) {
                        throw new CompletionException(e);
                      }
                    },
                    slowPath);
              } catch (DataPlaneException e) {
                return CompletableFuture.failedFuture(e);
              }
            });
  }

  private <T> T attempt(Work<T> work, boolean mayUnwrap) throws DataPlaneException {
    for (int attempt = 1; ; attempt++) {
      try {
        return work.run(mayUnwrap);
      } catch (KekEvicted evicted) {
        if (attempt == MAX_EVICTION_RETRIES) {
          throw new DataPlaneException(
              ErrorReason.HSM_UNAVAILABLE,
              "the key-encryption key was evicted from the cache while in use, repeatedly; retry");
        }
      }
    }
  }

  private void awaitGate(String keyName) throws DataPlaneException {
    try {
      gate.await(keyName).get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new DataPlaneException(
          ErrorReason.HSM_UNAVAILABLE, "interrupted while waiting for the barrier");
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof RuntimeException runtime) {
        throw runtime;
      }
      throw new CompletionException(cause);
    }
  }

  // ---------------------------------------------------------------- the work itself

  private DataKey generate(
      String name, byte[] context, int length, boolean withPlaintext, boolean mayUnwrap)
      throws DataPlaneException {
    KeyRecord key = servedKey(name);
    KeyVersionRecord primary = primaryVersion(key);
    Kek kek = kek(key, primary, mayUnwrap);
    byte[] dataKey = new byte[length];
    RANDOM.get().nextBytes(dataKey);
    try {
      byte[] wrapped = seal(kek, name, primary.getVersion(), context, dataKey, 0, dataKey.length);
      return new DataKey(name, primary.getVersion(), withPlaintext ? dataKey : null, wrapped);
    } finally {
      if (!withPlaintext) {
        Arrays.fill(dataKey, (byte) 0);
      }
    }
  }

  private Encrypted encrypted(String name, byte[] context, byte[] plaintext, boolean mayUnwrap)
      throws DataPlaneException {
    KeyRecord key = servedKey(name);
    KeyVersionRecord primary = primaryVersion(key);
    Kek kek = kek(key, primary, mayUnwrap);
    return new Encrypted(
        name,
        primary.getVersion(),
        seal(kek, name, primary.getVersion(), context, plaintext, 0, plaintext.length));
  }

  private Decrypted decrypted(CiphertextFormat.Parsed parsed, byte[] context, boolean mayUnwrap)
      throws DataPlaneException {
    byte[] plaintext = open(parsed, context, mayUnwrap);
    return new Decrypted(parsed.keyName(), (int) parsed.keyVersion(), plaintext);
  }

  /** A re-encryption, validated before the barrier. */
  private record PreparedReEncryption(
      CiphertextFormat.Parsed source,
      byte[] sourceContext,
      String destinationKeyName,
      byte[] destinationContext) {}

  private static PreparedReEncryption prepare(ReEncryption request) throws DataPlaneException {
    CiphertextFormat.Parsed source = parseCiphertext(request.ciphertext());
    byte[] sourceContext = CiphertextFormat.encodeContext(request.context());
    String destination =
        request.destinationKeyName().isEmpty()
            ? source.keyName()
            : keyName(request.destinationKeyName());
    byte[] destinationContext =
        request.destinationContextOrNull() != null
            ? CiphertextFormat.encodeContext(request.destinationContextOrNull())
            : sourceContext;
    return new PreparedReEncryption(source, sourceContext, destination, destinationContext);
  }

  private ReEncrypted reEncrypted(PreparedReEncryption r, boolean mayUnwrap)
      throws DataPlaneException {
    byte[] plaintext = open(r.source, r.sourceContext, mayUnwrap);
    try {
      KeyRecord destination = servedKey(r.destinationKeyName);
      KeyVersionRecord primary = primaryVersion(destination);
      Kek destinationKek = kek(destination, primary, mayUnwrap);
      byte[] ciphertext =
          seal(
              destinationKek,
              r.destinationKeyName,
              primary.getVersion(),
              r.destinationContext,
              plaintext,
              0,
              plaintext.length);
      return new ReEncrypted(
          r.destinationKeyName, (int) r.source.keyVersion(), primary.getVersion(), ciphertext);
    } finally {
      Arrays.fill(plaintext, (byte) 0);
    }
  }

  /** Authenticates and decrypts {@code parsed} if its key and version may decrypt here, now. */
  private byte[] open(CiphertextFormat.Parsed parsed, byte[] context, boolean mayUnwrap)
      throws DataPlaneException {
    Optional<KeyRecord> found = keys.apply(parsed.keyName());
    if (found.isEmpty()) {
      throw new DataPlaneException(
          ErrorReason.INVALID_CIPHERTEXT,
          "the ciphertext names key \"" + parsed.keyName() + "\", which does not exist",
          Map.of("problem", "UNKNOWN_KEY", "key", parsed.keyName()));
    }
    KeyRecord key = found.get();
    checkZone(key);
    KeyVersionRecord version = decryptingVersion(key, parsed.keyVersion());
    Kek kek = kek(key, version, mayUnwrap);
    try {
      return AesGcm.open(kek, parsed, context);
    } catch (IllegalStateException e) {
      throw evictedOr(kek, e);
    }
  }

  private byte[] seal(
      Kek kek, String name, int version, byte[] context, byte[] plaintext, int offset, int length) {
    byte[] nonce = new byte[CiphertextFormat.NONCE_LENGTH];
    RANDOM.get().nextBytes(nonce);
    try {
      byte[] sealed = AesGcm.seal(kek, name, version, nonce, context, plaintext, offset, length);
      usage.record(name, version);
      return sealed;
    } catch (IllegalStateException e) {
      throw evictedOr(kek, e);
    }
  }

  private static RuntimeException evictedOr(Kek kek, IllegalStateException e) {
    return kek.isDestroyed() ? KekEvicted.INSTANCE : e;
  }

  // ---------------------------------------------------------------- state checks

  /** The key, if it exists and this node holds its zone. */
  private KeyRecord servedKey(String name) throws DataPlaneException {
    Optional<KeyRecord> found = keys.apply(name);
    if (found.isEmpty()) {
      throw new DataPlaneException(
          ErrorReason.KEY_NOT_FOUND, "key \"" + name + "\" not found", Map.of("key", name));
    }
    checkZone(found.get());
    return found.get();
  }

  private void checkZone(KeyRecord key) throws DataPlaneException {
    if (!zones.contains(key.getZone())) {
      throw zoneNotHeld(key.getZone(), key.getName());
    }
  }

  private static DataPlaneException zoneNotHeld(String zone, String keyName) {
    return new DataPlaneException(
        ErrorReason.ZONE_NOT_HELD,
        "this node does not hold zone \"" + zone + "\" of key \"" + keyName + "\"",
        Map.of("zone", zone, "key", keyName));
  }

  /** The version new encryptions of {@code key} use now: its primary, if it may encrypt. */
  private KeyVersionRecord primaryVersion(KeyRecord key) throws DataPlaneException {
    return allowed(VersionUse.encryption(key, clock.millis()));
  }

  /** The version a ciphertext names, if it may decrypt now. */
  private KeyVersionRecord decryptingVersion(KeyRecord key, long number) throws DataPlaneException {
    VersionUse.Verdict verdict = VersionUse.decryption(key, number, clock.millis());
    if (verdict.refusalOrNull() == ErrorReason.VERSION_NOT_FOUND) {
      throw new DataPlaneException(
          ErrorReason.INVALID_CIPHERTEXT,
          "the ciphertext names version "
              + number
              + " of key \""
              + key.getName()
              + "\", which"
              + " does not exist",
          Map.of("problem", "UNKNOWN_VERSION", "key", key.getName(), "version", "" + number));
    }
    return allowed(verdict);
  }

  /** The version {@code verdict} allows, or the refusal it gives (metadata: key and version). */
  private static KeyVersionRecord allowed(VersionUse.Verdict verdict) throws DataPlaneException {
    if (verdict.isAllowed()) {
      return verdict.recordOrNull();
    }
    throw new DataPlaneException(
        verdict.refusalOrNull(),
        verdict.explanation(),
        verdict.version() == 0
            ? Map.of("key", verdict.keyName())
            : Map.of("key", verdict.keyName(), "version", Long.toString(verdict.version())));
  }

  /** The unwrapped key of a usable version: cached, or unwrapped if {@code mayUnwrap}. */
  private Kek kek(KeyRecord key, KeyVersionRecord version, boolean mayUnwrap)
      throws DataPlaneException {
    KekCache.Id id = new KekCache.Id(key.getZone(), key.getName(), version.getVersion());
    Kek cached = keks.getIfPresent(id);
    if (cached != null) {
      return cached;
    }
    if (!mayUnwrap) {
      throw NeedsUnwrap.INSTANCE;
    }
    return keks.get(id, version.getKek(), this::stillUsable);
  }

  private boolean stillUsable(KekCache.Id id) {
    return keys.apply(id.keyName())
        .flatMap(
            key -> KeyVersions.find(key, id.version()).map(v -> VersionUse.mayStillBeUsed(key, v)))
        .orElse(false);
  }

  // ---------------------------------------------------------------- validation before the barrier

  private static String keyName(String name) throws DataPlaneException {
    Optional<String> invalid = Validation.checkKeyName(name);
    if (invalid.isPresent()) {
      throw new DataPlaneException(ErrorReason.INVALID_KEY_NAME, invalid.get());
    }
    return name;
  }

  private static CiphertextFormat.Parsed parseCiphertext(byte[] ciphertext)
      throws DataPlaneException {
    if (ciphertext.length > MAX_CIPHERTEXT_BYTES) {
      throw payloadTooLarge("ciphertext", ciphertext.length);
    }
    return CiphertextFormat.parse(ciphertext);
  }

  private static DataPlaneException payloadTooLarge(String what, int size) {
    return new DataPlaneException(
        ErrorReason.PAYLOAD_TOO_LARGE,
        what
            + " is "
            + size
            + " bytes; Encrypt and Decrypt take at most "
            + MAX_PAYLOAD_BYTES
            + " bytes of plaintext. Encrypt larger data locally under a data key from"
            + " GenerateDataKey (envelope encryption)",
        Map.of("limit", Integer.toString(MAX_PAYLOAD_BYTES)));
  }

  private static DataPlaneException batchTooLarge(int items) {
    return new DataPlaneException(
        ErrorReason.BATCH_TOO_LARGE,
        "the batch has " + items + " items; the limit is " + MAX_BATCH_ITEMS + " per call",
        Map.of("limit", Integer.toString(MAX_BATCH_ITEMS)));
  }

  private static SecureRandom newRandom() {
    try {
      return SecureRandom.getInstance(
          "DRBG", DrbgParameters.instantiation(256, DrbgParameters.Capability.RESEED_ONLY, null));
    } catch (NoSuchAlgorithmException e) {
      return new SecureRandom();
    }
  }
}
