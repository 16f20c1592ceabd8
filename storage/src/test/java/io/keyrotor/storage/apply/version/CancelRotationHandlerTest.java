package io.keyrotor.storage.apply.version;

import static io.keyrotor.storage.Commands.create;
import static io.keyrotor.storage.Commands.rotate;
import static io.keyrotor.storage.apply.InMemoryState.at;
import static io.keyrotor.storage.apply.InMemoryState.eventTypes;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.rpc.Code;
import io.keyrotor.api.v1.KeyEventType;
import io.keyrotor.api.v1.KeyVersionState;
import io.keyrotor.api.v1.RotationReason;
import io.keyrotor.proto.internal.v1.AcknowledgeVersion;
import io.keyrotor.proto.internal.v1.CancelRotation;
import io.keyrotor.proto.internal.v1.Command;
import io.keyrotor.proto.internal.v1.CreateKey;
import io.keyrotor.proto.internal.v1.KeyRecord;
import io.keyrotor.proto.internal.v1.NodeRecord;
import io.keyrotor.proto.internal.v1.RotationPolicyRecord;
import io.keyrotor.storage.Commands;
import io.keyrotor.storage.KeyVersions;
import io.keyrotor.storage.apply.Effects;
import io.keyrotor.storage.apply.InMemoryState;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** CancelRotation: a missed validation gate, an operator abort, and the schedule afterwards. */
class CancelRotationHandlerTest {
  private static final long T0 = 1_700_000_000_000L;
  private final InMemoryState view = new InMemoryState();
  private final Map<String, KeyRecord> keys = view.keyMap();

  @BeforeEach
  void threeNodesServeTheDefaultZone() {
    for (String id : List.of("n1", "n2", "n3")) {
      view.nodeMap().put(id, NodeRecord.newBuilder().setId(id).addZones("default").build());
    }
  }

  private Effects apply(Command command) {
    return view.apply(command);
  }

  private KeyVersionState state(String name, int version, long time) {
    KeyRecord key = keys.get(name);
    return KeyVersions.stateAt(key, key.getVersions(version - 1), time);
  }

  private Effects ack(long time, String name, int version, String node) {
    return apply(
        at(
            time,
            Command.newBuilder()
                .setAcknowledgeVersion(
                    AcknowledgeVersion.newBuilder()
                        .setName(name)
                        .setVersion(version)
                        .setNode(node))));
  }

  @Test
  void missedValidationDeadline_versionNeverPrimaryAndCancelKeepsPreviousPrimary() {
    apply(create("c", T0, "k"));
    apply(rotate("r", T0, "k", T0 + 10_000, RotationReason.ROTATION_REASON_MANUAL));
    ack(T0 + 100, "k", 2, "n1");
    ack(T0 + 100, "k", 2, "n2");
    ack(T0 + 9_000, "k", 2, "n3"); // after the deadline (T0 + 8000): too late

    assertEquals(1, KeyVersions.primaryVersionAt(keys.get("k"), T0 + 60_000));
    Effects cancelled =
        apply(
            at(
                T0 + 8_001,
                Command.newBuilder()
                    .setCancelRotation(
                        CancelRotation.newBuilder()
                            .setName("k")
                            .setVersion(2)
                            .setOnlyIfUnvalidated(true)
                            .setReason("validation gate: n3 late"))));

    assertEquals(Code.OK_VALUE, cancelled.result().getCode());
    assertEquals(KeyVersionState.KEY_VERSION_STATE_CANCELLED, state("k", 2, T0 + 60_000));
    assertEquals(KeyVersionState.KEY_VERSION_STATE_PRIMARY, state("k", 1, T0 + 60_000));
    assertEquals(List.of(KeyEventType.KEY_EVENT_TYPE_CANCELLED_VALUE), eventTypes(cancelled));
    // A new rotation may start again right away.
    Effects again =
        apply(rotate("r2", T0 + 8_002, "k", T0 + 8_002, RotationReason.ROTATION_REASON_MANUAL));
    assertEquals(3, again.result().getVersion());
  }

  @Test
  void cancelOnlyIfUnvalidated_validatedVersion_refusedAndUnchanged() {
    apply(create("c", T0, "k"));
    apply(rotate("r", T0, "k", T0 + 10_000, RotationReason.ROTATION_REASON_MANUAL));
    for (String node : List.of("n1", "n2", "n3")) {
      ack(T0 + 10, "k", 2, node);
    }

    Effects refused =
        apply(
            at(
                T0 + 8_001,
                Command.newBuilder()
                    .setCancelRotation(
                        CancelRotation.newBuilder()
                            .setName("k")
                            .setVersion(2)
                            .setOnlyIfUnvalidated(true))));

    assertEquals("VERSION_VALIDATED", refused.result().getReason());
    assertEquals(KeyVersionState.KEY_VERSION_STATE_PRIMARY, state("k", 2, T0 + 10_000));
  }

  @Test
  void cancellingAManualRotation_restoresTheSchedule_aFailedScheduledOneRetriesSoon() {
    RotationPolicyRecord daily =
        RotationPolicyRecord.newBuilder().setRotationPeriodMillis(86_400_000L).build();
    apply(
        at(
            T0,
            Command.newBuilder()
                .setCreateKey(
                    CreateKey.newBuilder()
                        .setName("k")
                        .setZone("default")
                        .setKek(Commands.kek("default", "k"))
                        .setPolicy(daily))));
    apply(rotate("manual", T0 + 1_000, "k", T0 + 11_000, RotationReason.ROTATION_REASON_MANUAL));
    Command cancel =
        at(
            T0 + 2_000,
            Command.newBuilder()
                .setCancelRotation(CancelRotation.newBuilder().setName("k").setVersion(2)));
    apply(cancel);
    assertEquals(
        T0 + 86_400_000L, keys.get("k").getNextRotationTimeUnixMillis(), "the original schedule");

    long due = T0 + 86_400_000L;
    apply(rotate("sched", due, "k", due + 10_000, RotationReason.ROTATION_REASON_SCHEDULED));
    apply(
        at(
            due + 8_001,
            Command.newBuilder()
                .setCancelRotation(
                    CancelRotation.newBuilder()
                        .setName("k")
                        .setVersion(3)
                        .setOnlyIfUnvalidated(true))));
    assertEquals(
        due + 8_001 + 60_000, keys.get("k").getNextRotationTimeUnixMillis(), "retried in a minute");
  }
}
