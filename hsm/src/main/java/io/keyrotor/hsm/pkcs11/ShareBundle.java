package io.keyrotor.hsm.pkcs11;

import io.keyrotor.hsm.HsmException;
import io.keyrotor.hsm.ZoneMasterKeyId;
import java.util.Arrays;
import java.util.Objects;

/**
 * Step 2 of the share-zone ceremony, from the sender to the receiving token: the zone master key
 * wrapped with RSA-OAEP under the receiver's public key, which only the receiver's token can
 * unwrap. Safe to pass around as text; the check value lets the operator compare both sides.
 *
 * @param zoneMasterKey the zone master key version
 * @param keyId the {@code CKA_ID} of the receiver's private key (from the request)
 * @param oaepHash the OAEP hash (and MGF1 hash) used: {@code SHA-256}, or {@code SHA-1} where the
 *     sending module supports no other (SoftHSM 2.6)
 * @param wrappedKey the wrapped key bytes
 * @param senderCheckValue the key check value computed in the sending token
 */
public record ShareBundle(
    ZoneMasterKeyId zoneMasterKey,
    // Copied in and out; equals and hashCode below compare by content, toString leaves it out.
    @SuppressWarnings("ArrayRecordComponent") byte[] keyId,
    String oaepHash,
    // Copied in and out, as keyId.
    @SuppressWarnings("ArrayRecordComponent") byte[] wrappedKey,
    String senderCheckValue) {
  private static final String KIND = "keyrotor-share-bundle-v1";

  public ShareBundle {
    Objects.requireNonNull(zoneMasterKey, "zoneMasterKey");
    Objects.requireNonNull(oaepHash, "oaepHash");
    Objects.requireNonNull(senderCheckValue, "senderCheckValue");
    keyId = keyId.clone();
    wrappedKey = wrappedKey.clone();
  }

  @Override
  public byte[] keyId() {
    return keyId.clone();
  }

  @Override
  public byte[] wrappedKey() {
    return wrappedKey.clone();
  }

  /** A text form for files and terminals. */
  public String encode() {
    return new ShareText(KIND)
        .put("zone", zoneMasterKey.zone())
        .put("version", Integer.toString(zoneMasterKey.version()))
        .putBytes("key-id", keyId)
        .put("oaep-hash", oaepHash)
        .putBytes("wrapped-key", wrappedKey)
        .put("check-value", senderCheckValue)
        .encode();
  }

  /**
   * Parses {@link #encode()}'s output.
   *
   * @throws HsmException {@code INVALID_REQUEST} if it is not a share bundle
   */
  public static ShareBundle decode(String text) throws HsmException {
    ShareText fields = ShareText.decode(KIND, text);
    return new ShareBundle(
        fields.zoneMasterKey(),
        fields.getBytes("key-id"),
        fields.get("oaep-hash"),
        fields.getBytes("wrapped-key"),
        fields.get("check-value"));
  }

  /** Equal when every field is, the byte fields by content. */
  @Override
  public boolean equals(Object other) {
    return other instanceof ShareBundle that
        && zoneMasterKey.equals(that.zoneMasterKey)
        && Arrays.equals(keyId, that.keyId)
        && oaepHash.equals(that.oaepHash)
        && Arrays.equals(wrappedKey, that.wrappedKey)
        && senderCheckValue.equals(that.senderCheckValue);
  }

  @Override
  public int hashCode() {
    return Objects.hash(
        zoneMasterKey,
        Arrays.hashCode(keyId),
        oaepHash,
        Arrays.hashCode(wrappedKey),
        senderCheckValue);
  }

  @Override
  public String toString() {
    return "ShareBundle["
        + zoneMasterKey
        + ", RSA-OAEP "
        + oaepHash
        + ", check value "
        + senderCheckValue
        + "]";
  }
}
