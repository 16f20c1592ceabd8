package io.keyrotor.hsm;

import java.nio.charset.StandardCharsets;
import java.util.Collection;
import java.util.Collections;
import java.util.HexFormat;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * Names and encodings of zone master keys (ZMKs) that every implementation must agree on, so that a
 * key wrapped by one HSM unwraps on any other that holds the same ZMK version.
 *
 * <ul>
 *   <li>Zone names: 1 to 63 characters of {@code a-z 0-9 - _ .}, starting with a letter or digit
 *       (lower case only: the JDK's PKCS12 key store folds aliases to lower case).
 *   <li>PKCS#11 label of a ZMK: {@code keyrotor-zmk/<zone>/<version>}; software key store alias:
 *       {@code zmk/<zone>/<version>}.
 *   <li>AES-GCM associated data: the UTF-8 bytes of the PKCS#11 label, so a ciphertext moved to
 *       another zone or version fails its integrity check.
 *   <li>Key check value: AES-ECB encryption of a 16-byte zero block, first 3 bytes as upper-case
 *       hex, as in the payment industry.
 * </ul>
 */
public final class ZoneMasterKeys {
  /** Prefix of every ZMK's PKCS#11 label. */
  public static final String LABEL_PREFIX = "keyrotor-zmk/";

  /** Prefix of every ZMK alias in a software key file. */
  public static final String ALIAS_PREFIX = "zmk/";

  /** ZMKs are AES-256. */
  public static final int KEY_LENGTH_BYTES = 32;

  /** The longest key this boundary wraps. */
  public static final int MAX_WRAPPED_KEY_BYTES = 1024;

  /** AES-GCM wrapping: 96-bit nonce first, then ciphertext and a 128-bit tag. */
  public static final int GCM_NONCE_BYTES = 12;

  /** AES-GCM tag length in bits. */
  public static final int GCM_TAG_BITS = 128;

  private static final Pattern ZONE = Pattern.compile("[a-z0-9][a-z0-9._-]{0,62}");

  private ZoneMasterKeys() {}

  /** Whether {@code zone} is a valid zone name. */
  public static boolean isValidZone(String zone) {
    return zone != null && ZONE.matcher(zone).matches();
  }

  /**
   * Checks a zone name.
   *
   * @throws HsmException with {@code INVALID_REQUEST} if it is not valid
   */
  public static String requireValidZone(String zone) throws HsmException {
    if (!isValidZone(zone)) {
      throw new HsmException(
          HsmException.Reason.INVALID_REQUEST,
          "invalid zone name '"
              + zone
              + "': use 1 to 63 characters of a-z, 0-9, '-', '_' and '.', starting with a letter"
              + " or digit");
    }
    return zone;
  }

  /**
   * Checks a zone name and a master key version.
   *
   * @throws HsmException with {@code INVALID_REQUEST} if the zone is not valid or the version is
   *     below 1
   */
  public static ZoneMasterKeyId requireValidId(String zone, int version) throws HsmException {
    requireValidZone(zone);
    if (version < 1) {
      throw new HsmException(
          HsmException.Reason.INVALID_REQUEST, "zone master key versions start at 1");
    }
    return new ZoneMasterKeyId(zone, version);
  }

  /** The newest version of {@code zone} among {@code ids}; empty if there is none. */
  public static OptionalInt newestVersion(Collection<ZoneMasterKeyId> ids, String zone) {
    return ids.stream()
        .filter(id -> id.zone().equals(zone))
        .mapToInt(ZoneMasterKeyId::version)
        .max();
  }

  /** The versions among {@code ids}, by zone: unmodifiable and sorted. */
  public static SortedMap<String, SortedSet<Integer>> versionsByZone(
      Collection<ZoneMasterKeyId> ids) {
    SortedMap<String, SortedSet<Integer>> out = new TreeMap<>();
    ids.forEach(id -> out.computeIfAbsent(id.zone(), z -> new TreeSet<>()).add(id.version()));
    out.replaceAll((zone, versions) -> Collections.unmodifiableSortedSet(versions));
    return Collections.unmodifiableSortedMap(out);
  }

  /** The PKCS#11 label of a ZMK version. */
  public static String label(String zone, int version) {
    return LABEL_PREFIX + zone + "/" + version;
  }

  /** The software key store alias of a ZMK version. */
  public static String alias(String zone, int version) {
    return ALIAS_PREFIX + zone + "/" + version;
  }

  /** The associated data bound into an AES-GCM wrapping under a ZMK version. */
  public static byte[] gcmAssociatedData(String zone, int version) {
    return label(zone, version).getBytes(StandardCharsets.UTF_8);
  }

  /** Parses a PKCS#11 label; empty if it is not a ZMK label. */
  public static Optional<ZoneMasterKeyId> parseLabel(String label) {
    return parse(label, LABEL_PREFIX);
  }

  /** Parses a software key store alias; empty if it is not a ZMK alias. */
  public static Optional<ZoneMasterKeyId> parseAlias(String alias) {
    return parse(alias, ALIAS_PREFIX);
  }

  /**
   * Checks that {@code mechanism} can wrap a key of {@code length} bytes: 1 to {@value
   * #MAX_WRAPPED_KEY_BYTES} bytes, and for RFC 3394 at least 16 in multiples of 8.
   *
   * @throws HsmException with {@code INVALID_REQUEST} if not
   */
  public static void requireWrappableLength(WrapMechanism mechanism, int length)
      throws HsmException {
    if (length < 1 || length > MAX_WRAPPED_KEY_BYTES) {
      throw new HsmException(
          HsmException.Reason.INVALID_REQUEST,
          "keys to wrap must be 1 to " + MAX_WRAPPED_KEY_BYTES + " bytes long, not " + length);
    }
    if (mechanism == WrapMechanism.AES_KEY_WRAP && (length < 16 || length % 8 != 0)) {
      throw new HsmException(
          HsmException.Reason.INVALID_REQUEST,
          "AES_KEY_WRAP (RFC 3394) needs a key of at least 16 bytes in multiples of 8, not "
              + length);
    }
  }

  /**
   * Formats a key check value from the encryption of a zero block: the first 3 bytes, upper-case
   * hex.
   */
  public static String formatCheckValue(byte[] encryptedZeroBlock) {
    return HexFormat.of().withUpperCase().formatHex(encryptedZeroBlock, 0, 3);
  }

  private static Optional<ZoneMasterKeyId> parse(String name, String prefix) {
    if (name == null || !name.startsWith(prefix)) {
      return Optional.empty();
    }
    String rest = name.substring(prefix.length());
    int slash = rest.lastIndexOf('/');
    if (slash <= 0) {
      return Optional.empty();
    }
    String zone = rest.substring(0, slash);
    String version = rest.substring(slash + 1);
    if (!isValidZone(zone) || !version.matches("[1-9][0-9]{0,8}")) {
      return Optional.empty();
    }
    return Optional.of(new ZoneMasterKeyId(zone, Integer.parseInt(version)));
  }
}
