package io.keyrotor.consensus;

import io.keyrotor.storage.OwnerOnly;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.apache.ratis.server.protocol.TermIndex;
import org.apache.ratis.server.storage.FileInfo;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.statemachine.SnapshotInfo;
import org.apache.ratis.statemachine.SnapshotRetentionPolicy;
import org.apache.ratis.statemachine.StateMachineStorage;
import org.apache.ratis.statemachine.impl.FileListSnapshotInfo;

/**
 * Snapshots as RocksDB checkpoints, one directory each: {@code
 * sm/snapshots/snapshot.<term>_<index>}.
 *
 * <p>The live database lives elsewhere ({@code <data>/state}), because a follower installing a
 * snapshot has Ratis replace this whole snapshot directory with what the leader sent. Ratis streams
 * every file of the newest snapshot (chunk mode) and computes their MD5s on the fly.
 */
final class SnapshotDirectory implements StateMachineStorage {
  private static final Pattern NAME = Pattern.compile("snapshot\\.(\\d+)_(\\d+)");

  private volatile Path snapshots;
  private volatile Path tmp;
  private volatile Path staging;
  private volatile FileListSnapshotInfo latest;

  @Override
  public void init(RaftStorage raftStorage) throws IOException {
    Path sm = raftStorage.getStorageDir().getStateMachineDir().toPath();
    snapshots = sm.resolve("snapshots");
    tmp = sm.resolve("tmp");
    staging = sm.resolve("staging");
    OwnerOnly.directory(sm);
    OwnerOnly.directory(snapshots);
    OwnerOnly.directory(tmp);
    OwnerOnly.directory(staging);
    reload();
  }

  /** Rescans the snapshot directory (after a take or an install). */
  void reload() {
    latest = newest().map(SnapshotDirectory::describe).orElse(null);
  }

  @Override
  public SnapshotInfo getLatestSnapshot() {
    return latest;
  }

  /** The directory of the newest snapshot, if any. */
  Optional<Path> latestDirectory() {
    return newest();
  }

  @Override
  public void format() {}

  @Override
  public void cleanupOldSnapshots(SnapshotRetentionPolicy policy) throws IOException {
    int keep = policy == null ? -1 : policy.getNumSnapshotsRetained();
    if (keep <= 0) {
      return;
    }
    List<Path> all = listSnapshots();
    for (int i = 0; i < all.size() - keep; i++) {
      deleteRecursively(all.get(i));
    }
  }

  /**
   * Deletes every snapshot whose index is below {@code index}: after a destruction, older snapshots
   * link table files that still hold the destroyed material.
   */
  void deleteBefore(long index) throws IOException {
    for (Path snapshot : listSnapshots()) {
      if (termIndexOf(snapshot).orElseThrow().getIndex() < index) {
        deleteRecursively(snapshot);
      }
    }
    reload();
  }

  @Override
  public File getSnapshotDir() {
    return snapshots.toFile();
  }

  @Override
  public File getTmpDir() {
    return tmp.toFile();
  }

  /** An empty place to write a checkpoint before it is moved into the snapshot directory. */
  Path stagingDirectory(long index) throws IOException {
    Path dir = staging.resolve("checkpoint-" + index);
    deleteRecursively(dir);
    return dir;
  }

  /** Publishes a staged checkpoint as the snapshot at {@code termIndex}. */
  void publish(Path staged, long term, long index) throws IOException {
    Path target = snapshots.resolve("snapshot." + term + "_" + index);
    deleteRecursively(target);
    Files.move(staged, target, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    reload();
  }

  static Optional<TermIndex> termIndexOf(Path snapshotDirectory) {
    Matcher m = NAME.matcher(snapshotDirectory.getFileName().toString());
    if (!m.matches()) {
      return Optional.empty();
    }
    return Optional.of(TermIndex.valueOf(Long.parseLong(m.group(1)), Long.parseLong(m.group(2))));
  }

  private Optional<Path> newest() {
    List<Path> all = listSnapshots();
    return all.isEmpty() ? Optional.empty() : Optional.of(all.get(all.size() - 1));
  }

  /** Snapshot directories, oldest first. */
  private List<Path> listSnapshots() {
    if (snapshots == null || !Files.isDirectory(snapshots)) {
      return List.of();
    }
    try (Stream<Path> entries = Files.list(snapshots)) {
      List<Path> found = new ArrayList<>();
      entries
          .filter(Files::isDirectory)
          .filter(p -> termIndexOf(p).isPresent())
          .forEach(found::add);
      found.sort(Comparator.comparing(p -> termIndexOf(p).orElseThrow()));
      return found;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list snapshots in " + snapshots, e);
    }
  }

  private static FileListSnapshotInfo describe(Path directory) {
    try (Stream<Path> files = Files.list(directory)) {
      List<FileInfo> infos = new ArrayList<>();
      files
          .filter(Files::isRegularFile)
          .filter(p -> !p.getFileName().toString().endsWith(".md5"))
          .sorted()
          .forEach(p -> infos.add(new FileInfo(p.toAbsolutePath(), null)));
      return new FileListSnapshotInfo(infos, termIndexOf(directory).orElseThrow());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read snapshot " + directory, e);
    }
  }

  static void deleteRecursively(Path path) throws IOException {
    if (!Files.exists(path)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(path)) {
      List<Path> all = new ArrayList<>(walk.toList());
      all.sort(Comparator.reverseOrder());
      for (Path p : all) {
        Files.deleteIfExists(p);
      }
    }
  }
}
