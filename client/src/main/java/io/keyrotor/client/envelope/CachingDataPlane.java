package io.keyrotor.client.envelope;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.keyrotor.api.v1.DataKeySpec;
import io.keyrotor.api.v1.DecryptRequest;
import io.keyrotor.api.v1.DecryptResponse;
import io.keyrotor.api.v1.GenerateDataKeyRequest;
import io.keyrotor.api.v1.GenerateDataKeyResponse;
import io.keyrotor.api.v1.KeyEvent;
import io.keyrotor.api.v1.ListKeyEventsRequest;
import io.keyrotor.api.v1.ListKeyEventsResponse;
import io.keyrotor.api.v1.RotationReason;
import io.keyrotor.client.KeyEventListener;
import io.keyrotor.client.KeyrotorClient;
import io.keyrotor.client.KeyrotorException;
import io.keyrotor.crypto.EncryptionContext;
import io.keyrotor.crypto.SecretBytes;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * The data plane calls GenerateDataKey and Decrypt answered from the SDK's {@link DataKeyCache} and
 * {@link DecryptionKeyCache} where they can be, for a process that serves many callers on one host
 * (the key agent). It is the same cache an {@link EnvelopeCipher} uses, with its limits; this class
 * adds three things around it:
 *
 * <ul>
 *   <li><b>Invalidation from key events</b>: as a {@link KeyEventListener} (give it to {@link
 *       KeyrotorClient#watchKeyEvents}), a version disabled, scheduled for destruction, destroyed
 *       or cancelled leaves the decryption cache, and any activation, rollback, policy change or
 *       compromise rotation of a key drops its data keys, so a cached key stops being served within
 *       the time the event takes to arrive instead of at {@code maxAge}.
 *   <li><b>No resurrection</b>: a server answer that was in flight while an invalidation happened
 *       is returned to its caller but not cached, so an entry dropped by an event is never put back
 *       by an answer from before it.
 *   <li><b>Old events ignored</b>: before the first GenerateDataKey of a key is cached, the key's
 *       event history is read (ListKeyEvents, behind the cluster's read barrier); events of that
 *       key up to the newest one read then happened before any answer cached afterwards, so a
 *       stream that replays history (a watch from cursor "0", which cannot miss an event) does not
 *       drop entries for them. Entries of the key cached before that read are dropped, and events
 *       after it act as above. Without that read (refused, unreachable, or a history longer than
 *       one page) every event of the key counts, which only costs cache hits.
 *   <li><b>Stale decrypts</b>: when the cluster cannot be reached ({@code UNAVAILABLE} or {@code
 *       DEADLINE_EXCEEDED}), a Decrypt whose unwrapped key is cached past {@code maxAge} but within
 *       the cache's {@code maxStale} is answered from it, and counted.
 * </ul>
 *
 * <p>A cached GenerateDataKey hands the same data key to several callers, counted as one message
 * each against {@code maxMessagesPerKey}; the byte limit does not apply (the caller encrypts, the
 * size is unknown here). Only AES-256 data keys (the default spec) are cached; Decrypt answers are
 * cached only when the plaintext is a 256-bit data key. Thread-safe.
 */
public final class CachingDataPlane implements KeyEventListener {

  private final KeyrotorClient client;
  private final DataKeyCache dataKeys;
  private final DecryptionKeyCache decryptionKeys;

  /** Counts every invalidation: a Decrypt answer (its key unknown until it comes) checks it. */
  private final AtomicLong invalidationEpoch = new AtomicLong();

  /** Counts the invalidations of everything (and forgetting the key states). */
  private final AtomicLong resetEpoch = new AtomicLong();

  /** Events read per key to find its newest one: the server's largest page. */
  static final int HISTORY_PAGE = 10_000;

  /** Keys whose newest event is remembered; past this the map is emptied (bounded memory). */
  static final int MAX_WATERMARKS = 10_000;

  /** Per key whose data keys are cached: its event watermark and invalidation count. */
  private final Map<String, KeyState> keyStates = new ConcurrentHashMap<>();

  /**
   * {@code watermark}: the log index of the key's newest event when its history was read (-1: none
   * or unknown); every event of the key at or below it happened before any answer cached since, so
   * the event stream's copy of it is ignored. {@code epoch} counts the key's invalidations, so an
   * answer in flight during one is not cached, while events of other keys do not hold it back.
   */
  private record KeyState(long watermark, AtomicLong epoch) {}

  private final LongAdder dataKeyHits = new LongAdder();
  private final LongAdder dataKeyMisses = new LongAdder();
  private final LongAdder decryptHits = new LongAdder();
  private final LongAdder decryptMisses = new LongAdder();
  private final LongAdder staleDecrypts = new LongAdder();
  private final LongAdder invalidations = new LongAdder();
  private final LongAdder streamInterruptions = new LongAdder();

  /** Answers through {@code client}, caching in the two caches (which this class does not own). */
  public CachingDataPlane(
      KeyrotorClient client, DataKeyCache dataKeys, DecryptionKeyCache decryptionKeys) {
    this.client = Objects.requireNonNull(client, "client");
    this.dataKeys = Objects.requireNonNull(dataKeys, "dataKeys");
    this.decryptionKeys = Objects.requireNonNull(decryptionKeys, "decryptionKeys");
  }

  /** GenerateDataKey, from the data key cache when it holds one for (key name, context). */
  public GenerateDataKeyResponse generateDataKey(GenerateDataKeyRequest request) {
    boolean cacheable =
        request.getSpec() == DataKeySpec.DATA_KEY_SPEC_AES_256
            || request.getSpec() == DataKeySpec.DATA_KEY_SPEC_UNSPECIFIED;
    if (!cacheable || request.getKeyName().isEmpty()) {
      return client.generateDataKey(request);
    }
    byte[] context = EncryptionContext.of(request.getContextMap()).encoding();
    DataKey cached = dataKeys.leaseOrNull(request.getKeyName(), context, 0);
    if (cached != null) {
      dataKeyHits.increment();
      try {
        return generated(cached);
      } finally {
        cached.destroy();
      }
    }
    dataKeyMisses.increment();
    String keyName = request.getKeyName();
    KeyState state = keyStates.get(keyName);
    if (state == null) {
      state = readKeyState(keyName);
    }
    long reset = resetEpoch.get();
    long epoch = state.epoch().get();
    GenerateDataKeyResponse response = client.generateDataKey(request);
    boolean unchanged =
        reset == resetEpoch.get()
            && Objects.equals(keyStates.get(keyName), state)
            && epoch == state.epoch().get();
    if (response.getPlaintext().size() == DataKey.KEY_BYTES && unchanged) {
      DataKey fresh =
          new DataKey(
              SecretBytes.takeOwnership(response.getPlaintext().toByteArray()),
              response.getWrappedDataKey().toByteArray(),
              response.getKeyName().isEmpty() ? request.getKeyName() : response.getKeyName(),
              response.getKeyVersion());
      dataKeys.offer(request.getKeyName(), context, fresh, 0);
    }
    return response;
  }

  /**
   * Decrypt, from the decryption key cache when it holds this ciphertext's plaintext for this
   * context; when the cluster cannot be reached, from an entry past {@code maxAge} but within
   * {@code maxStale}.
   */
  public DecryptResponse decrypt(DecryptRequest request) {
    byte[] wrapped = request.getCiphertext().toByteArray();
    byte[] context = EncryptionContext.of(request.getContextMap()).encoding();
    DataKey cached = decryptionKeys.leaseOrNull(wrapped, context);
    if (cached != null) {
      decryptHits.increment();
      try {
        return decrypted(cached);
      } finally {
        cached.destroy();
      }
    }
    decryptMisses.increment();
    long epoch = invalidationEpoch.get();
    DecryptResponse response;
    try {
      response = client.decrypt(request);
    } catch (KeyrotorException e) {
      if (!clusterUnreachable(e)) {
        throw e;
      }
      DataKey stale = decryptionKeys.leaseStaleOrNull(wrapped, context);
      if (stale == null) {
        throw e;
      }
      staleDecrypts.increment();
      try {
        return decrypted(stale);
      } finally {
        stale.destroy();
      }
    }
    if (response.getPlaintext().size() == DataKey.KEY_BYTES && epoch == invalidationEpoch.get()) {
      decryptionKeys.offer(
          context,
          new DataKey(
              SecretBytes.takeOwnership(response.getPlaintext().toByteArray()),
              wrapped,
              response.getKeyName(),
              response.getKeyVersion()));
    }
    return response;
  }

  /** Drops what {@code event} makes unusable (see the class comment). */
  @Override
  public void onEvent(KeyEvent event) {
    String key = event.getKeyName();
    if (key.isEmpty()) {
      return;
    }
    KeyState state = keyStates.get(key);
    if (state != null && event.getLogIndex() <= state.watermark()) {
      return; // happened before every answer of this key cached now (see the class comment)
    }
    if (event.getReason() == RotationReason.ROTATION_REASON_COMPROMISE) {
      invalidateKey(key);
      return;
    }
    switch (event.getType()) {
      case KEY_EVENT_TYPE_DISABLED,
          KEY_EVENT_TYPE_DESTROY_SCHEDULED,
          KEY_EVENT_TYPE_DESTROYED,
          KEY_EVENT_TYPE_CANCELLED -> {
        countInvalidation(key);
        int dropped = decryptionKeys.invalidate(key, event.getVersion());
        dropped += dataKeys.invalidate(key);
        invalidations.add(dropped);
      }
      case KEY_EVENT_TYPE_ACTIVATED, KEY_EVENT_TYPE_SUPERSEDED, KEY_EVENT_TYPE_ROLLED_BACK -> {
        countInvalidation(key);
        invalidations.add(dataKeys.invalidate(key));
      }
      case KEY_EVENT_TYPE_POLICY_CHANGED -> invalidateKey(key);
      default -> {
        // CREATED, PENDING, ACKNOWLEDGED, ENABLED, DESTROY_CANCELLED: nothing cached is wrong.
      }
    }
  }

  /**
   * The event stream ended for good: nothing tells this cache about changes any more, so it drops
   * everything rather than serve what may have been disabled meanwhile.
   */
  @Override
  public void onError(KeyrotorException error) {
    invalidateAll();
  }

  /**
   * The event stream broke and resumes from its cursor on another node: nothing is missed, so the
   * caches stay; the break is counted ({@link #streamInterruptions}).
   */
  @Override
  public void onInterrupted(KeyrotorException error, String cursor) {
    streamInterruptions.increment();
  }

  /**
   * Reads the newest event of {@code keyName} (its history is oldest first, so only a history
   * shorter than one page tells which is newest), remembers its log index, and drops the key's
   * entries cached before the read, which the watermark must not cover. When the history cannot be
   * read (or is longer than one page) the watermark is -1 and every event of the key counts.
   */
  private KeyState readKeyState(String keyName) {
    long newest = -1; // no event, or the history unknown: no event is ignored
    try {
      ListKeyEventsResponse history =
          client.listKeyEvents(
              ListKeyEventsRequest.newBuilder().setName(keyName).setLimit(HISTORY_PAGE).build());
      if (history.getEventsCount() < HISTORY_PAGE) {
        for (KeyEvent event : history.getEventsList()) {
          newest = Math.max(newest, event.getLogIndex());
        }
      }
    } catch (KeyrotorException e) {
      // Unknown: every event of the key counts.
    }
    if (keyStates.size() >= MAX_WATERMARKS) {
      resetEpoch.incrementAndGet();
      keyStates.clear();
    }
    KeyState state = new KeyState(newest, new AtomicLong());
    keyStates.put(keyName, state);
    invalidateKey(keyName);
    return state;
  }

  /** Marks an invalidation of {@code keyName}, so answers in flight across it are not cached. */
  private void countInvalidation(String keyName) {
    invalidationEpoch.incrementAndGet();
    KeyState state = keyStates.get(keyName);
    if (state != null) {
      state.epoch().incrementAndGet();
    }
  }

  /** Drops every cached key of {@code keyName}, in both caches. */
  public void invalidateKey(String keyName) {
    countInvalidation(keyName);
    invalidations.add(decryptionKeys.invalidate(keyName) + dataKeys.invalidate(keyName));
  }

  /** Drops everything, in both caches. */
  public void invalidateAll() {
    invalidationEpoch.incrementAndGet();
    resetEpoch.incrementAndGet();
    int before = decryptionKeys.size() + dataKeys.size();
    decryptionKeys.invalidateAll();
    dataKeys.invalidateAll();
    invalidations.add(before);
  }

  /** GenerateDataKey calls answered from the cache. */
  public long dataKeyHits() {
    return dataKeyHits.sum();
  }

  /** GenerateDataKey calls that asked the cluster. */
  public long dataKeyMisses() {
    return dataKeyMisses.sum();
  }

  /** Decrypt calls answered from a fresh cache entry. */
  public long decryptHits() {
    return decryptHits.sum();
  }

  /** Decrypt calls that asked the cluster (stale answers included). */
  public long decryptMisses() {
    return decryptMisses.sum();
  }

  /** Decrypt calls answered from a stale entry while the cluster could not be reached. */
  public long staleDecrypts() {
    return staleDecrypts.sum();
  }

  /** Cache entries dropped by events and explicit invalidation. */
  public long invalidatedEntries() {
    return invalidations.sum();
  }

  /** Times the event stream broke and resumed from its cursor (its node went away). */
  public long streamInterruptions() {
    return streamInterruptions.sum();
  }

  /** Data keys held by the two caches. */
  public int cachedEntries() {
    return dataKeys.size() + decryptionKeys.size();
  }

  /** Whether a failure means the cluster was not reached or did not answer in time. */
  static boolean clusterUnreachable(KeyrotorException e) {
    return e.code() == Status.Code.UNAVAILABLE || e.code() == Status.Code.DEADLINE_EXCEEDED;
  }

  private static GenerateDataKeyResponse generated(DataKey key) {
    byte[] plaintext = key.key().revealCopy();
    try {
      return GenerateDataKeyResponse.newBuilder()
          .setKeyName(key.keyName())
          .setKeyVersion(key.keyVersion())
          .setPlaintext(ByteString.copyFrom(plaintext))
          .setWrappedDataKey(ByteString.copyFrom(key.wrapped()))
          .build();
    } finally {
      java.util.Arrays.fill(plaintext, (byte) 0);
    }
  }

  private static DecryptResponse decrypted(DataKey key) {
    byte[] plaintext = key.key().revealCopy();
    try {
      return DecryptResponse.newBuilder()
          .setKeyName(key.keyName())
          .setKeyVersion(key.keyVersion())
          .setPlaintext(ByteString.copyFrom(plaintext))
          .build();
    } finally {
      java.util.Arrays.fill(plaintext, (byte) 0);
    }
  }
}
