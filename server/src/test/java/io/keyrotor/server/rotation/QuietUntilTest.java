package io.keyrotor.server.rotation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.keyrotor.proto.internal.v1.KeyRecord;
import io.keyrotor.proto.internal.v1.KeyVersionRecord;
import io.keyrotor.proto.internal.v1.RotationPolicyRecord;
import io.keyrotor.proto.internal.v1.VersionStatus;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * {@link RotationPlanner#quietUntil}: the scheduler skips a key that needed nothing until that
 * time, so the planner's answers must not change before it. Checked on random key records at every
 * millisecond of a short timeline.
 */
class QuietUntilTest {
  private static final long T0 = 1_700_000_000_000L;
  private static final long SPAN = 120;
  private static final long DEFAULT_DELAY = 0;

  private static long timeOrZero(SplittableRandom random) {
    return random.nextInt(4) == 0 ? 0 : T0 + random.nextLong(SPAN);
  }

  private static KeyRecord randomKey(SplittableRandom random) {
    VersionStatus[] statuses = {
      VersionStatus.VERSION_STATUS_ENABLED,
      VersionStatus.VERSION_STATUS_ENABLED,
      VersionStatus.VERSION_STATUS_DISABLED,
      VersionStatus.VERSION_STATUS_DESTROY_SCHEDULED,
      VersionStatus.VERSION_STATUS_CANCELLED
    };
    KeyRecord.Builder key =
        KeyRecord.newBuilder()
            .setName("k")
            .setZone("default")
            .setNextRotationTimeUnixMillis(timeOrZero(random))
            .setPolicy(
                RotationPolicyRecord.newBuilder()
                    .setDecryptGraceMillis(random.nextBoolean() ? 0 : 1 + random.nextLong(40))
                    .setMaxEncryptions(random.nextBoolean() ? 0 : 10)
                    .setActivationDelayMillis(-1));
    int versions = 1 + random.nextInt(4);
    long activation = T0 - 20;
    for (int v = 1; v <= versions; v++) {
      activation += random.nextLong(40);
      KeyVersionRecord.Builder version =
          KeyVersionRecord.newBuilder()
              .setVersion(v)
              .setStatus(statuses[random.nextInt(statuses.length)])
              .setCreateTimeUnixMillis(activation - random.nextLong(10))
              .setActivationTimeUnixMillis(activation)
              .setActivationRecorded(random.nextBoolean())
              .setEncryptions(random.nextInt(12));
      if (version.getStatus() == VersionStatus.VERSION_STATUS_DESTROY_SCHEDULED) {
        version.setDestroyTimeUnixMillis(T0 + random.nextLong(SPAN));
      }
      if (random.nextInt(3) == 0) {
        version.setValidationDeadlineUnixMillis(activation - random.nextLong(5));
        version.addRequiredAcknowledgers("n1").addRequiredAcknowledgers("n2");
        if (random.nextBoolean()) {
          version
              .addAcknowledgedBy("n1")
              .addAcknowledgedBy("n2")
              .setValidatedTimeUnixMillis(activation - random.nextLong(15));
        }
      }
      if (random.nextInt(5) == 0) {
        version.setDemotedTimeUnixMillis(T0 + random.nextLong(SPAN));
      }
      key.addVersions(version);
    }
    return key.build();
  }

  private static boolean needsNothing(KeyRecord key, long now) {
    return RotationPlanner.housekeeping(key, now).isEmpty()
        && RotationPlanner.rotationNeeded(key, now, DEFAULT_DELAY).isEmpty();
  }

  @Test
  void aKeyThatNeedsNothing_needsNothingUntilItsQuietTime() {
    SplittableRandom random = new SplittableRandom(20261123);
    int quietChecked = 0;
    int endedByATime = 0;
    for (int trial = 0; trial < 3_000; trial++) {
      KeyRecord key = randomKey(random);
      long now = T0 - 30 + random.nextLong(SPAN + 40);
      if (!needsNothing(key, now)) {
        continue;
      }
      long until = RotationPlanner.quietUntil(key, now);
      assertTrue(until > now, "a quiet time lies after now");
      long last = Math.min(until, T0 + SPAN + 100);
      for (long t = now; t < last; t++) {
        assertTrue(
            needsNothing(key, t),
            "needed something at "
                + (t - T0)
                + " before its quiet time "
                + (until - T0)
                + " (now "
                + (now - T0)
                + "): "
                + key);
      }
      quietChecked++;
      if (until != Long.MAX_VALUE && until < T0 + SPAN + 100 && !needsNothing(key, until)) {
        endedByATime++;
      }
    }
    assertTrue(quietChecked > 300, "enough quiet keys were checked: " + quietChecked);
    assertTrue(endedByATime > 20, "some quiet times end with work to do: " + endedByATime);
  }

  @Test
  void noRecordedTimeAhead_quietForever() {
    KeyRecord key =
        KeyRecord.newBuilder()
            .setName("k")
            .addVersions(
                KeyVersionRecord.newBuilder()
                    .setVersion(1)
                    .setStatus(VersionStatus.VERSION_STATUS_ENABLED)
                    .setCreateTimeUnixMillis(T0)
                    .setActivationTimeUnixMillis(T0)
                    .setActivationRecorded(true))
            .build();
    assertTrue(needsNothing(key, T0 + 5));
    assertEquals(Long.MAX_VALUE, RotationPlanner.quietUntil(key, T0 + 5));
    assertEquals(T0, RotationPlanner.quietUntil(key, T0 - 5), "the activation is still ahead");
  }
}
