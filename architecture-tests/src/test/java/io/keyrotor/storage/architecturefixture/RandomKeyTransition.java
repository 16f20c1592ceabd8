package io.keyrotor.storage.architecturefixture;

import java.security.SecureRandom;

/** Deliberately bad: a transition that makes key material while applying. */
public final class RandomKeyTransition {
  private RandomKeyTransition() {}

  public static byte[] newKey() {
    byte[] key = new byte[32];
    new SecureRandom().nextBytes(key);
    return key;
  }
}
