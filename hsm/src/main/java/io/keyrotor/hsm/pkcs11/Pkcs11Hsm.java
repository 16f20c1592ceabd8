package io.keyrotor.hsm.pkcs11;

import static org.xipki.pkcs11.wrapper.PKCS11Constants.CKA_VALUE;
import static org.xipki.pkcs11.wrapper.PKCS11Constants.CKF_DECRYPT;
import static org.xipki.pkcs11.wrapper.PKCS11Constants.CKF_ENCRYPT;
import static org.xipki.pkcs11.wrapper.PKCS11Constants.CKF_UNWRAP;
import static org.xipki.pkcs11.wrapper.PKCS11Constants.CKF_WRAP;
import static org.xipki.pkcs11.wrapper.PKCS11Constants.CKK_GENERIC_SECRET;
import static org.xipki.pkcs11.wrapper.PKCS11Constants.CKM_AES_GCM;
import static org.xipki.pkcs11.wrapper.PKCS11Constants.CKM_AES_KEY_WRAP;
import static org.xipki.pkcs11.wrapper.PKCS11Constants.CKM_AES_KEY_WRAP_KWP;
import static org.xipki.pkcs11.wrapper.PKCS11Constants.CKM_AES_KEY_WRAP_PAD;
import static org.xipki.pkcs11.wrapper.PKCS11Constants.CKS_RO_USER_FUNCTIONS;
import static org.xipki.pkcs11.wrapper.PKCS11Constants.CKS_RW_USER_FUNCTIONS;

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
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xipki.pkcs11.wrapper.AttributeVector;
import org.xipki.pkcs11.wrapper.Mechanism;
import org.xipki.pkcs11.wrapper.MechanismInfo;
import org.xipki.pkcs11.wrapper.PKCS11Exception;
import org.xipki.pkcs11.wrapper.Session;
import org.xipki.pkcs11.wrapper.params.GCM_PARAMS;

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
 */
public final class Pkcs11Hsm implements Hsm {
  private static final Logger LOG = LoggerFactory.getLogger(Pkcs11Hsm.class);

  /** How one wrap mechanism is done on this module. */
  private record Capability(
      long code, String name, boolean wrapKey, boolean decryptToUnwrap, boolean anyLength) {
    String describe() {
      return name
          + " (0x"
          + Long.toHexString(code)
          + "): "
          + (wrapKey ? "C_WrapKey" : "C_Encrypt")
          + " / "
          + (decryptToUnwrap ? "C_Decrypt" : "C_UnwrapKey to a session key, read, destroy")
          + (anyLength ? "" : "; wraps keys of 8-byte multiples only");
    }

    Capability withAnyLength(boolean value) {
      return new Capability(code, name, wrapKey, decryptToUnwrap, value);
    }
  }

  /** A PKCS#11 call on a borrowed session. */
  private interface SessionCall<T> {
    T call(Session session) throws PKCS11Exception, HsmException;
  }

  private final TokenLocator locator;
  private final Pkcs11Token token;
  private final char[] userPin;
  private final Map<WrapMechanism, Capability> capabilities;
  private final List<WrapMechanism> wrapOrder;
  private final SessionPool pool;
  private final Object loginLock = new Object();
  private Session loginSession;
  private volatile Map<ZoneMasterKeyId, Long> handles = Map.of();
  private volatile boolean healthy = true;
  private volatile boolean closed;

  private Pkcs11Hsm(
      TokenLocator locator,
      Pkcs11Token token,
      char[] userPin,
      Map<WrapMechanism, Capability> capabilities,
      List<WrapMechanism> wrapOrder,
      SessionPool pool,
      Session loginSession) {
    this.loginSession = loginSession;
    this.locator = locator;
    this.token = token;
    this.userPin = userPin;
    this.capabilities = capabilities;
    this.wrapOrder = wrapOrder;
    this.pool = pool;
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
    Map<WrapMechanism, Capability> capabilities;
    List<WrapMechanism> wrapOrder = new ArrayList<>();
    try {
      token.loginUser(loginSession, userPin);
      // After login: some modules create no session keys (the self-test's) for a public session.
      capabilities = selfTest(token, discover(token));
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
    Pkcs11Hsm hsm =
        new Pkcs11Hsm(
            locator,
            token,
            userPin,
            capabilities,
            List.copyOf(wrapOrder),
            new SessionPool(token, config.maxSessions(), config.sessionWait()),
            loginSession);
    try {
      hsm.withSession("finding zone master keys", session -> hsm.rescan(session));
    } catch (HsmException e) {
      hsm.close();
      throw e;
    }
    LOG.info(
        "PKCS#11 HSM opened: {}, {} zone master keys, wraps with {}, mechanisms {}",
        locator,
        hsm.handles.size(),
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
        healthy && !closed);
  }

  @Override
  public Set<String> zones() {
    Map<ZoneMasterKeyId, Long> known;
    try {
      known = withSession("listing zone master keys", this::rescan);
    } catch (HsmException e) {
      LOG.warn("listing zones from the last scan: {}", e.getMessage());
      known = handles;
    }
    Set<String> zones = new TreeSet<>();
    known.keySet().forEach(id -> zones.add(id.zone()));
    return Collections.unmodifiableSet(zones);
  }

  @Override
  public int currentZoneMasterKeyVersion(String zone) throws HsmException {
    ZoneMasterKeys.requireValidZone(zone);
    Map<ZoneMasterKeyId, Long> known = withSession("finding zone master keys", this::rescan);
    return newestVersion(known, zone);
  }

  @Override
  public WrappedKey wrap(String zone, SecretKeyBytes key) throws HsmException {
    return wrap(zone, currentZoneMasterKeyVersion(zone), key);
  }

  @Override
  public SortedMap<String, SortedSet<Integer>> zoneMasterKeyVersions() throws HsmException {
    Map<ZoneMasterKeyId, Long> known = withSession("listing zone master keys", this::rescan);
    SortedMap<String, SortedSet<Integer>> out = new TreeMap<>();
    known
        .keySet()
        .forEach(id -> out.computeIfAbsent(id.zone(), z -> new TreeSet<>()).add(id.version()));
    out.replaceAll((zone, versions) -> Collections.unmodifiableSortedSet(versions));
    return Collections.unmodifiableSortedMap(out);
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
      recoverLogin();
      withSession("checking the token", this::rescan);
    } catch (HsmException e) {
      healthy = false;
      LOG.warn("HSM health check failed: {}", e.getMessage());
    }
    return describe().healthy();
  }

  @Override
  public WrappedKey wrap(String zone, int version, SecretKeyBytes key) throws HsmException {
    ZoneMasterKeys.requireValidZone(zone);
    if (version < 1) {
      throw new HsmException(Reason.INVALID_REQUEST, "zone master key versions start at 1");
    }
    WrapMechanism mechanism = wrapOrder.get(0);
    ZoneMasterKeys.requireWrappableLength(mechanism, key.length());
    Capability capability = capabilities.get(mechanism);
    if (!capability.anyLength() && key.length() % 8 != 0) {
      throw new HsmException(
          Reason.INVALID_REQUEST,
          locator
              + "'s "
              + capability.name()
              + " loses the length of keys that are not multiples of 8 bytes (found by its"
              + " self-test at open); wrap a key of 8-byte multiples, or prefer another mechanism");
    }
    ZoneMasterKeyId id = new ZoneMasterKeyId(zone, version);
    byte[] plaintext = key.revealCopy();
    try {
      byte[] wrapped =
          withSession(
              "wrapping under " + id,
              session -> {
                long zoneMasterKey = handleOf(session, id);
                if (mechanism == WrapMechanism.AES_GCM) {
                  return encryptGcm(session, zoneMasterKey, id, plaintext);
                }
                if (!capability.wrapKey()) {
                  return session.encryptSingle(
                      new Mechanism(capability.code()), zoneMasterKey, plaintext);
                }
                long sessionKey = session.createObject(sessionKeyTemplate().value(plaintext));
                try {
                  return session.wrapKey(
                      new Mechanism(capability.code()), zoneMasterKey, sessionKey);
                } finally {
                  destroyQuietly(session, sessionKey);
                }
              });
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
    Capability capability = capabilities.get(mechanism);
    if (capability == null) {
      throw new HsmException(
          Reason.UNSUPPORTED_MECHANISM,
          locator + " cannot unwrap " + mechanism + " (it supports " + capabilities.keySet() + ")");
    }
    byte[] ciphertext = wrapped.ciphertext();
    if (mechanism != WrapMechanism.AES_GCM
        && (ciphertext.length < 16 || ciphertext.length % 8 != 0)) {
      throw unwrapFailed(id, mechanism, null); // not RFC 3394/5649 output: no need to ask the HSM
    }
    try {
      byte[] plaintext =
          withSession(
              "unwrapping under " + id,
              session -> {
                long zoneMasterKey = handleOf(session, id);
                try {
                  if (mechanism == WrapMechanism.AES_GCM) {
                    return decryptGcm(session, zoneMasterKey, id, ciphertext);
                  }
                  if (capability.decryptToUnwrap()) {
                    return session.decryptSingle(
                        new Mechanism(capability.code()), zoneMasterKey, ciphertext);
                  }
                  long sessionKey =
                      session.unwrapKey(
                          new Mechanism(capability.code()),
                          zoneMasterKey,
                          ciphertext,
                          sessionKeyTemplate());
                  try {
                    byte[] value = session.getAttrValues(sessionKey, CKA_VALUE).value();
                    if (value == null) {
                      throw new HsmException(
                          Reason.HSM_UNAVAILABLE,
                          locator + " did not return the value of an unwrapped session key");
                    }
                    return value;
                  } finally {
                    destroyQuietly(session, sessionKey);
                  }
                } catch (PKCS11Exception e) {
                  if (Pkcs11Errors.isUnavailable(e)) {
                    throw e;
                  }
                  throw unwrapFailed(id, mechanism, e);
                }
              });
      return SecretKeyBytes.takeOwnership(plaintext);
    } finally {
      Arrays.fill(ciphertext, (byte) 0);
    }
  }

  @Override
  public String keyCheckValue(String zone, int version) throws HsmException {
    ZoneMasterKeys.requireValidZone(zone);
    if (version < 1) {
      throw new HsmException(Reason.INVALID_REQUEST, "zone master key versions start at 1");
    }
    ZoneMasterKeyId id = new ZoneMasterKeyId(zone, version);
    return withSession(
        "computing the check value of " + id,
        session -> ZoneKeyObjects.checkValue(session, handleOf(session, id)));
  }

  @Override
  public byte[] randomBytes(int count) throws HsmException {
    if (count < 0 || count > 1 << 20) {
      throw new HsmException(Reason.INVALID_REQUEST, "count must be 0 to 1 MiB, not " + count);
    }
    if (count == 0) {
      return new byte[0];
    }
    return withSession("generating random bytes", session -> session.generateRandom(count));
  }

  /** Closes this instance's sessions (never logs out, never finalises the module). */
  @Override
  public void close() {
    synchronized (loginLock) {
      if (closed) {
        return;
      }
      closed = true;
      pool.close();
      Pkcs11Token.closeQuietly(loginSession);
      loginSession = null;
      Arrays.fill(userPin, '\0');
    }
  }

  @Override
  public String toString() {
    return "Pkcs11Hsm[" + locator + "]";
  }

  /** The session pool's accounting, for this package's tests. */
  SessionPool.Counts sessionCounts() {
    return pool.counts();
  }

  /**
   * Runs {@code call} on a pooled session. A lost login, session or handle is recovered once (log
   * in again, find the handles again); what still fails is {@code HSM_UNAVAILABLE}.
   */
  private <T> T withSession(String what, SessionCall<T> call) throws HsmException {
    for (int attempt = 0; ; attempt++) {
      if (closed) {
        throw new HsmException(Reason.HSM_UNAVAILABLE, "the HSM " + locator + " is closed");
      }
      Session session = pool.borrow();
      boolean discard = false;
      try {
        T result = call.call(session);
        healthy = true;
        return result;
      } catch (PKCS11Exception e) {
        discard = Pkcs11Errors.isSessionGone(e);
        if (attempt == 0 && Pkcs11Errors.isRecoverable(e)) {
          LOG.info("{} failed with {}; logging in again", what, Pkcs11Errors.name(e));
          recoverLogin();
          handles = Map.of();
          continue;
        }
        healthy = false;
        throw Pkcs11Errors.unavailable(what + " on " + locator, e);
      } catch (HsmException e) {
        if (e.reason() == Reason.HSM_UNAVAILABLE) {
          healthy = false;
        }
        throw e;
      } catch (RuntimeException e) {
        // The wrapper reports some native failures as runtime exceptions.
        discard = true;
        healthy = false;
        throw new HsmException(
            Reason.HSM_UNAVAILABLE, what + " on " + locator + " failed: " + e.getClass(), e);
      } finally {
        pool.giveBack(session, discard);
      }
    }
  }

  /** Makes sure the user is logged in, reopening the login session if it is gone. */
  private void recoverLogin() throws HsmException {
    synchronized (loginLock) {
      if (closed) {
        throw new HsmException(Reason.HSM_UNAVAILABLE, "the HSM " + locator + " is closed");
      }
      try {
        long state = loginSession.getSessionInfo().getState();
        if (state == CKS_RW_USER_FUNCTIONS || state == CKS_RO_USER_FUNCTIONS) {
          return;
        }
      } catch (PKCS11Exception e) {
        Pkcs11Token.closeQuietly(loginSession);
        loginSession = token.openSession();
      }
      try {
        token.loginUser(loginSession, userPin);
      } catch (HsmException e) {
        healthy = false;
        throw e;
      }
    }
  }

  private Map<ZoneMasterKeyId, Long> rescan(Session session) throws PKCS11Exception {
    Map<ZoneMasterKeyId, Long> found = ZoneKeyObjects.scan(session);
    handles = found;
    return found;
  }

  private long handleOf(Session session, ZoneMasterKeyId id) throws PKCS11Exception, HsmException {
    Long handle = handles.get(id);
    if (handle == null) {
      handle = rescan(session).get(id);
    }
    if (handle == null) {
      throw ZoneKeyObjects.notHeld(locator, id);
    }
    return handle;
  }

  private int newestVersion(Map<ZoneMasterKeyId, Long> known, String zone) throws HsmException {
    return known.keySet().stream()
        .filter(id -> id.zone().equals(zone))
        .mapToInt(ZoneMasterKeyId::version)
        .max()
        .orElseThrow(
            () ->
                new HsmException(
                    Reason.ZONE_NOT_HELD, locator + " holds no master key for zone " + zone));
  }

  private static byte[] encryptGcm(
      Session session, long zoneMasterKey, ZoneMasterKeyId id, byte[] plaintext)
      throws PKCS11Exception {
    byte[] nonce = session.generateRandom(ZoneMasterKeys.GCM_NONCE_BYTES);
    byte[] sealed = session.encryptSingle(gcm(nonce, id), zoneMasterKey, plaintext);
    byte[] out = new byte[nonce.length + sealed.length];
    System.arraycopy(nonce, 0, out, 0, nonce.length);
    System.arraycopy(sealed, 0, out, nonce.length, sealed.length);
    return out;
  }

  private byte[] decryptGcm(Session session, long zoneMasterKey, ZoneMasterKeyId id, byte[] wrapped)
      throws PKCS11Exception, HsmException {
    int minimum = ZoneMasterKeys.GCM_NONCE_BYTES + ZoneMasterKeys.GCM_TAG_BITS / 8 + 1;
    if (wrapped.length < minimum) {
      throw unwrapFailed(id, WrapMechanism.AES_GCM, null);
    }
    byte[] nonce = Arrays.copyOf(wrapped, ZoneMasterKeys.GCM_NONCE_BYTES);
    byte[] sealed = Arrays.copyOfRange(wrapped, ZoneMasterKeys.GCM_NONCE_BYTES, wrapped.length);
    return session.decryptSingle(gcm(nonce, id), zoneMasterKey, sealed);
  }

  private static Mechanism gcm(byte[] nonce, ZoneMasterKeyId id) {
    return new Mechanism(
        CKM_AES_GCM,
        new GCM_PARAMS(
            nonce,
            ZoneMasterKeys.gcmAssociatedData(id.zone(), id.version()),
            ZoneMasterKeys.GCM_TAG_BITS));
  }

  /** A short-lived session key holding a KEK: extractable so it can be wrapped or read. */
  private static AttributeVector sessionKeyTemplate() {
    return AttributeVector.newSecretKey(CKK_GENERIC_SECRET)
        .token(false)
        .private_(true)
        .sensitive(false)
        .extractable(true);
  }

  private static void destroyQuietly(Session session, long handle) {
    try {
      session.destroyObject(handle);
    } catch (PKCS11Exception e) {
      // A session object also dies with its session; log the code only.
      LOG.warn("could not destroy a temporary session key: {}", Pkcs11Errors.name(e));
    }
  }

  private HsmException unwrapFailed(
      ZoneMasterKeyId id, WrapMechanism mechanism, PKCS11Exception e) {
    return new HsmException(
        Reason.UNWRAP_FAILED,
        "wrapped key failed to unwrap under zone master key "
            + id
            + " with "
            + mechanism
            + " on "
            + locator
            + (e == null ? "" : " [" + Pkcs11Errors.name(e) + "]")
            + " (tampered, truncated, or wrapped under another zone or version)",
        e);
  }

  private static Map<WrapMechanism, Capability> discover(Pkcs11Token token) {
    Map<Long, MechanismInfo> offered = new LinkedHashMap<>();
    for (long code : token.token().getMechanismList()) {
      MechanismInfo info = token.token().getMechanismInfo(code);
      if (info != null) {
        offered.put(code, info);
      }
    }
    Map<WrapMechanism, Capability> found = new EnumMap<>(WrapMechanism.class);
    keyWrap(offered, CKM_AES_KEY_WRAP_KWP, "CKM_AES_KEY_WRAP_KWP")
        .or(() -> keyWrap(offered, CKM_AES_KEY_WRAP_PAD, "CKM_AES_KEY_WRAP_PAD"))
        .ifPresent(capability -> found.put(WrapMechanism.AES_KEY_WRAP_PAD, capability));
    keyWrap(offered, CKM_AES_KEY_WRAP, "CKM_AES_KEY_WRAP")
        .ifPresent(capability -> found.put(WrapMechanism.AES_KEY_WRAP, capability));
    MechanismInfo gcm = offered.get(CKM_AES_GCM);
    if (gcm != null && gcm.hasFlagBit(CKF_ENCRYPT) && gcm.hasFlagBit(CKF_DECRYPT)) {
      found.put(
          WrapMechanism.AES_GCM, new Capability(CKM_AES_GCM, "CKM_AES_GCM", false, true, true));
    }
    return found;
  }

  private static Optional<Capability> keyWrap(
      Map<Long, MechanismInfo> offered, long code, String name) {
    MechanismInfo info = offered.get(code);
    if (info == null) {
      return Optional.empty();
    }
    boolean wrapKey = info.hasFlagBit(CKF_WRAP);
    boolean encrypt = info.hasFlagBit(CKF_ENCRYPT);
    boolean unwrapKey = info.hasFlagBit(CKF_UNWRAP);
    boolean decrypt = info.hasFlagBit(CKF_DECRYPT);
    if (!(wrapKey || encrypt) || !(unwrapKey || decrypt)) {
      return Optional.empty();
    }
    return Optional.of(new Capability(code, name, wrapKey, decrypt, true));
  }

  /**
   * Keeps the mechanisms whose output the JDK reads back (see {@link MechanismSelfTest}). If the
   * module will not run the test (some refuse to import a known-value key), the mechanism is kept
   * for keys of 8-byte multiples.
   */
  private static Map<WrapMechanism, Capability> selfTest(
      Pkcs11Token token, Map<WrapMechanism, Capability> offered) throws HsmException {
    Map<WrapMechanism, Capability> kept = new EnumMap<>(WrapMechanism.class);
    Session session = token.openSession();
    try {
      for (Map.Entry<WrapMechanism, Capability> entry : offered.entrySet()) {
        WrapMechanism mechanism = entry.getKey();
        Capability capability = entry.getValue();
        MechanismSelfTest.Outcome outcome;
        try {
          outcome =
              MechanismSelfTest.run(session, mechanism, capability.code(), capability.wrapKey());
        } catch (PKCS11Exception e) {
          LOG.warn(
              "{}: could not self-test {} ({}); using it for keys of 8-byte multiples only",
              token.locator(),
              capability.name(),
              Pkcs11Errors.name(e));
          outcome = MechanismSelfTest.Outcome.MULTIPLES_OF_8_ONLY;
        }
        switch (outcome) {
          case EXACT -> kept.put(mechanism, capability);
          case MULTIPLES_OF_8_ONLY -> kept.put(mechanism, capability.withAnyLength(false));
          default ->
              LOG.warn(
                  "{}: {} does not produce the standard format for {}; not using it",
                  token.locator(),
                  capability.name(),
                  mechanism);
        }
      }
    } finally {
      Pkcs11Token.closeQuietly(session);
    }
    return kept;
  }
}
