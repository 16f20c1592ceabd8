package io.keyrotor.storage.apply.key;

import static io.keyrotor.storage.CommandBodies.reportUsage;
import static io.keyrotor.storage.CommandBodies.setRotationPolicy;
import static io.keyrotor.storage.CommandBodies.usage;
import static io.keyrotor.storage.apply.InMemoryState.T0;
import static io.keyrotor.storage.apply.InMemoryState.reason;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.rpc.Code;
import io.keyrotor.proto.internal.v1.ReserveEncryptions;
import io.keyrotor.proto.internal.v1.RotationPolicyRecord;
import io.keyrotor.proto.internal.v1.SetVersionStatus;
import io.keyrotor.proto.internal.v1.VersionStatus;
import io.keyrotor.storage.Commands;
import io.keyrotor.storage.EncryptionLimits;
import io.keyrotor.storage.Validation;
import io.keyrotor.storage.apply.Effects;
import io.keyrotor.storage.apply.InMemoryState;
import org.junit.jupiter.api.Test;

/** ReserveEncryptions: blocks granted whole within the version's limit, refused past it. */
class ReserveEncryptionsHandlerTest {
  private final InMemoryState view = new InMemoryState().threeNodesServeTheDefaultZone();

  private static ReserveEncryptions.Builder reserve(String node, int version, long count) {
    return ReserveEncryptions.newBuilder()
        .setNode(node)
        .setName("k")
        .setVersion(version)
        .setCount(count);
  }

  private void limitTo(long maxEncryptions) {
    view.apply(
        T0 + 1,
        setRotationPolicy(
            "k", RotationPolicyRecord.newBuilder().setMaxEncryptions(maxEncryptions)));
  }

  @Test
  void reservations_addUpAndRecordWhenTheFirstWasGranted() {
    view.apply(Commands.create("c", T0, "k"));

    view.apply(T0 + 10, reserve("n1", 1, 100));
    view.apply(T0 + 20, reserve("n2", 1, 50));

    assertEquals(150, view.version("k", 1).getReservedEncryptions());
    assertEquals(T0 + 10, view.version("k", 1).getFirstReservationTimeUnixMillis());
    assertEquals(150, EncryptionLimits.counted(view.version("k", 1)));
  }

  @Test
  void overReservation_refusedWholeWithNothingChanged() {
    view.apply(Commands.create("c", T0, "k"));
    limitTo(100);
    view.apply(T0 + 10, reserve("n1", 1, 60));
    var before = view.key("k");

    Effects refused = view.apply(T0 + 20, reserve("n2", 1, 41));

    assertEquals(Code.RESOURCE_EXHAUSTED_VALUE, refused.result().getCode());
    assertEquals("ENCRYPTION_LIMIT_REACHED", reason(refused));
    assertTrue(refused.allKeyWrites().isEmpty(), "a refusal writes nothing");
    assertEquals(before, view.key("k"));
    // Exactly what is left is granted, and then nothing more.
    assertEquals(Code.OK_VALUE, view.apply(T0 + 30, reserve("n2", 1, 40)).result().getCode());
    assertEquals(100, view.version("k", 1).getReservedEncryptions());
    assertEquals("ENCRYPTION_LIMIT_REACHED", reason(view.apply(T0 + 40, reserve("n3", 1, 1))));
  }

  @Test
  void reportedCounts_ofOlderNodes_countAgainstTheLimitToo() {
    view.apply(Commands.create("c", T0, "k"));
    limitTo(100);
    view.apply(T0 + 5, reportUsage("n1", usage("k", 1, 70)));

    assertEquals("ENCRYPTION_LIMIT_REACHED", reason(view.apply(T0 + 10, reserve("n1", 1, 31))));
    assertEquals("", reason(view.apply(T0 + 20, reserve("n1", 1, 30))));
  }

  @Test
  void aLoweredLimit_appliesToTheCurrentVersionAtOnce() {
    view.apply(Commands.create("c", T0, "k"));
    view.apply(T0 + 10, reserve("n1", 1, 1_000));

    limitTo(500);

    assertEquals(0, EncryptionLimits.remaining(view.key("k"), view.version("k", 1)));
    assertEquals("ENCRYPTION_LIMIT_REACHED", reason(view.apply(T0 + 20, reserve("n1", 1, 1))));
  }

  @Test
  void badCountsAndUnusableVersions_refused() {
    view.createAndRotateOnce("k");
    limitTo(100);

    assertEquals("INVALID_ARGUMENT", reason(view.apply(T0 + 10, reserve("n1", 1, 0))));
    assertEquals("INVALID_ARGUMENT", reason(view.apply(T0 + 11, reserve("n1", 1, 101))));
    assertEquals("VERSION_NOT_FOUND", reason(view.apply(T0 + 12, reserve("n1", 3, 1))));
    view.apply(
        T0 + 13,
        SetVersionStatus.newBuilder()
            .setName("k")
            .setVersion(1)
            .setStatus(VersionStatus.VERSION_STATUS_DISABLED));
    assertEquals("VERSION_DISABLED", reason(view.apply(T0 + 14, reserve("n1", 1, 1))));
    assertEquals(0, view.version("k", 1).getReservedEncryptions());
  }

  @Test
  void theDefaultLimit_isTheHardLimit_andAPolicyMayNotRaiseIt() {
    view.apply(Commands.create("c", T0, "k"));

    assertEquals(1L << 31, EncryptionLimits.limit(view.key("k")));
    assertTrue(
        Validation.checkPolicy(
                RotationPolicyRecord.newBuilder().setMaxEncryptions((1L << 31) + 1).build())
            .isPresent());
    assertTrue(
        Validation.checkPolicy(
                RotationPolicyRecord.newBuilder().setMaxEncryptions(1L << 31).build())
            .isEmpty());
    assertEquals(
        "INVALID_POLICY",
        reason(
            view.apply(
                T0 + 5,
                setRotationPolicy(
                    "k", RotationPolicyRecord.newBuilder().setMaxEncryptions(1L << 32)))));
  }
}
