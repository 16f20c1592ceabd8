package io.keyrotor.chaos.checker.linearizability;

/** The state of a register nothing was written to; a read that returned nothing outputs it. */
public enum Unset {
  UNSET;

  @Override
  public String toString() {
    return "unset";
  }

  /** The value itself, or {@link #UNSET} for null: models never hold null (null means illegal). */
  public static Object orUnset(Object valueOrNull) {
    return valueOrNull == null ? UNSET : valueOrNull;
  }
}
