package io.keyrotor.storage.groupcommit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.keyrotor.proto.internal.v1.Command;
import io.keyrotor.proto.internal.v1.CommandResult;
import io.keyrotor.storage.schema.StoredMeta.BatchProgress;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/**
 * The order a batch entry's commands are applied in, the progress written with each, and where a
 * replay resumes.
 */
class BatchEntryStagingTest {
  private final List<String> applied = new ArrayList<>();
  private final List<BatchProgress> progressWritten = new ArrayList<>();
  private final List<String> replayed = new ArrayList<>();

  private static List<Command> commands(int count) {
    return IntStream.range(0, count)
        .mapToObj(i -> Command.newBuilder().setRequestId("r" + i).build())
        .toList();
  }

  private CommandResult run(
      BatchEntryStaging staging, List<Command> commands, long index, boolean replay) {
    return staging.apply(
        commands,
        index,
        replay,
        (command, position, progressOrNull) -> {
          assertEquals(command, commands.get(position));
          applied.add(command.getRequestId());
          progressWritten.add(progressOrNull);
          staging.committed(progressOrNull);
          return CommandResult.newBuilder().setDeduplicated(false).build();
        },
        command -> {
          replayed.add(command.getRequestId());
          return CommandResult.newBuilder().setDeduplicated(true).build();
        });
  }

  @Test
  void freshEntry_everyCommandInOrder_progressWithAllButTheLast() {
    CommandResult result = run(new BatchEntryStaging(), commands(3), 7, false);
    assertEquals(List.of("r0", "r1", "r2"), applied);
    assertEquals(
        Arrays.asList(new BatchProgress(7, 1), new BatchProgress(7, 2), null), progressWritten);
    assertEquals(3, result.getBatchResultsCount());
    assertEquals(List.of(), replayed);
  }

  @Test
  void interruptedEntry_replayResumesAfterTheLastCommandWritten() {
    BatchEntryStaging staging = new BatchEntryStaging();
    staging.committed(new BatchProgress(7, 2));
    CommandResult result = run(staging, commands(4), 7, false);
    assertEquals(List.of("r0", "r1"), replayed);
    assertEquals(List.of("r2", "r3"), applied);
    assertEquals(Arrays.asList(new BatchProgress(7, 3), null), progressWritten);
    assertEquals(4, result.getBatchResultsCount());
    assertTrue(result.getBatchResults(1).getDeduplicated());
    assertFalse(result.getBatchResults(2).getDeduplicated());
  }

  @Test
  void progressOfAnotherEntry_ignored() {
    BatchEntryStaging staging = new BatchEntryStaging();
    staging.committed(new BatchProgress(6, 1));
    run(staging, commands(2), 7, false);
    assertEquals(List.of("r0", "r1"), applied);
    assertEquals(List.of(), replayed);
  }

  @Test
  void wholeEntryAtOrBelowTheAppliedPosition_everyCommandAnsweredAsReplayed() {
    run(new BatchEntryStaging(), commands(3), 7, true);
    assertEquals(List.of(), applied);
    assertEquals(List.of("r0", "r1", "r2"), replayed);
  }
}
