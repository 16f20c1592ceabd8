package io.keyrotor.storage;

import java.io.IOException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Directories a node keeps to itself: its data directory, the RocksDB state, the Raft log and the
 * snapshots hold wrapped KEKs, key names and the audit chain, which are nobody else's business.
 *
 * <p>A process cannot choose its umask from Java, and RocksDB and Ratis create their files with
 * whatever mode the umask leaves (0644 under the common 022). So the node sets mode 0700 itself,
 * explicitly (not through the umask), on every directory it keeps data in, whenever it opens one:
 * whatever the libraries write inside is then out of reach of other users, and a directory left
 * world-readable by an older version is closed at the next start. On a file system without POSIX
 * permissions this does nothing.
 */
public final class OwnerOnly {
  /** rwx------ */
  public static final Set<PosixFilePermission> DIRECTORY =
      PosixFilePermissions.fromString("rwx------");

  /** rw------- */
  public static final Set<PosixFilePermission> FILE = PosixFilePermissions.fromString("rw-------");

  private static final boolean POSIX =
      FileSystems.getDefault().supportedFileAttributeViews().contains("posix");

  private OwnerOnly() {}

  /**
   * Creates {@code directory} and its missing parents, and sets mode 0700 on it and on every parent
   * this call created.
   */
  public static Path directory(Path directory) throws IOException {
    Path absolute = directory.toAbsolutePath().normalize();
    Path existing = absolute;
    while (existing != null && !Files.exists(existing)) {
      existing = existing.getParent();
    }
    Files.createDirectories(absolute);
    if (POSIX) {
      for (Path p = absolute; p != null && !p.equals(existing); p = p.getParent()) {
        Files.setPosixFilePermissions(p, DIRECTORY);
      }
      Files.setPosixFilePermissions(absolute, DIRECTORY);
    }
    return directory;
  }

  /**
   * Takes group and other permissions away from every file and directory under {@code root} (and
   * root itself): what a node does to its data directory at start, so that files written under a
   * permissive umask (by an older version, or by RocksDB and Ratis, which follow the umask) are
   * closed too. Directories become 0700, files 0600.
   */
  public static void tree(Path root) throws IOException {
    if (!POSIX || !Files.isDirectory(root)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(root)) {
      for (Path path : (Iterable<Path>) paths::iterator) {
        if (Files.isSymbolicLink(path)) {
          continue;
        }
        Files.setPosixFilePermissions(path, Files.isDirectory(path) ? DIRECTORY : FILE);
      }
    }
  }

  /** Sets mode 0600 on {@code file} (explicitly, whatever the umask made it). */
  public static void file(Path file) throws IOException {
    if (POSIX) {
      Files.setPosixFilePermissions(file, FILE);
    }
  }
}
