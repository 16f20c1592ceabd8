package io.keyrotor.server.hsm;

import com.google.protobuf.ByteString;
import io.keyrotor.hsm.Hsm;
import io.keyrotor.hsm.HsmException;
import io.keyrotor.hsm.SecretKeyBytes;
import io.keyrotor.proto.internal.v1.WrappedKeyMaterial;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Key check values that bind a wrapped key-encryption key to the record that holds it.
 *
 * <p>AES key wrap authenticates the wrapped bytes but binds no context: the same zone master key
 * unwraps a KEK moved from one key or version to another without complaint, and an HSM that wraps a
 * wrong key is only noticed when data fails to decrypt. So every wrapped KEK carries a check value
 * computed from the plaintext KEK when it is wrapped: the first {@value #LENGTH} bytes of
 * HMAC-SHA256(KEK, {@code "keyrotor-kek-check"} || zone || key name || version), each field length
 * prefixed. Whoever unwraps a KEK (the data plane's cache, the validation gate, a zone master key
 * rotation) recomputes it for the record it read the material from, and refuses the key with {@link
 * HsmException.Reason#KEK_CHECK_FAILED} on a mismatch. The value is a keyed MAC of public data: it
 * reveals nothing usable about the KEK.
 *
 * <p>Material minted before check values existed has none: it is accepted (with a warning, at most
 * once a minute per node) and gets one from the next zone master key rotation.
 */
public final class KekChecks {
  /** Bytes of a check value (a truncated HMAC-SHA256: 128 bits). */
  public static final int LENGTH = 16;

  private static final byte[] LABEL = "keyrotor-kek-check".getBytes(StandardCharsets.US_ASCII);
  private static final Logger LOG = LoggerFactory.getLogger(KekChecks.class);
  private static final long LEGACY_LOG_INTERVAL_NANOS = TimeUnit.MINUTES.toNanos(1);
  private static final AtomicLong lastLegacyLogNanos =
      new AtomicLong(System.nanoTime() - LEGACY_LOG_INTERVAL_NANOS - 1);

  private KekChecks() {}

  /** The check value of {@code kek} as the KEK of {@code keyName} version {@code version}. */
  public static ByteString compute(SecretKeyBytes kek, String zone, String keyName, int version) {
    byte[] key = kek.revealCopy();
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(key, "HmacSHA256"));
      mac.update(LABEL);
      mac.update(field(zone));
      mac.update(field(keyName));
      mac.update(ByteBuffer.allocate(4).putInt(version).array());
      return ByteString.copyFrom(mac.doFinal(), 0, LENGTH);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is not available", e);
    } finally {
      Arrays.fill(key, (byte) 0);
    }
  }

  /** {@code material} with the check value of {@code kek} for that key version. */
  public static WrappedKeyMaterial bind(
      WrappedKeyMaterial material, SecretKeyBytes kek, String keyName, int version) {
    return material.toBuilder()
        .setKeyCheck(compute(kek, material.getZone(), keyName, version))
        .setKeyCheckVersion(version)
        .build();
  }

  /**
   * Checks that {@code kek}, unwrapped from {@code material}, is the KEK of {@code keyName} version
   * {@code version} in {@code zone} (the record the material was read from). Material without a
   * check value passes (legacy, logged).
   *
   * @throws HsmException {@code KEK_CHECK_FAILED} on a mismatch; the message names the record only
   */
  public static void verify(
      SecretKeyBytes kek, WrappedKeyMaterial material, String zone, String keyName, int version)
      throws HsmException {
    if (material.getKeyCheck().isEmpty()) {
      long now = System.nanoTime();
      long last = lastLegacyLogNanos.get();
      if (now - last > LEGACY_LOG_INTERVAL_NANOS && lastLegacyLogNanos.compareAndSet(last, now)) {
        LOG.warn(
            "the key-encryption key of key \"{}\" version {} has no key check value (minted before"
                + " check values); used unchecked until the next zone master key rotation of {}"
                + " gives it one",
            keyName,
            version,
            zone);
      }
      return;
    }
    byte[] expected = compute(kek, zone, keyName, version).toByteArray();
    if (!MessageDigest.isEqual(expected, material.getKeyCheck().toByteArray())) {
      throw mismatch(zone, keyName, version);
    }
  }

  /**
   * Unwraps {@code material}, the stored KEK of {@code keyName} version {@code version} in {@code
   * zone}, through {@code hsm} and {@link #verify verifies} it. The caller owns the result; on a
   * mismatch the unwrapped key is zeroed before the exception leaves.
   */
  public static SecretKeyBytes unwrapChecked(
      Hsm hsm, WrappedKeyMaterial material, String zone, String keyName, int version)
      throws HsmException {
    SecretKeyBytes kek = hsm.unwrap(WrappedKeyRecords.fromRecord(material));
    try {
      verify(kek, material, zone, keyName, version);
      return kek;
    } catch (HsmException | RuntimeException e) {
      kek.close();
      throw e;
    }
  }

  /**
   * Checks that {@code material} unwraps through {@code hsm} to the KEK its check value names for
   * that key version: what a node does with a wrapping it just made, before it lets it go. The
   * unwrapped key is zeroed before this returns.
   *
   * @throws HsmException the HSM's failure, or {@code KEK_CHECK_FAILED}
   */
  public static void requireUnwrapsToBoundKey(
      Hsm hsm, WrappedKeyMaterial material, String zone, String keyName, int version)
      throws HsmException {
    if (material.getKeyCheck().isEmpty()) {
      throw new IllegalArgumentException("new wrappings carry a key check value");
    }
    unwrapChecked(hsm, material, zone, keyName, version).close();
  }

  static HsmException mismatch(String zone, String keyName, int version) {
    return new HsmException(
        HsmException.Reason.KEK_CHECK_FAILED,
        "the key-encryption key unwrapped for key \""
            + keyName
            + "\" version "
            + version
            + " in zone "
            + zone
            + " does not match its key check value (wrapped bytes moved from another record, or"
            + " a faulty HSM); the key is not used");
  }

  private static byte[] field(String value) {
    byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
    return ByteBuffer.allocate(4 + bytes.length).putInt(bytes.length).put(bytes).array();
  }
}
