package io.keyrotor.server.hsm;

import io.keyrotor.server.config.HsmSettings;
import java.util.Optional;

/**
 * Recognises the development layout of a software HSM ({@code scripts/cluster up}): the key file's
 * passphrase in a file in the same directory as the key file. Whoever can read that directory has
 * the zone master keys, so such a node is for development only, and says so when it starts.
 */
public final class DevelopmentLayout {
  private DevelopmentLayout() {}

  /** The warning a node with these HSM settings logs at start, if it uses the dev layout. */
  public static Optional<String> warning(HsmSettings hsm) {
    if (!"software".equals(hsm.kind())
        || hsm.softwareKeyFile() == null
        || hsm.secret().fileOrNull() == null) {
      return Optional.empty();
    }
    var keyDirectory = hsm.softwareKeyFile().toAbsolutePath().normalize().getParent();
    var secretDirectory = hsm.secret().fileOrNull().toAbsolutePath().normalize().getParent();
    if (keyDirectory == null || !keyDirectory.equals(secretDirectory)) {
      return Optional.empty();
    }
    return Optional.of(
        "DEVELOPMENT LAYOUT: the software HSM's passphrase file "
            + hsm.secret().fileOrNull()
            + " lies beside its key file "
            + hsm.softwareKeyFile()
            + ", so anyone who can read that directory has every zone master key. For development"
            + " only: in production use a PKCS#11 HSM, or keep the passphrase elsewhere"
            + " (hsm.software.passphrase-env, or a file on another volume).");
  }
}
