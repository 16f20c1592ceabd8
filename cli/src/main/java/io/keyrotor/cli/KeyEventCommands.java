package io.keyrotor.cli;

import io.keyrotor.api.v1.KeyEvent;
import io.keyrotor.api.v1.ListKeyEventsRequest;
import io.keyrotor.api.v1.WatchKeyEventsRequest;
import io.keyrotor.client.KeyEventListener;
import io.keyrotor.client.KeyEventSubscription;
import io.keyrotor.client.KeyrotorException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code keyrotor key history} and {@code keyrotor key watch}: a key's lifecycle events. */
final class KeyEventCommands {

  private KeyEventCommands() {}

  @Command(
      name = "history",
      description = "Every lifecycle event of a key, oldest first, and who caused it.")
  static final class History implements Runnable {
    @Mixin CommandArguments.KeyName arguments;

    @Option(
        names = "--limit",
        paramLabel = "N",
        description = "At most N events (default: the server's, 1000).")
    int limit;

    @Override
    public void run() {
      if (limit < 0) {
        throw arguments.usageError("invalid --limit " + limit + ": negative");
      }
      KeyrotorCli root = arguments.root();
      String name = arguments.name;
      List<KeyEvent> events =
          root.client()
              .listKeyEvents(
                  ListKeyEventsRequest.newBuilder().setName(name).setLimit(limit).build())
              .getEventsList();
      root.print(JsonOutput.history(name, events), HumanOutput.history(name, events));
    }
  }

  @Command(
      name = "watch",
      description = {
        "Print lifecycle events as they happen, until interrupted (Ctrl-C).",
        "One line per event (one JSON object per line with --json), ending with its cursor;"
            + " --from CURSOR resumes after that event. The stream reconnects by itself when a"
            + " node goes away."
      })
  static final class Watch implements Runnable {
    @Mixin CommandArguments.Invocation invocation;

    @Parameters(
        index = "0..*",
        paramLabel = "NAME",
        description = "Only events of these keys (default: every key).")
    List<String> names = new ArrayList<>();

    @Option(
        names = "--from",
        paramLabel = "CURSOR",
        description =
            "Start after this event's cursor (default: from now; 0: from the oldest event kept).")
    String from;

    @Option(
        names = "--max-events",
        paramLabel = "N",
        converter = Converters.Count.class,
        description = "Stop after N events (default: run until interrupted).")
    Long maxEvents;

    @Override
    public void run() {
      if (maxEvents != null && maxEvents == 0) {
        throw invocation.usageError("invalid --max-events 0: give at least 1");
      }
      KeyrotorCli root = invocation.root();
      WatchKeyEventsRequest.Builder request =
          WatchKeyEventsRequest.newBuilder().addAllKeyNames(names);
      if (from != null) {
        request.setCursor(from);
      }
      CountDownLatch done = new CountDownLatch(1);
      AtomicReference<KeyrotorException> failure = new AtomicReference<>();
      AtomicLong printed = new AtomicLong();
      KeyEventListener listener =
          new KeyEventListener() {
            @Override
            public void onEvent(KeyEvent event) {
              if (maxEvents != null && printed.get() >= maxEvents) {
                return;
              }
              root.print(JsonOutput.event(event), HumanOutput.event(event));
              if (maxEvents != null && printed.incrementAndGet() >= maxEvents) {
                done.countDown();
              }
            }

            @Override
            public void onError(KeyrotorException error) {
              failure.set(error);
              done.countDown();
            }
          };
      KeyEventSubscription subscription = root.client().watchKeyEvents(request.build(), listener);
      try {
        done.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new CliException("interrupted");
      } finally {
        subscription.close();
      }
      if (failure.get() != null) {
        throw failure.get();
      }
    }
  }
}
