package io.keyrotor.chaos;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.keyrotor.api.v1.ClusterStatus;
import io.keyrotor.api.v1.KeyEvent;
import io.keyrotor.api.v1.NodeRole;
import io.keyrotor.api.v1.NodeStatus;
import io.keyrotor.client.KeyrotorClient;
import io.nats.client.Connection;
import io.nats.client.Dispatcher;
import io.nats.client.Nats;
import io.nats.client.Options;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code keyrotor events publish} against a real 3-node cluster and Debian's {@code nats-server}
 * with JetStream, on loopback: the publisher is SIGKILLed while events keep coming, restarted from
 * its cursor file, and the cluster's leader is killed while it runs. A consumer on the subject that
 * drops repeats by the {@code Keyrotor-Cursor} header sees every event of the cluster exactly once
 * and in log order; the JetStream stream holds each event once.
 */
class NatsEventPublisherIT {
  private static final String SUBJECT = "keyrotor.events";
  private static final String STREAM = "KEYROTOR_EVENTS";

  @TempDir Path work;
  private ScriptedCluster cluster;
  private Process natsServer;

  @AfterEach
  void stop() throws Exception {
    if (cluster != null) {
      cluster.close();
    }
    if (natsServer != null) {
      natsServer.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
    }
  }

  private int startNats() throws Exception {
    int port = LocalPorts.freeBasePort(1);
    natsServer =
        new ProcessBuilder(
                "nats-server",
                "-js",
                "-a",
                "127.0.0.1",
                "-p",
                String.valueOf(port),
                "-sd",
                work.resolve("jetstream").toString())
            .redirectErrorStream(true)
            .redirectOutput(work.resolve("nats.log").toFile())
            .start();
    ScriptedCluster.await(
        Duration.ofMinutes(1),
        "nats-server listening: " + ScriptedCluster.read(work.resolve("nats.log")),
        () -> {
          try {
            new Socket(java.net.InetAddress.getLoopbackAddress(), port).close();
            return true;
          } catch (java.io.IOException e) {
            return false;
          }
        });
    return port;
  }

  private static long[] position(String cursor) {
    int dot = cursor.indexOf('.');
    return new long[] {
      Long.parseLong(cursor.substring(0, dot)), Long.parseLong(cursor.substring(dot + 1))
    };
  }

  private static int compare(String a, String b) {
    long[] x = position(a);
    long[] y = position(b);
    return x[0] != y[0] ? Long.compare(x[0], y[0]) : Long.compare(x[1], y[1]);
  }

  @Test
  void publisherKilledAndRestarted_consumerSeesEveryEventOnceInOrder() throws Exception {
    int port = startNats();
    String url = "nats://127.0.0.1:" + port;
    cluster = ScriptedCluster.up(work);
    Path cursorFile = work.resolve("publisher/cursor");
    String[] publish = {
      "events",
      "publish",
      "--nats",
      url,
      "--subject",
      SUBJECT,
      "--stream",
      STREAM,
      "--cursor-file",
      cursorFile.toString()
    };

    List<String> received = new CopyOnWriteArrayList<>(); // every delivery, repeats included
    Connection consumer = Nats.connect(new Options.Builder().server(url).build());
    try (KeyrotorClient admin = cluster.client("admin")) {
      Dispatcher dispatcher =
          consumer.createDispatcher(
              message -> received.add(message.getHeaders().getFirst("Keyrotor-Cursor")));
      dispatcher.subscribe(SUBJECT);
      consumer.flush(Duration.ofSeconds(10));

      List<String> keys = new ArrayList<>();
      for (int i = 0; i < 5; i++) {
        keys.add("pub-" + i);
        admin.createKey("pub-" + i);
        admin.rotateKey("pub-" + i);
      }
      Process first = cluster.keyrotor(work.resolve("publisher-1.log"), publish);
      ScriptedCluster.await(
          Duration.ofMinutes(3),
          "the first publisher delivered events: "
              + ScriptedCluster.read(work.resolve("publisher-1.log")),
          () -> received.size() >= 3);
      first.destroyForcibly().waitFor(30, TimeUnit.SECONDS); // SIGKILL, mid-stream

      // Events while no publisher runs, then a new one from the cursor file.
      for (int i = 5; i < 10; i++) {
        keys.add("pub-" + i);
        admin.createKey("pub-" + i);
        admin.rotateKey("pub-" + i);
      }
      assertTrue(Files.exists(cursorFile), "a cursor was recorded after the broker's acks");
      cluster.keyrotor(work.resolve("publisher-2.log"), publish);

      // The cluster's leader goes away while the second publisher runs; writes go on.
      cluster.kill(leaderOf(admin.clusterStatus()));
      for (int i = 10; i < 15; i++) {
        keys.add("pub-" + i);
        admin.createKey("pub-" + i);
        admin.rotateKey("pub-" + i);
      }

      // Every event of the cluster, from its own log.
      Set<String> expected = new LinkedHashSet<>();
      for (String key : keys) {
        for (KeyEvent event : admin.listKeyEvents(key).getEventsList()) {
          expected.add(event.getCursor());
        }
      }
      ScriptedCluster.await(
          Duration.ofMinutes(3),
          "every event published: " + ScriptedCluster.read(work.resolve("publisher-2.log")),
          () -> new LinkedHashSet<>(received).containsAll(expected));

      // The consumer's dedup: first delivery of each cursor, in arrival order.
      List<String> deduplicated = new ArrayList<>(new LinkedHashSet<>(received));
      assertEquals(expected, Set.copyOf(deduplicated.stream().filter(expected::contains).toList()));
      for (int i = 1; i < deduplicated.size(); i++) {
        assertTrue(
            compare(deduplicated.get(i - 1), deduplicated.get(i)) < 0,
            "log order: " + deduplicated.get(i - 1) + " then " + deduplicated.get(i));
      }
      long stored =
          consumer.jetStreamManagement().getStreamInfo(STREAM).getStreamState().getMsgCount();
      assertEquals(deduplicated.size(), stored, "JetStream holds each event once");
      System.out.printf(
          "NatsEventPublisherIT: %d events, %d deliveries (%d repeats dropped by the consumer)%n",
          deduplicated.size(), received.size(), received.size() - deduplicated.size());
    } finally {
      consumer.close();
    }
  }

  private static String leaderOf(ClusterStatus status) {
    for (NodeStatus node : status.getNodesList()) {
      if (node.getRole() == NodeRole.NODE_ROLE_LEADER) {
        return node.getId();
      }
    }
    throw new AssertionError("no leader in " + status);
  }
}
