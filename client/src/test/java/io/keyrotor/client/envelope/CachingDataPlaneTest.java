package io.keyrotor.client.envelope;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.grpc.Status;
import io.keyrotor.api.v1.DecryptRequest;
import io.keyrotor.api.v1.DecryptResponse;
import io.keyrotor.api.v1.GenerateDataKeyRequest;
import io.keyrotor.api.v1.GenerateDataKeyResponse;
import io.keyrotor.api.v1.Key;
import io.keyrotor.api.v1.KeyEvent;
import io.keyrotor.api.v1.KeyEventType;
import io.keyrotor.api.v1.RotationReason;
import io.keyrotor.client.KeyrotorClient;
import io.keyrotor.client.KeyrotorException;
import io.keyrotor.client.testing.FakeAdminService;
import io.keyrotor.client.testing.FakeDataPlaneService;
import io.keyrotor.client.testing.FakeNode;
import io.keyrotor.client.testing.ManualClock;
import io.keyrotor.client.testing.TestPki;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The key agent's cache against a real gRPC peer on loopback whose data plane is scripted: hits,
 * invalidation by key events, and stale decrypts only while the cluster cannot be reached and only
 * within {@code maxAge + maxStale}.
 */
class CachingDataPlaneTest {

  private final FakeDataPlaneService server = new FakeDataPlaneService();
  private final ManualClock clock = new ManualClock(Instant.parse("2025-03-01T12:00:00Z"));
  private FakeNode node;
  private KeyrotorClient client;
  private DataKeyCache dataKeys;
  private DecryptionKeyCache decryptionKeys;
  private CachingDataPlane cache;

  @BeforeEach
  void start() {
    server.addKey("payments");
    node = FakeNode.start(server, new FakeAdminService());
    client = TestPki.clientBuilder(node, clock, 1).build();
    dataKeys = DataKeyCache.builder().maxAge(Duration.ofMinutes(1)).clock(clock).build();
    decryptionKeys =
        DecryptionKeyCache.builder()
            .maxAge(Duration.ofMinutes(1))
            .maxStale(Duration.ofHours(1))
            .clock(clock)
            .build();
    cache = new CachingDataPlane(client, dataKeys, decryptionKeys);
  }

  @AfterEach
  void stop() {
    client.close();
    node.close();
  }

  private GenerateDataKeyResponse generate() {
    return cache.generateDataKey(
        GenerateDataKeyRequest.newBuilder().setKeyName("payments").putContext("t", "a").build());
  }

  private DecryptResponse decrypt(GenerateDataKeyResponse key) {
    return cache.decrypt(
        DecryptRequest.newBuilder()
            .setCiphertext(key.getWrappedDataKey())
            .putContext("t", "a")
            .build());
  }

  private long calls(Class<?> type) {
    return server.received().stream().filter(type::isInstance).count();
  }

  private static KeyEvent event(KeyEventType type, int version, RotationReason reason) {
    return KeyEvent.newBuilder()
        .setKeyName("payments")
        .setType(type)
        .setVersion(version)
        .setReason(reason)
        .build();
  }

  @Test
  void repeatedCalls_answeredFromTheCache() {
    GenerateDataKeyResponse first = generate();
    GenerateDataKeyResponse second = generate();
    assertEquals(first.getPlaintext(), second.getPlaintext());
    assertEquals(1, calls(GenerateDataKeyRequest.class));
    assertEquals(first.getPlaintext(), decrypt(first).getPlaintext());
    assertEquals(first.getPlaintext(), decrypt(first).getPlaintext());
    assertEquals(1, calls(DecryptRequest.class));
    assertEquals(1, cache.dataKeyHits());
    assertEquals(1, cache.decryptHits());
  }

  @Test
  void replayedEventsFromBeforeTheFirstAnswer_keepTheEntry_laterOnesDropIt() {
    KeyEvent created =
        event(KeyEventType.KEY_EVENT_TYPE_CREATED, 1, RotationReason.ROTATION_REASON_UNSPECIFIED)
            .toBuilder()
            .setLogIndex(4)
            .setCursor("4.0")
            .build();
    KeyEvent activated =
        event(KeyEventType.KEY_EVENT_TYPE_ACTIVATED, 1, RotationReason.ROTATION_REASON_UNSPECIFIED)
            .toBuilder()
            .setLogIndex(5)
            .setCursor("5.0")
            .build();
    server.put(Key.newBuilder().setName("payments").build());
    server.events(created, activated);
    GenerateDataKeyResponse first = generate();
    // A stream from cursor "0" delivers the key's history after the answer was cached.
    cache.onEvent(created);
    cache.onEvent(activated);
    assertEquals(first.getPlaintext(), generate().getPlaintext(), "still the cached data key");
    assertEquals(1, calls(GenerateDataKeyRequest.class));
    cache.onEvent(
        event(KeyEventType.KEY_EVENT_TYPE_ACTIVATED, 2, RotationReason.ROTATION_REASON_UNSPECIFIED)
            .toBuilder()
            .setLogIndex(9)
            .setCursor("9.0")
            .build());
    generate();
    assertEquals(2, calls(GenerateDataKeyRequest.class), "a rotation after the read drops it");
  }

  @Test
  void disabledEvent_dropsTheVersionsEntries() {
    GenerateDataKeyResponse key = generate();
    decrypt(key);
    cache.onEvent(
        event(
            KeyEventType.KEY_EVENT_TYPE_DISABLED,
            key.getKeyVersion(),
            RotationReason.ROTATION_REASON_UNSPECIFIED));
    decrypt(key);
    assertEquals(2, calls(DecryptRequest.class), "asked the cluster again");
    assertNotEquals(key.getWrappedDataKey(), generate().getWrappedDataKey(), "a new data key");
  }

  @Test
  void eventOfOtherVersion_keepsTheEntry_compromiseDropsEverythingOfTheKey() {
    GenerateDataKeyResponse key = generate();
    decrypt(key);
    cache.onEvent(
        event(
            KeyEventType.KEY_EVENT_TYPE_DISABLED,
            key.getKeyVersion() + 7,
            RotationReason.ROTATION_REASON_UNSPECIFIED));
    decrypt(key);
    assertEquals(1, calls(DecryptRequest.class));
    cache.onEvent(
        event(
            KeyEventType.KEY_EVENT_TYPE_ACTIVATED,
            key.getKeyVersion() + 1,
            RotationReason.ROTATION_REASON_COMPROMISE));
    decrypt(key);
    assertEquals(2, calls(DecryptRequest.class));
    assertEquals(0, cache.staleDecrypts());
  }

  @Test
  void clusterUnreachable_staleEntryServedWithinMaxStaleOnly() {
    GenerateDataKeyResponse key = generate();
    decrypt(key);
    node.close();
    clock.advance(Duration.ofMinutes(5)); // past maxAge, within maxAge + maxStale
    assertEquals(key.getPlaintext(), decrypt(key).getPlaintext());
    assertEquals(1, cache.staleDecrypts());

    clock.advance(Duration.ofHours(2)); // past maxAge + maxStale
    KeyrotorException refused = assertThrows(KeyrotorException.class, () -> decrypt(key));
    assertEquals(Status.Code.UNAVAILABLE, refused.code());
    assertEquals(1, cache.staleDecrypts());
  }

  @Test
  void staleEntry_notUsedWhileTheClusterAnswers() {
    GenerateDataKeyResponse key = generate();
    decrypt(key);
    clock.advance(Duration.ofMinutes(5));
    decrypt(key);
    assertEquals(2, calls(DecryptRequest.class));
    assertEquals(0, cache.staleDecrypts());
  }
}
