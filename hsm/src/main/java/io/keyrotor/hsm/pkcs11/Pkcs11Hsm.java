package io.keyrotor.hsm.pkcs11;

import io.keyrotor.hsm.AuditSigningKeys;
import io.keyrotor.hsm.Hsm;
import io.keyrotor.hsm.HsmConfig;
import io.keyrotor.hsm.HsmDescription;
import io.keyrotor.hsm.HsmException;
import io.keyrotor.hsm.HsmException.Reason;
import io.keyrotor.hsm.SecretKeyBytes;
import io.keyrotor.hsm.WrapMechanism;
import io.keyrotor.hsm.WrappedKey;
import io.keyrotor.hsm.ZoneMasterKeyId;
import io.keyrotor.hsm.ZoneMasterKeys;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xipki.pkcs11.wrapper.Session;

/**
 * The {@link Hsm} over a PKCS#11 token (SoftHSM2 in tests, any PKCS#11 v2.40 module in production)
 * through {@code org.xipki:ipkcs11wrapper}.
 *
 * <p><b>Zone master keys</b> are AES-256 token objects labelled {@code
 * keyrotor-zmk/<zone>/<version>} (see {@link Pkcs11Ceremonies}); their handles are found by label
 * at open and found again whenever one is missing or a login was lost.
 *
 * <p><b>Mechanisms</b> are discovered at open: for each {@link WrapMechanism} in the configured
 * order of preference, whether the module offers it ({@code CKM_AES_KEY_WRAP_KWP} 0x210B or {@code
 * CKM_AES_KEY_WRAP_PAD} 0x210A for RFC 5649, {@code CKM_AES_KEY_WRAP} 0x2109, {@code CKM_AES_GCM}
 * through {@code C_Encrypt}/{@code C_Decrypt}). The first supported one wraps; every supported one
 * unwraps, whatever the preference.
 *
 * <p><b>Wrapping</b> a KEK with a key-wrap mechanism imports its bytes as a session object
 * (non-token, extractable, destroyed straight after) and calls {@code C_WrapKey} under the ZMK;
 * with AES-GCM it is {@code C_Encrypt} of the bytes with a nonce from the token's generator and the
 * ZMK label as associated data.
 *
 * <p><b>Unwrapping</b> must hand the data plane the KEK's bytes (it caches unwrapped KEKs in
 * memory). If the module allows {@code C_Decrypt} with the key-wrap mechanism ({@code CKF_DECRYPT}
 * in its mechanism info) that is used, and no object is created. Otherwise (SoftHSM2 offers key
 * wrap only for {@code C_WrapKey}/{@code C_UnwrapKey}) the KEK is unwrapped with {@code
 * C_UnwrapKey} into a session object that is extractable and not sensitive, its {@code CKA_VALUE}
 * is read, and the object is destroyed at once. Either way the ZMK never leaves the token; only a
 * KEK that was already destined for this process's memory does.
 *
 * <p><b>Sessions</b>: one per concurrent operation from a bounded {@link SessionPool}, plus one
 * login session held for the HSM's lifetime, because closing the last session of a token logs out
 * every session. If a login is lost anyway (another component logged out, the token was reset), the
 * next operation logs in again, finds the handles again and retries once. {@link #close()} closes
 * this instance's sessions and never logs out or finalises the module (other users in the process
 * share both).
 *
 * <p><b>Failures</b>: module, token, session or login problems are {@code HSM_UNAVAILABLE} and make
 * {@link #describe()} report unhealthy until an operation succeeds again; wrapped bytes that fail
 * to unwrap are {@code UNWRAP_FAILED}. No exception or log line carries key bytes. The user PIN is
 * kept (as a copy) to log in again, and zeroed by {@link #close()}.
 *
 * <p>The parts: {@link MechanismCapability} (discovery and self-test), {@link TokenSessions}
 * (sessions, login and key handles), {@link KekWrapping} (the wrap and unwrap calls).
 */
public final class Pkcs11Hsm implements Hsm {
  private static final Logger LOG = LoggerFactory.getLogger(Pkcs11Hsm.class);

  private final TokenLocator locator;
  private final Map<WrapMechanism, MechanismCapability> capabilities;
  private final List<WrapMechanism> wrapOrder;
  private final TokenSessions sessions;
  private final KekWrapping wrapping;

  private Pkcs11Hsm(
      TokenLocator locator,
      Map<WrapMechanism, MechanismCapability> capabilities,
      List<WrapMechanism> wrapOrder,
      TokenSessions sessions) {
    this.locator = locator;
    this.capabilities = capabilities;
    this.wrapOrder = wrapOrder;
    this.sessions = sessions;
    this.wrapping = new KekWrapping(locator);
  }

  /**
   * Finds the token by label, discovers its mechanisms, logs the user in and finds the zone master
   * keys. Copies the PIN.
   *
   * @throws HsmException {@code HSM_UNAVAILABLE} with a message a person can act on (module
   *     missing, no token with that label, wrong PIN); {@code UNSUPPORTED_MECHANISM} if the module
   *     offers none of the preferred mechanisms
   */
  public static Pkcs11Hsm open(HsmConfig.Pkcs11 config) throws HsmException {
    Objects.requireNonNull(config, "config");
    String label = config.tokenLabel();
    if (label.isBlank() || label.length() > 32) {
      throw new HsmException(
          Reason.INVALID_REQUEST, "a token label is 1 to 32 characters, not '" + label + "'");
    }
    TokenLocator locator = new TokenLocator(config.modulePath(), label);
    Pkcs11Token token = Pkcs11Token.find(locator);
    char[] userPin = config.userPin().clone();
    Session loginSession = token.openSession();
    Map<WrapMechanism, MechanismCapability> capabilities;
    List<WrapMechanism> wrapOrder = new ArrayList<>();
    try {
      token.loginUser(loginSession, userPin);
      // After login: some modules create no session keys (the self-test's) for a public session.
      capabilities = MechanismCapability.supportedBy(token);
      for (WrapMechanism preferred : config.mechanismPreference()) {
        if (capabilities.containsKey(preferred)) {
          wrapOrder.add(preferred);
        }
      }
      if (wrapOrder.isEmpty()) {
        throw new HsmException(
            Reason.UNSUPPORTED_MECHANISM,
            locator
                + " supports none of the configured wrap mechanisms "
                + config.mechanismPreference()
                + " (it supports "
                + capabilities.keySet()
                + ")");
      }
    } catch (HsmException | RuntimeException e) {
      Pkcs11Token.closeQuietly(loginSession);
      Arrays.fill(userPin, '\0');
      throw e;
    }
    TokenSessions sessions =
        new TokenSessions(
            token,
            userPin,
            new SessionPool(token, config.maxSessions(), config.sessionWait()),
            loginSession);
    Pkcs11Hsm hsm = new Pkcs11Hsm(locator, capabilities, List.copyOf(wrapOrder), sessions);
    try {
      sessions.withSession("finding zone master keys", sessions::rescan);
    } catch (HsmException e) {
      hsm.close();
      throw e;
    }
    LOG.info(
        "PKCS#11 HSM opened: {}, {} zone master keys, wraps with {}, mechanisms {}",
        locator,
        sessions.lastScan().size(),
        wrapOrder.get(0),
        hsm.mechanismDetails());
    return hsm;
  }

  /** How each supported mechanism is carried out on this module, for status pages and logs. */
  public Map<WrapMechanism, String> mechanismDetails() {
    Map<WrapMechanism, String> details = new LinkedHashMap<>();
    capabilities.forEach((mechanism, capability) -> details.put(mechanism, capability.describe()));
    return Collections.unmodifiableMap(details);
  }

  @Override
  public HsmDescription describe() {
    return new HsmDescription(
        "pkcs11",
        locator.modulePath().toString(),
        locator.tokenLabel(),
        wrapOrder,
        sessions.healthy());
  }

  @Override
  public Set<String> zones() {
    Map<ZoneMasterKeyId, Long> known;
    try {
      known = sessions.withSession("listing zone master keys", sessions::rescan);
    } catch (HsmException e) {
      LOG.warn("listing zones from the last scan: {}", e.getMessage());
      known = sessions.lastScan();
    }
    return ZoneMasterKeys.versionsByZone(known.keySet()).keySet();
  }

  @Override
  public int currentZoneMasterKeyVersion(String zone) throws HsmException {
    ZoneMasterKeys.requireValidZone(zone);
    Map<ZoneMasterKeyId, Long> known =
        sessions.withSession("finding zone master keys", sessions::rescan);
    return ZoneMasterKeys.newestVersion(known.keySet(), zone)
        .orElseThrow(
            () ->
                new HsmException(
                    Reason.ZONE_NOT_HELD, locator + " holds no master key for zone " + zone));
  }

  @Override
  public WrappedKey wrap(String zone, SecretKeyBytes key) throws HsmException {
    return wrap(zone, currentZoneMasterKeyVersion(zone), key);
  }

  @Override
  public SortedMap<String, SortedSet<Integer>> zoneMasterKeyVersions() throws HsmException {
    Map<ZoneMasterKeyId, Long> known =
        sessions.withSession("listing zone master keys", sessions::rescan);
    return ZoneMasterKeys.versionsByZone(known.keySet());
  }

  /**
   * Checks that the user is still logged in (logging in again if the login was lost) and looks the
   * token's zone master keys up again. Any failure makes the HSM unhealthy until an operation
   * succeeds again. A lost login matters here: without it the token still answers, but shows no
   * private objects, so the zone master keys would silently seem gone.
   */
  @Override
  public boolean checkHealth() {
    try {
      sessions.recoverLogin();
      sessions.withSession("checking the token", sessions::rescan);
    } catch (HsmException e) {
      sessions.markUnhealthy();
      LOG.warn("HSM health check failed: {}", e.getMessage());
    }
    return describe().healthy();
  }

  @Override
  public WrappedKey wrap(String zone, int version, SecretKeyBytes key) throws HsmException {
    ZoneMasterKeyId id = ZoneMasterKeys.requireValidId(zone, version);
    WrapMechanism mechanism = wrapOrder.get(0);
    ZoneMasterKeys.requireWrappableLength(mechanism, key.length());
    MechanismCapability capability = capabilities.get(mechanism);
    if (!capability.anyLength() && key.length() % 8 != 0) {
      throw new HsmException(
          Reason.INVALID_REQUEST,
          locator
              + "'s "
              + capability.name()
              + " loses the length of keys that are not multiples of 8 bytes (found by its"
              + " self-test at open); wrap a key of 8-byte multiples, or prefer another mechanism");
    }
    byte[] plaintext = key.revealCopy();
    try {
      byte[] wrapped =
          sessions.withSession(
              "wrapping under " + id,
              session ->
                  wrapping.wrap(
                      session,
                      sessions.handleOf(session, id),
                      id,
                      mechanism,
                      capability,
                      plaintext));
      return new WrappedKey(zone, version, mechanism, wrapped);
    } finally {
      Arrays.fill(plaintext, (byte) 0);
    }
  }

  @Override
  public SecretKeyBytes unwrap(WrappedKey wrapped) throws HsmException {
    ZoneMasterKeys.requireValidZone(wrapped.zone());
    ZoneMasterKeyId id = new ZoneMasterKeyId(wrapped.zone(), wrapped.zoneMasterKeyVersion());
    WrapMechanism mechanism = wrapped.mechanism();
    MechanismCapability capability = capabilities.get(mechanism);
    if (capability == null) {
      throw new HsmException(
          Reason.UNSUPPORTED_MECHANISM,
          locator + " cannot unwrap " + mechanism + " (it supports " + capabilities.keySet() + ")");
    }
    byte[] ciphertext = wrapped.ciphertext();
    if (mechanism != WrapMechanism.AES_GCM
        && (ciphertext.length < 16 || ciphertext.length % 8 != 0)) {
      // not RFC 3394/5649 output: no need to ask the HSM
      throw wrapping.unwrapFailed(id, mechanism, null);
    }
    try {
      byte[] plaintext =
          sessions.withSession(
              "unwrapping under " + id,
              session ->
                  wrapping.unwrap(
                      session,
                      sessions.handleOf(session, id),
                      id,
                      mechanism,
                      capability,
                      ciphertext));
      return SecretKeyBytes.takeOwnership(plaintext);
    } finally {
      Arrays.fill(ciphertext, (byte) 0);
    }
  }

  @Override
  public String keyCheckValue(String zone, int version) throws HsmException {
    ZoneMasterKeyId id = ZoneMasterKeys.requireValidId(zone, version);
    return sessions.withSession(
        "computing the check value of " + id,
        session -> ZoneKeyObjects.checkValue(session, sessions.handleOf(session, id)));
  }

  @Override
  public byte[] randomBytes(int count) throws HsmException {
    if (count < 0 || count > 1 << 20) {
      throw new HsmException(Reason.INVALID_REQUEST, "count must be 0 to 1 MiB, not " + count);
    }
    if (count == 0) {
      return new byte[0];
    }
    return sessions.withSession(
        "generating random bytes", session -> session.generateRandom(count));
  }

  @Override
  public SortedSet<Integer> auditKeyVersions() throws HsmException {
    return Collections.unmodifiableSortedSet(
        new TreeSet<>(
            sessions
                .withSession("listing audit keys", session -> AuditKeyObjects.privateKeys(session))
                .keySet()));
  }

  @Override
  public synchronized int generateAuditKey() throws HsmException {
    return sessions.withSession(
        "generating an audit key",
        session -> {
          SortedMap<Integer, Long> held = AuditKeyObjects.privateKeys(session);
          int version = held.isEmpty() ? 1 : held.lastKey() + 1;
          AuditKeyObjects.generate(session, version);
          LOG.info("{} generated audit key version {}", locator, version);
          return version;
        });
  }

  @Override
  public byte[] auditPublicKey(int version) throws HsmException {
    return sessions.withSession(
        "reading audit public key " + version,
        session -> AuditKeyObjects.publicKey(session, locator, version));
  }

  @Override
  public byte[] signAudit(int version, byte[] message) throws HsmException {
    AuditSigningKeys.requireSignable(message);
    return sessions.withSession(
        "signing with audit key " + version,
        session -> AuditKeyObjects.sign(session, locator, version, message));
  }

  /** Closes this instance's sessions (never logs out, never finalises the module). */
  @Override
  public void close() {
    sessions.close();
  }

  @Override
  public String toString() {
    return "Pkcs11Hsm[" + locator + "]";
  }

  /** The session pool's accounting, for this package's tests. */
  SessionPool.Counts sessionCounts() {
    return sessions.counts();
  }
}
