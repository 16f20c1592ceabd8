package io.keyrotor.client.envelope;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.grpc.Status;
import io.keyrotor.api.v1.DataKeySpec;
import io.keyrotor.api.v1.DecryptRequest;
import io.keyrotor.api.v1.GenerateDataKeyRequest;
import io.keyrotor.client.KeyrotorClient;
import io.keyrotor.client.KeyrotorException;
import io.keyrotor.client.testing.FakeAdminService;
import io.keyrotor.client.testing.FakeDataPlaneService;
import io.keyrotor.client.testing.FakeNode;
import io.keyrotor.client.testing.GrpcErrors;
import io.keyrotor.client.testing.ManualClock;
import io.keyrotor.client.testing.TestPki;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Envelopes through the SDK against a real gRPC server on loopback whose GenerateDataKey and
 * Decrypt are scripted (a network peer, not the keyrotor server).
 */
class EnvelopeCipherGrpcTest {

  private static final Map<String, String> CONTEXT = Map.of("tenant", "acme", "table", "orders");

  private final FakeDataPlaneService server = new FakeDataPlaneService();
  private final ManualClock clock = new ManualClock(Instant.parse("2025-03-01T12:00:00Z"));
  private FakeNode node;
  private KeyrotorClient client;
  private EnvelopeCipher cipher;

  @BeforeEach
  void start() {
    server.addKey("payments");
    node = FakeNode.start(server, new FakeAdminService());
    client = TestPki.clientBuilder(node, clock, 1).build();
    cipher = EnvelopeCipher.builder(client).build();
  }

  @AfterEach
  void stop() {
    client.close();
    node.close();
  }

  private static byte[] bytes(int length) {
    byte[] bytes = new byte[length];
    new SplittableRandom(length).nextBytes(bytes);
    return bytes;
  }

  @Test
  void encrypt_asksForAnAes256DataKeyUnderTheNameAndContext() {
    cipher.encrypt("payments", bytes(10), CONTEXT);

    GenerateDataKeyRequest sent = server.received(GenerateDataKeyRequest.class).get(0);
    assertEquals("payments", sent.getKeyName());
    assertEquals(CONTEXT, sent.getContextMap());
    assertEquals(DataKeySpec.DATA_KEY_SPEC_AES_256, sent.getSpec());
  }

  @Test
  void decrypt_sendsTheWrappedKeyFromTheHeaderWithTheSameContext() {
    byte[] plaintext = bytes(1000);
    byte[] envelope = cipher.encrypt("payments", plaintext, CONTEXT);

    assertArrayEquals(plaintext, cipher.decrypt(envelope, CONTEXT));

    DecryptRequest sent = server.received(DecryptRequest.class).get(0);
    int wrappedLength = ((envelope[1] & 0xFF) << 8) | (envelope[2] & 0xFF);
    assertArrayEquals(
        Arrays.copyOfRange(envelope, 3, 3 + wrappedLength), sent.getCiphertext().toByteArray());
    assertEquals(CONTEXT, sent.getContextMap());
  }

  @Test
  void decrypt_afterRotation_stillOpensEnvelopesOfTheOldVersion() throws Exception {
    byte[] before = cipher.encrypt("payments", bytes(10), CONTEXT);
    server.rotate("payments");
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (EnvelopeOutputStream stream = cipher.encryptingStream(out, "payments", CONTEXT)) {
      stream.write(bytes(200));
      assertEquals(2, stream.keyVersion());
    }

    assertArrayEquals(bytes(10), cipher.decrypt(before, CONTEXT));
    try (EnvelopeInputStream in =
        cipher.decryptingStream(new ByteArrayInputStream(out.toByteArray()), CONTEXT)) {
      assertArrayEquals(bytes(200), in.readAllBytes());
      assertEquals("payments", in.keyName());
      assertEquals(2, in.keyVersion());
    }
  }

  @Test
  void decrypt_wrongContext_failsWithTheServersReason() {
    byte[] envelope = cipher.encrypt("payments", bytes(10), CONTEXT);

    KeyrotorException error =
        assertThrows(
            KeyrotorException.class,
            () -> cipher.decrypt(envelope, Map.of("tenant", "acme", "table", "refunds")));

    assertEquals(Status.Code.INVALID_ARGUMENT, error.code());
    assertEquals(FakeDataPlaneService.INVALID_CIPHERTEXT, error.reason());
  }

  @Test
  void decrypt_wrongContextOnAServerThatIgnoresContext_failsLocally() {
    server.ignoreContext(true);
    byte[] envelope = cipher.encrypt("payments", bytes(10), CONTEXT);

    EnvelopeException error =
        assertThrows(
            EnvelopeException.class, () -> cipher.decrypt(envelope, Map.of("tenant", "acme")));

    assertEquals(EnvelopeException.Reason.AUTHENTICATION_FAILED, error.reason());
  }

  @Test
  void encrypt_unknownKey_failsWithKeyNotFound() {
    KeyrotorException error =
        assertThrows(KeyrotorException.class, () -> cipher.encrypt("nobody", bytes(10), CONTEXT));

    assertEquals("KEY_NOT_FOUND", error.reason());
  }

  @Test
  void encrypt_serverReturnsA128BitKey_isRefused() {
    server.dataKeyBytes(16);

    EnvelopeException error =
        assertThrows(EnvelopeException.class, () -> cipher.encrypt("payments", bytes(10), CONTEXT));

    assertEquals(EnvelopeException.Reason.INVALID_DATA_KEY, error.reason());
  }

  @Test
  void encrypt_duringAnElection_retriesAndSucceeds() {
    server.failNext(GrpcErrors.noLeader(), GrpcErrors.noLeader());

    byte[] envelope = cipher.encrypt("payments", bytes(10), CONTEXT);

    assertEquals(3, server.received(GenerateDataKeyRequest.class).size());
    assertArrayEquals(bytes(10), cipher.decrypt(envelope, CONTEXT));
  }

  @Test
  void caches_onTheWire_oneGenerateAndOneDecryptForManyEnvelopes() {
    EnvelopeCipher cached =
        EnvelopeCipher.builder(client)
            .dataKeyCache(
                DataKeyCache.builder()
                    .maxAge(Duration.ofMinutes(5))
                    .maxMessagesPerKey(100)
                    .clock(clock)
                    .build())
            .decryptionKeyCache(
                DecryptionKeyCache.builder().maxAge(Duration.ofMinutes(5)).clock(clock).build())
            .build();

    for (int i = 0; i < 20; i++) {
      byte[] envelope = cached.encrypt("payments", bytes(i), CONTEXT);
      assertArrayEquals(bytes(i), cached.decrypt(envelope, CONTEXT));
    }

    assertEquals(1, server.received(GenerateDataKeyRequest.class).size());
    assertEquals(1, server.received(DecryptRequest.class).size());
  }
}
