package io.keyrotor.server.hsm;

import com.google.protobuf.ByteString;
import io.keyrotor.hsm.HsmException;
import io.keyrotor.hsm.WrapMechanism;
import io.keyrotor.hsm.WrappedKey;
import io.keyrotor.proto.internal.v1.WrappedKeyMaterial;

/**
 * A wrapped key-encryption key in its two forms: the HSM's {@link WrappedKey} and the replicated
 * {@link WrappedKeyMaterial} that the log and the stored key versions carry (zone, master key
 * version, mechanism, wrapped bytes; never the plaintext).
 */
public final class WrappedKeyRecords {
  private WrappedKeyRecords() {}

  /** The replicated form of what the HSM wrapped. */
  public static WrappedKeyMaterial toRecord(WrappedKey wrapped) {
    return WrappedKeyMaterial.newBuilder()
        .setZone(wrapped.zone())
        .setZoneMasterKeyVersion(wrapped.zoneMasterKeyVersion())
        .setMechanism(wrapped.mechanism().name())
        .setCiphertext(ByteString.copyFrom(wrapped.ciphertext()))
        .build();
  }

  /** What the HSM unwraps; a mechanism this node does not know is UNSUPPORTED_MECHANISM. */
  public static WrappedKey fromRecord(WrappedKeyMaterial material) throws HsmException {
    return new WrappedKey(
        material.getZone(),
        material.getZoneMasterKeyVersion(),
        WrapMechanism.fromStoredName(material.getMechanism()),
        material.getCiphertext().toByteArray());
  }
}
