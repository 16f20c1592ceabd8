package io.keyrotor.consensus;

import static io.keyrotor.consensus.TestCluster.await;
import static io.keyrotor.consensus.TestCluster.createKey;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.rpc.Code;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A node keeps its data directory to itself whatever the umask: the data directory, the Raft log,
 * the RocksDB state and the snapshot directories are 0700 (set explicitly, so also under the usual
 * umask 022, which the test JVM runs with), and a file left world-readable in them is 0600 after
 * the next start.
 */
class DataDirectoryPermissionsIT {
  @TempDir Path root;

  @Test
  void nodeDirectories_ownerOnly_evenWhenCreatedWorldReadable() throws Exception {
    Path data = root.resolve("n1");
    Path stray = data.resolve("old").resolve("left-world-readable");
    Files.createDirectories(
        data, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
    Files.setPosixFilePermissions(data, PosixFilePermissions.fromString("rwxr-xr-x"));
    Files.createDirectories(stray.getParent());
    Files.setPosixFilePermissions(stray.getParent(), PosixFilePermissions.fromString("rwxr-xr-x"));
    Files.writeString(stray, "x");
    Files.setPosixFilePermissions(stray, PosixFilePermissions.fromString("rw-r--r--"));

    try (TestCluster cluster = new TestCluster(root, 1, Function.identity())) {
      cluster.startAll();
      RaftNode node = cluster.leader();
      assertEquals(Code.OK_VALUE, await(node.propose(createKey("k"))).getOutcome().getCode());
      assertTrue(node.takeSnapshot(30_000) > 0);

      assertEquals(
          Set.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE),
          Files.getPosixFilePermissions(stray));
      assertOwnerOnlyDirectory(data);
      assertOwnerOnlyDirectory(stray.getParent());
      assertOwnerOnlyDirectory(data.resolve("raft"));
      assertOwnerOnlyDirectory(data.resolve("state"));
      try (Stream<Path> walk = Files.walk(data.resolve("raft"))) {
        long snapshotDirectories =
            walk.filter(Files::isDirectory)
                .filter(
                    p -> Set.of("snapshots", "tmp", "staging").contains(p.getFileName().toString()))
                .peek(DataDirectoryPermissionsIT::assertOwnerOnlyDirectory)
                .count();
        assertEquals(3, snapshotDirectories);
      }
    }
  }

  private static void assertOwnerOnlyDirectory(Path directory) {
    try {
      assertEquals(
          "rwx------",
          PosixFilePermissions.toString(Files.getPosixFilePermissions(directory)),
          directory.toString());
    } catch (java.io.IOException e) {
      throw new AssertionError(e);
    }
  }
}
