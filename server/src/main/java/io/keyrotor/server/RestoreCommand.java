package io.keyrotor.server;

import io.keyrotor.consensus.ConsensusConfig;
import io.keyrotor.consensus.RestoredState;
import io.keyrotor.crypto.backup.BackupVerifier;
import io.keyrotor.server.config.ConfigException;
import io.keyrotor.server.config.NodeConfig;
import io.keyrotor.storage.AppliedPosition;
import io.keyrotor.storage.StateImport;
import io.keyrotor.storage.StorageException;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code keyrotor-server restore --from FILE --config node.properties}: makes a backup the first
 * state of a node of a new cluster, before the node's first start. The backup is read once: its
 * framing, state digest and signature are checked while its records go into a new state store
 * (under the node's data directory), which is then opened and checked against its digest and audit
 * chain, and installed as the node's Raft snapshot ({@link RestoredState}). Nothing is left behind
 * when any check fails. The backup holds wrapped KEKs only: the node serves them once its HSM holds
 * the zones' master keys, which come through the key ceremonies, never from the backup.
 */
@Command(
    name = "restore",
    description =
        "Install a backup as the first state of a new cluster's node (run before its first start).")
public final class RestoreCommand implements Callable<Integer> {
  @Option(names = "--from", required = true, description = "The backup file.")
  Path from;

  @Option(names = "--config", required = true, description = "The node's properties file.")
  Path config;

  @Override
  public Integer call() throws IOException, InterruptedException {
    NodeConfig node;
    try {
      node = NodeConfig.load(config);
    } catch (ConfigException e) {
      System.err.println("error: " + e.getMessage());
      return 2;
    }
    try {
      AppliedPosition position = restore(from, node);
      System.out.println(
          "node=" + node.nodeId() + " restored_index=" + position.index() + " from=" + from);
      return 0;
    } catch (RestoreException | StorageException e) {
      System.err.println("error: node " + node.nodeId() + ": " + e.getMessage());
      return 4;
    }
  }

  /** A backup that cannot be restored; the message says why. */
  public static final class RestoreException extends IOException {
    private static final long serialVersionUID = 1L;

    RestoreException(String message) {
      super(message);
    }
  }

  /**
   * Restores {@code backup} into {@code node}'s (empty) data directory.
   *
   * @return the applied position the node starts from (the backup's index)
   * @throws RestoreException when the backup is not intact or the node already has data
   */
  public static AppliedPosition restore(Path backup, NodeConfig node)
      throws IOException, InterruptedException {
    ConsensusConfig consensus =
        ConsensusConfig.of(
            node.nodeId(), node.raftPeers(), node.clusterName(), node.dataDirectory());
    Path staging = node.dataDirectory().resolve("restore-staging");
    deleteRecursively(staging);
    try {
      BackupVerifier.Result result;
      try (StateImport store = StateImport.create(staging);
          InputStream in = new BufferedInputStream(Files.newInputStream(backup), 1 << 16)) {
        result =
            new BackupVerifier(List.of())
                .verify(
                    in, entry -> store.put(entry.family(), entry.key(), entry.value()), n -> {});
        if (!result.intact()) {
          throw new RestoreException(
              backup + " cannot be restored: " + String.join("; ", result.problems()));
        }
        store.finish(RestoredState.TERM, 120_000);
      }
      try {
        return RestoredState.install(consensus, staging);
      } catch (IOException e) {
        throw new RestoreException(e.getMessage());
      }
    } finally {
      deleteRecursively(staging);
    }
  }

  private static void deleteRecursively(Path path) throws IOException {
    if (!Files.exists(path)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(path)) {
      for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }
}
