package io.keyrotor.hsm.pkcs11;

import static org.xipki.pkcs11.wrapper.PKCS11Constants.CKM_AES_KEY_GEN;

import io.keyrotor.hsm.HsmException;
import io.keyrotor.hsm.HsmException.Reason;
import io.keyrotor.hsm.KnownValueImport;
import io.keyrotor.hsm.SecretKeyBytes;
import io.keyrotor.hsm.ZoneMasterKeyId;
import io.keyrotor.hsm.ZoneMasterKeys;
import java.util.Arrays;
import java.util.Map;
import java.util.SortedMap;
import java.util.SortedSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xipki.pkcs11.wrapper.Mechanism;

/**
 * Key ceremonies on PKCS#11 tokens, as a Java API for the {@code scripts/hsm} commands an SRE runs:
 * initialise a token, create a zone (a new zone master key version inside one token), and share a
 * zone master key with another node's token without its value ever existing outside an HSM.
 *
 * <p><b>Share-zone</b> runs in three steps, each possibly in its own process (each node's SoftHSM2
 * has its own {@code SOFTHSM2_CONF}); the messages between them are public and have a text form:
 *
 * <ol>
 *   <li>{@link #prepareShare} on the receiving token: generates an RSA-3072 key pair for this one
 *       transfer (private half: a token object with {@code CKA_UNWRAP} only, sensitive,
 *       non-extractable) and returns the public half as a {@link ShareRequest}.
 *   <li>{@link #exportShare} on the sending token: its security officer imports the receiver's
 *       public key as a session object marked {@code CKA_TRUSTED} (only the SO may), then the user
 *       wraps the zone master key under it with RSA-OAEP (allowed because the key has {@code
 *       CKA_WRAP_WITH_TRUSTED}); the trusted key dies with the session. Returns a {@link
 *       ShareBundle} with the sender's key check value.
 *   <li>{@link #importShare} on the receiving token: unwraps the key as a sensitive token key with
 *       the same label, checks that its check value equals the sender's (else removes it), and
 *       destroys the transfer key pair. Returns the receiver's check value.
 * </ol>
 *
 * {@link #shareZone} runs all three in one process when both tokens are reachable from it.
 *
 * <p>Logging in the security officer logs out the user for every session of this process on that
 * token (PKCS#11 has one login state per token and application); a {@link Pkcs11Hsm} open on the
 * same token logs in again on its next call.
 *
 * <p>The share steps are carried out by {@link ZoneShare}, token initialisation by {@link
 * SoftHsm2Util}.
 */
public final class Pkcs11Ceremonies {
  private static final Logger LOG = LoggerFactory.getLogger(Pkcs11Ceremonies.class);

  /** Size of the receiver's transfer key pair. */
  public static final int SHARE_RSA_BITS = 3072;

  /** Label prefix of the receiver's transfer private key: {@code keyrotor-share/<zone>/<v>}. */
  public static final String SHARE_KEY_LABEL_PREFIX = "keyrotor-share/";

  /** System property naming the softhsm2-util executable (default: found on the PATH). */
  public static final String SOFTHSM2_UTIL_PROPERTY = "keyrotor.hsm.softhsm2Util";

  private Pkcs11Ceremonies() {}

  /**
   * Initialises a new SoftHSM2 token in the first free slot with {@code softhsm2-util --init-token
   * --free}, its output not inherited (it would corrupt a test runner's channel). SoftHSM2 only:
   * other HSMs are initialised with their vendor's tools.
   *
   * <p>softhsm2-util takes the PINs only as arguments, so they are visible to other local users in
   * the process list for the moment the tool runs: run this on the node itself, before it serves.
   * SoftHSM2 discovers tokens when a process initialises the module: a process that already uses
   * SoftHSM2 does not see a token created after that (run this in the ceremony's own process).
   *
   * @throws HsmException {@code REFUSED} if a token with that label exists; {@code HSM_UNAVAILABLE}
   *     if softhsm2-util is missing or fails
   */
  public static void initToken(TokenLocator token, char[] soPin, char[] userPin)
      throws HsmException {
    SoftHsm2Util.initToken(token, soPin, userPin);
  }

  /**
   * Creates the next master key version of {@code zone} inside the token (version 1 for a new
   * zone), shareable with other tokens only by the share ceremony ({@link
   * ZoneMasterKeyExport#TRUSTED_WRAP_ONLY}).
   *
   * @return the new version
   */
  public static int createZone(TokenLocator token, char[] userPin, String zone)
      throws HsmException {
    return createZone(token, userPin, zone, ZoneMasterKeyExport.TRUSTED_WRAP_ONLY);
  }

  /**
   * Creates the next master key version of {@code zone} inside the token with the given export
   * policy.
   *
   * @return the new version
   */
  public static int createZone(
      TokenLocator token, char[] userPin, String zone, ZoneMasterKeyExport export)
      throws HsmException {
    ZoneMasterKeys.requireValidZone(zone);
    int version =
        Pkcs11Token.asUser(
            token,
            userPin,
            "creating a master key for zone " + zone,
            session -> {
              int next =
                  ZoneMasterKeys.newestVersion(ZoneKeyObjects.scan(session).keySet(), zone)
                          .orElse(0)
                      + 1;
              ZoneMasterKeyId id = new ZoneMasterKeyId(zone, next);
              session.generateKey(
                  new Mechanism(CKM_AES_KEY_GEN),
                  ZoneKeyObjects.template(id, export).valueLen(ZoneMasterKeys.KEY_LENGTH_BYTES));
              return next;
            });
    LOG.info("created zone master key {}/{} in {} ({})", zone, version, token, export);
    return version;
  }

  /** The zones and master key versions a token holds. */
  public static SortedMap<String, SortedSet<Integer>> listZones(TokenLocator token, char[] userPin)
      throws HsmException {
    Map<ZoneMasterKeyId, Long> keys =
        Pkcs11Token.asUser(token, userPin, "listing zone master keys", ZoneKeyObjects::scan);
    return ZoneMasterKeys.versionsByZone(keys.keySet());
  }

  /** The key check value of one master key version, computed inside the token. */
  public static String keyCheckValue(TokenLocator token, char[] userPin, String zone, int version)
      throws HsmException {
    ZoneMasterKeyId id = ZoneMasterKeys.requireValidId(zone, version);
    return Pkcs11Token.asUser(
        token,
        userPin,
        "computing the check value of " + id,
        session -> ZoneKeyObjects.checkValue(session, ZoneKeyObjects.find(session, token, id)));
  }

  /**
   * Share step 1, on the receiving token: makes the transfer key pair and returns its public half.
   * A transfer key left by an abandoned ceremony for the same version is replaced.
   *
   * @throws HsmException {@code REFUSED} if the token already holds that version
   */
  public static ShareRequest prepareShare(
      TokenLocator receiver, char[] receiverUserPin, String zone, int version) throws HsmException {
    return ZoneShare.prepareShare(receiver, receiverUserPin, zone, version);
  }

  /**
   * Share step 2, on the sending token: the security officer trusts the receiver's public key for
   * this session only, and the user wraps the zone master key under it with RSA-OAEP (SHA-256, or
   * SHA-1 where the module supports no other; recorded in the bundle).
   *
   * @throws HsmException {@code ZONE_NOT_HELD} if the sender lacks the version; {@code REFUSED} if
   *     the key may never leave the token ({@link ZoneMasterKeyExport#NEVER})
   */
  public static ShareBundle exportShare(
      TokenLocator sender, char[] senderSoPin, char[] senderUserPin, ShareRequest request)
      throws HsmException {
    return ZoneShare.exportShare(sender, senderSoPin, senderUserPin, request);
  }

  /**
   * Share step 3, on the receiving token, keeping the received key inside this token for good
   * ({@link ZoneMasterKeyExport#NEVER}).
   *
   * @return the receiver's key check value (equal to the sender's)
   */
  public static String importShare(
      TokenLocator receiver, char[] receiverUserPin, ShareBundle bundle) throws HsmException {
    return importShare(receiver, receiverUserPin, bundle, ZoneMasterKeyExport.NEVER);
  }

  /**
   * Share step 3, on the receiving token: unwraps the key as a sensitive token key labelled like
   * the sender's, and checks the check values match. Importing a version the token already holds
   * with the same check value changes nothing.
   *
   * @return the receiver's key check value (equal to the sender's)
   * @throws HsmException {@code UNWRAP_FAILED} if the bundle does not unwrap or the check values
   *     differ (nothing is kept); {@code REFUSED} if no transfer key is waiting, or the token holds
   *     a different key under that version
   */
  public static String importShare(
      TokenLocator receiver, char[] receiverUserPin, ShareBundle bundle, ZoneMasterKeyExport export)
      throws HsmException {
    return ZoneShare.importShare(receiver, receiverUserPin, bundle, export);
  }

  /** The whole share ceremony in one process; returns the check value both tokens now show. */
  public static String shareZone(
      TokenLocator sender,
      char[] senderSoPin,
      char[] senderUserPin,
      TokenLocator receiver,
      char[] receiverUserPin,
      String zone,
      int version)
      throws HsmException {
    ShareRequest request = prepareShare(receiver, receiverUserPin, zone, version);
    ShareBundle bundle = exportShare(sender, senderSoPin, senderUserPin, request);
    return importShare(receiver, receiverUserPin, bundle);
  }

  /**
   * Stores a zone master key of known value in the token. For tests only (it lets a test give a
   * software HSM and a token the same key): refused unless {@link KnownValueImport#ALLOW_PROPERTY}
   * is set.
   *
   * @throws HsmException {@code REFUSED} outside tests, or if the token holds that version
   */
  public static void importKnownValue(
      TokenLocator token, char[] userPin, String zone, int version, SecretKeyBytes key)
      throws HsmException {
    KnownValueImport.requireAllowed();
    ZoneMasterKeyId id = ZoneMasterKeys.requireValidId(zone, version);
    if (key.length() != ZoneMasterKeys.KEY_LENGTH_BYTES) {
      throw new HsmException(Reason.INVALID_REQUEST, "zone master keys are AES-256 (32 bytes)");
    }
    Pkcs11Token.asUser(
        token,
        userPin,
        "importing a known-value key",
        session -> {
          if (ZoneKeyObjects.scan(session).containsKey(id)) {
            throw new HsmException(Reason.REFUSED, token + " already holds zone master key " + id);
          }
          byte[] bytes = key.revealCopy();
          try {
            return session.createObject(
                ZoneKeyObjects.template(id, ZoneMasterKeyExport.TRUSTED_WRAP_ONLY).value(bytes));
          } finally {
            Arrays.fill(bytes, (byte) 0);
          }
        });
    LOG.warn("imported a zone master key of known value as {} into {} (tests only)", id, token);
  }
}
