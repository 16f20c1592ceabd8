package io.keyrotor.chaos.history;

/**
 * Who issued an event: a client process (a non-negative integer, never reused after an {@code
 * info}) or the nemesis.
 */
public record ProcessId(int value) implements Comparable<ProcessId> {
  /** The fault injector; its events are a journal, not client operations. */
  public static final ProcessId NEMESIS = new ProcessId(-1);

  public ProcessId {
    if (value < -1) {
      throw new IllegalArgumentException("process ids are non-negative: " + value);
    }
  }

  /** A client process. */
  public static ProcessId of(int value) {
    if (value < 0) {
      throw new IllegalArgumentException("client process ids are non-negative: " + value);
    }
    return new ProcessId(value);
  }

  public boolean isNemesis() {
    return value == -1;
  }

  @Override
  public int compareTo(ProcessId other) {
    return Integer.compare(value, other.value);
  }

  @Override
  public String toString() {
    return isNemesis() ? "nemesis" : Integer.toString(value);
  }
}
