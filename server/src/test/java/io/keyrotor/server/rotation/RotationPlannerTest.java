package io.keyrotor.server.rotation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.keyrotor.api.v1.RotationReason;
import io.keyrotor.proto.internal.v1.Command;
import io.keyrotor.proto.internal.v1.KeyRecord;
import io.keyrotor.proto.internal.v1.KeyVersionRecord;
import io.keyrotor.proto.internal.v1.RotateKey;
import io.keyrotor.proto.internal.v1.RotateKeys;
import io.keyrotor.proto.internal.v1.RotationPolicyRecord;
import io.keyrotor.proto.internal.v1.VersionStatus;
import io.keyrotor.proto.internal.v1.WrappedKeyMaterial;
import io.keyrotor.storage.CommandStamping;
import io.keyrotor.storage.KeyVersions;
import io.keyrotor.storage.StateReader;
import io.keyrotor.storage.apply.CommandDispatcher;
import io.keyrotor.storage.apply.Effects;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Every policy, planned at chosen times: a manual clock, no threads, no cluster. */
class RotationPlannerTest {
  private static final long T0 = 1_700_000_000_000L;
  private static final long DAY = 86_400_000L;

  private static KeyVersionRecord version(int n, long activation) {
    return KeyVersionRecord.newBuilder()
        .setVersion(n)
        .setStatus(VersionStatus.VERSION_STATUS_ENABLED)
        .setCreateTimeUnixMillis(activation)
        .setActivationTimeUnixMillis(activation)
        .setActivationRecorded(true)
        .build();
  }

  private static KeyRecord.Builder key(RotationPolicyRecord policy, KeyVersionRecord... versions) {
    return KeyRecord.newBuilder()
        .setName("k")
        .setZone("default")
        .setPolicy(policy)
        .addAllVersions(List.of(versions));
  }

  /** A key of one version whose rotation {@code requester} asked for, due at T0 + 5. */
  private static KeyRecord requested(
      RotationPolicyRecord policy, String requester, RotationReason reason) {
    return key(policy, version(1, T0))
        .setNextRotationTimeUnixMillis(T0 + 5)
        .setRotationRequestedBy(requester)
        .setRotationRequestedReason(reason.getNumber())
        .build();
  }

  private static List<String> purposes(KeyRecord key, long now) {
    return RotationPlanner.housekeeping(key, now).stream()
        .map(RotationPlanner.Housekeeping::purpose)
        .toList();
  }

  @Test
  void schedule_notDueBeforeItsTime_dueAtIt_withThePolicyDelay() {
    RotationPolicyRecord policy =
        RotationPolicyRecord.newBuilder()
            .setRotationPeriodMillis(DAY)
            .setActivationDelayMillis(30_000)
            .build();
    KeyRecord key = key(policy, version(1, T0)).setNextRotationTimeUnixMillis(T0 + DAY).build();

    assertTrue(RotationPlanner.rotationNeeded(key, T0 + DAY - 1, 5_000).isEmpty());
    var need = RotationPlanner.rotationNeeded(key, T0 + DAY, 5_000).orElseThrow();

    assertEquals(RotationReason.ROTATION_REASON_SCHEDULED_VALUE, need.reason());
    assertEquals(30_000, need.activationDelayMillis());
    assertEquals(1, need.expectedLatestVersion(), "compare-and-set on the newest version");
    assertEquals(T0 + DAY, need.dueTimeMillis());
  }

  @Test
  void schedule_withoutAPolicyDelay_usesTheClusterDefault() {
    RotationPolicyRecord policy =
        RotationPolicyRecord.newBuilder()
            .setRotationPeriodMillis(DAY)
            .setActivationDelayMillis(-1)
            .build();
    KeyRecord key = key(policy, version(1, T0)).setNextRotationTimeUnixMillis(T0 + DAY).build();

    assertEquals(
        5_000,
        RotationPlanner.rotationNeeded(key, T0 + DAY, 5_000).orElseThrow().activationDelayMillis());
  }

  @Test
  void dueButAVersionIsPending_waitsForIt() {
    RotationPolicyRecord policy =
        RotationPolicyRecord.newBuilder().setRotationPeriodMillis(DAY).build();
    KeyRecord key =
        key(policy, version(1, T0), version(2, T0 + 2 * DAY))
            .setNextRotationTimeUnixMillis(T0 + DAY)
            .build();

    assertTrue(RotationPlanner.rotationNeeded(key, T0 + DAY + 1, 0).isEmpty());
  }

  @Test
  void usageLimit_reachedOnThePrimary_rotatesWithReasonUsage() {
    RotationPolicyRecord policy =
        RotationPolicyRecord.newBuilder().setMaxEncryptions(1_000).build();
    KeyRecord under = key(policy, version(1, T0).toBuilder().setEncryptions(999).build()).build();
    KeyRecord over = key(policy, version(1, T0).toBuilder().setEncryptions(1_000).build()).build();

    assertTrue(RotationPlanner.rotationNeeded(under, T0 + 1, 0).isEmpty());
    var need = RotationPlanner.rotationNeeded(over, T0 + 1, 0).orElseThrow();
    assertEquals(RotationReason.ROTATION_REASON_USAGE_VALUE, need.reason());
    assertEquals(0, need.dueTimeMillis());
  }

  /**
   * Version 1 active at T0, with {@code reserved} reserved from its first block at {@code first}.
   */
  private static KeyRecord reserved(long maxEncryptions, long activationDelay, long reserved) {
    return key(
            RotationPolicyRecord.newBuilder()
                .setMaxEncryptions(maxEncryptions)
                .setActivationDelayMillis(activationDelay)
                .build(),
            version(1, T0).toBuilder()
                .setReservedEncryptions(reserved)
                .setFirstReservationTimeUnixMillis(T0)
                .build())
        .build();
  }

  @Test
  void usageRotation_proposedAheadOfTheLimit_byTheRateTimesDelayAndLead() {
    // 1,000,000 encryptions over 100 s: 10,000 per second. With a 60 s delay and a 60 s lead the
    // primary must keep 2 x 120 s x 10,000 = 2,400,000 in hand.
    long limit = 10_000_000;
    var lead = new RotationPlanner.UsageForecast(0, 60_000);
    KeyRecord early = reserved(limit, 60_000, 1_000_000);
    KeyRecord near = reserved(limit, 60_000, limit - 2_400_000);

    assertTrue(RotationPlanner.rotationNeeded(early, T0 + 100_000, 0, lead).isEmpty());
    var need = RotationPlanner.rotationNeeded(near, T0 + 760_000, 0, lead).orElseThrow();
    assertEquals(RotationReason.ROTATION_REASON_USAGE_VALUE, need.reason());
    assertEquals(60_000, need.activationDelayMillis());
    // The same count, reached more slowly: the lead covers it, no rotation yet.
    assertTrue(RotationPlanner.rotationNeeded(near, T0 + 100 * DAY, 0, lead).isEmpty());
  }

  @Test
  void usageRotation_aRecentBurstCountsMoreThanTheAverage() {
    long limit = 10_000_000;
    KeyRecord key = reserved(limit, 0, 5_000_000);
    long now = T0 + 10 * DAY; // a low average: about 6 per second

    assertTrue(
        RotationPlanner.rotationNeeded(key, now, 0, new RotationPlanner.UsageForecast(10, 60_000))
            .isEmpty());
    assertTrue(
        RotationPlanner.rotationNeeded(
                key, now, 0, new RotationPlanner.UsageForecast(50_000, 60_000))
            .isPresent(),
        "5,000,000 left last 100 s at 50,000 per second: under twice the 60 s lead");
  }

  @Test
  void usageRotation_withoutAPolicyLimit_isAgainstTheHardLimit() {
    KeyRecord key = reserved(0, 0, (1L << 31) - 1);

    assertTrue(
        RotationPlanner.rotationNeeded(key, T0 + 100 * DAY, 0, RotationPlanner.UsageForecast.NONE)
            .isEmpty());
    KeyRecord exhausted = reserved(0, 0, 1L << 31);
    assertEquals(
        RotationReason.ROTATION_REASON_USAGE_VALUE,
        RotationPlanner.rotationNeeded(exhausted, T0 + 100 * DAY, 0).orElseThrow().reason());
  }

  @Test
  void usageRates_measureTheRecentGrowthOfThePrimarysCount() {
    UsageRates rates = new UsageRates(60_000);
    KeyRecord start = reserved(0, 0, 1_000);

    assertEquals(0, rates.observe(start, T0 + 1_000));
    assertEquals(0, rates.observe(reserved(0, 0, 2_000), T0 + 2_000), "too short to tell");
    assertEquals(100.0, rates.observe(reserved(0, 0, 7_000), T0 + 61_000), 1e-9, "6,000 in 60 s");
    // The next window starts from the newest sample: a burst shows within a window.
    assertEquals(
        (1_000_000 - 1_000) / 90.0, rates.observe(reserved(0, 0, 1_000_000), T0 + 91_000), 1e-6);
  }

  @Test
  void requestedByABulkCompromiseJob_activatesAtOnce() {
    RotationPolicyRecord policy =
        RotationPolicyRecord.newBuilder().setActivationDelayMillis(60_000).build();
    KeyRecord key = requested(policy, "bulk:job", RotationReason.ROTATION_REASON_COMPROMISE);

    var need = RotationPlanner.rotationNeeded(key, T0 + 5, 1_000).orElseThrow();

    assertEquals(RotationReason.ROTATION_REASON_COMPROMISE_VALUE, need.reason());
    assertEquals(0, need.activationDelayMillis());
  }

  @Test
  void requestedByADependency_rotatesWithReasonDependency() {
    KeyRecord key =
        requested(
            RotationPolicyRecord.getDefaultInstance(),
            "root",
            RotationReason.ROTATION_REASON_DEPENDENCY);

    assertEquals(
        RotationReason.ROTATION_REASON_DEPENDENCY_VALUE,
        RotationPlanner.rotationNeeded(key, T0 + 5, 0).orElseThrow().reason());
  }

  @Test
  void decryptGrace_disablesSupersededVersionsOnlyAfterTheGrace() {
    RotationPolicyRecord policy =
        RotationPolicyRecord.newBuilder().setDecryptGraceMillis(DAY).build();
    KeyRecord key = key(policy, version(1, T0), version(2, T0 + DAY)).build();

    assertEquals(List.of(), purposes(key, T0 + 2 * DAY - 1));
    assertEquals(List.of("grace:k:1"), purposes(key, T0 + 2 * DAY));
  }

  @Test
  void zeroGrace_neverDisablesAutomatically() {
    KeyRecord key =
        key(RotationPolicyRecord.getDefaultInstance(), version(1, T0), version(2, T0 + 1)).build();

    assertEquals(List.of(), purposes(key, T0 + 365 * DAY));
  }

  @Test
  void gatedVersionMissingAcknowledgements_cancelledOnlyAfterItsDeadline() {
    KeyVersionRecord pending =
        version(2, T0 + 10_000).toBuilder()
            .setActivationRecorded(false)
            .addAllRequiredAcknowledgers(List.of("n1", "n2", "n3"))
            .addAllAcknowledgedBy(List.of("n1", "n2"))
            .setValidationDeadlineUnixMillis(T0 + 8_000)
            .build();
    KeyRecord key = key(RotationPolicyRecord.getDefaultInstance(), version(1, T0), pending).build();

    assertEquals(List.of(), purposes(key, T0 + 8_000));
    var after = RotationPlanner.housekeeping(key, T0 + 8_001);
    assertEquals(
        List.of("gate:k:2"), after.stream().map(RotationPlanner.Housekeeping::purpose).toList());
    assertTrue(after.get(0).command().getCancelRotation().getReason().contains("[n3]"));
    assertTrue(after.get(0).command().getCancelRotation().getOnlyIfUnvalidated());
  }

  @Test
  void activationPassed_recordedOnce() {
    KeyVersionRecord validated =
        version(2, T0 + 10_000).toBuilder()
            .setActivationRecorded(false)
            .addRequiredAcknowledgers("n1")
            .addAcknowledgedBy("n1")
            .setValidationDeadlineUnixMillis(T0 + 8_000)
            .setValidatedTimeUnixMillis(T0 + 100)
            .build();
    KeyRecord key =
        key(RotationPolicyRecord.getDefaultInstance(), version(1, T0), validated).build();

    assertEquals(List.of(), purposes(key, T0 + 9_999));
    assertEquals(List.of("activation:k:2"), purposes(key, T0 + 10_000));
    KeyRecord recorded =
        key.toBuilder().setVersions(1, validated.toBuilder().setActivationRecorded(true)).build();
    assertEquals(List.of(), purposes(recorded, T0 + 10_001));
  }

  @Test
  void scheduledDestroy_proposedAtItsTime() {
    KeyVersionRecord scheduled =
        version(1, T0).toBuilder()
            .setStatus(VersionStatus.VERSION_STATUS_DESTROY_SCHEDULED)
            .setDestroyTimeUnixMillis(T0 + 30 * DAY)
            .build();
    KeyRecord key =
        key(RotationPolicyRecord.getDefaultInstance(), scheduled, version(2, T0 + 1)).build();

    assertEquals(List.of(), purposes(key, T0 + 30 * DAY - 1));
    assertEquals(List.of("destroy:k:1"), purposes(key, T0 + 30 * DAY));
  }

  /**
   * Regression (chaos suite bug 2): the scheduler notices a rotation due on the leader's clock, the
   * clock steps back 1.5 s (an NTP step, a strobe) before the leader stamps the command, and apply
   * still activates the new version at its due time, not 1.4 s early. The real pipeline without
   * threads: planner, the scheduler's command, the leader's stamping, apply.
   */
  @Test
  void scheduledRotation_leaderClockStepsBackBeforeStamping_activatesAtTheDueTime() {
    RotationPolicyRecord daily =
        RotationPolicyRecord.newBuilder().setRotationPeriodMillis(DAY).build();
    KeyRecord key = key(daily, version(1, T0)).setNextRotationTimeUnixMillis(T0 + DAY).build();
    long due = T0 + DAY;
    long tick = due + 100;
    long stampedAfterTheStep = tick - 1_500;

    var need = RotationPlanner.rotationNeeded(key, tick, 0).orElseThrow();
    RotateKey rotate =
        RotationPlanner.rotation(
            "k",
            need,
            WrappedKeyMaterial.newBuilder()
                .setZone("default")
                .setZoneMasterKeyVersion(1)
                .setMechanism("AES_KEY_WRAP_PAD")
                .setCiphertext(ByteString.copyFromUtf8("wrapped"))
                .build());
    Command command =
        CommandStamping.stamp(
            Command.newBuilder()
                .setRequestId("scheduled:n1:1")
                .setOriginNode("n1")
                .setRotateKeys(RotateKeys.newBuilder().addRotations(rotate))
                .build(),
            stampedAfterTheStep);
    Effects effects =
        new CommandDispatcher(
                StateReader.ofKeys(name -> name.equals("k") ? Optional.of(key) : Optional.empty()))
            .apply(command, 2, command.getProposedTimeUnixMillis());

    assertEquals(due, rotate.getDueTimeUnixMillis());
    assertEquals(
        stampedAfterTheStep, command.getRotateKeys().getRotations(0).getActivationTimeUnixMillis());
    KeyRecord rotated = effects.allKeyWrites().get(0);
    assertEquals(due, rotated.getVersions(1).getActivationTimeUnixMillis());
    assertEquals(1, KeyVersions.primaryVersionAt(rotated, due - 1), "not early");
    assertEquals(2, KeyVersions.primaryVersionAt(rotated, due));
    assertEquals(due + DAY, rotated.getNextRotationTimeUnixMillis());
  }
}
