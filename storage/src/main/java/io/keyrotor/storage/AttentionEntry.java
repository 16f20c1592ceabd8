package io.keyrotor.storage;

/**
 * One entry of the index of when keys may next need the rotation scheduler ({@link
 * StateView#keysNeedingAttention}): at {@code timeMillis}, key {@code name}.
 */
public record AttentionEntry(long timeMillis, String name) {
  /** Before every entry: where a reading of the whole index starts. */
  public static final AttentionEntry START = new AttentionEntry(Long.MIN_VALUE, "");
}
