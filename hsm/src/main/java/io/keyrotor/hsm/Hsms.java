package io.keyrotor.hsm;

import io.keyrotor.hsm.pkcs11.Pkcs11Hsm;
import io.keyrotor.hsm.software.SoftwareHsm;

/** Opens the HSM a node's configuration names. */
public final class Hsms {
  private Hsms() {}

  /**
   * Opens an HSM: loads the key file or the PKCS#11 module, logs in, discovers the mechanisms.
   *
   * @throws HsmException with {@code HSM_UNAVAILABLE} and a message a person can act on if the key
   *     file, module or token cannot be used (missing, wrong passphrase or PIN), or {@code
   *     UNSUPPORTED_MECHANISM} if it supports none of the preferred mechanisms
   */
  public static Hsm open(HsmConfig config) throws HsmException {
    if (config instanceof HsmConfig.Software software) {
      return SoftwareHsm.open(software);
    }
    if (config instanceof HsmConfig.Pkcs11 pkcs11) {
      return Pkcs11Hsm.open(pkcs11);
    }
    throw new IllegalArgumentException("unknown HSM configuration " + config);
  }
}
