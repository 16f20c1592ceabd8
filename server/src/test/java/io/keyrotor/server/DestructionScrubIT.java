package io.keyrotor.server;

import static io.keyrotor.server.testing.ByteSearch.contains;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.keyrotor.api.v1.DestructionReceipt;
import io.keyrotor.api.v1.GetDestructionReceiptRequest;
import io.keyrotor.consensus.testing.Replicas;
import io.keyrotor.proto.internal.v1.AuditRecord;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Destruction that is real, on a 3-node cluster: a destroyed version's wrapped KEK is in the files
 * of every node's data directory before (the scan can see it, in RocksDB table files and in the
 * Raft log), and in no file of any node's data directory once the scrub bound has passed, also on a
 * node that was down during the destruction and catches up after a restart. The destruction leaves
 * the same receipt on every node, placed in the audit chain.
 */
class DestructionScrubIT extends ClusterTestBase {
  /** The configured bound; waits allow a multiple of it, since the machine may be loaded. */
  private static final Duration BOUND = Duration.ofSeconds(20);

  DestructionScrubIT() {
    super(List.of("local"), Map.of("destroy.scrub-within", BOUND.toSeconds() + "s"));
  }

  @Test
  void destroyedKek_leavesEveryFileOfEveryNode_andTheRestartedNodeEndsClean() throws Exception {
    String name = keyWithDisabledFirstVersion("scrubbed");
    cluster.awaitConvergence();
    byte[] wrapped =
        cluster
            .nodes
            .get(cluster.leaderId())
            .raft()
            .state()
            .key(name)
            .orElseThrow()
            .getVersions(0)
            .getKek()
            .getCiphertext()
            .toByteArray();
    assertTrue(wrapped.length >= 32, "a wrapped 32-byte KEK");

    // Before: every node's files hold it, in a RocksDB table file (after a snapshot's flush: the
    // families' compression leaves the random bytes visible) and in the Raft log.
    for (KeyrotorNode node : cluster.nodes.values()) {
      node.raft().takeSnapshot(60_000);
      List<Path> holding = filesHolding(node.config().dataDirectory(), wrapped);
      String id = node.config().nodeId();
      assertTrue(
          holding.stream().anyMatch(p -> p.getFileName().toString().endsWith(".sst")),
          () -> id + ": the scan finds the wrapped KEK in a table file before: " + holding);
      assertTrue(
          holding.stream().anyMatch(p -> p.getFileName().toString().startsWith("log_")),
          () -> id + ": the scan finds the wrapped KEK in the Raft log before: " + holding);
    }

    String down = cluster.followerIds().get(0);
    Path downDirectory = cluster.nodes.get(down).config().dataDirectory();
    cluster.stop(down);
    destroyFirstVersion(name, Duration.ofSeconds(60));

    for (KeyrotorNode node : List.copyOf(cluster.nodes.values())) {
      awaitClean(node.config().nodeId(), node.config().dataDirectory(), wrapped);
    }

    // The node that was down still holds the material in its log and store; it catches up (the
    // others purged their logs, so by their snapshot) and must end clean too.
    assertFalse(filesHolding(downDirectory, wrapped).isEmpty(), "the stopped node still holds it");
    cluster.start(down);
    cluster.awaitConvergence();
    for (KeyrotorNode node : List.copyOf(cluster.nodes.values())) {
      awaitClean(node.config().nodeId(), node.config().dataDirectory(), wrapped);
    }

    // The receipt: the same on every node, naming the audit record of the destruction.
    DestructionReceipt receipt = null;
    for (String id : cluster.nodes.keySet()) {
      DestructionReceipt onNode =
          cluster
              .keys(id)
              .getDestructionReceipt(
                  GetDestructionReceiptRequest.newBuilder().setName(name).setVersion(1).build());
      if (receipt != null) {
        assertEquals(receipt, onNode, "the receipt on " + id);
      }
      receipt = onNode;
    }
    assertEquals(name, receipt.getName());
    assertEquals(1, receipt.getVersion());
    assertEquals("admin", receipt.getScheduledBy());
    AuditRecord audit =
        cluster.nodes.get(cluster.leaderId()).raft().state().audit(receipt.getLogIndex(), 1).get(0);
    assertEquals(receipt.getLogIndex(), audit.getLogIndex());
    assertEquals("DESTROY_VERSION", audit.getAction());
    assertEquals(
        HexFormat.of().formatHex(audit.getHash().toByteArray()), receipt.getAuditRecordHash());

    StatusRuntimeException notDestroyed =
        assertThrows(
            StatusRuntimeException.class,
            () ->
                cluster
                    .keys(cluster.leaderId())
                    .getDestructionReceipt(
                        GetDestructionReceiptRequest.newBuilder()
                            .setName(name)
                            .setVersion(2)
                            .build()));
    assertEquals(Status.Code.FAILED_PRECONDITION, notDestroyed.getStatus().getCode());
    assertEquals("VERSION_NOT_DESTROYED", GrpcErrors.reason(notDestroyed));
  }

  /** Waits (bounded by a multiple of the scrub bound) until no file of the node holds it. */
  private static void awaitClean(String id, Path dataDirectory, byte[] wrapped) {
    AtomicReference<List<Path>> last = new AtomicReference<>(List.of());
    try {
      Replicas.waitUntil(
          () -> {
            last.set(filesHolding(dataDirectory, wrapped));
            return last.get().isEmpty();
          },
          BOUND.multipliedBy(6),
          id + ": no file holds the destroyed KEK");
    } catch (AssertionError e) {
      throw new AssertionError(e.getMessage() + "; last found in " + last.get(), e);
    }
  }

  /** Every regular file under {@code directory} that contains {@code needle}. */
  private static List<Path> filesHolding(Path directory, byte[] needle) {
    List<Path> found = new ArrayList<>();
    try (Stream<Path> walk = Files.walk(directory)) {
      for (Path file : (Iterable<Path>) walk::iterator) {
        try {
          if (Files.isRegularFile(file) && contains(Files.readAllBytes(file), needle)) {
            found.add(file);
          }
        } catch (NoSuchFileException e) {
          // deleted while we looked: it holds nothing any more
        }
      }
    } catch (NoSuchFileException e) {
      return found;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (UncheckedIOException e) {
      if (!(e.getCause() instanceof NoSuchFileException)) {
        throw e;
      }
      return filesHolding(directory, needle); // a directory vanished mid-walk: look again
    }
    return found;
  }
}
