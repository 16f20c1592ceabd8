package io.keyrotor.hsm.pkcs11;

import io.keyrotor.hsm.HsmException;
import io.keyrotor.hsm.ZoneMasterKeyId;
import java.math.BigInteger;
import java.util.Arrays;
import java.util.Objects;

/**
 * Step 1 of the share-zone ceremony, from the receiving token to the sender: the public half of an
 * RSA key pair the receiving token generated for this one transfer (its private half, {@code
 * CKA_UNWRAP} only, never leaves the receiving token). Public data: safe to pass around as text.
 *
 * @param zoneMasterKey the zone master key version asked for
 * @param receiverTokenLabel the receiving token, for the operator's eyes
 * @param keyId the {@code CKA_ID} of the receiver's private key, to find it again in step 3
 * @param modulus the RSA modulus
 * @param publicExponent the RSA public exponent
 */
public record ShareRequest(
    ZoneMasterKeyId zoneMasterKey,
    String receiverTokenLabel,
    // Copied in and out; equals and hashCode below compare by content, toString leaves it out.
    @SuppressWarnings("ArrayRecordComponent") byte[] keyId,
    BigInteger modulus,
    BigInteger publicExponent) {
  private static final String KIND = "keyrotor-share-request-v1";

  public ShareRequest {
    Objects.requireNonNull(zoneMasterKey, "zoneMasterKey");
    Objects.requireNonNull(receiverTokenLabel, "receiverTokenLabel");
    Objects.requireNonNull(modulus, "modulus");
    Objects.requireNonNull(publicExponent, "publicExponent");
    keyId = keyId.clone();
  }

  @Override
  public byte[] keyId() {
    return keyId.clone();
  }

  /** A text form for files and terminals. */
  public String encode() {
    return new ShareText(KIND)
        .put("zone", zoneMasterKey.zone())
        .put("version", Integer.toString(zoneMasterKey.version()))
        .put("receiver-token", receiverTokenLabel)
        .putBytes("key-id", keyId)
        .putBytes("modulus", modulus.toByteArray())
        .putBytes("public-exponent", publicExponent.toByteArray())
        .encode();
  }

  /**
   * Parses {@link #encode()}'s output.
   *
   * @throws HsmException {@code INVALID_REQUEST} if it is not a share request
   */
  public static ShareRequest decode(String text) throws HsmException {
    ShareText fields = ShareText.decode(KIND, text);
    return new ShareRequest(
        fields.zoneMasterKey(),
        fields.get("receiver-token"),
        fields.getBytes("key-id"),
        new BigInteger(1, fields.getBytes("modulus")),
        new BigInteger(1, fields.getBytes("public-exponent")));
  }

  /** Equal when every field is, the key id by content. */
  @Override
  public boolean equals(Object other) {
    return other instanceof ShareRequest that
        && zoneMasterKey.equals(that.zoneMasterKey)
        && receiverTokenLabel.equals(that.receiverTokenLabel)
        && Arrays.equals(keyId, that.keyId)
        && modulus.equals(that.modulus)
        && publicExponent.equals(that.publicExponent);
  }

  @Override
  public int hashCode() {
    return Objects.hash(
        zoneMasterKey, receiverTokenLabel, Arrays.hashCode(keyId), modulus, publicExponent);
  }

  @Override
  public String toString() {
    return "ShareRequest[" + zoneMasterKey + " to token '" + receiverTokenLabel + "']";
  }
}
