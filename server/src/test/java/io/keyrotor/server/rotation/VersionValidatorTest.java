package io.keyrotor.server.rotation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.keyrotor.hsm.HsmException;
import io.keyrotor.proto.internal.v1.Command;
import io.keyrotor.proto.internal.v1.CreateKey;
import io.keyrotor.proto.internal.v1.NodeRecord;
import io.keyrotor.proto.internal.v1.RegisterNode;
import io.keyrotor.proto.internal.v1.RotateKey;
import io.keyrotor.server.testing.ManualClock;
import io.keyrotor.server.testing.TestHsm;
import io.keyrotor.storage.CommandStamping;
import io.keyrotor.storage.KeyStateStore;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The validation gate on one node (n1) over a real state store and a software HSM, with a manual
 * clock and no periodic timer: the test calls {@code scan()} where the timer would. The "log" is
 * the test applying commands to the store, and proposals apply at once.
 */
class VersionValidatorTest {
  private static final long T0 = 1_700_000_000_000L;

  @TempDir Path directory;
  private final ManualClock clock = new ManualClock(T0);
  private final List<Command> proposed = new CopyOnWriteArrayList<>();
  private KeyStateStore store;
  private TestHsm hsm;
  private ScheduledExecutorService executor;
  private VersionValidator validator;
  private long index;

  @BeforeEach
  void setUp() throws Exception {
    store = KeyStateStore.open(directory.resolve("state"));
    hsm = TestHsm.create(directory, "default");
    executor = Executors.newSingleThreadScheduledExecutor();
    validator =
        new VersionValidator(
            () -> store,
            command -> {
              proposed.add(command);
              apply(command);
              return CompletableFuture.completedFuture(null);
            },
            hsm,
            "n1",
            Set.of("default"),
            clock,
            executor,
            Duration.ofHours(1));
    for (String node : List.of("n1", "n2")) {
      apply(
          Command.newBuilder()
              .setRegisterNode(
                  RegisterNode.newBuilder()
                      .setNode(NodeRecord.newBuilder().setId(node).addZones("default"))));
    }
  }

  @AfterEach
  void tearDown() {
    executor.shutdownNow();
    store.close();
    hsm.close();
  }

  private synchronized void apply(Command.Builder command) {
    apply(command.build());
  }

  private synchronized void apply(Command command) {
    store.apply(CommandStamping.stamp(command, clock.millis()), 1, ++index);
  }

  private void create(String name) throws HsmException {
    apply(
        Command.newBuilder()
            .setRequestId("create:" + name)
            .setCreateKey(
                CreateKey.newBuilder()
                    .setName(name)
                    .setZone("default")
                    .setKek(new KekIssuer(hsm).newWrappedKek("default", name, 1))));
  }

  /** A rotation with a 60 s delay: gated on n1 and n2, validation deadline 48 s from now. */
  private void rotateGated(String name) throws HsmException {
    apply(
        Command.newBuilder()
            .setRequestId("rotate:" + name + ":" + index)
            .setRotateKey(
                RotateKey.newBuilder()
                    .setName(name)
                    .setKek(
                        new KekIssuer(hsm)
                            .newWrappedKek(
                                "default",
                                name,
                                store.key(name).orElseThrow().getVersionsCount() + 1))
                    .setActivationDelayMillis(60_000)));
  }

  private long acknowledgements(String name) {
    return proposed.stream()
        .filter(c -> c.hasAcknowledgeVersion() && c.getAcknowledgeVersion().getName().equals(name))
        .count();
  }

  @Test
  void gatedVersion_acknowledged_thenIdleScansSkipUntilSomethingApplies() throws Exception {
    create("k");
    rotateGated("k");

    validator.scan();
    assertEquals(1, acknowledgements("k"));
    assertEquals(List.of("n1"), store.key("k").get().getVersions(1).getAcknowledgedByList());
    validator.scan(); // the acknowledgement applied since: walks once more, finds nothing
    long walks = validator.fullScans();
    validator.scan();
    validator.scan();
    assertEquals(walks, validator.fullScans(), "nothing applied, nothing waiting: skipped");
    assertEquals(1, acknowledgements("k"));

    // A rotation applied without scanSoon (as if the wake-up were lost) is still validated by the
    // next periodic scan.
    create("k2");
    rotateGated("k2");
    validator.scan();
    assertEquals(walks + 1, validator.fullScans());
    assertEquals(1, acknowledgements("k2"));
  }

  @Test
  void hsmFailure_retriedByLaterScansWithNothingApplied() throws Exception {
    create("k");
    rotateGated("k");
    hsm.available = false;

    validator.scan();
    validator.scan();
    assertEquals(0, acknowledgements("k"));
    assertEquals(2, validator.fullScans(), "a version still waits: the scan is not skipped");

    hsm.available = true;
    validator.scan();
    assertEquals(1, acknowledgements("k"));
  }

  @Test
  void pastItsDeadline_stillWatched_soAClockSteppingBackGetsItValidated() throws Exception {
    create("k");
    rotateGated("k");
    clock.advance(50_000); // past the deadline (48 s): no acknowledgement
    validator.scan();
    validator.scan();
    assertEquals(0, acknowledgements("k"));
    assertEquals(2, validator.fullScans());

    clock.advance(-5_000); // the clock steps back before the deadline, nothing applied
    validator.scan();
    assertEquals(1, acknowledgements("k"));
  }

  @Test
  void scanSoon_alwaysWalks() throws Exception {
    create("k");
    validator.scan();
    validator.scan();
    assertEquals(1, validator.fullScans(), "no gated version: the second scan is skipped");

    validator.scanSoon();
    long deadline = System.nanoTime() + 10_000_000_000L;
    while (validator.fullScans() < 2 && System.nanoTime() < deadline) {
      Thread.sleep(5);
    }
    assertEquals(2, validator.fullScans());
    assertTrue(proposed.isEmpty());
  }
}
