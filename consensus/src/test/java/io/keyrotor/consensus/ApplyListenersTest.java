package io.keyrotor.consensus;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.keyrotor.proto.internal.v1.Command;
import io.keyrotor.proto.internal.v1.CommandResult;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

class ApplyListenersTest {
  private final ListAppender<ILoggingEvent> logged = new ListAppender<>();
  private final Logger logger = (Logger) LoggerFactory.getLogger(ApplyListeners.class);

  @BeforeEach
  void captureLog() {
    logged.start();
    logger.addAppender(logged);
  }

  @AfterEach
  void releaseLog() {
    logger.detachAppender(logged);
  }

  private static final Command COMMAND =
      Command.newBuilder()
          .setRequestId("r1")
          .setCreateKey(
              io.keyrotor.proto.internal.v1.CreateKey.newBuilder()
                  .setName("k")
                  .setKek(TestCluster.kek("distinctive-wrapped-bytes")))
          .build();

  @Test
  void applied_firstListenerThrowsEveryTime_secondSeesEveryIndexAndFailuresAreCounted() {
    List<Long> seen = new ArrayList<>();
    ApplyListeners listeners =
        new ApplyListeners(
            List.of(
                (command, result, index, nanos) -> {
                  throw new IllegalStateException("listener broke at " + index);
                },
                (command, result, index, nanos) -> seen.add(index)));

    for (long index = 1; index <= 2_500; index++) {
      listeners.applied(COMMAND, CommandResult.getDefaultInstance(), index, 1);
    }

    assertEquals(LongStream.rangeClosed(1, 2_500).boxed().toList(), seen);
    assertEquals(2_500, listeners.failures());
    assertEquals(2_500, listeners.failures(0));
    assertEquals(0, listeners.failures(1));
  }

  @Test
  void applied_listenersCalledInOrder_eachOnceAfterAFailureOfAnother() {
    List<String> calls = new ArrayList<>();
    ApplyListeners listeners =
        new ApplyListeners(
            List.of(
                (command, result, index, nanos) -> calls.add("first"),
                (command, result, index, nanos) -> {
                  calls.add("second");
                  throw new IllegalArgumentException("second broke");
                },
                (command, result, index, nanos) -> calls.add("third")));

    listeners.applied(COMMAND, CommandResult.getDefaultInstance(), 7, 1);

    assertEquals(List.of("first", "second", "third"), calls);
    assertEquals(1, listeners.failures());
  }

  @Test
  void failures_loggedOnTheFirstThenOnceEveryThousand_withoutTheCommand() {
    ApplyListeners listeners =
        new ApplyListeners(
            List.of(
                (command, result, index, nanos) -> {
                  throw new IllegalStateException("broken");
                }));

    for (long index = 1; index <= 2_500; index++) {
      listeners.applied(COMMAND, CommandResult.getDefaultInstance(), index, 1);
    }

    List<String> lines = logged.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
    assertEquals(3, lines.size(), "failures 1, 1000 and 2000: " + lines);
    assertTrue(lines.get(0).contains("failed at index 1;"), lines.get(0));
    assertTrue(lines.get(0).contains(ApplyListenersTest.class.getName()), lines.get(0));
    for (ILoggingEvent event : logged.list) {
      assertFalse(event.getFormattedMessage().contains("distinctive-wrapped-bytes"));
      assertFalse(event.getFormattedMessage().contains("create_key"));
    }
  }
}
