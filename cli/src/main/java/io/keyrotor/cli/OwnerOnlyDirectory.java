package io.keyrotor.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/**
 * A directory that only its owner, this process's user, may enter: where the CLI's Unix domain
 * sockets live (the key agent's, the resident CLI process's), so that the file system keeps every
 * other user away from them.
 */
public final class OwnerOnlyDirectory {

  /** {@code rwx------}. */
  public static final Set<PosixFilePermission> PERMISSIONS =
      PosixFilePermissions.fromString("rwx------");

  private OwnerOnlyDirectory() {}

  /**
   * Creates {@code directory} owner-only (0700 whatever the umask) when it does not exist;
   * otherwise checks that it is a directory (not a link to one) of this process's user that no one
   * else may enter, and throws {@link IllegalArgumentException} naming {@code what} when it is not.
   */
  public static void prepare(Path directory, String what) throws IOException {
    if (!Files.exists(directory, LinkOption.NOFOLLOW_LINKS)) {
      Files.createDirectories(directory, PosixFilePermissions.asFileAttribute(PERMISSIONS));
      Files.setPosixFilePermissions(directory, PERMISSIONS); // whatever the umask
      return;
    }
    if (!Files.isDirectory(directory, LinkOption.NOFOLLOW_LINKS)) {
      throw new IllegalArgumentException(what + " " + directory + " is not a directory");
    }
    Set<PosixFilePermission> permissions =
        Files.getPosixFilePermissions(directory, LinkOption.NOFOLLOW_LINKS);
    if (!PERMISSIONS.containsAll(permissions)) {
      throw new IllegalArgumentException(
          what
              + " "
              + directory
              + " is "
              + PosixFilePermissions.toString(permissions)
              + ": it must be accessible to its owner only (chmod 700), or not exist yet");
    }
    String owner = Files.getOwner(directory, LinkOption.NOFOLLOW_LINKS).getName();
    String self = System.getProperty("user.name");
    if (!owner.equals(self)) {
      throw new IllegalArgumentException(
          what + " " + directory + " belongs to " + owner + ", not " + self);
    }
  }
}
