package io.keyrotor.client.envelope;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.keyrotor.client.KeyrotorException;
import io.keyrotor.crypto.EncryptionContext;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Arrays;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Streaming envelopes with 64-byte segments (so a few hundred bytes make several segments): round
 * trips, and every way of cutting, reordering, swapping or changing a stream.
 */
class EnvelopeStreamTest {

  private static final int SEGMENT = 64;
  private static final int SEALED_SEGMENT = SEGMENT + 16;
  private static final Map<String, String> CONTEXT = Map.of("bucket", "invoices");

  private final LocalDataKeys dataKeys = new LocalDataKeys();
  private final EnvelopeCipher cipher =
      EnvelopeCipher.builder(dataKeys).segmentSize(SEGMENT).build();

  private static byte[] bytes(int length) {
    byte[] bytes = new byte[length];
    new SplittableRandom(length).nextBytes(bytes);
    return bytes;
  }

  private byte[] encrypt(byte[] plaintext) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (EnvelopeOutputStream stream = cipher.encryptingStream(out, "payments", CONTEXT)) {
      stream.write(plaintext);
    }
    return out.toByteArray();
  }

  private static int headerLength(byte[] envelope) {
    return 7 + (((envelope[5] & 0xFF) << 8) | (envelope[6] & 0xFF)) + 32 + 7;
  }

  /** What a reader gets before the failure, and the failure. */
  private static final class Outcome {
    final byte[] released;
    final EnvelopeStreamException failure;

    Outcome(byte[] released, EnvelopeStreamException failure) {
      this.released = released;
      this.failure = failure;
    }
  }

  private Outcome readAll(byte[] envelope, Map<String, String> context) throws IOException {
    ByteArrayOutputStream released = new ByteArrayOutputStream();
    try (EnvelopeInputStream in =
        cipher.decryptingStream(new ByteArrayInputStream(envelope), context)) {
      byte[] buffer = new byte[17];
      int n;
      while ((n = in.read(buffer)) != -1) {
        released.write(buffer, 0, n);
      }
      return new Outcome(released.toByteArray(), null);
    } catch (EnvelopeStreamException e) {
      return new Outcome(released.toByteArray(), e);
    }
  }

  @Test
  void roundTrip_sizesAroundSegmentBoundaries_returnsPlaintext() throws IOException {
    for (int size : new int[] {0, 1, 63, 64, 65, 127, 128, 129, 1000}) {
      byte[] plaintext = bytes(size);
      byte[] envelope = encrypt(plaintext);

      int segments = Math.max(1, (size + SEGMENT - 1) / SEGMENT);
      assertEquals(headerLength(envelope) + size + 16 * segments, envelope.length, "size " + size);
      Outcome outcome = readAll(envelope, CONTEXT);
      assertEquals(null, outcome.failure, "size " + size);
      assertArrayEquals(plaintext, outcome.released, "size " + size);
      assertArrayEquals(plaintext, cipher.decrypt(envelope, CONTEXT), "one-shot decrypt " + size);
    }
  }

  @Test
  void roundTrip_byteAtATimeWrites_matchBulkWriteFormat() throws IOException {
    byte[] plaintext = bytes(200);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (EnvelopeOutputStream stream = cipher.encryptingStream(out, "payments", CONTEXT)) {
      for (byte b : plaintext) {
        stream.write(b);
      }
    }

    assertArrayEquals(plaintext, readAll(out.toByteArray(), CONTEXT).released);
  }

  @Test
  void decryptingStream_oneShotEnvelope_isReadToo() throws IOException {
    byte[] plaintext = bytes(300);
    byte[] envelope = cipher.encrypt("payments", plaintext, CONTEXT);

    try (EnvelopeInputStream in =
        cipher.decryptingStream(new ByteArrayInputStream(envelope), CONTEXT)) {
      assertArrayEquals(plaintext, in.readAllBytes());
      assertEquals("payments", in.keyName());
    }
  }

  @Test
  void truncated_atEverySegmentBoundary_failsAsTruncatedInsteadOfEnding() throws IOException {
    byte[] plaintext = bytes(4 * SEGMENT + 10); // five segments
    byte[] envelope = encrypt(plaintext);
    int header = headerLength(envelope);

    for (int segments = 1; segments <= 4; segments++) {
      byte[] cut = Arrays.copyOf(envelope, header + segments * SEALED_SEGMENT);

      Outcome outcome = readAll(cut, CONTEXT);

      assertEquals(EnvelopeException.Reason.TRUNCATED, outcome.failure.reason(), "" + segments);
      // Only whole, authentic segments before the cut were released.
      assertArrayEquals(
          Arrays.copyOf(plaintext, (segments - 1) * SEGMENT), outcome.released, "" + segments);
    }
  }

  @Test
  void truncated_atEveryByteOffset_neverReachesEndOfStream() throws IOException {
    byte[] plaintext = bytes(2 * SEGMENT + 5);
    byte[] envelope = encrypt(plaintext);

    for (int length = 0; length < envelope.length; length++) {
      byte[] cut = Arrays.copyOf(envelope, length);

      EnvelopeStreamException failure =
          assertThrows(
              EnvelopeStreamException.class,
              () -> {
                Outcome outcome = readAll(cut, CONTEXT);
                if (outcome.failure != null) {
                  throw outcome.failure;
                }
              },
              "length " + length);

      assertTrue(
          failure.reason() == EnvelopeException.Reason.TRUNCATED
              || failure.reason() == EnvelopeException.Reason.AUTHENTICATION_FAILED
              || failure.reason() == EnvelopeException.Reason.MALFORMED_ENVELOPE,
          "length " + length + ": " + failure.reason());
    }
  }

  @Test
  void headerOnly_failsAsTruncated() throws IOException {
    byte[] envelope = encrypt(bytes(10));

    Outcome outcome = readAll(Arrays.copyOf(envelope, headerLength(envelope)), CONTEXT);

    assertEquals(EnvelopeException.Reason.TRUNCATED, outcome.failure.reason());
    assertEquals(0, outcome.released.length);
  }

  @Test
  void droppedMiddleSegment_failsAuthenticationAtThatSegment() throws IOException {
    byte[] plaintext = bytes(3 * SEGMENT + 10);
    byte[] envelope = encrypt(plaintext);
    int header = headerLength(envelope);
    ByteArrayOutputStream dropped = new ByteArrayOutputStream();
    dropped.write(envelope, 0, header + SEALED_SEGMENT); // header + segment 0
    dropped.write(
        envelope, header + 2 * SEALED_SEGMENT, envelope.length - header - 2 * SEALED_SEGMENT);

    Outcome outcome = readAll(dropped.toByteArray(), CONTEXT);

    assertEquals(EnvelopeException.Reason.AUTHENTICATION_FAILED, outcome.failure.reason());
    assertArrayEquals(Arrays.copyOf(plaintext, SEGMENT), outcome.released);
  }

  @Test
  void reorderedSegments_failBeforeReleasingAnything() throws IOException {
    byte[] envelope = encrypt(bytes(3 * SEGMENT + 10));
    int header = headerLength(envelope);
    byte[] swapped = envelope.clone();
    System.arraycopy(envelope, header, swapped, header + SEALED_SEGMENT, SEALED_SEGMENT);
    System.arraycopy(envelope, header + SEALED_SEGMENT, swapped, header, SEALED_SEGMENT);

    Outcome outcome = readAll(swapped, CONTEXT);

    assertEquals(EnvelopeException.Reason.AUTHENTICATION_FAILED, outcome.failure.reason());
    assertEquals(0, outcome.released.length);
  }

  @Test
  void segmentSwappedInFromAnotherStreamWithTheSameDataKey_failsAuthentication()
      throws IOException {
    // Two streams under one data key (as a cache would allow): distinct salts give distinct keys.
    DataKey shared = dataKeys.generate("payments", CONTEXT);
    byte[] contextEncoding = EncryptionContext.of(CONTEXT).encoding();
    byte[][] envelopes = new byte[2][];
    for (int i = 0; i < 2; i++) {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      byte[] salt = new byte[32];
      salt[0] = (byte) i;
      try (EnvelopeOutputStream stream =
          new EnvelopeOutputStream(
              out, shared.copy(), contextEncoding, SEGMENT, salt, new byte[7])) {
        stream.write(bytes(2 * SEGMENT + 1));
      }
      envelopes[i] = out.toByteArray();
    }
    int header = headerLength(envelopes[0]);
    byte[] spliced = envelopes[0].clone();
    System.arraycopy(
        envelopes[1], header + SEALED_SEGMENT, spliced, header + SEALED_SEGMENT, SEALED_SEGMENT);

    Outcome outcome = readAll(spliced, CONTEXT);

    assertEquals(EnvelopeException.Reason.AUTHENTICATION_FAILED, outcome.failure.reason());
    assertEquals(SEGMENT, outcome.released.length, "segment 0 is authentic");
  }

  @Test
  void bytesAppendedAfterFinalSegment_failAuthentication() throws IOException {
    for (int size : new int[] {10, SEGMENT}) { // a short and a full final segment
      byte[] envelope = encrypt(bytes(size));
      byte[] extended = Arrays.copyOf(envelope, envelope.length + 1);

      Outcome outcome = readAll(extended, CONTEXT);

      assertEquals(EnvelopeException.Reason.AUTHENTICATION_FAILED, outcome.failure.reason());
      assertEquals(0, outcome.released.length);
    }
  }

  @Test
  void anyHeaderByteChangedOutsideTheWrappedKey_failsBeforeReleasingAnything() throws IOException {
    byte[] envelope = encrypt(bytes(2 * SEGMENT));
    int header = headerLength(envelope);
    int wrappedEnd = header - 39;

    for (int i = 0; i < header; i++) {
      if (i >= 5 && i < wrappedEnd) {
        continue; // the length and wrapped key: the server refuses them (next test)
      }
      byte[] tampered = envelope.clone();
      tampered[i] ^= 0x01;

      Outcome outcome = readAll(tampered, CONTEXT);

      assertTrue(outcome.failure != null, "byte " + i);
      assertEquals(0, outcome.released.length, "byte " + i);
    }
  }

  @Test
  void wrappedKeyChanged_isRefusedByTheServerWhenTheStreamOpens() throws IOException {
    byte[] envelope = encrypt(bytes(10));
    envelope[20] ^= 0x01;

    KeyrotorException error =
        assertThrows(
            KeyrotorException.class,
            () -> cipher.decryptingStream(new ByteArrayInputStream(envelope), CONTEXT));

    assertEquals("INVALID_CIPHERTEXT", error.reason());
  }

  @Test
  void wrongContextWithServerIgnoringContext_failsAtFirstSegmentWithNothingReleased()
      throws IOException {
    dataKeys.ignoreContext = true;
    byte[] envelope = encrypt(bytes(3 * SEGMENT));

    Outcome outcome = readAll(envelope, Map.of("bucket", "receipts"));

    assertEquals(EnvelopeException.Reason.AUTHENTICATION_FAILED, outcome.failure.reason());
    assertEquals(0, outcome.released.length);
  }

  @Test
  void readAfterFailure_throwsAgainAndReleasesNothingMore() throws IOException {
    byte[] envelope = encrypt(bytes(3 * SEGMENT));
    envelope[envelope.length - 1] ^= 0x01;
    EnvelopeInputStream in = cipher.decryptingStream(new ByteArrayInputStream(envelope), CONTEXT);
    byte[] buffer = new byte[4 * SEGMENT];
    int released = 0;
    EnvelopeStreamException first = null;
    try {
      int n;
      while ((n = in.read(buffer, released, buffer.length - released)) != -1) {
        released += n;
      }
    } catch (EnvelopeStreamException e) {
      first = e;
    }

    assertEquals(EnvelopeException.Reason.AUTHENTICATION_FAILED, first.reason());
    assertEquals(2 * SEGMENT, released);
    EnvelopeStreamException again = assertThrows(EnvelopeStreamException.class, in::read);
    assertEquals(first.reason(), again.reason());
  }

  @Test
  void outputStream_writeAfterCloseFails_andClosingTwiceWritesOneFinalSegment() throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    EnvelopeOutputStream stream = cipher.encryptingStream(out, "payments", CONTEXT);
    stream.write(bytes(10));
    stream.close();
    int length = out.size();
    stream.close();

    assertEquals(length, out.size());
    assertThrows(IOException.class, () -> stream.write(1));
    assertArrayEquals(bytes(10), readAll(out.toByteArray(), CONTEXT).released);
  }

  @Test
  void outputStream_flushWithPartialSegment_writesNoSegmentYet() throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (EnvelopeOutputStream stream = cipher.encryptingStream(out, "payments", CONTEXT)) {
      int header = out.size();
      stream.write(bytes(SEGMENT)); // a full segment is held until more data or close
      stream.flush();
      assertEquals(header, out.size());
      stream.write(1);
      assertEquals(header + SEALED_SEGMENT, out.size());
    }
  }

  @Test
  void streams_zeroTheirDataKeys() throws IOException {
    byte[] envelope = encrypt(bytes(100));
    readAll(envelope, CONTEXT);

    assertEquals(2, dataKeys.handedOut.size());
    assertTrue(dataKeys.allHandedOutZeroed());
  }

  @Test
  void unknownFormatOrEmptyInput_failsWithReason() {
    EnvelopeStreamException unknown =
        assertThrows(
            EnvelopeStreamException.class,
            () -> cipher.decryptingStream(new ByteArrayInputStream(new byte[] {7}), CONTEXT));
    assertEquals(EnvelopeException.Reason.UNSUPPORTED_FORMAT, unknown.reason());
    EnvelopeStreamException empty =
        assertThrows(
            EnvelopeStreamException.class,
            () -> cipher.decryptingStream(new ByteArrayInputStream(new byte[0]), CONTEXT));
    assertEquals(EnvelopeException.Reason.MALFORMED_ENVELOPE, empty.reason());
  }

  @Test
  void headerWithOutOfRangeSegmentSize_isMalformed() throws IOException {
    byte[] envelope = encrypt(bytes(10));
    envelope[1] = 0x7f; // segment size far above 16 MiB

    EnvelopeStreamException error =
        assertThrows(
            EnvelopeStreamException.class,
            () -> cipher.decryptingStream(new ByteArrayInputStream(envelope), CONTEXT));

    assertEquals(EnvelopeException.Reason.MALFORMED_ENVELOPE, error.reason());
  }
}
