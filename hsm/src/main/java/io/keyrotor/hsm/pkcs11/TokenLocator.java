package io.keyrotor.hsm.pkcs11;

import java.nio.file.Path;
import java.util.Objects;

/**
 * Where a PKCS#11 token is: its module and its label. Tokens are always found by label, never by
 * slot id (SoftHSM2 renumbers slots when tokens are added).
 *
 * @param modulePath the PKCS#11 module, e.g. {@code /usr/lib/softhsm/libsofthsm2.so}
 * @param tokenLabel the token label (at most 32 characters)
 */
public record TokenLocator(Path modulePath, String tokenLabel) {
  /** Where Debian's softhsm2 package installs its module. */
  public static final Path SOFTHSM2_MODULE = Path.of("/usr/lib/softhsm/libsofthsm2.so");

  public TokenLocator {
    Objects.requireNonNull(modulePath, "modulePath");
    Objects.requireNonNull(tokenLabel, "tokenLabel");
    if (tokenLabel.isBlank() || tokenLabel.length() > 32) {
      throw new IllegalArgumentException("a token label is 1 to 32 characters");
    }
  }

  /** A token of the SoftHSM2 module. */
  public static TokenLocator softHsm2(String tokenLabel) {
    return new TokenLocator(SOFTHSM2_MODULE, tokenLabel);
  }

  @Override
  public String toString() {
    return "token '" + tokenLabel + "' of " + modulePath;
  }
}
