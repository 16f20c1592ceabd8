package io.keyrotor.chaos.history;

import java.util.Locale;

/** The four kinds of history event, as in Jepsen. */
public enum EventType {
  /** A client is about to send a request; recorded before sending. */
  INVOKE,
  /** The request took effect (or, for a read, returned this value). */
  OK,
  /** The server guarantees the request was not applied (validation, not-leader before append). */
  FAIL,
  /**
   * The outcome is unknown (timeout, connection reset, unclassified error): the request may take
   * effect at any point after its invocation, or never. The process that recorded it is retired.
   */
  INFO;

  /** The lower-case name used in the JSON format. */
  public String jsonName() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** Parses the lower-case JSON name. */
  public static EventType fromJsonName(String name) {
    for (EventType type : values()) {
      if (type.jsonName().equals(name)) {
        return type;
      }
    }
    throw new IllegalArgumentException("unknown event type: " + name);
  }

  /** Whether this type completes an invocation. */
  public boolean isCompletion() {
    return this != INVOKE;
  }
}
