package io.keyrotor.server.dataplane;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import io.keyrotor.api.v1.BatchDecryptRequest;
import io.keyrotor.api.v1.BatchReEncryptRequest;
import io.keyrotor.api.v1.DataKeySpec;
import io.keyrotor.api.v1.DecryptRequest;
import io.keyrotor.api.v1.DecryptResponse;
import io.keyrotor.api.v1.EncryptRequest;
import io.keyrotor.api.v1.EncryptResponse;
import io.keyrotor.api.v1.ErrorReason;
import io.keyrotor.api.v1.GenerateDataKeyRequest;
import io.keyrotor.api.v1.GenerateDataKeyResponse;
import io.keyrotor.api.v1.ReEncryptRequest;
import io.keyrotor.api.v1.ReEncryptResponse;
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
 * <p>For benchmarks and tools, {@link #decrypt(DecryptRequest)} is the same work as the gRPC
 * Decrypt without gRPC: barrier, cache, AES-GCM, on the calling thread.
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

  /** GenerateDataKey (with {@code withPlaintext}) or GenerateDataKeyWithoutPlaintext. */
  public CompletableFuture<GenerateDataKeyResponse> generateDataKeyAsync(
      GenerateDataKeyRequest request, boolean withPlaintext) {
    try {
      String name = keyName(request.getKeyName());
      byte[] context = CiphertextFormat.encodeContext(request.getContextMap());
      int length = dataKeyLength(request.getSpec());
      return serve(name, mayUnwrap -> generate(name, context, length, withPlaintext, mayUnwrap));
    } catch (DataPlaneException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  /** Encrypt: a small payload under the key's primary version. */
  public CompletableFuture<EncryptResponse> encryptAsync(EncryptRequest request) {
    try {
      String name = keyName(request.getKeyName());
      if (request.getPlaintext().size() > MAX_PAYLOAD_BYTES) {
        throw payloadTooLarge("plaintext", request.getPlaintext().size());
      }
      byte[] context = CiphertextFormat.encodeContext(request.getContextMap());
      return serve(
          name,
          mayUnwrap -> {
            Sealed sealed = seal(name, context, request.getPlaintext(), mayUnwrap);
            return EncryptResponse.newBuilder()
                .setKeyName(name)
                .setKeyVersion(sealed.version)
                .setCiphertext(UnsafeByteOperations.unsafeWrap(sealed.ciphertext))
                .build();
          });
    } catch (DataPlaneException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  /** Decrypt: the key and version come from the ciphertext's header. */
  public CompletableFuture<DecryptResponse> decryptAsync(DecryptRequest request) {
    try {
      CiphertextFormat.Parsed parsed = parseCiphertext(request.getCiphertext());
      byte[] context = CiphertextFormat.encodeContext(request.getContextMap());
      return serve(parsed.keyName(), mayUnwrap -> decrypted(parsed, context, mayUnwrap));
    } catch (DataPlaneException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  /**
   * Decrypt on the calling thread, without gRPC: waits for the read barrier (on a leader with a
   * valid lease: at once), then cache lookup (an HSM unwrap on a miss) and AES-GCM. The in-process
   * entry point of the "server-side Decrypt work" benchmark.
   */
  public DecryptResponse decrypt(DecryptRequest request) throws DataPlaneException {
    CiphertextFormat.Parsed parsed = parseCiphertext(request.getCiphertext());
    byte[] context = CiphertextFormat.encodeContext(request.getContextMap());
    awaitGate(parsed.keyName());
    return attempt(mayUnwrap -> decrypted(parsed, context, mayUnwrap), true);
  }

  /** ReEncrypt: decrypt and seal again under the destination's primary, inside this node. */
  public CompletableFuture<ReEncryptResponse> reEncryptAsync(ReEncryptRequest request) {
    try {
      ReEncryption prepared = prepare(request);
      return serve(prepared.source.keyName(), mayUnwrap -> reEncrypted(prepared, mayUnwrap));
    } catch (DataPlaneException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  /** Many decrypts after one barrier, each with its own outcome. */
  public CompletableFuture<List<ItemOutcome<DecryptResponse>>> batchDecryptAsync(
      BatchDecryptRequest request) {
    if (request.getItemsCount() > MAX_BATCH_ITEMS) {
      return CompletableFuture.failedFuture(batchTooLarge(request.getItemsCount()));
    }
    return gate.await(null)
        .thenApplyAsync(
            ignored -> {
              List<ItemOutcome<DecryptResponse>> out = new ArrayList<>(request.getItemsCount());
              for (DecryptRequest item : request.getItemsList()) {
                try {
                  CiphertextFormat.Parsed parsed = parseCiphertext(item.getCiphertext());
                  byte[] context = CiphertextFormat.encodeContext(item.getContextMap());
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
  public CompletableFuture<List<ItemOutcome<ReEncryptResponse>>> batchReEncryptAsync(
      BatchReEncryptRequest request) {
    if (request.getItemsCount() > MAX_BATCH_ITEMS) {
      return CompletableFuture.failedFuture(batchTooLarge(request.getItemsCount()));
    }
    return gate.await(null)
        .thenApplyAsync(
            ignored -> {
              List<ItemOutcome<ReEncryptResponse>> out = new ArrayList<>(request.getItemsCount());
              for (ReEncryptRequest item : request.getItemsList()) {
                try {
                  ReEncryption prepared = prepare(item);
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

  private GenerateDataKeyResponse generate(
      String name, byte[] context, int length, boolean withPlaintext, boolean mayUnwrap)
      throws DataPlaneException {
    KeyRecord key = servedKey(name);
    KeyVersionRecord primary = primaryVersion(key);
    Kek kek = kek(key, primary, mayUnwrap);
    byte[] dataKey = new byte[length];
    RANDOM.get().nextBytes(dataKey);
    try {
      byte[] wrapped = seal(kek, name, primary.getVersion(), context, dataKey, 0, dataKey.length);
      GenerateDataKeyResponse.Builder out =
          GenerateDataKeyResponse.newBuilder()
              .setKeyName(name)
              .setKeyVersion(primary.getVersion())
              .setWrappedDataKey(UnsafeByteOperations.unsafeWrap(wrapped));
      if (withPlaintext) {
        out.setPlaintext(ByteString.copyFrom(dataKey));
      }
      return out.build();
    } finally {
      Arrays.fill(dataKey, (byte) 0);
    }
  }

  private record Sealed(int version, byte[] ciphertext) {}

  private Sealed seal(String name, byte[] context, ByteString plaintext, boolean mayUnwrap)
      throws DataPlaneException {
    KeyRecord key = servedKey(name);
    KeyVersionRecord primary = primaryVersion(key);
    Kek kek = kek(key, primary, mayUnwrap);
    byte[] bytes = plaintext.toByteArray();
    try {
      return new Sealed(
          primary.getVersion(),
          seal(kek, name, primary.getVersion(), context, bytes, 0, bytes.length));
    } finally {
      Arrays.fill(bytes, (byte) 0);
    }
  }

  private DecryptResponse decrypted(
      CiphertextFormat.Parsed parsed, byte[] context, boolean mayUnwrap) throws DataPlaneException {
    byte[] plaintext = open(parsed, context, mayUnwrap);
    return DecryptResponse.newBuilder()
        .setKeyName(parsed.keyName())
        .setKeyVersion((int) parsed.keyVersion())
        .setPlaintext(UnsafeByteOperations.unsafeWrap(plaintext))
        .build();
  }

  /** The source half of a ReEncrypt, validated before the barrier. */
  private record ReEncryption(
      CiphertextFormat.Parsed source,
      byte[] sourceContext,
      String destinationKeyName,
      byte[] destinationContext) {}

  private static ReEncryption prepare(ReEncryptRequest request) throws DataPlaneException {
    CiphertextFormat.Parsed source = parseCiphertext(request.getCiphertext());
    byte[] sourceContext = CiphertextFormat.encodeContext(request.getContextMap());
    String destination =
        request.getDestinationKeyName().isEmpty()
            ? source.keyName()
            : keyName(request.getDestinationKeyName());
    byte[] destinationContext =
        request.hasDestinationContext()
            ? CiphertextFormat.encodeContext(request.getDestinationContext().getPairsMap())
            : sourceContext;
    return new ReEncryption(source, sourceContext, destination, destinationContext);
  }

  private ReEncryptResponse reEncrypted(ReEncryption r, boolean mayUnwrap)
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
      return ReEncryptResponse.newBuilder()
          .setKeyName(r.destinationKeyName)
          .setSourceKeyVersion((int) r.source.keyVersion())
          .setKeyVersion(primary.getVersion())
          .setCiphertext(UnsafeByteOperations.unsafeWrap(ciphertext))
          .build();
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

  private static CiphertextFormat.Parsed parseCiphertext(ByteString ciphertext)
      throws DataPlaneException {
    if (ciphertext.size() > MAX_CIPHERTEXT_BYTES) {
      throw payloadTooLarge("ciphertext", ciphertext.size());
    }
    return CiphertextFormat.parse(ciphertext.toByteArray());
  }

  private static int dataKeyLength(DataKeySpec spec) throws DataPlaneException {
    return switch (spec) {
      case DATA_KEY_SPEC_UNSPECIFIED, DATA_KEY_SPEC_AES_256 -> 32;
      case DATA_KEY_SPEC_AES_128 -> 16;
      default ->
          throw new DataPlaneException(
              ErrorReason.INVALID_DATA_KEY_SPEC,
              "unknown data key spec " + spec + "; use DATA_KEY_SPEC_AES_256 or _AES_128");
    };
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
