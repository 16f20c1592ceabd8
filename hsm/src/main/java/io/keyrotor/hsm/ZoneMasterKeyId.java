package io.keyrotor.hsm;

import java.util.Comparator;

/**
 * One version of one zone's master key.
 *
 * @param zone the zone name (see {@link ZoneMasterKeys#isValidZone})
 * @param version the master key version, from 1
 */
public record ZoneMasterKeyId(String zone, int version) implements Comparable<ZoneMasterKeyId> {
  private static final Comparator<ZoneMasterKeyId> ORDER =
      Comparator.comparing(ZoneMasterKeyId::zone).thenComparingInt(ZoneMasterKeyId::version);

  public ZoneMasterKeyId {
    if (!ZoneMasterKeys.isValidZone(zone)) {
      throw new IllegalArgumentException("invalid zone name '" + zone + "'");
    }
    if (version < 1) {
      throw new IllegalArgumentException("zone master key versions start at 1");
    }
  }

  @Override
  public int compareTo(ZoneMasterKeyId other) {
    return ORDER.compare(this, other);
  }

  @Override
  public String toString() {
    return zone + "/" + version;
  }
}
