package io.keyrotor.hsm;

/**
 * The guard on importing a zone master key of known value, which exists for tests only (it lets a
 * test give a software HSM and a PKCS#11 token the same key). Production key material is generated
 * inside an HSM and moved only by the share ceremony.
 */
public final class KnownValueImport {
  /** The system property that must be {@code true} for a known-value import to run. */
  public static final String ALLOW_PROPERTY = "keyrotor.hsm.allowKnownValueImport";

  private KnownValueImport() {}

  /**
   * Refuses a known-value import unless tests have allowed it.
   *
   * @throws HsmException with {@code REFUSED} unless the system property {@value #ALLOW_PROPERTY}
   *     is {@code true}
   */
  public static void requireAllowed() throws HsmException {
    if (!Boolean.getBoolean(ALLOW_PROPERTY)) {
      throw new HsmException(
          HsmException.Reason.REFUSED,
          "importing a zone master key of known value is for tests only; it is refused unless the"
              + " system property "
              + ALLOW_PROPERTY
              + "=true is set");
    }
  }
}
