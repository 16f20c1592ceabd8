package io.keyrotor.server.access;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.keyrotor.api.v1.Permission;
import io.keyrotor.proto.internal.v1.Command;
import io.keyrotor.proto.internal.v1.Denial;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/** Denials are coalesced, bounded, counted when dropped, and proposed in bounded batches. */
class DenialRecorderTest {
  private final List<Command> proposed = new ArrayList<>();
  private final DenialRecorder recorder =
      new DenialRecorder(
          "n1",
          command -> {
            proposed.add(command);
            return CompletableFuture.completedFuture(null);
          });

  @Test
  void repeatedDenials_coalescedWithACount_nothingProposedWhenNothingWaits() {
    assertEquals(List.of(), recorder.flush());
    for (int i = 0; i < 5; i++) {
      recorder.record("service", Permission.PERMISSION_DESTROY_VERSIONS, "k", "m");
    }
    recorder.record("other", Permission.PERMISSION_DECRYPT, "k", "m");
    List<Command> commands = recorder.flush();
    assertEquals(commands, proposed);
    assertEquals(1, commands.size());
    Command command = commands.get(0);
    assertEquals("", command.getPrincipal(), "the node proposes it");
    List<Denial> denials = command.getRecordDenials().getDenialsList();
    assertEquals(2, denials.size());
    assertEquals("DESTROY_VERSIONS", denials.get(0).getPermission());
    assertEquals(5, denials.get(0).getCount());
    assertEquals(0, command.getRecordDenials().getDropped());
    assertEquals(List.of(), recorder.flush(), "flushed once");
  }

  @Test
  void manyDistinctDenials_boundedDropsCountedAndBatched() {
    int distinct = DenialRecorder.MAX_PENDING + 50;
    for (int i = 0; i < distinct; i++) {
      recorder.record("p" + i, Permission.PERMISSION_READ_KEYS, "k", "m");
    }
    List<Command> commands = recorder.flush();
    int kept = commands.stream().mapToInt(c -> c.getRecordDenials().getDenialsCount()).sum();
    long dropped = commands.stream().mapToLong(c -> c.getRecordDenials().getDropped()).sum();
    assertEquals(DenialRecorder.MAX_PENDING, kept);
    assertEquals(50, dropped);
    assertTrue(
        commands.stream()
            .allMatch(c -> c.getRecordDenials().getDenialsCount() <= DenialRecorder.BATCH));
    assertEquals(distinct, recorder.recorded());
  }
}
