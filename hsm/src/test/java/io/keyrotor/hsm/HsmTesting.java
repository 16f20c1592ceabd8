package io.keyrotor.hsm;

import static org.junit.jupiter.api.Assertions.assertThrows;

import io.keyrotor.hsm.HsmException.Reason;
import java.security.SecureRandom;

/** What the HSM tests share: random keys, and the reason a call fails with. */
public final class HsmTesting {
  private static final SecureRandom RANDOM = new SecureRandom();

  private HsmTesting() {}

  /** A random key of {@code length} bytes. */
  public static SecretKeyBytes randomKey(int length) {
    byte[] bytes = new byte[length];
    RANDOM.nextBytes(bytes);
    return SecretKeyBytes.takeOwnership(bytes);
  }

  /** A call to an HSM that may fail. */
  public interface HsmCall {
    void call() throws HsmException;
  }

  /** Asserts that {@code call} fails with an {@link HsmException}; returns its reason. */
  public static Reason reasonOf(HsmCall call) {
    return assertThrows(HsmException.class, call::call).reason();
  }

  /**
   * The reason {@code hsm} gives for unwrapping {@code wrapped}'s bytes as if they were wrapped
   * under {@code zone}'s master key {@code version}.
   */
  public static Reason unwrapReasonAs(Hsm hsm, WrappedKey wrapped, String zone, int version) {
    return reasonOf(
        () -> hsm.unwrap(new WrappedKey(zone, version, wrapped.mechanism(), wrapped.ciphertext())));
  }
}
