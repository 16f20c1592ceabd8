package io.keyrotor.server.rotation;

import io.keyrotor.proto.internal.v1.KeyRecord;
import io.keyrotor.storage.EncryptionLimits;
import io.keyrotor.storage.KeyVersions;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The recent rate at which each key's primary version uses up its encryptions, as the scheduler
 * sees the replicated count grow: over the last one to two windows, so a key whose traffic just
 * rose is rotated on its new rate, not on its long average. Two samples per key, kept only for keys
 * whose primary has encryptions counted, and for at most {@link #MAX_KEYS} of them (the least
 * recently observed forgotten first), so the heap does not grow with the keyspace; the scheduler's
 * thread only. A new leader, or a key forgotten, measures afresh; until a window has passed the
 * planner uses the replicated average alone.
 */
final class UsageRates {
  /** One minute. */
  static final long DEFAULT_WINDOW_MILLIS = 60_000;

  /** The most keys measured at once: about 250 bytes of heap each. */
  static final int MAX_KEYS = 20_000;

  private record Sample(int version, long timeMillis, long counted) {}

  private record Window(Sample older, Sample newer) {}

  private final long windowMillis;
  // In access order: the first entry is the least recently observed.
  private final Map<String, Window> windows = new LinkedHashMap<>(16, 0.75f, true);

  UsageRates(long windowMillis) {
    this.windowMillis = windowMillis;
  }

  /**
   * Notes {@code key}'s primary count at {@code now}; the encryptions per second it grew by over
   * the last one to two windows (0 until a quarter of a window has passed under the same primary).
   */
  double observe(KeyRecord key, long now) {
    int primary = KeyVersions.primaryVersionAt(key, now);
    if (primary == 0) {
      windows.remove(key.getName());
      return 0;
    }
    long counted = EncryptionLimits.counted(key.getVersions(primary - 1));
    if (counted == 0) {
      windows.remove(key.getName()); // nothing used yet: the rate is 0, and nothing is kept
      return 0;
    }
    Sample sample = new Sample(primary, now, counted);
    Window window = windows.get(key.getName());
    if (window == null
        || window.newer().version() != primary
        || now < window.newer().timeMillis()) {
      windows.put(key.getName(), new Window(sample, sample));
      if (windows.size() > MAX_KEYS) {
        Iterator<String> eldest = windows.keySet().iterator();
        eldest.next();
        eldest.remove();
      }
      return 0;
    }
    if (now - window.newer().timeMillis() >= windowMillis) {
      window = new Window(window.newer(), sample);
      windows.put(key.getName(), window);
    }
    long span = now - window.older().timeMillis();
    if (span < windowMillis / 4) {
      return 0; // too short: one block reserved ahead would look like a burst
    }
    return Math.max(0, counted - window.older().counted()) * 1000.0 / span;
  }

  /** How many keys are being measured. */
  int size() {
    return windows.size();
  }
}
