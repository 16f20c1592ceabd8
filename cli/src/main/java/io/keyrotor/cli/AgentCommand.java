package io.keyrotor.cli;

import io.keyrotor.api.v1.KeyEvent;
import io.keyrotor.api.v1.WatchKeyEventsRequest;
import io.keyrotor.cli.agent.AgentMetrics;
import io.keyrotor.cli.agent.AgentServer;
import io.keyrotor.client.KeyEventListener;
import io.keyrotor.client.KeyEventSubscription;
import io.keyrotor.client.KeyrotorClient;
import io.keyrotor.client.KeyrotorException;
import io.keyrotor.client.envelope.CachingDataPlane;
import io.keyrotor.client.envelope.DataKeyCache;
import io.keyrotor.client.envelope.DecryptionKeyCache;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code keyrotor agent}: serves GenerateDataKey, Encrypt, Decrypt and ReEncrypt to the
 * applications of this host on a Unix domain socket, authenticating to the cluster with the agent's
 * own certificate, caching data keys and unwrapped data keys with the SDK's caches, and dropping
 * cached keys when key events say they must go. Runs until interrupted. A stream whose node went
 * away (stopped, unreachable, reset) resumes on another node from its cursor, noted on stderr,
 * while the caches serve within their limits; the agent exits 1 only when the event stream ends for
 * good (a final error such as PERMISSION_DENIED: a cache nobody invalidates is not served).
 */
@Command(
    name = "agent",
    description = {
      "Run a local key agent: the data plane on a Unix socket, with a cache kept current by key"
          + " events.",
      "Applications call keyrotor.v1.KeyService (GenerateDataKey, Encrypt, Decrypt, ReEncrypt) at"
          + " unix:SOCKET; the agent calls the cluster with its own certificate."
    })
final class AgentCommand implements Runnable {
  @Mixin CommandArguments.Invocation invocation;

  @Option(
      names = "--socket",
      required = true,
      paramLabel = "PATH",
      description =
          "The socket to serve on (0600); its directory must be owner-only (0700) or not exist.")
  String socket;

  @Option(
      names = "--max-age",
      paramLabel = "DUR",
      converter = Converters.PositiveDuration.class,
      description = "How long a cached data key or unwrapped key is used (default: 5m).")
  Duration maxAge = Duration.ofMinutes(5);

  @Option(
      names = "--max-stale",
      paramLabel = "DUR",
      converter = Converters.AnyDuration.class,
      description =
          "How much longer an unwrapped key may still decrypt while the cluster cannot be reached"
              + " (default: 0, never).")
  Duration maxStale = Duration.ZERO;

  @Option(
      names = "--max-messages-per-data-key",
      paramLabel = "N",
      converter = Converters.Count.class,
      description = "GenerateDataKey answers per cached data key (default: the SDK's, 2^32).")
  Long maxMessagesPerDataKey;

  @Option(
      names = "--max-data-keys",
      paramLabel = "N",
      description = "Data keys cached at once (default: 100).")
  int maxDataKeys = 100;

  @Option(
      names = "--max-decryption-keys",
      paramLabel = "N",
      description = "Unwrapped data keys cached at once (default: 1000).")
  int maxDecryptionKeys = 1000;

  @Option(
      names = "--metrics-port",
      paramLabel = "PORT",
      description =
          "Serve metrics at http://127.0.0.1:PORT/metrics (0: any free port; default: off).")
  Integer metricsPort;

  @Option(
      names = "--threads",
      paramLabel = "N",
      description = "Threads answering applications (default: 8).")
  int threads = 8;

  @Override
  public void run() {
    if (maxDataKeys < 1 || maxDecryptionKeys < 1 || threads < 1) {
      throw invocation.usageError(
          "--max-data-keys, --max-decryption-keys and --threads must be at least 1");
    }
    KeyrotorCli root = invocation.root();
    KeyrotorClient client = root.client();
    DataKeyCache.Builder dataKeyLimits =
        DataKeyCache.builder().maxAge(maxAge).maxEntries(maxDataKeys);
    if (maxMessagesPerDataKey != null) {
      dataKeyLimits.maxMessagesPerKey(maxMessagesPerDataKey);
    }
    CountDownLatch stopped = new CountDownLatch(1);
    AtomicReference<KeyrotorException> streamFailure = new AtomicReference<>();
    ScheduledExecutorService sweeper =
        Executors.newSingleThreadScheduledExecutor(
            runnable -> {
              Thread thread = new Thread(runnable, "keyrotor-agent-sweeper");
              thread.setDaemon(true);
              return thread;
            });
    try (DataKeyCache dataKeys = dataKeyLimits.build();
        DecryptionKeyCache decryptionKeys =
            DecryptionKeyCache.builder()
                .maxAge(maxAge)
                .maxStale(maxStale)
                .maxEntries(maxDecryptionKeys)
                .build()) {
      CachingDataPlane cache = new CachingDataPlane(client, dataKeys, decryptionKeys);
      // From the oldest event kept ("0"), so no event is missed between the first cached answer
      // and the moment the stream is open; the cache ignores the replayed events of a key that
      // precede its history read before its first cached answer (see CachingDataPlane).
      KeyEventSubscription subscription =
          client.watchKeyEvents(
              WatchKeyEventsRequest.newBuilder().setCursor("0").build(),
              new KeyEventListener() {
                @Override
                public void onEvent(KeyEvent event) {
                  cache.onEvent(event);
                }

                @Override
                public void onInterrupted(KeyrotorException error, String cursor) {
                  cache.onInterrupted(error, cursor);
                  root.note(
                      "agent: the key event stream broke ("
                          + describe(error)
                          + "); resuming after cursor \""
                          + cursor
                          + "\" on the next node that answers, the cache kept");
                }

                @Override
                public void onError(KeyrotorException error) {
                  cache.onError(error);
                  streamFailure.set(error);
                  stopped.countDown();
                }
              });
      var unusedSweep =
          sweeper.scheduleWithFixedDelay(
              () -> {
                dataKeys.evictExpired();
                decryptionKeys.evictExpired();
              },
              1,
              1,
              TimeUnit.SECONDS);
      Path socketPath = root.resolve(socket);
      AgentMetrics metrics = null;
      try (AgentServer server = AgentServer.start(socketPath, client, cache, threads)) {
        if (metricsPort != null) {
          metrics = AgentMetrics.start(metricsPort, cache, subscription::isActive);
        }
        Thread hook = new Thread(stopped::countDown, "keyrotor-agent-stop");
        Runtime.getRuntime().addShutdownHook(hook);
        root.print(
            started(server.socket(), metrics),
            "agent listening on unix:"
                + server.socket()
                + (metrics == null
                    ? ""
                    : " (metrics at http://127.0.0.1:" + metrics.port() + "/metrics)")
                + "\n");
        stopped.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      } catch (IllegalArgumentException | IllegalStateException e) {
        throw new CliException(e.getMessage());
      } finally {
        if (metrics != null) {
          metrics.close();
        }
        subscription.close();
        sweeper.shutdownNow();
      }
    }
    if (streamFailure.get() != null) {
      throw new CliException(
          "the key event stream ended ("
              + describe(streamFailure.get())
              + "), so the cache could no longer be kept current");
    }
  }

  /** {@code CODE REASON from ENDPOINT: message}, what a log line says of a stream's end. */
  private static String describe(KeyrotorException error) {
    return error.code()
        + (error.reason().isEmpty() ? "" : " " + error.reason())
        + (error.endpoint().isEmpty() ? "" : " from " + error.endpoint())
        + ": "
        + error.getMessage();
  }

  /** {@code {"socket","metrics_port"}} ({@code metrics_port} null without --metrics-port). */
  private static com.google.gson.JsonObject started(Path socket, AgentMetrics metrics) {
    com.google.gson.JsonObject json = new com.google.gson.JsonObject();
    json.addProperty("socket", socket.toString());
    json.add(
        "metrics_port",
        metrics == null
            ? com.google.gson.JsonNull.INSTANCE
            : new com.google.gson.JsonPrimitive(metrics.port()));
    return json;
  }
}
