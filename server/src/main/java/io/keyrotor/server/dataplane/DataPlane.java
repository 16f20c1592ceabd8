package io.keyrotor.server.dataplane;

import io.keyrotor.api.v1.ErrorReason;
import io.keyrotor.consensus.RaftNode;
import io.keyrotor.proto.internal.v1.Command;
import io.keyrotor.proto.internal.v1.KeyRecord;
import io.keyrotor.proto.internal.v1.ReserveEncryptions;
import io.keyrotor.storage.Validation;
import io.keyrotor.storage.VersionUse;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
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
 * This class takes the inputs and does step 1. {@link GatedRunner} passes the gate and decides
 * where the rest runs: on a cache hit, on the thread that completed the barrier, taking no lock
 * shared by all requests; on a miss, again on the slow-path executor. Steps 3 and 4 and the cache
 * lookup are {@link KeyResolver}'s, the sealing and opening {@link Envelopes}'. Failures are {@link
 * DataPlaneException}s (or, from the barrier, the consensus layer's exceptions), never plaintext.
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

  private final KeyResolver resolver;
  private final EncryptionReservations reservations;
  private final DataKeyUsage usage;
  private final Envelopes envelopes;
  private final GatedRunner runner;

  /**
   * A data plane that reserves no encryptions and enforces no encryption limit (benchmarks and
   * tools without a cluster).
   *
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
    this(gate, keys, zones, keks, clock, slowPath, DataKeyUsage.NONE);
  }

  /** As the public constructor, counting data keys in {@code usage} (tests). */
  DataPlane(
      ReadGate gate,
      Function<String, Optional<KeyRecord>> keys,
      Set<String> zones,
      KekCache keks,
      Clock clock,
      Executor slowPath,
      DataKeyUsage usage) {
    this(
        gate,
        new KeyResolver(keys, zones, keks, clock),
        slowPath,
        EncryptionReservations.UNLIMITED,
        usage);
  }

  private DataPlane(
      ReadGate gate,
      KeyResolver resolver,
      Executor slowPath,
      EncryptionReservations reservations,
      DataKeyUsage usage) {
    this.resolver = resolver;
    this.reservations = reservations;
    this.usage = usage;
    this.envelopes = new Envelopes(resolver, reservations, usage);
    this.runner = new GatedRunner(gate, slowPath);
  }

  /**
   * The data plane of a Raft member: its read barrier (with {@code followerReads} deciding what a
   * follower does), its applied state, HSM unwraps and batches on {@code slowPath}, and every
   * encryption and data key taken from blocks this node (id {@code nodeId}) reserves through the
   * log, sized by {@code reservations} ({@link EncryptionReservations}).
   */
  public static DataPlane of(
      RaftNode raft,
      String nodeId,
      ReadGate.FollowerReads followerReads,
      Set<String> zones,
      KekCache keks,
      Clock clock,
      Executor slowPath,
      EncryptionReservations.Settings reservations) {
    EncryptionReservations.Proposer proposer =
        (name, version, count) ->
            raft.propose(
                    Command.newBuilder()
                        .setRequestId("reserve:" + nodeId + ":" + java.util.UUID.randomUUID())
                        .setOriginNode(nodeId)
                        .setReserveEncryptions(
                            ReserveEncryptions.newBuilder()
                                .setNode(nodeId)
                                .setName(name)
                                .setVersion(version)
                                .setCount(count))
                        .build())
                .orTimeout(10, java.util.concurrent.TimeUnit.SECONDS);
    return new DataPlane(
        ReadGate.of(raft, followerReads),
        new KeyResolver(name -> raft.state().key(name), zones, keks, clock),
        slowPath,
        new EncryptionReservations(proposer, reservations),
        new DataKeyUsage());
  }

  /**
   * Drops (and zeroes) cached key-encryption keys of versions that can no longer be used. Apply
   * already drops them as commands disable versions; this also catches state that arrived by
   * snapshot installation. Cheap: run it every few seconds.
   */
  public void dropUnusableKeks() {
    resolver.dropUnusableKeks();
    reservations.retain(resolver::mayStillEncrypt);
    usage.retain(resolver::versionExists);
  }

  /**
   * The data keys this node issued and rewrapped per version since its last report ({@link
   * DataKeyUsageReporter} reports them through the log).
   */
  public DataKeyUsage dataKeyUsage() {
    return usage;
  }

  /** The encryptions this node holds in reserve under a version (status and tests). */
  public long encryptionsHeldInReserve(String keyName, int version) {
    return reservations.heldInReserve(keyName, version);
  }

  /** The outcome of one item of a batch call: a result or the reason it failed. */
  public record ItemOutcome<T>(T resultOrNull, DataPlaneException errorOrNull) {}

  // ---------------------------------------------------------------- inputs and results

  /**
   * One decryption: a keyrotor ciphertext (the key and version come from its header) and the
   * encryption context it was sealed with.
   */
  // Carries bytes from a call to its answer; never compared, hashed or kept.
  @SuppressWarnings("ArrayRecordComponent")
  public record Decryption(byte[] ciphertext, Map<String, String> context) {}

  /**
   * One re-encryption: open {@code ciphertext} under {@code context}, seal the plaintext under the
   * primary of {@code destinationKeyName} (empty: the ciphertext's own key) with {@code
   * destinationContextOrNull} (null: the same context; empty: no context).
   */
  // Carries bytes from a call to its answer; never compared, hashed or kept.
  @SuppressWarnings("ArrayRecordComponent")
  public record ReEncryption(
      byte[] ciphertext,
      Map<String, String> context,
      String destinationKeyName,
      Map<String, String> destinationContextOrNull) {}

  /**
   * A fresh data key: its plaintext (null when not asked for; the caller owns the array and zeroes
   * it when done) and the data key sealed under version {@code keyVersion} of the key.
   */
  // Carries bytes from a call to its answer; never compared, hashed or kept.
  @SuppressWarnings("ArrayRecordComponent")
  public record DataKey(
      String keyName, int keyVersion, byte[] plaintextOrNull, byte[] wrappedDataKey) {}

  /** A payload sealed under version {@code keyVersion} of the key. */
  // Carries bytes from a call to its answer; never compared, hashed or kept.
  @SuppressWarnings("ArrayRecordComponent")
  public record Encrypted(String keyName, int keyVersion, byte[] ciphertext) {}

  /** An opened ciphertext; the caller owns {@code plaintext} and zeroes it when done. */
  // Carries bytes from a call to its answer; never compared, hashed or kept.
  @SuppressWarnings("ArrayRecordComponent")
  public record Decrypted(String keyName, int keyVersion, byte[] plaintext) {}

  /**
   * A ciphertext opened under {@code sourceKeyVersion} and sealed again under {@code keyVersion}.
   */
  // Carries bytes from a call to its answer; never compared, hashed or kept.
  @SuppressWarnings("ArrayRecordComponent")
  public record ReEncrypted(
      String keyName, int sourceKeyVersion, int keyVersion, byte[] ciphertext) {}

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
      return runner.serve(
          name,
          mayUnwrap -> envelopes.dataKey(name, encodedContext, length, withPlaintext, mayUnwrap));
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
      return runner.serve(
          name, mayUnwrap -> envelopes.encrypt(name, encodedContext, plaintext, mayUnwrap));
    } catch (DataPlaneException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  /** Decrypt: the key and version come from the ciphertext's header. */
  public CompletableFuture<Decrypted> decryptAsync(byte[] ciphertext, Map<String, String> context) {
    try {
      CiphertextFormat.Parsed parsed = parseCiphertext(ciphertext);
      byte[] encodedContext = CiphertextFormat.encodeContext(context);
      return runner.serve(
          parsed.keyName(), mayUnwrap -> envelopes.decrypt(parsed, encodedContext, mayUnwrap));
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
    return runner.runHere(
        parsed.keyName(), mayUnwrap -> envelopes.decrypt(parsed, encodedContext, mayUnwrap));
  }

  /** ReEncrypt: decrypt and seal again under the destination's primary, inside this node. */
  public CompletableFuture<ReEncrypted> reEncryptAsync(ReEncryption request) {
    try {
      Envelopes.ValidReEncryption valid = validate(request);
      return runner.serve(
          valid.source().keyName(), mayUnwrap -> envelopes.reEncrypt(valid, mayUnwrap));
    } catch (DataPlaneException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  /** Many decrypts after one barrier, each with its own outcome. */
  public CompletableFuture<List<ItemOutcome<Decrypted>>> batchDecryptAsync(List<Decryption> items) {
    return batch(
        items,
        item -> {
          CiphertextFormat.Parsed parsed = parseCiphertext(item.ciphertext());
          byte[] context = CiphertextFormat.encodeContext(item.context());
          return mayUnwrap -> envelopes.decrypt(parsed, context, mayUnwrap);
        });
  }

  /** Many re-encrypts after one barrier, each with its own outcome. */
  public CompletableFuture<List<ItemOutcome<ReEncrypted>>> batchReEncryptAsync(
      List<ReEncryption> items) {
    return batch(
        items,
        item -> {
          Envelopes.ValidReEncryption valid = validate(item);
          return mayUnwrap -> envelopes.reEncrypt(valid, mayUnwrap);
        });
  }

  /** A batch above {@link #MAX_BATCH_ITEMS} is refused as a whole, before the barrier. */
  private <I, T> CompletableFuture<List<ItemOutcome<T>>> batch(
      List<I> items, GatedRunner.ItemWork<I, T> itemWork) {
    if (items.size() > MAX_BATCH_ITEMS) {
      return CompletableFuture.failedFuture(batchTooLarge(items.size()));
    }
    return runner.batch(items, itemWork);
  }

  // ---------------------------------------------------------------- validation before the barrier

  private static Envelopes.ValidReEncryption validate(ReEncryption request)
      throws DataPlaneException {
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
    return new Envelopes.ValidReEncryption(source, sourceContext, destination, destinationContext);
  }

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
}
