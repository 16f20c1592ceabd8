package io.keyrotor.server.hsm;

import io.keyrotor.storage.OwnerOnly;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.HexFormat;

/**
 * Secrets that the key ceremonies and local clusters make for an HSM (PINs, key file passphrases):
 * random, and kept only in owner-only (0600) files.
 */
public final class SecretFiles {
  private SecretFiles() {}

  /** {@code randomBytes} random bytes as hex characters (twice as many). */
  public static char[] newHexSecret(int randomBytes) {
    byte[] random = new byte[randomBytes];
    new SecureRandom().nextBytes(random);
    char[] out = HexFormat.of().formatHex(random).toCharArray();
    Arrays.fill(random, (byte) 0);
    return out;
  }

  /**
   * Creates {@code file} with mode 0600 (set explicitly, whatever the umask) and writes {@code
   * secret} into it; a directory it creates for it is 0700. Refuses to overwrite.
   */
  public static void write(Path file, char[] secret) throws IOException {
    if (!Files.isDirectory(file.toAbsolutePath().getParent())) {
      OwnerOnly.directory(file.toAbsolutePath().getParent());
    }
    Files.createFile(
        file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    OwnerOnly.file(file);
    byte[] bytes = new String(secret).getBytes(StandardCharsets.UTF_8);
    try {
      Files.write(file, bytes);
    } finally {
      Arrays.fill(bytes, (byte) 0);
    }
  }
}
