package io.keyrotor.cli;

import io.keyrotor.api.v1.KeyEvent;
import io.keyrotor.api.v1.WatchKeyEventsRequest;
import io.keyrotor.cli.events.NatsEventPublisher;
import io.keyrotor.client.KeyEventListener;
import io.keyrotor.client.KeyEventSubscription;
import io.keyrotor.client.KeyrotorException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code keyrotor events ...}: key events carried to other systems. */
@Command(
    name = "events",
    description = "Carry key lifecycle events to other systems.",
    subcommands = {EventsCommand.Publish.class})
final class EventsCommand extends CommandArguments.Group {

  @Command(
      name = "publish",
      description = {
        "Publish key events to a NATS subject, in log order, at least once, until interrupted.",
        "Each event's cursor is written to --cursor-file after the broker acknowledged it, and a"
            + " restarted publisher resumes after it; consumers drop repeats by the"
            + " Keyrotor-Cursor header."
      })
  static final class Publish implements Runnable {
    @Mixin CommandArguments.Invocation invocation;

    @Option(names = "--nats", required = true, paramLabel = "URL", description = "nats://host:port")
    String url;

    @Option(names = "--subject", required = true, paramLabel = "SUBJECT", description = "Where.")
    String subject;

    @Option(
        names = "--stream",
        paramLabel = "NAME",
        description =
            "Publish through JetStream into this stream (created on SUBJECT if absent) and wait"
                + " for its acks; without it, core NATS with a flush per event.")
    String stream;

    @Option(
        names = "--cursor-file",
        required = true,
        paramLabel = "FILE",
        description = "Where the last acknowledged event's cursor is kept.")
    String cursorFile;

    @Option(
        names = "--from",
        paramLabel = "CURSOR",
        description =
            "Where to start when the cursor file has none (default 0: the oldest event kept).")
    String from = "0";

    @Option(
        names = "--key-name",
        paramLabel = "NAME",
        description = "Only events of this key; repeat for several (default: every key).")
    List<String> keys = new ArrayList<>();

    @Option(
        names = "--ack-timeout",
        paramLabel = "DUR",
        converter = Converters.PositiveDuration.class,
        description = "How long to wait for the broker's acknowledgement (default: 10s).")
    Duration ackTimeout = Duration.ofSeconds(10);

    @Option(
        names = "--max-events",
        paramLabel = "N",
        converter = Converters.Count.class,
        description = "Stop after publishing N events (default: run until interrupted).")
    Long maxEvents;

    @Override
    public void run() {
      KeyrotorCli root = invocation.root();
      Path cursors = root.resolve(cursorFile);
      CountDownLatch done = new CountDownLatch(1);
      AtomicReference<Exception> failure = new AtomicReference<>();
      AtomicLong published = new AtomicLong();
      try (NatsEventPublisher publisher =
          NatsEventPublisher.connect(url, subject, stream, cursors, ackTimeout)) {
        String recorded = NatsEventPublisher.readCursor(cursors);
        WatchKeyEventsRequest request =
            WatchKeyEventsRequest.newBuilder()
                .addAllKeyNames(keys)
                .setCursor(recorded == null ? from : recorded)
                .build();
        KeyEventListener listener =
            new KeyEventListener() {
              @Override
              public void onEvent(KeyEvent event) {
                if (done.getCount() == 0) {
                  return;
                }
                try {
                  publisher.publish(
                      event.getCursor(),
                      JsonOutput.eventName(event.getType()),
                      event.getKeyName(),
                      JsonOutput.render(JsonOutput.event(event)).getBytes(StandardCharsets.UTF_8));
                } catch (IOException e) {
                  failure.set(e);
                  done.countDown();
                  return;
                } catch (InterruptedException e) {
                  Thread.currentThread().interrupt();
                  done.countDown();
                  return;
                }
                if (maxEvents != null && published.incrementAndGet() >= maxEvents) {
                  done.countDown();
                }
              }

              @Override
              public void onError(KeyrotorException error) {
                failure.set(error);
                done.countDown();
              }
            };
        Thread hook = new Thread(done::countDown, "keyrotor-events-stop");
        Runtime.getRuntime().addShutdownHook(hook);
        KeyEventSubscription subscription = root.client().watchKeyEvents(request, listener);
        try {
          done.await();
        } finally {
          subscription.close();
        }
      } catch (IOException e) {
        throw new CliException("NATS at " + url + ": " + e.getMessage());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new CliException("interrupted");
      }
      Exception error = failure.get();
      if (error instanceof KeyrotorException keyrotor) {
        throw keyrotor;
      }
      if (error != null) {
        throw new CliException(
            "NATS at "
                + url
                + ": "
                + error.getMessage()
                + "; the event was not recorded and is sent again on the next start");
      }
    }
  }
}
