package io.keyrotor.hsm;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * Which HSM a node uses, for {@link Hsms#open(HsmConfig)}.
 *
 * <p>Secrets (passphrase, PIN) are {@code char[]} that the server reads from a file or an
 * environment variable named in the node configuration, never from the command line or the
 * configuration file itself. {@link Hsms#open} copies them: the caller may zero its arrays as soon
 * as it returns. {@code toString} never shows them.
 */
public sealed interface HsmConfig permits HsmConfig.Software, HsmConfig.Pkcs11 {

  /** The strongest first: RFC 5649, then RFC 3394, then AES-GCM of the key bytes. */
  List<WrapMechanism> DEFAULT_MECHANISM_PREFERENCE =
      List.of(WrapMechanism.AES_KEY_WRAP_PAD, WrapMechanism.AES_KEY_WRAP, WrapMechanism.AES_GCM);

  /** Mechanisms to wrap with, in order of preference; unwrapping accepts every supported one. */
  List<WrapMechanism> mechanismPreference();

  /** The software HSM with default mechanisms. */
  static Software software(Path keyFile, char[] passphrase) {
    return new Software(keyFile, passphrase, DEFAULT_MECHANISM_PREFERENCE);
  }

  /** A PKCS#11 token with default mechanisms and session pool. */
  static Pkcs11 pkcs11(Path modulePath, String tokenLabel, char[] userPin) {
    return new Pkcs11(
        modulePath,
        tokenLabel,
        userPin,
        DEFAULT_MECHANISM_PREFERENCE,
        Pkcs11.DEFAULT_MAX_SESSIONS,
        Pkcs11.DEFAULT_SESSION_WAIT);
  }

  /**
   * The embedded software HSM: zone master keys in a PKCS12 key file protected by a passphrase. For
   * development; production uses {@link Pkcs11}.
   *
   * @param keyFile the key file (see {@code SoftwareKeyStoreFile})
   * @param passphrase the key file's passphrase
   * @param mechanismPreference wrapping mechanisms in order of preference
   */
  record Software(
      Path keyFile,
      // The caller's array, deliberately not copied, so that whoever zeroes it after Hsms.open
      // zeroes the only copy; toString hides it and configurations are never compared.
      @SuppressWarnings("ArrayRecordComponent") char[] passphrase,
      List<WrapMechanism> mechanismPreference)
      implements HsmConfig {
    public Software {
      Objects.requireNonNull(keyFile, "keyFile");
      Objects.requireNonNull(passphrase, "passphrase");
      mechanismPreference = checkPreference(mechanismPreference);
    }

    @Override
    public String toString() {
      return "HsmConfig.Software[keyFile="
          + keyFile
          + ", mechanismPreference="
          + mechanismPreference
          + "]";
    }
  }

  /**
   * A PKCS#11 token (SoftHSM2 in tests, any PKCS#11 v2.40 module in production), found by its
   * label, never by slot id.
   *
   * @param modulePath the PKCS#11 module, e.g. {@code /usr/lib/softhsm/libsofthsm2.so}
   * @param tokenLabel the token label
   * @param userPin the user PIN
   * @param mechanismPreference wrapping mechanisms in order of preference; the first one the module
   *     supports is used to wrap
   * @param maxSessions the most PKCS#11 sessions used at once (one per concurrent operation)
   * @param sessionWait how long an operation waits for a free session before failing with {@code
   *     HSM_UNAVAILABLE}
   */
  record Pkcs11(
      Path modulePath,
      String tokenLabel,
      // The caller's array, deliberately not copied, as Software's passphrase.
      @SuppressWarnings("ArrayRecordComponent") char[] userPin,
      List<WrapMechanism> mechanismPreference,
      int maxSessions,
      Duration sessionWait)
      implements HsmConfig {
    public static final int DEFAULT_MAX_SESSIONS = 8;
    public static final Duration DEFAULT_SESSION_WAIT = Duration.ofSeconds(10);

    public Pkcs11 {
      Objects.requireNonNull(modulePath, "modulePath");
      Objects.requireNonNull(tokenLabel, "tokenLabel");
      Objects.requireNonNull(userPin, "userPin");
      Objects.requireNonNull(sessionWait, "sessionWait");
      mechanismPreference = checkPreference(mechanismPreference);
      if (maxSessions < 1) {
        throw new IllegalArgumentException("maxSessions must be at least 1");
      }
    }

    /** The same configuration with another mechanism preference. */
    public Pkcs11 withMechanismPreference(List<WrapMechanism> preference) {
      return new Pkcs11(modulePath, tokenLabel, userPin, preference, maxSessions, sessionWait);
    }

    @Override
    public String toString() {
      return "HsmConfig.Pkcs11[modulePath="
          + modulePath
          + ", tokenLabel="
          + tokenLabel
          + ", mechanismPreference="
          + mechanismPreference
          + ", maxSessions="
          + maxSessions
          + ", sessionWait="
          + sessionWait
          + "]";
    }
  }

  private static List<WrapMechanism> checkPreference(List<WrapMechanism> preference) {
    List<WrapMechanism> copy = List.copyOf(preference);
    if (copy.isEmpty() || copy.stream().distinct().count() != copy.size()) {
      throw new IllegalArgumentException(
          "mechanismPreference must list at least one mechanism, each once");
    }
    return copy;
  }
}
