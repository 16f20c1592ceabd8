package io.keyrotor.consensus;

import io.keyrotor.storage.AppliedPosition;
import io.keyrotor.storage.KeyStateStore;
import io.keyrotor.storage.OwnerOnly;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/**
 * Makes a restored state store the first state of a node of a new cluster: the store becomes the
 * node's Raft snapshot ({@code raft/<group>/sm/snapshots/snapshot.<term>_<index>}, a RocksDB
 * checkpoint like every snapshot), so at its first start the node rebuilds its state store from it
 * and Ratis starts the new group's log after the backup's index. Entries of the new cluster
 * therefore never fall at or below an index the restored state already holds (apply would skip them
 * as replays). The snapshot's term is the restored store's, which the restore sets to {@link
 * #TERM}, and the node's Raft metadata starts at that term: the new group's first leader is elected
 * in a later term, so its entries follow the snapshot in term as well as in index.
 */
public final class RestoredState {
  /**
   * The term of a restored snapshot. Not 0: Ratis reads a last entry of term 0 as an empty log and
   * rejects the votes of such peers in a node's first election after startup, so a group whose
   * peers all start from a term-0 snapshot never elects a leader.
   */
  public static final long TERM = 1;

  private RestoredState() {}

  /**
   * Installs {@code restoredStore} (a closed store directory) as the snapshot of the node that
   * {@code config} describes. Refuses a node that already has Raft or state data.
   *
   * @return the applied position the node starts from
   */
  public static AppliedPosition install(ConsensusConfig config, Path restoredStore)
      throws IOException {
    requireEmpty(config.raftDirectory());
    requireEmpty(config.stateDirectory());
    String group = RaftSettings.group(config).getGroupId().getUuid().toString();
    Path snapshots = config.raftDirectory().resolve(group).resolve("sm").resolve("snapshots");
    OwnerOnly.directory(config.dataDirectory());
    OwnerOnly.directory(config.raftDirectory());
    Files.createDirectories(snapshots);
    // A formatted Ratis storage at the snapshot's term, with no vote: Ratis formats, and so
    // empties, a group directory without its metadata file at start, which would drop the
    // snapshot.
    Path current = config.raftDirectory().resolve(group).resolve("current");
    Files.createDirectories(current);
    Files.writeString(current.resolve("raft-meta"), "term=" + TERM + "\nvotedFor=\n");
    OwnerOnly.tree(config.raftDirectory());
    try (KeyStateStore store = KeyStateStore.open(restoredStore)) {
      AppliedPosition position = store.appliedPosition();
      if (position.term() != TERM) {
        throw new IOException(
            "restored store is at term " + position.term() + ", expected " + TERM);
      }
      Path target = snapshots.resolve("snapshot." + position.term() + "_" + position.index());
      store.checkpoint(target);
      return position;
    }
  }

  private static void requireEmpty(Path directory) throws IOException {
    if (!Files.isDirectory(directory)) {
      return;
    }
    try (Stream<Path> entries = Files.list(directory)) {
      if (entries.findAny().isPresent()) {
        throw new IOException(
            directory
                + " already holds data: a restore starts a new cluster, so each node's data"
                + " directory must be empty");
      }
    }
  }
}
