package io.keyrotor.crypto;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** Key bytes in memory: never printed, compared in constant time, zeroed on close. */
class SecretBytesTest {
  private static final byte[] KEY =
      HexFormat.of().parseHex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");

  @Test
  void toString_isTheFixedRedactedText() {
    SecretBytes secret = SecretBytes.copyOf(KEY);

    assertEquals(SecretBytes.REDACTED, secret.toString());
    assertEquals(SecretBytes.REDACTED, SecretBytes.copyOf(new byte[3]).toString());
    assertFalse(secret.toString().contains("0001"));
    assertFalse(secret.toString().contains("32"), "not even the length");
  }

  @Test
  void hashCode_isTheSameWhateverTheBytes() {
    assertEquals(
        SecretBytes.copyOf(KEY).hashCode(), SecretBytes.copyOf(new byte[] {42}).hashCode());
  }

  @Test
  void equals_comparesTheBytes() {
    byte[] other = KEY.clone();
    other[31] ^= 1;

    assertEquals(SecretBytes.copyOf(KEY), SecretBytes.copyOf(KEY));
    assertNotEquals(SecretBytes.copyOf(KEY), SecretBytes.copyOf(other));
    assertNotEquals(SecretBytes.copyOf(KEY), SecretBytes.copyOf(Arrays.copyOf(KEY, 16)));
    assertNotEquals(SecretBytes.copyOf(KEY), (Object) KEY.clone(), "not equal to a plain array");
  }

  @Test
  void close_zeroesTheBytesItOwns() {
    byte[] owned = KEY.clone();
    SecretBytes secret = SecretBytes.takeOwnership(owned);

    secret.close();

    assertArrayEquals(new byte[32], owned);
    assertTrue(secret.isDestroyed());
  }

  @Test
  void afterClose_everyUseOfTheBytesThrows() {
    SecretBytes secret = SecretBytes.copyOf(KEY);
    secret.close();

    assertThrows(IllegalStateException.class, secret::revealCopy);
    assertThrows(IllegalStateException.class, secret::copy);
    assertThrows(IllegalStateException.class, () -> secret.equals(SecretBytes.copyOf(KEY)));
    assertThrows(IllegalStateException.class, () -> SecretBytes.copyOf(KEY).equals(secret));
    assertEquals(32, secret.length(), "the length is no secret");
    assertEquals(secret, secret, "an instance still equals itself");
  }

  @Test
  void closeAndDestroy_areTheSameAndIdempotent() {
    SecretBytes secret = SecretBytes.copyOf(KEY);
    assertFalse(secret.isDestroyed());

    secret.destroy();
    secret.close();

    assertTrue(secret.isDestroyed());
  }

  @Test
  void copyOf_laterChangesToTheSourceDoNotReachIt() {
    byte[] source = KEY.clone();
    SecretBytes secret = SecretBytes.copyOf(source);

    Arrays.fill(source, (byte) 0);

    assertArrayEquals(KEY, secret.revealCopy());
  }

  @Test
  void revealCopy_isTheCallersOwnCopy() {
    SecretBytes secret = SecretBytes.copyOf(KEY);
    byte[] first = secret.revealCopy();

    Arrays.fill(first, (byte) 0);

    assertArrayEquals(KEY, secret.revealCopy());
    assertNotSame(secret.revealCopy(), secret.revealCopy());
  }

  @Test
  void copy_livesOnAfterTheOriginalIsClosed() {
    SecretBytes original = SecretBytes.copyOf(KEY);
    SecretBytes copy = original.copy();

    original.close();

    assertArrayEquals(KEY, copy.revealCopy());
  }

  @Test
  void revealCopyRacingClose_neverReturnsAPartlyZeroedKey() throws Exception {
    byte[] pattern = new byte[4096];
    Arrays.fill(pattern, (byte) 0x5A);
    for (int round = 0; round < 50; round++) {
      SecretBytes secret = SecretBytes.copyOf(pattern);
      CountDownLatch start = new CountDownLatch(1);
      AtomicReference<Throwable> failure = new AtomicReference<>();
      List<Thread> readers = new ArrayList<>();
      for (int r = 0; r < 2; r++) {
        Thread reader =
            new Thread(
                () -> {
                  try {
                    start.await();
                    while (true) {
                      byte[] copy = secret.revealCopy();
                      for (byte b : copy) {
                        if (b != 0x5A) {
                          failure.set(new AssertionError("a copy held a zeroed byte"));
                          return;
                        }
                      }
                    }
                  } catch (IllegalStateException closed) {
                    // expected once the close wins
                  } catch (Throwable t) {
                    failure.set(t);
                  }
                });
        reader.start();
        readers.add(reader);
      }
      start.countDown();
      Thread.onSpinWait();
      secret.close();
      for (Thread reader : readers) {
        reader.join(10_000);
        assertFalse(reader.isAlive(), "a reader never saw the close");
      }
      if (failure.get() != null) {
        throw new AssertionError("round " + round, failure.get());
      }
    }
  }
}
