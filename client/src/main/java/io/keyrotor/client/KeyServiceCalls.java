package io.keyrotor.client;

import io.keyrotor.api.v1.BatchDecryptRequest;
import io.keyrotor.api.v1.BatchDecryptResponse;
import io.keyrotor.api.v1.BatchReEncryptRequest;
import io.keyrotor.api.v1.BatchReEncryptResponse;
import io.keyrotor.api.v1.BulkRotation;
import io.keyrotor.api.v1.CancelKeyVersionDestroyRequest;
import io.keyrotor.api.v1.CancelRotationRequest;
import io.keyrotor.api.v1.CreateKeyRequest;
import io.keyrotor.api.v1.DecryptRequest;
import io.keyrotor.api.v1.DecryptResponse;
import io.keyrotor.api.v1.DestructionReceipt;
import io.keyrotor.api.v1.DisableKeyVersionRequest;
import io.keyrotor.api.v1.EnableKeyVersionRequest;
import io.keyrotor.api.v1.EncryptRequest;
import io.keyrotor.api.v1.EncryptResponse;
import io.keyrotor.api.v1.GenerateDataKeyRequest;
import io.keyrotor.api.v1.GenerateDataKeyResponse;
import io.keyrotor.api.v1.GetBulkRotationRequest;
import io.keyrotor.api.v1.GetDestructionReceiptRequest;
import io.keyrotor.api.v1.GetKeyRequest;
import io.keyrotor.api.v1.Key;
import io.keyrotor.api.v1.ListKeyEventsRequest;
import io.keyrotor.api.v1.ListKeyEventsResponse;
import io.keyrotor.api.v1.ListKeysRequest;
import io.keyrotor.api.v1.ListKeysResponse;
import io.keyrotor.api.v1.ListRotationsRequest;
import io.keyrotor.api.v1.ListRotationsResponse;
import io.keyrotor.api.v1.ReEncryptRequest;
import io.keyrotor.api.v1.ReEncryptResponse;
import io.keyrotor.api.v1.RollbackRotationRequest;
import io.keyrotor.api.v1.RotateKeyRequest;
import io.keyrotor.api.v1.RotateKeyResponse;
import io.keyrotor.api.v1.ScheduleKeyVersionDestroyRequest;
import io.keyrotor.api.v1.SetKeyDependentsRequest;
import io.keyrotor.api.v1.SetRotationPolicyRequest;
import io.keyrotor.api.v1.SetVersionFloorsRequest;
import io.keyrotor.api.v1.StartBulkRotationRequest;
import java.util.Iterator;
import java.util.List;

/**
 * The unary {@code KeyService} calls of {@link KeyrotorClient}: key lifecycle, the rotation engine
 * and the data plane, one method per RPC, each run by a {@link CallRunner}.
 *
 * <p>They are public methods of the client, declared in this package-private superclass (as {@code
 * StringBuilder}'s are in {@code AbstractStringBuilder}) so that {@code KeyrotorClient} stays the
 * one entry point of the SDK while each source file holds one part of it; code outside the package
 * sees them only as methods of {@code KeyrotorClient}.
 */
abstract class KeyServiceCalls {

  final CallRunner calls;

  KeyServiceCalls(CallRunner calls) {
    this.calls = calls;
  }

  // ---------------------------------------------------------------------------------------------
  // Lifecycle (writes carry a request id)

  /** Creates a key with its first version; ALREADY_EXISTS ({@code KEY_EXISTS}) if taken. */
  public Key createKey(CreateKeyRequest request) {
    return calls.write("CreateKey", request, (e, t, sent) -> e.keys(t).createKey(sent));
  }

  /** Creates a key in the default zone, its first version primary at once. */
  public Key createKey(String name) {
    return createKey(CreateKeyRequest.newBuilder().setName(name).build());
  }

  /** Reads a key (linearizable); NOT_FOUND ({@code KEY_NOT_FOUND}) if there is none. */
  public Key getKey(String name) {
    GetKeyRequest request = GetKeyRequest.newBuilder().setName(name).build();
    return calls.idempotentRead("GetKey", (e, t) -> e.keys(t).getKey(request));
  }

  /** One page of keys in name order (linearizable). */
  public ListKeysResponse listKeys(ListKeysRequest request) {
    return calls.idempotentRead("ListKeys", (e, t) -> e.keys(t).listKeys(request));
  }

  /**
   * Every key matching the request's filters, fetching pages lazily as the iterator advances. Each
   * page is one call with its own deadline and retries; a failure surfaces from {@code hasNext} or
   * {@code next} as a {@link KeyrotorException}. Keys created or deleted while iterating may or may
   * not appear (each page is consistent, the whole is not a snapshot).
   */
  public Iterator<Key> listAllKeys(ListKeysRequest request) {
    return new KeyPageIterator(request, this::listKeys);
  }

  /** Every key, all pages, in name order. */
  public Iterator<Key> listAllKeys() {
    return listAllKeys(ListKeysRequest.getDefaultInstance());
  }

  /** Adds a version that becomes primary at its activation time (decided by the leader). */
  public RotateKeyResponse rotateKey(RotateKeyRequest request) {
    return calls.write("RotateKey", request, (e, t, sent) -> e.keys(t).rotateKey(sent));
  }

  /** Rotates a key manually with its policy's activation delay. */
  public RotateKeyResponse rotateKey(String name) {
    return rotateKey(RotateKeyRequest.newBuilder().setName(name).build());
  }

  /** Disables one version: once this returns, no operation that starts later uses it. */
  public Key disableKeyVersion(DisableKeyVersionRequest request) {
    return calls.write(
        "DisableKeyVersion", request, (e, t, sent) -> e.keys(t).disableKeyVersion(sent));
  }

  /** Disables version {@code version} of key {@code name}. */
  public Key disableKeyVersion(String name, int version) {
    return disableKeyVersion(
        DisableKeyVersionRequest.newBuilder().setName(name).setVersion(version).build());
  }

  /** Re-enables a disabled version. */
  public Key enableKeyVersion(EnableKeyVersionRequest request) {
    return calls.write(
        "EnableKeyVersion", request, (e, t, sent) -> e.keys(t).enableKeyVersion(sent));
  }

  /** Re-enables version {@code version} of key {@code name}. */
  public Key enableKeyVersion(String name, int version) {
    return enableKeyVersion(
        EnableKeyVersionRequest.newBuilder().setName(name).setVersion(version).build());
  }

  /** Schedules the erasure of a disabled version's material after the waiting period. */
  public Key scheduleKeyVersionDestroy(ScheduleKeyVersionDestroyRequest request) {
    return calls.write(
        "ScheduleKeyVersionDestroy",
        request,
        (e, t, sent) -> e.keys(t).scheduleKeyVersionDestroy(sent));
  }

  /** Schedules the destroy of version {@code version} of {@code name} after the default period. */
  public Key scheduleKeyVersionDestroy(String name, int version) {
    return scheduleKeyVersionDestroy(
        ScheduleKeyVersionDestroyRequest.newBuilder().setName(name).setVersion(version).build());
  }

  /** Cancels a scheduled destroy; the version returns to DISABLED. */
  public Key cancelKeyVersionDestroy(CancelKeyVersionDestroyRequest request) {
    return calls.write(
        "CancelKeyVersionDestroy",
        request,
        (e, t, sent) -> e.keys(t).cancelKeyVersionDestroy(sent));
  }

  /** Cancels the scheduled destroy of version {@code version} of key {@code name}. */
  public Key cancelKeyVersionDestroy(String name, int version) {
    return cancelKeyVersionDestroy(
        CancelKeyVersionDestroyRequest.newBuilder().setName(name).setVersion(version).build());
  }

  /**
   * Replaces a key's rotation policy as a whole: fields left unset in the request are unset
   * afterwards (or filled from the named template). To change one field, read the key and send its
   * policy with that field changed.
   */
  public Key setRotationPolicy(SetRotationPolicyRequest request) {
    return calls.write(
        "SetRotationPolicy", request, (e, t, sent) -> e.keys(t).setRotationPolicy(sent));
  }

  /**
   * Aborts a pending rotation: the version becomes CANCELLED and the previous one stays primary.
   * FAILED_PRECONDITION if the version is no longer pending.
   */
  public Key cancelRotation(CancelRotationRequest request) {
    return calls.write("CancelRotation", request, (e, t, sent) -> e.keys(t).cancelRotation(sent));
  }

  /** Cancels the pending version {@code version} of key {@code name}. */
  public Key cancelRotation(String name, int version) {
    return cancelRotation(
        CancelRotationRequest.newBuilder().setName(name).setVersion(version).build());
  }

  /**
   * Rolls back an activated rotation: the previous eligible version is primary again from the
   * request's effective time (the leader's time when unset); the rolled-back version keeps
   * decrypting.
   */
  public Key rollbackRotation(RollbackRotationRequest request) {
    return calls.write(
        "RollbackRotation", request, (e, t, sent) -> e.keys(t).rollbackRotation(sent));
  }

  /** Rolls back the primary version {@code version} of key {@code name}, effective now. */
  public Key rollbackRotation(String name, int version) {
    return rollbackRotation(
        RollbackRotationRequest.newBuilder().setName(name).setVersion(version).build());
  }

  /**
   * Sets both version floors of a key at once ({@code 0} means no floor): raising the decryption
   * floor disables older versions. Both fields are sent as given, so read the key first to keep one
   * floor while changing the other.
   */
  public Key setVersionFloors(SetVersionFloorsRequest request) {
    return calls.write(
        "SetVersionFloors", request, (e, t, sent) -> e.keys(t).setVersionFloors(sent));
  }

  /**
   * Replaces the list of keys that rotate after this one (an empty list clears it). A declaration
   * that would make a cycle is refused (FAILED_PRECONDITION, {@code DEPENDENCY_CYCLE}), and so is
   * an unknown dependent (NOT_FOUND, {@code DEPENDENT_NOT_FOUND}).
   */
  public Key setKeyDependents(SetKeyDependentsRequest request) {
    return calls.write(
        "SetKeyDependents", request, (e, t, sent) -> e.keys(t).setKeyDependents(sent));
  }

  /** Declares {@code dependents} as the keys that rotate after key {@code name}. */
  public Key setKeyDependents(String name, List<String> dependents) {
    return setKeyDependents(
        SetKeyDependentsRequest.newBuilder().setName(name).addAllDependents(dependents).build());
  }

  /**
   * Starts a bulk rotation of every key of a zone, or of every key carrying the selector's labels,
   * as one replicated job. The request id is also the job's id ({@link BulkRotation#getId()}), so a
   * retry, or a second call with the same request id, returns the same job instead of starting
   * another.
   */
  public BulkRotation startBulkRotation(StartBulkRotationRequest request) {
    return calls.write(
        "StartBulkRotation", request, (e, t, sent) -> e.keys(t).startBulkRotation(sent));
  }

  /** The progress of a bulk rotation; NOT_FOUND ({@code JOB_NOT_FOUND}) for an unknown id. */
  public BulkRotation getBulkRotation(String id) {
    GetBulkRotationRequest request = GetBulkRotationRequest.newBuilder().setId(id).build();
    return calls.idempotentRead("GetBulkRotation", (e, t) -> e.keys(t).getBulkRotation(request));
  }

  /** What is pending, due, late, scheduled (within the request's window) or failed. */
  public ListRotationsResponse listRotations(ListRotationsRequest request) {
    return calls.idempotentRead("ListRotations", (e, t) -> e.keys(t).listRotations(request));
  }

  /** A key's lifecycle events, oldest first (at most the request's limit, default 1000). */
  public ListKeyEventsResponse listKeyEvents(ListKeyEventsRequest request) {
    return calls.idempotentRead("ListKeyEvents", (e, t) -> e.keys(t).listKeyEvents(request));
  }

  /**
   * The receipt of a destroyed version: when, who scheduled it, and its audit chain position.
   * FAILED_PRECONDITION ({@code VERSION_NOT_DESTROYED}) for a version not destroyed yet.
   */
  public DestructionReceipt getDestructionReceipt(GetDestructionReceiptRequest request) {
    return calls.idempotentRead(
        "GetDestructionReceipt", (e, t) -> e.keys(t).getDestructionReceipt(request));
  }

  /** The lifecycle events of key {@code name}, oldest first (at most 1000). */
  public ListKeyEventsResponse listKeyEvents(String name) {
    return listKeyEvents(ListKeyEventsRequest.newBuilder().setName(name).build());
  }

  // ---------------------------------------------------------------------------------------------
  // Data plane (reads; no log entry, so a retry is safe)

  /**
   * A fresh data key, in plaintext once and wrapped under the key's primary version. A retried
   * attempt returns a different data key; the one from the failed attempt was never seen.
   */
  public GenerateDataKeyResponse generateDataKey(GenerateDataKeyRequest request) {
    return calls.read("GenerateDataKey", (e, t) -> e.keys(t).generateDataKey(request));
  }

  /** A fresh data key in wrapped form only. */
  public GenerateDataKeyResponse generateDataKeyWithoutPlaintext(GenerateDataKeyRequest request) {
    return calls.read(
        "GenerateDataKeyWithoutPlaintext",
        (e, t) -> e.keys(t).generateDataKeyWithoutPlaintext(request));
  }

  /** Encrypts a small payload (at most 64 KiB) under the key's primary version, on the server. */
  public EncryptResponse encrypt(EncryptRequest request) {
    return calls.read("Encrypt", (e, t) -> e.keys(t).encrypt(request));
  }

  /** Decrypts a ciphertext; key and version come from its header. */
  public DecryptResponse decrypt(DecryptRequest request) {
    return calls.idempotentRead("Decrypt", (e, t) -> e.keys(t).decrypt(request));
  }

  /** Re-wraps a ciphertext under the current primary (or another key) on the server. */
  public ReEncryptResponse reEncrypt(ReEncryptRequest request) {
    return calls.read("ReEncrypt", (e, t) -> e.keys(t).reEncrypt(request));
  }

  /** Many decrypts in one call; each item has its own status. */
  public BatchDecryptResponse batchDecrypt(BatchDecryptRequest request) {
    return calls.idempotentRead("BatchDecrypt", (e, t) -> e.keys(t).batchDecrypt(request));
  }

  /** Many re-encrypts in one call; each item has its own status. */
  public BatchReEncryptResponse batchReEncrypt(BatchReEncryptRequest request) {
    return calls.read("BatchReEncrypt", (e, t) -> e.keys(t).batchReEncrypt(request));
  }
}
