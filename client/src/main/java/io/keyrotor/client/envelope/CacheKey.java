package io.keyrotor.client.envelope;

import java.util.Arrays;

/** A cache key made of a name and byte strings, compared by content. */
final class CacheKey {

  private final String name;
  private final byte[] first;
  private final byte[] second;
  private final int hash;

  CacheKey(String name, byte[] first, byte[] second) {
    this.name = name;
    this.first = first.clone();
    this.second = second.clone();
    this.hash = 31 * (31 * name.hashCode() + Arrays.hashCode(first)) + Arrays.hashCode(second);
  }

  @Override
  public boolean equals(Object other) {
    return other instanceof CacheKey that
        && hash == that.hash
        && name.equals(that.name)
        && Arrays.equals(first, that.first)
        && Arrays.equals(second, that.second);
  }

  @Override
  public int hashCode() {
    return hash;
  }
}
