package io.keyrotor.storage.architecturefixture;

import java.util.UUID;

/** Deliberately bad: a transition that names a job with a random id while applying. */
public final class UuidRequestTransition {
  private UuidRequestTransition() {}

  public static String jobId() {
    return UUID.randomUUID().toString();
  }
}
