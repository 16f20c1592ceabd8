package io.keyrotor.hsm;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Arrays;
import java.util.Collections;
import java.util.EnumSet;
import java.util.Set;

/**
 * Reads an HSM secret (key file passphrase, user PIN) from where a node configuration names it: a
 * file or an environment variable, never the command line or the configuration file itself. Returns
 * a fresh {@code char[]} the caller zeroes once {@link Hsms#open} has copied it.
 */
public final class SecretSources {
  private static final Set<PosixFilePermission> GROUP_OR_OTHER =
      EnumSet.of(
          PosixFilePermission.GROUP_READ,
          PosixFilePermission.GROUP_WRITE,
          PosixFilePermission.OTHERS_READ,
          PosixFilePermission.OTHERS_WRITE);

  private SecretSources() {}

  /**
   * The file's content as UTF-8, without one trailing line break.
   *
   * @throws HsmException {@code HSM_UNAVAILABLE} if the file is missing, empty, not UTF-8, or
   *     readable or writable by group or others (where the file system has POSIX permissions)
   */
  public static char[] fromFile(Path file) throws HsmException {
    byte[] bytes;
    try {
      if (Files.getFileStore(file).supportsFileAttributeView("posix")) {
        Set<PosixFilePermission> permissions = Files.getPosixFilePermissions(file);
        if (!Collections.disjoint(permissions, GROUP_OR_OTHER)) {
          throw unavailable(
              "secret file " + file + " must be readable by its owner only (chmod 600)");
        }
      }
      bytes = Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      throw unavailable("secret file " + file + " does not exist");
    } catch (IOException e) {
      throw unavailable("secret file " + file + " cannot be read: " + e.getMessage());
    }
    try {
      CharBuffer chars =
          StandardCharsets.UTF_8
              .newDecoder()
              .onMalformedInput(CodingErrorAction.REPORT)
              .onUnmappableCharacter(CodingErrorAction.REPORT)
              .decode(ByteBuffer.wrap(bytes));
      int length = chars.remaining();
      if (length > 0 && chars.get(length - 1) == '\n') {
        length--;
        if (length > 0 && chars.get(length - 1) == '\r') {
          length--;
        }
      }
      char[] secret = new char[length];
      chars.get(secret, 0, length);
      Arrays.fill(chars.array(), '\0');
      if (secret.length == 0) {
        throw unavailable("secret file " + file + " is empty");
      }
      return secret;
    } catch (CharacterCodingException e) {
      throw unavailable("secret file " + file + " is not UTF-8 text");
    } finally {
      Arrays.fill(bytes, (byte) 0);
    }
  }

  /**
   * The value of an environment variable.
   *
   * @throws HsmException {@code HSM_UNAVAILABLE} if it is unset or empty
   */
  public static char[] fromEnvironment(String variable) throws HsmException {
    String value = System.getenv(variable);
    if (value == null || value.isEmpty()) {
      throw unavailable("environment variable " + variable + " is not set");
    }
    return value.toCharArray();
  }

  private static HsmException unavailable(String message) {
    return new HsmException(HsmException.Reason.HSM_UNAVAILABLE, message);
  }
}
