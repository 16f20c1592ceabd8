package io.keyrotor.server.access;

import io.keyrotor.api.v1.Permission;
import io.keyrotor.proto.internal.v1.Command;
import io.keyrotor.proto.internal.v1.Denial;
import io.keyrotor.proto.internal.v1.RecordDenials;
import io.keyrotor.storage.access.AccessPolicy;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes the calls this node refused into the audit chain, without letting callers grow anything
 * without bound: denials are coalesced by (principal, permission, key, method) with a count, at
 * most {@value #MAX_PENDING} distinct ones wait, and what does not fit is counted as dropped. A
 * periodic {@link #flush} proposes what waits as {@code RecordDenials} commands of at most {@value
 * #BATCH} denials each (no principal: the node proposes them).
 */
public final class DenialRecorder {
  /** Most distinct denials waiting for the next flush. */
  public static final int MAX_PENDING = 1_024;

  /** Most denials per RecordDenials command. */
  public static final int BATCH = 100;

  /** Longest principal or key name recorded; longer ones are cut. */
  static final int MAX_NAME = 256;

  private static final Logger LOG = LoggerFactory.getLogger(DenialRecorder.class);

  private record Key(String principal, String permission, String keyName, String method) {}

  private final String nodeId;
  private final Function<Command, CompletableFuture<?>> proposer;
  private final AtomicLong recorded = new AtomicLong();
  private Map<Key, long[]> pending = new LinkedHashMap<>();
  private long dropped;

  /**
   * @param proposer proposes a command through the Raft log
   */
  public DenialRecorder(String nodeId, Function<Command, CompletableFuture<?>> proposer) {
    this.nodeId = nodeId;
    this.proposer = proposer;
  }

  /** Notes a refused call; never blocks on the log. */
  public void record(String principal, Permission permission, String keyName, String method) {
    recorded.incrementAndGet();
    Key key =
        new Key(cut(principal), AccessPolicy.permissionName(permission), cut(keyName), method);
    synchronized (this) {
      long[] count = pending.get(key);
      if (count != null) {
        count[0]++;
      } else if (pending.size() < MAX_PENDING) {
        pending.put(key, new long[] {1});
      } else {
        dropped++;
      }
    }
  }

  /** Denials noted since this node started. */
  public long recorded() {
    return recorded.get();
  }

  /** Proposes what waits; returns the commands proposed (empty when nothing waits). */
  public List<Command> flush() {
    Map<Key, long[]> batch;
    long droppedNow;
    synchronized (this) {
      if (pending.isEmpty() && dropped == 0) {
        return List.of();
      }
      batch = pending;
      droppedNow = dropped;
      pending = new LinkedHashMap<>();
      dropped = 0;
    }
    List<Command> commands = new ArrayList<>();
    RecordDenials.Builder body = RecordDenials.newBuilder().setDropped(droppedNow);
    for (Map.Entry<Key, long[]> e : batch.entrySet()) {
      if (body.getDenialsCount() == BATCH) {
        commands.add(command(body));
        body = RecordDenials.newBuilder();
      }
      Key k = e.getKey();
      body.addDenials(
          Denial.newBuilder()
              .setPrincipal(k.principal())
              .setPermission(k.permission())
              .setKeyName(k.keyName())
              .setMethod(k.method())
              .setCount(e.getValue()[0]));
    }
    commands.add(command(body));
    for (Command command : commands) {
      // Best effort: a denial record that cannot be proposed (no leader) is logged, not retried.
      var unused =
          proposer
              .apply(command)
              .whenComplete(
                  (result, failure) -> {
                    if (failure != null) {
                      LOG.warn(
                          "Could not record {} denials in the audit chain: {}",
                          command.getRecordDenials().getDenialsCount(),
                          failure.toString());
                    }
                  });
    }
    return commands;
  }

  private Command command(RecordDenials.Builder body) {
    return Command.newBuilder()
        .setRequestId("denials-" + nodeId + "-" + UUID.randomUUID())
        .setOriginNode(nodeId)
        .setRecordDenials(body)
        .build();
  }

  private static String cut(String s) {
    return s.length() <= MAX_NAME ? s : s.substring(0, MAX_NAME) + "...";
  }
}
