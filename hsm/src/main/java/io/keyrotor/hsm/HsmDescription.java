package io.keyrotor.hsm;

import java.util.List;

/**
 * What an HSM is, for status pages.
 *
 * @param kind "software" or "pkcs11"
 * @param module the PKCS#11 module path, or the software key file
 * @param tokenLabel the token label (PKCS#11), or empty
 * @param mechanisms the wrapping mechanisms this HSM uses, in order of preference
 * @param healthy false once the HSM stopped answering
 */
public record HsmDescription(
    String kind,
    String module,
    String tokenLabel,
    List<WrapMechanism> mechanisms,
    boolean healthy) {
  public HsmDescription {
    mechanisms = List.copyOf(mechanisms);
  }
}
