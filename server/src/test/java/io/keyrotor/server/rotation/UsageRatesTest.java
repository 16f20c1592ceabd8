package io.keyrotor.server.rotation;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.keyrotor.proto.internal.v1.KeyRecord;
import io.keyrotor.proto.internal.v1.KeyVersionRecord;
import io.keyrotor.proto.internal.v1.VersionStatus;
import org.junit.jupiter.api.Test;

class UsageRatesTest {
  private static final long WINDOW = 60_000;
  private static final long T0 = 1_700_000_000_000L;

  private static KeyRecord key(String name, long encryptions) {
    return KeyRecord.newBuilder()
        .setName(name)
        .addVersions(
            KeyVersionRecord.newBuilder()
                .setVersion(1)
                .setStatus(VersionStatus.VERSION_STATUS_ENABLED)
                .setActivationTimeUnixMillis(T0 - 1)
                .setEncryptions(encryptions))
        .build();
  }

  @Test
  void observe_measuresTheGrowthOverAWindow() {
    UsageRates rates = new UsageRates(WINDOW);

    assertEquals(0, rates.observe(key("hot", 1_000), T0));
    assertEquals(100.0, rates.observe(key("hot", 7_000), T0 + WINDOW), 1e-9);
  }

  @Test
  void keysWithNothingCounted_leaveNothingBehind() {
    UsageRates rates = new UsageRates(WINDOW);

    for (int i = 0; i < 1_000; i++) {
      assertEquals(0, rates.observe(key("idle-" + i, 0), T0));
    }

    assertEquals(0, rates.size());
  }

  @Test
  void measuredKeys_areBoundedAndTheLeastRecentlyObservedForgotten() {
    UsageRates rates = new UsageRates(WINDOW);
    rates.observe(key("hot", 1_000), T0);

    for (int i = 0; i < UsageRates.MAX_KEYS + 5_000; i++) {
      rates.observe(key("used-" + i, 1), T0);
      if (i % 1_000 == 0) {
        rates.observe(key("hot", 1_000), T0); // observed again: kept
      }
    }

    assertEquals(UsageRates.MAX_KEYS, rates.size());
    assertEquals(100.0, rates.observe(key("hot", 7_000), T0 + WINDOW), 1e-9);
    // The first keys were not observed since: forgotten, so their next observation starts afresh.
    assertEquals(0, rates.observe(key("used-0", 6_001), T0 + WINDOW));
  }
}
