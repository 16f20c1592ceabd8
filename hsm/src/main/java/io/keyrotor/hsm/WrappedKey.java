package io.keyrotor.hsm;

import java.util.Arrays;
import java.util.Objects;

/**
 * A key wrapped under a zone master key: safe to store and replicate.
 *
 * @param zone the zone whose master key wraps it
 * @param zoneMasterKeyVersion the master key version used
 * @param mechanism how it was wrapped
 * @param ciphertext the wrapped bytes (copied in and out)
 */
public record WrappedKey(
    String zone,
    int zoneMasterKeyVersion,
    WrapMechanism mechanism,
    // Copied in and out; equals, hashCode and toString below treat it by content.
    @SuppressWarnings("ArrayRecordComponent") byte[] ciphertext) {

  public WrappedKey {
    Objects.requireNonNull(zone, "zone");
    Objects.requireNonNull(mechanism, "mechanism");
    if (zoneMasterKeyVersion < 1) {
      throw new IllegalArgumentException("zone master key versions start at 1");
    }
    ciphertext = ciphertext.clone();
  }

  @Override
  public byte[] ciphertext() {
    return ciphertext.clone();
  }

  @Override
  public boolean equals(Object other) {
    return other instanceof WrappedKey that
        && zone.equals(that.zone)
        && zoneMasterKeyVersion == that.zoneMasterKeyVersion
        && mechanism == that.mechanism
        && Arrays.equals(ciphertext, that.ciphertext);
  }

  @Override
  public int hashCode() {
    return Objects.hash(zone, zoneMasterKeyVersion, mechanism, Arrays.hashCode(ciphertext));
  }

  @Override
  public String toString() {
    return "WrappedKey[zone="
        + zone
        + ", zmkVersion="
        + zoneMasterKeyVersion
        + ", mechanism="
        + mechanism
        + ", length="
        + ciphertext.length
        + "]";
  }
}
