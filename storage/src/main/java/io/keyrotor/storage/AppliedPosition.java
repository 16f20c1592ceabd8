package io.keyrotor.storage;

/**
 * The position in the replicated log up to which the state has been applied.
 *
 * @param term the term of the last applied entry
 * @param index the index of the last applied entry; -1 before anything was applied
 */
public record AppliedPosition(long term, long index) {
  /** Nothing applied yet. */
  public static final AppliedPosition INITIAL = new AppliedPosition(0, -1);

  public boolean isAfter(AppliedPosition other) {
    return index > other.index;
  }
}
