package io.keyrotor.hsm.pkcs11;

import static org.xipki.pkcs11.wrapper.PKCS11Constants.CKA_MODULUS;
import static org.xipki.pkcs11.wrapper.PKCS11Constants.CKA_PUBLIC_EXPONENT;
import static org.xipki.pkcs11.wrapper.PKCS11Constants.CKG_MGF1_SHA1;
import static org.xipki.pkcs11.wrapper.PKCS11Constants.CKG_MGF1_SHA256;
import static org.xipki.pkcs11.wrapper.PKCS11Constants.CKK_RSA;
import static org.xipki.pkcs11.wrapper.PKCS11Constants.CKM_AES_KEY_GEN;
import static org.xipki.pkcs11.wrapper.PKCS11Constants.CKM_RSA_PKCS_KEY_PAIR_GEN;
import static org.xipki.pkcs11.wrapper.PKCS11Constants.CKM_RSA_PKCS_OAEP;
import static org.xipki.pkcs11.wrapper.PKCS11Constants.CKM_SHA256;
import static org.xipki.pkcs11.wrapper.PKCS11Constants.CKM_SHA_1;
import static org.xipki.pkcs11.wrapper.PKCS11Constants.CKR_ARGUMENTS_BAD;
import static org.xipki.pkcs11.wrapper.PKCS11Constants.CKR_KEY_NOT_WRAPPABLE;
import static org.xipki.pkcs11.wrapper.PKCS11Constants.CKR_KEY_UNEXTRACTABLE;
import static org.xipki.pkcs11.wrapper.PKCS11Constants.CKR_MECHANISM_PARAM_INVALID;

import io.keyrotor.hsm.HsmException;
import io.keyrotor.hsm.HsmException.Reason;
import io.keyrotor.hsm.KnownValueImport;
import io.keyrotor.hsm.SecretKeyBytes;
import io.keyrotor.hsm.ZoneMasterKeyId;
import io.keyrotor.hsm.ZoneMasterKeys;
import java.io.IOException;
import java.io.InputStream;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xipki.pkcs11.wrapper.AttributeVector;
import org.xipki.pkcs11.wrapper.KeyPairTemplate;
import org.xipki.pkcs11.wrapper.Mechanism;
import org.xipki.pkcs11.wrapper.PKCS11Exception;
import org.xipki.pkcs11.wrapper.PKCS11KeyPair;
import org.xipki.pkcs11.wrapper.Session;
import org.xipki.pkcs11.wrapper.params.RSA_PKCS_OAEP_PARAMS;

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
 */
public final class Pkcs11Ceremonies {
  private static final Logger LOG = LoggerFactory.getLogger(Pkcs11Ceremonies.class);

  /** Size of the receiver's transfer key pair. */
  public static final int SHARE_RSA_BITS = 3072;

  /** Label prefix of the receiver's transfer private key: {@code keyrotor-share/<zone>/<v>}. */
  public static final String SHARE_KEY_LABEL_PREFIX = "keyrotor-share/";

  /** System property naming the softhsm2-util executable (default: found on the PATH). */
  public static final String SOFTHSM2_UTIL_PROPERTY = "keyrotor.hsm.softhsm2Util";

  private static final BigInteger RSA_PUBLIC_EXPONENT = BigInteger.valueOf(65537);

  private Pkcs11Ceremonies() {}

  /** A PKCS#11 call in a session where the user is logged in. */
  private interface UserCall<T> {
    T call(Session session) throws PKCS11Exception, HsmException;
  }

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
    String util = System.getProperty(SOFTHSM2_UTIL_PROPERTY, "softhsm2-util");
    String slots = run(List.of(util, "--show-slots"), "listing SoftHSM2 slots");
    for (String line : slots.split("\n", -1)) {
      String trimmed = line.strip();
      if (trimmed.startsWith("Label:")
          && trimmed.substring("Label:".length()).strip().equals(token.tokenLabel())) {
        throw new HsmException(
            Reason.REFUSED,
            "a SoftHSM2 token labelled '" + token.tokenLabel() + "' already exists; unchanged");
      }
    }
    run(
        List.of(
            util,
            "--init-token",
            "--free",
            "--label",
            token.tokenLabel(),
            "--so-pin",
            new String(soPin),
            "--pin",
            new String(userPin)),
        "initialising SoftHSM2 token '" + token.tokenLabel() + "'");
    LOG.info("initialised SoftHSM2 token '{}'", token.tokenLabel());
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
        asUser(
            token,
            userPin,
            "creating a master key for zone " + zone,
            session -> {
              int next = newestVersion(ZoneKeyObjects.scan(session), zone) + 1;
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
        asUser(token, userPin, "listing zone master keys", ZoneKeyObjects::scan);
    SortedMap<String, SortedSet<Integer>> zones = new TreeMap<>();
    keys.keySet()
        .forEach(id -> zones.computeIfAbsent(id.zone(), z -> new TreeSet<>()).add(id.version()));
    zones.replaceAll((zone, versions) -> Collections.unmodifiableSortedSet(versions));
    return Collections.unmodifiableSortedMap(zones);
  }

  /** The key check value of one master key version, computed inside the token. */
  public static String keyCheckValue(TokenLocator token, char[] userPin, String zone, int version)
      throws HsmException {
    ZoneMasterKeyId id = idOf(zone, version);
    return asUser(
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
    ZoneMasterKeyId id = idOf(zone, version);
    return asUser(
        receiver,
        receiverUserPin,
        "preparing to receive " + id,
        session -> {
          if (ZoneKeyObjects.scan(session).containsKey(id)) {
            throw new HsmException(
                Reason.REFUSED, receiver + " already holds zone master key " + id);
          }
          for (long stale : findTransferKeys(session, id, null)) {
            session.destroyObject(stale);
          }
          byte[] keyId = session.generateRandom(16);
          KeyPairTemplate template = new KeyPairTemplate(CKK_RSA);
          template
              .publicKey()
              .token(false)
              .modulusBits(SHARE_RSA_BITS)
              .publicExponent(RSA_PUBLIC_EXPONENT)
              .wrap(true)
              .encrypt(false)
              .verify(false);
          template
              .privateKey()
              .token(true)
              .private_(true)
              .sensitive(true)
              .extractable(false)
              .unwrap(true)
              .decrypt(false)
              .sign(false)
              .label(shareKeyLabel(id))
              .id(keyId);
          PKCS11KeyPair pair =
              session.generateKeyPair(new Mechanism(CKM_RSA_PKCS_KEY_PAIR_GEN), template);
          AttributeVector publicKey =
              session.getAttrValues(pair.getPublicKey(), CKA_MODULUS, CKA_PUBLIC_EXPONENT);
          session.destroyObject(pair.getPublicKey());
          LOG.info("{} is ready to receive zone master key {}", receiver, id);
          return new ShareRequest(
              id, receiver.tokenLabel(), keyId, publicKey.modulus(), publicKey.publicExponent());
        });
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
    ZoneMasterKeyId id = request.zoneMasterKey();
    Pkcs11Token token = Pkcs11Token.find(sender);
    Session session = token.openSession();
    Long trusted = null;
    try {
      token.loginSecurityOfficer(session, senderSoPin);
      trusted =
          session.createObject(
              AttributeVector.newPublicKey(CKK_RSA)
                  .token(false)
                  .private_(false)
                  .modulus(request.modulus())
                  .publicExponent(request.publicExponent())
                  .wrap(true)
                  .encrypt(false)
                  .verify(false)
                  .trusted(true)
                  .label("keyrotor-share-to/" + request.receiverTokenLabel()));
      session.logout();
      token.loginUser(session, senderUserPin);
      long zoneMasterKey = ZoneKeyObjects.find(session, sender, id);
      String checkValue = ZoneKeyObjects.checkValue(session, zoneMasterKey);
      String hash = "SHA-256";
      byte[] wrapped;
      try {
        wrapped = session.wrapKey(oaep(hash), trusted, zoneMasterKey);
      } catch (PKCS11Exception e) {
        if (!Pkcs11Errors.is(e, CKR_MECHANISM_PARAM_INVALID)
            && !Pkcs11Errors.is(e, CKR_ARGUMENTS_BAD)) {
          throw e;
        }
        LOG.info(
            "{} refuses RSA-OAEP with SHA-256 ({}); using SHA-1", sender, Pkcs11Errors.name(e));
        hash = "SHA-1";
        wrapped = session.wrapKey(oaep(hash), trusted, zoneMasterKey);
      }
      LOG.info(
          "wrapped zone master key {} (check value {}) for token '{}' with RSA-OAEP {}",
          id,
          checkValue,
          request.receiverTokenLabel(),
          hash);
      return new ShareBundle(id, request.keyId(), hash, wrapped, checkValue);
    } catch (PKCS11Exception e) {
      if (Pkcs11Errors.is(e, CKR_KEY_UNEXTRACTABLE) || Pkcs11Errors.is(e, CKR_KEY_NOT_WRAPPABLE)) {
        throw new HsmException(
            Reason.REFUSED,
            "zone master key "
                + id
                + " in "
                + sender
                + " may not leave its token ["
                + Pkcs11Errors.name(e)
                + "]; it was created with ZoneMasterKeyExport.NEVER",
            e);
      }
      throw Pkcs11Errors.unavailable("exporting " + id + " from " + sender, e);
    } finally {
      if (trusted != null) {
        try {
          session.destroyObject(trusted);
        } catch (PKCS11Exception e) {
          LOG.debug("the trusted transfer key goes with its session: {}", Pkcs11Errors.name(e));
        }
      }
      Pkcs11Token.closeQuietly(session);
    }
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
    ZoneMasterKeyId id = bundle.zoneMasterKey();
    return asUser(
        receiver,
        receiverUserPin,
        "importing " + id,
        session -> {
          Long existing = ZoneKeyObjects.scan(session).get(id);
          if (existing != null) {
            String held = ZoneKeyObjects.checkValue(session, existing);
            if (held.equals(bundle.senderCheckValue())) {
              return held;
            }
            throw new HsmException(
                Reason.REFUSED,
                receiver
                    + " already holds a different zone master key "
                    + id
                    + " (check value "
                    + held
                    + ", sender's "
                    + bundle.senderCheckValue()
                    + ")");
          }
          List<Long> transferKeys = findTransferKeys(session, id, bundle.keyId());
          if (transferKeys.isEmpty()) {
            throw new HsmException(
                Reason.REFUSED,
                receiver
                    + " has no transfer key waiting for "
                    + id
                    + " (run prepareShare on it first, and use that request's bundle)");
          }
          long privateKey = transferKeys.get(0);
          long imported;
          try {
            imported =
                session.unwrapKey(
                    oaep(bundle.oaepHash()),
                    privateKey,
                    bundle.wrappedKey(),
                    ZoneKeyObjects.template(id, export));
          } catch (PKCS11Exception e) {
            if (Pkcs11Errors.isUnavailable(e)) {
              throw e;
            }
            throw new HsmException(
                Reason.UNWRAP_FAILED,
                "the share bundle for " + id + " did not unwrap [" + Pkcs11Errors.name(e) + "]",
                e);
          }
          String checkValue = ZoneKeyObjects.checkValue(session, imported);
          if (!checkValue.equals(bundle.senderCheckValue())) {
            session.destroyObject(imported);
            throw new HsmException(
                Reason.UNWRAP_FAILED,
                "received zone master key "
                    + id
                    + " has check value "
                    + checkValue
                    + " but the sender's is "
                    + bundle.senderCheckValue()
                    + "; it was not kept");
          }
          session.destroyObject(privateKey);
          LOG.info("{} now holds zone master key {} (check value {})", receiver, id, checkValue);
          return checkValue;
        });
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
    ZoneMasterKeyId id = idOf(zone, version);
    if (key.length() != ZoneMasterKeys.KEY_LENGTH_BYTES) {
      throw new HsmException(Reason.INVALID_REQUEST, "zone master keys are AES-256 (32 bytes)");
    }
    asUser(
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

  private static <T> T asUser(TokenLocator locator, char[] pin, String what, UserCall<T> call)
      throws HsmException {
    Pkcs11Token token = Pkcs11Token.find(locator);
    Session session = token.openSession();
    try {
      token.loginUser(session, pin);
      return call.call(session);
    } catch (PKCS11Exception e) {
      throw Pkcs11Errors.unavailable(what + " in " + locator, e);
    } finally {
      Pkcs11Token.closeQuietly(session);
    }
  }

  private static List<Long> findTransferKeys(Session session, ZoneMasterKeyId id, byte[] keyId)
      throws PKCS11Exception {
    AttributeVector template =
        AttributeVector.newPrivateKey(CKK_RSA).token(true).label(shareKeyLabel(id));
    if (keyId != null) {
      template.id(keyId);
    }
    List<Long> found = new ArrayList<>();
    for (long handle : session.findAllObjectsSingle(template)) {
      found.add(handle);
    }
    return found;
  }

  private static String shareKeyLabel(ZoneMasterKeyId id) {
    return SHARE_KEY_LABEL_PREFIX + id.zone() + "/" + id.version();
  }

  private static Mechanism oaep(String hash) throws HsmException {
    return switch (hash) {
      case "SHA-256" ->
          new Mechanism(CKM_RSA_PKCS_OAEP, new RSA_PKCS_OAEP_PARAMS(CKM_SHA256, CKG_MGF1_SHA256));
      case "SHA-1" ->
          new Mechanism(CKM_RSA_PKCS_OAEP, new RSA_PKCS_OAEP_PARAMS(CKM_SHA_1, CKG_MGF1_SHA1));
      default ->
          throw new HsmException(
              Reason.UNSUPPORTED_MECHANISM, "unknown RSA-OAEP hash '" + hash + "' in share bundle");
    };
  }

  private static ZoneMasterKeyId idOf(String zone, int version) throws HsmException {
    ZoneMasterKeys.requireValidZone(zone);
    if (version < 1) {
      throw new HsmException(Reason.INVALID_REQUEST, "zone master key versions start at 1");
    }
    return new ZoneMasterKeyId(zone, version);
  }

  private static int newestVersion(Map<ZoneMasterKeyId, Long> keys, String zone) {
    return keys.keySet().stream()
        .filter(id -> id.zone().equals(zone))
        .mapToInt(ZoneMasterKeyId::version)
        .max()
        .orElse(0);
  }

  /** Runs a tool with its output captured through a pipe (never inherited); returns stdout. */
  private static String run(List<String> command, String what) throws HsmException {
    Process process;
    try {
      process =
          new ProcessBuilder(command)
              .redirectInput(ProcessBuilder.Redirect.PIPE)
              .redirectErrorStream(true)
              .start();
    } catch (IOException e) {
      throw new HsmException(
          Reason.HSM_UNAVAILABLE,
          what
              + ": cannot run "
              + command.get(0)
              + " ("
              + e.getMessage()
              + "); install the Debian package softhsm2 (scripts/test installs it)",
          e);
    }
    try (InputStream out = process.getInputStream()) {
      process.getOutputStream().close();
      byte[] output = out.readNBytes(1 << 20);
      if (!process.waitFor(60, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        throw new HsmException(Reason.HSM_UNAVAILABLE, what + ": " + command.get(0) + " hung");
      }
      String text = new String(output, StandardCharsets.UTF_8);
      if (process.exitValue() != 0) {
        // softhsm2-util's messages name slots and labels, never PINs.
        throw new HsmException(
            Reason.HSM_UNAVAILABLE,
            what + " failed (exit " + process.exitValue() + "): " + text.strip());
      }
      return text;
    } catch (IOException e) {
      throw new HsmException(Reason.HSM_UNAVAILABLE, what + ": " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      process.destroyForcibly();
      throw new HsmException(Reason.HSM_UNAVAILABLE, what + ": interrupted");
    }
  }
}
